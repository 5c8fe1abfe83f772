//! The weather service: every configured source for every city, fetched concurrently with a
//! bound; one failing source never blocks the others; each source's last success, last error and
//! data age are kept for health reporting.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use boz_common::city::City;
use boz_common::error::BozError;
use boz_common::ports::{Clock, ForecastSource};
use boz_common::schemas::WeatherData;
use chrono::{DateTime, NaiveDate, Utc};
use futures::StreamExt;
use serde::Serialize;

use crate::nws::NwsClient;
use crate::openmeteo::OpenMeteoClient;

/// `NWS` (raw gridpoint data).
pub struct NwsGridSource(pub Arc<NwsClient>);
/// `NWS:forecast` and `NWS:hourly`.
pub struct NwsPeriodSource(pub Arc<NwsClient>);
/// Every configured deterministic Open-Meteo model.
pub struct OpenMeteoModels(pub Arc<OpenMeteoClient>);
/// Every configured Open-Meteo ensemble.
pub struct OpenMeteoEnsembles(pub Arc<OpenMeteoClient>);

#[async_trait]
impl ForecastSource for NwsGridSource {
    fn name(&self) -> &str {
        "NWS"
    }
    async fn fetch(&self, city: &City, dates: &[NaiveDate]) -> Result<Vec<WeatherData>, BozError> {
        Ok(self.0.gridpoint_forecasts(city, dates).await?)
    }
}

#[async_trait]
impl ForecastSource for NwsPeriodSource {
    fn name(&self) -> &str {
        "NWS:forecast+hourly"
    }
    async fn fetch(&self, city: &City, dates: &[NaiveDate]) -> Result<Vec<WeatherData>, BozError> {
        Ok(self.0.period_forecasts(city, dates).await?)
    }
}

#[async_trait]
impl ForecastSource for OpenMeteoModels {
    fn name(&self) -> &str {
        "Open-Meteo"
    }
    async fn fetch(&self, city: &City, dates: &[NaiveDate]) -> Result<Vec<WeatherData>, BozError> {
        Ok(self.0.forecasts(city, dates).await?)
    }
}

#[async_trait]
impl ForecastSource for OpenMeteoEnsembles {
    fn name(&self) -> &str {
        "Open-Meteo:ENS"
    }
    async fn fetch(&self, city: &City, dates: &[NaiveDate]) -> Result<Vec<WeatherData>, BozError> {
        Ok(self.0.ensembles(city, dates).await?)
    }
}

/// The health of one source (per city).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct SourceHealth {
    pub source: String,
    pub city: String,
    pub last_success: Option<DateTime<Utc>>,
    pub last_error_at: Option<DateTime<Utc>>,
    pub last_error: Option<String>,
    /// The newest model run seen: data age is now minus this.
    pub newest_run: Option<DateTime<Utc>>,
}

/// What one fetch round brought.
#[derive(Debug, Default)]
pub struct FetchReport {
    pub data: Vec<WeatherData>,
    /// (source, city, error) for each source that failed.
    pub errors: Vec<(String, String, BozError)>,
}

/// Fetches from all sources.
pub struct WeatherService {
    sources: Vec<Arc<dyn ForecastSource>>,
    concurrency: usize,
    clock: Arc<dyn Clock>,
    health: Mutex<BTreeMap<(String, String), SourceHealth>>,
}

impl WeatherService {
    pub fn new(
        sources: Vec<Arc<dyn ForecastSource>>,
        concurrency: usize,
        clock: Arc<dyn Clock>,
    ) -> WeatherService {
        WeatherService {
            sources,
            concurrency: concurrency.max(1),
            clock,
            health: Mutex::new(BTreeMap::new()),
        }
    }

    /// Every source for every city, at most `concurrency` at once.
    pub async fn fetch(&self, cities: &[Arc<City>], dates: &[NaiveDate]) -> FetchReport {
        let jobs = cities
            .iter()
            .flat_map(|c| self.sources.iter().map(move |s| (c.clone(), s.clone())));
        // boxed one by one: a stream of closures' futures would not be `Send` for every
        // lifetime, and the pipeline runs this on a spawned task
        type Fetched = (
            Arc<City>,
            Arc<dyn ForecastSource>,
            Result<Vec<WeatherData>, BozError>,
        );
        let futures: Vec<futures::future::BoxFuture<'_, Fetched>> = jobs
            .map(|(city, source)| {
                futures::FutureExt::boxed(async move {
                    let r = source.fetch(&city, dates).await;
                    (city, source, r)
                })
            })
            .collect();
        let results: Vec<Fetched> = futures::stream::iter(futures)
            .buffer_unordered(self.concurrency)
            .collect()
            .await;
        let mut report = FetchReport::default();
        for (city, source, r) in results {
            let now = self.clock.now();
            let key = (source.name().to_string(), city.code.clone());
            let mut health = self.health.lock().unwrap_or_else(|p| p.into_inner());
            let h = health.entry(key).or_insert_with(|| SourceHealth {
                source: source.name().to_string(),
                city: city.code.clone(),
                ..Default::default()
            });
            match r {
                Ok(data) => {
                    h.last_success = Some(now);
                    if let Some(run) = data.iter().map(|d| d.model_run_timestamp).max() {
                        h.newest_run = h.newest_run.max(Some(run));
                    }
                    tracing::info!(target: "WEATHER", source = source.name(), city = %city.code, forecasts = data.len(), "fetched");
                    report.data.extend(data);
                }
                Err(e) => {
                    tracing::warn!(target: "WEATHER", source = source.name(), city = %city.code, error = %e, "source failed");
                    h.last_error_at = Some(now);
                    h.last_error = Some(e.message.clone());
                    report
                        .errors
                        .push((source.name().to_string(), city.code.clone(), e));
                }
            }
        }
        report
    }

    /// The health of every (source, city) seen so far.
    pub fn health(&self) -> Vec<SourceHealth> {
        self.health
            .lock()
            .map(|h| h.values().cloned().collect())
            .unwrap_or_default()
    }
}
