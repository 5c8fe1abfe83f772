//! The backtest (`boz_engine::backtest`, `boz backtest`): no look-ahead (a forecast issued and a
//! trade made after a decision change nothing of it), fills at conservative prices with the
//! paper exchange's fees, identical results for identical runs, and the real NYC recording end to
//! end through the binary.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may panic

mod support;

use support::*;

use std::sync::Arc;

use boz_common::city::{City, builtin_cities};
use boz_common::config::Settings;
use boz_common::fees::{FeeSchedule, Liquidity};
use boz_common::ports::{MarketBracket, SettlementRow, Store};
use boz_common::schemas::{
    Side, TradingMode, UserSettings, WeatherData, WeatherDataFields, WeatherVariables,
};
use boz_common::{Count, Dollars, Price};
use boz_engine::backtest::{Books, CityReport, Options, RecordedEvent, Tape, TapeTrade, run_city};
use boz_engine::history::Decision;
use boz_store::Database;
use boz_trading::config::TradingConfig;
use chrono::{DateTime, Duration, NaiveDate, NaiveTime, Utc};
use serde_json::json;

const DECISION: Decision = Decision {
    days_before: 1,
    hour: 20,
};

fn nyc() -> City {
    builtin_cities()
        .into_iter()
        .find(|c| c.code == "NYC")
        .unwrap()
}

fn day(n: i64) -> NaiveDate {
    NaiveDate::from_ymd_opt(2024, 9, 1).unwrap() + Duration::days(n)
}

/// A high that wanders between 60 and 79 °F.
fn high(n: i64) -> i32 {
    60 + ((n * 7) % 20) as i32
}

fn forecast(city: &City, date: NaiveDate, high: f64, at: DateTime<Utc>) -> WeatherData {
    WeatherData::new(WeatherDataFields {
        city: city.code(),
        date,
        forecast_high_f: high,
        source: "NWS".into(),
        model_run_timestamp: at,
        variables: WeatherVariables::high_only(high).unwrap(),
        raw_data: json!({}),
        fetched_at: at,
    })
    .unwrap()
}

/// Brackets of 2 °F around the day's high: a low tail, four bands, a high tail.
fn event(city: &City, n: i64) -> RecordedEvent {
    let h = high(n);
    let lo = h - 4;
    let mut brackets = vec![MarketBracket {
        ticker: format!("EV{n}-T{}", lo - 1),
        lower_bound_f: None,
        upper_bound_f: Some(lo - 1),
    }];
    for k in 0..4 {
        brackets.push(MarketBracket {
            ticker: format!("EV{n}-B{}", lo + 2 * k),
            lower_bound_f: Some(lo + 2 * k),
            upper_bound_f: Some(lo + 2 * k + 1),
        });
    }
    brackets.push(MarketBracket {
        ticker: format!("EV{n}-T{}", lo + 8),
        lower_bound_f: Some(lo + 8),
        upper_bound_f: None,
    });
    let _ = city;
    RecordedEvent {
        event_ticker: format!("EV{n}"),
        date: day(n),
        brackets,
        settled_high: Some(h),
    }
}

const DAYS: i64 = 60;

/// Sixty days: a forecast at noon the day before (1 °F off), the settled high, and trades
/// around each decision at prices that underrate the winning band.
async fn seed(
    store: &Arc<dyn Store>,
    city: &City,
) -> (Vec<RecordedEvent>, Vec<(String, TapeTrade)>) {
    let mut forecasts = Vec::new();
    let mut events = Vec::new();
    let mut trades = Vec::new();
    for n in 0..DAYS {
        let noon = city.at_standard_time(
            day(n) - Duration::days(1),
            NaiveTime::from_hms_opt(12, 0, 0).unwrap(),
        );
        forecasts.push(forecast(city, day(n), f64::from(high(n)) + 1.0, noon));
        store
            .upsert_settlement(&SettlementRow {
                city: city.code(),
                settlement_date: day(n),
                actual_high_f: f64::from(high(n)),
                source: "test".into(),
                raw_report: json!({}),
                fetched_at: noon,
            })
            .await
            .unwrap();
        let e = event(city, n);
        let decision = DECISION.at(city, day(n));
        for (i, b) in e.brackets.iter().enumerate() {
            // the band holding the forecast trades cheap; the others at their fair-ish value
            let cents = if i == 2 || i == 3 { 20 } else { 8 };
            for (minutes, c) in [(50, cents), (20, cents + 2)] {
                trades.push((
                    b.ticker.clone(),
                    TapeTrade {
                        at: decision - Duration::minutes(minutes),
                        yes_price: Price::parse(&format!("0.{c:02}")).unwrap(),
                        count: Count::whole(40),
                    },
                ));
            }
        }
        events.push(e);
    }
    store.insert_forecasts(&forecasts).await.unwrap();
    (events, trades)
}

fn options() -> Options {
    let settings = Settings::from_map(&Default::default()).unwrap();
    let mut fields = settings.default_user_settings().unwrap().into_fields();
    fields.trading_mode = TradingMode::Auto;
    Options {
        model: boz_engine::backtest::Model::Model,
        from: day(30),
        to: day(DAYS - 1),
        decision: DECISION,
        hours: vec![DECISION.hour],
        window: Duration::minutes(60),
        settings: UserSettings::new(fields).unwrap(),
        trading: TradingConfig::from_settings(&settings),
        bankroll: Dollars::parse("1000").unwrap(),
    }
}

async fn open() -> (tempfile::TempDir, Database, Arc<dyn Store>) {
    let dir = tempfile::tempdir().unwrap();
    let db = open_sqlite(&dir.path().join("bt.sqlite")).await;
    let store = db.store();
    (dir, db, store)
}

async fn run(
    store: &Arc<dyn Store>,
    city: &City,
    events: &[RecordedEvent],
    trades: &[(String, TapeTrade)],
) -> CityReport {
    run_city(
        store,
        city,
        events,
        &Books::Trades(Tape::new(trades.iter().cloned())),
        &options(),
        &|_| {},
    )
    .await
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fills_are_conservative_with_the_paper_exchanges_fees_and_runs_repeat_exactly() {
    let city = nyc();
    let (_dir, _db, store) = open().await;
    let (events, trades) = seed(&store, &city).await;
    let r = run(&store, &city, &events, &trades).await;
    assert_eq!(r.decisions, 30, "{:?}", r.skipped);
    assert!(!r.trades.is_empty(), "the cheap band is bought: {r:?}");
    for t in &r.trades {
        // never better than the highest price traded in the window (YES) or 1 - the lowest (NO)
        let day_n = (t.date - day(0)).num_days();
        let band = events[day_n as usize]
            .brackets
            .iter()
            .position(|b| b.ticker == t.ticker)
            .unwrap();
        let cheap = band == 2 || band == 3;
        let (lo, hi) = if cheap {
            ("0.20", "0.22")
        } else {
            ("0.08", "0.10")
        };
        let want = match t.side {
            Side::Yes => Price::parse(hi).unwrap(),
            Side::No => Price::parse(lo).unwrap().complement(),
        };
        assert_eq!(t.price, want, "{t:?}");
        // at most half the contracts traded in the window
        assert!(t.contracts <= Count::whole(40), "{t:?}");
        let fee = FeeSchedule::WEATHER
            .fee(t.price, t.contracts, Liquidity::Taker)
            .unwrap();
        assert_eq!(t.fee, fee, "the paper exchange's taker fee: {t:?}");
        let won = t.won.unwrap();
        let payout = if won {
            t.contracts.as_decimal()
        } else {
            0.into()
        };
        let pnl = payout - t.price.as_decimal() * t.contracts.as_decimal() - t.fee.as_decimal();
        assert_eq!(t.pnl.unwrap().as_decimal(), pnl, "{t:?}");
    }
    let total: rust_decimal::Decimal = r.trades.iter().map(|t| t.pnl.unwrap().as_decimal()).sum();
    assert_eq!(r.pnl.as_decimal(), total);
    assert_eq!(r.wins + r.losses, r.trades.len() as u32);
    assert!(r.scores["1d 20h"].model.events == 30 && r.scores["1d 20h"].market.events == 30);
    // the same inputs, the same report
    let again = run(&store, &city, &events, &trades).await;
    assert_eq!(
        serde_json::to_string(&r).unwrap(),
        serde_json::to_string(&again).unwrap()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nothing_issued_or_traded_after_a_decision_is_seen_by_it() {
    let city = nyc();
    let (_dir, _db, store) = open().await;
    let (events, mut trades) = seed(&store, &city).await;
    let before = serde_json::to_value(run(&store, &city, &events, &trades).await).unwrap();

    // planted after each decision: a forecast 15 °F off, and trades at 1 cent on every market
    let mut late = Vec::new();
    for n in 0..DAYS {
        let decision = DECISION.at(&city, day(n));
        late.push(forecast(
            &city,
            day(n),
            f64::from(high(n)) + 15.0,
            decision + Duration::minutes(1),
        ));
        for b in &events[n as usize].brackets {
            trades.push((
                b.ticker.clone(),
                TapeTrade {
                    at: decision + Duration::seconds(1),
                    yes_price: Price::parse("0.01").unwrap(),
                    count: Count::whole(1000),
                },
            ));
        }
    }
    store.insert_forecasts(&late).await.unwrap();
    let after = serde_json::to_value(run(&store, &city, &events, &trades).await).unwrap();
    assert_eq!(
        before, after,
        "a later forecast or trade changed a decision"
    );

    // the control: the same planted forecast a minute *before* the decisions is seen
    let (_dir2, _db2, store2) = open().await;
    let (events2, trades2) = seed(&store2, &city).await;
    let early: Vec<WeatherData> = (0..DAYS)
        .map(|n| {
            let decision = DECISION.at(&city, day(n));
            forecast(
                &city,
                day(n),
                f64::from(high(n)) + 15.0,
                decision - Duration::minutes(1),
            )
        })
        .collect();
    store2.insert_forecasts(&early).await.unwrap();
    let seen = serde_json::to_value(run(&store2, &city, &events2, &trades2).await).unwrap();
    assert_ne!(
        before["scores"], seen["scores"],
        "the test can see a planted forecast"
    );
}

#[test]
fn the_recorded_nyc_markets_run_end_to_end_and_repeat() {
    let data = std::path::Path::new(SHARED).join("history");
    let dir = tempfile::tempdir().unwrap();
    let args = [
        "backtest",
        "--from",
        "2024-08-16",
        "--to",
        "2024-09-30",
        "--city",
        "NYC",
        "--data",
        data.to_str().unwrap(),
        "--json",
    ];
    let env = [("DATABASE_URL", "sqlite://unused.sqlite")];
    let out = boz(dir.path(), &env, &args);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let first: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let nyc = &first["cities"][0];
    assert_eq!(nyc["city"], "NYC");
    assert_eq!(nyc["decisions"], 46, "{}", nyc["skipped"]);
    assert!(nyc["scores"]["1d 20h"]["model"]["events"].as_u64().unwrap() > 40);
    assert!(
        nyc["scores"]["1d 20h"]["market"]["events"]
            .as_u64()
            .unwrap()
            > 0
    );
    assert!(
        !dir.path().join("unused.sqlite").exists(),
        "the configured database is not touched"
    );
    let mut with_report = args.to_vec();
    with_report.extend(["--report", "out"]);
    let again = boz(dir.path(), &env, &with_report);
    assert_eq!(
        text(&out.stdout),
        text(&again.stdout),
        "identical runs, identical reports"
    );
    // the report files: the same JSON, and a page that needs no network
    let written: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("out/report.json")).unwrap())
            .unwrap();
    assert_eq!(written, first);
    let html = std::fs::read_to_string(dir.path().join("out/report.html")).unwrap();
    assert!(
        html.contains("uPlot") && html.contains("id=\"pnl-0\""),
        "charts"
    );
    // nothing loaded from elsewhere (uPlot's licence comment names its home page)
    for load in ["src=\"http", "href=\"http", "url(http", "import(", "fetch("] {
        assert!(!html.contains(load), "no network: {load}");
    }
    // a bad range is refused with the reason
    let bad = boz(
        dir.path(),
        &env,
        &[
            "backtest",
            "--from",
            "2024-09-30",
            "--to",
            "2024-08-16",
            "--data",
            data.to_str().unwrap(),
        ],
    );
    assert!(!bad.status.success());
    assert!(
        text(&bad.stderr).contains("--from 2024-09-30 is after --to 2024-08-16"),
        "{}",
        text(&bad.stderr)
    );
}

#[test]
fn a_sweep_runs_every_combination_and_warns_that_its_best_row_is_optimistic() {
    let data = std::path::Path::new(SHARED).join("history");
    let dir = tempfile::tempdir().unwrap();
    let env = [("DATABASE_URL", "sqlite://unused.sqlite")];
    let base = [
        "backtest",
        "--from",
        "2024-08-16",
        "--to",
        "2024-09-15",
        "--city",
        "NYC",
        "--data",
        data.to_str().unwrap(),
    ];
    let mut args = base.to_vec();
    args.extend([
        "--sweep",
        "min-ev=0.03,0.10",
        "--sweep",
        "decision-hour=16,20",
        "--json",
    ]);
    let out = boz(dir.path(), &env, &args);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let rows = v["rows"].as_array().unwrap();
    let points: Vec<(f64, u64)> = rows
        .iter()
        .map(|r| {
            (
                r["min_ev"].as_f64().unwrap(),
                r["decision_hour"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(points, [(0.03, 16), (0.03, 20), (0.1, 16), (0.1, 20)]);
    assert!(v["warning"].as_str().unwrap().contains("optimistic"));
    // the 20:00 rows are the plain run's numbers
    let mut plain = base.to_vec();
    plain.extend(["--json"]);
    let one: serde_json::Value =
        serde_json::from_slice(&boz(dir.path(), &env, &plain).stdout).unwrap();
    let nyc = &one["cities"][0];
    let at_20_default = boz(
        dir.path(),
        &env,
        &[&base[..], &["--sweep", "min-ev=0.05", "--json"]].concat(),
    );
    let row: serde_json::Value = serde_json::from_slice(&at_20_default.stdout).unwrap();
    assert_eq!(row["rows"][0]["pnl"], nyc["pnl"]);
    assert_eq!(
        row["rows"][0]["trades"].as_u64().unwrap() as usize,
        nyc["trades"].as_array().unwrap().len()
    );
    // a bad parameter is refused by name
    let mut bad = base.to_vec();
    bad.extend(["--sweep", "leverage=2"]);
    let out = boz(dir.path(), &env, &bad);
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("invalid --sweep leverage"),
        "{}",
        text(&out.stderr)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_running_systems_own_recordings_are_backtested_from_its_database() {
    use boz_common::ports::MarketSnapshot;
    let city = nyc();
    let dir = tempfile::tempdir().unwrap();
    let db = open_sqlite(&dir.path().join("boz.sqlite")).await;
    let store = db.store();
    let (events, _) = seed(&store, &city).await;
    // quotes as the market feed records them: ten minutes before each decision, and one a
    // minute after it at 1 cent that no decision may see
    let mut snaps = Vec::new();
    for (n, e) in events.iter().enumerate() {
        let decision = DECISION.at(&city, e.date);
        for (i, b) in e.brackets.iter().enumerate() {
            let (bid, ask) = if i == 2 || i == 3 {
                ("0.18", "0.20")
            } else {
                ("0.06", "0.08")
            };
            for (at, bid, ask) in [
                (decision - Duration::minutes(10), bid, ask),
                (decision + Duration::minutes(1), "0.01", "0.01"),
            ] {
                snaps.push(MarketSnapshot {
                    city: city.code(),
                    event_date: e.date,
                    event_ticker: e.event_ticker.clone(),
                    ticker: b.ticker.clone(),
                    lower_bound_f: b.lower_bound_f,
                    upper_bound_f: b.upper_bound_f,
                    as_of: at,
                    yes_bid: Some(Price::parse(bid).unwrap()),
                    yes_ask: Some(Price::parse(ask).unwrap()),
                    last_price: None,
                    volume: None,
                    source: format!("kalshi-ws-{n}"),
                    depth: None,
                });
            }
        }
    }
    store.insert_market_snapshots(&snaps).await.unwrap();
    db.close().await;
    let out = boz(
        dir.path(),
        &[("DATABASE_URL", "sqlite://boz.sqlite")],
        &[
            "backtest",
            "--recorded",
            "--from",
            &day(30).to_string(),
            "--to",
            &day(DAYS - 1).to_string(),
            "--city",
            "NYC",
            "--json",
        ],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let r: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let nyc = &r["cities"][0];
    assert_eq!(nyc["decisions"], 30, "{}", nyc["skipped"]);
    let trades = nyc["trades"].as_array().unwrap();
    assert!(!trades.is_empty(), "{nyc}");
    for t in trades {
        let price = t["price"].as_f64().unwrap();
        let want: &[f64] = if t["side"] == "yes" {
            &[0.20, 0.08]
        } else {
            &[0.82, 0.94]
        };
        assert!(
            want.contains(&price),
            "the recorded quote before the decision: {t}"
        );
        assert!(
            t["contracts"].as_f64().unwrap() <= 10.0,
            "unknown sizes: 10 a side: {t}"
        );
    }
    assert_eq!(nyc["scores"]["1d 20h"]["market"]["events"], 30);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn several_decisions_a_day_each_see_only_their_own_past() {
    let city = nyc();
    let (_dir, _db, store) = open().await;
    let (events, trades) = seed(&store, &city).await;
    let mut o = options();
    o.decision.hour = 16;
    o.hours = vec![16, 20];
    let r = run_city(
        &store,
        &city,
        &events,
        &Books::Trades(Tape::new(trades.iter().cloned())),
        &o,
        &|_| {},
    )
    .await
    .unwrap();
    assert_eq!(r.decisions, 60, "two a day: {:?}", r.skipped);
    // at 16:00 nothing had traded yet (the recorded trades are 20 and 50 minutes before 20:00)
    assert_eq!(r.scores["1d 16h"].market.events, 0);
    assert_eq!(r.scores["1d 16h"].model.events, 30);
    assert_eq!(r.scores["1d 20h"].market.events, 30);
    assert!(!r.trades.is_empty());
    for t in &r.trades {
        let local = t.decision_at.with_timezone(&chrono_tz::America::New_York);
        assert!(
            t.decision_at == DECISION.at(&city, t.date),
            "only the 20:00 decisions had a book: {t:?} ({local})"
        );
    }
}

/// A real top-of-book log (jetpackjules/Kalshi-Trader, the 2026-01-04 New York event) imported
/// in Pacific time, backtested as recorded quotes; a malformed log is refused by row and
/// column and stores nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn peer_book_logs_import_as_quotes_the_backtest_trades_against() {
    let dir = tempfile::tempdir().unwrap();
    let logs = dir.path().join("logs");
    std::fs::create_dir(&logs).unwrap();
    let name = "market_data_KXHIGHNY-26JAN04.csv.gz";
    std::fs::copy(
        format!("{SHARED}/peers/jetpackjules-kalshi-trader/market_logs/{name}"),
        logs.join(name),
    )
    .unwrap();
    let env = [("DATABASE_URL", "sqlite://boz.sqlite")];
    let logs_arg = logs.to_str().unwrap();
    let import = ["history", "import-book-logs", "--dir", logs_arg];
    let out = boz(dir.path(), &env, &import);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains("1 files, 6947 rows read in America/Los_Angeles; 6947 quotes"),
        "{stdout}"
    );
    assert!(stdout.contains("NYC: 1 events, 6947 quotes"), "{stdout}");
    let again = boz(dir.path(), &env, &import);
    assert!(
        text(&again.stdout).contains("6947 quotes, 0 new"),
        "{}",
        text(&again.stdout)
    );

    let db = open_sqlite(&dir.path().join("boz.sqlite")).await;
    let store = db.store();
    let date = NaiveDate::from_ymd_opt(2026, 1, 4).unwrap();
    let snaps = store
        .market_snapshots_between(&nyc().code(), date, date)
        .await
        .unwrap();
    let stored = snaps.len();
    // the first row, "2026-01-03T07:01:44.485615,KXHIGHNY-26JAN04-B33.5,20,60,80,40": 07:01 PST
    let first = snaps
        .iter()
        .find(|s| s.ticker == "KXHIGHNY-26JAN04-B33.5")
        .unwrap();
    assert_eq!(
        first.as_of,
        "2026-01-03T15:01:44.485615Z"
            .parse::<DateTime<Utc>>()
            .unwrap()
    );
    assert_eq!(
        (first.lower_bound_f, first.upper_bound_f),
        (Some(33), Some(34))
    );
    assert_eq!(first.yes_bid, Some(Price::parse("0.20").unwrap()));
    assert_eq!(first.yes_ask, Some(Price::parse("0.40").unwrap()));
    assert_eq!(first.source, "jetpackjules-book-log");
    let tickers: std::collections::BTreeSet<&str> =
        snaps.iter().map(|s| s.ticker.as_str()).collect();
    assert_eq!(tickers.len(), 6, "the whole ladder");
    // the day's settled high (the Central Park CLI of 2026-01-04: 35 °F)
    store
        .upsert_settlement(&SettlementRow {
            city: nyc().code(),
            settlement_date: date,
            actual_high_f: 35.0,
            source: "NWS CLI final".into(),
            raw_report: json!({"product_id": "202601050628-KOKX-CDUS41-CLINYC"}),
            fetched_at: Utc::now(),
        })
        .await
        .unwrap();
    db.close().await;

    // the market's scores of a --recorded backtest of the day
    let market_of = |extra: &[&str]| {
        let mut args = vec![
            "backtest",
            "--recorded",
            "--city",
            "NYC",
            "--from",
            "2026-01-04",
            "--to",
            "2026-01-04",
            "--window-minutes",
            "1440",
            "--json",
        ];
        args.extend_from_slice(extra);
        let out = boz(dir.path(), &env, &args);
        assert!(out.status.success(), "{}", text(&out.stderr));
        let r: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        r["cities"][0]["scores"]["1d 20h"]["market"].clone()
    };
    let market = &market_of(&[]);
    assert_eq!(market["events"], 1, "{market}");
    assert!(market["rps"].as_f64().unwrap() > 0.0, "{market}");

    // another recording of the same markets (a flat 1-2¢ book at the decision) is newer, so it
    // is the book unless the quotes are limited to the logs' source
    let db = open_sqlite(&dir.path().join("boz.sqlite")).await;
    let decision = nyc().at_standard_time(
        NaiveDate::from_ymd_opt(2026, 1, 3).unwrap(),
        NaiveTime::from_hms_opt(20, 0, 0).unwrap(),
    );
    let flat: Vec<_> = snaps
        .iter()
        .map(|s| (s.ticker.clone(), s.lower_bound_f, s.upper_bound_f))
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .map(|(ticker, lo, hi)| boz_common::ports::MarketSnapshot {
            city: nyc().code(),
            event_date: date,
            event_ticker: "KXHIGHNY-26JAN04".into(),
            ticker,
            lower_bound_f: lo,
            upper_bound_f: hi,
            as_of: decision,
            yes_bid: Some(Price::parse("0.01").unwrap()),
            yes_ask: Some(Price::parse("0.02").unwrap()),
            last_price: None,
            volume: None,
            source: "other-recorder".into(),
            depth: None,
        })
        .collect();
    assert_eq!(flat.len(), 6);
    db.store().insert_market_snapshots(&flat).await.unwrap();
    let stored = stored + flat.len();
    db.close().await;
    assert_ne!(&market_of(&[]), market, "the newer flat book is used");
    assert_eq!(
        &market_of(&["--quotes-from", "jetpackjules-book-log"]),
        market,
        "only the logs' quotes"
    );

    // a malformed log: refused by file, row and column, nothing stored
    let bad = dir.path().join("bad");
    std::fs::create_dir(&bad).unwrap();
    std::fs::write(
        bad.join("market_data_KXHIGHNY-26JAN05.csv"),
        "timestamp,market_ticker,best_yes_bid,best_no_bid,implied_no_ask,implied_yes_ask\n\
         2026-01-04T07:01:44,KXHIGHNY-26JAN05-B33.5,20,60,80,40\n\
         2026-01-04T07:02:44,KXHIGHNY-26JAN05-B33.5,20,sixty,80,40\n",
    )
    .unwrap();
    let out = boz(
        dir.path(),
        &env,
        &[
            "history",
            "import-book-logs",
            "--dir",
            bad.to_str().unwrap(),
        ],
    );
    assert!(!out.status.success());
    let err = text(&out.stderr);
    assert!(
        err.contains("market_data_KXHIGHNY-26JAN05.csv row 2, column best_no_bid"),
        "{err}"
    );
    let db = open_sqlite(&dir.path().join("boz.sqlite")).await;
    let jan5 = NaiveDate::from_ymd_opt(2026, 1, 5).unwrap();
    assert!(
        db.store()
            .market_snapshots_between(&nyc().code(), jan5, jan5)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        db.store()
            .market_snapshots_between(&nyc().code(), date, date)
            .await
            .unwrap()
            .len(),
        stored
    );
    db.close().await;
}
