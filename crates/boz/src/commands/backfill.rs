//! `boz backfill`: history for backtests, downloaded into the tables the backtest reads.
//!
//! Three sources (`--source`, default all):
//! - `forecasts`: Open-Meteo's Previous Runs API, as-of forecasts. For each city, climate date
//!   and model, the forecast of the day's high as it was known at each decision time
//!   (`--decision-hour` local standard time, `--days-before` the day; `boz_weather`'s
//!   `previous_run_as_of`: only runs out, with their availability lag, by then), stored in
//!   `weather_forecasts` with `fetched_at` = that decision time, so a backtest sees it exactly
//!   from then on;
//! - `climate`: the NWS climate reports (CLI) of each day from IEM's text-product archive, read
//!   by the same parser and rule as live settlement (the latest final report), into
//!   `settlements` (see [`climate`]);
//! - `kalshi`: the city's markets (historical and live tiers, split at Kalshi's cutoff), each
//!   market's hourly candlesticks as quotes (`market_snapshots`, source `kalshi-candlesticks`)
//!   and its printed trades (`market_trades`), and Kalshi's settled value (see [`kalshi`]).
//!
//! Resumable: what is already stored is not asked again, and each unit (a date's forecasts, a
//! month of climate reports, a market) is stored as soon as it is fetched, so an interrupted run
//! goes on where it stopped. Rate-limited (`--rate-per-second`, a token bucket shared by every
//! source); every request has the client's timeout, and only these GETs are retried. The reserved
//! window 2025-01-01..2025-06-30 is left out unless `--include-reserved`.

mod climate;
mod kalshi;

use std::collections::HashSet;
use std::num::NonZeroU32;
use std::sync::Arc;

use anyhow::{Context, Result};
use boz_common::city::City;
use boz_common::ports::{Store, SystemClock};
use boz_common::schemas::WeatherData;
use boz_history::is_reserved;
use boz_weather::OpenMeteoClient;
use boz_weather::openmeteo::model_source;
use chrono::{Duration, NaiveDate, NaiveTime};
use governor::{DefaultDirectRateLimiter, Quota};
use indicatif::{ProgressBar, ProgressStyle};

use crate::setup;

/// What `boz backfill` downloads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Source {
    /// Open-Meteo as-of forecasts (Previous Runs API).
    Forecasts,
    /// NWS climate reports from IEM's archive.
    Climate,
    /// Kalshi markets, candlesticks, trades and settled values.
    Kalshi,
}

pub struct Args<'a> {
    pub codes: &'a [String],
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub sources: &'a [Source],
    /// Open-Meteo model names; default `OPEN_METEO_MODELS`.
    pub models: &'a [String],
    pub hours: &'a [u32],
    pub days_before: i64,
    pub rate_per_second: u32,
    pub include_reserved: bool,
}

/// What every source shares: the window, the store, the rate limit and the progress bar.
pub(crate) struct Run<'a> {
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub include_reserved: bool,
    pub store: &'a Arc<dyn Store>,
    pub limiter: &'a DefaultDirectRateLimiter,
    pub bar: &'a ProgressBar,
}

impl Run<'_> {
    /// Whether `date` may be downloaded (outside the reserved window, or allowed in).
    pub fn wanted(&self, date: NaiveDate) -> bool {
        self.include_reserved || !is_reserved(date)
    }

    /// The bar restarted for one phase of one city.
    pub fn phase(&self, city: &City, unit: &str, len: u64) {
        self.bar.reset();
        self.bar.set_length(len);
        self.bar.set_prefix(city.code.clone());
        self.bar.set_style(
            ProgressStyle::with_template(&format!(
                "{{prefix:>4}} [{{bar:30}}] {{pos}}/{{len}} {unit} {{elapsed}}"
            ))
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
        );
    }

    /// A line printed above the bar.
    pub fn say(&self, line: String) {
        self.bar.suspend(|| println!("{line}"));
    }
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
    let all = [Source::Forecasts, Source::Climate, Source::Kalshi];
    let sources = if a.sources.is_empty() {
        &all[..]
    } else {
        a.sources
    };
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
    let limiter = DefaultDirectRateLimiter::direct(Quota::per_second(rate));
    let bar = ProgressBar::new(0);
    let run = Run {
        from: a.from,
        to: a.to,
        include_reserved: a.include_reserved,
        store: &store,
        limiter: &limiter,
        bar: &bar,
    };
    let clock = Arc::new(SystemClock);
    let result: Result<()> = async {
        for source in sources {
            match source {
                Source::Forecasts => {
                    let client = boz_engine::services::open_meteo_client(&settings, clock.clone())?;
                    for city in &cities {
                        forecasts(&run, &client, city, &models, a.hours, a.days_before).await?;
                    }
                }
                Source::Climate => {
                    let client = boz_engine::services::iem_client(&settings)?;
                    for city in &cities {
                        climate::backfill(&run, &client, city).await?;
                    }
                }
                Source::Kalshi => {
                    let client = boz_engine::services::kalshi_client(&settings, clock.clone())?;
                    let cutoff = kalshi::Cutoff::fetch(&run, &client).await?;
                    for city in &cities {
                        kalshi::backfill(&run, &client, &cutoff, city).await?;
                    }
                }
            }
        }
        Ok(())
    }
    .await;
    bar.finish_and_clear();
    db.close().await;
    result
}

#[derive(Default)]
struct Counts {
    stored: u64,
    already: u64,
    unavailable: u64,
}

/// Open-Meteo as-of forecasts of one city.
async fn forecasts(
    run: &Run<'_>,
    client: &OpenMeteoClient,
    city: &City,
    models: &[String],
    hours: &[u32],
    days_before: i64,
) -> Result<()> {
    let days = (run.to - run.from).num_days() as u64 + 1;
    run.phase(
        city,
        "forecasts",
        days * (models.len() * hours.len()) as u64,
    );
    let code = city.code();
    let have: HashSet<(NaiveDate, String, i64)> = run
        .store
        .forecasts_between(&code, run.from, run.to)
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
    let mut date = run.from;
    while date <= run.to {
        if !run.wanted(date) {
            run.bar.inc((models.len() * hours.len()) as u64);
            date += Duration::days(1);
            continue;
        }
        let mut batch: Vec<WeatherData> = Vec::new();
        for model in models {
            let source = model_source(model);
            for hour in hours {
                run.bar.inc(1);
                let as_of = city.at_standard_time(
                    date - Duration::days(days_before),
                    NaiveTime::from_hms_opt(*hour, 0, 0).unwrap_or(NaiveTime::MIN),
                );
                if have.contains(&(date, source.clone(), as_of.timestamp())) {
                    c.already += 1;
                    continue;
                }
                run.limiter.until_ready().await;
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
        c.stored += run.store.insert_forecasts(&batch).await?;
        date += Duration::days(1);
    }
    run.say(format!(
        "{}: {} forecasts stored, {} already stored, {} not available (a value missing or the run older than 7 days)",
        city.code, c.stored, c.already, c.unavailable
    ));
    Ok(())
}
