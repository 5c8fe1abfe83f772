//! `boz-kalshi`: the MARKET module. So far: the weather-market model ([`market`]), which turns
//! a Kalshi daily-high event into one city's climate day and its brackets with exact whole-degree
//! semantics; order books ([`book`]); market history for backtests ([`history`]: candlesticks and
//! printed trades); the paper exchange ([`paper`]); and the core of the REST
//! client ([`rest`]).
//! The WebSocket feed is in [`ws`].
//!
//! Log tag: MARKET. May depend on: layer L0 (`boz-common`) and external crates (layer L1).

pub mod book;
pub mod history;
pub mod market;
pub mod market_data;
pub mod paper;
pub mod rest;
pub mod ws;

pub use market::{Bracket, MarketModelError, WeatherEvent};
