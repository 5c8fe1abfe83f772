//! The trading engine end to end: real HTTP to a fake Kalshi (events, order books), a real
//! SQLite file or PostgreSQL database, the paper exchange behind a test venue that can answer
//! late (the fake exchange the issue asks for), and the `boz` binary's trading commands.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may panic

mod support;

use support::*;

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration as StdDuration;

use async_trait::async_trait;
use boz_common::city::City;
use boz_common::config::DatabaseUrl;
use boz_common::ports::{
    Clock, Exchange, ExchangePosition, ExposureLimits, OrderRecord, OrderRequest, OrderState,
    OrderStatus, Store, StoredUser, SystemClock, TimeInForce, TradingState,
};
use boz_common::schemas::{Side, TradingMode, UserSettings, UserSettingsFields};
use boz_common::{BozError, CityCode, Count, Dollars, Price};
use boz_kalshi::book::OrderBook;
use boz_kalshi::market_data::KalshiMarketData;
use boz_kalshi::paper::PaperExchange;
use boz_kalshi::rest::{KalshiClient, KalshiConfig};
use boz_store::Database;
use boz_trading::orders::{client_order_id, trade_id};
use boz_trading::risk::trading_day;
use boz_trading::{TradingConfig, TradingEngine};
use chrono::Utc;
use serde_json::{Value, json};
use wiremock::MockServer;

use support::fake_kalshi::{
    PREFIX, QUOTES, event_date, mount_markets as mount_kalshi, prediction, ticker,
};

fn nyc() -> Arc<City> {
    CityCode::parse("NYC").unwrap().city().unwrap()
}

fn client(server: &MockServer) -> Arc<KalshiClient> {
    Arc::new(
        KalshiClient::new(
            KalshiConfig {
                base_url: format!("{}{PREFIX}", server.uri()),
                credentials: None,
                timeout: StdDuration::from_secs(5),
                read_tokens_per_second: 1000,
                write_tokens_per_second: 1000,
                retries: 1,
                min_delay: StdDuration::from_millis(10),
            },
            Arc::new(SystemClock),
        )
        .unwrap(),
    )
}

/// The paper exchange behind a venue that loads the book before each order, counts every
/// order it is sent, and (optionally) answers only after `delay`: the order is accepted, the
/// answer arrives too late.
struct TestVenue {
    paper: Arc<PaperExchange>,
    client: Arc<KalshiClient>,
    delay: Option<StdDuration>,
    sent: Arc<Mutex<HashMap<String, usize>>>,
}

#[async_trait]
impl Exchange for TestVenue {
    async fn place_order(&self, order: &OrderRequest) -> Result<OrderState, BozError> {
        *self
            .sent
            .lock()
            .unwrap()
            .entry(order.client_order_id.clone())
            .or_default() += 1;
        let book: OrderBook = self.client.orderbook(&order.ticker).await?;
        self.paper.set_book(book)?;
        let state = self.paper.place_order(order).await?;
        if let Some(d) = self.delay {
            tokio::time::sleep(d).await;
        }
        Ok(state)
    }
    async fn cancel_order(&self, id: &str) -> Result<OrderState, BozError> {
        self.paper.cancel_order(id).await
    }
    async fn find_order(&self, coid: &str) -> Result<Option<OrderState>, BozError> {
        self.paper.find_order(coid).await
    }
    async fn balance(&self) -> Result<Dollars, BozError> {
        self.paper.balance().await
    }
    async fn positions(&self) -> Result<Vec<ExchangePosition>, BozError> {
        Exchange::positions(self.paper.as_ref()).await
    }
}

fn settings(mode: TradingMode, max_trade: &str, max_exposure: &str) -> UserSettings {
    UserSettings::new(UserSettingsFields {
        trading_mode: mode,
        max_trade_size: Dollars::parse(max_trade).unwrap(),
        daily_loss_limit: Dollars::parse("10").unwrap(),
        max_daily_exposure: Dollars::parse(max_exposure).unwrap(),
        min_ev_threshold: 0.03,
        cooldown_per_loss_minutes: 60,
        consecutive_loss_limit: 3,
        cities: vec![CityCode::parse("NYC").unwrap()],
    })
    .unwrap()
}

async fn seed(store: &Arc<dyn Store>, user: &str, s: &UserSettings) {
    store
        .create_user(&StoredUser {
            id: user.into(),
            api_key_id: String::new(),
            encrypted_private_key: String::new(),
            settings: serde_json::to_value(s).unwrap(),
            created_at: Utc::now(),
        })
        .await
        .unwrap();
    store
        .insert_prediction(&prediction(), &json!({}))
        .await
        .unwrap();
}

fn config() -> TradingConfig {
    TradingConfig {
        kelly_fraction: 0.5,
        min_price: Price::parse("0.05").unwrap(),
        max_event_exposure: Dollars::parse("20").unwrap(),
        max_prediction_age: chrono::Duration::minutes(180),
        max_book_age: chrono::Duration::seconds(120),
        approval_ttl: chrono::Duration::minutes(30),
        cancel_before_close: chrono::Duration::minutes(10),
        order_timeout: StdDuration::from_millis(500),
        unknown_grace: chrono::Duration::minutes(2),
    }
}

fn engine(store: Arc<dyn Store>, server: &MockServer, venue: Arc<dyn Exchange>) -> TradingEngine {
    TradingEngine {
        store,
        market: Arc::new(KalshiMarketData::new(client(server))),
        exchange: venue,
        clock: Arc::new(SystemClock),
        config: config(),
        cities: vec![nyc()],
        notifier: None,
    }
}

async fn sqlite(dir: &Path) -> Database {
    open_sqlite(&dir.join("boz.sqlite")).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn timeouts_and_restarts_send_each_decision_once() {
    let server = MockServer::start().await;
    mount_kalshi(&server, &QUOTES).await;
    let dir = tempfile::tempdir().unwrap();
    let db = sqlite(dir.path()).await;
    let store = db.store();
    seed(&store, "u1", &settings(TradingMode::Auto, "5", "25")).await;
    let paper = Arc::new(PaperExchange::new(
        Dollars::parse("100").unwrap(),
        Arc::new(SystemClock),
    ));
    let sent = Arc::new(Mutex::new(HashMap::new()));
    let venue = |delay| -> Arc<dyn Exchange> {
        Arc::new(TestVenue {
            paper: paper.clone(),
            client: client(&server),
            delay,
            sent: sent.clone(),
        })
    };
    // A decision stored just before a crash (never sent): the next cycle's reconciliation
    // finds the exchange does not know it and sends it, once.
    let day = trading_day(Utc::now());
    let coid = client_order_id("u1", &ticker(0), Side::No, day);
    let now = Utc::now() - chrono::Duration::minutes(5);
    let stored = OrderRecord {
        request: OrderRequest {
            client_order_id: coid.clone(),
            ticker: ticker(0),
            side: Side::No,
            price: Price::parse("0.82").unwrap(),
            count: Count::parse("1").unwrap(),
            time_in_force: TimeInForce::ImmediateOrCancel,
        },
        user_id: "u1".into(),
        trade_id: trade_id(&coid),
        trading_day: day,
        reserved: Dollars::parse("0.84").unwrap(),
        status: OrderStatus::New,
        exchange_order_id: None,
        filled: Count::ZERO,
        fill_cost: Dollars::ZERO,
        fees: Dollars::ZERO,
        close_time: None,
        detail: None,
        created_at: now,
        updated_at: now,
    };
    let trade = boz_common::ports::StoredTrade {
        user_id: "u1".into(),
        kalshi_order_id: None,
        record: serde_json::from_value(json!({
            "id": trade_id(&coid), "city": "NYC", "date": event_date(), "bracket_label": "b0", "side": "no",
            "entry_price": "0.82", "quantity": "1", "model_probability": 0.8, "market_probability": 0.8,
            "ev_at_entry": 0.0, "confidence": "MEDIUM", "weather_forecasts": [], "prediction": prediction(),
            "status": "APPROVED", "settlement_temp_f": null, "settlement_source": null, "pnl": null,
            "postmortem": null, "created_at": now, "settled_at": null
        }))
        .unwrap(),
    };
    let limits = ExposureLimits {
        daily: Dollars::parse("25").unwrap(),
        event: None,
    };
    store
        .open_order(&stored, Some(&trade), &limits)
        .await
        .unwrap();

    // The exchange accepts every order but answers after the engine stopped waiting.
    let first = engine(
        store.clone(),
        &server,
        venue(Some(StdDuration::from_secs(2))),
    )
    .cycle(false)
    .await
    .unwrap();
    assert!(first.errors.is_empty(), "{:?}", first.errors);
    assert!(!first.orders.is_empty(), "{:?}", first.candidates);
    for o in &first.orders {
        assert_eq!(
            o.status,
            OrderStatus::Executed,
            "the timeout was resolved by client order id: {o:?}"
        );
        assert!(o.filled > Count::ZERO);
        let t = store.get_trade("u1", &o.trade_id).await.unwrap();
        assert_eq!(t.record.status, boz_common::TradeStatus::Executed);
        assert_eq!(t.record.quantity, o.filled, "the trade records what filled");
    }
    let yes = client_order_id("u1", &ticker(1), Side::Yes, day);
    assert!(
        first
            .orders
            .iter()
            .any(|o| o.request.client_order_id == yes),
        "bought YES on 51-52"
    );
    assert_eq!(
        store.get_order(&coid).await.unwrap().unwrap().status,
        OrderStatus::Executed,
        "the crashed decision was sent"
    );

    // A restart runs the same cycle again: nothing is sent twice.
    let again = engine(store.clone(), &server, venue(None))
        .cycle(false)
        .await
        .unwrap();
    assert!(again.errors.is_empty(), "{:?}", again.errors);
    let counts = sent.lock().unwrap().clone();
    assert!(counts.values().all(|n| *n == 1), "{counts:?}");
    assert_eq!(counts.len(), first.orders.len() + 1);
    let r = &again.reconciliation[0];
    assert!(r.mismatches.is_empty(), "{:?}", r.mismatches);

    // The kill switch stops the next cycle; only a resume restarts it.
    let e = engine(store.clone(), &server, venue(None));
    e.halt("u1", "alice", "going on holiday").await.unwrap();
    let (signals, _) = e.signals(Some("u1")).await.unwrap();
    assert!(
        signals.iter().any(|c| c.ev > 0.03),
        "the halt is checked on candidates with an edge: {signals:?}"
    );
    assert!(
        signals
            .iter()
            .filter(|c| c.ev > 0.03)
            .all(|c| c.verdict.contains("HALTED (going on holiday)")),
        "{signals:?}"
    );
    e.resume("u1", "alice").await.unwrap();
    let status = store.risk_status("u1", day).await.unwrap();
    assert_eq!(
        (status.state, status.state_changed_by.as_deref()),
        (TradingState::Active, Some("alice"))
    );
    db.close().await;
}

#[test]
fn twenty_concurrent_cycles_on_postgres_never_pass_the_daily_exposure() {
    let Some((url, admin, name)) = pg_database() else {
        return;
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let server = MockServer::start().await;
        mount_kalshi(&server, &QUOTES).await;
        let db = Database::open(&DatabaseUrl::Postgres { url: url.clone() })
            .await
            .unwrap();
        db.migrate().await.unwrap();
        let store = db.store();
        // each candidate alone fits (max_trade_size 2) but not all of them (daily 2.50)
        seed(&store, "u1", &settings(TradingMode::Auto, "2", "2.50")).await;
        let paper = Arc::new(PaperExchange::new(
            Dollars::parse("100").unwrap(),
            Arc::new(SystemClock),
        ));
        let sent = Arc::new(Mutex::new(HashMap::new()));
        let tasks: Vec<_> = (0..20)
            .map(|_| {
                let venue: Arc<dyn Exchange> = Arc::new(TestVenue {
                    paper: paper.clone(),
                    client: client(&server),
                    delay: None,
                    sent: sent.clone(),
                });
                let e = engine(store.clone(), &server, venue);
                tokio::spawn(async move { e.cycle(false).await })
            })
            .collect();
        let mut demanded = rust_decimal::Decimal::ZERO;
        for t in tasks {
            let r = t.await.unwrap().unwrap();
            let wanted: rust_decimal::Decimal = r
                .candidates
                .iter()
                .filter(|c| c.verdict == "trade")
                .map(|c| c.commitment.as_decimal())
                .sum();
            demanded = demanded.max(wanted);
        }
        let day = trading_day(Utc::now());
        let status = store.risk_status("u1", day).await.unwrap();
        let limit = rust_decimal::Decimal::new(250, 2);
        assert!(status.exposure.as_decimal() <= limit, "{status:?}");
        let orders = store.user_orders("u1", day).await.unwrap();
        let spent: rust_decimal::Decimal = orders
            .iter()
            .map(|o| o.fill_cost.as_decimal() + o.fees.as_decimal())
            .sum();
        assert!(spent <= limit, "{spent}");
        assert!(
            demanded > limit,
            "the candidates wanted more than the limit: {demanded}"
        );
        assert!(!orders.is_empty());
        let counts = sent.lock().unwrap().clone();
        assert!(counts.values().all(|n| *n == 1), "{counts:?}");
        db.close().await;
    });
    drop(rt);
    drop_pg_database(&admin, &name);
}

/// The binary on the paper venue: the local user (manual mode) queues; approving after the
/// price moved is refused with the reason; at the old price it executes; halt and resume.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn manual_mode_on_the_paper_venue_through_the_binary() {
    let server = MockServer::start().await;
    mount_kalshi(&server, &QUOTES).await;
    let dir = tempfile::tempdir().unwrap();
    {
        let db = sqlite(dir.path()).await;
        db.store()
            .insert_prediction(&prediction(), &json!({}))
            .await
            .unwrap();
        db.close().await;
    }
    let base = format!("{}{PREFIX}", server.uri());
    let hook = format!("{}/hook", server.uri());
    let d = dir.path().to_path_buf();
    let run = move |args: Vec<String>| {
        let d = d.clone();
        let base = base.clone();
        let hook = hook.clone();
        tokio::task::spawn_blocking(move || {
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            boz(
                &d,
                &[
                    ("KALSHI_BASE_URL", &base),
                    ("NOTIFY_WEBHOOK_URL", &hook),
                    ("DEFAULT_MIN_EV_THRESHOLD", "0.03"),
                    ("DEFAULT_MAX_TRADE_SIZE", "5"),
                ],
                &args,
            )
        })
    };
    let args = |a: &[&str]| a.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    let out = run(args(&["signals", "--json"])).await.unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let c = v["candidates"].as_array().unwrap();
    assert_eq!(c.len(), 8, "both sides of four brackets");
    assert!(
        c.iter().any(|c| c["verdict"] == "queue for approval"),
        "{v}"
    );

    let out = run(args(&["trade", "cycle", "--json"])).await.unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    let report: Value =
        serde_json::from_slice(&out.stdout[out.stdout.iter().position(|b| *b == b'{').unwrap()..])
            .unwrap();
    let queued: Vec<String> = report["queued"]
        .as_array()
        .unwrap()
        .iter()
        .map(|q| q.as_str().unwrap().to_string())
        .collect();
    assert!(!queued.is_empty(), "{report}");
    let yes = client_order_id("local", &ticker(1), Side::Yes, trading_day(Utc::now()));
    let id = trade_id(&yes);
    assert!(queued.contains(&id));

    // the ask of 51-52 jumps from 0.35 to 0.47: approving is refused, with the reason
    server.reset().await;
    let mut moved = QUOTES;
    moved[1] = ("0.45", "0.47");
    mount_kalshi(&server, &moved).await;
    let out = run(args(&["trade", "approve", &id])).await.unwrap();
    assert!(!out.status.success());
    let err = text(&out.stderr);
    assert!(err.contains("limit_price") && err.contains("0.47"), "{err}");
    let out = run(args(&["trade", "approve", &id, "--limit-price", "0.50"]))
        .await
        .unwrap();
    assert!(!out.status.success());
    let err = text(&out.stderr);
    assert!(
        err.contains("min_ev_threshold") && err.contains("EV"),
        "{err}"
    );

    // back at 0.35 the approval goes through on the paper venue
    server.reset().await;
    mount_kalshi(&server, &QUOTES).await;
    let out = run(args(&["trade", "approve", &id])).await.unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("executed"),
        "{}",
        text(&out.stdout)
    );

    let out = run(args(&["halt", "--reason", "testing"])).await.unwrap();
    assert!(text(&out.stdout).contains("HALTED"));
    let out = run(args(&["trade", "cycle", "--dry-run", "--json"]))
        .await
        .unwrap();
    assert!(
        text(&out.stdout).contains("HALTED (testing)"),
        "{}",
        text(&out.stdout)
    );
    let out = run(args(&["resume"])).await.unwrap();
    assert!(text(&out.stdout).contains("ACTIVE"));
}

/// Manual mode's time to live, and resting orders cancelled before their market closes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn approvals_expire_and_resting_orders_are_cancelled_before_close() {
    let server = MockServer::start().await;
    mount_kalshi(&server, &QUOTES).await;
    let dir = tempfile::tempdir().unwrap();
    let db = sqlite(dir.path()).await;
    let store = db.store();
    seed(&store, "u1", &settings(TradingMode::Manual, "5", "25")).await;
    let paper = Arc::new(PaperExchange::new(
        Dollars::parse("100").unwrap(),
        Arc::new(SystemClock),
    ));
    let clock = Arc::new(boz_common::ports::ManualClock::new(Utc::now()));
    let venue: Arc<dyn Exchange> = Arc::new(TestVenue {
        paper: paper.clone(),
        client: client(&server),
        delay: None,
        sent: Arc::new(Mutex::new(HashMap::new())),
    });
    let mut e = engine(store.clone(), &server, venue);
    e.clock = clock.clone();
    let r = e.cycle(false).await.unwrap();
    assert!(!r.queued.is_empty(), "{:?}", r.candidates);
    let mut queued = r.queued.clone();
    // a resting GTC order on the exchange whose market closes in five minutes
    let book = client(&server).orderbook(&ticker(2)).await.unwrap();
    paper.set_book(book).unwrap();
    let now = clock.now();
    let coid = "boz-resting-test".to_string();
    let req = OrderRequest {
        client_order_id: coid.clone(),
        ticker: ticker(2),
        side: Side::Yes,
        price: Price::parse("0.10").unwrap(),
        count: Count::parse("3").unwrap(),
        time_in_force: TimeInForce::GoodTillCanceled,
    };
    let record = OrderRecord {
        request: req.clone(),
        user_id: "u1".into(),
        trade_id: trade_id(&coid),
        trading_day: trading_day(now),
        reserved: Dollars::parse("0.31").unwrap(),
        status: OrderStatus::New,
        exchange_order_id: None,
        filled: Count::ZERO,
        fill_cost: Dollars::ZERO,
        fees: Dollars::ZERO,
        close_time: Some(now + chrono::Duration::minutes(5)),
        detail: None,
        created_at: now,
        updated_at: now,
    };
    let trade = boz_common::ports::StoredTrade {
        user_id: "u1".into(),
        kalshi_order_id: None,
        record: serde_json::from_value(json!({
            "id": trade_id(&coid), "city": "NYC", "date": event_date(), "bracket_label": "b2", "side": "yes",
            "entry_price": "0.10", "quantity": "3", "model_probability": 0.25, "market_probability": 0.25,
            "ev_at_entry": 0.1, "confidence": "MEDIUM", "weather_forecasts": [], "prediction": prediction(),
            "status": "APPROVED", "settlement_temp_f": null, "settlement_source": null, "pnl": null,
            "postmortem": null, "created_at": now, "settled_at": null
        }))
        .unwrap(),
    };
    store
        .open_order(
            &record,
            Some(&trade),
            &ExposureLimits {
                daily: Dollars::parse("25").unwrap(),
                event: None,
            },
        )
        .await
        .unwrap();
    let state = paper.place_order(&req).await.unwrap();
    assert_eq!(state.status, "resting");
    store
        .update_order(&coid, Some(&state), OrderStatus::Resting, None, now)
        .await
        .unwrap();
    let exposure_before = store
        .risk_status("u1", trading_day(now))
        .await
        .unwrap()
        .exposure;

    // 31 minutes later: the queue has expired and the resting order was cancelled in time
    clock.advance(chrono::Duration::minutes(31));
    let r = e.cycle(false).await.unwrap();
    let mut expired = r.expired.clone();
    queued.sort();
    expired.sort();
    assert_eq!(expired, queued);
    let a = store.get_approval("u1", &r.expired[0]).await.unwrap();
    assert_eq!(a.pending.status, boz_common::TradeStatus::Expired);
    assert_eq!(a.decided_by.as_deref(), Some("engine"));
    assert_eq!(
        r.reconciliation[0].cancelled_before_close, 1,
        "{:?}",
        r.reconciliation
    );
    let o = store.get_order(&coid).await.unwrap().unwrap();
    assert_eq!(o.status, OrderStatus::Canceled);
    let after = store
        .risk_status("u1", trading_day(now))
        .await
        .unwrap()
        .exposure;
    assert_eq!(
        exposure_before.as_decimal() - after.as_decimal(),
        rust_decimal::Decimal::new(31, 2),
        "its exposure was released"
    );
    assert_eq!(
        store
            .get_trade("u1", &trade_id(&coid))
            .await
            .unwrap()
            .record
            .status,
        boz_common::TradeStatus::Cancelled
    );
    db.close().await;
}
