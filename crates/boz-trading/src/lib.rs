//! `boz-trading`: the TRADING, RISK, COOLDOWN and ORDER modules: the gatekeeper that decides
//! which trades happen and enforces every limit, in auto and manual mode, against any exchange
//! behind the `Exchange` port (live, demo, paper).
//!
//! Log tags: TRADING (decisions), RISK (refusals, state changes), COOLDOWN, ORDER (orders and
//! reconciliation). May depend on: layer L0 (`boz-common`) and external crates (layer L1); the
//! store, market data, exchange and clock arrive as ports.
//!
//! - [`ev`]: executable prices of both sides of every bracket, EV per contract after the fee;
//! - [`kelly`]: the growth-optimal stakes of bets on one event's mutually exclusive outcomes;
//! - [`risk`]: the trading day, the trading state, cooldown, loss limits;
//! - [`orders`]: client order ids, storing before sending, timeouts, reconciliation;
//! - [`engine`]: signals, a full cycle, manual approval, the kill switch.

pub mod config;
pub mod engine;
pub mod ev;
pub mod kelly;
pub mod orders;
pub mod risk;

pub use config::TradingConfig;
pub use engine::TradingEngine;
