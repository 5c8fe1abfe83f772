//! The `MarketData` port over the REST client: a city's open events (brackets, close time and
//! the series' fee schedule) and top of book from fresh order books.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use boz_common::BozError;
use boz_common::city::City;
use boz_common::fees::FeeSchedule;
use boz_common::ports::{MarketBracket, MarketData, MarketEvent, MarketResult, TopOfBook};
use boz_common::schemas::Side;
use boz_common::{Count, Price};
use chrono::{DateTime, Utc};
use serde_json::Value;

use crate::rest::KalshiClient;

pub struct KalshiMarketData {
    client: Arc<KalshiClient>,
    /// Event ticker → market tickers, from the last `open_events`.
    tickers: Mutex<HashMap<String, Vec<String>>>,
    fees: Mutex<HashMap<String, FeeSchedule>>,
}

impl KalshiMarketData {
    pub fn new(client: Arc<KalshiClient>) -> KalshiMarketData {
        KalshiMarketData {
            client,
            tickers: Mutex::new(HashMap::new()),
            fees: Mutex::new(HashMap::new()),
        }
    }

    async fn fee_schedule(&self, series: &str) -> Result<FeeSchedule, BozError> {
        if let Some(f) = self.fees.lock().ok().and_then(|m| m.get(series).copied()) {
            return Ok(f);
        }
        let info = self.client.series(series).await?;
        if let Ok(mut m) = self.fees.lock() {
            m.insert(series.to_string(), info.fees);
        }
        Ok(info.fees)
    }
}

fn close_time(markets: &[Value]) -> Option<DateTime<Utc>> {
    markets
        .iter()
        .filter_map(|m| m.get("close_time").and_then(Value::as_str))
        .filter_map(|s| DateTime::parse_from_rfc3339(s).ok())
        .map(|t| t.to_utc())
        .min()
}

#[async_trait]
impl MarketData for KalshiMarketData {
    async fn open_events(&self, city: &City) -> Result<Vec<MarketEvent>, BozError> {
        let fees = self.fee_schedule(&city.kalshi_series).await?;
        let raw = self.client.open_event_objects(&city.kalshi_series).await?;
        let mut out = Vec::new();
        for (event, markets) in raw {
            let e = match crate::market::event_from_api(&event, &markets) {
                Ok(e) => e,
                Err(err) => {
                    tracing::warn!(target: "MARKET", error = %err, "event refused: not traded");
                    continue;
                }
            };
            if let Ok(mut m) = self.tickers.lock() {
                m.insert(
                    e.event_ticker.clone(),
                    e.brackets.iter().map(|b| b.ticker.clone()).collect(),
                );
            }
            out.push(MarketEvent {
                event_ticker: e.event_ticker,
                city: e.city,
                date: e.date,
                brackets: e
                    .brackets
                    .into_iter()
                    .map(|b| MarketBracket {
                        ticker: b.ticker,
                        lower_bound_f: b.lower_bound_f,
                        upper_bound_f: b.upper_bound_f,
                    })
                    .collect(),
                close_time: close_time(&markets),
                fees,
            });
        }
        Ok(out)
    }

    /// `GET /markets/{ticker}`: a result only once `status` is finalized (or settled) and
    /// `result` is yes or no.
    async fn market_result(&self, ticker: &str) -> Result<Option<MarketResult>, BozError> {
        let m = self.client.market(ticker).await?;
        let status = m.get("status").and_then(Value::as_str).unwrap_or_default();
        if !matches!(status, "finalized" | "settled") {
            return Ok(None);
        }
        let yes_won = match m.get("result").and_then(Value::as_str) {
            Some("yes") => true,
            Some("no") => false,
            _ => return Ok(None),
        };
        let last_price = ["last_price_dollars", "previous_price_dollars"]
            .iter()
            .filter_map(|k| m.get(*k).and_then(Value::as_str))
            .find_map(|s| Price::parse(s).ok());
        Ok(Some(MarketResult {
            ticker: ticker.to_string(),
            yes_won,
            settled_high_f: m
                .get("expiration_value")
                .and_then(Value::as_str)
                .and_then(crate::market::settled_high),
            last_price,
        }))
    }

    async fn top_of_book(&self, event_ticker: &str) -> Result<Vec<TopOfBook>, BozError> {
        let tickers = self
            .tickers
            .lock()
            .ok()
            .and_then(|m| m.get(event_ticker).cloned())
            .ok_or_else(|| BozError::not_found("open event", event_ticker))?;
        let refs: Vec<&str> = tickers.iter().map(String::as_str).collect();
        let books = self.client.orderbooks(&refs).await?;
        Ok(books
            .iter()
            .map(|b| {
                let bid = |s: Side| b.best_bid(s);
                let (yes_bid, yes_size) =
                    bid(Side::Yes).map_or((None, Count::ZERO), |(p, c)| (Some(p), c));
                let (no_bid, no_size) = bid(Side::No)
                    .map_or((None, Count::ZERO), |(p, c): (Price, Count)| (Some(p), c));
                TopOfBook {
                    ticker: b.ticker.clone(),
                    yes_bid,
                    yes_bid_size: yes_size,
                    no_bid,
                    no_bid_size: no_size,
                    as_of: b.updated_at,
                }
            })
            .collect())
    }
}
