//! The running system end to end, in process, on a simulated clock: local fake NWS,
//! Open-Meteo and Kalshi servers (real HTTP) serving recorded responses, a real SQLite file,
//! and the pipeline's jobs run by `boz_engine`'s runner exactly as a worker runs them. One
//! climate day goes from forecasts to prediction, signal, paper order and fill, then the next
//! morning to settlement and post-mortem, checked row by row in the database.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may panic

mod support;

use support::{SHARED, mount_nws_forecasts, open_sqlite};

use std::collections::BTreeMap;
use std::sync::Arc;

use boz_common::CityCode;
use boz_common::config::{DatabaseUrl, Settings};
use boz_common::ports::{Clock, JobOutcome, ManualClock, Store, StoredUser, TradeFilter};
use boz_common::schemas::{Side, TradingMode};
use boz_common::status::TradeStatus;
use boz_engine::jobs::{Job, JobKind};
use boz_engine::runtime::Runner;
use boz_engine::services::{LOCAL_USER, Services};
use boz_store::Database;
use boz_trading::orders::client_order_id;
use boz_trading::risk::trading_day;
use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;
use wiremock::matchers::{method, path, path_regex, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

const PREFIX: &str = "/trade-api/v2";
const EVENT: &str = "KXHIGHNY-22FEB04";
/// The ladder: ≤61 | 62-63 | 64-65 | 66-67 | 68-69 | ≥70.
const SUFFIX: [&str; 6] = ["T62", "B62.5", "B64.5", "B66.5", "B68.5", "T69"];
const BOUNDS: [(Option<i32>, Option<i32>); 6] = [
    (None, Some(61)),
    (Some(62), Some(63)),
    (Some(64), Some(65)),
    (Some(66), Some(67)),
    (Some(68), Some(69)),
    (Some(70), None),
];
/// The settled high: 66 °F, in 66-67.
const HIGH: i32 = 66;
const WINNER: usize = 3;

fn at(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

fn ticker(i: usize) -> String {
    format!("{EVENT}-{}", SUFFIX[i])
}

/// The recorded Central Park climate report, for 2022-02-04 with a maximum of `max`.
fn climate_report(max: i32) -> String {
    std::fs::read_to_string(format!("{SHARED}/weather/cli_samples/pyiem_CLINYC.txt"))
        .unwrap()
        .replace("JANUARY 2 2013", "FEBRUARY 4 2022")
        .replace(
            "  MAXIMUM         33    301 PM",
            &format!("  MAXIMUM         {max}    301 PM"),
        )
}

/// NWS: the recorded NYC point, the recorded raw grid (made 2022-02-04 03:15Z) and 12-hour
/// forecast; no observations (the station answers 404: the prediction goes ahead without the
/// running maximum); the climate report of 2022-02-04 issued the next morning.
async fn fake_nws() -> MockServer {
    let nws = MockServer::start().await;
    let ok = |v: Value| ResponseTemplate::new(200).set_body_json(v);
    mount_nws_forecasts(&nws).await;
    Mock::given(path("/products/types/CLI/locations/NYC"))
        .respond_with(ok(json!({"@graph": [
            {"id": "cli-nyc-20220205", "issuanceTime": "2022-02-05T06:16:00+00:00"}]})))
        .mount(&nws)
        .await;
    Mock::given(path("/products/cli-nyc-20220205"))
        .respond_with(ok(json!({"id": "cli-nyc-20220205",
            "issuanceTime": "2022-02-05T06:16:00+00:00", "productText": climate_report(HIGH)})))
        .mount(&nws)
        .await;
    nws
}

/// Open-Meteo: GFS hourly temperatures around 2022-02-04 (40 + hour of day: the climate day's
/// high is 63 °F); the ensemble endpoint fails.
async fn fake_open_meteo() -> MockServer {
    let om = MockServer::start().await;
    let start = at("2022-02-03T00:00:00Z");
    let times: Vec<String> = (0..96)
        .map(|i| {
            (start + chrono::Duration::hours(i))
                .format("%Y-%m-%dT%H:%M")
                .to_string()
        })
        .collect();
    let temps: Vec<f64> = (0..96).map(|i| 40.0 + (i % 24) as f64).collect();
    Mock::given(path("/v1/forecast"))
        .respond_with(ResponseTemplate::new(200).set_body_json(
            json!({"utc_offset_seconds": 0, "hourly": {"time": times, "temperature_2m": temps}}),
        ))
        .mount(&om)
        .await;
    Mock::given(path("/v1/ensemble"))
        .respond_with(ResponseTemplate::new(500))
        .mount(&om)
        .await;
    om
}

fn book(bid: &str, ask: &str) -> Value {
    let no = (Decimal::ONE - ask.parse::<Decimal>().unwrap()).to_string();
    json!({"orderbook_fp": {"yes_dollars": [[bid, "100.00"]], "no_dollars": [[no, "100.00"]]}})
}

/// Kalshi: the series and its fees, the open event KXHIGHNY-22FEB04 (closing the next
/// morning), every bracket quoted 0.03 / 0.05 (YES is cheap everywhere), and once
/// `finalized`, each market's result.
async fn fake_kalshi() -> MockServer {
    let k = MockServer::start().await;
    let markets: Vec<Value> = (0..6)
        .map(|i| {
            let (lo, hi) = BOUNDS[i];
            let (st, floor, cap) = match (lo, hi) {
                (None, Some(u)) => ("less", None, Some(u + 1)),
                (Some(l), None) => ("greater", Some(l - 1), None),
                (l, u) => ("between", l, u),
            };
            json!({"ticker": ticker(i), "strike_type": st, "floor_strike": floor,
                   "cap_strike": cap, "close_time": "2022-02-05T04:59:00Z"})
        })
        .collect();
    Mock::given(path(format!("{PREFIX}/series/KXHIGHNY")))
        .respond_with(ResponseTemplate::new(200).set_body_json(
            json!({"series": {"ticker": "KXHIGHNY", "fee_type": "quadratic", "fee_multiplier": 1}}),
        ))
        .mount(&k)
        .await;
    Mock::given(path(format!("{PREFIX}/events")))
        .and(query_param("series_ticker", "KXHIGHNY"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"events": [
            {"event_ticker": EVENT, "series_ticker": "KXHIGHNY", "markets": markets}], "cursor": ""})))
        .mount(&k)
        .await;
    let books: Vec<Value> = (0..6)
        .map(|i| {
            let mut b = book("0.03", "0.05");
            b["ticker"] = json!(ticker(i));
            b
        })
        .collect();
    Mock::given(path(format!("{PREFIX}/markets/orderbooks")))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"orderbooks": books})))
        .mount(&k)
        .await;
    for i in 0..6 {
        Mock::given(method("GET"))
            .and(path(format!("{PREFIX}/markets/{}/orderbook", ticker(i))))
            .respond_with(ResponseTemplate::new(200).set_body_json(book("0.03", "0.05")))
            .mount(&k)
            .await;
        let result = if i == WINNER { "yes" } else { "no" };
        Mock::given(method("GET"))
            .and(path(format!("{PREFIX}/markets/{}", ticker(i))))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({"market": {
                "ticker": ticker(i), "status": "finalized", "result": result,
                "expiration_value": HIGH.to_string(), "last_price_dollars": "0.5000"}})))
            .mount(&k)
            .await;
    }
    Mock::given(path_regex(format!("{PREFIX}/series/.*")))
        .respond_with(ResponseTemplate::new(404))
        .mount(&k)
        .await;
    k
}

fn settings(db: &std::path::Path, nws: &MockServer, om: &MockServer, k: &MockServer) -> Settings {
    let map: BTreeMap<String, String> = [
        ("DATABASE_URL", format!("sqlite://{}", db.display())),
        ("NWS_BASE_URL", nws.uri()),
        ("OPEN_METEO_BASE_URL", om.uri()),
        ("OPEN_METEO_ENSEMBLE_URL", om.uri()),
        ("OPEN_METEO_PREVIOUS_RUNS_URL", om.uri()),
        ("OPEN_METEO_MODELS", "gfs_seamless".into()),
        ("KALSHI_BASE_URL", format!("{}{PREFIX}", k.uri())),
        ("NWS_MAX_FORECAST_AGE_MINUTES", "100000000".into()),
        ("HTTP_TIMEOUT_SECONDS", "5".into()),
        ("TRADING_VENUE", "paper".into()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();
    Settings::from_map(&map).unwrap()
}

async fn job(runner: &Runner, kind: JobKind, tick: &str) -> JobOutcome {
    runner
        .run(&Job::new(kind, at(tick), "interval"))
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_climate_day_from_forecasts_to_post_mortem() {
    let (nws, om, kalshi) = (
        fake_nws().await,
        fake_open_meteo().await,
        fake_kalshi().await,
    );
    let dir = tempfile::tempdir().unwrap();
    let db_path = dir.path().join("boz.sqlite");
    let settings = settings(&db_path, &nws, &om, &kalshi);
    let db = open_sqlite(&db_path).await;
    let store: Arc<dyn Store> = db.store();
    // 06:00 EST on the climate day
    let clock = Arc::new(ManualClock::new(at("2022-02-04T11:00:00Z")));
    let nyc = CityCode::parse("NYC").unwrap();
    let svc = Services::new(
        Arc::new(settings.clone()),
        store.clone(),
        clock.clone() as Arc<dyn Clock>,
        vec![nyc.city().unwrap()],
    )
    .unwrap();
    // the local user trades automatically
    let mut user_settings =
        serde_json::to_value(settings.default_user_settings().unwrap()).unwrap();
    user_settings["trading_mode"] = serde_json::to_value(TradingMode::Auto).unwrap();
    store
        .create_user(&StoredUser {
            id: LOCAL_USER.into(),
            api_key_id: String::new(),
            encrypted_private_key: String::new(),
            settings: user_settings,
            created_at: clock.now(),
        })
        .await
        .unwrap();
    let runner = Runner::new(
        svc.clone(),
        "e2e-worker".into(),
        None,
        CancellationToken::new(),
    );
    let date = NaiveDate::from_ymd_opt(2022, 2, 4).unwrap();

    // ---- the market feed: every bracket's top of book recorded
    assert_eq!(
        job(&runner, JobKind::RecordMarkets, "2022-02-04T11:00:00Z").await,
        JobOutcome::Ok
    );
    let snaps = store
        .market_snapshots_between(&nyc, date, date)
        .await
        .unwrap();
    assert_eq!(snaps.len(), 6);
    for s in &snaps {
        assert_eq!(s.event_ticker, EVENT);
        assert_eq!(s.yes_bid.unwrap().as_decimal(), "0.03".parse().unwrap());
        assert_eq!(s.yes_ask.unwrap().as_decimal(), "0.05".parse().unwrap());
        assert_eq!(s.as_of, clock.now());
        let d = s.depth.as_ref().unwrap();
        assert_eq!(d.yes_bid_size.as_decimal(), Decimal::from(100));
        assert_eq!(d.yes_ask_size.as_decimal(), Decimal::from(100));
        assert_eq!((d.bid_levels, d.ask_levels), (1, 1));
    }

    // ---- forecasts → prediction → trading cycle (each asks for the next)
    assert_eq!(
        job(&runner, JobKind::FetchForecasts, "2022-02-04T11:00:00Z").await,
        JobOutcome::Ok
    );
    let forecasts = store.forecasts_for(&nyc, date).await.unwrap();
    let high = |src: &str| {
        forecasts
            .iter()
            .find(|f| f.data.source == src)
            .map(|f| f.data.forecast_high_f)
    };
    assert_eq!(high("NWS"), Some(72.0));
    assert_eq!(high("Open-Meteo:GFS"), Some(63.0));
    assert!(forecasts.iter().all(|f| f.data.fetched_at == clock.now()));

    let prediction = store.latest_prediction(&nyc, date).await.unwrap().unwrap();
    let p = &prediction.prediction;
    assert_eq!(p.brackets.len(), 6);
    let total: f64 = p.brackets.iter().map(|b| b.probability).sum();
    assert!((total - 1.0).abs() < 1e-9);
    assert!(
        (63.0..=72.0).contains(&p.ensemble_forecast_f),
        "{}",
        p.ensemble_forecast_f
    );
    assert_eq!(prediction.provenance["event_ticker"], EVENT);

    let trades = store
        .list_trades(
            LOCAL_USER,
            &TradeFilter {
                limit: 100,
                ..TradeFilter::default()
            },
        )
        .await
        .unwrap();
    assert!(
        !trades.is_empty(),
        "YES at 0.05 is cheap against the model: it trades"
    );
    let day = trading_day(clock.now());
    let mut bought = Vec::new();
    for t in &trades {
        let r = &t.record;
        assert_eq!(r.status, TradeStatus::Executed, "{}", r.id);
        assert_eq!(r.side, Side::Yes);
        assert_eq!(r.entry_price.as_decimal(), "0.05".parse().unwrap());
        let i = p
            .brackets
            .iter()
            .position(|b| b.bracket_label == r.bracket_label)
            .unwrap();
        let coid = client_order_id(LOCAL_USER, &ticker(i), Side::Yes, day);
        let order = store.get_order(&coid).await.unwrap().expect("order stored");
        assert_eq!(order.trade_id, r.id);
        assert_eq!(order.status.as_str(), "executed");
        assert_eq!(order.filled, r.quantity);
        assert_eq!(
            order.fill_cost.as_decimal(),
            r.quantity.as_decimal() * Decimal::new(5, 2)
        );
        assert!(order.fees.as_decimal() > Decimal::ZERO);
        assert!(r.model_probability > 0.05, "bought only with an edge");
        bought.push((i, r.id.clone(), order));
    }
    let runs = |job: &'static str| {
        let store = store.clone();
        async move {
            store
                .job_runs_since(job, at("2000-01-01T00:00:00Z"))
                .await
                .unwrap()
        }
    };
    for (name, reason) in [
        ("record_markets", "interval"),
        ("fetch_forecasts", "interval"),
        ("predict", "after fetch_forecasts"),
        ("trading_cycle", "after predict"),
    ] {
        let r = runs(name).await;
        assert_eq!(r.len(), 1, "{name}");
        assert_eq!(r[0].outcome, JobOutcome::Ok, "{name}: {:?}", r[0].error);
        assert_eq!(r[0].summary.as_ref().unwrap()["reason"], reason);
        assert_eq!(r[0].worker, "e2e-worker");
    }
    let cycle = &runs("trading_cycle").await[0];
    assert_eq!(
        cycle.summary.as_ref().unwrap()["orders"]
            .as_array()
            .unwrap()
            .len(),
        bought.len()
    );

    // healthy now: fresh forecasts, a fresh market feed, every job ran
    let health = boz_engine::health::check(&svc).await;
    assert!(health.healthy, "{:?}", health.reasons);
    assert_eq!(health.body["status"], "ok");
    assert_eq!(health.body["jobs"].as_array().unwrap().len(), 4);
    assert_eq!(health.body["trading"][0]["state"], "ACTIVE");

    // ---- the next morning: the climate report and Kalshi's results settle every trade
    clock.set(at("2022-02-05T12:00:00Z"));
    assert_eq!(
        job(&runner, JobKind::Settle, "2022-02-05T12:00:00Z").await,
        JobOutcome::Ok
    );
    let settled = store.settlements_between(&nyc, date, date).await.unwrap();
    assert_eq!(settled.len(), 1);
    assert_eq!(settled[0].actual_high_f, f64::from(HIGH));
    for (i, id, order) in &bought {
        let t = store.get_trade(LOCAL_USER, id).await.unwrap();
        let r = &t.record;
        let won = *i == WINNER;
        assert_eq!(
            r.status,
            if won {
                TradeStatus::Won
            } else {
                TradeStatus::Lost
            },
            "{id}"
        );
        let payout = if won {
            order.filled.as_decimal()
        } else {
            Decimal::ZERO
        };
        assert_eq!(
            r.pnl.unwrap().as_decimal(),
            payout - order.fill_cost.as_decimal() - order.fees.as_decimal(),
            "{id}"
        );
        assert_eq!(r.settlement_temp_f, Some(f64::from(HIGH)));
        assert!(r.postmortem.as_deref().is_some_and(|t| !t.is_empty()));
        let pm = store.get_postmortem(LOCAL_USER, id).await.unwrap().unwrap();
        assert_eq!(pm["actual_high_f"].as_f64(), Some(f64::from(HIGH)));
    }
    let settle_runs = runs("settle").await;
    assert_eq!(settle_runs.len(), 1);
    assert_eq!(settle_runs[0].started_at, clock.now());

    // settling again changes nothing, and with nothing left the job skips the city
    let before = store
        .list_trades(
            LOCAL_USER,
            &TradeFilter {
                limit: 100,
                ..TradeFilter::default()
            },
        )
        .await
        .unwrap();
    clock.set(at("2022-02-05T12:30:00Z"));
    assert_eq!(
        job(&runner, JobKind::Settle, "2022-02-05T12:30:00Z").await,
        JobOutcome::Ok
    );
    let after = store
        .list_trades(
            LOCAL_USER,
            &TradeFilter {
                limit: 100,
                ..TradeFilter::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(
        before
            .iter()
            .map(|t| (&t.record.id, t.record.status, t.record.pnl))
            .collect::<Vec<_>>(),
        after
            .iter()
            .map(|t| (&t.record.id, t.record.status, t.record.pnl))
            .collect::<Vec<_>>()
    );
    let last = runs("settle").await.pop().unwrap();
    assert!(last.summary.unwrap()["skipped"].is_string());

    // a day later with no new forecast, health names the stale source and answers 503
    let health = boz_engine::health::check(&svc).await;
    assert!(!health.healthy);
    assert!(
        health
            .reasons
            .iter()
            .any(|r| r.starts_with("NYC: no forecast fetched")),
        "{:?}",
        health.reasons
    );
    db.close().await;
}

// ---------------------------------------------------------------- book watch

/// A WebSocket server that accepts one connection, reads (and ignores) its subscriptions,
/// and sends `messages` one by one, each after a short pause.
async fn ws_server(messages: Vec<Value>) -> String {
    use futures::{SinkExt, StreamExt};
    use tokio_tungstenite::tungstenite::Message;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("ws://{}/trade-api/ws/v2", listener.local_addr().unwrap());
    tokio::spawn(async move {
        let (stream, _) = listener.accept().await.unwrap();
        let ws = tokio_tungstenite::accept_async(stream).await.unwrap();
        let (mut sink, mut source) = ws.split();
        tokio::spawn(async move { while source.next().await.is_some() {} });
        for m in messages {
            tokio::time::sleep(std::time::Duration::from_millis(200)).await;
            sink.send(Message::text(m.to_string())).await.unwrap();
        }
        // keep the connection open
        tokio::time::sleep(std::time::Duration::from_secs(60)).await;
    });
    url
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_moved_book_asks_for_a_trading_cycle() {
    use support::fake_kalshi;
    let (kalshi, _book, _arrived) = fake_kalshi::start(std::time::Duration::ZERO).await;
    let t = fake_kalshi::ticker(1);
    let snapshot = json!({"type": "orderbook_snapshot", "sid": 1, "seq": 1, "msg": {
        "market_ticker": t, "yes_dollars_fp": [["0.3300", "10.00"]], "no_dollars_fp": [["0.6500", "5.00"]]}});
    // more at the same best bid: not a move
    let same = json!({"type": "orderbook_delta", "sid": 1, "seq": 2, "msg": {
        "market_ticker": t, "price_dollars": "0.3300", "delta_fp": "4.00", "side": "yes", "ts_ms": 1}});
    // a better bid: a move
    let better = json!({"type": "orderbook_delta", "sid": 1, "seq": 3, "msg": {
        "market_ticker": t, "price_dollars": "0.3400", "delta_fp": "2.00", "side": "yes", "ts_ms": 2}});
    let ws = ws_server(vec![snapshot, same, better]).await;
    let dir = tempfile::tempdir().unwrap();
    let map: BTreeMap<String, String> = [
        (
            "DATABASE_URL",
            format!("sqlite://{}", dir.path().join("boz.sqlite").display()),
        ),
        (
            "KALSHI_BASE_URL",
            format!("{}{}", kalshi.uri(), fake_kalshi::PREFIX),
        ),
        ("KALSHI_WS_URL", ws),
        ("KALSHI_API_KEY_ID", "key-123".into()),
        ("KALSHI_PRIVATE_KEY", fake_kalshi::private_key_pem()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();
    let settings = Settings::from_map(&map).unwrap();
    let db = Database::open(&settings.database_url).await.unwrap();
    db.migrate().await.unwrap();
    let svc = Services::new(
        Arc::new(settings),
        db.store(),
        Arc::new(boz_common::ports::SystemClock),
        vec![CityCode::parse("NYC").unwrap().city().unwrap()],
    )
    .unwrap();
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let stop = CancellationToken::new();
    let watcher = tokio::spawn(boz_engine::watch::watch_books(svc, tx, stop.clone()));
    let job = tokio::time::timeout(std::time::Duration::from_secs(30), rx.recv())
        .await
        .expect("a trading cycle is asked for")
        .unwrap();
    assert_eq!(job.kind, JobKind::TradingCycle);
    assert_eq!(job.reason, "book moved");
    assert_eq!(job.tick.timestamp() % 60, 0, "one tick per minute");
    // only the move asked: the snapshot and the same-price delta did not
    assert!(rx.try_recv().is_err());
    stop.cancel();
    watcher.await.unwrap();
    db.close().await;
}

// ---------------------------------------------------------------- the queue

/// How many jobs the queue holds with `key`.
async fn queued(url: &DatabaseUrl, key: &str) -> i64 {
    use sqlx::Connection;
    match url {
        DatabaseUrl::Sqlite { path } => {
            let file = boz_engine::queue::sqlite_jobs_path(path);
            let mut c = sqlx::SqliteConnection::connect(&format!("sqlite://{}", file.display()))
                .await
                .unwrap();
            sqlx::query_scalar("SELECT COUNT(*) FROM Jobs WHERE idempotency_key = $1")
                .bind(key)
                .fetch_one(&mut c)
                .await
                .unwrap()
        }
        DatabaseUrl::Postgres { url } => {
            let mut c = sqlx::PgConnection::connect(url).await.unwrap();
            sqlx::query_scalar("SELECT COUNT(*) FROM apalis.jobs WHERE idempotency_key = $1")
                .bind(key)
                .fetch_one(&mut c)
                .await
                .unwrap()
        }
    }
}

/// Three schedulers pushing the same ticks: each is queued once.
async fn a_tick_is_queued_once(url: &DatabaseUrl) {
    let mut queues = Vec::new();
    for _ in 0..3 {
        queues.push(
            boz_engine::queue::Queue::open(url, std::time::Duration::from_secs(1))
                .await
                .unwrap(),
        );
    }
    let jobs = [
        Job::new(JobKind::Settle, at("2026-11-28T06:00:00Z"), "interval"),
        Job::new(JobKind::Settle, at("2026-11-28T06:30:00Z"), "interval"),
        Job::new(
            JobKind::TradingCycle,
            at("2026-11-28T06:00:00Z"),
            "book moved",
        ),
    ];
    for q in &queues {
        for j in &jobs {
            q.push(j).await.unwrap();
        }
    }
    for j in &jobs {
        assert_eq!(queued(url, &j.key()).await, 1, "{}", j.key());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tick_is_queued_once_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    a_tick_is_queued_once(&DatabaseUrl::Sqlite {
        path: dir.path().join("boz.sqlite"),
    })
    .await;
    assert!(
        dir.path().join("boz.jobs.sqlite").exists(),
        "a file of its own"
    );
}

#[test]
fn a_tick_is_queued_once_on_postgres() {
    let Some((url, admin, name)) = support::pg_database() else {
        return;
    };
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(a_tick_is_queued_once(&DatabaseUrl::parse(&url).unwrap()));
    support::drop_pg_database(&admin, &name);
}
