//! `boz score`: the model, the original design, climatology and the market scored on the
//! stored history (forecasts, settled highs and market snapshots), with a rolling,
//! out-of-sample replay (see `boz_model::evaluation`).

use std::collections::BTreeMap;
use std::sync::Arc;

use anyhow::Result;
use boz_common::city::City;
use boz_common::ports::{MarketSnapshot, Store};
use boz_kalshi::market::bracket_label;
use boz_model::climatology::Climatology;
use boz_model::evaluation::{DayInput, Replay, Report, Window, evaluate};
use boz_model::ladder::check_ladder;
use boz_model::{BracketSpec, Candidate, Predictor};
use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::prelude::ToPrimitive;
use serde_json::Value;

use crate::setup;

/// When the replayed decisions are taken: `hour`:00 local standard time, `days_before` the day.
#[derive(Debug, Clone, Copy)]
pub struct Decision {
    pub days_before: i64,
    pub hour: u32,
}

impl Decision {
    /// The decision instant for a climate day (the replay's own rule).
    pub fn at(&self, city: &City, date: NaiveDate) -> DateTime<Utc> {
        Replay::new(city, self.days_before, self.hour).decision_at(date)
    }
}

/// One event's brackets as stored, and their prices at a decision.
pub struct EventPrices {
    pub ladder: Vec<BracketSpec>,
    /// Every bracket's price, when each had one at the decision.
    pub prices: Option<Vec<f64>>,
}

/// One market's bounds and its latest price at the decision: (time, quoted, price).
struct Market {
    lower: Option<i32>,
    upper: Option<i32>,
    latest: Option<(DateTime<Utc>, bool, f64)>,
}

/// The ladder of one event from its snapshots, and the price of every bracket at the decision
/// (the latest snapshot at or before it: the bid/ask mid when both exist, else the last trade).
pub fn ladder_and_prices(
    snaps: &[&MarketSnapshot],
    decision: Option<DateTime<Utc>>,
) -> Option<EventPrices> {
    let mut by_ticker: BTreeMap<&str, Market> = BTreeMap::new();
    for s in snaps {
        let e = by_ticker.entry(&s.ticker).or_insert(Market {
            lower: s.lower_bound_f,
            upper: s.upper_bound_f,
            latest: None,
        });
        if decision.is_some_and(|d| s.as_of <= d)
            && let Some(p) = s.mid_or_last().and_then(|p| p.to_f64())
        {
            let quoted = s.yes_bid.is_some() && s.yes_ask.is_some();
            if e.latest.is_none_or(|(t, q, _)| (s.as_of, quoted) > (t, q)) {
                e.latest = Some((s.as_of, quoted, p));
            }
        }
    }
    let mut markets: Vec<Market> = by_ticker.into_values().collect();
    markets.sort_by_key(|m| (m.lower.unwrap_or(i32::MIN), m.upper.unwrap_or(i32::MAX)));
    let ladder: Vec<BracketSpec> = markets
        .iter()
        .map(|m| BracketSpec::new(bracket_label(m.lower, m.upper), m.lower, m.upper))
        .collect();
    check_ladder(&ladder).ok()?;
    let prices = markets.iter().map(|m| m.latest.map(|l| l.2)).collect();
    Some(EventPrices { ladder, prices })
}

/// The input of a climate day, created empty on first use.
fn day(days: &mut BTreeMap<NaiveDate, DayInput>, date: NaiveDate) -> &mut DayInput {
    days.entry(date).or_insert_with(|| DayInput {
        date,
        ..DayInput::default()
    })
}

/// Everything stored for a city up to `to`, as replay input, and the climatology of its
/// settled highs.
pub async fn day_inputs(
    store: &Arc<dyn Store>,
    city: &City,
    to: NaiveDate,
    decision: Decision,
) -> Result<(Vec<DayInput>, Climatology)> {
    // before any record (and inside every backend's date range)
    let from = NaiveDate::from_ymd_opt(1900, 1, 1).unwrap_or_default();
    let code = city.code();
    let mut days: BTreeMap<NaiveDate, DayInput> = BTreeMap::new();
    for f in store.forecasts_between(&code, from, to).await? {
        let w = &f.data;
        day(&mut days, w.date).candidates.push(Candidate {
            source: w.source.clone(),
            high_f: w.forecast_high_f,
            fetched_at: w.fetched_at,
            model_run: w.model_run_timestamp,
            member_spread_f: w.raw_data.get("spread_f").and_then(Value::as_f64),
        });
    }
    let settled = store.settlements_between(&code, from, to).await?;
    let climatology = Climatology::new(
        settled
            .iter()
            .map(|s| (s.settlement_date, s.actual_high_f.round() as i32)),
    );
    for s in &settled {
        day(&mut days, s.settlement_date).actual = Some(s.actual_high_f.round() as i32);
    }
    let snaps = store.market_snapshots_between(&code, from, to).await?;
    let mut events: BTreeMap<(NaiveDate, &str), Vec<&MarketSnapshot>> = BTreeMap::new();
    for s in &snaps {
        events
            .entry((s.event_date, &s.event_ticker))
            .or_default()
            .push(s);
    }
    // one event per day: the one with the most snapshots
    let mut best: BTreeMap<NaiveDate, Vec<&MarketSnapshot>> = BTreeMap::new();
    for ((date, _), v) in events {
        if best.get(&date).is_none_or(|b| v.len() > b.len()) {
            best.insert(date, v);
        }
    }
    for (date, v) in best {
        if let Some(e) = ladder_and_prices(&v, Some(decision.at(city, date))) {
            let d = day(&mut days, date);
            d.ladder = Some(e.ladder);
            d.market_prices = e.prices;
        }
    }
    Ok((days.into_values().collect(), climatology))
}

pub async fn score(
    codes: &[String],
    from: NaiveDate,
    to: NaiveDate,
    decision: Decision,
    json: bool,
) -> Result<()> {
    if from > to {
        anyhow::bail!("invalid range: --from {from} is after --to {to}");
    }
    if decision.hour > 23 || !(0..=2).contains(&decision.days_before) {
        anyhow::bail!("invalid decision: --decision-hour must be 0-23 and --days-before 0-2");
    }
    let settings = setup::settings()?;
    let cities = setup::cities(codes)?;
    let db = setup::database(&settings).await?;
    db.migrate().await?;
    let store = db.store();
    let mut reports = Vec::new();
    for city in &cities {
        let (days, climatology) = day_inputs(&store, city, to, decision).await?;
        let mut predictor = Predictor::default();
        let window = Window {
            from,
            to,
            days_before: decision.days_before,
            decision_hour: decision.hour,
        };
        reports.push(evaluate(city, &mut predictor, &days, &climatology, window)?);
    }
    db.close().await;
    if json {
        println!("{}", serde_json::to_string_pretty(&reports)?);
    } else {
        for r in &reports {
            print_report(r, decision);
        }
    }
    Ok(())
}

fn print_report(r: &Report, d: Decision) {
    let Some(w) = r.window else { return };
    println!(
        "{} {}..{}: decision at {:02}:00 local standard time, {} day(s) before; {} events with a settled high and brackets, {} not predicted",
        r.city, w.from, w.to, d.hour, d.days_before, r.events, r.unpredicted
    );
    for reason in &r.unpredicted_reasons {
        println!("  not predicted: {reason}");
    }
    println!(
        "  {:<28} {:>6} {:>8} {:>8} {:>9}",
        "forecaster", "events", "RPS", "Brier", "log loss"
    );
    let row = |name: &str, s: &boz_model::scoring::ScoreSummary| {
        println!(
            "  {:<28} {:>6} {:>8.4} {:>8.4} {:>9.4}",
            name, s.events, s.rps, s.brier, s.log_loss
        );
    };
    println!("  on the events the model predicted:");
    row("model", &r.model.scores);
    row("original design (σ 3, raw)", &r.baseline);
    row("climatology", &r.climatology);
    println!("  on those of them with a price for every bracket at the decision:");
    row("model", &r.market_vs_model.model);
    row("market (normalised prices)", &r.market_vs_model.market);
    println!("  on every event:");
    row("climatology", &r.all_events.climatology);
    row("market (normalised prices)", &r.all_events.market);
    let c = &r.continuous;
    println!(
        "  continuous forecast on {} settled days: MAE {:.2} °F, CRPS {:.3} °F, mean σ {:.2} °F; coverage 50% {:.3}, 80% {:.3}, 90% {:.3}",
        c.days, c.mae_f, c.crps, c.mean_sigma_f, c.coverage_50, c.coverage_80, c.coverage_90
    );
    println!("  PIT histogram (10 bins): {:?}", c.pit_histogram);
    println!("  model log losses clipped: {}", r.model.scores.clipped);
    println!("  reliability (every bracket of every predicted event):");
    for b in r.model.reliability.iter().filter(|b| b.count > 0) {
        println!(
            "    forecast {:.1}-{:.1}: {:>5} brackets, mean forecast {:.3}, observed {:.3}",
            b.from, b.to, b.count, b.mean_forecast, b.observed_frequency
        );
    }
}
