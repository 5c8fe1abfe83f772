//! `boz markets` and `boz kalshi check`.

use std::sync::Arc;
use std::time::Duration as StdDuration;

use anyhow::{Context, Result, bail};
use boz_common::config::Settings;
use boz_common::ports::MarketSnapshot;
use boz_common::ports::SystemClock;
use boz_common::schemas::Side;
use boz_crypto::KalshiSigner;
use boz_kalshi::WeatherEvent;
use boz_kalshi::book::OrderBook;
use boz_kalshi::rest::{Credentials, KalshiClient, KalshiConfig};
use chrono::NaiveDate;
use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;
use secrecy::ExposeSecret;
use serde::Serialize;
use zeroize::Zeroizing;

use crate::setup;

/// The command-line account's credentials from KALSHI_API_KEY_ID and KALSHI_PRIVATE_KEY(_PATH).
fn credentials(settings: &Settings) -> Result<Option<Credentials>> {
    let Some(key_id) = &settings.kalshi_api_key_id else {
        return Ok(None);
    };
    let pem = match (
        &settings.kalshi_private_key,
        &settings.kalshi_private_key_path,
    ) {
        (Some(k), _) => Zeroizing::new(k.expose_secret().to_string()),
        (None, Some(path)) => Zeroizing::new(std::fs::read_to_string(path).with_context(|| {
            format!(
                "invalid KALSHI_PRIVATE_KEY_PATH: cannot read {}",
                path.display()
            )
        })?),
        (None, None) => bail!(
            "KALSHI_API_KEY_ID is set but neither KALSHI_PRIVATE_KEY_PATH nor KALSHI_PRIVATE_KEY is"
        ),
    };
    let signer = KalshiSigner::from_pem(&pem).context("invalid Kalshi private key")?;
    Ok(Some(Credentials {
        api_key_id: key_id.expose_secret().to_string(),
        signer: Arc::new(signer),
    }))
}

pub fn client(settings: &Settings) -> Result<KalshiClient> {
    client_with(settings, credentials(settings)?)
}

fn client_with(settings: &Settings, credentials: Option<Credentials>) -> Result<KalshiClient> {
    let base_url = settings
        .kalshi_base_url
        .clone()
        .unwrap_or_else(|| settings.kalshi_env.rest_url().to_string());
    let config = KalshiConfig {
        base_url,
        credentials,
        timeout: StdDuration::from_secs(u64::from(settings.http_timeout_seconds)),
        read_tokens_per_second: settings.kalshi_read_tokens_per_second,
        write_tokens_per_second: settings.kalshi_write_tokens_per_second,
        retries: 3,
        min_delay: StdDuration::from_millis(500),
    };
    Ok(KalshiClient::new(config, Arc::new(SystemClock))?)
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

/// Every bracket's top of book as a snapshot (the YES ask is 1 − the best NO bid).
fn snapshots(e: &WeatherEvent, books: &[OrderBook]) -> Vec<MarketSnapshot> {
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
            })
        })
        .collect()
}

pub async fn markets(
    codes: &[String],
    date: Option<NaiveDate>,
    json: bool,
    record: bool,
) -> Result<()> {
    let settings = setup::settings()?;
    let client = client(&settings)?;
    let cities = setup::cities(codes)?;
    let mut out = Vec::new();
    let mut recorded = Vec::new();
    for city in cities {
        let events = client.weather_events(&city.kalshi_series, "open").await?;
        for e in events.iter().filter(|e| date.is_none_or(|d| e.date == d)) {
            let tickers: Vec<&str> = e.brackets.iter().map(|b| b.ticker.as_str()).collect();
            let books = client.orderbooks(&tickers).await?;
            if record {
                recorded.extend(snapshots(e, &books));
            }
            out.push(quote(e, &books));
        }
    }
    if record {
        let db = setup::database(&settings).await?;
        db.migrate().await?;
        let new = db.store().insert_market_snapshots(&recorded).await?;
        db.close().await;
        eprintln!("recorded {new} market snapshots");
    }
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
            client_with(&settings, Some(creds?))?
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
