//! HTTP load on the release `boz run` with wrk (BENCHMARKS.md): `GET /api/trades` (a page of 20
//! of the user's 10,000 trades) and `GET /api/markets`, on SQLite and on PostgreSQL.
//!
//! ```text
//! apt-get install wrk
//! cargo build --release -p boz && cargo run --release -p boz --example load
//! ```
//!
//! For each database: a fresh one with the local user (manual mode, so nothing trades), the
//! fake Kalshi of the tests (tomorrow's NYC event), 10,000 trades and an API token; then
//! `boz run` with every job's interval at an hour (the start-up jobs run once before the load),
//! and `wrk -t2 -c16 -d20s --latency` per endpoint while VmRSS of the server is sampled every
//! 20 ms. PostgreSQL: `DATABASE_URL_PG` (default the local server's `test` database; a scratch
//! database is created and dropped).

#![allow(clippy::unwrap_used, clippy::expect_used)] // a benchmark may panic

#[allow(dead_code)] // the load uses part of the fake
#[path = "../tests/support/fake_kalshi.rs"]
mod fake_kalshi;

mod common;
use common::rss_kib;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use boz_common::config::DatabaseUrl;
use boz_common::ports::{ApiToken, StoredTrade};
use boz_common::schemas::{TradeRecord, TradingMode};
use boz_store::Database;
use serde_json::{Value, json};
use sqlx::Connection;

const TRADES: usize = 10_000;
const CITIES: [&str; 4] = ["NYC", "CHI", "MIA", "AUS"];

fn trade(i: usize) -> TradeRecord {
    let city = CITIES[i % 4];
    let date = chrono::NaiveDate::from_ymd_opt(2024, 1, 1).unwrap()
        + chrono::Duration::days((i / 8) as i64);
    let created = chrono::Utc::now() - chrono::Duration::minutes((TRADES - i) as i64);
    let status = ["WON", "LOST", "EXECUTED", "REJECTED"][i % 4];
    let settled = matches!(status, "WON" | "LOST");
    let prediction = json!({"city": city, "date": date, "brackets": [
        {"bracket_label": "52F or below", "lower_bound_f": null, "upper_bound_f": 52.0, "probability": 0.25},
        {"bracket_label": "53-54F", "lower_bound_f": 53.0, "upper_bound_f": 54.0, "probability": 0.45},
        {"bracket_label": "55F or above", "lower_bound_f": 55.0, "upper_bound_f": null, "probability": 0.30}],
        "ensemble_forecast_f": 53.6, "confidence": "MEDIUM", "model_sources": ["NWS", "Open-Meteo:GFS"],
        "forecast_spread_f": 0.5, "error_std_f": 2.4, "generated_at": created});
    serde_json::from_value(json!({
        "id": format!("t{i:05}"), "city": city, "date": date, "bracket_label": "53-54F", "side": "yes",
        "entry_price": "0.22", "quantity": "10", "model_probability": 0.45, "market_probability": 0.22,
        "ev_at_entry": 0.2, "confidence": "MEDIUM", "weather_forecasts": [],
        "prediction": prediction, "status": status,
        "settlement_temp_f": if settled { Some(54.0) } else { None },
        "settlement_source": if settled { Some("CLI") } else { None },
        "pnl": if status == "WON" { Some(7.68) } else if status == "LOST" { Some(-2.32) } else { None },
        "postmortem": if settled { Some("The model's 45% on 53-54F against a 22% price.") } else { None },
        "created_at": created, "settled_at": if settled { Some(created) } else { None }
    }))
    .unwrap()
}

/// The numbers of one wrk run.
struct Run {
    rps: String,
    p50: String,
    p99: String,
    errors: String,
}

fn wrk(url: &str, token: &str) -> Run {
    let out = Command::new("wrk")
        .args(["-t2", "-c16", "-d20s", "--latency", "-H"])
        .arg(format!("Authorization: Bearer {token}"))
        .arg(url)
        .output()
        .expect("wrk (apt-get install wrk)");
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let field = |prefix: &str| {
        text.lines()
            .find(|l| l.trim_start().starts_with(prefix))
            .and_then(|l| l.split_whitespace().nth(1))
            .unwrap_or("?")
            .to_string()
    };
    let errors = text
        .lines()
        .filter(|l| l.contains("Non-2xx") || l.contains("Socket errors"))
        .map(str::trim)
        .collect::<Vec<_>>()
        .join("; ");
    Run {
        rps: field("Requests/sec:"),
        p50: field("50%"),
        p99: field("99%"),
        errors: if errors.is_empty() {
            "none".into()
        } else {
            errors
        },
    }
}

async fn bench(name: &str, url: DatabaseUrl, db_env: &str, bin: &str) {
    let (server, _book, _arrived) = fake_kalshi::start(Duration::from_millis(10)).await;
    let dir = tempfile::tempdir().unwrap();
    let db = Database::open(&url).await.unwrap();
    db.migrate().await.unwrap();
    let store = db.store();
    fake_kalshi::seed(&store, TradingMode::Manual).await;
    let token = boz_crypto::token::new_secret("boz_").unwrap();
    store
        .create_token(&ApiToken {
            id: "bench".into(),
            user_id: "local".into(),
            name: "bench".into(),
            token_hash: boz_crypto::token::hash_secret(&token),
            created_at: chrono::Utc::now(),
            last_used_at: None,
        })
        .await
        .unwrap();
    let records: Vec<TradeRecord> = (0..TRADES).map(trade).collect();
    let inserts = futures::stream::iter(records.into_iter().map(|record| {
        let store = store.clone();
        async move {
            store
                .insert_trade(&StoredTrade {
                    user_id: "local".into(),
                    kalshi_order_id: None,
                    record,
                })
                .await
                .unwrap()
        }
    }));
    use futures::StreamExt;
    inserts.buffer_unordered(8).collect::<Vec<_>>().await;
    db.close().await;

    let kalshi = format!("{}{}", server.uri(), fake_kalshi::PREFIX);
    let dead = "http://127.0.0.1:9";
    let hour = "3600";
    let mut child = Command::new(bin)
        .arg("run")
        .current_dir(dir.path())
        .env_clear()
        .envs([
            ("LOG_FORMAT", "json"),
            ("BOZ_BIND", "127.0.0.1:0"),
            ("DATABASE_URL", db_env),
            (
                "ENCRYPTION_KEY",
                "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=",
            ),
            ("KALSHI_BASE_URL", kalshi.as_str()),
            ("NWS_BASE_URL", dead),
            ("OPEN_METEO_BASE_URL", dead),
            ("OPEN_METEO_ENSEMBLE_URL", dead),
            ("OPEN_METEO_PREVIOUS_RUNS_URL", dead),
            ("NWS_RATE_LIMIT_PER_SECOND", "50"),
            ("JOB_TRADING_SECONDS", hour),
            ("JOB_MARKETS_SECONDS", hour),
            ("JOB_FORECASTS_SECONDS", hour),
            ("JOB_OBSERVATIONS_SECONDS", hour),
            ("JOB_SETTLE_SECONDS", hour),
            ("JOB_APPROVALS_SECONDS", hour),
            ("JOB_RECONCILE_SECONDS", hour),
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {bin}: {e}"));
    let pid = child.id();
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let address = loop {
        let line = rx
            .recv_timeout(Duration::from_secs(60))
            .expect("boz run starts");
        if let Ok(v) = serde_json::from_str::<Value>(&line)
            && v["message"] == "listening"
        {
            break v["data"]["address"].as_str().unwrap().to_string();
        }
    };
    // let the start-up jobs finish
    tokio::time::sleep(Duration::from_secs(5)).await;
    let base = format!("http://{address}");
    let check: Value = reqwest::Client::new()
        .get(format!("{base}/api/trades?limit=20"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        check["trades"].as_array().map(Vec::len),
        Some(20),
        "{check}"
    );
    let idle = rss_kib(pid).unwrap_or(0);
    for (endpoint, path) in [
        (
            "GET /api/trades (first 20 of 10,000)",
            "/api/trades?limit=20",
        ),
        (
            "GET /api/trades (20 at offset 5,000)",
            "/api/trades?limit=20&offset=5000",
        ),
        ("GET /api/markets", "/api/markets"),
    ] {
        let done = Arc::new(AtomicBool::new(false));
        let peak = Arc::new(AtomicU64::new(0));
        let (d, p) = (done.clone(), peak.clone());
        let sampler = std::thread::spawn(move || {
            while !d.load(Ordering::SeqCst) {
                if let Some(k) = rss_kib(pid) {
                    p.fetch_max(k, Ordering::SeqCst);
                }
                std::thread::sleep(Duration::from_millis(20));
            }
        });
        let url = format!("{base}{path}");
        let token = token.clone();
        let r = tokio::task::spawn_blocking(move || wrk(&url, &token))
            .await
            .unwrap();
        done.store(true, Ordering::SeqCst);
        sampler.join().unwrap();
        println!(
            "| {name} | {endpoint} | {} | {} | {} | {:.1} | {:.1} | {} |",
            r.rps,
            r.p50,
            r.p99,
            idle as f64 / 1024.0,
            peak.load(Ordering::SeqCst) as f64 / 1024.0,
            r.errors
        );
    }
    let _ = Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status();
    let _ = child.wait();
}

#[tokio::main]
async fn main() {
    let bin = common::release_boz();
    println!(
        "| database | endpoint | requests/s | p50 | p99 | RSS idle (MiB) | RSS peak under load (MiB) | errors |"
    );
    println!("|---|---|---|---|---|---|---|---|");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("boz.sqlite");
    bench(
        "SQLite",
        DatabaseUrl::Sqlite { path: path.clone() },
        &format!("sqlite://{}", path.display()),
        &bin,
    )
    .await;

    let admin = std::env::var("DATABASE_URL_PG")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_string());
    let name = format!("boz_bench_{}", std::process::id());
    let mut c = sqlx::PgConnection::connect(&admin).await.unwrap();
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .execute(&mut c)
        .await
        .unwrap();
    let url = match admin.rsplit_once('/') {
        Some((server, _)) => format!("{server}/{name}"),
        None => panic!("DATABASE_URL_PG has no database"),
    };
    bench("PostgreSQL", DatabaseUrl::parse(&url).unwrap(), &url, &bin).await;
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
    )))
    .execute(&mut c)
    .await
    .unwrap();
}
