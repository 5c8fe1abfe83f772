//! `boz backfill`: history for backtests, downloaded into the tables the backtest reads.
//!
//! So far: Open-Meteo's Previous Runs API, as-of forecasts. For each city, climate date and
//! model, the forecast of the day's high as it was known at each decision time (`--decision-hour`
//! local standard time, `--days-before` the day; `boz_weather`'s `previous_run_as_of`: only runs
//! out, with their availability lag, by then), stored in `weather_forecasts` with `fetched_at` =
//! that decision time, so a backtest sees it exactly from then on.
//!
//! Resumable: what is already stored (same city, date, source and decision time) is not asked
//! again, and each date is stored as soon as it is fetched, so an interrupted run goes on where
//! it stopped. Rate-limited (`--rate-per-second`, a token bucket); every request has the client's
//! timeout and retries. The reserved window 2025-01-01..2025-06-30 is left out unless
//! `--include-reserved`.

use std::collections::HashSet;
use std::num::NonZeroU32;

use anyhow::{Context, Result};
use boz_common::ports::SystemClock;
use boz_common::schemas::WeatherData;
use boz_history::is_reserved;
use boz_weather::openmeteo::model_source;
use chrono::{Duration, NaiveDate, NaiveTime};
use governor::{DefaultDirectRateLimiter, Quota};
use indicatif::{ProgressBar, ProgressStyle};

use crate::setup;

pub struct Args<'a> {
    pub codes: &'a [String],
    pub from: NaiveDate,
    pub to: NaiveDate,
    /// Open-Meteo model names; default `OPEN_METEO_MODELS`.
    pub models: &'a [String],
    pub hours: &'a [u32],
    pub days_before: i64,
    pub rate_per_second: u32,
    pub include_reserved: bool,
}

#[derive(Default)]
struct Counts {
    stored: u64,
    already: u64,
    unavailable: u64,
}

pub async fn backfill(a: &Args<'_>) -> Result<()> {
    if a.from > a.to {
        anyhow::bail!("invalid range: --from {} is after --to {}", a.from, a.to);
    }
    if a.hours.is_empty() || a.hours.iter().any(|h| *h > 23) || !(0..=2).contains(&a.days_before) {
        anyhow::bail!(
            "invalid decision: --decision-hour must be one or more hours 0-23 and --days-before 0-2"
        );
    }
    let rate = NonZeroU32::new(a.rate_per_second)
        .filter(|r| r.get() <= 50)
        .with_context(|| {
            format!(
                "invalid --rate-per-second {}: must be 1-50",
                a.rate_per_second
            )
        })?;
    let settings = setup::settings()?;
    let cities = setup::cities(a.codes)?;
    let models: Vec<String> = if a.models.is_empty() {
        settings.open_meteo_models.clone()
    } else {
        a.models.to_vec()
    };
    let db = setup::database(&settings).await?;
    db.migrate().await?;
    let store = db.store();
    let client =
        boz_engine::services::open_meteo_client(&settings, std::sync::Arc::new(SystemClock))?;
    let limiter = DefaultDirectRateLimiter::direct(Quota::per_second(rate));
    let days = (a.to - a.from).num_days() as u64 + 1;
    let total = days * (cities.len() * models.len() * a.hours.len()) as u64;
    let bar = ProgressBar::new(total);
    bar.set_style(
        ProgressStyle::with_template("{prefix:>4} [{bar:30}] {pos}/{len} forecasts {elapsed}")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    for city in &cities {
        bar.set_prefix(city.code.clone());
        let code = city.code();
        let have: HashSet<(NaiveDate, String, i64)> = store
            .forecasts_between(&code, a.from, a.to)
            .await?
            .into_iter()
            .map(|f| {
                (
                    f.data.date,
                    f.data.source.clone(),
                    f.data.fetched_at.timestamp(),
                )
            })
            .collect();
        let mut c = Counts::default();
        let mut date = a.from;
        while date <= a.to {
            if !a.include_reserved && is_reserved(date) {
                bar.inc((models.len() * a.hours.len()) as u64);
                date += Duration::days(1);
                continue;
            }
            let mut batch: Vec<WeatherData> = Vec::new();
            for model in &models {
                let source = model_source(model);
                for hour in a.hours {
                    bar.inc(1);
                    let as_of = city.at_standard_time(
                        date - Duration::days(a.days_before),
                        NaiveTime::from_hms_opt(*hour, 0, 0).unwrap_or(NaiveTime::MIN),
                    );
                    if have.contains(&(date, source.clone(), as_of.timestamp())) {
                        c.already += 1;
                        continue;
                    }
                    limiter.until_ready().await;
                    let got = client
                        .previous_run_as_of(city, date, model, as_of)
                        .await
                        .with_context(|| format!("{} {date} {model} as of {as_of}", city.code))?;
                    let Some(w) = got else {
                        c.unavailable += 1;
                        continue;
                    };
                    // known from the decision on, not from when it was downloaded
                    let mut fields = w.into_fields();
                    fields.fetched_at = as_of;
                    batch.push(WeatherData::new(fields)?);
                }
            }
            c.stored += store.insert_forecasts(&batch).await?;
            date += Duration::days(1);
        }
        bar.suspend(|| {
            println!(
                "{}: {} forecasts stored, {} already stored, {} not available (a value missing or the run older than 7 days)",
                city.code, c.stored, c.already, c.unavailable
            );
        });
    }
    bar.finish_and_clear();
    db.close().await;
    Ok(())
}
