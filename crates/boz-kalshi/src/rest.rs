//! The Kalshi REST client (Trade API v2), for what this system needs so far: exchange status,
//! series fees, weather events with their markets, order books, the balance, and V2 order
//! creation with lookup by `client_order_id`.
//!
//! - Every authenticated call is signed (`boz-crypto`): `timestamp_ms + METHOD + path`, the path
//!   from `/trade-api/v2` without the query string.
//! - Client-side token buckets for Read and Write (10 tokens a request; Basic tier 200 / 100 per
//!   second by default); every request has a timeout.
//! - GETs are retried on 429, 5xx, timeouts and connection failures with jittered backoff. Order
//!   creation is never retried: after a timeout or a 5xx the order is looked up by its
//!   `client_order_id`, and only if it is not there is the failure reported.
//! - Lists are read page by page until the cursor is empty or missing.
//! - Error bodies come in three shapes (`{"error": {"code", "message"}}`, `{"error": "..."}`,
//!   `{"code", "message"}`) and become typed errors.

use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration as StdDuration;

use backon::{ExponentialBuilder, Retryable};
use boz_common::error::{BozError, ErrorKind};
use boz_common::fees::{FeeSchedule, FeeType};
use boz_common::money::{Count, Dollars};
use boz_common::ports::{Clock, ExchangePosition, OrderRequest, OrderState, TimeInForce};
use boz_common::schemas::Side;
use boz_crypto::KalshiSigner;
use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use reqwest::Method;
use rust_decimal::Decimal;
use serde_json::{Value, json};

use crate::book::OrderBook;
use crate::market::{WeatherEvent, event_from_api};

/// Tokens one request costs.
const REQUEST_COST: u32 = 10;

/// Kalshi's hosts.
pub const PROD_URL: &str = "https://external-api.kalshi.com/trade-api/v2";
pub const DEMO_URL: &str = "https://external-api.demo.kalshi.co/trade-api/v2";

/// An account's key: its id and signer.
#[derive(Clone)]
pub struct Credentials {
    pub api_key_id: String,
    pub signer: Arc<KalshiSigner>,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("api_key_id", &self.api_key_id)
            .finish_non_exhaustive()
    }
}

/// How to reach Kalshi.
#[derive(Debug, Clone)]
pub struct KalshiConfig {
    /// Including `/trade-api/v2`.
    pub base_url: String,
    pub credentials: Option<Credentials>,
    pub timeout: StdDuration,
    pub read_tokens_per_second: u32,
    pub write_tokens_per_second: u32,
    pub retries: usize,
    pub min_delay: StdDuration,
}

/// Errors of the Kalshi client. Messages never carry keys or signatures.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum KalshiError {
    #[error("Kalshi refused the credentials ({status}): {message}")]
    Authentication { status: u16, message: String },
    #[error("Kalshi: not found: {message}")]
    NotFound { message: String },
    #[error("Kalshi: conflict: {message}")]
    Conflict { message: String },
    #[error("Kalshi: market inactive: {message}")]
    MarketInactive { message: String },
    #[error("Kalshi: insufficient balance: {message}")]
    InsufficientBalance { message: String },
    #[error("Kalshi: invalid order ({code}): {message}")]
    InvalidOrder { code: String, message: String },
    #[error("Kalshi: rate limited: {message}")]
    RateLimited { message: String },
    #[error("Kalshi: HTTP {status} {code}: {message}")]
    Upstream {
        status: u16,
        code: String,
        message: String,
    },
    #[error("Kalshi: {path} did not answer within the timeout")]
    Timeout { path: String },
    #[error("Kalshi: cannot reach {path}: {reason}")]
    Connect { path: String, reason: String },
    #[error("Kalshi: malformed response from {path}: {reason}")]
    Malformed { path: String, reason: String },
    #[error("Kalshi: {0} needs credentials (KALSHI_API_KEY_ID and a private key)")]
    NoCredentials(String),
}

impl KalshiError {
    fn is_transient(&self) -> bool {
        matches!(
            self,
            KalshiError::RateLimited { .. }
                | KalshiError::Timeout { .. }
                | KalshiError::Connect { .. }
        ) || matches!(self, KalshiError::Upstream { status, .. } if *status >= 500)
    }

    /// Whether an order may have reached Kalshi even though the call failed.
    fn order_fate_unknown(&self) -> bool {
        matches!(self, KalshiError::Timeout { .. })
            || matches!(self, KalshiError::Upstream { status, .. } if *status >= 500)
    }
}

impl From<KalshiError> for BozError {
    fn from(e: KalshiError) -> Self {
        let kind = match &e {
            KalshiError::Authentication { .. } | KalshiError::NoCredentials(_) => {
                ErrorKind::AuthenticationError
            }
            KalshiError::NotFound { .. } => ErrorKind::NotFoundError,
            KalshiError::Conflict { .. } => ErrorKind::ConflictError,
            KalshiError::InsufficientBalance { .. } => ErrorKind::InsufficientBalanceError,
            KalshiError::InvalidOrder { .. } | KalshiError::MarketInactive { .. } => {
                ErrorKind::InvalidOrderError
            }
            _ => ErrorKind::UpstreamError,
        };
        BozError::new(
            kind,
            e.to_string(),
            boz_common::context!("service" => "Kalshi"),
        )
    }
}

/// Reads an error body in any of the three observed shapes into (code, message).
pub fn parse_error_body(body: &str) -> (String, String) {
    let v: Value = serde_json::from_str(body).unwrap_or(Value::Null);
    let text = |v: &Value, k: &str| {
        v.get(k)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string()
    };
    match v.get("error") {
        Some(Value::String(s)) => (String::new(), s.clone()),
        Some(obj @ Value::Object(_)) => (text(obj, "code"), text(obj, "message")),
        _ if v.get("code").is_some() || v.get("message").is_some() => {
            (text(&v, "code"), text(&v, "message"))
        }
        _ => (String::new(), body.chars().take(200).collect()),
    }
}

fn classify(status: u16, body: &str) -> KalshiError {
    let (code, message) = parse_error_body(body);
    let lower = code.to_ascii_lowercase();
    match status {
        401 | 403 => KalshiError::Authentication { status, message },
        404 => KalshiError::NotFound { message },
        409 => KalshiError::Conflict { message },
        429 => KalshiError::RateLimited { message },
        _ if lower == "market_inactive" => KalshiError::MarketInactive { message },
        _ if lower.contains("insufficient_balance") || lower.contains("balance_too_low") => {
            KalshiError::InsufficientBalance { message }
        }
        400 => KalshiError::InvalidOrder { code, message },
        422 if lower.starts_with("invalid") || lower.contains("order") => {
            KalshiError::InvalidOrder { code, message }
        }
        _ => KalshiError::Upstream {
            status,
            code,
            message,
        },
    }
}

/// The status-and-body classification, exposed for tests.
#[doc(hidden)]
pub fn classify_for_tests(status: u16, body: &str) -> KalshiError {
    classify(status, body)
}

fn limiter(tokens_per_second: u32) -> DefaultDirectRateLimiter {
    let rate = NonZeroU32::new(tokens_per_second.max(REQUEST_COST)).unwrap_or(NonZeroU32::MIN);
    RateLimiter::direct(Quota::per_second(rate))
}

/// How to decrease a resting order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decrease {
    By(Count),
    To(Count),
}

/// A series' facts this system uses.
#[derive(Debug, Clone, PartialEq)]
pub struct SeriesInfo {
    pub ticker: String,
    pub fees: FeeSchedule,
    pub settlement_sources: Vec<String>,
}

/// The Kalshi REST client.
pub struct KalshiClient {
    http: reqwest::Client,
    config: KalshiConfig,
    /// The path prefix signed with every request (`/trade-api/v2`).
    path_prefix: String,
    read: DefaultDirectRateLimiter,
    write: DefaultDirectRateLimiter,
    clock: Arc<dyn Clock>,
}

impl KalshiClient {
    pub fn new(config: KalshiConfig, clock: Arc<dyn Clock>) -> Result<KalshiClient, KalshiError> {
        let url = reqwest::Url::parse(&config.base_url).map_err(|e| KalshiError::Connect {
            path: String::new(),
            reason: format!("KALSHI_BASE_URL is not a URL: {e}"),
        })?;
        let path_prefix = url.path().trim_end_matches('/').to_string();
        let http = reqwest::Client::builder()
            .timeout(config.timeout)
            .connect_timeout(config.timeout.min(StdDuration::from_secs(10)))
            .build()
            .map_err(|e| KalshiError::Connect {
                path: String::new(),
                reason: e.to_string(),
            })?;
        Ok(KalshiClient {
            read: limiter(config.read_tokens_per_second),
            write: limiter(config.write_tokens_per_second),
            http,
            path_prefix,
            config,
            clock,
        })
    }

    /// One request, signed when `auth` (or whenever credentials exist), not retried.
    async fn send(
        &self,
        method: Method,
        path: &str,
        query: &[(&str, String)],
        body: Option<&Value>,
        auth: bool,
    ) -> Result<Value, KalshiError> {
        let bucket = if method == Method::GET {
            &self.read
        } else {
            &self.write
        };
        let cost = NonZeroU32::new(REQUEST_COST).unwrap_or(NonZeroU32::MIN);
        let _ = bucket.until_n_ready(cost).await;
        let url = format!("{}{path}", self.config.base_url.trim_end_matches('/'));
        let mut req = self.http.request(method.clone(), &url).query(query);
        match (&self.config.credentials, auth) {
            (Some(c), _) => {
                let ts = self.clock.now().timestamp_millis();
                let signed_path = format!("{}{path}", self.path_prefix);
                let headers = c
                    .signer
                    .headers(&c.api_key_id, ts, method.as_str(), &signed_path)
                    .map_err(|e| KalshiError::Authentication {
                        status: 0,
                        message: e.to_string(),
                    })?;
                for (name, value) in headers {
                    let mut v = reqwest::header::HeaderValue::from_str(&value).map_err(|_| {
                        KalshiError::Authentication {
                            status: 0,
                            message: format!("header {name} is not valid"),
                        }
                    })?;
                    v.set_sensitive(true);
                    req = req.header(name, v);
                }
            }
            (None, true) => return Err(KalshiError::NoCredentials(path.to_string())),
            (None, false) => {}
        }
        if let Some(b) = body {
            req = req.json(b);
        }
        let transport = |e: reqwest::Error| {
            if e.is_timeout() {
                KalshiError::Timeout {
                    path: path.to_string(),
                }
            } else {
                KalshiError::Connect {
                    path: path.to_string(),
                    reason: e.without_url().to_string(),
                }
            }
        };
        let resp = req.send().await.map_err(transport)?;
        let status = resp.status().as_u16();
        let text = resp.text().await.map_err(transport)?;
        if !(200..300).contains(&status) {
            return Err(classify(status, &text));
        }
        if text.trim().is_empty() {
            return Ok(Value::Null);
        }
        serde_json::from_str(&text).map_err(|e| KalshiError::Malformed {
            path: path.to_string(),
            reason: format!("not JSON: {e}"),
        })
    }

    /// A GET, retried on transient failures.
    pub async fn get(
        &self,
        path: &str,
        query: &[(&str, String)],
        auth: bool,
    ) -> Result<Value, KalshiError> {
        self.idempotent(|| self.send(Method::GET, path, query, None, auth))
            .await
    }

    /// Runs an idempotent request, retrying transient failures with jittered backoff.
    async fn idempotent<F, Fut>(&self, op: F) -> Result<Value, KalshiError>
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = Result<Value, KalshiError>>,
    {
        let backoff = ExponentialBuilder::default()
            .with_min_delay(self.config.min_delay)
            .with_max_delay(StdDuration::from_secs(8))
            .with_max_times(self.config.retries)
            .with_jitter();
        op.retry(backoff)
            .sleep(tokio::time::sleep)
            .when(KalshiError::is_transient)
            .notify(|e: &KalshiError, wait| {
                tracing::warn!(target: "MARKET", error = %e, retry_in_ms = wait.as_millis() as u64, "retrying");
            })
            .await
    }

    /// Every item of a paginated list (`list_key`), following the cursor until it is empty or
    /// missing.
    pub async fn get_all(
        &self,
        path: &str,
        query: &[(&str, String)],
        list_key: &str,
        auth: bool,
    ) -> Result<Vec<Value>, KalshiError> {
        let mut out = Vec::new();
        let mut cursor: Option<String> = None;
        for _ in 0..10_000 {
            let mut q = query.to_vec();
            if let Some(c) = &cursor {
                q.push(("cursor", c.clone()));
            }
            let page = self.get(path, &q, auth).await?;
            let items = page
                .get(list_key)
                .and_then(Value::as_array)
                .ok_or_else(|| KalshiError::Malformed {
                    path: path.to_string(),
                    reason: format!("no {list_key} list"),
                })?;
            out.extend(items.iter().cloned());
            cursor = page
                .get("cursor")
                .and_then(Value::as_str)
                .filter(|c| !c.is_empty())
                .map(str::to_string);
            if cursor.is_none() {
                return Ok(out);
            }
        }
        Err(KalshiError::Malformed {
            path: path.to_string(),
            reason: "pagination did not end".into(),
        })
    }

    /// `GET /exchange/status`: whether trading is active.
    pub async fn trading_active(&self) -> Result<bool, KalshiError> {
        let v = self.get("/exchange/status", &[], false).await?;
        v.get("trading_active")
            .and_then(Value::as_bool)
            .ok_or_else(|| KalshiError::Malformed {
                path: "/exchange/status".into(),
                reason: "no trading_active".into(),
            })
    }

    /// `GET /series/{ticker}`: fee type and multiplier, settlement sources.
    pub async fn series(&self, ticker: &str) -> Result<SeriesInfo, KalshiError> {
        let path = format!("/series/{ticker}");
        let v = self.get(&path, &[], false).await?;
        let s = v.get("series").unwrap_or(&v);
        let bad = |reason: &str| KalshiError::Malformed {
            path: path.clone(),
            reason: reason.to_string(),
        };
        let fee_type: FeeType =
            serde_json::from_value(s.get("fee_type").cloned().unwrap_or(Value::Null))
                .map_err(|e| bad(&format!("fee_type: {e}")))?;
        let multiplier = match s.get("fee_multiplier") {
            Some(Value::Number(n)) => n
                .to_string()
                .parse::<Decimal>()
                .map_err(|e| bad(&format!("fee_multiplier: {e}")))?,
            Some(Value::String(t)) => t
                .parse::<Decimal>()
                .map_err(|e| bad(&format!("fee_multiplier: {e}")))?,
            _ => return Err(bad("no fee_multiplier")),
        };
        let settlement_sources = s
            .get("settlement_sources")
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(|x| x.get("name").and_then(Value::as_str))
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_default();
        Ok(SeriesInfo {
            ticker: ticker.to_string(),
            fees: FeeSchedule {
                fee_type,
                fee_multiplier: multiplier,
            },
            settlement_sources,
        })
    }

    /// `GET /events?series_ticker=..&status=..&with_nested_markets=true`, every page, as weather
    /// events. An event whose brackets are not contiguous is logged and left out (never traded).
    pub async fn weather_events(
        &self,
        series: &str,
        status: &str,
    ) -> Result<Vec<WeatherEvent>, KalshiError> {
        let mut out = Vec::new();
        for (e, markets) in self.event_objects(series, status).await? {
            match event_from_api(&e, &markets) {
                Ok(w) => out.push(w),
                Err(err) => {
                    tracing::warn!(target: "MARKET", error = %err, "event refused: not traded")
                }
            }
        }
        Ok(out)
    }

    /// The raw event objects of a series with their nested markets (every page).
    pub async fn event_objects(
        &self,
        series: &str,
        status: &str,
    ) -> Result<Vec<(Value, Vec<Value>)>, KalshiError> {
        let q = [
            ("series_ticker", series.to_string()),
            ("status", status.to_string()),
            ("with_nested_markets", "true".to_string()),
            ("limit", "200".to_string()),
        ];
        let events = self.get_all("/events", &q, "events", false).await?;
        Ok(events
            .into_iter()
            .map(|e| {
                let markets = e
                    .get("markets")
                    .and_then(Value::as_array)
                    .cloned()
                    .unwrap_or_default();
                (e, markets)
            })
            .collect())
    }

    /// The open events of a series, raw.
    pub async fn open_event_objects(
        &self,
        series: &str,
    ) -> Result<Vec<(Value, Vec<Value>)>, KalshiError> {
        self.event_objects(series, "open").await
    }

    /// `GET /markets/{ticker}/orderbook`.
    pub async fn orderbook(&self, ticker: &str) -> Result<OrderBook, KalshiError> {
        let path = format!("/markets/{ticker}/orderbook");
        // Public data: signed when credentials exist, readable without them.
        let v = self
            .get(&path, &[("depth", "0".to_string())], false)
            .await?;
        OrderBook::from_rest(ticker, &v, self.clock.now()).map_err(|e| KalshiError::Malformed {
            path,
            reason: e.to_string(),
        })
    }

    /// `GET /portfolio/balance`, from `balance_dollars` (exact), else the integer cents.
    pub async fn balance(&self) -> Result<Dollars, KalshiError> {
        let path = "/portfolio/balance";
        let v = self.get(path, &[], true).await?;
        let bad = |reason: String| KalshiError::Malformed {
            path: path.to_string(),
            reason,
        };
        match (
            v.get("balance_dollars").and_then(Value::as_str),
            v.get("balance").and_then(Value::as_i64),
        ) {
            (Some(s), _) => Dollars::parse(s).map_err(|e| bad(format!("balance_dollars: {e}"))),
            (None, Some(cents)) => {
                Dollars::from_micros(cents * 10_000).map_err(|e| bad(format!("balance: {e}")))
            }
            _ => Err(bad("no balance".into())),
        }
    }

    /// The V2 create-order body for buying `side` at `price` (of that side): `bid` at the YES
    /// price to buy YES, `ask` at 1 − price to buy NO.
    pub fn order_body(order: &OrderRequest) -> Value {
        let (book_side, yes_price) = match order.side {
            Side::Yes => ("bid", order.price),
            Side::No => ("ask", order.price.complement()),
        };
        json!({
            "ticker": order.ticker,
            "client_order_id": order.client_order_id,
            "side": book_side,
            "count": order.count.to_kalshi_string(),
            "price": yes_price.to_kalshi_string(),
            "time_in_force": match order.time_in_force {
                TimeInForce::FillOrKill => "fill_or_kill",
                TimeInForce::GoodTillCanceled => "good_till_canceled",
                TimeInForce::ImmediateOrCancel => "immediate_or_cancel",
            },
            "self_trade_prevention_type": "taker_at_cross",
        })
    }

    /// `POST /portfolio/events/orders`, never retried. After a timeout or a 5xx the order is
    /// looked up by its `client_order_id`: found means it was placed.
    pub async fn create_order(&self, order: &OrderRequest) -> Result<OrderState, KalshiError> {
        let body = Self::order_body(order);
        match self
            .send(
                Method::POST,
                "/portfolio/events/orders",
                &[],
                Some(&body),
                true,
            )
            .await
        {
            Ok(v) => order_state_from(&v, order, "/portfolio/events/orders"),
            Err(e) if e.order_fate_unknown() => {
                tracing::warn!(target: "ORDER", client_order_id = %order.client_order_id, error = %e, "order outcome unknown; looking it up");
                match self
                    .find_order(Some(&order.ticker), &order.client_order_id)
                    .await?
                {
                    Some(found) => Ok(found),
                    None => Err(e),
                }
            }
            Err(e) => Err(e),
        }
    }

    /// Finds an order by `client_order_id` (`GET /portfolio/orders`, every page; `ticker` narrows
    /// the search).
    pub async fn find_order(
        &self,
        ticker: Option<&str>,
        client_order_id: &str,
    ) -> Result<Option<OrderState>, KalshiError> {
        let mut q = vec![("limit", "1000".to_string())];
        if let Some(t) = ticker {
            q.push(("ticker", t.to_string()));
        }
        let orders = self
            .get_all("/portfolio/orders", &q, "orders", true)
            .await?;
        let Some(o) = orders
            .iter()
            .find(|o| o.get("client_order_id").and_then(Value::as_str) == Some(client_order_id))
        else {
            return Ok(None);
        };
        let count = |k: &str| {
            o.get(k)
                .and_then(Value::as_str)
                .and_then(|s| Count::parse(s).ok())
                .unwrap_or(Count::ZERO)
        };
        let fee = |k: &str| {
            o.get(k)
                .and_then(Value::as_str)
                .and_then(|s| Dollars::parse(s).ok())
                .unwrap_or(Dollars::ZERO)
        };
        Ok(Some(OrderState {
            order_id: o
                .get("order_id")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string(),
            client_order_id: client_order_id.to_string(),
            filled: count("fill_count_fp"),
            remaining: count("remaining_count_fp"),
            fill_cost: fee("taker_fill_cost_dollars")
                .checked_add(fee("maker_fill_cost_dollars"))
                .unwrap_or(Dollars::ZERO),
            fees: fee("taker_fees_dollars")
                .checked_add(fee("maker_fees_dollars"))
                .unwrap_or(Dollars::ZERO),
            status: o
                .get("status")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string(),
        }))
    }
}

/// The other endpoints, as raw JSON (their callers pick the fields they need). Lists are read
/// through every page.
impl KalshiClient {
    /// `GET /exchange/schedule`.
    pub async fn schedule(&self) -> Result<Value, KalshiError> {
        self.get("/exchange/schedule", &[], false).await
    }

    /// `GET /markets` (every page).
    pub async fn markets(&self, query: &[(&str, String)]) -> Result<Vec<Value>, KalshiError> {
        self.get_all("/markets", query, "markets", false).await
    }

    /// `GET /markets/{ticker}`.
    pub async fn market(&self, ticker: &str) -> Result<Value, KalshiError> {
        let v = self.get(&format!("/markets/{ticker}"), &[], false).await?;
        Ok(v.get("market").cloned().unwrap_or(v))
    }

    /// `GET /markets/orderbooks?tickers=..`: several books in one request.
    pub async fn orderbooks(&self, tickers: &[&str]) -> Result<Vec<OrderBook>, KalshiError> {
        let path = "/markets/orderbooks";
        let v = self
            .get(path, &[("tickers", tickers.join(","))], false)
            .await?;
        let now = self.clock.now();
        let bad = |reason: String| KalshiError::Malformed {
            path: path.to_string(),
            reason,
        };
        v.get("orderbooks")
            .and_then(Value::as_array)
            .ok_or_else(|| bad("no orderbooks list".into()))?
            .iter()
            .map(|b| {
                let ticker = b
                    .get("ticker")
                    .and_then(Value::as_str)
                    .ok_or_else(|| bad("a book has no ticker".into()))?;
                OrderBook::from_rest(ticker, b, now).map_err(|e| bad(e.to_string()))
            })
            .collect()
    }

    /// `GET /markets/trades` (every page).
    pub async fn trades(&self, query: &[(&str, String)]) -> Result<Vec<Value>, KalshiError> {
        self.get_all("/markets/trades", query, "trades", false)
            .await
    }

    /// `GET /series/{series}/markets/{ticker}/candlesticks`.
    pub async fn candlesticks(
        &self,
        series: &str,
        ticker: &str,
        query: &[(&str, String)],
    ) -> Result<Value, KalshiError> {
        self.get(
            &format!("/series/{series}/markets/{ticker}/candlesticks"),
            query,
            false,
        )
        .await
    }

    /// `DELETE /portfolio/events/orders/{id}` (idempotent: retried like a read).
    pub async fn cancel_order(&self, order_id: &str, ticker: &str) -> Result<Value, KalshiError> {
        let path = format!("/portfolio/events/orders/{order_id}");
        let q = [("market_ticker", ticker.to_string())];
        self.idempotent(|| self.send(Method::DELETE, &path, &q, None, true))
            .await
    }

    /// `POST /portfolio/events/orders/{id}/amend` (not retried): a new price of the side bought
    /// and a new total `count` (filled plus resting).
    pub async fn amend_order(
        &self,
        order_id: &str,
        order: &OrderRequest,
        updated_client_order_id: Option<&str>,
    ) -> Result<Value, KalshiError> {
        let full = Self::order_body(order);
        let mut body = json!({
            "ticker": full["ticker"], "side": full["side"], "price": full["price"],
            "count": full["count"], "client_order_id": full["client_order_id"],
        });
        if let Some(id) = updated_client_order_id {
            body["updated_client_order_id"] = json!(id);
        }
        let path = format!("/portfolio/events/orders/{order_id}/amend");
        self.send(Method::POST, &path, &[], Some(&body), true).await
    }

    /// `POST /portfolio/events/orders/{id}/decrease` (not retried).
    pub async fn decrease_order(
        &self,
        order_id: &str,
        decrease: Decrease,
    ) -> Result<Value, KalshiError> {
        let body = match decrease {
            Decrease::By(c) => json!({"reduce_by": c.to_kalshi_string()}),
            Decrease::To(c) => json!({"reduce_to": c.to_kalshi_string()}),
        };
        let path = format!("/portfolio/events/orders/{order_id}/decrease");
        self.send(Method::POST, &path, &[], Some(&body), true).await
    }

    /// `POST /portfolio/events/orders/batched` (not retried; look orders up by client id after
    /// a failure).
    pub async fn batch_create(&self, orders: &[OrderRequest]) -> Result<Value, KalshiError> {
        let body = json!({"orders": orders.iter().map(Self::order_body).collect::<Vec<_>>()});
        self.send(
            Method::POST,
            "/portfolio/events/orders/batched",
            &[],
            Some(&body),
            true,
        )
        .await
    }

    /// `DELETE /portfolio/events/orders/batched`.
    pub async fn batch_cancel(&self, order_ids: &[&str]) -> Result<Value, KalshiError> {
        let body = json!({"orders": order_ids.iter().map(|id| json!({"order_id": id})).collect::<Vec<_>>()});
        self.send(
            Method::DELETE,
            "/portfolio/events/orders/batched",
            &[],
            Some(&body),
            true,
        )
        .await
    }

    /// `GET /portfolio/orders` (every page).
    pub async fn orders(&self, query: &[(&str, String)]) -> Result<Vec<Value>, KalshiError> {
        self.get_all("/portfolio/orders", query, "orders", true)
            .await
    }

    /// `GET /portfolio/orders/{id}`.
    pub async fn order(&self, order_id: &str) -> Result<Value, KalshiError> {
        let v = self
            .get(&format!("/portfolio/orders/{order_id}"), &[], true)
            .await?;
        Ok(v.get("order").cloned().unwrap_or(v))
    }

    /// `GET /portfolio/fills` (every page).
    pub async fn fills(&self, query: &[(&str, String)]) -> Result<Vec<Value>, KalshiError> {
        self.get_all("/portfolio/fills", query, "fills", true).await
    }

    /// `GET /portfolio/positions` (every page; unsettled positions only).
    pub async fn positions(&self, query: &[(&str, String)]) -> Result<Vec<Value>, KalshiError> {
        self.get_all("/portfolio/positions", query, "market_positions", true)
            .await
    }

    /// `GET /portfolio/settlements` (every page).
    pub async fn settlements(&self, query: &[(&str, String)]) -> Result<Vec<Value>, KalshiError> {
        self.get_all("/portfolio/settlements", query, "settlements", true)
            .await
    }

    /// `GET /historical/cutoff`.
    pub async fn historical_cutoff(&self) -> Result<Value, KalshiError> {
        self.get("/historical/cutoff", &[], false).await
    }

    /// `GET /historical/markets` (every page).
    pub async fn historical_markets(
        &self,
        query: &[(&str, String)],
    ) -> Result<Vec<Value>, KalshiError> {
        self.get_all("/historical/markets", query, "markets", false)
            .await
    }

    /// `GET /historical/trades` (every page).
    pub async fn historical_trades(
        &self,
        query: &[(&str, String)],
    ) -> Result<Vec<Value>, KalshiError> {
        self.get_all("/historical/trades", query, "trades", false)
            .await
    }

    /// `GET /historical/markets/{ticker}/candlesticks`.
    pub async fn historical_candlesticks(
        &self,
        ticker: &str,
        query: &[(&str, String)],
    ) -> Result<Value, KalshiError> {
        self.get(
            &format!("/historical/markets/{ticker}/candlesticks"),
            query,
            false,
        )
        .await
    }

    /// `GET /historical/fills` and `/historical/orders` (every page).
    pub async fn historical_fills(
        &self,
        query: &[(&str, String)],
    ) -> Result<Vec<Value>, KalshiError> {
        self.get_all("/historical/fills", query, "fills", true)
            .await
    }

    pub async fn historical_orders(
        &self,
        query: &[(&str, String)],
    ) -> Result<Vec<Value>, KalshiError> {
        self.get_all("/historical/orders", query, "orders", true)
            .await
    }
}

/// Live (or demo) Kalshi behind the `Exchange` port.
pub struct KalshiExchange(pub Arc<KalshiClient>);

#[async_trait::async_trait]
impl boz_common::ports::Exchange for KalshiExchange {
    async fn place_order(&self, order: &OrderRequest) -> Result<OrderState, BozError> {
        Ok(self.0.create_order(order).await?)
    }

    async fn cancel_order(&self, order_id: &str) -> Result<OrderState, BozError> {
        let o = self.0.order(order_id).await?;
        let ticker = o
            .get("ticker")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        let client_id = o
            .get("client_order_id")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        self.0.cancel_order(order_id, &ticker).await?;
        Ok(self
            .0
            .find_order(Some(&ticker), &client_id)
            .await?
            .unwrap_or(OrderState {
                order_id: order_id.to_string(),
                client_order_id: client_id,
                filled: Count::ZERO,
                remaining: Count::ZERO,
                fill_cost: Dollars::ZERO,
                fees: Dollars::ZERO,
                status: "canceled".to_string(),
            }))
    }

    async fn find_order(&self, client_order_id: &str) -> Result<Option<OrderState>, BozError> {
        Ok(self.0.find_order(None, client_order_id).await?)
    }

    async fn balance(&self) -> Result<Dollars, BozError> {
        Ok(self.0.balance().await?)
    }

    /// `position_fp` is signed: positive YES contracts, negative NO contracts.
    async fn positions(&self) -> Result<Vec<ExchangePosition>, BozError> {
        let mut out = Vec::new();
        for p in self.0.positions(&[]).await? {
            let ticker = p.get("ticker").and_then(Value::as_str).unwrap_or_default();
            let raw = p
                .get("position_fp")
                .and_then(Value::as_str)
                .map(Decimal::from_str_exact)
                .transpose()
                .map_err(|e| BozError::upstream("kalshi", format!("position_fp of {ticker}: {e}")))?
                .unwrap_or(Decimal::ZERO);
            let count = |d: Decimal| {
                Count::new(d)
                    .map_err(|e| BozError::upstream("kalshi", format!("position of {ticker}: {e}")))
            };
            if raw.is_zero() {
                continue;
            }
            out.push(ExchangePosition {
                ticker: ticker.to_string(),
                yes: count(raw.max(Decimal::ZERO))?,
                no: count((-raw).max(Decimal::ZERO))?,
            });
        }
        Ok(out)
    }
}

fn order_state_from(
    v: &Value,
    order: &OrderRequest,
    path: &str,
) -> Result<OrderState, KalshiError> {
    let bad = |reason: String| KalshiError::Malformed {
        path: path.to_string(),
        reason,
    };
    let o = v.get("order").unwrap_or(v);
    let order_id = o
        .get("order_id")
        .and_then(Value::as_str)
        .ok_or_else(|| bad("no order_id".into()))?;
    let count = |k: &str| -> Result<Count, KalshiError> {
        match o.get(k).and_then(Value::as_str) {
            Some(s) => Count::parse(s).map_err(|e| bad(format!("{k}: {e}"))),
            None => Ok(Count::ZERO),
        }
    };
    let filled = count("fill_count")?;
    let remaining = count("remaining_count")?;
    let fee_per = o
        .get("average_fee_paid")
        .and_then(Value::as_str)
        .map(|s| Decimal::from_str_exact(s).map_err(|e| bad(format!("average_fee_paid: {e}"))))
        .transpose()?
        .unwrap_or(Decimal::ZERO);
    let fees = Dollars::new((fee_per * filled.as_decimal()).round_dp(6))
        .map_err(|e| bad(format!("fees: {e}")))?;
    // The cost of what filled: Kalshi's fill-cost fields when present, else the limit price
    // (the most a fill can cost).
    let dollars = |k: &str| {
        o.get(k)
            .and_then(Value::as_str)
            .and_then(|s| Dollars::parse(s).ok())
    };
    let fill_cost = match (
        dollars("taker_fill_cost_dollars"),
        dollars("maker_fill_cost_dollars"),
    ) {
        (None, None) => order
            .price
            .cost(filled)
            .map_err(|e| bad(format!("fill cost: {e}")))?,
        (t, m) => t
            .unwrap_or(Dollars::ZERO)
            .checked_add(m.unwrap_or(Dollars::ZERO))
            .map_err(|e| bad(format!("fill cost: {e}")))?,
    };
    Ok(OrderState {
        order_id: order_id.to_string(),
        client_order_id: order.client_order_id.clone(),
        filled,
        remaining,
        fill_cost,
        fees,
        status: if remaining > Count::ZERO {
            "resting"
        } else {
            "executed"
        }
        .to_string(),
    })
}
