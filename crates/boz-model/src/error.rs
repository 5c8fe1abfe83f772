//! What can go wrong when predicting or scoring.

use boz_common::error::ValidationError;
use boz_common::error::{BozError, ErrorKind};
use thiserror::Error;

#[derive(Debug, Error)]
pub enum ModelError {
    /// A forecast value that cannot be a daily high (NaN, infinite, or outside -80..140 °F).
    #[error("forecast from {source_name} is not a usable daily high: {value}")]
    BadForecast { source_name: String, value: f64 },
    /// Every source was missing, stale or invalid; `excluded` says why each one was left out.
    #[error("no usable forecast source for {city} {date}: {excluded}")]
    NoUsableSource {
        city: String,
        date: String,
        excluded: String,
    },
    /// The event's brackets do not form one contiguous ladder from a low tail to a high tail.
    #[error("brackets rejected: {0}")]
    Brackets(String),
    /// A distribution parameter out of range (σ not positive, degrees of freedom ≤ 2, ...).
    #[error("invalid distribution: {0}")]
    Distribution(String),
    /// Probabilities or prices that cannot be scored.
    #[error("cannot score: {0}")]
    Score(String),
    /// The assembled prediction failed the schema's own checks.
    #[error(transparent)]
    Schema(#[from] ValidationError),
}

impl From<ModelError> for BozError {
    fn from(e: ModelError) -> BozError {
        let kind = match &e {
            ModelError::NoUsableSource { .. } => ErrorKind::StaleDataError,
            _ => ErrorKind::ValidationError,
        };
        BozError::new(kind, e.to_string(), serde_json::Map::new())
    }
}
