//! `boz history import`: loads the recorded history under `../shared/data/history` into the
//! store, so that `boz score` (and the model's training) run on it like on live data.
//!
//! What goes where (one city at a time):
//! - `settlements`: the settled high of each day, best source first: the Kalshi event's
//!   `expiration_value`, then the NWS climate report kept by the NYC logger
//!   (`multiyear_atmospheric.csv`), then round(GHCN TMAX);
//! - `weather_forecasts`: the NYC logger's NWS forecasts (source `NWS:forecast`) and AccuWeather
//!   forecasts (`AccuWeather`), fetched at the time they were logged; and the HRRR day-before
//!   forecast (`Open-Meteo:HRRR:previous_day1`), taken as available at 18:00 local standard time
//!   the day before (its peak-afternoon hours come from runs started about 24 hours before
//!   them, out about 90 minutes later);
//! - `market_snapshots`: each market's price at the decision time (`--decision-hour`, local
//!   standard time, the day before the event): the last trade at or before it (source
//!   `kalshi-trades`, with the volume traded so far), and the last hourly candle that closed by
//!   then (`kalshi-candles`: YES bid and ask at the candle's close).
//!
//! Days in the reserved acceptance window (2025-01-01 to 2025-06-30) are skipped unless
//! `--include-reserved` is given.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::sync::Arc;

use anyhow::{Context, Result};
use boz_common::city::City;
use boz_common::ports::{MarketSnapshot, SettlementRow, Store};
use boz_common::schemas::{WeatherData, WeatherDataFields, WeatherVariables};
use boz_common::{Count, Price};
use boz_history::events::read_events;
use boz_history::is_reserved;
use boz_history::logs::{read_daily_features, read_forecast_log};
use boz_history::parquet_files::{
    Candle, MarketDef, Trade, read_candles, read_ghcn_daily, read_markets, read_trades,
};
use boz_kalshi::WeatherEvent;
use boz_kalshi::market::{event_from_api, event_from_tickers, settled_high};
use chrono::{DateTime, NaiveDate, NaiveTime, Utc};
use rust_decimal::Decimal;
use serde_json::{Value, json};

use crate::setup;

const LOGGER: &str = "hwaheed13-nws-forecast-logger";
const SAMEERES: &str = "sameeres-kalshi-weather-bot";
const CPRATIM: &str = "cpratim-Kalshi-Weather-Trading";
/// The station whose forecasts and reports the NYC logger recorded.
const LOGGER_STATION: &str = "KNYC";
/// Local standard hour at which the HRRR day-before forecast counts as available.
const HRRR_AVAILABLE_HOUR: u32 = 18;

pub struct Options<'a> {
    pub dir: &'a Path,
    pub decision_hour: u32,
    pub include_reserved: bool,
}

/// `hour`:00 (validated 0-23 before use).
fn clock(hour: u32) -> NaiveTime {
    NaiveTime::from_hms_opt(hour, 0, 0).unwrap_or(NaiveTime::MIN)
}

#[derive(Default)]
pub(crate) struct Counts {
    settlements: BTreeMap<&'static str, usize>,
    forecasts_read: BTreeMap<&'static str, usize>,
    forecasts_new: u64,
    snapshots_new: u64,
    events: usize,
    skipped_events: Vec<String>,
    skipped_reserved: usize,
}

pub async fn import(codes: &[String], opts: &Options<'_>) -> Result<()> {
    if opts.decision_hour > 23 {
        anyhow::bail!(
            "invalid --decision-hour {}: must be 0-23",
            opts.decision_hour
        );
    }
    let settings = setup::settings()?;
    let cities = setup::cities(codes)?;
    let db = setup::database(&settings).await?;
    db.migrate().await?;
    let store = db.store();
    for city in &cities {
        let (counts, _) = import_city(&store, city, opts).await?;
        print_counts(city, &counts);
    }
    db.close().await;
    Ok(())
}

pub(crate) fn print_counts(city: &City, c: &Counts) {
    println!("{}:", city.code);
    for (source, n) in &c.settlements {
        println!("  settled highs from {source}: {n}");
    }
    for (source, n) in &c.forecasts_read {
        println!("  forecasts read from {source}: {n}");
    }
    println!("  forecasts stored (new): {}", c.forecasts_new);
    println!(
        "  events: {}; market snapshots stored (new): {}",
        c.events, c.snapshots_new
    );
    if c.skipped_reserved > 0 {
        println!(
            "  rows in the reserved window 2025-01-01..2025-06-30 skipped: {}",
            c.skipped_reserved
        );
    }
    if !c.skipped_events.is_empty() {
        println!("  events skipped: {}", c.skipped_events.len());
        for s in c.skipped_events.iter().take(5) {
            println!("    {s}");
        }
    }
}

fn forecast(
    city: &City,
    date: NaiveDate,
    high: f64,
    source: &str,
    at: DateTime<Utc>,
    raw: Value,
) -> Result<WeatherData> {
    Ok(WeatherData::new(WeatherDataFields {
        city: city.code(),
        date,
        forecast_high_f: high,
        source: source.to_string(),
        model_run_timestamp: at,
        variables: WeatherVariables::high_only(high)?,
        raw_data: raw,
        fetched_at: at,
    })?)
}

/// What an import read of a city, for a backtest: its events, every trade of their markets, and
/// the settled high of each day.
pub struct Recording {
    pub events: BTreeMap<String, WeatherEvent>,
    pub trades: HashMap<String, Vec<Trade>>,
    pub settled: BTreeMap<NaiveDate, f64>,
}

pub(crate) async fn import_city(
    store: &Arc<dyn Store>,
    city: &City,
    opts: &Options<'_>,
) -> Result<(Counts, Recording)> {
    let mut c = Counts::default();
    let keep = |date: NaiveDate, c: &mut Counts| {
        let ok = opts.include_reserved || !is_reserved(date);
        if !ok {
            c.skipped_reserved += 1;
        }
        ok
    };
    // settled highs, the best source last so it wins
    let mut settled: BTreeMap<NaiveDate, (f64, &'static str, Value)> = BTreeMap::new();
    let ghcn = opts.dir.join(SAMEERES).join("weather_daily.parquet");
    if ghcn.exists() {
        for d in read_ghcn_daily(&ghcn)? {
            if d.station == city.station_id && keep(d.date, &mut c) {
                let raw = json!({"file": "weather_daily.parquet", "tmax_f": d.tmax_f});
                settled.insert(d.date, (d.tmax_f.round(), "GHCN-Daily", raw));
            }
        }
    }
    let logger = city.station_id == LOGGER_STATION;
    let features = opts.dir.join(LOGGER).join("multiyear_atmospheric.csv");
    let mut forecasts = Vec::new();
    if logger && features.exists() {
        for d in read_daily_features(&features)? {
            if !keep(d.date, &mut c) {
                continue;
            }
            let raw = json!({"file": "multiyear_atmospheric.csv", "actual_high": d.actual_high_f});
            settled.insert(d.date, (d.actual_high_f, "CLI (NYC forecast logger)", raw));
            if let Some(h) = d.hrrr_previous_day1_f {
                let at = city.at_standard_time(
                    d.date.pred_opt().unwrap_or(d.date),
                    clock(HRRR_AVAILABLE_HOUR),
                );
                let raw = json!({"file": "multiyear_atmospheric.csv", "column": "mm_hrrr_max_d1"});
                forecasts.push(forecast(
                    city,
                    d.date,
                    h,
                    "Open-Meteo:HRRR:previous_day1",
                    at,
                    raw,
                )?);
                *c.forecasts_read
                    .entry("Open-Meteo:HRRR:previous_day1")
                    .or_default() += 1;
            }
        }
    }
    if logger {
        let tz: chrono_tz::Tz = city
            .time_zone
            .parse()
            .map_err(|e| anyhow::anyhow!("city {} time zone {}: {e}", city.code, city.time_zone))?;
        for (file, source) in [
            ("nws_forecast_log.csv", "NWS:forecast"),
            ("accuweather_log.csv", "AccuWeather"),
        ] {
            let path = opts.dir.join(LOGGER).join(file);
            if !path.exists() {
                continue;
            }
            let (logged, _) = read_forecast_log(&path, tz)?;
            for f in logged {
                if !keep(f.target_date, &mut c) {
                    continue;
                }
                let raw = json!({"file": file, "row": f.row});
                forecasts.push(forecast(
                    city,
                    f.target_date,
                    f.high_f,
                    source,
                    f.logged_at,
                    raw,
                )?);
                *c.forecasts_read.entry(source).or_default() += 1;
            }
        }
    }
    // Kalshi events: brackets and settled values
    let series = city.kalshi_series.to_ascii_lowercase();
    let mut events: BTreeMap<String, WeatherEvent> = BTreeMap::new();
    let events_file = opts
        .dir
        .join(CPRATIM)
        .join(format!("{series}_events.jsonl.gz"));
    if events_file.exists() {
        for e in read_events(&events_file)? {
            match event_from_api(&e.event, &e.markets) {
                Ok(ev) if ev.city.as_str() == city.code => {
                    if !keep(ev.date, &mut c) {
                        continue;
                    }
                    let value = e
                        .markets
                        .iter()
                        .filter_map(|m| m.get("expiration_value").and_then(Value::as_str))
                        .find_map(settled_high);
                    if let Some(v) = value {
                        let raw = json!({"file": events_file.file_name().map(|f| f.to_string_lossy().to_string()), "event_ticker": ev.event_ticker, "expiration_value": v});
                        settled.insert(ev.date, (f64::from(v), "Kalshi expiration_value", raw));
                    }
                    events.insert(ev.event_ticker.clone(), ev);
                }
                Ok(_) => {}
                Err(err) => c.skipped_events.push(format!("line {}: {err}", e.line)),
            }
        }
    }

    // market prices at the decision time
    let mut trades: HashMap<String, Vec<Trade>> = HashMap::new();
    let trades_file = opts
        .dir
        .join(CPRATIM)
        .join(format!("{series}_trades.parquet"));
    if trades_file.exists() {
        for t in read_trades(&trades_file)? {
            trades.entry(t.ticker.clone()).or_default().push(t);
        }
    }
    let mut candles: HashMap<String, Vec<Candle>> = HashMap::new();
    let mut defs: HashMap<String, Vec<MarketDef>> = HashMap::new();
    let candle_files = [
        opts.dir.join(SAMEERES).join("kalshi_candles.parquet"),
        opts.dir.join(SAMEERES).join(format!(
            "kalshi_history_chunks__{}_concat.parquet",
            city.kalshi_series
        )),
    ];
    for f in candle_files.iter().filter(|f| f.exists()) {
        for k in read_candles(f)? {
            if ticker_series(&k.ticker).eq_ignore_ascii_case(&city.kalshi_series) {
                candles.entry(k.ticker.clone()).or_default().push(k);
            }
        }
    }
    let markets_file = opts.dir.join(SAMEERES).join("kalshi_markets.parquet");
    if markets_file.exists() {
        for m in read_markets(&markets_file)? {
            defs.entry(m.event_ticker.clone()).or_default().push(m);
        }
    }
    // events known only from markets files or tickers
    let mut by_event: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for t in trades.keys().chain(candles.keys()) {
        if let Some((event, _)) = t.rsplit_once('-') {
            by_event
                .entry(event.to_string())
                .or_default()
                .push(t.clone());
        }
    }
    for (event_ticker, mut tickers) in by_event {
        if events.contains_key(&event_ticker) {
            continue;
        }
        tickers.sort();
        tickers.dedup();
        let parsed = match defs.get(&event_ticker) {
            Some(ms) => {
                let markets: Vec<Value> = ms
                    .iter()
                    .map(|m| json!({"ticker": m.ticker, "strike_type": m.strike_type, "floor_strike": m.floor_strike, "cap_strike": m.cap_strike, "subtitle": m.subtitle}))
                    .collect();
                event_from_api(&json!({"event_ticker": event_ticker}), &markets)
            }
            None => {
                let refs: Vec<&str> = tickers.iter().map(String::as_str).collect();
                event_from_tickers(&event_ticker, &refs).or_else(|first| {
                    let full = complete_ladder(&event_ticker, &tickers);
                    let refs: Vec<&str> = full.iter().map(String::as_str).collect();
                    event_from_tickers(&event_ticker, &refs).map_err(|_| first)
                })
            }
        };
        match parsed {
            Ok(ev) if ev.city.as_str() == city.code => {
                if keep(ev.date, &mut c) {
                    events.insert(event_ticker, ev);
                }
            }
            Ok(_) => {}
            Err(e) => c.skipped_events.push(e.to_string()),
        }
    }
    let mut snapshots = Vec::new();
    for ev in events.values() {
        let traded = ev.brackets.iter().any(|b| trades.contains_key(&b.ticker));
        let charted = ev.brackets.iter().any(|b| candles.contains_key(&b.ticker));
        let decision = city.at_standard_time(
            ev.date.pred_opt().unwrap_or(ev.date),
            clock(opts.decision_hour),
        );
        c.events += 1;
        for b in &ev.brackets {
            let base = |source: &str| MarketSnapshot {
                city: city.code(),
                event_date: ev.date,
                event_ticker: ev.event_ticker.clone(),
                ticker: b.ticker.clone(),
                lower_bound_f: b.lower_bound_f,
                upper_bound_f: b.upper_bound_f,
                as_of: decision,
                yes_bid: None,
                yes_ask: None,
                last_price: None,
                volume: None,
                source: source.to_string(),
                depth: None,
            };
            // Every bracket of an event gets a row from each source that covers the event, so
            // the stored ladder is whole; a bracket with no trade (or candle) by the decision
            // has no price.
            if traded {
                let none = Vec::new();
                let ts = trades.get(&b.ticker).unwrap_or(&none);
                let before: Vec<&Trade> =
                    ts.iter().filter(|t| t.created_time <= decision).collect();
                let last = before.iter().max_by_key(|t| t.created_time);
                let volume: i64 = before.iter().map(|t| t.count).sum();
                snapshots.push(MarketSnapshot {
                    last_price: last.and_then(|t| cents(t.yes_price_cents as f64)),
                    volume: Count::new(Decimal::from(volume)).ok(),
                    ..base("kalshi-trades")
                });
            }
            if charted {
                let closed = candles.get(&b.ticker).and_then(|ks| {
                    ks.iter()
                        .filter(|k| k.ts + chrono::Duration::hours(1) <= decision)
                        .max_by_key(|k| k.ts)
                });
                snapshots.push(MarketSnapshot {
                    yes_bid: closed.and_then(|k| k.yes_bid_cents.and_then(cents)),
                    yes_ask: closed.and_then(|k| k.yes_ask_cents.and_then(cents)),
                    last_price: closed.and_then(|k| k.close_cents.and_then(cents)),
                    ..base("kalshi-candles")
                });
            }
        }
    }
    // Every file is read before anything is written, so a malformed file changes nothing.
    for (_, (_, source, _)) in settled.iter() {
        *c.settlements.entry(source).or_default() += 1;
    }
    let highs: BTreeMap<NaiveDate, f64> = settled.iter().map(|(d, (h, _, _))| (*d, *h)).collect();
    for (date, (high, source, raw)) in settled {
        store
            .upsert_settlement(&SettlementRow {
                city: city.code(),
                settlement_date: date,
                actual_high_f: high,
                source: source.to_string(),
                raw_report: raw,
                fetched_at: Utc::now(),
            })
            .await?;
    }
    c.forecasts_new = store.insert_forecasts(&forecasts).await?;
    c.snapshots_new = store
        .insert_market_snapshots(&snapshots)
        .await
        .context("storing market snapshots")?;
    Ok((
        c,
        Recording {
            events,
            trades,
            settled: highs,
        },
    ))
}

/// The tickers of an event's whole ladder when some of its markets never traded: Kalshi lists
/// 2 °F brackets (`-B<lo + 0.5>`) between a low tail `-T<first lo>` (≤ first lo − 1) and a high
/// tail `-T<last hi>` (≥ last hi + 1), so the missing ones can be named from those that did.
fn complete_ladder(event_ticker: &str, tickers: &[String]) -> Vec<String> {
    let strike = |kind: &str| -> Vec<f64> {
        tickers
            .iter()
            .filter_map(|t| t.rsplit_once(kind).and_then(|(_, v)| v.parse::<f64>().ok()))
            .collect()
    };
    let mut lows: Vec<i32> = strike("-B").iter().map(|v| v.floor() as i32).collect();
    lows.sort_unstable();
    let (Some(mut low), Some(last_lo)) = (lows.first().copied(), lows.last().copied()) else {
        return tickers.to_vec();
    };
    let mut high = last_lo + 2;
    for t in strike("-T") {
        let t = t as i32;
        if t <= low {
            low = t;
        } else if t > last_lo {
            high = high.max(t + 1);
        }
    }
    if (high - low) % 2 != 0 {
        return tickers.to_vec();
    }
    let mut out: Vec<String> = (0..(high - low) / 2)
        .map(|i| format!("{event_ticker}-B{}.5", low + 2 * i))
        .collect();
    out.push(format!("{event_ticker}-T{low}"));
    out.push(format!("{event_ticker}-T{}", high - 1));
    out
}

fn ticker_series(ticker: &str) -> &str {
    ticker.split('-').next().unwrap_or_default()
}

/// A price in cents (possibly fractional) as an exact price; `None` for 0 or 100 (no quote).
fn cents(v: f64) -> Option<Price> {
    let hundredths = (v * 100.0).round() as i64;
    Price::new(Decimal::new(hundredths, 4)).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_ladder_is_completed_from_the_markets_that_traded() {
        let t = |v: &[&str]| {
            v.iter()
                .map(|s| format!("HIGHNY-24APR03-{s}"))
                .collect::<Vec<_>>()
        };
        // the high tail never traded
        assert_eq!(
            complete_ladder("HIGHNY-24APR03", &t(&["T49", "B49.5", "B51.5", "B53.5"])),
            t(&["B49.5", "B51.5", "B53.5", "T49", "T54"])
        );
        // an inner bracket never traded
        assert_eq!(
            complete_ladder("HIGHNY-24APR03", &t(&["T71", "B73.5", "T74"])),
            t(&["B71.5", "B73.5", "T71", "T74"])
        );
    }
}
