//! `boz weather fetch` and `boz weather observe`.

use std::sync::Arc;
use std::time::Duration as StdDuration;

use anyhow::{Result, bail};
use boz_common::config::Settings;
use boz_common::ports::{Clock, ForecastSource, Inserted, SystemClock};
use boz_weather::http::RetryPolicy;
use boz_weather::service::{NwsGridSource, NwsPeriodSource, OpenMeteoEnsembles, OpenMeteoModels};
use boz_weather::{NwsClient, NwsConfig, OpenMeteoClient, OpenMeteoConfig, WeatherService};
use chrono::{Duration, NaiveDate};
use secrecy::ExposeSecret;

use crate::setup;

fn timeout(settings: &Settings) -> StdDuration {
    StdDuration::from_secs(u64::from(settings.http_timeout_seconds))
}

pub fn nws_client(settings: &Settings, clock: Arc<dyn Clock>) -> Result<Arc<NwsClient>> {
    let config = NwsConfig {
        base_url: settings.nws_base_url.clone(),
        user_agent: settings.nws_user_agent.clone(),
        rate_limit_per_second: settings.nws_rate_limit_per_second,
        timeout: timeout(settings),
        max_forecast_age: Duration::minutes(i64::from(settings.nws_max_forecast_age_minutes)),
        retry: RetryPolicy::default(),
    };
    Ok(Arc::new(NwsClient::new(&config, clock)?))
}

pub fn open_meteo_client(
    settings: &Settings,
    clock: Arc<dyn Clock>,
) -> Result<Arc<OpenMeteoClient>> {
    let config = OpenMeteoConfig {
        base_url: settings.open_meteo_base_url.clone(),
        ensemble_url: settings.open_meteo_ensemble_url.clone(),
        previous_runs_url: settings.open_meteo_previous_runs_url.clone(),
        api_key: settings
            .open_meteo_api_key
            .as_ref()
            .map(|k| k.expose_secret().to_string()),
        models: settings.open_meteo_models.clone(),
        ensemble_models: settings.open_meteo_ensemble_models.clone(),
        timeout: timeout(settings),
        retry: RetryPolicy::default(),
        availability_lag: Duration::hours(6),
    };
    Ok(Arc::new(OpenMeteoClient::new(
        config,
        &settings.nws_user_agent,
        clock,
    )?))
}

pub async fn fetch(codes: &[String], date: Option<NaiveDate>, json: bool) -> Result<()> {
    let settings = setup::settings()?;
    let telemetry = setup::telemetry(&settings, Vec::new())?;
    let cities = setup::cities(codes)?;
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let now = clock.now();
    let dates: Vec<NaiveDate> = match date {
        Some(d) => vec![d],
        None => {
            let first = cities
                .iter()
                .map(|c| c.climate_date(now))
                .min()
                .unwrap_or(now.date_naive());
            (0..3).map(|i| first + Duration::days(i)).collect()
        }
    };
    let nws = nws_client(&settings, clock.clone())?;
    let om = open_meteo_client(&settings, clock.clone())?;
    let sources: Vec<Arc<dyn ForecastSource>> = vec![
        Arc::new(NwsGridSource(nws.clone())),
        Arc::new(NwsPeriodSource(nws)),
        Arc::new(OpenMeteoModels(om.clone())),
        Arc::new(OpenMeteoEnsembles(om)),
    ];
    let service = WeatherService::new(sources, settings.weather_fetch_concurrency as usize, clock);

    let db = setup::database(&settings).await?;
    db.migrate().await?;
    let store = db.store();
    telemetry.attach_sink(store.clone());
    let report = service.fetch(&cities, &dates).await;
    let (mut new, mut duplicate) = (0, 0);
    for w in &report.data {
        match store.insert_forecast(w).await? {
            Inserted::New(_) => new += 1,
            Inserted::Duplicate(_) => duplicate += 1,
        }
    }
    let mut data = report.data;
    data.sort_by(|a, b| {
        (a.city.as_str(), a.date, &a.source).cmp(&(b.city.as_str(), b.date, &b.source))
    });
    if json {
        println!("{}", serde_json::to_string_pretty(&data)?);
    } else {
        println!(
            "{:<5} {:<10} {:<22} {:>8}  model run",
            "city", "date", "source", "high °F"
        );
        for w in &data {
            println!(
                "{:<5} {:<10} {:<22} {:>8.1}  {}",
                w.city.as_str(),
                w.date,
                w.source,
                w.forecast_high_f,
                w.model_run_timestamp.format("%Y-%m-%d %H:%M UTC")
            );
        }
        println!("Stored {new} new forecasts ({duplicate} already stored).");
    }
    for (source, city, e) in &report.errors {
        eprintln!("{source} for {city} failed: {}", e.message);
    }
    if let Some(n) = crate::notify::from_settings(&settings) {
        report_sources_down(
            &store,
            n.as_ref(),
            &report.errors,
            settings.notify_source_down_minutes,
            now,
        )
        .await?;
    }
    telemetry.flush().await;
    db.close().await;
    if data.is_empty() && !report.errors.is_empty() {
        bail!("every weather source failed");
    }
    Ok(())
}

/// A source that failed now and has no stored forecast for the city fetched within
/// `minutes` is reported down (the store remembers across runs when it last worked).
async fn report_sources_down(
    store: &Arc<dyn boz_common::ports::Store>,
    notifier: &dyn boz_common::ports::Notifier,
    errors: &[(String, String, boz_common::BozError)],
    minutes: u32,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<()> {
    use boz_common::ports::{Notification, NotificationKind};
    let limit = Duration::minutes(i64::from(minutes));
    for (source, city, e) in errors {
        let Ok(code) = boz_common::CityCode::parse(city) else {
            continue;
        };
        let today = now.date_naive();
        let stored = store
            .forecasts_between(&code, today - Duration::days(7), today + Duration::days(7))
            .await?;
        let last_ok = stored
            .iter()
            .filter(|f| {
                f.data.source == *source
                    || f.data.source.starts_with(&format!("{source}:"))
                    || f.data.source.starts_with(&format!("{source}-"))
            })
            .map(|f| f.data.fetched_at)
            .max();
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

pub async fn observe(codes: &[String], json: bool) -> Result<()> {
    let settings = setup::settings()?;
    let _telemetry = setup::telemetry(&settings, Vec::new())?;
    let cities = setup::cities(codes)?;
    let nws = nws_client(&settings, Arc::new(SystemClock))?;
    let mut found = Vec::new();
    let mut failed = 0;
    for c in &cities {
        match nws.observed_max(c).await {
            Ok(m) => found.push(m),
            Err(e) => {
                failed += 1;
                eprintln!("{} ({}): {e}", c.code, c.station_id);
            }
        }
    }
    if json {
        println!("{}", serde_json::to_string_pretty(&found)?);
    } else {
        for m in &found {
            println!(
                "{:<5} {} climate day {}: max so far {:.1} °F at {} ({}), {} observations, latest {}",
                m.city,
                m.station,
                m.climate_date,
                m.max_f,
                m.max_at.format("%H:%M UTC"),
                m.max_from,
                m.observations,
                m.latest_observation_at.format("%H:%M UTC")
            );
        }
    }
    if found.is_empty() && failed > 0 {
        bail!("no observations could be read");
    }
    Ok(())
}
