//! The running system as processes: `boz run` on SQLite, `boz serve` and `boz worker`s sharing
//! PostgreSQL, against a fake Kalshi (real HTTP) whose exchange answers orders late. A worker
//! killed in the middle of a trading cycle, and a shutdown in the middle of one, leave every
//! order recorded once; every tick runs once however many schedulers push it.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may panic

mod support;

use support::fake_kalshi;
use support::process::*;
use support::*;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use boz_common::config::DatabaseUrl;
use boz_common::ports::{JobOutcome, OrderStatus, Store, TradeFilter};
use boz_common::schemas::TradingMode;
use boz_common::status::TradeStatus;
use boz_store::Database;
use serde_json::{Value, json};

/// Polls the database until `f` holds (within two minutes: CI runs tests side by side on two
/// cores).
async fn until(store: &Arc<dyn Store>, what: &str, f: impl AsyncFn(&Arc<dyn Store>) -> bool) {
    let deadline = Instant::now() + Duration::from_secs(120);
    while !f(store).await {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

async fn orders(store: &Arc<dyn Store>) -> Vec<boz_common::ports::OrderRecord> {
    store
        .orders_in(&[
            OrderStatus::New,
            OrderStatus::Unknown,
            OrderStatus::Resting,
            OrderStatus::Executed,
            OrderStatus::Canceled,
            OrderStatus::Rejected,
        ])
        .await
        .unwrap()
}

#[test]
fn first_start_prints_the_admin_password_once() {
    let dir = tempfile::tempdir().unwrap();
    let env = [("BOZ_BIND", "127.0.0.1:0"), ("ENCRYPTION_KEY", MASTER)];
    let mut first = Proc::start(dir.path(), &env, &["run"]);
    let line = first.wait_for("one-time password:", Duration::from_secs(60));
    let password = line.rsplit(' ').next().unwrap().trim().to_string();
    assert_eq!(password.len(), 20);
    first.wait_for("\"listening\"", Duration::from_secs(60));
    let log = first.stop();
    // printed once on standard output, never in a log line
    assert_eq!(log.matches(password.as_str()).count(), 1, "{log}");
    let login = with_store(&dir.path().join("boz.sqlite"), async |store| {
        let logs = store.recent_logs(&Default::default()).await.unwrap();
        assert!(logs.iter().all(|l| !l.message.contains(password.as_str())
            && !l.data.to_string().contains(password.as_str())));
        store.get_login("admin").await.unwrap().unwrap()
    });
    assert_eq!(login.user_id, "local");
    assert_eq!(login.role, "admin");
    assert!(login.must_change_password);
    assert!(boz_crypto::password::verify_password(&password, &login.password_hash).unwrap());

    let mut second = Proc::start(dir.path(), &env, &["run"]);
    second.wait_for("\"listening\"", Duration::from_secs(60));
    let log = second.stop();
    assert!(!log.contains("one-time password"), "{log}");
}

#[test]
fn demo_or_live_trading_without_credentials_does_not_start() {
    let dir = tempfile::tempdir().unwrap();
    for env in [
        vec![("TRADING_VENUE", "demo")],
        vec![
            ("TRADING_VENUE", "live"),
            ("TRADING_LIVE_CONFIRM", "true"),
            ("KALSHI_ENV", "prod"),
        ],
    ] {
        let out = boz(dir.path(), &env, &["run"]);
        assert_eq!(out.status.code(), Some(2), "{env:?}");
        let err = text(&out.stderr);
        assert!(err.contains("needs Kalshi credentials"), "{err}");
    }
    // live without the confirmation names the setting
    let out = boz(
        dir.path(),
        &[("TRADING_VENUE", "live"), ("KALSHI_ENV", "prod")],
        &["run"],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("TRADING_LIVE_CONFIRM"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_during_a_cycle_leaves_no_order_unrecorded() {
    let (server, book, arrived) = fake_kalshi::start(Duration::from_secs(4)).await;
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("kalshi.pem"),
        fake_kalshi::private_key_pem(),
    )
    .unwrap();
    let db_path = dir.path().join("boz.sqlite");
    let db = open_sqlite(&db_path).await;
    let store = db.store();
    fake_kalshi::seed(&store, TradingMode::Auto).await;
    let env = env_for(
        &format!("{}{}", server.uri(), fake_kalshi::PREFIX),
        "kalshi.pem",
        "sqlite://boz.sqlite",
    );
    let dir_path = dir.path().to_path_buf();
    let run = tokio::task::spawn_blocking(move || {
        let mut p = Proc::start(&dir_path, &pairs(&env), &["run"]);
        p.wait_for("\"listening\"", Duration::from_secs(60));
        // the first order reaches the exchange, whose answer takes 4 s: stop now
        let coid = arrived.recv_timeout(Duration::from_secs(60)).unwrap();
        (coid, p.stop())
    });
    let (coid, log) = run.await.unwrap();
    assert!(log.contains("shutdown requested"), "{log}");
    assert!(log.contains("waiting for running jobs"), "{log}");
    // the process waited for the answer and recorded the fill before it exited
    let all = orders(&store).await;
    let o = all
        .iter()
        .find(|o| o.request.client_order_id == coid)
        .unwrap();
    assert_eq!(o.status, OrderStatus::Executed, "{o:?}");
    assert!(o.filled.as_decimal() > rust_decimal::Decimal::ZERO);
    assert_eq!(o.exchange_order_id.as_deref(), Some("ord-1"));
    let trade = store.get_trade("local", &o.trade_id).await.unwrap();
    assert_eq!(trade.record.status, TradeStatus::Executed);
    assert_eq!(trade.record.quantity, o.filled);
    // nothing was left between sending and recording
    assert!(all.iter().all(|o| o.status.is_final()), "{all:?}");
    {
        let b = book.lock().unwrap();
        assert!(b.posts.values().all(|n| *n == 1), "{:?}", b.posts);
        assert_eq!(b.orders.len(), all.len());
    }
    db.close().await;
}

#[test]
fn two_workers_and_a_server_on_postgres_survive_a_killed_worker() {
    let Some((url, admin, name)) = pg_database() else {
        return;
    };
    let rt = tokio::runtime::Runtime::new().unwrap();
    let (server, book, arrived) = rt.block_on(fake_kalshi::start(Duration::from_secs(6)));
    let db_url = DatabaseUrl::parse(&url).unwrap();
    with_database(&db_url, async |store| {
        fake_kalshi::seed(&store, TradingMode::Auto).await
    });
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("kalshi.pem"),
        fake_kalshi::private_key_pem(),
    )
    .unwrap();
    let env = env_for(
        &format!("{}{}", server.uri(), fake_kalshi::PREFIX),
        "kalshi.pem",
        &url,
    );
    let env = pairs(&env);
    let mut serve = Proc::start(dir.path(), &env, &["serve"]);
    serve.wait_for("\"listening\"", Duration::from_secs(60));
    let mut workers: Vec<Proc> = (0..2)
        .map(|_| Proc::start(dir.path(), &env, &["worker"]))
        .collect();
    for w in &mut workers {
        w.wait_for("workers started", Duration::from_secs(60));
    }

    // the first order reaches the exchange (its answer takes 6 s): kill the worker whose
    // trading cycle sent it
    let coid = arrived.recv_timeout(Duration::from_secs(90)).unwrap();
    let running = with_database(&db_url, async |store| {
        store
            .job_runs_since(
                "trading_cycle",
                chrono::Utc::now() - chrono::Duration::hours(1),
            )
            .await
            .unwrap()
            .into_iter()
            .filter(|r| r.outcome == JobOutcome::Running)
            .collect::<Vec<_>>()
    });
    assert_eq!(running.len(), 1, "{running:?}");
    let pid: u32 = running[0]
        .worker
        .split('-')
        .nth(2)
        .unwrap()
        .parse()
        .unwrap();
    let victim = workers.iter().position(|w| w.pid() == pid).unwrap();
    let mut dead = workers.remove(victim);
    dead.kill();

    // the other worker picks the cycle up again and finds the order by its client order id
    rt.block_on(async {
        let db = Database::open(&db_url).await.unwrap();
        let store = db.store();
        until(&store, "the order to be recorded", async |s| {
            orders(s)
                .await
                .iter()
                .any(|o| o.request.client_order_id == coid && o.status == OrderStatus::Executed)
        })
        .await;
        until(&store, "the killed cycle's tick to run again", async |s| {
            let runs = s
                .job_runs_since(
                    "trading_cycle",
                    chrono::Utc::now() - chrono::Duration::hours(1),
                )
                .await
                .unwrap();
            runs.iter().any(|r| {
                r.tick == running[0].tick
                    && r.outcome == JobOutcome::Ok
                    && r.summary.as_ref().unwrap()["reason"]
                        == running[0].summary.as_ref().unwrap()["reason"]
            })
        })
        .await;
        // every job the killed worker had started runs again on the survivor
        until(&store, "the killed worker's jobs to run again", async |s| {
            let since = chrono::Utc::now() - chrono::Duration::hours(1);
            let mut all = Vec::new();
            for job in boz_engine::jobs::JobKind::ALL {
                all.extend(s.job_runs_since(job.as_str(), since).await.unwrap());
            }
            all.iter()
                .filter(|r| r.outcome == JobOutcome::Running)
                .all(|r| {
                    all.iter().any(|o| {
                        o.outcome != JobOutcome::Running
                            && (&o.job, o.tick) == (&r.job, r.tick)
                            && o.summary.as_ref().unwrap()["reason"]
                                == r.summary.as_ref().unwrap()["reason"]
                    })
                })
        })
        .await;
        db.close().await;
    });
    let _ = workers.pop().unwrap().stop();
    let _ = serve.stop();

    with_database(&db_url, async |store| {
        // no order was duplicated: one create-order call and one stored order per decision
        let all = orders(&store).await;
        {
            let b = book.lock().unwrap();
            assert!(b.posts.values().all(|n| *n == 1), "{:?}", b.posts);
            assert_eq!(b.orders.len(), all.len());
        }
        let mut ids: Vec<&str> = all
            .iter()
            .map(|o| o.request.client_order_id.as_str())
            .collect();
        ids.dedup();
        assert_eq!(ids.len(), all.len());
        assert!(
            all.iter().all(|o| o.status == OrderStatus::Executed),
            "{all:?}"
        );
        let trades = store
            .list_trades(
                "local",
                &TradeFilter {
                    limit: 100,
                    ..TradeFilter::default()
                },
            )
            .await
            .unwrap();
        assert_eq!(trades.len(), all.len());
        // every tick ran once: per job, tick and reason at most one finished run (ok, failed, or
        // skipped because a run of the same job was going in that process)
        let since = chrono::Utc::now() - chrono::Duration::hours(1);
        let mut ok: HashMap<(String, String, Value), usize> = HashMap::new();
        let mut unfinished = Vec::new();
        for job in boz_engine::jobs::JobKind::ALL {
            for r in store.job_runs_since(job.as_str(), since).await.unwrap() {
                let key = (
                    r.job.clone(),
                    r.tick.to_rfc3339(),
                    r.summary
                        .as_ref()
                        .map_or(Value::Null, |s| s["reason"].clone()),
                );
                match r.outcome {
                    JobOutcome::Running => unfinished.push(r),
                    _ => *ok.entry(key).or_default() += 1,
                }
            }
        }
        assert!(ok.values().all(|n| *n == 1), "{ok:?}");
        assert!(ok.len() > 5, "{ok:?}");
        // the unfinished runs are the killed worker's (its trading cycle among them), and each
        // of their ticks ran to the end on the survivor
        assert!(unfinished.iter().any(|r| r.id == running[0].id));
        for r in &unfinished {
            assert_eq!(
                r.worker.split('-').nth(2).unwrap(),
                pid.to_string(),
                "{r:?}"
            );
            let key = (
                r.job.clone(),
                r.tick.to_rfc3339(),
                r.summary
                    .as_ref()
                    .map_or(Value::Null, |s| s["reason"].clone()),
            );
            assert_eq!(ok.get(&key), Some(&1), "{key:?} did not run again");
        }
        // trading cycles never overlapped: each finished one started after the one before ended
        let mut cycles: Vec<_> = store
            .job_runs_since("trading_cycle", since)
            .await
            .unwrap()
            .into_iter()
            .filter(|r| r.outcome == JobOutcome::Ok)
            .collect();
        cycles.sort_by_key(|r| r.started_at);
        assert!(cycles.len() > 2, "{cycles:?}");
        for w in cycles.windows(2) {
            assert!(w[1].started_at >= w[0].finished_at.unwrap(), "{w:?}");
        }
        // both workers ran jobs
        let workers: std::collections::HashSet<String> = store
            .job_runs_since("trading_cycle", since)
            .await
            .unwrap()
            .into_iter()
            .map(|r| r.worker.split('-').nth(2).unwrap().to_string())
            .collect();
        assert!(workers.len() >= 2, "{workers:?}");
    });
    drop_pg_database(&admin, &name);
}

async fn get_health(address: &str) -> (u16, Value) {
    let r = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap()
        .get(format!("http://{address}/health"))
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.json().await.unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_the_weather_down_it_keeps_running_reports_why_and_never_trades_on_stale_data() {
    let (server, book, _arrived) = fake_kalshi::start(Duration::from_millis(10)).await;
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("kalshi.pem"),
        fake_kalshi::private_key_pem(),
    )
    .unwrap();
    let db = open_sqlite(&dir.path().join("boz.sqlite")).await;
    let store = db.store();
    fake_kalshi::seed_user(&store, TradingMode::Auto).await;
    // the only prediction is five hours old (MAX_PREDICTION_AGE_MINUTES is 60 here)
    let mut old = serde_json::to_value(fake_kalshi::prediction()).unwrap();
    old["generated_at"] = json!(chrono::Utc::now() - chrono::Duration::hours(5));
    store
        .insert_prediction(&serde_json::from_value(old).unwrap(), &json!({}))
        .await
        .unwrap();
    let mut env = env_for(
        &format!("{}{}", server.uri(), fake_kalshi::PREFIX),
        "kalshi.pem",
        "sqlite://boz.sqlite",
    );
    env.retain(|(k, _)| k != "JOB_FORECASTS_SECONDS");
    env.push(("JOB_FORECASTS_SECONDS".into(), "5".into()));
    env.push(("MAX_PREDICTION_AGE_MINUTES".into(), "60".into()));
    let dir_path = dir.path().to_path_buf();
    let mut p = tokio::task::spawn_blocking(move || {
        let mut p = Proc::start(&dir_path, &pairs(&env), &["run"]);
        p.wait_for("\"listening\"", Duration::from_secs(60));
        p
    })
    .await
    .unwrap();
    let line = p.wait_for("\"listening\"", Duration::from_secs(1));
    let v: Value = serde_json::from_str(&line).unwrap();
    let address = v["data"]["address"].as_str().unwrap().to_string();

    // health turns 503 once every forecast source has failed for three intervals, naming them
    let deadline = Instant::now() + Duration::from_secs(120);
    let body = loop {
        let (code, body) = get_health(&address).await;
        if code == 503 {
            break body;
        }
        assert_eq!(code, 200);
        assert!(Instant::now() < deadline, "never unhealthy: {body}");
        tokio::time::sleep(Duration::from_millis(500)).await;
    };
    assert_eq!(body["status"], "degraded");
    let reasons = body["reasons"].to_string();
    assert!(reasons.contains("job fetch_forecasts failing"), "{reasons}");
    let down = body["sources_down"].as_array().unwrap();
    let nws = down
        .iter()
        .find(|d| d["source"] == "NWS" && d["city"] == "NYC")
        .unwrap_or_else(|| panic!("{down:?}"));
    assert!(
        nws["error"].as_str().unwrap().contains("cannot reach"),
        "{nws}"
    );
    assert!(nws["down_since"].is_string());
    assert!(nws["last_ok"].is_null());
    assert_eq!(body["database"]["reachable"], true);

    // the trading cycle still runs, and refuses the stale prediction
    until(
        &store,
        "a trading cycle that refused the stale prediction",
        async |s| {
            s.job_runs_since(
                "trading_cycle",
                chrono::Utc::now() - chrono::Duration::hours(1),
            )
            .await
            .unwrap()
            .iter()
            .any(|r| {
                r.outcome == JobOutcome::Ok
                    && r.summary.as_ref().unwrap()["refusals"]
                        .to_string()
                        .contains("older than 60 minutes")
            })
        },
    )
    .await;
    // still serving; retries back off
    let (code, _) = get_health(&address).await;
    assert_eq!(code, 503);
    let log = tokio::task::spawn_blocking(move || p.stop()).await.unwrap();
    assert!(log.contains("retry_in_ms"), "{log}");
    assert!(orders(&store).await.is_empty());
    assert!(book.lock().unwrap().posts.is_empty());
    db.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_approval_queue_and_trading_state_through_the_api() {
    let bob_password = "bob's long password";
    let run = boz_run_manual(async |store| {
        add_login(store, "bob", "bob", "user", bob_password).await;
    })
    .await;
    let (base, otp, store) = (run.base.clone(), run.otp.clone(), run.store.clone());
    let http = reqwest::Client::new();
    let (admin, admin_csrf) = sign_in(&http, &base, "admin", &otp).await;
    let (bob, bob_csrf) = sign_in(&http, &base, "bob", bob_password).await;
    let call = |m: reqwest::Method, path: &str, auth: &(String, String), body: Option<Value>| {
        let mut req = http
            .request(m, format!("{base}{path}"))
            .header("cookie", &auth.0)
            .header("x-csrf-token", &auth.1);
        if let Some(b) = body {
            req = req.json(&b);
        }
        req.send()
    };
    let admin_auth = (admin, admin_csrf);
    let get_json = |path: &'static str, auth: &(String, String)| {
        let req = call(reqwest::Method::GET, path, auth, None);
        async move { req.await.unwrap().json::<Value>().await.unwrap() }
    };
    let bob_auth = (bob, bob_csrf);

    // the start-up cycle queued the local user's trades
    let deadline = Instant::now() + Duration::from_secs(120);
    let queue = loop {
        let q: Value = get_json("/api/queue", &admin_auth).await;
        if !q["queue"].as_array().unwrap().is_empty() {
            break q["queue"].as_array().unwrap().clone();
        }
        assert!(Instant::now() < deadline, "nothing queued");
        tokio::time::sleep(Duration::from_millis(300)).await;
    };
    assert!(queue[0]["seconds_left"].as_i64().unwrap() > 0);
    // signals and markets: every bracket's both sides with price, model probability and EV
    let sig: Value = get_json("/api/signals", &admin_auth).await;
    let candidates = sig["candidates"].as_array().unwrap();
    assert_eq!(candidates.len(), 8, "4 brackets x 2 sides: {sig}");
    assert!(candidates.iter().all(|c| c["user_id"] == "local"));
    let m: Value = call(
        reqwest::Method::GET,
        "/api/markets?city=nyc",
        &admin_auth,
        None,
    )
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    let events = m["events"].as_array().unwrap();
    assert_eq!(events.len(), 1, "{m}");
    assert_eq!(events[0]["event_ticker"], fake_kalshi::event_ticker());
    let brackets = events[0]["brackets"].as_array().unwrap();
    assert_eq!(brackets.len(), 4);
    let cheap = brackets
        .iter()
        .find(|b| b["ticker"] == fake_kalshi::ticker(1))
        .unwrap();
    assert_eq!(cheap["yes"]["price"], 0.35);
    assert_eq!(cheap["yes"]["model_probability"], 0.45);
    assert!(cheap["yes"]["ev"].as_f64().unwrap() > 0.0);
    assert!(cheap["no"]["ev"].is_number());
    let other: Value = call(
        reqwest::Method::GET,
        "/api/markets?city=CHI",
        &admin_auth,
        None,
    )
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    assert!(other["events"].as_array().unwrap().is_empty());
    let r = call(
        reqwest::Method::GET,
        "/api/markets?city=XX1",
        &admin_auth,
        None,
    )
    .await
    .unwrap();
    assert_eq!(r.status(), 422);
    // bob sees none of the local user's candidates, only his own (judged on his settings)
    let bobs: Value = get_json("/api/signals", &bob_auth).await;
    assert!(
        bobs["candidates"]
            .as_array()
            .unwrap()
            .iter()
            .all(|c| c["user_id"] == "bob"),
        "{bobs}"
    );
    let first = queue[0]["id"].as_str().unwrap().to_string();
    // bob sees only his own queue and cannot act on the local user's trades
    let q: Value = get_json("/api/queue", &bob_auth).await;
    assert!(
        q["queue"]
            .as_array()
            .unwrap()
            .iter()
            .all(|t| t["user_id"] == "bob" && t["id"] != first.as_str()),
        "{q}"
    );
    for action in ["approve", "reject"] {
        let r = call(
            reqwest::Method::POST,
            &format!("/api/queue/{first}/{action}"),
            &bob_auth,
            None,
        )
        .await
        .unwrap();
        assert_eq!(r.status(), 404, "{action}");
    }
    // approving re-reads the book and places the order on the paper venue
    let r = call(
        reqwest::Method::POST,
        &format!("/api/queue/{first}/approve"),
        &admin_auth,
        Some(json!({})),
    )
    .await
    .unwrap();
    assert_eq!(r.status(), 200);
    let order: Value = r.json().await.unwrap();
    assert_eq!(order["status"], "executed");
    assert_eq!(
        store
            .get_trade("local", &first)
            .await
            .unwrap()
            .record
            .status,
        TradeStatus::Executed
    );
    // approving twice: no longer pending
    let r = call(
        reqwest::Method::POST,
        &format!("/api/queue/{first}/approve"),
        &admin_auth,
        None,
    )
    .await
    .unwrap();
    let status = r.status();
    let text = r.text().await.unwrap();
    assert_eq!(status, 409, "{text}");
    if let Some(second) = queue.get(1).and_then(|t| t["id"].as_str()) {
        let r = call(
            reqwest::Method::POST,
            &format!("/api/queue/{second}/reject"),
            &admin_auth,
            Some(json!({"reason": "not today"})),
        )
        .await
        .unwrap();
        assert_eq!(r.status(), 204);
        assert_eq!(
            store
                .get_trade("local", second)
                .await
                .unwrap()
                .record
                .status,
            TradeStatus::Rejected
        );
    }
    // halt needs a reason; halted, then resumed; bob's state is his own
    let r = call(
        reqwest::Method::POST,
        "/api/trading-state/halt",
        &admin_auth,
        None,
    )
    .await
    .unwrap();
    assert_eq!(r.status(), 422);
    let r = call(
        reqwest::Method::POST,
        "/api/trading-state/halt",
        &admin_auth,
        Some(json!({"reason": "going on holiday"})),
    )
    .await
    .unwrap();
    assert_eq!(r.status(), 204);
    let state: Value = get_json("/api/trading-state", &admin_auth).await;
    assert_eq!(state["state"], "HALTED");
    assert_eq!(state["state_reason"], "going on holiday");
    assert_eq!(state["state_changed_by"], "admin");
    let bobs: Value = get_json("/api/trading-state", &bob_auth).await;
    assert_eq!(bobs["state"], "ACTIVE");
    let r = call(
        reqwest::Method::POST,
        "/api/trading-state/resume",
        &admin_auth,
        None,
    )
    .await
    .unwrap();
    assert_eq!(r.status(), 204);
    let state: Value = get_json("/api/trading-state", &admin_auth).await;
    assert_eq!(state["state"], "ACTIVE");
    let p = run.proc;
    let _ = tokio::task::spawn_blocking(move || p.stop()).await.unwrap();
}
