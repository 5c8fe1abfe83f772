//! `boz-engine`: the pipeline that makes the crates one trading system (layer L2).
//!
//! Log tag: SYSTEM (each job's own work logs under its crate's tag: WEATHER, MARKET, MODEL,
//! TRADING, SETTLE, ...). May depend on: layers L0 and L1, never `boz-store` or `boz-api`; the
//! binary hands it an `Arc<dyn Store>`.
//!
//! - [`services`]: the clients, the store, the clock and the settings every job uses;
//! - [`weather`], [`markets`], [`predict`], [`trading`], [`settle`]: the jobs' work, also used
//!   by the command line;
//! - [`jobs`]: the job kinds and how one run is executed and recorded in `job_runs`;
//! - [`schedule`]: which ticks are due; [`queue`]: the job queue (apalis on a SQLite file of its
//!   own, or in the `apalis` schema on PostgreSQL); [`runtime`]: scheduler and workers;
//! - [`watch`]: the WebSocket book watch that asks for a trading cycle when a book moves;
//! - [`health`]: what `/health` reports.

pub mod backtest;
pub mod health;
pub mod history;
pub mod jobs;
pub mod market_cache;
pub mod markets;
pub mod notify;
pub mod paper_venue;
pub mod predict;
pub mod queue;
pub mod runtime;
pub mod schedule;
pub mod services;
pub mod settle;
pub mod trading;
pub mod watch;
pub mod weather;

use std::fmt::Display;

use boz_common::BozError;

/// What can go wrong in the pipeline.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error(transparent)]
    Boz(#[from] BozError),
    /// Anything else, with what was being done.
    #[error("{0}")]
    Failed(String),
}

impl EngineError {
    pub fn failed(message: impl Into<String>) -> EngineError {
        EngineError::Failed(message.into())
    }
}

impl From<EngineError> for BozError {
    /// A typed error as it was; anything else as an internal error with its message.
    fn from(e: EngineError) -> BozError {
        match e {
            EngineError::Boz(b) => b,
            EngineError::Failed(m) => BozError::internal(m),
        }
    }
}

impl From<boz_common::ValidationError> for EngineError {
    fn from(e: boz_common::ValidationError) -> Self {
        EngineError::Boz(e.into())
    }
}

impl From<serde_json::Error> for EngineError {
    fn from(e: serde_json::Error) -> Self {
        EngineError::Failed(format!("JSON: {e}"))
    }
}

pub type Result<T, E = EngineError> = std::result::Result<T, E>;

/// Adds what was being done to any error.
pub trait Context<T> {
    fn context(self, what: impl Display) -> Result<T>;
    fn with_context<D: Display>(self, what: impl FnOnce() -> D) -> Result<T>;
}

impl<T, E: Display> Context<T> for std::result::Result<T, E> {
    fn context(self, what: impl Display) -> Result<T> {
        self.map_err(|e| EngineError::Failed(format!("{what}: {e}")))
    }
    fn with_context<D: Display>(self, what: impl FnOnce() -> D) -> Result<T> {
        self.map_err(|e| EngineError::Failed(format!("{}: {e}", what())))
    }
}
