//! The Kalshi WebSocket market feed: local order books kept current from `orderbook_delta`.
//!
//! - The upgrade request is signed like REST, over `timestamp + "GET" + "/trade-api/ws/v2"`.
//! - Each market gets its own `orderbook_delta` subscription (so a subscription's `seq` is that
//!   book's), with `use_yes_price: false` set explicitly (NO levels in NO prices, as REST);
//!   `ticker` and `market_lifecycle_v2` for all markets, and `fill` when credentials are set.
//! - A sequence gap drops that market's book (stale) and asks for a fresh snapshot with
//!   `update_subscription` / `get_snapshot`; the book is back when the snapshot arrives.
//! - Pings are answered; a connection that stays silent for 60 s, closes or fails is dropped,
//!   every book is dropped with it (deltas were missed), and the feed reconnects with jittered
//!   exponential backoff and subscribes again.
//! - Subscribers are told when a book changes (and when it was updated, for its age), when a
//!   gap happens, and when the connection comes and goes.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::Duration as StdDuration;

use backon::{BackoffBuilder, ExponentialBuilder};
use boz_common::money::Price;
use boz_common::ports::Clock;
use boz_common::schemas::Side;
use chrono::{DateTime, Utc};
use futures::{SinkExt, StreamExt};
use rust_decimal::Decimal;
use serde_json::{Value, json};
use tokio::sync::{broadcast, watch};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;

use crate::book::{BookError, OrderBook};
use crate::rest::Credentials;

/// Silence after which a connection is taken for dead.
const IDLE_LIMIT: StdDuration = StdDuration::from_secs(60);

/// What the feed connects to and watches.
#[derive(Debug, Clone)]
pub struct FeedConfig {
    /// e.g. `wss://external-api-ws.demo.kalshi.co/trade-api/ws/v2`.
    pub url: String,
    pub credentials: Option<Credentials>,
    pub tickers: Vec<String>,
    pub min_backoff: StdDuration,
    pub max_backoff: StdDuration,
}

/// What subscribers hear.
#[derive(Debug, Clone, PartialEq)]
pub enum FeedEvent {
    Connected,
    /// A book changed; it was updated at `updated_at` (its age is now minus that).
    BookChanged {
        ticker: String,
        updated_at: DateTime<Utc>,
    },
    /// A message was lost; the book is dropped until a fresh snapshot arrives.
    Gap {
        ticker: String,
        expected: u64,
        got: u64,
    },
    /// A `ticker`, `fill` or `market_lifecycle_v2` message, as sent.
    Message {
        channel: String,
        msg: Value,
    },
    Disconnected {
        reason: String,
    },
}

/// The feed's state, shared with readers.
pub struct MarketFeed {
    books: RwLock<HashMap<String, OrderBook>>,
    events: broadcast::Sender<FeedEvent>,
    clock: Arc<dyn Clock>,
}

impl MarketFeed {
    pub fn new(clock: Arc<dyn Clock>) -> Arc<MarketFeed> {
        let (events, _) = broadcast::channel(1024);
        Arc::new(MarketFeed {
            books: RwLock::new(HashMap::new()),
            events,
            clock,
        })
    }

    /// Events from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<FeedEvent> {
        self.events.subscribe()
    }

    /// The current book of a market; `None` while it is stale (before its snapshot, after a gap
    /// or a disconnection).
    pub fn book(&self, ticker: &str) -> Option<OrderBook> {
        self.books.read().ok().and_then(|b| b.get(ticker).cloned())
    }

    fn emit(&self, e: FeedEvent) {
        let _ = self.events.send(e);
    }

    fn drop_all_books(&self) {
        if let Ok(mut b) = self.books.write() {
            b.clear();
        }
    }

    /// Runs until `stop` turns true: connect, subscribe, keep books, reconnect on failure.
    pub async fn run(self: Arc<Self>, config: FeedConfig, mut stop: watch::Receiver<bool>) {
        let fresh_backoff = || {
            ExponentialBuilder::default()
                .with_min_delay(config.min_backoff)
                .with_max_delay(config.max_backoff)
                .without_max_times()
                .with_jitter()
                .build()
        };
        let mut backoff = fresh_backoff();
        loop {
            let result = tokio::select! {
                r = self.session(&config) => r,
                _ = stop.changed() => return,
            };
            self.drop_all_books();
            let reason = match result {
                Ok(connected) => {
                    if connected {
                        backoff = fresh_backoff();
                    }
                    "connection closed".to_string()
                }
                Err(e) => e,
            };
            tracing::warn!(target: "MARKET", reason = %reason, "market feed disconnected; reconnecting");
            self.emit(FeedEvent::Disconnected { reason });
            let wait = backoff.next().unwrap_or(config.max_backoff);
            tokio::select! {
                _ = tokio::time::sleep(wait) => {}
                _ = stop.changed() => return,
            }
            if *stop.borrow() {
                return;
            }
        }
    }

    /// One connection. `Ok(true)` when it connected and later closed.
    async fn session(&self, config: &FeedConfig) -> Result<bool, String> {
        let mut req = config
            .url
            .as_str()
            .into_client_request()
            .map_err(|e| format!("bad KALSHI_WS_URL: {e}"))?;
        if let Some(c) = &config.credentials {
            let path = req.uri().path().to_string();
            let ts = self.clock.now().timestamp_millis();
            for (name, value) in c
                .signer
                .headers(&c.api_key_id, ts, "GET", &path)
                .map_err(|e| e.to_string())?
            {
                let mut v = HeaderValue::from_str(&value)
                    .map_err(|_| format!("header {name} is not valid"))?;
                v.set_sensitive(true);
                req.headers_mut().insert(name, v);
            }
        }
        let (ws, _) = tokio_tungstenite::connect_async(req)
            .await
            .map_err(|e| format!("connect: {e}"))?;
        let (mut sink, mut stream) = ws.split();
        let mut id = 0u64;
        let mut next_id = || {
            id += 1;
            id
        };
        for t in &config.tickers {
            let cmd = json!({"id": next_id(), "cmd": "subscribe", "params": {
                "channels": ["orderbook_delta"], "market_ticker": t, "use_yes_price": false
            }});
            sink.send(Message::text(cmd.to_string()))
                .await
                .map_err(|e| format!("subscribe: {e}"))?;
        }
        let others = json!({"id": next_id(), "cmd": "subscribe", "params": {
            "channels": ["ticker", "market_lifecycle_v2"], "market_tickers": config.tickers
        }});
        sink.send(Message::text(others.to_string()))
            .await
            .map_err(|e| format!("subscribe: {e}"))?;
        if config.credentials.is_some() {
            let fills =
                json!({"id": next_id(), "cmd": "subscribe", "params": {"channels": ["fill"]}});
            sink.send(Message::text(fills.to_string()))
                .await
                .map_err(|e| format!("subscribe: {e}"))?;
        }
        self.emit(FeedEvent::Connected);
        loop {
            let msg = match tokio::time::timeout(IDLE_LIMIT, stream.next()).await {
                Err(_) => return Err(format!("no message for {}s", IDLE_LIMIT.as_secs())),
                Ok(None) => return Ok(true),
                Ok(Some(Err(e))) => return Err(format!("read: {e}")),
                Ok(Some(Ok(m))) => m,
            };
            match msg {
                Message::Ping(data) => sink
                    .send(Message::Pong(data))
                    .await
                    .map_err(|e| format!("pong: {e}"))?,
                Message::Close(_) => return Ok(true),
                Message::Text(text) => {
                    if let Some(resync) = self.handle(&text) {
                        let cmd = json!({"id": next_id(), "cmd": "update_subscription", "params": {"sid": resync, "action": "get_snapshot"}});
                        sink.send(Message::text(cmd.to_string()))
                            .await
                            .map_err(|e| format!("resync: {e}"))?;
                    }
                }
                _ => {}
            }
        }
    }

    /// Applies one message; returns a subscription id to re-snapshot after a gap.
    fn handle(&self, text: &str) -> Option<u64> {
        let v: Value = match serde_json::from_str(text) {
            Ok(v) => v,
            Err(e) => {
                tracing::warn!(target: "MARKET", error = %e, "malformed feed message ignored");
                return None;
            }
        };
        let kind = v.get("type").and_then(Value::as_str).unwrap_or_default();
        let sid = v.get("sid").and_then(Value::as_u64);
        let seq = v.get("seq").and_then(Value::as_u64);
        let msg = v.get("msg").cloned().unwrap_or(Value::Null);
        let now = self.clock.now();
        let ticker = msg
            .get("market_ticker")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        match kind {
            "orderbook_snapshot" => {
                let mut book = OrderBook::empty(&ticker, now);
                match book.apply_snapshot(&msg, seq.unwrap_or(0), now) {
                    Ok(()) => {
                        if let Ok(mut b) = self.books.write() {
                            b.insert(ticker.clone(), book);
                        }
                        self.emit(FeedEvent::BookChanged {
                            ticker,
                            updated_at: now,
                        });
                    }
                    Err(e) => tracing::warn!(target: "MARKET", error = %e, "bad snapshot ignored"),
                }
                None
            }
            "orderbook_delta" => {
                let side = match msg.get("side").and_then(Value::as_str) {
                    Some("yes") => Side::Yes,
                    Some("no") => Side::No,
                    _ => return None,
                };
                let price = msg
                    .get("price_dollars")
                    .and_then(Value::as_str)
                    .and_then(|s| Price::parse(s).ok());
                let delta = msg
                    .get("delta_fp")
                    .and_then(Value::as_str)
                    .and_then(|s| Decimal::from_str_exact(s).ok());
                let (Some(price), Some(delta), Some(seq)) = (price, delta, seq) else {
                    tracing::warn!(target: "MARKET", ticker = %ticker, "malformed delta ignored");
                    return None;
                };
                let mut books = self.books.write().ok()?;
                let book = books.get_mut(&ticker)?; // stale: wait for the snapshot
                match book.apply_delta(seq, side, price, delta, now) {
                    Ok(()) => {
                        drop(books);
                        self.emit(FeedEvent::BookChanged {
                            ticker,
                            updated_at: now,
                        });
                        None
                    }
                    Err(BookError::SequenceGap { expected, got, .. }) => {
                        books.remove(&ticker);
                        drop(books);
                        tracing::warn!(target: "MARKET", ticker = %ticker, expected, got, "sequence gap; asking for a snapshot");
                        self.emit(FeedEvent::Gap {
                            ticker,
                            expected,
                            got,
                        });
                        sid
                    }
                    Err(e) => {
                        books.remove(&ticker);
                        drop(books);
                        tracing::warn!(target: "MARKET", error = %e, "book dropped; asking for a snapshot");
                        sid
                    }
                }
            }
            "ticker" | "fill" | "market_lifecycle_v2" => {
                self.emit(FeedEvent::Message {
                    channel: kind.to_string(),
                    msg,
                });
                None
            }
            "error" => {
                tracing::warn!(target: "MARKET", msg = %msg, "feed error");
                None
            }
            _ => None,
        }
    }
}
