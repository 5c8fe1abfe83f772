//! Resident memory of `boz run`, idle and during trading cycles (BENCHMARKS.md).
//!
//! ```text
//! cargo build --release -p boz && cargo run --release -p boz --example memory
//! ```
//!
//! Starts the fake Kalshi of the tests (tomorrow's NYC event, a demo exchange that answers
//! orders after 1.5 s), a SQLite database with the local user trading automatically and a
//! fresh prediction, and the release `boz run` (weather upstreams unreachable, trading cycle
//! every 5 s), for 60 s. Samples VmRSS from /proc every 20 ms and splits the samples by what
//! the process was doing according to its log: idle (no job running), in a trading cycle, or
//! in another job.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a benchmark may panic

#[path = "../tests/support/fake_kalshi.rs"]
mod fake_kalshi;

mod common;
use common::rss_kib;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use boz_common::config::DatabaseUrl;
use boz_common::schemas::TradingMode;
use boz_store::Database;
use serde_json::Value;

fn summary(name: &str, mut v: Vec<u64>) {
    if v.is_empty() {
        println!("{name:<22} no samples");
        return;
    }
    v.sort_unstable();
    let mib = |k: u64| k as f64 / 1024.0;
    println!(
        "{name:<22} {:>6} samples  median {:>6.1} MiB  max {:>6.1} MiB",
        v.len(),
        mib(v[v.len() / 2]),
        mib(v[v.len() - 1])
    );
}

#[tokio::main]
async fn main() {
    let bin = common::release_boz();
    let (server, _book, _arrived) = fake_kalshi::start(Duration::from_millis(1500)).await;
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("kalshi.pem"),
        fake_kalshi::private_key_pem(),
    )
    .unwrap();
    let db = Database::open(&DatabaseUrl::Sqlite {
        path: dir.path().join("boz.sqlite"),
    })
    .await
    .unwrap();
    db.migrate().await.unwrap();
    let store = db.store();
    fake_kalshi::seed(&store, TradingMode::Auto).await;
    db.close().await;

    let kalshi = format!("{}{}", server.uri(), fake_kalshi::PREFIX);
    let dead = "http://127.0.0.1:9";
    let mut child = Command::new(&bin)
        .arg("run")
        .current_dir(dir.path())
        .env_clear()
        .envs([
            ("LOG_FORMAT", "json"),
            ("BOZ_BIND", "127.0.0.1:0"),
            (
                "ENCRYPTION_KEY",
                "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=",
            ),
            ("TRADING_VENUE", "demo"),
            ("KALSHI_BASE_URL", kalshi.as_str()),
            ("KALSHI_API_KEY_ID", "key-123"),
            ("KALSHI_PRIVATE_KEY_PATH", "kalshi.pem"),
            ("NWS_BASE_URL", dead),
            ("OPEN_METEO_BASE_URL", dead),
            ("OPEN_METEO_ENSEMBLE_URL", dead),
            ("OPEN_METEO_PREVIOUS_RUNS_URL", dead),
            ("NWS_RATE_LIMIT_PER_SECOND", "50"),
            ("JOB_TRADING_SECONDS", "5"),
            ("JOB_MARKETS_SECONDS", "10"),
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {bin} (build it with --release): {e}"));
    let pid = child.id();
    // what is running now, from the log
    let running: Arc<Mutex<Vec<String>>> = Arc::default();
    let r = running.clone();
    let stderr = child.stderr.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let Ok(v) = serde_json::from_str::<Value>(&line) else {
                continue;
            };
            let job = v["data"]["job"].as_str().unwrap_or_default().to_string();
            let mut r = r.lock().unwrap();
            match v["message"].as_str() {
                Some("job started") => r.push(job),
                Some("job done") | Some("job failed") => {
                    if let Some(i) = r.iter().position(|j| *j == job) {
                        r.remove(i);
                    }
                }
                _ => {}
            }
        }
    });
    let (mut idle, mut cycle, mut other, mut all) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(60) {
        if let Some(k) = rss_kib(pid) {
            all.push(k);
            let r = running.lock().unwrap();
            if r.is_empty() {
                idle.push(k);
            } else if r.iter().any(|j| j == "trading_cycle") {
                cycle.push(k);
            } else {
                other.push(k);
            }
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status();
    let _ = child.wait();
    println!("boz run ({bin}), 60 s, VmRSS sampled every 20 ms:");
    summary("idle (no job running)", idle);
    summary("in a trading cycle", cycle);
    summary("in another job", other);
    summary("overall", all);
}
