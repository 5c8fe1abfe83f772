//! `boz-settle`: the SETTLE and POSTMORTEM modules. What the high really was (the NWS Daily
//! Climate Report, parsed without guessing), settling trades on it and on Kalshi's result, and
//! explaining each win and loss.
//!
//! Log tags: SETTLE, POSTMORTEM. May depend on: layer L0 (`boz-common`) and external crates
//! (layer L1).
//!
//! - [`climate`]: the climate report parser (a pure function: text in, typed result or an error
//!   saying what could not be read; raw text kept);
//! - [`settlement`]: the final report of a day, corrections, trade outcomes and P&L from fills,
//!   the cross-check against Kalshi's result;
//! - [`postmortem`]: why a settled trade won or lost, structured and in words.

pub mod climate;
pub mod postmortem;
pub mod settlement;

pub use climate::{ClimateReport, Observation, ParseError, ReportKind, parse};
