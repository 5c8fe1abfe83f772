//! `boz history import-book-logs`: a peer bot's top-of-book logs (see
//! `boz_history::book_logs`) into `market_snapshots` (source `jetpackjules-book-log`), so that
//! `boz backtest --recorded` trades against the quotes the market actually showed.
//!
//! - Time: each row's local timestamp read in `--zone` (US Pacific for these logs).
//! - Markets: the event of each file from its tickers, by the market model (the file lists
//!   every bracket of the event, so the ladder is whole); the city from the series. A series
//!   no configured city trades is skipped and named.
//! - The logger wrote a market's row only when its top of book changed, so a quote stands until
//!   the market's next row: backtest these with a wide `--window-minutes` (the newest quote at
//!   or before each decision within the window is the one used; 1440 takes the standing quote
//!   of the last day). No row is made up in between.
//! - Every file is read and checked before anything is stored, so a malformed row (named by
//!   file, row and column) changes nothing; a second import adds nothing.
//! - Sizes are not in the logs: a backtest assumes its `SIZE_UNKNOWN` contracts a side.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use anyhow::{Context, Result};
use boz_common::Price;
use boz_common::ports::MarketSnapshot;
use boz_history::book_logs::read_book_log;
use boz_history::is_reserved;
use boz_kalshi::market::{city_of_series, event_from_tickers};
use rust_decimal::Decimal;

use crate::setup;

pub const SOURCE: &str = "jetpackjules-book-log";

pub struct Args<'a> {
    pub dir: &'a Path,
    pub zone: &'a str,
    pub include_reserved: bool,
}

fn price(cents: Option<i64>) -> Option<Price> {
    cents.and_then(|c| Price::new(Decimal::new(c, 2)).ok())
}

pub async fn import(a: &Args<'_>) -> Result<()> {
    let zone: chrono_tz::Tz = a
        .zone
        .parse()
        .map_err(|e| anyhow::anyhow!("invalid --zone {:?}: {e}", a.zone))?;
    let mut files: Vec<_> = std::fs::read_dir(a.dir)
        .with_context(|| format!("--dir {}", a.dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.file_name().and_then(|n| n.to_str()).is_some_and(|n| {
                n.starts_with("market_data_") && (n.ends_with(".csv") || n.ends_with(".csv.gz"))
            })
        })
        .collect();
    files.sort();
    if files.is_empty() {
        anyhow::bail!(
            "--dir {}: no market_data_<EVENT>.csv(.gz) files",
            a.dir.display()
        );
    }
    let settings = setup::settings()?;
    let cities = setup::cities(&[])?;
    let mut snapshots = Vec::new();
    let (mut rows, mut skipped, mut reserved) = (0usize, Vec::new(), 0usize);
    let mut per_city: BTreeMap<String, (usize, usize)> = BTreeMap::new();
    for path in &files {
        let log = read_book_log(path, zone)?;
        rows += log.len();
        let mut tickers: Vec<&str> = log.iter().map(|r| r.ticker.as_str()).collect();
        tickers.sort_unstable();
        tickers.dedup();
        let Some((event_ticker, _)) = tickers.first().and_then(|t| t.rsplit_once('-')) else {
            continue;
        };
        let name = path.display();
        if let Some(other) = tickers
            .iter()
            .find(|t| !t.starts_with(&format!("{event_ticker}-")))
        {
            anyhow::bail!("{name}: markets of two events ({event_ticker} and {other})");
        }
        let series = event_ticker.split('-').next().unwrap_or_default();
        let Some(city) =
            city_of_series(series).and_then(|code| cities.iter().find(|c| c.code == code.as_str()))
        else {
            skipped.push(format!(
                "{name}: series {series} is not a configured city's"
            ));
            continue;
        };
        let event = event_from_tickers(event_ticker, &tickers)
            .with_context(|| format!("{name}: event {event_ticker}"))?;
        if !a.include_reserved && is_reserved(event.date) {
            reserved += 1;
            continue;
        }
        let bounds: HashMap<&str, (Option<i32>, Option<i32>)> = event
            .brackets
            .iter()
            .map(|b| (b.ticker.as_str(), (b.lower_bound_f, b.upper_bound_f)))
            .collect();
        let kept = log.len();
        for r in &log {
            let (lower_bound_f, upper_bound_f) =
                bounds.get(r.ticker.as_str()).copied().unwrap_or_default();
            snapshots.push(MarketSnapshot {
                city: city.code(),
                event_date: event.date,
                event_ticker: event.event_ticker.clone(),
                ticker: r.ticker.clone(),
                lower_bound_f,
                upper_bound_f,
                as_of: r.at,
                yes_bid: price(r.yes_bid_cents),
                yes_ask: price(r.yes_ask_cents),
                last_price: None,
                volume: None,
                source: SOURCE.into(),
                depth: None,
            });
        }
        let e = per_city.entry(city.code.clone()).or_default();
        e.0 += 1;
        e.1 += kept;
    }
    let db = setup::database(&settings).await?;
    db.migrate().await?;
    let stored = db
        .store()
        .insert_market_snapshots(&snapshots)
        .await
        .context("storing the book logs' quotes")?;
    db.close().await;
    println!(
        "{} files, {rows} rows read in {}; {} quotes, {stored} new",
        files.len(),
        a.zone,
        snapshots.len()
    );
    for (city, (events, kept)) in &per_city {
        println!("  {city}: {events} events, {kept} quotes");
    }
    if reserved > 0 {
        println!("  files in the reserved window 2025-01-01..2025-06-30 skipped: {reserved}");
    }
    for s in &skipped {
        println!("  skipped {s}");
    }
    Ok(())
}
