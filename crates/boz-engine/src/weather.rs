//! Forecast and observation jobs: every source for every city and date, stored once (a
//! repeated model run is a duplicate), failures reported per source, and a source that has
//! been down longer than NOTIFY_SOURCE_DOWN_MINUTES notified.

use std::sync::Arc;

use boz_common::BozError;
use boz_common::city::City;
use boz_common::ports::{
    ForecastSource, Inserted, Notification, NotificationKind, Notifier, Store,
};
use boz_common::schemas::WeatherData;
use boz_weather::WeatherService;
use boz_weather::nws::ObservedMax;
use boz_weather::service::{NwsGridSource, NwsPeriodSource, OpenMeteoEnsembles, OpenMeteoModels};
use chrono::{DateTime, Duration, NaiveDate, Utc};

use crate::Result;
use crate::services::Services;

/// What one forecast fetch did.
#[derive(Debug, Default)]
pub struct FetchReport {
    pub data: Vec<WeatherData>,
    pub new: usize,
    pub duplicate: usize,
    /// (source, city, error)
    pub errors: Vec<(String, String, BozError)>,
}

/// The dates a fetch covers: `date`, or the three climate days from the earliest city's today.
pub fn fetch_dates(
    cities: &[Arc<City>],
    date: Option<NaiveDate>,
    now: DateTime<Utc>,
) -> Vec<NaiveDate> {
    match date {
        Some(d) => vec![d],
        None => {
            let first = cities
                .iter()
                .map(|c| c.climate_date(now))
                .min()
                .unwrap_or(now.date_naive());
            (0..3).map(|i| first + Duration::days(i)).collect()
        }
    }
}

/// Fetches every source for `cities` and `dates` and stores what is new.
pub async fn fetch_forecasts(
    svc: &Services,
    cities: &[Arc<City>],
    date: Option<NaiveDate>,
) -> Result<FetchReport> {
    let now = svc.clock.now();
    let dates = fetch_dates(cities, date, now);
    let sources: Vec<Arc<dyn ForecastSource>> = vec![
        Arc::new(NwsGridSource(svc.nws.clone())),
        Arc::new(NwsPeriodSource(svc.nws.clone())),
        Arc::new(OpenMeteoModels(svc.open_meteo.clone())),
        Arc::new(OpenMeteoEnsembles(svc.open_meteo.clone())),
    ];
    let service = WeatherService::new(
        sources,
        svc.settings.weather_fetch_concurrency as usize,
        svc.clock.clone(),
    );
    let report = service.fetch(cities, &dates).await;
    let mut out = FetchReport {
        errors: report.errors,
        ..FetchReport::default()
    };
    for w in &report.data {
        match svc.store.insert_forecast(w).await? {
            Inserted::New(_) => out.new += 1,
            Inserted::Duplicate(_) => out.duplicate += 1,
        }
    }
    out.data = report.data;
    out.data.sort_by(|a, b| {
        (a.city.as_str(), a.date, &a.source).cmp(&(b.city.as_str(), b.date, &b.source))
    });
    for (source, city, e) in &out.errors {
        tracing::warn!(target: "WEATHER", source = %source, city = %city, error = %e.message, "forecast source failed");
    }
    if let Some(n) = &svc.notifier {
        report_sources_down(
            &svc.store,
            n.as_ref(),
            &out.errors,
            svc.settings.notify_source_down_minutes,
            now,
        )
        .await?;
    }
    Ok(out)
}

/// When `source` (a source name or its prefix, "Open-Meteo" for "Open-Meteo:GFS") last
/// delivered a forecast for `city` that is stored, within the last week.
pub async fn last_stored(
    store: &Arc<dyn Store>,
    city: &boz_common::CityCode,
    source: &str,
    now: DateTime<Utc>,
) -> Result<Option<DateTime<Utc>>> {
    let today = now.date_naive();
    let stored = store
        .forecasts_between(city, today - Duration::days(7), today + Duration::days(7))
        .await?;
    Ok(stored
        .iter()
        .filter(|f| {
            f.data.source == source
                || f.data.source.starts_with(&format!("{source}:"))
                || f.data.source.starts_with(&format!("{source}-"))
        })
        .map(|f| f.data.fetched_at)
        .max())
}

/// A source that failed now and has no stored forecast for the city fetched within
/// `minutes` is reported down (the store remembers across runs when it last worked).
async fn report_sources_down(
    store: &Arc<dyn Store>,
    notifier: &dyn Notifier,
    errors: &[(String, String, BozError)],
    minutes: u32,
    now: DateTime<Utc>,
) -> Result<()> {
    let limit = Duration::minutes(i64::from(minutes));
    for (source, city, e) in errors {
        let Ok(code) = boz_common::CityCode::parse(city) else {
            continue;
        };
        let last_ok = last_stored(store, &code, source, now).await?;
        if last_ok.is_none_or(|t| now - t > limit) {
            let since = last_ok.map_or("no stored forecast in the last 7 days".to_string(), |t| {
                format!("last good forecast fetched {}", t.to_rfc3339())
            });
            notifier
                .notify(&Notification {
                    kind: NotificationKind::SourceDown,
                    title: format!("{source} down for {city}"),
                    text: format!("{source} failed for {city}: {}; {since} (limit {minutes} minutes).", e.message),
                    data: serde_json::json!({"source": source, "city": city, "error": e.message, "last_ok": last_ok}),
                })
                .await;
        }
    }
    Ok(())
}

/// The running maximum of today's climate day at each city's station.
pub async fn observe(
    svc: &Services,
    cities: &[Arc<City>],
) -> (Vec<ObservedMax>, Vec<(String, String)>) {
    let mut found = Vec::new();
    let mut failed = Vec::new();
    for c in cities {
        match svc.nws.observed_max(c).await {
            Ok(m) => found.push(m),
            Err(e) => {
                tracing::warn!(target: "WEATHER", city = %c.code, station = %c.station_id, error = %e, "observations unavailable");
                failed.push((
                    c.code.to_string(),
                    format!("{} ({}): {e}", c.code, c.station_id),
                ));
            }
        }
    }
    (found, failed)
}
