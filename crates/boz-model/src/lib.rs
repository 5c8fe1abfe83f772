//! `boz-model`: the MODEL module. From the forecasts of one city and climate day, a calibrated
//! predictive distribution of the day's high and the seed's `BracketPrediction` for the event's
//! brackets; and the scores that tell whether the model deserves money.
//!
//! Log tag: MODEL. May depend on: layer L0 (`boz-common`) and external crates (layer L1). It
//! does no I/O: callers hand it forecasts, settled highs and prices, and store what it returns.
//!
//! - [`config`]: every tuning constant, with the reason for its default;
//! - [`distribution`]: Gaussian or Student-t predictive distribution, truncation on the day;
//! - [`ladder`]: an event's brackets and their probabilities (whole-degree continuity correction);
//! - [`learning`]: per-source bias and error, σ per lead and season, the spread term (online);
//! - [`combine`]: which sources are used, their weights, the combined mean and spread;
//! - [`predictor`]: all of the above for one city-day, with the provenance of every input;
//! - [`confidence`]: HIGH / MEDIUM / LOW;
//! - [`scoring`], [`market`], [`climatology`], [`baseline`]: scores and what they are compared to;
//! - [`evaluation`]: a rolling, out-of-sample replay of stored history.

pub mod baseline;
pub mod climatology;
pub mod combine;
pub mod confidence;
pub mod config;
pub mod distribution;
pub mod error;
pub mod evaluation;
pub mod ladder;
pub mod learning;
pub mod market;
pub mod predictor;
pub mod scoring;

pub use config::ModelConfig;
pub use distribution::{Predictive, Shape};
pub use error::ModelError;
pub use ladder::BracketSpec;
pub use learning::{Lead, ModelState};
pub use predictor::{Candidate, Prediction, Predictor};
