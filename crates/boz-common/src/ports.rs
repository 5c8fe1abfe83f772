//! Ports: the traits other crates implement, so that feature crates never depend on each other
//! or on the store.
//!
//! - [`Store`] and its repositories (implemented by `boz-store` on SQLite and PostgreSQL);
//! - [`Clock`] (real time, or a manual clock for tests and backtests);
//! - [`LogSink`] (where `boz-telemetry` writes `log_entries`);
//! - [`ForecastSource`], [`MarketData`], [`Exchange`]: the edges the weather, Kalshi and trading
//!   issues fill in.

use std::sync::Mutex;

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::city::{City, CityCode};
use crate::error::BozError;
use crate::money::{Count, Dollars, Price};
use crate::schemas::{
    BracketPrediction, PendingTrade, Side, TradeRecord, UserSettings, WeatherData,
};
use crate::status::TradeStatus;

// ---------------------------------------------------------------- clock

/// The source of "now". Code never reads the system clock directly.
pub trait Clock: Send + Sync {
    fn now(&self) -> DateTime<Utc>;
}

/// The real clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// A clock that moves only when told (tests, backtests).
#[derive(Debug)]
pub struct ManualClock(Mutex<DateTime<Utc>>);

impl ManualClock {
    pub fn new(at: DateTime<Utc>) -> ManualClock {
        ManualClock(Mutex::new(at))
    }

    pub fn set(&self, at: DateTime<Utc>) {
        if let Ok(mut g) = self.0.lock() {
            *g = at;
        }
    }

    pub fn advance(&self, by: chrono::Duration) {
        if let Ok(mut g) = self.0.lock() {
            *g += by;
        }
    }
}

impl Clock for ManualClock {
    fn now(&self) -> DateTime<Utc> {
        match self.0.lock() {
            Ok(g) => *g,
            Err(p) => *p.into_inner(),
        }
    }
}

// ---------------------------------------------------------------- log records

/// One log record as kept in `log_entries`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LogRecord {
    pub timestamp: DateTime<Utc>,
    pub level: String,
    pub module: String,
    pub message: String,
    pub data: Value,
}

/// Where log records are kept (the `log_entries` table).
#[async_trait]
pub trait LogSink: Send + Sync {
    async fn insert_log_entries(&self, batch: &[LogRecord]) -> Result<(), BozError>;
}

// ---------------------------------------------------------------- store rows

/// A user as stored. The private key is only ever held encrypted here.
#[derive(Clone, PartialEq)]
pub struct StoredUser {
    pub id: String,
    pub api_key_id: String,
    pub encrypted_private_key: String,
    pub settings: Value,
    pub created_at: DateTime<Utc>,
}

impl std::fmt::Debug for StoredUser {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoredUser")
            .field("id", &self.id)
            .field("api_key_id", &self.api_key_id)
            .field("encrypted_private_key", &"<redacted>")
            .field("created_at", &self.created_at)
            .finish()
    }
}

impl StoredUser {
    /// The user's settings as the validated schema (they are validated when stored, so an error
    /// means the row was changed behind the store's back).
    pub fn user_settings(&self) -> Result<UserSettings, BozError> {
        serde_json::from_value(self.settings.clone()).map_err(|e| {
            BozError::new(
                crate::error::ErrorKind::ValidationError,
                format!("user {} has invalid settings: {e}", self.id),
                serde_json::Map::new(),
            )
        })
    }
}

/// A stored weather forecast row.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredForecast {
    pub id: i64,
    pub data: WeatherData,
}

/// A stored prediction row.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredPrediction {
    pub id: i64,
    pub prediction: BracketPrediction,
    /// Where the prediction's numbers came from (JSON; `null` for rows written without it).
    pub provenance: Value,
}

/// A trade as stored: the record plus its owner and order id.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredTrade {
    pub user_id: String,
    pub kalshi_order_id: Option<String>,
    pub record: TradeRecord,
}

/// Filters for listing trades (all optional; results newest first).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TradeFilter {
    pub city: Option<CityCode>,
    pub status: Option<TradeStatus>,
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
    pub limit: u32,
    pub offset: u32,
}

/// The outcome written when a trade settles.
#[derive(Debug, Clone, PartialEq)]
pub struct TradeSettlement {
    pub status: TradeStatus,
    pub settlement_temp_f: Option<f64>,
    pub pnl: Option<Dollars>,
    pub settled_at: DateTime<Utc>,
}

/// A settlement row: a city's climate-day high from the climate report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SettlementRow {
    pub city: CityCode,
    pub settlement_date: NaiveDate,
    pub actual_high_f: f64,
    pub source: String,
    pub raw_report: Value,
    pub fetched_at: DateTime<Utc>,
}

/// Filters for reading logs back.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LogFilter {
    pub module: Option<String>,
    pub level: Option<String>,
    pub since: Option<DateTime<Utc>>,
    pub limit: u32,
}

/// Whether an insert wrote a new row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Inserted {
    New(i64),
    Duplicate(i64),
}

// ---------------------------------------------------------------- repositories

#[async_trait]
pub trait UserRepo: Send + Sync {
    async fn create_user(&self, user: &StoredUser) -> Result<(), BozError>;
    async fn get_user(&self, id: &str) -> Result<StoredUser, BozError>;
    async fn list_users(&self) -> Result<Vec<StoredUser>, BozError>;
    async fn update_user_settings(&self, id: &str, settings: &UserSettings)
    -> Result<(), BozError>;
    /// Replaces users' encrypted keys in one transaction: each `(id, old, new)` is applied only if
    /// the stored value is still `old`; if any is not, nothing changes.
    async fn replace_encrypted_keys(
        &self,
        changes: &[(String, String, String)],
    ) -> Result<(), BozError>;
}

#[async_trait]
pub trait WeatherRepo: Send + Sync {
    /// Stores a forecast unless the same (city, date, source, model run) is already stored.
    async fn insert_forecast(&self, data: &WeatherData) -> Result<Inserted, BozError>;
    /// Forecasts for a city and climate date, oldest fetch first.
    async fn forecasts_for(
        &self,
        city: &CityCode,
        date: NaiveDate,
    ) -> Result<Vec<StoredForecast>, BozError>;
    /// Stores many forecasts in one transaction (duplicates skipped); returns how many were new.
    async fn insert_forecasts(&self, batch: &[WeatherData]) -> Result<u64, BozError>;
    /// Forecasts for a city's climate dates `from..=to`, by date then fetch time.
    async fn forecasts_between(
        &self,
        city: &CityCode,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<Vec<StoredForecast>, BozError>;
}

#[async_trait]
pub trait PredictionRepo: Send + Sync {
    /// Stores a prediction with the provenance of its inputs.
    async fn insert_prediction(
        &self,
        p: &BracketPrediction,
        provenance: &Value,
    ) -> Result<i64, BozError>;
    async fn latest_prediction(
        &self,
        city: &CityCode,
        date: NaiveDate,
    ) -> Result<Option<StoredPrediction>, BozError>;
}

#[async_trait]
pub trait TradeRepo: Send + Sync {
    async fn insert_trade(&self, trade: &StoredTrade) -> Result<(), BozError>;
    /// A trade of this user (another user's trade is "not found").
    async fn get_trade(&self, user_id: &str, id: &str) -> Result<StoredTrade, BozError>;
    async fn list_trades(
        &self,
        user_id: &str,
        filter: &TradeFilter,
    ) -> Result<Vec<StoredTrade>, BozError>;
    /// Moves a trade from its current status to `to`, if the transition is legal and nobody
    /// changed the status in between. Returns the previous status.
    async fn transition_trade(
        &self,
        user_id: &str,
        id: &str,
        to: TradeStatus,
    ) -> Result<TradeStatus, BozError>;
    /// Records the outcome of an executed trade (WON, LOST or CANCELLED).
    async fn settle_trade(
        &self,
        user_id: &str,
        id: &str,
        outcome: &TradeSettlement,
    ) -> Result<(), BozError>;
    async fn set_postmortem(&self, user_id: &str, id: &str, text: &str) -> Result<(), BozError>;
    /// The structured post-mortem stored when the trade was settled (`None` before).
    async fn get_postmortem(&self, user_id: &str, id: &str) -> Result<Option<Value>, BozError>;
}

#[async_trait]
pub trait SettlementRepo: Send + Sync {
    /// Stores a city's settled high; a later report for the same day replaces it and the
    /// previous row is returned.
    async fn upsert_settlement(
        &self,
        row: &SettlementRow,
    ) -> Result<Option<SettlementRow>, BozError>;
    async fn get_settlement(
        &self,
        city: &CityCode,
        date: NaiveDate,
    ) -> Result<Option<SettlementRow>, BozError>;
    /// A city's settled highs for dates `from..=to`, by date.
    async fn settlements_between(
        &self,
        city: &CityCode,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<Vec<SettlementRow>, BozError>;
}

/// One market's prices at one moment, with the bracket it pays on.
#[derive(Debug, Clone, PartialEq)]
pub struct MarketSnapshot {
    pub city: CityCode,
    pub event_date: NaiveDate,
    pub event_ticker: String,
    pub ticker: String,
    /// Inclusive whole-degree bounds that pay YES (`None` for an open tail).
    pub lower_bound_f: Option<i32>,
    pub upper_bound_f: Option<i32>,
    pub as_of: DateTime<Utc>,
    pub yes_bid: Option<Price>,
    pub yes_ask: Option<Price>,
    pub last_price: Option<Price>,
    pub volume: Option<Count>,
    /// Where it came from: "kalshi-ws", "kalshi-trades", "kalshi-candles", ...
    pub source: String,
    /// The book's depth when it was recorded from a book (none from trades or candles).
    pub depth: Option<BookDepth>,
}

/// A summary of a market's book: the size at the best YES bid and ask, and the contracts
/// resting on each side, with the number of price levels.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BookDepth {
    pub yes_bid_size: Count,
    pub yes_ask_size: Count,
    /// Every YES bid's contracts.
    pub yes_bid_depth: Count,
    /// Every YES ask's contracts (the NO bids).
    pub yes_ask_depth: Count,
    pub bid_levels: u32,
    pub ask_levels: u32,
}

impl MarketSnapshot {
    /// The mid of bid and ask when both exist, else the last price.
    pub fn mid_or_last(&self) -> Option<rust_decimal::Decimal> {
        match (self.yes_bid, self.yes_ask) {
            (Some(b), Some(a)) => {
                Some((b.as_decimal() + a.as_decimal()) / rust_decimal::Decimal::TWO)
            }
            _ => self.last_price.map(|p| p.as_decimal()),
        }
    }
}

/// One trade printed on a market (Kalshi's public trade list), kept so a backtest can rebuild
/// the book conservatively from what actually traded.
#[derive(Debug, Clone, PartialEq)]
pub struct MarketTrade {
    /// Kalshi's id: a repeated download of the same trade adds nothing.
    pub trade_id: String,
    pub city: CityCode,
    pub event_date: NaiveDate,
    pub ticker: String,
    pub created_time: DateTime<Utc>,
    pub yes_price: Price,
    pub count: Count,
    /// The side the taker bought ("yes" or "no"), when reported.
    pub taker_side: Option<String>,
    /// Where it came from: "kalshi-trades" (live list) or "kalshi-historical-trades".
    pub source: String,
}

#[async_trait]
pub trait MarketSnapshotRepo: Send + Sync {
    /// Stores snapshots in one transaction (a repeat of ticker, time and source is skipped);
    /// returns how many were new.
    async fn insert_market_snapshots(&self, batch: &[MarketSnapshot]) -> Result<u64, BozError>;
    /// Snapshots of a city's events dated `from..=to`, by event date, ticker and time.
    async fn market_snapshots_between(
        &self,
        city: &CityCode,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<Vec<MarketSnapshot>, BozError>;
    /// The newest snapshot of each market of a city's events dated `from..=to` (one per
    /// ticker), by event date and ticker.
    async fn latest_market_snapshots(
        &self,
        city: &CityCode,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<Vec<MarketSnapshot>, BozError>;
    /// Stores market trades in one transaction (a trade id already stored is skipped); returns
    /// how many were new.
    async fn insert_market_trades(&self, batch: &[MarketTrade]) -> Result<u64, BozError>;
    /// The trades of a city's markets for events dated `from..=to`, by ticker and time.
    async fn market_trades_between(
        &self,
        city: &CityCode,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<Vec<MarketTrade>, BozError>;
}

#[async_trait]
pub trait LogRepo: LogSink {
    async fn recent_logs(&self, filter: &LogFilter) -> Result<Vec<LogRecord>, BozError>;
}

// ---------------------------------------------------------------- notifications

/// What a notification is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NotificationKind {
    TradeExecuted,
    TradeSettled,
    TradingHalted,
    SourceDown,
}

/// One notification: a one-line title, a plain-language text and the facts as JSON.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Notification {
    pub kind: NotificationKind,
    pub title: String,
    pub text: String,
    pub data: Value,
}

/// Where notifications go (a webhook). Delivery failures are the notifier's to log: callers
/// never wait on them or fail because of them.
#[async_trait]
pub trait Notifier: Send + Sync {
    async fn notify(&self, n: &Notification);
}

// ---------------------------------------------------------------- trading: risk, orders, approvals

/// A user's trading state. ACTIVE trades normally; REDUCING trades at half the Kelly size (set
/// by the risk engine after a loss streak one short of the limit or half the daily loss limit,
/// and back to ACTIVE on the next trading day); HALTED places nothing new: the kill switch, the
/// daily loss limit or the consecutive-loss limit set it, and only the user resumes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum TradingState {
    Active,
    Reducing,
    Halted,
}

impl TradingState {
    pub fn as_str(self) -> &'static str {
        match self {
            TradingState::Active => "ACTIVE",
            TradingState::Reducing => "REDUCING",
            TradingState::Halted => "HALTED",
        }
    }
}

impl std::str::FromStr for TradingState {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "ACTIVE" => Ok(TradingState::Active),
            "REDUCING" => Ok(TradingState::Reducing),
            "HALTED" => Ok(TradingState::Halted),
            other => Err(format!("{other:?} is not ACTIVE, REDUCING or HALTED")),
        }
    }
}

/// A user's risk accounting for one trading day, and the state that outlives the day.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RiskStatus {
    pub user_id: String,
    pub trading_day: NaiveDate,
    /// Dollars committed today (cost and fees of filled and in-flight orders).
    pub exposure: Dollars,
    /// Settled profit and loss of today's settlements (negative: a loss).
    pub realized_pnl: Dollars,
    pub consecutive_losses: u32,
    pub last_loss_at: Option<DateTime<Utc>>,
    pub state: TradingState,
    pub state_reason: Option<String>,
    pub state_changed_by: Option<String>,
    pub state_changed_at: Option<DateTime<Utc>>,
}

impl RiskStatus {
    /// A user's accounting on a day nothing happened: no exposure, no P&L, no streak, ACTIVE.
    pub fn fresh(user_id: &str, trading_day: NaiveDate) -> RiskStatus {
        RiskStatus {
            user_id: user_id.to_string(),
            trading_day,
            exposure: Dollars::ZERO,
            realized_pnl: Dollars::ZERO,
            consecutive_losses: 0,
            last_loss_at: None,
            state: TradingState::Active,
            state_reason: None,
            state_changed_by: None,
            state_changed_at: None,
        }
    }
}

/// Where an order stands on our side.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OrderStatus {
    /// Stored, not yet known to have reached the exchange.
    New,
    /// Sent, outcome unknown (timeout or transport error): reconcile by client order id.
    Unknown,
    Resting,
    Executed,
    Canceled,
    /// Refused by the exchange (nothing filled).
    Rejected,
}

impl OrderStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            OrderStatus::New => "new",
            OrderStatus::Unknown => "unknown",
            OrderStatus::Resting => "resting",
            OrderStatus::Executed => "executed",
            OrderStatus::Canceled => "canceled",
            OrderStatus::Rejected => "rejected",
        }
    }

    /// Whether nothing more can happen to the order.
    pub fn is_final(self) -> bool {
        matches!(
            self,
            OrderStatus::Executed | OrderStatus::Canceled | OrderStatus::Rejected
        )
    }
}

impl std::str::FromStr for OrderStatus {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(match s {
            "new" => OrderStatus::New,
            "unknown" => OrderStatus::Unknown,
            "resting" => OrderStatus::Resting,
            "executed" => OrderStatus::Executed,
            "canceled" => OrderStatus::Canceled,
            "rejected" => OrderStatus::Rejected,
            other => return Err(format!("{other:?} is not an order status")),
        })
    }
}

/// Our record of one order, stored before it is sent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OrderRecord {
    pub request: OrderRequest,
    pub user_id: String,
    pub trade_id: String,
    pub trading_day: NaiveDate,
    /// Exposure held for it: the limit cost plus the fee.
    pub reserved: Dollars,
    pub status: OrderStatus,
    pub exchange_order_id: Option<String>,
    pub filled: Count,
    pub fill_cost: Dollars,
    pub fees: Dollars,
    /// When the market closes (resting orders are cancelled before).
    pub close_time: Option<DateTime<Utc>>,
    pub detail: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// The exposure caps an order is checked against, atomically with storing it.
#[derive(Debug, Clone, PartialEq)]
pub struct ExposureLimits {
    /// `max_daily_exposure`: everything committed in the trading day.
    pub daily: Dollars,
    /// The per-event cap: (event ticker, dollars) over the day's orders in that event's markets.
    pub event: Option<(String, Dollars)>,
}

/// The outcome of opening an order.
#[derive(Debug, Clone, PartialEq)]
pub enum Opened {
    /// Stored now, with its trade and exposure: send it.
    New,
    /// An order with this client order id already exists: reconcile it, never send again.
    Existing(Box<OrderRecord>),
}

/// A trade waiting for approval, with who decided and when.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredApproval {
    pub pending: PendingTrade,
    pub decided_by: Option<String>,
    pub decided_at: Option<DateTime<Utc>>,
    pub reason: Option<String>,
}

#[async_trait]
pub trait RiskRepo: Send + Sync {
    /// The user's accounting for the trading day (zero if nothing happened yet).
    async fn risk_status(&self, user_id: &str, day: NaiveDate) -> Result<RiskStatus, BozError>;
    /// Records a settled result: adds to the day's P&L; a loss extends the losing streak and
    /// starts the cooldown clock, a win ends the streak.
    async fn record_result(
        &self,
        user_id: &str,
        day: NaiveDate,
        pnl: Dollars,
        at: DateTime<Utc>,
    ) -> Result<RiskStatus, BozError>;
    /// Settles an EXECUTED trade in one transaction: its outcome (WON or LOST, the settled high,
    /// the P&L), its post-mortem (narrative and structured), and the result in the risk
    /// accounting of `day` (P&L, losing streak, cooldown clock). Returns false, changing
    /// nothing, when the trade is already settled.
    async fn settle_with_risk(
        &self,
        user_id: &str,
        trade_id: &str,
        outcome: &TradeSettlement,
        day: NaiveDate,
        narrative: &str,
        postmortem: &Value,
    ) -> Result<bool, BozError>;
    /// Sets the trading state (kill switch, automatic halt, resume), with who and why.
    async fn set_trading_state(
        &self,
        user_id: &str,
        state: TradingState,
        reason: &str,
        by: &str,
        at: DateTime<Utc>,
    ) -> Result<(), BozError>;
}

#[async_trait]
pub trait OrderRepo: Send + Sync {
    /// In one transaction: unless an order with this client order id exists, reserves
    /// `order.reserved` of the day's exposure (refused with `RiskLimitError` if the day's or the
    /// event's total would pass its limit), stores the trade (or, for an approved manual trade, finds it in
    /// APPROVED) and the order.
    async fn open_order(
        &self,
        order: &OrderRecord,
        trade: Option<&StoredTrade>,
        limits: &ExposureLimits,
    ) -> Result<Opened, BozError>;
    /// In one transaction: records the exchange's view of the order; once final, the trade
    /// becomes EXECUTED with the filled quantity and average price (or CANCELLED if nothing
    /// filled), and exposure held beyond the fill's cost and fees is released.
    async fn update_order(
        &self,
        client_order_id: &str,
        state: Option<&OrderState>,
        status: OrderStatus,
        detail: Option<&str>,
        at: DateTime<Utc>,
    ) -> Result<OrderRecord, BozError>;
    async fn get_order(&self, client_order_id: &str) -> Result<Option<OrderRecord>, BozError>;
    /// Orders in any of these states (for reconciliation), oldest first.
    async fn orders_in(&self, statuses: &[OrderStatus]) -> Result<Vec<OrderRecord>, BozError>;
    /// A user's orders of one trading day.
    async fn user_orders(
        &self,
        user_id: &str,
        day: NaiveDate,
    ) -> Result<Vec<OrderRecord>, BozError> {
        self.user_orders_between(user_id, day, day).await
    }
    /// A user's orders of the trading days `from..=to`, oldest first.
    async fn user_orders_between(
        &self,
        user_id: &str,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<Vec<OrderRecord>, BozError>;
}

#[async_trait]
pub trait ApprovalRepo: Send + Sync {
    /// Stores a PENDING trade and its approval entry in one transaction.
    async fn queue_trade(
        &self,
        trade: &StoredTrade,
        pending: &PendingTrade,
    ) -> Result<(), BozError>;
    async fn get_approval(&self, user_id: &str, id: &str) -> Result<StoredApproval, BozError>;
    /// A user's queue entries, newest first (`pending_only`: those still PENDING).
    async fn list_approvals(
        &self,
        user_id: &str,
        pending_only: bool,
    ) -> Result<Vec<StoredApproval>, BozError>;
    /// Moves a PENDING entry (and its trade) to APPROVED, REJECTED or EXPIRED, recording who,
    /// when and why; refused if it is no longer PENDING.
    async fn decide_approval(
        &self,
        user_id: &str,
        id: &str,
        to: TradeStatus,
        by: &str,
        at: DateTime<Utc>,
        reason: Option<&str>,
    ) -> Result<(), BozError>;
}

// ---------------------------------------------------------------- pipeline jobs

/// How a job run ended (or that it has not yet).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum JobOutcome {
    Running,
    Ok,
    Failed,
    /// Not run: a run of the same job was still going in the same process (the tick is
    /// covered by it).
    Skipped,
}

impl JobOutcome {
    pub fn as_str(self) -> &'static str {
        match self {
            JobOutcome::Running => "running",
            JobOutcome::Ok => "ok",
            JobOutcome::Failed => "failed",
            JobOutcome::Skipped => "skipped",
        }
    }
}

impl std::str::FromStr for JobOutcome {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "running" => Ok(JobOutcome::Running),
            "ok" => Ok(JobOutcome::Ok),
            "failed" => Ok(JobOutcome::Failed),
            "skipped" => Ok(JobOutcome::Skipped),
            other => Err(format!("unknown job outcome {other:?}")),
        }
    }
}

/// One run of a pipeline job: which job, for which scheduled tick, on which worker, when, how
/// long, and how it ended. A run whose worker died stays `running` (a later run of the same
/// tick shows it was picked up again).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JobRun {
    pub id: String,
    pub job: String,
    pub tick: DateTime<Utc>,
    pub worker: String,
    pub started_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
    pub duration_ms: Option<i64>,
    pub outcome: JobOutcome,
    pub error: Option<String>,
    pub summary: Option<Value>,
}

/// The health view of one job: its newest run, its newest finished run (ok or failed; a run may
/// still be going), and its newest successful run.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct JobStatus {
    pub job: String,
    /// When the job first ran.
    pub first_started_at: DateTime<Utc>,
    pub last: JobRun,
    pub last_finished: Option<JobRun>,
    pub last_ok: Option<JobRun>,
}

#[async_trait]
pub trait JobRepo: Send + Sync {
    /// Records that a run started (outcome `running`).
    async fn start_job_run(&self, run: &JobRun) -> Result<(), BozError>;
    /// Records how a started run ended.
    async fn finish_job_run(
        &self,
        id: &str,
        finished_at: DateTime<Utc>,
        outcome: JobOutcome,
        error: Option<&str>,
        summary: Option<&Value>,
    ) -> Result<(), BozError>;
    /// The newest run of every job, with its newest successful run.
    async fn job_statuses(&self) -> Result<Vec<JobStatus>, BozError>;
    /// Every run of one job since `since`, oldest first.
    async fn job_runs_since(
        &self,
        job: &str,
        since: DateTime<Utc>,
    ) -> Result<Vec<JobRun>, BozError>;
    /// Deletes the runs started before `before`; returns how many.
    async fn prune_job_runs(&self, before: DateTime<Utc>) -> Result<u64, BozError>;
    /// Takes the named lease for `holder` until `until` if it is free, expired (at `now`) or
    /// already `holder`'s; false when someone else holds it.
    async fn acquire_lease(
        &self,
        name: &str,
        holder: &str,
        until: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<bool, BozError>;
    /// Gives the lease back if `holder` still holds it.
    async fn release_lease(&self, name: &str, holder: &str) -> Result<(), BozError>;
}

// ---------------------------------------------------------------- logins

/// A sign-in name for a user, with its password hash (PHC string, never the password).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Login {
    pub username: String,
    pub user_id: String,
    pub password_hash: String,
    /// "admin" or "user".
    pub role: String,
    /// A one-time password must be changed at the first sign-in.
    pub must_change_password: bool,
    pub created_at: DateTime<Utc>,
}

#[async_trait]
pub trait LoginRepo: Send + Sync {
    /// Creates `user` (unless it exists) and the login in one transaction. A login with the
    /// same username is a conflict.
    async fn create_login(&self, user: &StoredUser, login: &Login) -> Result<(), BozError>;
    async fn get_login(&self, username: &str) -> Result<Option<Login>, BozError>;
    /// Whether any login has the admin role.
    async fn admin_exists(&self) -> Result<bool, BozError>;
    /// Every login, by username.
    async fn list_logins(&self) -> Result<Vec<Login>, BozError>;
    /// Replaces a login's password hash and ends its sessions, in one transaction.
    async fn set_password(
        &self,
        username: &str,
        password_hash: &str,
        must_change_password: bool,
    ) -> Result<(), BozError>;
    async fn create_session(&self, session: &Session) -> Result<(), BozError>;
    /// The session with this id hash, unless it has expired at `now`.
    async fn get_session(
        &self,
        id_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<Session>, BozError>;
    async fn delete_session(&self, id_hash: &str) -> Result<(), BozError>;
    async fn create_token(&self, token: &ApiToken) -> Result<(), BozError>;
    /// The token with this hash, marking it used at `now` (to the minute: the last use is
    /// written only when it is [`TOKEN_TOUCH_SECONDS`] old or more).
    async fn use_token(
        &self,
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<ApiToken>, BozError>;
    async fn list_tokens(&self, user_id: &str) -> Result<Vec<ApiToken>, BozError>;
    /// Deletes one of the user's tokens (another user's token is "not found").
    async fn delete_token(&self, user_id: &str, id: &str) -> Result<(), BozError>;
    /// Stores a user's Kalshi key id, encrypted private key and environment ("demo" or
    /// "prod"); `None` for all three disconnects.
    async fn set_kalshi_key(
        &self,
        user_id: &str,
        key: Option<(&str, &str, &str)>,
    ) -> Result<(), BozError>;
    /// The environment of a user's stored Kalshi key, if one is stored.
    async fn kalshi_env(&self, user_id: &str) -> Result<Option<String>, BozError>;
}

/// A signed-in browser session. Only the hash of its cookie value is stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Session {
    pub id_hash: String,
    pub username: String,
    pub user_id: String,
    /// The token every state-changing form and request must carry.
    pub csrf_token: String,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

/// How stale a token's recorded last use may be before a use writes it again.
pub const TOKEN_TOUCH_SECONDS: i64 = 60;

/// A personal API token for scripts. Only its hash is stored; the token is shown once.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ApiToken {
    pub id: String,
    pub user_id: String,
    pub name: String,
    #[serde(skip_serializing)]
    pub token_hash: String,
    pub created_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
}

/// Every repository, on one database.
#[async_trait]
pub trait Store:
    UserRepo
    + WeatherRepo
    + PredictionRepo
    + TradeRepo
    + SettlementRepo
    + MarketSnapshotRepo
    + RiskRepo
    + OrderRepo
    + ApprovalRepo
    + JobRepo
    + LoginRepo
    + LogRepo
    + Send
    + Sync
{
    /// "sqlite" or "postgres".
    fn backend(&self) -> &'static str;
    /// Checks the database answers.
    async fn ping(&self) -> Result<(), BozError>;
}

// ---------------------------------------------------------------- edges (filled in later)

/// A source of forecasts (NWS, an Open-Meteo model, ...): the weather issue implements it.
#[async_trait]
pub trait ForecastSource: Send + Sync {
    /// The source name used in `WeatherData.source`, e.g. "NWS" or "Open-Meteo:GFS".
    fn name(&self) -> &str;
    /// This source's forecasts of the city's climate-day high for each of `dates` (a date the
    /// source has nothing for is left out; one request serves all dates).
    async fn fetch(&self, city: &City, dates: &[NaiveDate]) -> Result<Vec<WeatherData>, BozError>;
}

/// Top of book for one market.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TopOfBook {
    pub ticker: String,
    pub yes_bid: Option<Price>,
    pub yes_bid_size: Count,
    pub no_bid: Option<Price>,
    pub no_bid_size: Count,
    pub as_of: DateTime<Utc>,
}

/// Market data (Kalshi REST or WebSocket, or a recording): the Kalshi issue implements it.
#[async_trait]
pub trait MarketData: Send + Sync {
    /// The city's open events with their brackets.
    async fn open_events(&self, city: &City) -> Result<Vec<MarketEvent>, BozError>;
    /// Top of book for each market of the event.
    async fn top_of_book(&self, event_ticker: &str) -> Result<Vec<TopOfBook>, BozError>;
    /// A market's result once it is finalized (`None` before).
    async fn market_result(&self, ticker: &str) -> Result<Option<MarketResult>, BozError>;
}

/// What a finalized market paid.
#[derive(Debug, Clone, PartialEq)]
pub struct MarketResult {
    pub ticker: String,
    pub yes_won: bool,
    /// Kalshi's `expiration_value` read as whole degrees, when it is a number.
    pub settled_high_f: Option<i32>,
    /// The last YES price before the close.
    pub last_price: Option<Price>,
}

/// Whether a settled high (whole °F) pays YES on a bracket with these inclusive bounds (`None`:
/// an open tail). The one rule every bracket type uses.
pub fn bracket_pays(lower_bound_f: Option<i32>, upper_bound_f: Option<i32>, high_f: i32) -> bool {
    lower_bound_f.is_none_or(|l| high_f >= l) && upper_bound_f.is_none_or(|u| high_f <= u)
}

/// One market of an event and the whole degrees it pays on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MarketBracket {
    pub ticker: String,
    pub lower_bound_f: Option<i32>,
    pub upper_bound_f: Option<i32>,
}

impl MarketBracket {
    /// Whether a settled high (whole °F) pays YES on this market.
    pub fn contains(&self, high_f: i32) -> bool {
        bracket_pays(self.lower_bound_f, self.upper_bound_f, high_f)
    }
}

/// An open event: its brackets, when it closes and how it is charged.
#[derive(Debug, Clone, PartialEq)]
pub struct MarketEvent {
    pub event_ticker: String,
    pub city: CityCode,
    pub date: NaiveDate,
    pub brackets: Vec<MarketBracket>,
    pub close_time: Option<DateTime<Utc>>,
    pub fees: crate::fees::FeeSchedule,
}

/// How long an order lives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TimeInForce {
    FillOrKill,
    GoodTillCanceled,
    ImmediateOrCancel,
}

/// An order to send. `client_order_id` is persisted before sending.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OrderRequest {
    pub client_order_id: String,
    pub ticker: String,
    /// The side bought.
    pub side: Side,
    /// Limit price of the side bought.
    pub price: Price,
    pub count: Count,
    pub time_in_force: TimeInForce,
}

/// The exchange's view of an order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OrderState {
    pub order_id: String,
    pub client_order_id: String,
    pub filled: Count,
    pub remaining: Count,
    /// What the filled contracts cost, fees excluded (the side bought).
    pub fill_cost: Dollars,
    pub fees: Dollars,
    pub status: String,
}

/// Where orders go (live Kalshi, demo, or the paper exchange): the Kalshi issue implements it.
#[async_trait]
pub trait Exchange: Send + Sync {
    async fn place_order(&self, order: &OrderRequest) -> Result<OrderState, BozError>;
    async fn cancel_order(&self, order_id: &str) -> Result<OrderState, BozError>;
    /// Looks an order up by its client order id (after a timeout, instead of resending).
    async fn find_order(&self, client_order_id: &str) -> Result<Option<OrderState>, BozError>;
    async fn balance(&self) -> Result<Dollars, BozError>;
    /// Open positions: contracts held per market and side.
    async fn positions(&self) -> Result<Vec<ExchangePosition>, BozError>;
}

/// Contracts held in one market.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExchangePosition {
    pub ticker: String,
    pub yes: Count,
    pub no: Count,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manual_clock_moves_only_when_told() {
        let t0 = DateTime::parse_from_rfc3339("2026-02-17T10:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let c = ManualClock::new(t0);
        assert_eq!(c.now(), t0);
        c.advance(chrono::Duration::minutes(5));
        assert_eq!(c.now(), t0 + chrono::Duration::minutes(5));
        c.set(t0);
        assert_eq!(c.now(), t0);
    }

    #[test]
    fn stored_user_debug_hides_the_key() {
        let u = StoredUser {
            id: "u1".into(),
            api_key_id: "k".into(),
            encrypted_private_key: "v1.secret-token".into(),
            settings: Value::Null,
            created_at: Utc::now(),
        };
        assert!(!format!("{u:?}").contains("secret-token"));
    }
}
