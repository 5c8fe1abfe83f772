//! The market feed job: every open event of each city's series and the top of book of its
//! brackets (top of book and a depth summary), recorded in `market_snapshots` (the table the backtest reads). A bracket whose
//! best bid or ask differs from its last recorded snapshot has "moved"; the job then asks for a
//! trading cycle.

use std::collections::HashMap;
use std::sync::Arc;

use boz_common::Price;
use boz_common::city::City;
use boz_common::ports::{BookDepth, MarketSnapshot};
use boz_common::schemas::Side;
use boz_kalshi::WeatherEvent;
use boz_kalshi::book::OrderBook;
use chrono::NaiveDate;

use crate::services::Services;
use crate::{Context, Result};

/// One open event and its books.
pub struct EventBooks {
    pub event: WeatherEvent,
    pub books: Vec<OrderBook>,
}

/// The book's depth summary (the YES asks are the NO bids).
pub fn depth(book: &OrderBook) -> BookDepth {
    let top =
        |side: Side| Price::new(rust_decimal::Decimal::new(99, 2)).map(|p| book.depth_to(side, p));
    let size =
        |x: Option<(Price, boz_common::Count)>| x.map_or(boz_common::Count::ZERO, |(_, c)| c);
    BookDepth {
        yes_bid_size: size(book.best_bid(Side::Yes)),
        yes_ask_size: size(book.best_ask(Side::Yes)),
        // buying NO takes the YES bids; buying YES takes the YES asks
        yes_bid_depth: top(Side::No).unwrap_or(boz_common::Count::ZERO),
        yes_ask_depth: top(Side::Yes).unwrap_or(boz_common::Count::ZERO),
        bid_levels: book.levels(Side::Yes),
        ask_levels: book.levels(Side::No),
    }
}

/// Every bracket's top of book as a snapshot (the YES ask is 1 − the best NO bid).
pub fn snapshots(e: &WeatherEvent, books: &[OrderBook]) -> Vec<MarketSnapshot> {
    e.brackets
        .iter()
        .filter_map(|b| {
            let book = books.iter().find(|k| k.ticker == b.ticker)?;
            Some(MarketSnapshot {
                city: e.city.clone(),
                event_date: e.date,
                event_ticker: e.event_ticker.clone(),
                ticker: b.ticker.clone(),
                lower_bound_f: b.lower_bound_f,
                upper_bound_f: b.upper_bound_f,
                as_of: book.updated_at,
                yes_bid: book.best_bid(Side::Yes).map(|(p, _)| p),
                yes_ask: book.best_ask(Side::Yes).map(|(p, _)| p),
                last_price: None,
                volume: None,
                source: "kalshi-rest".into(),
                depth: Some(depth(book)),
            })
        })
        .collect()
}

/// The open events of `cities` (only `date`'s when given) with their books.
pub async fn open_books(
    svc: &Services,
    cities: &[Arc<City>],
    date: Option<NaiveDate>,
) -> Result<Vec<EventBooks>> {
    let mut out = Vec::new();
    for city in cities {
        let events = svc
            .kalshi
            .weather_events(&city.kalshi_series, "open")
            .await
            .with_context(|| format!("reading {}'s open events from Kalshi", city.code))?;
        for event in events
            .into_iter()
            .filter(|e| date.is_none_or(|d| e.date == d))
        {
            let tickers: Vec<&str> = event.brackets.iter().map(|b| b.ticker.as_str()).collect();
            let books = svc
                .kalshi
                .orderbooks(&tickers)
                .await
                .with_context(|| format!("reading the books of {}", event.event_ticker))?;
            out.push(EventBooks { event, books });
        }
    }
    Ok(out)
}

/// What one recording did.
#[derive(Debug, Default, serde::Serialize)]
pub struct Recorded {
    pub events: usize,
    pub snapshots: u64,
    /// Tickers whose best bid or ask changed since their last recorded snapshot.
    pub moved: Vec<String>,
}

/// Records the top of book of `events` and reports which brackets moved.
pub async fn record(svc: &Services, events: &[EventBooks]) -> Result<Recorded> {
    let mut out = Recorded {
        events: events.len(),
        ..Recorded::default()
    };
    let mut all = Vec::new();
    for eb in events {
        let e = &eb.event;
        let last: HashMap<String, MarketSnapshot> = svc
            .store
            .latest_market_snapshots(&e.city, e.date, e.date)
            .await?
            .into_iter()
            .map(|s| (s.ticker.clone(), s))
            .collect();
        for s in snapshots(e, &eb.books) {
            let moved = last
                .get(s.ticker.as_str())
                .is_some_and(|l| (l.yes_bid, l.yes_ask) != (s.yes_bid, s.yes_ask));
            if moved {
                out.moved.push(s.ticker.clone());
            }
            all.push(s);
        }
    }
    out.snapshots = svc.store.insert_market_snapshots(&all).await?;
    if !out.moved.is_empty() {
        tracing::info!(target: "MARKET", moved = out.moved.len(), "books moved");
    }
    Ok(out)
}
