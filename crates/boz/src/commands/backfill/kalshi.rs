//! Kalshi's history of a city's markets into the tables the backtest reads.
//!
//! - Markets: the series' markets from both tiers, `GET /historical/markets?series_ticker=` (it
//!   also lists the legacy `HIGHNY-*` markets) and `GET /markets?series_ticker=` closing in the
//!   window; grouped into events by the market model (brackets with exact bounds); events outside
//!   `--from..--to` (or in the reserved window) are left out.
//! - Quotes: each market's hourly candlesticks over its life, from the tier it is listed in,
//!   stored as `market_snapshots` (source `kalshi-candlesticks`, `as_of` = the candle's end: the
//!   YES bid and ask at the close of the hour, the last trade price, the hour's volume). An empty
//!   side (0.00 bid, 1.00 ask) is no quote.
//! - Trades: every trade printed on the market, `GET /historical/trades` before Kalshi's trade
//!   cutoff and `GET /markets/trades` after it (both for a market that spans it), stored in
//!   `market_trades` by trade id.
//! - Settled value: the event's `expiration_value` into `settlements` (source `Kalshi
//!   expiration_value`): what paid. A climate-report high stored before that differs is replaced
//!   and the disagreement printed.
//!
//! - Totals: at the market's close, a snapshot with its last price and volume from the listing
//!   (source `kalshi-market-close`, no quote), stored with the candlesticks in one transaction
//!   after the trades: a market with that row is done and a second run does not ask for it
//!   again; an interrupted market is fetched again whole (trades already stored are skipped by
//!   id).

use std::collections::{BTreeMap, HashSet};

use anyhow::{Context, Result};
use boz_common::city::City;
use boz_common::ports::{MarketSnapshot, MarketTrade, SettlementRow};
use boz_kalshi::WeatherEvent;
use boz_kalshi::history::{candles_from_api, listing_totals, trade_from_api};
use boz_kalshi::market::{event_from_api, settled_high};
use boz_kalshi::rest::KalshiClient;
use chrono::{DateTime, Duration, Utc};
use serde_json::{Value, json};

use super::Run;

/// The snapshot source of backfilled candlesticks.
pub const CANDLES: &str = "kalshi-candlesticks";
/// The snapshot source of a market's totals at its close (no quote: its last price and
/// volume, from the listing), stored last: the mark of a market done.
pub const CLOSED: &str = "kalshi-market-close";
const SETTLED: &str = "Kalshi expiration_value";

/// Where Kalshi splits live from historical data.
pub(super) struct Cutoff {
    /// Markets settled before this are only on the historical endpoints.
    market_settled: DateTime<Utc>,
    /// Trades created before this are only on `/historical/trades`.
    trades_created: DateTime<Utc>,
}

fn time_field(v: &Value, name: &str, what: &str) -> Result<DateTime<Utc>> {
    let s = v
        .get(name)
        .and_then(Value::as_str)
        .with_context(|| format!("Kalshi {what}: no {name}"))?;
    Ok(DateTime::parse_from_rfc3339(s)
        .with_context(|| format!("Kalshi {what}: {name} {s:?} is not a time"))?
        .with_timezone(&Utc))
}

impl Cutoff {
    pub(super) async fn fetch(run: &Run<'_>, client: &KalshiClient) -> Result<Cutoff> {
        run.limiter.until_ready().await;
        let v = client.historical_cutoff().await?;
        Ok(Cutoff {
            market_settled: time_field(&v, "market_settled_ts", "/historical/cutoff")?,
            trades_created: time_field(&v, "trades_created_ts", "/historical/cutoff")?,
        })
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Tier {
    Historical,
    Live,
}

#[derive(Default)]
struct Counts {
    events: usize,
    markets: u64,
    already: u64,
    candles: u64,
    trades: u64,
    settled: u64,
    skipped: Vec<String>,
}

pub(super) async fn backfill(
    run: &Run<'_>,
    client: &KalshiClient,
    cutoff: &Cutoff,
    city: &City,
) -> Result<()> {
    let code = city.code();
    let series = city.kalshi_series.clone();
    let ts = |d: chrono::NaiveDate, days: i64| {
        city.at_standard_time(d + Duration::days(days), chrono::NaiveTime::MIN)
            .timestamp()
            .to_string()
    };
    run.limiter.until_ready().await;
    let historical = client
        .historical_markets(&[("series_ticker", series.clone()), ("limit", "1000".into())])
        .await
        .with_context(|| format!("{}: historical markets of {series}", city.code))?;
    run.limiter.until_ready().await;
    let live = client
        .markets(&[
            ("series_ticker", series.clone()),
            ("min_close_ts", ts(run.from, -1)),
            ("max_close_ts", ts(run.to, 3)),
            ("limit", "1000".into()),
        ])
        .await
        .with_context(|| format!("{}: markets of {series}", city.code))?;
    // the markets of each event, with the tier each is listed in (historical first)
    let mut by_event: BTreeMap<String, Vec<(Value, Tier)>> = BTreeMap::new();
    let mut seen = HashSet::new();
    for (m, tier) in historical
        .into_iter()
        .map(|m| (m, Tier::Historical))
        .chain(live.into_iter().map(|m| (m, Tier::Live)))
    {
        let (Some(ticker), Some(event)) = (
            m.get("ticker").and_then(Value::as_str),
            m.get("event_ticker").and_then(Value::as_str),
        ) else {
            anyhow::bail!(
                "Kalshi markets of {series}: a market without ticker or event_ticker: {m}"
            );
        };
        if seen.insert(ticker.to_string()) {
            by_event
                .entry(event.to_string())
                .or_default()
                .push((m, tier));
        }
    }
    let mut c = Counts::default();
    let mut events: Vec<(WeatherEvent, Vec<(Value, Tier)>)> = Vec::new();
    for (event_ticker, markets) in by_event {
        let values: Vec<Value> = markets.iter().map(|(m, _)| m.clone()).collect();
        match event_from_api(
            &json!({"event_ticker": event_ticker, "series_ticker": series}),
            &values,
        ) {
            Ok(ev)
                if ev.city.as_str() == city.code
                    && ev.date >= run.from
                    && ev.date <= run.to
                    && run.wanted(ev.date) =>
            {
                events.push((ev, markets));
            }
            Ok(_) => {}
            Err(e) => c.skipped.push(format!("{event_ticker}: {e}")),
        }
    }
    let done: HashSet<String> = run
        .store
        .market_snapshots_between(&code, run.from, run.to)
        .await?
        .into_iter()
        .filter(|s| s.source == CLOSED)
        .map(|s| s.ticker)
        .collect();
    let total: usize = events.iter().map(|(_, ms)| ms.len()).sum();
    run.phase(city, "markets", total as u64);
    for (ev, markets) in &events {
        c.events += 1;
        settle(run, city, ev, markets, &mut c).await?;
        for (m, tier) in markets {
            run.bar.inc(1);
            let Some(bracket) = ev
                .brackets
                .iter()
                .find(|b| Some(b.ticker.as_str()) == m.get("ticker").and_then(Value::as_str))
            else {
                continue;
            };
            if done.contains(&bracket.ticker) {
                c.already += 1;
                continue;
            }
            let (candles, trades) = market(run, client, cutoff, city, ev, bracket, (m, *tier))
                .await
                .with_context(|| format!("{}: market {}", city.code, bracket.ticker))?;
            c.trades += run.store.insert_market_trades(&trades).await?;
            c.candles += run.store.insert_market_snapshots(&candles).await?;
            c.markets += 1;
        }
    }
    run.say(format!(
        "{}: Kalshi: {} events, {} markets fetched ({} already stored), {} market snapshots and {} trades stored, {} settled values stored",
        city.code, c.events, c.markets, c.already, c.candles, c.trades, c.settled
    ));
    if !c.skipped.is_empty() {
        run.say(format!(
            "{}: {} events not read:",
            city.code,
            c.skipped.len()
        ));
        for s in c.skipped.iter().take(5) {
            run.say(format!("  {s}"));
        }
    }
    Ok(())
}

/// The event's settled value, unless the same is stored.
async fn settle(
    run: &Run<'_>,
    city: &City,
    ev: &WeatherEvent,
    markets: &[(Value, Tier)],
    c: &mut Counts,
) -> Result<()> {
    let Some(high) = markets
        .iter()
        .filter_map(|(m, _)| m.get("expiration_value").and_then(Value::as_str))
        .find_map(settled_high)
    else {
        return Ok(());
    };
    let code = city.code();
    let stored = run.store.get_settlement(&code, ev.date).await?;
    if let Some(s) = &stored {
        if s.actual_high_f.round() as i32 == high {
            return Ok(());
        }
        run.say(format!(
            "{}: {} Kalshi settled on {high}°F but {} said {}°F: Kalshi's value is kept (it is what paid)",
            city.code, ev.date, s.source, s.actual_high_f
        ));
    }
    run.store
        .upsert_settlement(&SettlementRow {
            city: code,
            settlement_date: ev.date,
            actual_high_f: f64::from(high),
            source: SETTLED.into(),
            raw_report: json!({"event_ticker": ev.event_ticker, "expiration_value": high, "via": "boz backfill"}),
            fetched_at: Utc::now(),
        })
        .await?;
    c.settled += 1;
    Ok(())
}

/// A snapshot of the market with no prices yet.
fn candles_base(city: &City, ev: &WeatherEvent, bracket: &boz_kalshi::Bracket) -> MarketSnapshot {
    MarketSnapshot {
        city: city.code(),
        event_date: ev.date,
        event_ticker: ev.event_ticker.clone(),
        ticker: bracket.ticker.clone(),
        lower_bound_f: bracket.lower_bound_f,
        upper_bound_f: bracket.upper_bound_f,
        as_of: DateTime::<Utc>::MIN_UTC,
        yes_bid: None,
        yes_ask: None,
        last_price: None,
        volume: None,
        source: CANDLES.into(),
        depth: None,
    }
}

/// One market (its listing and tier) as candlesticks and closing totals (snapshots, the totals
/// last) and trades.
async fn market(
    run: &Run<'_>,
    client: &KalshiClient,
    cutoff: &Cutoff,
    city: &City,
    ev: &WeatherEvent,
    bracket: &boz_kalshi::Bracket,
    (m, tier): (&Value, Tier),
) -> Result<(Vec<MarketSnapshot>, Vec<MarketTrade>)> {
    let ticker = bracket.ticker.as_str();
    let open = time_field(m, "open_time", ticker)?;
    let close = time_field(m, "close_time", ticker)?;
    let window = [
        ("start_ts", open.timestamp().to_string()),
        ("end_ts", close.timestamp().to_string()),
        ("period_interval", "60".to_string()),
    ];
    run.limiter.until_ready().await;
    let historical = tier == Tier::Historical || close < cutoff.market_settled;
    let (path, response) = if historical {
        let path = format!("/historical/markets/{ticker}/candlesticks");
        (path, client.historical_candlesticks(ticker, &window).await?)
    } else {
        let path = format!(
            "/series/{}/markets/{ticker}/candlesticks",
            city.kalshi_series
        );
        (
            path,
            client
                .candlesticks(&city.kalshi_series, ticker, &window)
                .await?,
        )
    };
    let mut candles: Vec<MarketSnapshot> = candles_from_api(&path, &response)?
        .into_iter()
        .map(|k| MarketSnapshot {
            as_of: k.end,
            yes_bid: k.yes_bid,
            yes_ask: k.yes_ask,
            last_price: k.last_price,
            volume: k.volume,
            ..candles_base(city, ev, bracket)
        })
        .collect();
    let (last_price, volume) = listing_totals("markets", m)?;
    candles.push(MarketSnapshot {
        as_of: close,
        yes_bid: None,
        yes_ask: None,
        last_price,
        volume,
        source: CLOSED.into(),
        ..candles_base(city, ev, bracket)
    });
    let query = [
        ("ticker", ticker.to_string()),
        ("min_ts", open.timestamp().to_string()),
        (
            "max_ts",
            (close + Duration::hours(1)).timestamp().to_string(),
        ),
        ("limit", "1000".to_string()),
    ];
    let mut listed = Vec::new();
    if open < cutoff.trades_created {
        run.limiter.until_ready().await;
        let got = client.historical_trades(&query).await?;
        listed.extend(got.into_iter().map(|t| ("/historical/trades", t)));
    }
    if close >= cutoff.trades_created {
        run.limiter.until_ready().await;
        let got = client.trades(&query).await?;
        listed.extend(got.into_iter().map(|t| ("/markets/trades", t)));
    }
    let mut trades = Vec::with_capacity(listed.len());
    for (path, t) in &listed {
        let p = trade_from_api(path, t)?;
        if p.ticker != ticker {
            anyhow::bail!(
                "Kalshi {path}: trade {} is of {}, not the {ticker} asked for",
                p.trade_id,
                p.ticker
            );
        }
        trades.push(MarketTrade {
            trade_id: p.trade_id,
            city: city.code(),
            event_date: ev.date,
            ticker: p.ticker,
            created_time: p.created_time,
            yes_price: p.yes_price,
            count: p.count,
            taker_side: p.taker_side,
            source: if *path == "/historical/trades" {
                "kalshi-historical-trades".into()
            } else {
                "kalshi-trades".into()
            },
        });
    }
    Ok((candles, trades))
}
