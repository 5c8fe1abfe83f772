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
use boz_engine::backtest::{CityReport, Model, Options, RecordedEvent, Tape, TapeTrade, run_city};
use boz_engine::history::Decision;
use boz_store::Database;
use boz_trading::config::TradingConfig;
use chrono::{Duration, NaiveDate};
use indicatif::{ProgressBar, ProgressStyle};
use rust_decimal::Decimal;
use serde::Serialize;

use crate::commands::history::{self, Recording};
use crate::setup;

pub struct Args<'a> {
    pub model: Model,
    pub codes: &'a [String],
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub data: &'a Path,
    pub report: Option<&'a Path>,
    pub json: bool,
    pub decision: Decision,
    pub window_minutes: i64,
    pub include_reserved: bool,
}

#[derive(Serialize)]
struct Report<'a> {
    model: Model,
    from: NaiveDate,
    to: NaiveDate,
    decision_hour: u32,
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
    if a.decision.hour > 23 || !(0..=2).contains(&a.decision.days_before) {
        anyhow::bail!("invalid decision: --decision-hour must be 0-23 and --days-before 0-2");
    }
    if !(1..=24 * 60).contains(&a.window_minutes) {
        anyhow::bail!(
            "invalid --window-minutes {}: must be 1-1440",
            a.window_minutes
        );
    }
    if !a.data.is_dir() {
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
        decision: a.decision,
        window: Duration::minutes(a.window_minutes),
        settings: user,
        trading: TradingConfig::from_settings(&settings),
        bankroll: settings.paper_starting_balance,
    };
    let scratch = tempfile::tempdir().context("a scratch directory")?;
    let db = Database::open(&DatabaseUrl::Sqlite {
        path: scratch.path().join("backtest.sqlite"),
    })
    .await?;
    db.migrate().await?;
    let store = db.store();
    let import = history::Options {
        dir: a.data,
        decision_hour: a.decision.hour,
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
    let mut reports = Vec::new();
    // the replay's own time (the import is not counted), on standard error only: the report
    // stays identical from run to run
    let (mut replay, mut decisions) = (std::time::Duration::ZERO, 0u64);
    for city in &cities {
        bar.set_prefix(city.code.clone());
        let (_, rec) = history::import_city(&store, city, &import).await?;
        let tape = tape(&rec)?;
        let events = events(&rec);
        let progress = |n: u64| bar.inc(n);
        let started = std::time::Instant::now();
        let r = run_city(&store, city, &events, &tape, &opts, &progress).await?;
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
        decision_hour: a.decision.hour,
        days_before: a.decision.days_before,
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
        let model = match report.model {
            Model::Model => "model",
            Model::Original => "original design",
        };
        m.insert("model".into(), model.into());
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
        "backtest of the {} {}..{}: decisions at {:02}:00 local standard time, {} day(s) before; books from the trades of the last {} min; bankroll ${} per city",
        match r.model {
            Model::Model => "model",
            Model::Original => "original design",
        },
        r.from,
        r.to,
        r.decision_hour,
        r.days_before,
        r.window_minutes,
        r.bankroll
    );
    println!(
        "{:<5} {:>9} {:>7} {:>6} {:>9} {:>8} {:>9} {:>8} {:>7} {:>9}",
        "city", "decisions", "trades", "hit", "P&L", "fees", "max DD", "Sharpe", "RPS", "mkt RPS"
    );
    for c in r.cities {
        let s = c.scores.get(&r.days_before);
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
            println!("      {n} day(s) not decided: {why}");
        }
        for (at, state, why) in &c.state_changes {
            println!("      {at}: {} ({why})", state.as_str());
        }
    }
}
