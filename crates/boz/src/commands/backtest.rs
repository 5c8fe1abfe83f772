//! `boz backtest`: the live decision path replayed on the recorded markets under `--data` (see
//! `boz_engine::backtest` for the rules: no look-ahead, books rebuilt conservatively from the
//! recorded trades, fills and fees of the paper exchange, settlement on the recorded high).
//!
//! `--report DIR` writes `report.json` and `report.html` (P&L curve, calibration and model against
//! market charts, uPlot inlined, no network needed).
//!
//! The recording is imported exactly as `boz history import` does, into a scratch SQLite
//! database that is deleted afterwards (the configured database is never touched). The
//! settings are the configured ones (`DEFAULT_*` limits, `KELLY_FRACTION`, `MIN_PRICE`, ...) in
//! automatic mode, with `PAPER_STARTING_BALANCE` as the bankroll of each city. Days of the
//! reserved acceptance window (2025-01-01 to 2025-06-30) are left out unless
//! `--include-reserved` is given.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use boz_common::config::DatabaseUrl;
use boz_common::ports::MarketBracket;
use boz_common::schemas::{TradingMode, UserSettings};
use boz_common::{Count, Price};
use boz_engine::backtest::{
    Books, CityReport, Model, Options, Quote, QuoteLog, RecordedEvent, Tape, TapeTrade, run_city,
};
use boz_engine::history::Decision;
use boz_store::Database;
use boz_trading::config::TradingConfig;
use chrono::{Duration, NaiveDate};
use indicatif::{ProgressBar, ProgressStyle};
use rust_decimal::Decimal;
use serde::Serialize;

use crate::commands::history::{self, Recording};
use crate::setup;

/// Where a `--recorded` backtest's book comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum BookSource {
    /// Recorded quotes: market snapshots with both a bid and an ask.
    Quotes,
    /// Recorded trades (`market_trades`), rebuilt into a book conservatively.
    Trades,
}

pub struct Args<'a> {
    pub model: Model,
    /// Use the configured database's own recordings (market snapshots with bid and ask,
    /// forecasts as fetched, settled highs) instead of importing `data`.
    pub recorded: bool,
    pub book: BookSource,
    /// Quotes only from these snapshot sources (empty: all).
    pub quotes_from: &'a [String],
    /// `NAME=V1,V2,...` (min-ev, kelly, min-price, decision-hour): every combination is run.
    pub sweeps: &'a [String],
    pub codes: &'a [String],
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub data: &'a Path,
    pub report: Option<&'a Path>,
    pub json: bool,
    /// Decision hours of each day (local standard time).
    pub hours: Vec<u32>,
    pub days_before: i64,
    pub window_minutes: i64,
    pub include_reserved: bool,
}

#[derive(Serialize)]
struct Report<'a> {
    model: Model,
    from: NaiveDate,
    to: NaiveDate,
    decision_hours: Vec<u32>,
    days_before: i64,
    window_minutes: i64,
    bankroll: boz_common::Dollars,
    cities: &'a [CityReport],
}

fn tape(rec: &Recording) -> Result<Tape> {
    let mut trades = Vec::new();
    for (ticker, ts) in &rec.trades {
        for t in ts {
            let price = Price::new(Decimal::new(t.yes_price_cents, 2))
                .with_context(|| format!("trade of {ticker}: price {}", t.yes_price_cents))?;
            let count = Count::new(Decimal::from(t.count))
                .with_context(|| format!("trade of {ticker}: count {}", t.count))?;
            trades.push((
                ticker.clone(),
                TapeTrade {
                    at: t.created_time,
                    yes_price: price,
                    count,
                },
            ));
        }
    }
    Ok(Tape::new(trades))
}

fn events(rec: &Recording) -> Vec<RecordedEvent> {
    rec.events
        .values()
        .map(|e| RecordedEvent {
            event_ticker: e.event_ticker.clone(),
            date: e.date,
            brackets: e
                .brackets
                .iter()
                .map(|b| MarketBracket {
                    ticker: b.ticker.clone(),
                    lower_bound_f: b.lower_bound_f,
                    upper_bound_f: b.upper_bound_f,
                })
                .collect(),
            settled_high: rec.settled.get(&e.date).map(|h| h.round() as i32),
        })
        .collect()
}

pub async fn backtest(a: &Args<'_>) -> Result<()> {
    if a.from > a.to {
        anyhow::bail!("invalid range: --from {} is after --to {}", a.from, a.to);
    }
    let mut hours = a.hours.clone();
    hours.sort_unstable();
    hours.dedup();
    if hours.is_empty() || hours.iter().any(|h| *h > 23) || !(0..=2).contains(&a.days_before) {
        anyhow::bail!(
            "invalid decision: --decision-hour must be one or more hours 0-23 and --days-before 0-2"
        );
    }
    let decision = Decision {
        days_before: a.days_before,
        hour: hours[0],
    };
    if !(1..=24 * 60).contains(&a.window_minutes) {
        anyhow::bail!(
            "invalid --window-minutes {}: must be 1-1440",
            a.window_minutes
        );
    }
    if !a.recorded && !a.data.is_dir() {
        anyhow::bail!("--data {}: not a directory", a.data.display());
    }
    let settings = setup::settings()?;
    let cities = setup::cities(a.codes)?;
    let user: UserSettings = {
        let mut fields = settings.default_user_settings()?.into_fields();
        fields.trading_mode = TradingMode::Auto;
        fields.cities = cities.iter().map(|c| c.code()).collect();
        UserSettings::new(fields)?
    };
    let opts = Options {
        model: a.model,
        from: a.from,
        to: a.to,
        decision,
        hours: hours.clone(),
        window: Duration::minutes(a.window_minutes),
        settings: user,
        trading: TradingConfig::from_settings(&settings),
        bankroll: settings.paper_starting_balance,
    };
    let scratch = tempfile::tempdir().context("a scratch directory")?;
    let db = if a.recorded {
        setup::database(&settings).await?
    } else {
        Database::open(&DatabaseUrl::Sqlite {
            path: scratch.path().join("backtest.sqlite"),
        })
        .await?
    };
    db.migrate().await?;
    let store = db.store();
    let import = history::Options {
        dir: a.data,
        decision_hour: decision.hour,
        include_reserved: a.include_reserved,
    };
    let days = (a.to - a.from).num_days().max(0) as u64 + 1;
    let bar = if a.json {
        ProgressBar::hidden()
    } else {
        ProgressBar::new(days * cities.len() as u64)
    };
    bar.set_style(
        ProgressStyle::with_template("{prefix:>4} [{bar:30}] {pos}/{len} days {elapsed}")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    // every city's recording, imported once
    let mut recorded = Vec::new();
    for city in &cities {
        if a.recorded {
            let (events, books) =
                own_recordings(&store, city, a.from, a.to, a.book, a.quotes_from).await?;
            recorded.push((city.clone(), events, books));
        } else {
            let (_, rec) = history::import_city(&store, city, &import).await?;
            recorded.push((city.clone(), events(&rec), Books::Trades(tape(&rec)?)));
        }
    }
    if !a.sweeps.is_empty() {
        bar.finish_and_clear();
        let grid = sweep_grid(a.sweeps)?;
        let mut rows = Vec::new();
        for point in &grid {
            let mut o = opts.clone();
            point.apply(&mut o)?;
            let mut r = SweepRow::new(point);
            for (city, events, tape) in &recorded {
                r.add(&run_city(&store, city, events, tape, &o, &|_| {}).await?)?;
            }
            rows.push(r);
        }
        db.close().await;
        return print_sweep(&rows, a.json);
    }
    let mut reports = Vec::new();
    // the replay's own time (the import is not counted), on standard error only: the report
    // stays identical from run to run
    let (mut replay, mut decisions) = (std::time::Duration::ZERO, 0u64);
    for (city, events, tape) in &recorded {
        bar.set_prefix(city.code.clone());
        let progress = |n: u64| bar.inc(n);
        let started = std::time::Instant::now();
        let r = run_city(&store, city, events, tape, &opts, &progress).await?;
        replay += started.elapsed();
        decisions += u64::from(r.decisions);
        reports.push(r);
    }
    bar.finish_and_clear();
    if !a.json {
        eprintln!(
            "replayed {decisions} decisions in {:.3} s ({:.0} decisions/s)",
            replay.as_secs_f64(),
            decisions as f64 / replay.as_secs_f64().max(1e-9)
        );
    }
    db.close().await;
    let report = Report {
        model: a.model,
        from: a.from,
        to: a.to,
        decision_hours: hours.clone(),
        days_before: a.days_before,
        window_minutes: a.window_minutes,
        bankroll: opts.bankroll,
        cities: &reports,
    };
    if let Some(dir) = a.report {
        write_report(dir, &report)?;
    }
    if a.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print_summary(&report);
    }
    Ok(())
}

/// Contracts assumed on each side of a recorded quote without sizes (candles, REST snapshots
/// before depth was recorded).
pub const SIZE_UNKNOWN: u32 = 10;

/// The events, settled highs and book the running system recorded (or `boz backfill`
/// downloaded) for a city: quotes are market snapshots with both a bid and an ask, at their
/// time, sized from their depth when recorded; trades are `market_trades`.
async fn own_recordings(
    store: &std::sync::Arc<dyn boz_common::ports::Store>,
    city: &boz_common::city::City,
    from: NaiveDate,
    to: NaiveDate,
    book: BookSource,
    quotes_from: &[String],
) -> Result<(Vec<RecordedEvent>, Books)> {
    let code = city.code();
    let snaps = store.market_snapshots_between(&code, from, to).await?;
    let settled: std::collections::BTreeMap<NaiveDate, i32> = store
        .settlements_between(&code, from, to)
        .await?
        .into_iter()
        .map(|s| (s.settlement_date, s.actual_high_f.round() as i32))
        .collect();
    let mut events: std::collections::BTreeMap<String, RecordedEvent> = Default::default();
    let mut quotes = Vec::new();
    for sn in &snaps {
        let e = events
            .entry(sn.event_ticker.clone())
            .or_insert_with(|| RecordedEvent {
                event_ticker: sn.event_ticker.clone(),
                date: sn.event_date,
                brackets: Vec::new(),
                settled_high: settled.get(&sn.event_date).copied(),
            });
        if !e.brackets.iter().any(|b| b.ticker == sn.ticker) {
            e.brackets.push(MarketBracket {
                ticker: sn.ticker.clone(),
                lower_bound_f: sn.lower_bound_f,
                upper_bound_f: sn.upper_bound_f,
            });
        }
        let wanted = quotes_from.is_empty() || quotes_from.contains(&sn.source);
        if let (true, Some(bid), Some(ask)) = (wanted, sn.yes_bid, sn.yes_ask) {
            let size = sn
                .depth
                .as_ref()
                .map(|d| d.yes_bid_size.min(d.yes_ask_size))
                .unwrap_or(Count::whole(SIZE_UNKNOWN));
            quotes.push((
                sn.ticker.clone(),
                sn.as_of,
                Quote {
                    yes_bid: bid,
                    yes_ask: ask,
                    size,
                },
            ));
        }
    }
    let mut events: Vec<RecordedEvent> = events.into_values().collect();
    for e in &mut events {
        e.brackets.sort_by_key(|b| {
            (
                b.lower_bound_f.unwrap_or(i32::MIN),
                b.upper_bound_f.unwrap_or(i32::MAX),
            )
        });
    }
    let books = match book {
        BookSource::Quotes => Books::Quotes(QuoteLog::new(quotes)),
        BookSource::Trades => Books::Trades(Tape::new(
            store
                .market_trades_between(&code, from, to)
                .await?
                .into_iter()
                .map(|t| {
                    (
                        t.ticker,
                        TapeTrade {
                            at: t.created_time,
                            yes_price: t.yes_price,
                            count: t.count,
                        },
                    )
                }),
        )),
    };
    Ok((events, books))
}

/// `report.json` and `report.html` (the charts drawn by the vendored uPlot, inlined: the page
/// opens without a network).
fn write_report(dir: &Path, report: &Report<'_>) -> Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("--report {}", dir.display()))?;
    let json = serde_json::to_string_pretty(report)?;
    let path: PathBuf = dir.join("report.json");
    std::fs::write(&path, &json).with_context(|| format!("writing {}", path.display()))?;
    let mut env = minijinja::Environment::new();
    env.add_template(
        "backtest.html",
        include_str!("../../templates/backtest.html"),
    )?;
    let mut ctx = serde_json::to_value(report)?;
    // the JSON island must not close its script element early
    let island = serde_json::to_string(report)?.replace("</", "<\\/");
    if let Some(m) = ctx.as_object_mut() {
        m.insert("model".into(), report.model.label().into());
        m.insert("report".into(), island.into());
        m.insert("uplot_js".into(), boz_api::dashboard::UPLOT_JS.into());
        m.insert("uplot_css".into(), boz_api::dashboard::UPLOT_CSS.into());
    }
    let html = env.get_template("backtest.html")?.render(&ctx)?;
    let page = dir.join("report.html");
    std::fs::write(&page, html).with_context(|| format!("writing {}", page.display()))?;
    eprintln!("report: {} and {}", path.display(), page.display());
    Ok(())
}

fn print_summary(r: &Report<'_>) {
    println!(
        "backtest of the {} {}..{}: decisions at {} local standard time, {} day(s) before; books from the last {} min; bankroll ${} per city",
        r.model.label(),
        r.from,
        r.to,
        r.decision_hours
            .iter()
            .map(|h| format!("{h:02}:00"))
            .collect::<Vec<_>>()
            .join(", "),
        r.days_before,
        r.window_minutes,
        r.bankroll
    );
    println!(
        "{:<5} {:>9} {:>7} {:>6} {:>9} {:>8} {:>9} {:>8} {:>7} {:>9}",
        "city", "decisions", "trades", "hit", "P&L", "fees", "max DD", "Sharpe", "RPS", "mkt RPS"
    );
    for c in r.cities {
        // the scores of the day's first decision
        let s = r
            .decision_hours
            .first()
            .and_then(|h| c.scores.get(&format!("{}d {h:02}h", r.days_before)));
        let rps = |v: Option<f64>| v.map_or("-".to_string(), |x| format!("{x:.3}"));
        println!(
            "{:<5} {:>9} {:>7} {:>6} {:>9} {:>8} {:>9} {:>8} {:>7} {:>9}",
            c.city,
            c.decisions,
            c.trades.len(),
            c.hit_rate
                .map_or("-".to_string(), |h| format!("{:.0}%", h * 100.0)),
            format!("{}", c.pnl),
            format!("{}", c.fees),
            format!("{}", c.max_drawdown),
            c.sharpe.map_or("-".to_string(), |x| format!("{x:.2}")),
            rps(s.filter(|s| s.model.events > 0).map(|s| s.model.rps)),
            rps(s.filter(|s| s.market.events > 0).map(|s| s.market.rps)),
        );
        for (why, n) in &c.skipped {
            println!("      {n} decision(s) not taken: {why}");
        }
        for (at, state, why) in &c.state_changes {
            println!("      {at}: {} ({why})", state.as_str());
        }
    }
}

/// One combination of a sweep.
#[derive(Debug, Clone, Default, Serialize)]
struct Point {
    min_ev: Option<f64>,
    kelly: Option<f64>,
    min_price: Option<Price>,
    decision_hour: Option<u32>,
}

impl Point {
    fn apply(&self, o: &mut Options) -> Result<()> {
        if let Some(v) = self.min_ev {
            let mut f = o.settings.clone().into_fields();
            f.min_ev_threshold = v;
            o.settings = UserSettings::new(f)?;
        }
        if let Some(v) = self.kelly {
            o.trading.kelly_fraction = v;
        }
        if let Some(v) = self.min_price {
            o.trading.min_price = v;
        }
        if let Some(v) = self.decision_hour {
            o.decision.hour = v;
            o.hours = vec![v];
        }
        Ok(())
    }
}

/// Every combination of the `--sweep NAME=V1,V2,...` values.
fn sweep_grid(sweeps: &[String]) -> Result<Vec<Point>> {
    let mut grid = vec![Point::default()];
    for sw in sweeps {
        let (name, values) = sw
            .split_once('=')
            .with_context(|| format!("invalid --sweep {sw:?}: expected NAME=V1,V2,..."))?;
        let values: Vec<&str> = values
            .split(',')
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .collect();
        if values.is_empty() {
            anyhow::bail!("invalid --sweep {sw:?}: no values");
        }
        let mut next = Vec::new();
        for p in &grid {
            for v in &values {
                let bad = |why: &str| anyhow::anyhow!("invalid --sweep {name}={v}: {why}");
                let mut q = p.clone();
                match name {
                    "min-ev" => {
                        let x: f64 = v.parse().map_err(|_| bad("not a number"))?;
                        if !(0.0..1.0).contains(&x) {
                            return Err(bad("must be 0 to 1"));
                        }
                        q.min_ev = Some(x);
                    }
                    "kelly" => {
                        let x: f64 = v.parse().map_err(|_| bad("not a number"))?;
                        if !(x > 0.0 && x <= 1.0) {
                            return Err(bad("must be above 0 and at most 1"));
                        }
                        q.kelly = Some(x);
                    }
                    "min-price" => {
                        q.min_price = Some(Price::parse(v).map_err(|e| bad(&e.to_string()))?);
                    }
                    "decision-hour" => {
                        let h: u32 = v.parse().map_err(|_| bad("not an hour"))?;
                        if h > 23 {
                            return Err(bad("must be 0-23"));
                        }
                        q.decision_hour = Some(h);
                    }
                    other => anyhow::bail!(
                        "invalid --sweep {other}: the parameters are min-ev, kelly, min-price and decision-hour"
                    ),
                }
                next.push(q);
            }
        }
        grid = next;
    }
    if grid.len() > 500 {
        anyhow::bail!("the sweep has {} combinations: at most 500", grid.len());
    }
    Ok(grid)
}

/// The result of one combination over every city.
#[derive(Debug, Serialize)]
struct SweepRow {
    #[serde(flatten)]
    point: Point,
    trades: usize,
    wins: u32,
    losses: u32,
    pnl: boz_common::Dollars,
    fees: boz_common::Dollars,
    /// The worst city's.
    max_drawdown: boz_common::Dollars,
}

impl SweepRow {
    fn new(p: &Point) -> SweepRow {
        SweepRow {
            point: p.clone(),
            trades: 0,
            wins: 0,
            losses: 0,
            pnl: boz_common::Dollars::ZERO,
            fees: boz_common::Dollars::ZERO,
            max_drawdown: boz_common::Dollars::ZERO,
        }
    }

    fn add(&mut self, c: &CityReport) -> Result<()> {
        self.trades += c.trades.len();
        self.wins += c.wins;
        self.losses += c.losses;
        self.pnl = self.pnl.checked_add(c.pnl)?;
        self.fees = self.fees.checked_add(c.fees)?;
        self.max_drawdown = self.max_drawdown.max(c.max_drawdown);
        Ok(())
    }
}

const SWEEP_WARNING: &str = "The best row of a sweep is optimistic: it was picked after seeing \
    these very days, so expect less from it on days it has not seen.";

fn print_sweep(rows: &[SweepRow], json: bool) -> Result<()> {
    if json {
        println!(
            "{}",
            serde_json::to_string_pretty(
                &serde_json::json!({"rows": rows, "warning": SWEEP_WARNING})
            )?
        );
        return Ok(());
    }
    let show = |v: Option<String>| v.unwrap_or_else(|| "-".into());
    println!(
        "{:>7} {:>6} {:>9} {:>5} {:>7} {:>6} {:>9} {:>8} {:>9}",
        "min-ev", "kelly", "min-price", "hour", "trades", "hit", "P&L", "fees", "max DD"
    );
    for r in rows {
        let settled = r.wins + r.losses;
        println!(
            "{:>7} {:>6} {:>9} {:>5} {:>7} {:>6} {:>9} {:>8} {:>9}",
            show(r.point.min_ev.map(|v| v.to_string())),
            show(r.point.kelly.map(|v| v.to_string())),
            show(r.point.min_price.map(|v| v.to_string())),
            show(r.point.decision_hour.map(|v| v.to_string())),
            r.trades,
            if settled > 0 {
                format!("{:.0}%", f64::from(r.wins) * 100.0 / f64::from(settled))
            } else {
                "-".into()
            },
            r.pnl.to_string(),
            r.fees.to_string(),
            r.max_drawdown.to_string(),
        );
    }
    println!("warning: {SWEEP_WARNING}");
    Ok(())
}
