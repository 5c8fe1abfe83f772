//! `boz markets` and `boz kalshi check`.

use std::sync::Arc;

use anyhow::{Context, Result, bail};
use boz_common::config::Settings;
use boz_common::ports::SystemClock;
use boz_common::schemas::Side;
use boz_kalshi::WeatherEvent;
use boz_kalshi::book::OrderBook;
use boz_kalshi::rest::KalshiClient;
use chrono::NaiveDate;
use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;
use serde::Serialize;

use crate::setup;

pub fn client(settings: &Settings) -> Result<KalshiClient> {
    Ok(boz_engine::services::kalshi_client(
        settings,
        Arc::new(SystemClock),
    )?)
}

/// One bracket as printed by `boz markets`.
#[derive(Debug, Serialize)]
struct BracketQuote {
    ticker: String,
    bracket_label: String,
    lower_bound_f: Option<i32>,
    upper_bound_f: Option<i32>,
    yes_bid: Option<String>,
    yes_bid_size: Option<String>,
    yes_ask: Option<String>,
    yes_ask_size: Option<String>,
    /// The mid of bid and ask, normalised over the event's brackets.
    implied_probability: Option<f64>,
}

#[derive(Debug, Serialize)]
struct EventQuote {
    event_ticker: String,
    city: String,
    date: NaiveDate,
    brackets: Vec<BracketQuote>,
}

fn quote(event: &WeatherEvent, books: &[OrderBook]) -> EventQuote {
    let book = |t: &str| books.iter().find(|b| b.ticker == t);
    let mids: Vec<Option<Decimal>> = event
        .brackets
        .iter()
        .map(|b| book(&b.ticker).and_then(OrderBook::mid))
        .collect();
    let total: Decimal = mids.iter().flatten().sum();
    let all = mids.iter().all(Option::is_some) && total > Decimal::ZERO;
    let brackets = event
        .brackets
        .iter()
        .zip(&mids)
        .map(|(b, mid)| {
            let bk = book(&b.ticker);
            let bid = bk.and_then(|x| x.best_bid(Side::Yes));
            let ask = bk.and_then(|x| x.best_ask(Side::Yes));
            BracketQuote {
                ticker: b.ticker.clone(),
                bracket_label: b.label(),
                lower_bound_f: b.lower_bound_f,
                upper_bound_f: b.upper_bound_f,
                yes_bid: bid.map(|(p, _)| p.to_kalshi_string()),
                yes_bid_size: bid.map(|(_, c)| c.to_kalshi_string()),
                yes_ask: ask.map(|(p, _)| p.to_kalshi_string()),
                yes_ask_size: ask.map(|(_, c)| c.to_kalshi_string()),
                implied_probability: if all {
                    mid.and_then(|m| (m / total).to_f64())
                } else {
                    None
                },
            }
        })
        .collect();
    EventQuote {
        event_ticker: event.event_ticker.clone(),
        city: event.city.to_string(),
        date: event.date,
        brackets,
    }
}

pub async fn markets(
    codes: &[String],
    date: Option<NaiveDate>,
    json: bool,
    record: bool,
) -> Result<()> {
    let settings = setup::settings()?;
    let cities = setup::cities(codes)?;
    let opened = setup::services(&settings).await?;
    let events = boz_engine::markets::open_books(&opened.svc, &cities, date).await;
    let recorded = match (&events, record) {
        (Ok(events), true) => Some(boz_engine::markets::record(&opened.svc, events).await),
        _ => None,
    };
    opened.db.close().await;
    let events = events?;
    if let Some(r) = recorded {
        eprintln!("recorded {} market snapshots", r?.snapshots);
    }
    let out: Vec<EventQuote> = events.iter().map(|e| quote(&e.event, &e.books)).collect();
    if json {
        println!("{}", serde_json::to_string_pretty(&out)?);
        return Ok(());
    }
    let dash = || "-".to_string();
    for e in &out {
        println!("{} ({} {})", e.event_ticker, e.city, e.date);
        for b in &e.brackets {
            println!(
                "  {:<28} {:<14} bid {:>6} x {:>8}  ask {:>6} x {:>8}  implied {}",
                b.ticker,
                b.bracket_label,
                b.yes_bid.clone().unwrap_or_else(dash),
                b.yes_bid_size.clone().unwrap_or_else(dash),
                b.yes_ask.clone().unwrap_or_else(dash),
                b.yes_ask_size.clone().unwrap_or_else(dash),
                b.implied_probability
                    .map_or_else(dash, |p| format!("{:.1}%", p * 100.0)),
            );
        }
    }
    if out.is_empty() {
        println!("No open weather events.");
    }
    Ok(())
}

pub async fn check(user: Option<&str>) -> Result<()> {
    let settings = setup::settings()?;
    let client = match user {
        Some(id) => {
            let key = setup::master_key(&settings)?;
            let vault = boz_crypto::KeyVault::new(&key.text)?;
            let db = setup::database(&settings).await?;
            let store = db.store();
            let creds = crate::accounts::user_credentials(store.as_ref(), &vault, id).await;
            db.close().await;
            boz_engine::services::kalshi_client_with(
                &settings,
                Some(creds?),
                Arc::new(SystemClock),
            )?
        }
        None => {
            if settings.kalshi_api_key_id.is_none() {
                bail!(
                    "no credentials: set KALSHI_API_KEY_ID and KALSHI_PRIVATE_KEY_PATH (or KALSHI_PRIVATE_KEY), or pass --user"
                );
            }
            client(&settings)?
        }
    };
    let base = settings
        .kalshi_base_url
        .clone()
        .unwrap_or_else(|| settings.kalshi_env.rest_url().to_string());
    println!(
        "Kalshi environment: {} ({base})",
        settings.kalshi_env.as_str()
    );
    let balance = client
        .balance()
        .await
        .context("the credentials were refused or Kalshi is unreachable")?;
    println!("Credentials are valid. Balance: ${balance}");
    Ok(())
}
