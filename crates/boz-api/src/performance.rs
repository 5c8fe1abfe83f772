//! `GET /api/performance?city=NYC&from=YYYY-MM-DD&to=YYYY-MM-DD`: how the signed-in user's
//! trading went, over the trades of events dated `from..=to` (default: all of them).
//!
//! - `totals` and `by_city`: settled trades, wins, losses, win rate, P&L (net of fees, as
//!   settlement books it) and the fees paid (from the trade's orders);
//! - `by_day`: P&L and fees per event date with the running total (the P&L curve);
//! - `scores`: over the settled trades, the Brier score and log loss of the model's probability
//!   of the side bought against those of the market's (the price paid), lower is better, and
//!   `model_minus_market` of each (negative: the model was the better forecaster);
//! - `calibration`: the model's probabilities of the sides bought in ten bins, each with its mean
//!   forecast and how often those sides won.
//!
//! Money is summed exactly (`Dollars`, sent as JSON numbers like every amount of the seed's
//! schemas); the scores are statistics and use `f64`.

use std::collections::{BTreeMap, HashMap};

use axum::Json;
use axum::extract::{Query, State};
use boz_common::money::Dollars;
use boz_common::ports::{StoredTrade, TradeFilter};
use boz_common::status::TradeStatus;
use boz_common::{BozError, CityCode};
use boz_trading::risk::trading_day;
use chrono::{Duration, NaiveDate};
use serde::{Deserialize, Serialize};

use crate::ApiState;
use crate::auth::Authed;
use crate::error::{ApiError, ApiResult};
use crate::params::{invalid, opt_city, opt_date};

/// Trades read from the store per page.
const PAGE: u32 = 200;
/// Probabilities are clipped to `[EPS, 1 - EPS]` for the log loss.
const EPS: f64 = 1e-6;

#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct PerformanceQuery {
    /// A city code (`NYC`); all cities when absent.
    pub city: Option<String>,
    /// First event date, `YYYY-MM-DD`.
    pub from: Option<String>,
    /// Last event date, `YYYY-MM-DD`.
    pub to: Option<String>,
}

/// Wins, losses, P&L and fees of a group of trades.
#[derive(Debug, Default, Clone, Serialize, utoipa::ToSchema)]
pub struct Tally {
    /// Settled trades (won or lost).
    pub trades: u32,
    pub wins: u32,
    pub losses: u32,
    /// `wins / trades`; null before the first settled trade.
    pub win_rate: Option<f64>,
    #[schema(value_type = f64, example = 12.34)]
    pub pnl: Dollars,
    #[schema(value_type = f64, example = 0.56)]
    pub fees: Dollars,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CityTally {
    pub city: String,
    #[serde(flatten)]
    pub tally: Tally,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct DayTally {
    pub date: NaiveDate,
    #[serde(flatten)]
    pub tally: Tally,
    /// The P&L of every day up to and including this one.
    #[schema(value_type = f64)]
    pub cumulative_pnl: Dollars,
}

#[derive(Debug, Default, Clone, Copy, Serialize, utoipa::ToSchema)]
pub struct Score {
    pub brier: f64,
    pub log_loss: f64,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Scores {
    /// Settled trades scored.
    pub trades: u32,
    pub model: Option<Score>,
    pub market: Option<Score>,
    pub model_minus_market: Option<Score>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CalibrationBin {
    pub from: f64,
    pub to: f64,
    pub count: u32,
    pub mean_forecast: Option<f64>,
    pub observed_frequency: Option<f64>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Performance {
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
    pub totals: Tally,
    pub by_day: Vec<DayTally>,
    pub by_city: Vec<CityTally>,
    pub scores: Scores,
    pub calibration: Vec<CalibrationBin>,
}

fn money(e: boz_common::money::FixedPointError) -> ApiError {
    ApiError(BozError::internal(format!("performance sum: {e}")))
}

impl Tally {
    fn add(&mut self, won: Option<bool>, pnl: Dollars, fees: Dollars) -> ApiResult<()> {
        if let Some(won) = won {
            self.trades += 1;
            if won {
                self.wins += 1;
            } else {
                self.losses += 1;
            }
            self.win_rate = Some(f64::from(self.wins) / f64::from(self.trades));
        }
        self.pnl = self.pnl.checked_add(pnl).map_err(money)?;
        self.fees = self.fees.checked_add(fees).map_err(money)?;
        Ok(())
    }
}

fn score(p: f64, won: bool) -> Score {
    let y = if won { 1.0 } else { 0.0 };
    let q = p.clamp(EPS, 1.0 - EPS);
    Score {
        brier: (p - y) * (p - y),
        log_loss: -(if won { q.ln() } else { (1.0 - q).ln() }),
    }
}

fn mean(sum: Score, n: u32) -> Option<Score> {
    (n > 0).then(|| Score {
        brier: sum.brier / f64::from(n),
        log_loss: sum.log_loss / f64::from(n),
    })
}

/// Every trade of the user matching `filter`, page by page.
async fn all_trades(
    state: &ApiState,
    user_id: &str,
    mut filter: TradeFilter,
) -> ApiResult<Vec<StoredTrade>> {
    let mut out = Vec::new();
    filter.limit = PAGE;
    loop {
        let page = state.store.list_trades(user_id, &filter).await?;
        let n = page.len();
        out.extend(page);
        if n < PAGE as usize {
            return Ok(out);
        }
        filter.offset += PAGE;
    }
}

/// The fees paid on each trade's orders, in one read: an order is kept under the trading day it
/// was placed, which is the trade's own or, for a trade approved later, the next one.
async fn fees_by_trade(
    state: &ApiState,
    user_id: &str,
    trades: &[StoredTrade],
) -> ApiResult<HashMap<String, Dollars>> {
    let days = trades.iter().map(|t| trading_day(t.record.created_at));
    let (Some(from), Some(to)) = (days.clone().min(), days.max()) else {
        return Ok(HashMap::new());
    };
    let mut fees: HashMap<String, Dollars> = HashMap::new();
    for o in state
        .store
        .user_orders_between(user_id, from, to + Duration::days(1))
        .await?
    {
        let f = fees.entry(o.trade_id.clone()).or_insert(Dollars::ZERO);
        *f = f.checked_add(o.fees).map_err(money)?;
    }
    Ok(fees)
}

/// The performance of one user's trades (also used by the dashboard).
pub async fn performance_of(
    state: &ApiState,
    user_id: &str,
    city: Option<CityCode>,
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
) -> ApiResult<Performance> {
    let filter = TradeFilter {
        city,
        from,
        to,
        ..TradeFilter::default()
    };
    let trades = all_trades(state, user_id, filter).await?;
    let fees = fees_by_trade(state, user_id, &trades).await?;

    let mut totals = Tally::default();
    let mut by_day: BTreeMap<NaiveDate, Tally> = BTreeMap::new();
    let mut by_city: BTreeMap<String, Tally> = BTreeMap::new();
    let (mut model, mut market, mut scored) = (Score::default(), Score::default(), 0u32);
    let mut bins = [(0u32, 0.0f64, 0u32); 10];
    for t in &trades {
        let r = &t.record;
        let won = match r.status {
            TradeStatus::Won => Some(true),
            TradeStatus::Lost => Some(false),
            _ => None,
        };
        let fee = fees.get(&r.id).copied().unwrap_or(Dollars::ZERO);
        let pnl = r.pnl.unwrap_or(Dollars::ZERO);
        totals.add(won, pnl, fee)?;
        by_day.entry(r.date).or_default().add(won, pnl, fee)?;
        by_city
            .entry(r.city.as_str().to_string())
            .or_default()
            .add(won, pnl, fee)?;
        if let Some(won) = won {
            scored += 1;
            let (m, k) = (
                score(r.model_probability, won),
                score(r.market_probability, won),
            );
            model.brier += m.brier;
            model.log_loss += m.log_loss;
            market.brier += k.brier;
            market.log_loss += k.log_loss;
            let bin = ((r.model_probability * 10.0).floor() as usize).min(9);
            bins[bin].0 += 1;
            bins[bin].1 += r.model_probability;
            bins[bin].2 += u32::from(won);
        }
    }
    let (model, market) = (mean(model, scored), mean(market, scored));
    let mut cumulative = Dollars::ZERO;
    let mut days = Vec::with_capacity(by_day.len());
    for (date, tally) in by_day {
        cumulative = cumulative.checked_add(tally.pnl).map_err(money)?;
        days.push(DayTally {
            date,
            tally,
            cumulative_pnl: cumulative,
        });
    }
    Ok(Performance {
        from,
        to,
        totals,
        by_day: days,
        by_city: by_city
            .into_iter()
            .map(|(city, tally)| CityTally { city, tally })
            .collect(),
        scores: Scores {
            trades: scored,
            model,
            market,
            model_minus_market: model.zip(market).map(|(a, b)| Score {
                brier: a.brier - b.brier,
                log_loss: a.log_loss - b.log_loss,
            }),
        },
        calibration: bins
            .iter()
            .enumerate()
            .map(|(i, (n, p, w))| CalibrationBin {
                from: i as f64 / 10.0,
                to: (i + 1) as f64 / 10.0,
                count: *n,
                mean_forecast: (*n > 0).then(|| p / f64::from(*n)),
                observed_frequency: (*n > 0).then(|| f64::from(*w) / f64::from(*n)),
            })
            .collect(),
    })
}

/// `GET /api/performance`.
#[utoipa::path(get, path = "/api/performance", tag = "performance", params(PerformanceQuery),
    responses((status = 200, body = Performance), (status = 401), (status = 422)))]
pub async fn performance(
    State(state): State<ApiState>,
    authed: Authed,
    Query(q): Query<PerformanceQuery>,
) -> ApiResult<Json<Performance>> {
    let city = opt_city(q.city.as_deref())?;
    let from = opt_date("from", q.from.as_deref())?;
    let to = opt_date("to", q.to.as_deref())?;
    if let (Some(f), Some(t)) = (from, to)
        && f > t
    {
        return Err(invalid("from", format!("{f} is after to ({t})")));
    }
    Ok(Json(
        performance_of(&state, &authed.user_id, city, from, to).await?,
    ))
}
