//! `boz-weather`: the WEATHER module. NWS and Open-Meteo clients that bring in every forecast and
//! observation the model needs, normalised to the seed's `WeatherData` for each city's climate
//! day (midnight to midnight local standard time).
//!
//! Log tag: WEATHER. May depend on: layer L0 (`boz-common`) and external crates (layer L1).
//!
//! - [`nws`]: `/points` grid resolution (cached, re-resolved on 404), raw gridpoint data, the
//!   12-hour and hourly forecasts, station observations (running maximum), staleness;
//! - [`openmeteo`]: deterministic models, ensembles, Previous Runs (as-of forecasts);
//! - [`iem`]: the IEM archive of past climate reports (CLI), for backfill;
//! - [`http`]: timeouts, the shared NWS rate limiter, retries on transient failures only;
//! - [`service`]: all sources for all cities, concurrently with a bound, with per-source health.

pub mod error;
pub mod http;
pub mod iem;
pub mod nws;
pub mod openmeteo;
pub mod service;
pub mod units;

pub use error::WeatherError;
pub use nws::{LatestObservation, NwsClient, NwsConfig, ObservedMax};
pub use openmeteo::{OpenMeteoClient, OpenMeteoConfig};
pub use service::{FetchReport, SourceHealth, WeatherService};
