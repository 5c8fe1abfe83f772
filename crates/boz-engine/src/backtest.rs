//! The backtest: the live decision path replayed on recorded markets, with no look-ahead.
//!
//! For each climate day of a city in `from..=to`, at its decision time (the replay's rule:
//! `hour`:00 local standard time, `days_before` the day):
//! - the model predicts from the forecasts fetched at or before the decision (the replay's
//!   selection; later ones are never seen) after learning every day settled before it;
//! - each market's book is the newest recorded quote of the last `window` before the decision
//!   ([`Books::Quotes`]), or is rebuilt from the recorded trades of that window
//!   ([`Books::Trades`]), conservatively: the YES ask is the highest price traded in the window,
//!   the YES bid the lowest, and the size on each side half the contracts traded (rounded down).
//!   A market with nothing in the window has no book; a buy from trades never gets a better price
//!   than one actually traded;
//! - the trading engine's own judgement runs ([`boz_trading::engine::Judge`]: EV after fees,
//!   Kelly sizing, the minimum price, the risk assessment of the day's in-memory accounting), and
//!   each tradeable candidate is sent as an immediate-or-cancel order to a [`PaperExchange`]
//!   holding the reconstructed book (its fills, ticks and fees are the live paper venue's);
//! - the event settles on its recorded high the next morning (08:00 local standard time), through
//!   the paper exchange, before any later decision.
//!
//! Everything is in date and ticker order with the decision time as the clock: identical inputs
//! give identical reports.

use std::collections::BTreeMap;
use std::sync::Arc;

use boz_common::city::City;
use boz_common::fees::FeeSchedule;
use boz_common::ports::{
    Clock, Exchange, ManualClock, MarketBracket, MarketEvent, OrderRequest, RiskStatus, Store,
    TimeInForce, TopOfBook, TradingState,
};
use boz_common::schemas::{BracketPrediction, Side, UserSettings};
use boz_common::status::TradeStatus;
use boz_common::{Count, Dollars, Price};
use boz_kalshi::book::OrderBook;
use boz_kalshi::market::bracket_label;
use boz_kalshi::paper::PaperExchange;
use boz_model::Predictor;
use boz_model::baseline::{BASELINE_SIGMA_F, original_design};
use boz_model::evaluation::Replay;
use boz_model::ladder::{BracketSpec, outcome_index};
use boz_model::market::normalise;
use boz_model::predictor::Request;
use boz_model::scoring::{Reliability, ReliabilityBin, ScoreSummary};
use boz_settle::settlement::outcome;
use boz_trading::config::TradingConfig;
use boz_trading::engine::Judge;
use boz_trading::risk::{assess, trading_day};
use chrono::{DateTime, Duration, NaiveDate, NaiveTime, Utc};
use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;
use serde::Serialize;
use statrs::statistics::Statistics;

use crate::history::{Decision, day_inputs};
use crate::{EngineError, Result};

/// The user id of the simulated account.
pub const BACKTEST_USER: &str = "backtest";
/// Local standard hour of the morning after an event at which it settles.
pub const SETTLE_HOUR: u32 = 8;

/// One recorded trade of a market.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TapeTrade {
    pub at: DateTime<Utc>,
    pub yes_price: Price,
    pub count: Count,
}

/// Every recorded trade, by market, in time order.
#[derive(Debug, Clone, Default)]
pub struct Tape(BTreeMap<String, Vec<TapeTrade>>);

/// A market's reconstructed top of book at a decision.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Quote {
    pub yes_bid: Price,
    pub yes_ask: Price,
    /// Contracts on each side.
    pub size: Count,
}

impl Quote {
    /// The middle of bid and ask (a probability, for scoring only).
    pub fn mid(&self) -> f64 {
        ((self.yes_bid.as_decimal() + self.yes_ask.as_decimal()) / Decimal::TWO)
            .to_f64()
            .unwrap_or(f64::NAN)
    }
}

impl Tape {
    pub fn new(trades: impl IntoIterator<Item = (String, TapeTrade)>) -> Tape {
        let mut by: BTreeMap<String, Vec<TapeTrade>> = BTreeMap::new();
        for (ticker, t) in trades {
            by.entry(ticker).or_default().push(t);
        }
        for v in by.values_mut() {
            v.sort_by_key(|t| (t.at, t.yes_price, t.count));
        }
        Tape(by)
    }

    /// The conservative quote of `ticker` at `at` from the trades in `(at - window, at]`.
    pub fn quote(&self, ticker: &str, at: DateTime<Utc>, window: Duration) -> Option<Quote> {
        let trades = self.0.get(ticker)?;
        let start = trades.partition_point(|t| t.at <= at - window);
        let end = trades.partition_point(|t| t.at <= at);
        let seen = trades.get(start..end).filter(|s| !s.is_empty())?;
        let yes_ask = seen.iter().map(|t| t.yes_price).max()?;
        let yes_bid = seen.iter().map(|t| t.yes_price).min()?;
        let traded: Decimal = seen.iter().map(|t| t.count.as_decimal()).sum();
        let size = Count::new((traded / Decimal::TWO).floor()).ok()?;
        Some(Quote {
            yes_bid,
            yes_ask,
            size,
        })
    }
}

/// Top-of-book quotes as recorded (bid and ask of YES), by market, in time order.
#[derive(Debug, Clone, Default)]
pub struct QuoteLog(BTreeMap<String, Vec<(DateTime<Utc>, Quote)>>);

impl QuoteLog {
    pub fn new(quotes: impl IntoIterator<Item = (String, DateTime<Utc>, Quote)>) -> QuoteLog {
        let mut by: BTreeMap<String, Vec<(DateTime<Utc>, Quote)>> = BTreeMap::new();
        for (ticker, at, q) in quotes {
            by.entry(ticker).or_default().push((at, q));
        }
        for v in by.values_mut() {
            v.sort_by_key(|(at, q)| (*at, q.yes_bid, q.yes_ask, q.size));
        }
        QuoteLog(by)
    }

    /// The newest quote of `ticker` in `(at - window, at]`.
    pub fn quote(&self, ticker: &str, at: DateTime<Utc>, window: Duration) -> Option<Quote> {
        let quotes = self.0.get(ticker)?;
        let end = quotes.partition_point(|(t, _)| *t <= at);
        let (t, q) = quotes.get(end.checked_sub(1)?)?;
        (*t > at - window).then_some(*q)
    }
}

/// Where the books at a decision come from.
#[derive(Debug, Clone)]
pub enum Books {
    /// Rebuilt from recorded trades ([`Tape::quote`]).
    Trades(Tape),
    /// Recorded quotes ([`QuoteLog::quote`]).
    Quotes(QuoteLog),
}

impl Books {
    pub fn quote(&self, ticker: &str, at: DateTime<Utc>, window: Duration) -> Option<Quote> {
        match self {
            Books::Trades(t) => t.quote(ticker, at, window),
            Books::Quotes(q) => q.quote(ticker, at, window),
        }
    }
}

/// A recorded event: its markets and the high it settled on (`None`: not settled).
#[derive(Debug, Clone, PartialEq)]
pub struct RecordedEvent {
    pub event_ticker: String,
    pub date: NaiveDate,
    pub brackets: Vec<MarketBracket>,
    pub settled_high: Option<i32>,
}

/// The forecaster whose probabilities are traded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Model {
    /// The model `boz predict` uses.
    Model,
    /// The original design (raw forecast average, σ 3 °F Gaussian, bounds without the
    /// half-degree correction), as a baseline.
    Original,
}

impl Model {
    /// Its name in reports.
    pub fn label(self) -> &'static str {
        match self {
            Model::Model => "model",
            Model::Original => "original design",
        }
    }
}

/// What a backtest runs with.
#[derive(Debug, Clone)]
pub struct Options {
    pub model: Model,
    pub from: NaiveDate,
    pub to: NaiveDate,
    /// The first decision of each day (its hour is `hours[0]`); the learning follows it.
    pub decision: Decision,
    /// Every decision hour of a day (local standard time, `decision.days_before` the day),
    /// ascending; the first is `decision.hour`.
    pub hours: Vec<u32>,
    /// How far back the trades that make a book reach.
    pub window: Duration,
    pub settings: UserSettings,
    pub trading: TradingConfig,
    pub bankroll: Dollars,
}

/// One filled order and how it ended.
#[derive(Debug, Clone, Serialize)]
pub struct BacktestTrade {
    pub decision_at: DateTime<Utc>,
    pub date: NaiveDate,
    pub ticker: String,
    pub bracket: String,
    pub side: Side,
    pub price: Price,
    pub contracts: Count,
    pub fee: Dollars,
    pub model_probability: f64,
    /// The executable price of the side bought, as a probability.
    pub market_probability: f64,
    pub ev: f64,
    pub won: Option<bool>,
    /// Payout − cost − fee (`None` until settled).
    pub pnl: Option<Dollars>,
}

/// Scores of one forecaster over the decided events.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Scores {
    pub model: ScoreSummary,
    /// The normalised mids of the reconstructed books, on the events where every bracket had one.
    pub market: ScoreSummary,
    /// The model on the same events as `market`.
    pub model_on_market_events: ScoreSummary,
}

/// One day's realised P&L (by settlement date) and the running total.
#[derive(Debug, Clone, Serialize)]
pub struct DayPnl {
    pub date: NaiveDate,
    pub pnl: Dollars,
    pub cumulative: Dollars,
}

/// The result for one city.
#[derive(Debug, Clone, Serialize)]
pub struct CityReport {
    pub city: String,
    pub decisions: u32,
    /// Days not decided, by reason.
    pub skipped: BTreeMap<String, u32>,
    pub trades: Vec<BacktestTrade>,
    pub pnl: Dollars,
    pub fees: Dollars,
    pub wins: u32,
    pub losses: u32,
    pub hit_rate: Option<f64>,
    /// The largest fall of the cumulative P&L from a previous high, in dollars.
    pub max_drawdown: Dollars,
    /// Mean over standard deviation of the daily P&L (every day of the window, zero when nothing
    /// settled), times √365; `None` when the P&L never varied.
    pub sharpe: Option<f64>,
    /// The most committed (cost and fees) in one trading day.
    pub max_exposure: Dollars,
    pub curve: Vec<DayPnl>,
    /// Changes of the trading state by the risk engine (a halt is never lifted by the backtest,
    /// as live only a user lifts it): when, the new state and why.
    pub state_changes: Vec<(DateTime<Utc>, TradingState, String)>,
    /// By lead: `"1d 20h"` is the decision at 20:00 local standard time the day before.
    pub scores: BTreeMap<String, Scores>,
    pub calibration: Vec<ReliabilityBin>,
}

fn money(e: impl std::fmt::Display) -> EngineError {
    EngineError::failed(format!("backtest money: {e}"))
}

/// The account's risk accounting, per trading day (the live engine keeps it in the database).
struct Accounts {
    status: RiskStatus,
}

impl Accounts {
    fn on(&mut self, day: NaiveDate) -> &mut RiskStatus {
        if self.status.trading_day != day {
            self.status.trading_day = day;
            self.status.exposure = Dollars::ZERO;
            self.status.realized_pnl = Dollars::ZERO;
            if self.status.state == TradingState::Reducing {
                self.status.state = TradingState::Active;
            }
        }
        &mut self.status
    }
}

/// An order of the backtest: its trade, what its fill cost, and the market it settles with.
struct Open {
    trade: usize,
    fill_cost: Dollars,
    market: MarketBracket,
}

/// Events with open orders, by when they settle: the recorded high and the orders.
type Pending = BTreeMap<(DateTime<Utc>, NaiveDate), (Option<i32>, Vec<Open>)>;

/// Replays one city. `progress` is told each day done.
pub async fn run_city(
    store: &Arc<dyn Store>,
    city: &City,
    events: &[RecordedEvent],
    books: &Books,
    opts: &Options,
    progress: &(dyn Fn(u64) + Sync),
) -> Result<CityReport> {
    let (mut days, _climatology) = day_inputs(store, city, opts.to).await?;
    let by_date: BTreeMap<NaiveDate, &RecordedEvent> = events.iter().map(|e| (e.date, e)).collect();
    for d in &mut days {
        if let Some(e) = by_date.get(&d.date) {
            d.ladder = Some(ladder_of(e));
            d.actual = d.actual.or(e.settled_high);
        }
    }
    days.sort_by_key(|d| d.date);

    let clock = Arc::new(ManualClock::new(opts.decision.at(city, opts.from)));
    let paper = PaperExchange::new(opts.bankroll, clock.clone() as Arc<dyn Clock>);
    let mut accounts = Accounts {
        status: RiskStatus::fresh(BACKTEST_USER, NaiveDate::MIN),
    };
    let mut predictor = Predictor::default();
    let mut replay = Replay::new(city, opts.decision.days_before, opts.decision.hour);
    let mut report = CityReport {
        city: city.code.clone(),
        decisions: 0,
        skipped: BTreeMap::new(),
        trades: Vec::new(),
        pnl: Dollars::ZERO,
        fees: Dollars::ZERO,
        wins: 0,
        losses: 0,
        hit_rate: None,
        max_drawdown: Dollars::ZERO,
        sharpe: None,
        max_exposure: Dollars::ZERO,
        curve: Vec::new(),
        state_changes: Vec::new(),
        scores: BTreeMap::new(),
        calibration: Vec::new(),
    };
    let mut reliability = Reliability::default();
    // events with open orders, by when they settle
    let mut pending = Pending::new();
    let mut daily: BTreeMap<NaiveDate, Dollars> = BTreeMap::new();

    for day in &days {
        if day.date > opts.to {
            break;
        }
        let Some(step) = replay.step(&mut predictor, day) else {
            continue;
        };
        if day.date < opts.from {
            continue; // learning only
        }
        progress(1);
        for (k, &hour) in opts.hours.iter().enumerate() {
            let at = if k == 0 {
                step.decision_at
            } else {
                Decision {
                    hour,
                    ..opts.decision
                }
                .at(city, day.date)
            };
            // the same forecasts and learning, seen from this decision
            let request = Request {
                decision_at: at,
                ..step.request.clone()
            };
            let lead = format!("{}d {hour:02}h", opts.decision.days_before);
            settle_due(
                &paper,
                &mut pending,
                at,
                &mut report,
                &mut accounts,
                &mut daily,
            )?;
            clock.set(at);
            let Some(event) = by_date.get(&day.date) else {
                skip(&mut report, "no recorded event");
                continue;
            };
            // the event's ladder, set on the day above
            let ladder = day.ladder.as_deref().unwrap_or_default();
            let quotes: Vec<Option<Quote>> = event
                .brackets
                .iter()
                .map(|b| books.quote(&b.ticker, at, opts.window))
                .collect();
            let outcome = event.settled_high.and_then(|h| outcome_index(ladder, h));
            // the market is scored wherever every bracket had a book, with or without a forecast
            let mids: Option<Vec<f64>> = quotes.iter().map(|q| q.map(|q| q.mid())).collect();
            let market = mids.and_then(|m| normalise(&m).ok());
            let scores = report.scores.entry(lead.clone()).or_default();
            if let (Some(o), Some(m)) = (outcome, &market) {
                scores.market.add(m, o).map_err(score_error)?;
            }
            let prediction = match predict(&predictor, &request, opts.model) {
                Ok(p) => p,
                Err(e) => {
                    // one reason for many days: without the day's own name in it
                    let e = e
                        .replace(&format!("{} {}", city.code, day.date), "the day")
                        .replace(&day.date.to_string(), "the day");
                    skip(&mut report, &format!("no prediction: {e}"));
                    continue;
                }
            };
            report.decisions += 1;
            if let Some(o) = outcome {
                let probs: Vec<f64> = prediction.brackets.iter().map(|b| b.probability).collect();
                let s = report.scores.entry(lead.clone()).or_default();
                s.model.add(&probs, o).map_err(score_error)?;
                reliability.add(&probs, o);
                if market.is_some() {
                    s.model_on_market_events
                        .add(&probs, o)
                        .map_err(score_error)?;
                }
            }
            let books: Vec<TopOfBook> = event
                .brackets
                .iter()
                .zip(&quotes)
                .map(|(b, q)| top_of_book(&b.ticker, q.as_ref(), at))
                .collect();
            let market_event = MarketEvent {
                event_ticker: event.event_ticker.clone(),
                city: city.code(),
                date: event.date,
                brackets: event.brackets.clone(),
                close_time: None,
                fees: FeeSchedule::WEATHER,
            };
            let today = accounts.on(trading_day(at));
            let assessment = assess(today, &opts.settings, at);
            if let Some((state, reason)) = &assessment.transition {
                report.state_changes.push((at, *state, reason.clone()));
                today.state = *state;
                today.state_reason = Some(reason.clone());
            }
            // judged on the state after the risk engine's change, as live (the gate re-reads it)
            let status = today.clone();
            let judge = Judge {
                config: &opts.trading,
                now: at,
            };
            let judged = judge.judge_event(
                BACKTEST_USER,
                &opts.settings,
                &status,
                &assessment.allowed,
                paper.cash(),
                &market_event,
                &prediction,
                &books,
            );
            let settle_at = city.at_standard_time(
                event.date + Duration::days(1),
                NaiveTime::from_hms_opt(SETTLE_HOUR, 0, 0).unwrap_or_default(),
            );
            for (candidate, opportunity) in judged {
                let Some(o) = opportunity else { continue };
                if candidate.verdict != "trade" && candidate.verdict != "queue for approval" {
                    continue;
                }
                let Some((Some(q), market)) = quotes
                    .iter()
                    .zip(&event.brackets)
                    .find(|(_, b)| b.ticker == candidate.ticker)
                else {
                    continue;
                };
                paper
                    .set_book(book_of(&candidate.ticker, q, at))
                    .map_err(EngineError::Boz)?;
                let order = OrderRequest {
                    client_order_id: format!(
                        "bt-{}-{}-{}",
                        candidate.ticker,
                        candidate.side.as_str(),
                        at.timestamp()
                    ),
                    ticker: candidate.ticker.clone(),
                    side: candidate.side,
                    price: candidate.price,
                    count: candidate.contracts,
                    time_in_force: TimeInForce::ImmediateOrCancel,
                };
                let state = match paper.place_order(&order).await {
                    Ok(s) => s,
                    Err(e) => {
                        skip(&mut report, &format!("order refused: {}", e.kind.name()));
                        continue;
                    }
                };
                if state.filled == Count::ZERO {
                    continue;
                }
                let committed = state.fill_cost.checked_add(state.fees).map_err(money)?;
                let s = accounts.on(trading_day(at));
                s.exposure = s.exposure.checked_add(committed).map_err(money)?;
                report.max_exposure = report.max_exposure.max(s.exposure);
                report.fees = report.fees.checked_add(state.fees).map_err(money)?;
                let price = Price::new(
                    (state.fill_cost.as_decimal() / state.filled.as_decimal()).round_dp(4),
                )
                .unwrap_or(candidate.price);
                report.trades.push(BacktestTrade {
                    decision_at: at,
                    date: event.date,
                    ticker: candidate.ticker.clone(),
                    bracket: o.bracket.bracket_label.clone(),
                    side: candidate.side,
                    price,
                    contracts: state.filled,
                    fee: state.fees,
                    model_probability: candidate.probability,
                    market_probability: candidate.price.as_decimal().to_f64().unwrap_or(f64::NAN),
                    ev: candidate.ev,
                    won: None,
                    pnl: None,
                });
                pending
                    .entry((settle_at, event.date))
                    .or_insert_with(|| (event.settled_high, Vec::new()))
                    .1
                    .push(Open {
                        trade: report.trades.len() - 1,
                        fill_cost: state.fill_cost,
                        market: market.clone(),
                    });
            }
        }
    }
    settle_due(
        &paper,
        &mut pending,
        DateTime::<Utc>::MAX_UTC,
        &mut report,
        &mut accounts,
        &mut daily,
    )?;
    finish(&mut report, &daily, opts, reliability)?;
    Ok(report)
}

fn score_error(e: boz_model::error::ModelError) -> EngineError {
    EngineError::failed(e.to_string())
}

/// The day's prediction by the chosen forecaster, from the forecasts the replay selected.
fn predict(
    predictor: &Predictor,
    request: &Request<'_>,
    model: Model,
) -> std::result::Result<BracketPrediction, String> {
    let p = predictor.predict(request).map_err(|e| e.to_string())?;
    match model {
        Model::Model => Ok(p.prediction),
        Model::Original => {
            let raw: Vec<f64> = predictor
                .select(request)
                .0
                .iter()
                .map(|(f, _)| f.high_f)
                .collect();
            let probs = original_design(&raw, request.ladder).map_err(|e| e.to_string())?;
            let brackets = request
                .ladder
                .iter()
                .zip(&probs)
                .map(|(b, p)| b.with_probability(*p))
                .collect::<std::result::Result<Vec<_>, _>>()
                .map_err(|e| e.to_string())?;
            let mut fields = p.prediction.into_fields();
            fields.brackets = brackets;
            fields.ensemble_forecast_f = raw.iter().sum::<f64>() / raw.len().max(1) as f64;
            fields.error_std_f = BASELINE_SIGMA_F;
            fields.model_sources = vec!["original design".into()];
            BracketPrediction::new(fields).map_err(|e| e.to_string())
        }
    }
}

fn skip(r: &mut CityReport, why: &str) {
    *r.skipped.entry(why.to_string()).or_default() += 1;
}

fn ladder_of(e: &RecordedEvent) -> Vec<BracketSpec> {
    e.brackets
        .iter()
        .map(|b| {
            BracketSpec::new(
                bracket_label(b.lower_bound_f, b.upper_bound_f),
                b.lower_bound_f,
                b.upper_bound_f,
            )
        })
        .collect()
}

fn top_of_book(ticker: &str, q: Option<&Quote>, at: DateTime<Utc>) -> TopOfBook {
    TopOfBook {
        ticker: ticker.to_string(),
        yes_bid: q.map(|q| q.yes_bid),
        yes_bid_size: q.map_or(Count::ZERO, |q| q.size),
        no_bid: q.map(|q| q.yes_ask.complement()),
        no_bid_size: q.map_or(Count::ZERO, |q| q.size),
        as_of: at,
    }
}

fn book_of(ticker: &str, q: &Quote, at: DateTime<Utc>) -> OrderBook {
    OrderBook::from_levels(
        ticker,
        &[(q.yes_bid, q.size)],
        &[(q.yes_ask.complement(), q.size)],
        at,
    )
}

/// Settles every event due by `now` through the paper exchange and books the results.
fn settle_due(
    paper: &PaperExchange,
    pending: &mut Pending,
    now: DateTime<Utc>,
    report: &mut CityReport,
    accounts: &mut Accounts,
    daily: &mut BTreeMap<NaiveDate, Dollars>,
) -> Result<()> {
    while let Some(entry) = pending.first_entry() {
        let (settle_at, date) = *entry.key();
        if settle_at > now {
            break;
        }
        let (high, opens) = entry.remove();
        let Some(high) = high else {
            continue; // never settled in the recording: left open
        };
        for open in opens {
            let t = &mut report.trades[open.trade];
            let m = &open.market;
            let yes_won = m.contains(high);
            // the exchange settles the whole position of the market once
            paper
                .settle(&m.ticker, if yes_won { Side::Yes } else { Side::No })
                .map_err(EngineError::Boz)?;
            // payout − cost − fee, as live settlement books it
            let (status, pnl) =
                outcome(t.side, t.contracts, open.fill_cost, t.fee, yes_won).map_err(money)?;
            let won = status == TradeStatus::Won;
            t.won = Some(won);
            t.pnl = Some(pnl);
            if won {
                report.wins += 1;
            } else {
                report.losses += 1;
            }
            report.pnl = report.pnl.checked_add(pnl).map_err(money)?;
            let d = daily.entry(date).or_insert(Dollars::ZERO);
            *d = d.checked_add(pnl).map_err(money)?;
            let s = accounts.on(trading_day(settle_at));
            s.realized_pnl = s.realized_pnl.checked_add(pnl).map_err(money)?;
            if won {
                s.consecutive_losses = 0;
            } else {
                s.consecutive_losses += 1;
                s.last_loss_at = Some(settle_at);
            }
        }
    }
    Ok(())
}

fn finish(
    report: &mut CityReport,
    daily: &BTreeMap<NaiveDate, Dollars>,
    opts: &Options,
    reliability: Reliability,
) -> Result<()> {
    let settled = report.wins + report.losses;
    report.hit_rate = (settled > 0).then(|| f64::from(report.wins) / f64::from(settled));
    let (mut cumulative, mut peak, mut drawdown) = (Dollars::ZERO, Dollars::ZERO, Dollars::ZERO);
    for (date, pnl) in daily {
        cumulative = cumulative.checked_add(*pnl).map_err(money)?;
        peak = peak.max(cumulative);
        drawdown = drawdown.max(peak.checked_sub(cumulative).map_err(money)?);
        report.curve.push(DayPnl {
            date: *date,
            pnl: *pnl,
            cumulative,
        });
    }
    report.max_drawdown = drawdown;
    // every day of the window, zero when nothing settled
    let mut series = Vec::new();
    let mut d = opts.from;
    while d <= opts.to {
        series.push(daily.get(&d).map_or(0.0, Dollars::to_f64_lossy));
        d += Duration::days(1);
    }
    if series.len() > 1 {
        // the sample standard deviation (n − 1)
        let sd = series.iter().std_dev();
        if sd > 0.0 {
            report.sharpe = Some(series.iter().mean() / sd * 365f64.sqrt());
        }
    }
    report.calibration = reliability.table();
    Ok(())
}
