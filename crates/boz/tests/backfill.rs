//! `boz backfill` against local servers over real HTTP: Open-Meteo (the Previous Runs API's
//! response shape: as-of forecasts stored with the decision time as the time they became known,
//! the backtest's look-ahead rule), IEM's text-product archive (a real climate report), and
//! Kalshi (recorded real markets, trades and candlesticks); a second run asks nothing again
//! (resumable), and a malformed answer stops with its name and leaves what was stored.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may panic

mod support;

use support::*;

use boz_common::city::builtin_cities;
use boz_store::Database;
use std::collections::BTreeMap;

use chrono::{DateTime, Duration, NaiveDate, NaiveTime, Utc};
use serde_json::json;
use wiremock::matchers::{path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

fn day(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn as_of_forecasts_are_stored_known_from_the_decision_and_not_asked_twice() {
    let server = MockServer::start().await;
    // hourly values for a week around the dates; previous_dayN = 50 + N
    let start: DateTime<Utc> = "2026-02-13T00:00:00Z".parse().unwrap();
    let n = 24 * 8;
    let times: Vec<String> = (0..n)
        .map(|i| {
            (start + Duration::hours(i))
                .format("%Y-%m-%dT%H:%M")
                .to_string()
        })
        .collect();
    let mut hourly = serde_json::Map::new();
    hourly.insert("time".into(), json!(times));
    for k in 1..=7 {
        hourly.insert(
            format!("temperature_2m_previous_day{k}"),
            json!(vec![50.0 + f64::from(k); n as usize]),
        );
    }
    Mock::given(path("/v1/forecast"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"utc_offset_seconds": 0, "hourly": hourly})),
        )
        .mount(&server)
        .await;
    let dir = tempfile::tempdir().unwrap();
    let uri = server.uri();
    let env = [
        ("DATABASE_URL", "sqlite://boz.sqlite"),
        ("OPEN_METEO_PREVIOUS_RUNS_URL", uri.as_str()),
    ];
    let args = [
        "backfill",
        "--from",
        "2026-02-16",
        "--to",
        "2026-02-17",
        "--city",
        "NYC",
        "--source",
        "forecasts",
        "--model",
        "ncep_gfs_seamless",
        "--rate-per-second",
        "20",
    ];
    let out = boz(dir.path(), &env, &args);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("NYC: 2 forecasts stored, 0 already stored"),
        "{}",
        text(&out.stdout)
    );
    let asked = server.received_requests().await.unwrap().len();
    assert_eq!(asked, 2, "one request per date, model and decision");

    let db = open_sqlite(&dir.path().join("boz.sqlite")).await;
    let store = db.store();
    let nyc = builtin_cities()
        .into_iter()
        .find(|c| c.code == "NYC")
        .unwrap();
    let stored = store
        .forecasts_between(&nyc.code(), day("2026-02-16"), day("2026-02-17"))
        .await
        .unwrap();
    assert_eq!(stored.len(), 2);
    for f in &stored {
        let w = &f.data;
        assert_eq!(w.source, "Open-Meteo:GFS");
        // known at 20:00 local standard time the day before, as a backtest decides
        let decision = nyc.at_standard_time(
            w.date - Duration::days(1),
            NaiveTime::from_hms_opt(20, 0, 0).unwrap(),
        );
        assert_eq!(w.fetched_at, decision, "{w:?}");
        // only runs out (with their 6-hour lag) by then were used
        assert!(
            w.model_run_timestamp + Duration::hours(6) <= decision,
            "{w:?}"
        );
        assert!(w.forecast_high_f > 50.0, "{w:?}");
    }
    db.close().await;

    // again: everything is stored, nothing is asked
    let again = boz(dir.path(), &env, &args);
    assert!(again.status.success(), "{}", text(&again.stderr));
    assert!(
        text(&again.stdout).contains("NYC: 0 forecasts stored, 2 already stored"),
        "{}",
        text(&again.stdout)
    );
    assert_eq!(server.received_requests().await.unwrap().len(), asked);

    // bad input is refused by name
    let bad = boz(
        dir.path(),
        &env,
        &[
            "backfill",
            "--from",
            "2026-02-16",
            "--to",
            "2026-02-17",
            "--rate-per-second",
            "0",
        ],
    );
    assert!(!bad.status.success());
    assert!(
        text(&bad.stderr).contains("--rate-per-second 0"),
        "{}",
        text(&bad.stderr)
    );
}

fn nyc() -> boz_common::city::City {
    builtin_cities()
        .into_iter()
        .find(|c| c.code == "NYC")
        .unwrap()
}

async fn open_db(dir: &std::path::Path) -> Database {
    open_sqlite(&dir.join("boz.sqlite")).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn climate_reports_from_the_archive_settle_like_live_and_are_not_asked_twice() {
    // a real final CLINYC (Central Park, 2013-01-02, issued 06:16 UTC on the 3rd) as IEM's
    // text format wraps it
    let report =
        std::fs::read_to_string(format!("{SHARED}/weather/cli_samples/pyiem_CLINYC.txt")).unwrap();
    let server = MockServer::start().await;
    Mock::given(path("/cgi-bin/afos/retrieve.py"))
        .and(query_param("pil", "CLINYC"))
        .and(query_param("sdate", "2013-01-01T00:00Z"))
        .and(query_param("edate", "2013-02-01T00:00Z"))
        .respond_with(
            ResponseTemplate::new(200).set_body_string(format!("\u{1}\n{report}\n\u{3}\n")),
        )
        .mount(&server)
        .await;
    let dir = tempfile::tempdir().unwrap();
    let uri = server.uri();
    let env = [
        ("DATABASE_URL", "sqlite://boz.sqlite"),
        ("IEM_BASE_URL", uri.as_str()),
    ];
    let args = |from: &str, to: &str| {
        [
            "backfill", "--source", "climate", "--city", "NYC", "--from", from, "--to", to,
        ]
        .map(str::to_string)
    };
    let run = |a: [String; 9]| {
        let a: Vec<&str> = a.iter().map(String::as_str).collect();
        boz(dir.path(), &env, &a)
    };
    let out = run(args("2013-01-02", "2013-01-02"));
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("NYC: climate reports: 1 settled highs stored, 0 already stored, 0 dates without a final report"),
        "{}",
        text(&out.stdout)
    );
    assert_eq!(
        server.received_requests().await.unwrap().len(),
        1,
        "one month, one request"
    );
    let db = open_db(dir.path()).await;
    let s = db
        .store()
        .get_settlement(&nyc().code(), day("2013-01-02"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(s.actual_high_f, 33.0, "the report's MAXIMUM");
    assert_eq!(s.source, "NWS CLI final");
    assert_eq!(
        s.raw_report["product_id"],
        "201301030616-KOKX-CDUS41-CLINYC"
    );
    assert_eq!(s.raw_report["via"], "IEM");
    assert!(
        s.raw_report["text"]
            .as_str()
            .unwrap()
            .contains("CLIMATE SUMMARY FOR JANUARY 2 2013")
    );
    db.close().await;

    // again: the date is settled, nothing is asked
    let again = run(args("2013-01-02", "2013-01-02"));
    assert!(again.status.success(), "{}", text(&again.stderr));
    assert!(
        text(&again.stdout).contains("every date already settled"),
        "{}",
        text(&again.stdout)
    );
    assert_eq!(server.received_requests().await.unwrap().len(), 1);

    // a day with no final in the archive settles nothing and says so
    let none = run(args("2013-01-03", "2013-01-03"));
    assert!(none.status.success(), "{}", text(&none.stderr));
    assert!(
        text(&none.stdout)
            .contains("0 settled highs stored, 0 already stored, 1 dates without a final report"),
        "{}",
        text(&none.stdout)
    );

    // a malformed answer stops the run by name; what was stored stays
    server.reset().await;
    Mock::given(path("/cgi-bin/afos/retrieve.py"))
        .respond_with(ResponseTemplate::new(200).set_body_string("<html>maintenance</html>"))
        .mount(&server)
        .await;
    let bad = run(args("2013-01-01", "2013-01-04"));
    assert!(!bad.status.success());
    let err = text(&bad.stderr);
    assert!(
        err.contains("NYC climate reports CLINYC issued in 2013-01"),
        "{err}"
    );
    assert!(
        err.contains("IEM") && err.contains("not a text-product list"),
        "{err}"
    );
    let db = open_db(dir.path()).await;
    let kept = db
        .store()
        .settlements_between(&nyc().code(), day("2013-01-01"), day("2013-01-31"))
        .await
        .unwrap();
    assert_eq!(kept.len(), 1);
    assert_eq!(kept[0].actual_high_f, 33.0);
    db.close().await;
}

const KALSHI: &str = "/trade-api/v2";

/// Kalshi's answers built from recorded real data: the 2024-08-17 New York event (markets as
/// Kalshi listed them, every trade printed on them) on the historical tier, and the 2025-12-01
/// event (markets and hourly candles as recorded) on the live tier.
struct Recorded {
    old_markets: Vec<serde_json::Value>,
    old_trades: BTreeMap<String, Vec<serde_json::Value>>,
    new_markets: Vec<serde_json::Value>,
    new_candles: BTreeMap<String, Vec<serde_json::Value>>,
}

fn recorded() -> Recorded {
    let history = std::path::Path::new(SHARED).join("history");
    let cpratim = history.join("cpratim-Kalshi-Weather-Trading");
    let sameeres = history.join("sameeres-kalshi-weather-bot");
    let old = boz_history::events::read_events(&cpratim.join("kxhighny_events.jsonl.gz"))
        .unwrap()
        .into_iter()
        .find(|e| e.event["event_ticker"] == "HIGHNY-24AUG17")
        .unwrap();
    let mut old_trades: BTreeMap<String, Vec<serde_json::Value>> = BTreeMap::new();
    for (i, t) in boz_history::parquet_files::read_trades(&cpratim.join("kxhighny_trades.parquet"))
        .unwrap()
        .into_iter()
        .filter(|t| t.ticker.starts_with("HIGHNY-24AUG17-"))
        .enumerate()
    {
        // the legacy shape of the time: integer cents and counts
        old_trades.entry(t.ticker.clone()).or_default().push(json!({
            "trade_id": format!("rec-{i}"), "ticker": t.ticker,
            "created_time": t.created_time.to_rfc3339(), "count": t.count,
            "yes_price": t.yes_price_cents, "no_price": 100 - t.yes_price_cents,
            "taker_side": t.taker_side}));
    }
    let new_markets = boz_history::parquet_files::read_markets(&sameeres.join("kalshi_markets.parquet"))
        .unwrap()
        .into_iter()
        .filter(|m| m.event_ticker == "KXHIGHNY-25DEC01")
        .map(|m| json!({"ticker": m.ticker, "event_ticker": m.event_ticker,
            "strike_type": m.strike_type, "floor_strike": m.floor_strike, "cap_strike": m.cap_strike,
            "subtitle": m.subtitle, "open_time": "2025-11-30T15:00:00Z",
            "close_time": "2025-12-02T04:59:00Z", "status": "finalized", "result": "",
            "expiration_value": ""}))
        .collect();
    let dollars = |c: Option<f64>| c.map(|c| format!("{:.4}", c / 100.0));
    let mut new_candles: BTreeMap<String, Vec<serde_json::Value>> = BTreeMap::new();
    for k in boz_history::parquet_files::read_candles(
        &sameeres.join("kalshi_history_chunks__KXHIGHNY_concat.parquet"),
    )
    .unwrap()
    .into_iter()
    .filter(|k| k.ticker.starts_with("KXHIGHNY-25DEC01-"))
    {
        new_candles
            .entry(k.ticker.clone())
            .or_default()
            .push(json!({
            "end_period_ts": (k.ts + Duration::hours(1)).timestamp(),
            "yes_bid": {"close_dollars": dollars(k.yes_bid_cents)},
            "yes_ask": {"close_dollars": dollars(k.yes_ask_cents)},
            "price": {"close_dollars": dollars(k.close_cents)},
            "volume_fp": format!("{:.2}", k.volume.unwrap_or(0.0)),
            "open_interest_fp": "0.00"}));
    }
    Recorded {
        old_markets: old.markets,
        old_trades,
        new_markets,
        new_candles,
    }
}

async fn mount_kalshi(server: &MockServer, r: &Recorded) {
    let ok = |v: serde_json::Value| ResponseTemplate::new(200).set_body_json(v);
    Mock::given(path(format!("{KALSHI}/historical/cutoff")))
        .respond_with(ok(json!({"market_settled_ts": "2025-11-01T00:00:00Z",
            "trades_created_ts": "2025-11-01T00:00:00Z", "orders_updated_ts": "2025-11-01T00:00:00Z"})))
        .mount(server)
        .await;
    // two pages
    let (first, second) = r.old_markets.split_at(r.old_markets.len() / 2);
    Mock::given(path(format!("{KALSHI}/historical/markets")))
        .and(query_param("cursor", "page-2"))
        .respond_with(ok(json!({"markets": second, "cursor": ""})))
        .with_priority(1)
        .mount(server)
        .await;
    Mock::given(path(format!("{KALSHI}/historical/markets")))
        .and(query_param("series_ticker", "KXHIGHNY"))
        .respond_with(ok(json!({"markets": first, "cursor": "page-2"})))
        .mount(server)
        .await;
    Mock::given(path(format!("{KALSHI}/markets")))
        .and(query_param("series_ticker", "KXHIGHNY"))
        .respond_with(ok(json!({"markets": r.new_markets, "cursor": ""})))
        .mount(server)
        .await;
    let trades = r.old_trades.clone();
    Mock::given(path(format!("{KALSHI}/historical/trades")))
        .respond_with(move |req: &wiremock::Request| {
            let ticker = req
                .url
                .query_pairs()
                .find(|(k, _)| k == "ticker")
                .map(|(_, v)| v.to_string())
                .unwrap();
            ok(json!({"trades": trades.get(&ticker).cloned().unwrap_or_default(), "cursor": ""}))
        })
        .mount(server)
        .await;
    Mock::given(path(format!("{KALSHI}/markets/trades")))
        .respond_with(ok(json!({"trades": [], "cursor": ""})))
        .mount(server)
        .await;
    Mock::given(wiremock::matchers::path_regex(format!(
        "^{KALSHI}/historical/markets/[^/]+/candlesticks$"
    )))
    .respond_with(ok(json!({"candlesticks": []})))
    .mount(server)
    .await;
    let candles = r.new_candles.clone();
    Mock::given(wiremock::matchers::path_regex(format!(
        "^{KALSHI}/series/KXHIGHNY/markets/[^/]+/candlesticks$"
    )))
    .respond_with(move |req: &wiremock::Request| {
        let ticker = req.url.path().split('/').nth_back(1).unwrap().to_string();
        ok(json!({"ticker": ticker, "candlesticks": candles.get(&ticker).cloned().unwrap_or_default()}))
    })
    .mount(server)
    .await;
}

/// The NYC market snapshots and trades stored for one event date.
async fn stored(
    store: &std::sync::Arc<dyn boz_common::ports::Store>,
    date: &str,
) -> (
    Vec<boz_common::ports::MarketSnapshot>,
    Vec<boz_common::ports::MarketTrade>,
) {
    let (city, d) = (nyc().code(), day(date));
    (
        store.market_snapshots_between(&city, d, d).await.unwrap(),
        store.market_trades_between(&city, d, d).await.unwrap(),
    )
}

fn market_calls(requests: &[wiremock::Request]) -> usize {
    requests
        .iter()
        .filter(|r| r.url.path().ends_with("/candlesticks") || r.url.path().ends_with("/trades"))
        .count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kalshi_history_lands_in_the_tables_the_backtest_reads() {
    let r = recorded();
    assert_eq!(r.old_markets.len(), 6);
    let server = MockServer::start().await;
    mount_kalshi(&server, &r).await;
    let dir = tempfile::tempdir().unwrap();
    let base = format!("{}{KALSHI}", server.uri());
    let env = [
        ("DATABASE_URL", "sqlite://boz.sqlite"),
        ("KALSHI_BASE_URL", base.as_str()),
    ];
    let args = [
        "backfill",
        "--source",
        "kalshi",
        "--city",
        "NYC",
        "--from",
        "2024-08-17",
        "--to",
        "2025-12-01",
        "--rate-per-second",
        "50",
    ];
    let out = boz(dir.path(), &env, &args);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let n_trades: usize = r.old_trades.values().map(Vec::len).sum();
    let n_candles: usize = r.new_candles.values().map(Vec::len).sum();
    assert_eq!((n_trades, n_candles), (136, 226));
    assert!(
        text(&out.stdout).contains(&format!(
            "NYC: Kalshi: 2 events, 12 markets fetched (0 already stored), {} market snapshots and {n_trades} trades stored, 1 settled values stored",
            n_candles + 12
        )),
        "{}",
        text(&out.stdout)
    );
    let first_calls = market_calls(&server.received_requests().await.unwrap());
    assert_eq!(
        first_calls, 24,
        "each market's candlesticks and trades, once"
    );

    let db = open_db(dir.path()).await;
    let store = db.store();
    let city = nyc().code();
    // every trade, exact, on the historical tier
    let (old_close, trades) = stored(&store, "2024-08-17").await;
    assert_eq!(trades.len(), n_trades);
    for t in &trades {
        let i: usize = t.trade_id.trim_start_matches("rec-").parse().unwrap();
        let sent = r.old_trades[&t.ticker]
            .iter()
            .find(|s| s["trade_id"] == t.trade_id)
            .unwrap();
        assert_eq!(
            t.yes_price.as_decimal() * rust_decimal::Decimal::ONE_HUNDRED,
            rust_decimal::Decimal::from(sent["yes_price"].as_i64().unwrap()),
            "trade {i}"
        );
        assert_eq!(
            t.count.as_decimal(),
            rust_decimal::Decimal::from(sent["count"].as_i64().unwrap())
        );
        assert_eq!(
            t.created_time.to_rfc3339(),
            sent["created_time"].as_str().unwrap()
        );
        assert_eq!(t.source, "kalshi-historical-trades");
    }
    // the settled value Kalshi recorded (79 °F)
    let settled = store
        .get_settlement(&city, day("2024-08-17"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (settled.actual_high_f, settled.source.as_str()),
        (79.0, "Kalshi expiration_value")
    );
    // the live tier's candlesticks as quotes, with their brackets
    let (snaps, _) = stored(&store, "2025-12-01").await;
    let (candles, closes): (Vec<_>, Vec<_>) = snaps
        .iter()
        .partition(|s| s.source == "kalshi-candlesticks");
    assert_eq!(candles.len(), n_candles);
    assert!(snaps.iter().all(|s| s.event_ticker == "KXHIGHNY-25DEC01"));
    assert_eq!(closes.len(), 6, "one closing row per market");
    assert!(
        closes.iter().all(|s| s.source == "kalshi-market-close"
            && s.yes_bid.is_none()
            && s.yes_ask.is_none())
    );
    // the old event's markets traded: their closing rows carry the listing's totals
    assert_eq!(old_close.len(), 6);
    for s in &old_close {
        let listed = r
            .old_markets
            .iter()
            .find(|m| m["ticker"] == s.ticker.as_str())
            .unwrap();
        assert_eq!(
            s.volume.unwrap().as_decimal(),
            rust_decimal::Decimal::from(listed["volume"].as_i64().unwrap())
        );
    }
    let b = snaps
        .iter()
        .find(|s| {
            s.ticker == "KXHIGHNY-25DEC01-B40.5" && s.yes_bid.is_some() && s.yes_ask.is_some()
        })
        .unwrap();
    assert_eq!((b.lower_bound_f, b.upper_bound_f), (Some(40), Some(41)));
    assert!(b.yes_bid.unwrap() < b.yes_ask.unwrap(), "{b:?}");
    db.close().await;

    // again: every market is stored, none is asked for
    let again = boz(dir.path(), &env, &args);
    assert!(again.status.success(), "{}", text(&again.stderr));
    assert!(
        text(&again.stdout).contains("0 markets fetched (12 already stored)"),
        "{}",
        text(&again.stdout)
    );
    assert_eq!(
        market_calls(&server.received_requests().await.unwrap()),
        first_calls
    );

    // the backtest reads them: the book rebuilt from the backfilled trades
    let report = backtest_day(dir.path(), &env, &["--recorded", "--book", "trades"]);
    let nyc_report = &report["cities"][0];
    assert_eq!(
        nyc_report["skipped"]["no prediction: no usable forecast source for the day: no forecast stored"],
        1,
        "no forecasts were backfilled: {nyc_report}"
    );
    let market = &nyc_report["scores"]["1d 20h"]["market"];
    assert_eq!(
        market["events"], 1,
        "the market is scored from the rebuilt book: {nyc_report}"
    );
    // the same trades imported from the recorded files give the same book, so the same score
    let history = format!("{SHARED}/history");
    let imported = backtest_day(
        dir.path(),
        &[("DATABASE_URL", "sqlite://other.sqlite")],
        &["--data", &history],
    );
    assert_eq!(&imported["cities"][0]["scores"]["1d 20h"]["market"], market);
}

/// `boz backtest` of NYC on 2024-08-17 with books from the whole day before, as JSON.
fn backtest_day(dir: &std::path::Path, env: &[(&str, &str)], extra: &[&str]) -> serde_json::Value {
    let mut args = vec![
        "backtest",
        "--city",
        "NYC",
        "--from",
        "2024-08-17",
        "--to",
        "2024-08-17",
        "--window-minutes",
        "1440",
        "--json",
    ];
    args.extend_from_slice(extra);
    let out = boz(dir, env, &args);
    assert!(out.status.success(), "{}", text(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_malformed_kalshi_answer_stops_by_name_and_leaves_no_half_market() {
    let r = recorded();
    let server = MockServer::start().await;
    // one market's trade list carries a price of 100¢ (not a price)
    let broken = "HIGHNY-24AUG17-B79.5";
    Mock::given(path(format!("{KALSHI}/historical/trades")))
        .and(query_param("ticker", broken))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"trades": [
            {"trade_id": "bad-1", "ticker": broken, "created_time": "2024-08-16T20:00:00Z",
             "count": 3, "yes_price": 100, "taker_side": "yes"}], "cursor": ""})))
        .with_priority(1)
        .mount(&server)
        .await;
    mount_kalshi(&server, &r).await;
    let dir = tempfile::tempdir().unwrap();
    let base = format!("{}{KALSHI}", server.uri());
    let out = boz(
        dir.path(),
        &[
            ("DATABASE_URL", "sqlite://boz.sqlite"),
            ("KALSHI_BASE_URL", base.as_str()),
        ],
        &[
            "backfill",
            "--source",
            "kalshi",
            "--city",
            "NYC",
            "--from",
            "2024-08-17",
            "--to",
            "2024-08-17",
        ],
    );
    assert!(!out.status.success());
    let err = text(&out.stderr);
    assert!(
        err.contains(&format!("NYC: market {broken}")) && err.contains("trade bad-1: yes_price 1"),
        "{err}"
    );
    let db = open_db(dir.path()).await;
    let (snaps, trades) = stored(&db.store(), "2024-08-17").await;
    assert!(
        snaps.iter().all(|s| s.ticker != broken),
        "nothing of the broken market"
    );
    assert!(trades.iter().all(|t| t.ticker != broken));
    // the markets before it are whole: their trades and their closing row
    assert!(
        !snaps.is_empty(),
        "markets listed before the broken one were stored"
    );
    for s in &snaps {
        assert_eq!(
            trades.iter().filter(|t| t.ticker == s.ticker).count(),
            r.old_trades.get(&s.ticker).map_or(0, Vec::len),
            "{}",
            s.ticker
        );
    }
    db.close().await;
}
