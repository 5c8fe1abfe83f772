//! Stored history as the model's input: every forecast and settled high of a city (and, for
//! scoring the market, its market snapshots), grouped into climate days for training and replay
//! (`boz score`, `boz predict`, the predict job and the backtest use the same reading).

use std::collections::BTreeMap;
use std::sync::Arc;

use boz_common::city::City;
use boz_common::ports::{MarketSnapshot, Store};
use boz_kalshi::market::bracket_label;
use boz_model::BracketSpec;
use boz_model::Candidate;
use boz_model::climatology::Climatology;
use boz_model::evaluation::{DayInput, Replay};
use boz_model::ladder::check_ladder;
use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::prelude::ToPrimitive;
use serde_json::Value;

use crate::Result;

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

/// Every forecast and settled high stored for a city up to `to`, as replay input (what
/// training and prediction read), and the climatology of its settled highs.
pub async fn day_inputs(
    store: &Arc<dyn Store>,
    city: &City,
    to: NaiveDate,
) -> Result<(Vec<DayInput>, Climatology)> {
    let (days, climatology) = read_days(store, city, to).await?;
    Ok((days.into_values().collect(), climatology))
}

/// [`day_inputs`] with each day's ladder and market prices at its decision from the stored
/// market snapshots, for scoring the market beside the model (`boz score`). Only this reads
/// the snapshots: they grow by every recorded quote, and nothing else needs them.
pub async fn day_inputs_with_market(
    store: &Arc<dyn Store>,
    city: &City,
    to: NaiveDate,
    decision: Decision,
) -> Result<(Vec<DayInput>, Climatology)> {
    let (mut days, climatology) = read_days(store, city, to).await?;
    let snaps = store
        .market_snapshots_between(&city.code(), EARLIEST, to)
        .await?;
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

/// Before any record (and inside every backend's date range).
const EARLIEST: NaiveDate = match NaiveDate::from_ymd_opt(1900, 1, 1) {
    Some(d) => d,
    None => NaiveDate::MIN,
};

async fn read_days(
    store: &Arc<dyn Store>,
    city: &City,
    to: NaiveDate,
) -> Result<(BTreeMap<NaiveDate, DayInput>, Climatology)> {
    let code = city.code();
    let mut days: BTreeMap<NaiveDate, DayInput> = BTreeMap::new();
    for f in store.forecasts_between(&code, EARLIEST, to).await? {
        let w = &f.data;
        day(&mut days, w.date).candidates.push(Candidate {
            source: w.source.clone(),
            high_f: w.forecast_high_f,
            fetched_at: w.fetched_at,
            model_run: w.model_run_timestamp,
            member_spread_f: w.raw_data.get("spread_f").and_then(Value::as_f64),
        });
    }
    let settled = store.settlements_between(&code, EARLIEST, to).await?;
    let climatology = Climatology::new(
        settled
            .iter()
            .map(|s| (s.settlement_date, s.actual_high_f.round() as i32)),
    );
    for s in &settled {
        day(&mut days, s.settlement_date).actual = Some(s.actual_high_f.round() as i32);
    }
    Ok((days, climatology))
}
