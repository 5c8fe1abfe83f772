//! `boz-common`: the contracts of Boz Weather Trader (the seed's `backend/common`).
//!
//! Log tag: SYSTEM (this crate logs nothing itself; it defines the tags, [`log_tag::LogTag`]).
//! May depend on: external crates only (layer L0). No network or database I/O happens here.
//!
//! - [`schemas`]: the seed's schemas, validated on construction and deserialisation;
//! - [`money`]: exact fixed-point dollars, prices and contract counts;
//! - [`city`]: cities as data and the climate day;
//! - [`status`]: the trade status state machine;
//! - [`error`]: the error family and its JSON body;
//! - [`config`]: settings from the environment and `.env`;
//! - [`ports`]: the traits the store, clients and exchanges implement.

pub mod city;
pub mod config;
pub mod error;
pub mod fees;
pub mod log_tag;
pub mod money;
pub mod ports;
pub mod schemas;
pub mod status;

pub use city::{City, CityCode, CityRegistry};
pub use error::{BozError, ErrorBody, ErrorKind, ValidationError, error_body};
pub use money::{Count, Dollars, Price};
pub use status::TradeStatus;
