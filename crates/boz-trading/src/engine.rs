//! The trading cycle: for every user and city, the open events with a fresh prediction and a
//! fresh book; both sides of every bracket at executable prices; EV after the fee; joint Kelly
//! stakes over the event's brackets; the risk rules; then an order (auto) or a PENDING trade
//! waiting for approval (manual). Also: approval with a fresh book, rejection, expiry, the kill
//! switch.

use std::collections::HashMap;
use std::sync::Arc;

use boz_common::city::City;
use boz_common::ports::{
    Clock, Exchange, ExposureLimits, MarketData, MarketEvent, Notification, NotificationKind,
    Notifier, OrderRecord, OrderStatus, RiskStatus, Store, StoredTrade, TimeInForce, TopOfBook,
    TradingState,
};
use boz_common::schemas::{
    BracketPrediction, PendingTrade, PendingTradeFields, Side, TradeRecord, TradeRecordFields,
    TradeSignal, TradeSignalFields, TradingMode, UserSettings,
};
use boz_common::schemas::{BracketProbability, WeatherData};
use boz_common::status::TradeStatus;
use boz_common::{BozError, CityCode, Count, Dollars, ErrorKind, Price};
use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use rust_decimal::prelude::{FromPrimitive, ToPrimitive};
use serde::Serialize;

use crate::config::TradingConfig;
use crate::ev::{Opportunity, all_in, opportunities};
use crate::kelly::{Bet, allocate};
use crate::orders::{OrderManager, Reconciliation, client_order_id, trade_id};
use crate::risk::{assess, budget, trading_day};

/// One candidate and what the engine decided about it.
#[derive(Debug, Clone, Serialize)]
pub struct Candidate {
    pub user_id: String,
    pub event_ticker: String,
    pub ticker: String,
    /// The whole degrees the market pays on, with the model's probability of it.
    pub bracket: BracketProbability,
    pub signal: Option<TradeSignal>,
    pub side: Side,
    pub price: Price,
    pub probability: f64,
    /// EV per contract after the fee, at the planned size (or one contract).
    pub ev: f64,
    pub contracts: Count,
    /// Dollars the order commits: cost plus fee.
    pub commitment: Dollars,
    /// "trade", "queue for approval", or why not.
    pub verdict: String,
}

/// A candidate that passed, with what placing it needs.
struct Tradeable {
    opportunity: Opportunity,
    event: MarketEvent,
    prediction: BracketPrediction,
    settings: UserSettings,
}

/// What one cycle did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct CycleReport {
    pub candidates: Vec<Candidate>,
    pub orders: Vec<OrderRecord>,
    pub queued: Vec<String>,
    pub expired: Vec<String>,
    pub refused: Vec<String>,
    pub reconciliation: Vec<Reconciliation>,
    pub errors: Vec<String>,
}

pub struct TradingEngine {
    pub store: Arc<dyn Store>,
    pub market: Arc<dyn MarketData>,
    pub exchange: Arc<dyn Exchange>,
    pub clock: Arc<dyn Clock>,
    pub config: TradingConfig,
    pub cities: Vec<Arc<City>>,
    /// Where trade and halt notifications go (none: not sent).
    pub notifier: Option<Arc<dyn Notifier>>,
}

/// An amount of money to commit: never silently zero (that would reserve no exposure).
fn dollars(d: Decimal) -> Result<Dollars, BozError> {
    Dollars::new(d.round_dp(6))
        .map_err(|e| BozError::invalid_order(format!("amount {d} cannot be held exactly: {e}")))
}

/// The pure part of a decision: pricing, sizing and judging one event's candidates.
pub struct Judge<'a> {
    pub config: &'a TradingConfig,
    pub now: DateTime<Utc>,
}

impl Judge<'_> {
    /// Every candidate of one event for one user, sized and judged (nothing is placed).
    #[allow(clippy::too_many_arguments)]
    pub fn judge_event(
        &self,
        user_id: &str,
        settings: &UserSettings,
        status: &RiskStatus,
        allowed: &Result<f64, BozError>,
        balance: Dollars,
        event: &MarketEvent,
        prediction: &BracketPrediction,
        books: &[TopOfBook],
    ) -> Vec<(Candidate, Option<Opportunity>)> {
        let now = self.now;
        let mut out = Vec::new();
        let opps = match opportunities(prediction, event, books) {
            Ok(o) => o,
            Err(e) => {
                tracing::warn!(target: "TRADING", event = %event.event_ticker, error = %e.message, "cannot price the event");
                return out;
            }
        };
        let stale_prediction = now - prediction.generated_at > self.config.max_prediction_age;
        let oldest_book = books.iter().map(|b| b.as_of).min();
        let stale_book = oldest_book.is_none_or(|t| now - t > self.config.max_book_age);
        let one = Count::new(Decimal::ONE).unwrap_or(Count::ZERO);
        // screen: EV at one contract, minimum price
        let mut eligible: Vec<(Opportunity, f64)> = Vec::new();
        for o in opps {
            let ev1 = crate::ev::ev_per_contract(&event.fees, o.probability, o.price, one)
                .unwrap_or(f64::MIN);
            let verdict = if o.price < self.config.min_price {
                Some(format!(
                    "price {} is below the minimum {}",
                    o.price, self.config.min_price
                ))
            } else if ev1 < settings.min_ev_threshold {
                Some(format!(
                    "EV {ev1:.4} is below min_ev_threshold {}",
                    settings.min_ev_threshold
                ))
            } else {
                None
            };
            match verdict {
                Some(v) => out.push((
                    self.candidate(user_id, event, &o, ev1, Count::ZERO, Dollars::ZERO, v, None),
                    None,
                )),
                None => eligible.push((o, ev1)),
            }
        }
        if eligible.is_empty() {
            return out;
        }
        // joint Kelly over the event's exclusive outcomes
        let probs: Vec<f64> = prediction.brackets.iter().map(|b| b.probability).collect();
        let bets: Vec<Bet> = eligible
            .iter()
            .map(|(o, _)| Bet {
                cost: all_in(&event.fees, o.price, one)
                    .map(|(_, c)| c)
                    .unwrap_or(1.0),
                wins: o.wins(probs.len()),
            })
            .collect();
        let fractions = allocate(&probs, &bets);
        let mult = allowed.as_ref().map_or(0.0, |m| *m);
        let bankroll = balance.as_decimal().to_f64().unwrap_or(0.0);
        let cap = budget(settings, status, balance);
        for ((o, ev1), f) in eligible.into_iter().zip(fractions) {
            let stake = self.config.kelly_fraction * mult * f * bankroll;
            let (contracts, commitment, ev_sized) = self.size(&event.fees, &o, stake, cap);
            // the EV at the planned size, or at one contract when nothing is planned
            let ev = if contracts == Count::ZERO {
                ev1
            } else {
                ev_sized
            };
            let verdict = if let Err(e) = allowed {
                format!("refused: {}", e.message)
            } else if stale_prediction {
                format!(
                    "refused: the prediction is from {}, older than {} minutes",
                    prediction.generated_at,
                    self.config.max_prediction_age.num_minutes()
                )
            } else if stale_book {
                format!(
                    "refused: the order book is older than {} seconds",
                    self.config.max_book_age.num_seconds()
                )
            } else if f <= 0.0 {
                "no stake: Kelly puts nothing on it with the event's other brackets".to_string()
            } else if contracts == Count::ZERO {
                format!(
                    "size zero: stake {stake:.2}, budget {} (max_trade_size, exposure left, balance)",
                    cap.normalize()
                )
            } else if ev < settings.min_ev_threshold {
                format!("EV {ev:.4} at {contracts} contracts is below min_ev_threshold")
            } else {
                match settings.trading_mode {
                    TradingMode::Auto => "trade".to_string(),
                    TradingMode::Manual => "queue for approval".to_string(),
                }
            };
            let tradeable = verdict == "trade" || verdict == "queue for approval";
            if !tradeable && verdict.starts_with("refused") {
                tracing::info!(target: "RISK", user_id, ticker = %o.ticker, reason = %verdict, "candidate refused");
            }
            let signal = self.signal(prediction, &o, ev, &verdict);
            let c = self.candidate(
                user_id, event, &o, ev, contracts, commitment, verdict, signal,
            );
            out.push((c, tradeable.then_some(o)));
        }
        out
    }

    /// Whole contracts for a stake, capped by the book's size and the budget (cost plus fee);
    /// with the EV per contract at that size.
    pub fn size(
        &self,
        fees: &boz_common::fees::FeeSchedule,
        o: &Opportunity,
        stake: f64,
        budget: Decimal,
    ) -> (Count, Dollars, f64) {
        let none = (Count::ZERO, Dollars::ZERO, f64::MIN);
        let price = o.price.as_decimal();
        let Some(stake) = Decimal::from_f64(stake.max(0.0)) else {
            return none;
        };
        let limit = stake.min(budget);
        // Start from an upper bound: the fee per contract is at least its unrounded rate (read
        // off a large order), so no more contracts than this can fit; then step down.
        let big = Count::new(Decimal::from(1_000_000)).unwrap_or(Count::ZERO);
        let rate = all_in(fees, o.price, big)
            .map(|(fee, _)| fee.as_decimal() / Decimal::from(1_000_000) - Decimal::new(1, 6))
            .unwrap_or(Decimal::ZERO)
            .max(Decimal::ZERO);
        let mut n = (limit / (price + rate))
            .floor()
            .min(o.available.as_decimal().floor());
        while n > Decimal::ZERO {
            let Ok(count) = Count::new(n) else {
                return none;
            };
            let Ok((fee, cost)) = all_in(fees, o.price, count) else {
                return none;
            };
            let total = price * n + fee.as_decimal();
            if total <= limit {
                let Ok(commitment) = dollars(total) else {
                    return none;
                };
                return (count, commitment, o.probability - cost);
            }
            n -= Decimal::ONE;
        }
        none
    }

    #[allow(clippy::too_many_arguments)]
    fn candidate(
        &self,
        user_id: &str,
        event: &MarketEvent,
        o: &Opportunity,
        ev: f64,
        contracts: Count,
        commitment: Dollars,
        verdict: String,
        signal: Option<TradeSignal>,
    ) -> Candidate {
        Candidate {
            user_id: user_id.to_string(),
            event_ticker: event.event_ticker.clone(),
            ticker: o.ticker.clone(),
            bracket: o.bracket.clone(),
            signal,
            side: o.side,
            price: o.price,
            probability: o.probability,
            ev,
            contracts,
            commitment,
            verdict,
        }
    }

    fn signal(
        &self,
        prediction: &BracketPrediction,
        o: &Opportunity,
        ev: f64,
        verdict: &str,
    ) -> Option<TradeSignal> {
        let reasoning = format!(
            "{} {} on {}: model {:.1}% vs {} to pay {} (market mid {}), EV {:+.4} per contract after the fee; σ {:.2}°F, mean {:.1}°F from {}; {}",
            if o.side == Side::Yes {
                "buy YES"
            } else {
                "buy NO"
            },
            o.bracket.bracket_label,
            o.ticker,
            o.probability * 100.0,
            o.price,
            if o.side == Side::Yes {
                "the ask"
            } else {
                "1 − the YES bid"
            },
            if o.market_probability.is_finite() {
                format!("{:.1}%", o.market_probability * 100.0)
            } else {
                "n/a".into()
            },
            ev,
            prediction.error_std_f,
            prediction.ensemble_forecast_f,
            prediction.model_sources.join(", "),
            verdict
        );
        TradeSignal::new(TradeSignalFields {
            city: prediction.city.clone(),
            bracket: o.bracket.clone(),
            side: o.side,
            market_price: o.price,
            model_probability: o.probability,
            ev: ev.clamp(-1.0, 1.0),
            confidence: prediction.confidence,
            reasoning,
        })
        .ok()
    }
}

impl TradingEngine {
    async fn tell(
        &self,
        kind: NotificationKind,
        title: String,
        text: String,
        data: serde_json::Value,
    ) {
        if let Some(n) = &self.notifier {
            n.notify(&Notification {
                kind,
                title,
                text,
                data,
            })
            .await;
        }
    }

    async fn tell_executed(&self, o: &OrderRecord) {
        if o.filled == Count::ZERO {
            return;
        }
        let avg = o.fill_cost.as_decimal() / o.filled.as_decimal();
        self.tell(
            NotificationKind::TradeExecuted,
            format!(
                "Bought {} {} {}",
                o.filled,
                o.request.side.as_str().to_uppercase(),
                o.request.ticker
            ),
            format!(
                "{} contracts at ${} average, fees ${} (order {})",
                o.filled,
                avg.round_dp(4).normalize(),
                o.fees,
                o.request.client_order_id
            ),
            serde_json::to_value(o).unwrap_or_default(),
        )
        .await;
    }

    fn judge(&self) -> Judge<'_> {
        Judge {
            config: &self.config,
            now: self.clock.now(),
        }
    }

    pub fn orders(&self) -> OrderManager {
        OrderManager {
            store: self.store.clone(),
            exchange: self.exchange.clone(),
            clock: self.clock.clone(),
            timeout: self.config.order_timeout,
            cancel_before_close: self.config.cancel_before_close,
            unknown_grace: self.config.unknown_grace.max(
                chrono::Duration::from_std(self.config.order_timeout).unwrap_or_default()
                    + chrono::Duration::seconds(30),
            ),
        }
    }

    /// The user's risk status after the engine's own state changes (automatic halt or
    /// reduce), and the Kelly multiplier or why nothing may be traded.
    async fn gate(
        &self,
        user_id: &str,
        settings: &UserSettings,
    ) -> Result<(RiskStatus, Result<f64, BozError>), BozError> {
        let now = self.clock.now();
        let day = trading_day(now);
        let mut status = self.store.risk_status(user_id, day).await?;
        let a = assess(&status, settings, now);
        if let Some((state, reason)) = &a.transition {
            tracing::warn!(target: "RISK", user_id, state = state.as_str(), reason = %reason, "trading state changed by the risk engine");
            self.store
                .set_trading_state(user_id, *state, reason, "risk engine", now)
                .await?;
            status = self.store.risk_status(user_id, day).await?;
            if *state == TradingState::Halted {
                self.tell(
                    NotificationKind::TradingHalted,
                    format!("Trading halted for {user_id}"),
                    format!("{reason}. Only a user can resume (`boz resume`)."),
                    serde_json::json!({"user_id": user_id, "reason": reason}),
                )
                .await;
            }
        }
        if let Err(e) = &a.allowed {
            let target = if e.kind == ErrorKind::CooldownActiveError {
                "COOLDOWN"
            } else {
                "RISK"
            };
            tracing::warn!(target: "RISK", category = target, user_id, reason = %e.message, "trading refused");
        }
        Ok((status, a.allowed))
    }

    /// Every candidate of every user and city, judged, with the opportunity when tradeable.
    async fn evaluate(
        &self,
        only_user: Option<&str>,
    ) -> Result<(Vec<(Candidate, Option<Tradeable>)>, Vec<String>), BozError> {
        let mut out = Vec::new();
        let mut errors = Vec::new();
        let balance = self.exchange.balance().await?;
        for user in self.store.list_users().await? {
            if only_user.is_some_and(|u| u != user.id) {
                continue;
            }
            let settings = match user.user_settings() {
                Ok(s) => s,
                Err(e) => {
                    errors.push(e.message);
                    continue;
                }
            };
            let (status, allowed) = self.gate(&user.id, &settings).await?;
            for city in self
                .cities
                .iter()
                .filter(|c| settings.cities.iter().any(|s| s.as_str() == c.code))
            {
                let events = match self.market.open_events(city).await {
                    Ok(e) => e,
                    Err(e) => {
                        errors.push(format!("{}: {}", city.code, e.message));
                        continue;
                    }
                };
                for event in events {
                    let Some(p) = self
                        .store
                        .latest_prediction(&city.code(), event.date)
                        .await?
                    else {
                        errors.push(format!(
                            "{} {}: no prediction stored (run `boz predict`)",
                            city.code, event.date
                        ));
                        continue;
                    };
                    let books = match self.market.top_of_book(&event.event_ticker).await {
                        Ok(b) => b,
                        Err(e) => {
                            errors.push(format!("{}: {}", event.event_ticker, e.message));
                            continue;
                        }
                    };
                    for (c, o) in self.judge().judge_event(
                        &user.id,
                        &settings,
                        &status,
                        &allowed,
                        balance,
                        &event,
                        &p.prediction,
                        &books,
                    ) {
                        out.push((
                            c,
                            o.map(|opportunity| Tradeable {
                                opportunity,
                                event: event.clone(),
                                prediction: p.prediction.clone(),
                                settings: settings.clone(),
                            }),
                        ));
                    }
                }
            }
        }
        Ok((out, errors))
    }

    /// Every candidate with EV, size and the risk verdict; places nothing.
    pub async fn signals(
        &self,
        only_user: Option<&str>,
    ) -> Result<(Vec<Candidate>, Vec<String>), BozError> {
        let (c, errors) = self.evaluate(only_user).await?;
        Ok((c.into_iter().map(|(c, _)| c).collect(), errors))
    }

    fn trade_record(
        &self,
        id: &str,
        c: &Candidate,
        p: &BracketPrediction,
        weather: Vec<boz_common::schemas::WeatherData>,
        o: &Opportunity,
        status: TradeStatus,
    ) -> Result<TradeRecord, BozError> {
        Ok(TradeRecord::new(TradeRecordFields {
            id: id.to_string(),
            city: p.city.clone(),
            date: p.date,
            bracket_label: o.bracket.bracket_label.clone(),
            side: o.side,
            entry_price: o.price,
            quantity: c.contracts,
            model_probability: o.probability,
            market_probability: if o.market_probability.is_finite() {
                let m = o.market_probability;
                if o.side == Side::Yes { m } else { 1.0 - m }
            } else {
                o.price.as_decimal().to_f64().unwrap_or(0.0)
            },
            ev_at_entry: c.ev,
            confidence: p.confidence,
            weather_forecasts: weather,
            prediction: p.clone(),
            status,
            settlement_temp_f: None,
            settlement_source: None,
            pnl: None,
            postmortem: None,
            created_at: self.clock.now(),
            settled_at: None,
        })?)
    }

    fn limits(&self, settings: &UserSettings, event_ticker: &str) -> ExposureLimits {
        ExposureLimits {
            daily: settings.max_daily_exposure,
            event: Some((event_ticker.to_string(), self.config.max_event_exposure)),
        }
    }

    fn order_record(
        &self,
        user_id: &str,
        o: &Opportunity,
        count: Count,
        commitment: Dollars,
        close_time: Option<DateTime<Utc>>,
    ) -> OrderRecord {
        let now = self.clock.now();
        let day = trading_day(now);
        let coid = client_order_id(user_id, &o.ticker, o.side, day);
        OrderRecord {
            request: boz_common::ports::OrderRequest {
                client_order_id: coid.clone(),
                ticker: o.ticker.clone(),
                side: o.side,
                price: o.price,
                count,
                time_in_force: TimeInForce::ImmediateOrCancel,
            },
            user_id: user_id.to_string(),
            trade_id: trade_id(&coid),
            trading_day: day,
            reserved: commitment,
            status: OrderStatus::New,
            exchange_order_id: None,
            filled: Count::ZERO,
            fill_cost: Dollars::ZERO,
            fees: Dollars::ZERO,
            close_time,
            detail: None,
            created_at: now,
            updated_at: now,
        }
    }

    /// One full cycle: reconcile, expire stale approvals, judge every candidate, then order
    /// (auto) or queue (manual). `dry_run` judges only.
    pub async fn cycle(&self, dry_run: bool) -> Result<CycleReport, BozError> {
        let mut report = CycleReport::default();
        let now = self.clock.now();
        if !dry_run {
            report.expired = self.expire_pending().await?;
            for user in self.store.list_users().await? {
                match self.orders().reconcile(&user.id, trading_day(now)).await {
                    Ok(r) => report.reconciliation.push(r),
                    Err(e) => report
                        .errors
                        .push(format!("reconcile {}: {}", user.id, e.message)),
                }
            }
        }
        let (judged, errors) = self.evaluate(None).await?;
        report.errors.extend(errors);
        let mut weather_of: HashMap<(CityCode, NaiveDate), Vec<WeatherData>> = HashMap::new();
        for (c, chosen) in judged {
            let Some(Tradeable {
                opportunity: o,
                event,
                prediction,
                settings,
            }) = chosen.filter(|_| !dry_run)
            else {
                report.candidates.push(c);
                continue;
            };
            // the forecasts behind an event's prediction, read once per event
            let key = (prediction.city.clone(), prediction.date);
            if !weather_of.contains_key(&key) {
                let stored = self.store.forecasts_for(&key.0, key.1).await?;
                weather_of.insert(key.clone(), stored.into_iter().map(|f| f.data).collect());
            }
            let weather = weather_of.get(&key).cloned().unwrap_or_default();
            let order =
                self.order_record(&c.user_id, &o, c.contracts, c.commitment, event.close_time);
            match settings.trading_mode {
                TradingMode::Auto => {
                    let record = self.trade_record(
                        &order.trade_id,
                        &c,
                        &prediction,
                        weather,
                        &o,
                        TradeStatus::Approved,
                    )?;
                    let trade = StoredTrade {
                        user_id: c.user_id.clone(),
                        kalshi_order_id: None,
                        record,
                    };
                    match self
                        .orders()
                        .execute(
                            &order,
                            Some(&trade),
                            &self.limits(&settings, &event.event_ticker),
                        )
                        .await
                    {
                        Ok(done) => {
                            self.tell_executed(&done).await;
                            report.orders.push(done);
                        }
                        Err(e)
                            if matches!(
                                e.kind,
                                ErrorKind::RiskLimitError | ErrorKind::CooldownActiveError
                            ) =>
                        {
                            tracing::warn!(target: "RISK", user_id = %c.user_id, ticker = %c.ticker, reason = %e.message, "order refused");
                            report
                                .refused
                                .push(format!("{} {}: {}", c.user_id, c.ticker, e.message));
                        }
                        Err(e) => report
                            .errors
                            .push(format!("{} {}: {}", c.user_id, c.ticker, e.message)),
                    }
                }
                TradingMode::Manual => {
                    let id = order.trade_id.clone();
                    if self.store.get_trade(&c.user_id, &id).await.is_ok() {
                        report.candidates.push(c);
                        continue; // already queued (or traded) today
                    }
                    let record =
                        self.trade_record(&id, &c, &prediction, weather, &o, TradeStatus::Pending)?;
                    let Some(signal) = c.signal.clone() else {
                        continue;
                    };
                    let pending = PendingTrade::new(PendingTradeFields {
                        id: id.clone(),
                        user_id: c.user_id.clone(),
                        date: prediction.date,
                        market_ticker: o.ticker.clone(),
                        signal,
                        quantity: c.contracts,
                        limit_price: o.price,
                        status: TradeStatus::Pending,
                        created_at: now,
                        expires_at: now + self.config.approval_ttl,
                    })?;
                    self.store
                        .queue_trade(
                            &StoredTrade {
                                user_id: c.user_id.clone(),
                                kalshi_order_id: None,
                                record,
                            },
                            &pending,
                        )
                        .await?;
                    tracing::info!(target: "TRADING", user_id = %c.user_id, trade_id = %id, ticker = %o.ticker, "queued for approval");
                    report.queued.push(id);
                }
            }
            report.candidates.push(c);
        }
        Ok(report)
    }

    /// Expires PENDING trades past their time to live.
    pub async fn expire_pending(&self) -> Result<Vec<String>, BozError> {
        let now = self.clock.now();
        let mut out = Vec::new();
        for user in self.store.list_users().await? {
            for a in self.store.list_approvals(&user.id, true).await? {
                if a.pending.expires_at <= now {
                    self.store
                        .decide_approval(
                            &user.id,
                            &a.pending.id,
                            TradeStatus::Expired,
                            "engine",
                            now,
                            Some("time to live passed"),
                        )
                        .await?;
                    out.push(a.pending.id.clone());
                }
            }
        }
        Ok(out)
    }

    /// Approves a PENDING trade: a fresh book, EV and risk again at the current price (within
    /// `limit_price` if given), then the order. Refused with the reason when the edge is gone.
    pub async fn approve(
        &self,
        user_id: &str,
        id: &str,
        by: &str,
        limit_price: Option<Price>,
    ) -> Result<OrderRecord, BozError> {
        let now = self.clock.now();
        let a = self.store.get_approval(user_id, id).await?;
        let p = &a.pending;
        if p.status != TradeStatus::Pending {
            return Err(BozError::conflict(
                format!("trade {id} is {}, not PENDING", p.status),
                serde_json::Map::new(),
            ));
        }
        if p.expires_at <= now {
            self.store
                .decide_approval(
                    user_id,
                    id,
                    TradeStatus::Expired,
                    by,
                    now,
                    Some("time to live passed"),
                )
                .await?;
            return Err(BozError::conflict(
                format!("trade {id} expired at {}", p.expires_at),
                serde_json::Map::new(),
            ));
        }
        let user = self.store.get_user(user_id).await?;
        let settings = user.user_settings()?;
        let (status, allowed) = self.gate(user_id, &settings).await?;
        allowed?;
        let trade = self.store.get_trade(user_id, id).await?;
        let prediction = self
            .store
            .latest_prediction(&p.signal.city, p.date)
            .await?
            .map(|s| s.prediction)
            .unwrap_or(trade.record.prediction.clone());
        let city = self
            .cities
            .iter()
            .find(|c| c.code == p.signal.city.as_str())
            .ok_or_else(|| BozError::not_found("city", p.signal.city.as_str()))?;
        let event = self
            .market
            .open_events(city)
            .await?
            .into_iter()
            .find(|e| e.brackets.iter().any(|b| b.ticker == p.market_ticker))
            .ok_or_else(|| {
                BozError::conflict(
                    format!("market {} is no longer open", p.market_ticker),
                    serde_json::Map::new(),
                )
            })?;
        let books = self.market.top_of_book(&event.event_ticker).await?;
        let Some(oldest) = books.iter().map(|b| b.as_of).min() else {
            return Err(BozError::conflict(
                format!("no order book for {} now", event.event_ticker),
                serde_json::Map::new(),
            ));
        };
        if now - oldest > self.config.max_book_age {
            return Err(BozError::stale_data(
                "order book",
                (now - oldest).num_minutes(),
                self.config.max_book_age.num_minutes(),
            ));
        }
        let o = opportunities(&prediction, &event, &books)?
            .into_iter()
            .find(|o| o.ticker == p.market_ticker && o.side == p.signal.side)
            .ok_or_else(|| {
                BozError::conflict(
                    format!(
                        "no {} price for {} now",
                        p.signal.side.as_str(),
                        p.market_ticker
                    ),
                    serde_json::Map::new(),
                )
            })?;
        let limit = limit_price.unwrap_or(p.limit_price);
        if o.price > limit {
            return Err(BozError::risk_refused(
                "limit_price",
                o.price,
                "buying",
                limit,
            ));
        }
        let count = Count::new(
            p.quantity
                .as_decimal()
                .min(o.available.as_decimal())
                .floor(),
        )
        .unwrap_or(Count::ZERO);
        if count == Count::ZERO {
            return Err(BozError::conflict(
                format!("nothing offered at {} for {}", o.price, p.market_ticker),
                serde_json::Map::new(),
            ));
        }
        let (fee, cost) = all_in(&event.fees, o.price, count)?;
        let ev = o.probability - cost;
        if ev < settings.min_ev_threshold {
            return Err(BozError::risk_refused(
                "min_ev_threshold",
                format!(
                    "EV {ev:.4} at {} (was {:.4} at {})",
                    o.price, p.signal.ev, p.limit_price
                ),
                count,
                settings.min_ev_threshold,
            ));
        }
        let commitment = dollars(o.price.as_decimal() * count.as_decimal() + fee.as_decimal())?;
        let cap = budget(&settings, &status, self.exchange.balance().await?);
        if commitment.as_decimal() > cap {
            return Err(BozError::risk_refused(
                "budget (max_trade_size, exposure left today, balance)",
                Dollars::ZERO,
                commitment,
                cap.normalize(),
            ));
        }
        self.store
            .decide_approval(user_id, id, TradeStatus::Approved, by, now, None)
            .await?;
        let mut order = self.order_record(user_id, &o, count, commitment, event.close_time);
        order.trade_id = id.to_string();
        let done = self
            .orders()
            .execute(&order, None, &self.limits(&settings, &event.event_ticker))
            .await?;
        self.tell_executed(&done).await;
        Ok(done)
    }

    pub async fn reject(
        &self,
        user_id: &str,
        id: &str,
        by: &str,
        reason: Option<&str>,
    ) -> Result<(), BozError> {
        self.store
            .decide_approval(
                user_id,
                id,
                TradeStatus::Rejected,
                by,
                self.clock.now(),
                reason,
            )
            .await
    }

    /// The kill switch.
    pub async fn halt(&self, user_id: &str, by: &str, reason: &str) -> Result<(), BozError> {
        tracing::warn!(target: "RISK", user_id, by, reason, "trading halted");
        self.store
            .set_trading_state(user_id, TradingState::Halted, reason, by, self.clock.now())
            .await?;
        self.tell(
            NotificationKind::TradingHalted,
            format!("Trading halted for {user_id}"),
            format!("{by}: {reason}. Only a user can resume (`boz resume`)."),
            serde_json::json!({"user_id": user_id, "by": by, "reason": reason}),
        )
        .await;
        Ok(())
    }

    /// Only a user resumes.
    pub async fn resume(&self, user_id: &str, by: &str) -> Result<(), BozError> {
        tracing::warn!(target: "RISK", user_id, by, "trading resumed");
        self.store
            .set_trading_state(
                user_id,
                TradingState::Active,
                "resumed",
                by,
                self.clock.now(),
            )
            .await
    }
}
