//! A `boz` process for the tests that run the binary (`running`, `browser`): its output lines
//! collected, stopped with SIGTERM or killed, and the settings that point it at the fake Kalshi.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::BOZ;

pub const MASTER: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";

/// A `boz` process whose standard error lines are collected; killed if still running when
/// dropped.
pub struct Proc {
    child: Child,
    lines: std::sync::mpsc::Receiver<String>,
    seen: Vec<String>,
}

impl Proc {
    pub fn start(dir: &Path, env: &[(&str, &str)], args: &[&str]) -> Proc {
        let mut child = Command::new(BOZ)
            .args(args)
            .current_dir(dir)
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("LOG_FORMAT", "json")
            .envs(env.iter().copied())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        let stderr = child.stderr.take().unwrap();
        let stdout = child.stdout.take().unwrap();
        let tx2 = tx.clone();
        std::thread::spawn(move || {
            for l in BufReader::new(stderr).lines().map_while(Result::ok) {
                let _ = tx.send(l);
            }
        });
        std::thread::spawn(move || {
            for l in BufReader::new(stdout).lines().map_while(Result::ok) {
                let _ = tx2.send(format!("stdout: {l}"));
            }
        });
        Proc {
            child,
            lines: rx,
            seen: Vec::new(),
        }
    }

    /// Waits for a line containing `needle`.
    pub fn wait_for(&mut self, needle: &str, within: Duration) -> String {
        let deadline = Instant::now() + within;
        if let Some(l) = self.seen.iter().find(|l| l.contains(needle)) {
            return l.clone();
        }
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let l = self
                .lines
                .recv_timeout(left)
                .unwrap_or_else(|_| panic!("no line with {needle:?}:\n{}", self.seen.join("\n")));
            self.seen.push(l.clone());
            if l.contains(needle) {
                return l;
            }
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// SIGTERM, then waits for the exit (within a minute); returns every line.
    pub fn stop(mut self) -> String {
        let ok = Command::new("kill")
            .args(["-TERM", &self.pid().to_string()])
            .status()
            .unwrap();
        assert!(ok.success());
        let deadline = Instant::now() + Duration::from_secs(60);
        let status = loop {
            if let Some(s) = self.child.try_wait().unwrap() {
                break s;
            }
            assert!(Instant::now() < deadline, "did not stop on SIGTERM");
            std::thread::sleep(Duration::from_millis(50));
        };
        assert!(status.success(), "exit status {status:?}");
        while let Ok(l) = self.lines.recv_timeout(Duration::from_secs(2)) {
            self.seen.push(l);
        }
        self.seen.join("\n")
    }

    pub fn kill(&mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        if self.child.try_wait().ok().flatten().is_none() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// Settings for processes against the fake Kalshi (demo venue, signed requests); the weather
/// upstreams refuse connections (their jobs fail and are recorded; trading goes on with the
/// stored prediction).
pub fn env_for(kalshi: &str, key_path: &str, db: &str) -> Vec<(String, String)> {
    [
        ("DATABASE_URL", db),
        ("ENCRYPTION_KEY", MASTER),
        ("BOZ_BIND", "127.0.0.1:0"),
        ("TRADING_VENUE", "demo"),
        ("KALSHI_BASE_URL", kalshi),
        ("KALSHI_API_KEY_ID", "key-123"),
        ("KALSHI_PRIVATE_KEY_PATH", key_path),
        ("NWS_BASE_URL", "http://127.0.0.1:9"),
        ("OPEN_METEO_BASE_URL", "http://127.0.0.1:9"),
        ("OPEN_METEO_ENSEMBLE_URL", "http://127.0.0.1:9"),
        ("OPEN_METEO_PREVIOUS_RUNS_URL", "http://127.0.0.1:9"),
        ("HTTP_TIMEOUT_SECONDS", "10"),
        // failing weather requests fail fast (no rate limit wait behind the retries)
        ("NWS_RATE_LIMIT_PER_SECOND", "50"),
        ("WEATHER_FETCH_CONCURRENCY", "16"),
        ("JOB_HEARTBEAT_SECONDS", "1"),
        ("JOB_LEASE_SECONDS", "5"),
        ("JOB_TRADING_SECONDS", "3"),
        ("JOB_MARKETS_SECONDS", "3600"),
        ("JOB_FORECASTS_SECONDS", "3600"),
        ("JOB_OBSERVATIONS_SECONDS", "3600"),
        ("JOB_SETTLE_SECONDS", "3600"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect()
}

pub fn pairs(v: &[(String, String)]) -> Vec<(&str, &str)> {
    v.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect()
}

/// `boz run` on a fresh SQLite file against the fake Kalshi on the paper venue, the local user
/// (the admin login's) in manual mode with the fake's prediction: its start-up cycle queues
/// trades for approval. `before` runs on the store before the process starts.
pub struct Running {
    pub proc: Proc,
    /// `http://127.0.0.1:port`
    pub base: String,
    /// The admin login's one-time password.
    pub otp: String,
    pub store: std::sync::Arc<dyn boz_common::ports::Store>,
    pub kalshi: wiremock::MockServer,
    _db: boz_store::Database,
    _dir: tempfile::TempDir,
}

pub async fn boz_run_manual(
    before: impl AsyncFnOnce(&std::sync::Arc<dyn boz_common::ports::Store>),
) -> Running {
    let (kalshi, _book, _arrived) = super::fake_kalshi::start(Duration::from_millis(10)).await;
    let dir = tempfile::tempdir().unwrap();
    let db = boz_store::Database::open(&boz_common::config::DatabaseUrl::Sqlite {
        path: dir.path().join("boz.sqlite"),
    })
    .await
    .unwrap();
    db.migrate().await.unwrap();
    let store = db.store();
    super::fake_kalshi::seed(&store, boz_common::schemas::TradingMode::Manual).await;
    before(&store).await;
    let mut env = env_for(
        &format!("{}{}", kalshi.uri(), super::fake_kalshi::PREFIX),
        "kalshi.pem",
        "sqlite://boz.sqlite",
    );
    // the paper venue: no Kalshi key
    env.retain(|(k, _)| {
        !k.starts_with("KALSHI_API") && !k.starts_with("KALSHI_PRIVATE") && k != "TRADING_VENUE"
    });
    let dir_path = dir.path().to_path_buf();
    let mut proc = tokio::task::spawn_blocking(move || {
        let mut p = Proc::start(&dir_path, &pairs(&env), &["run"]);
        p.wait_for("\"listening\"", Duration::from_secs(60));
        p
    })
    .await
    .unwrap();
    let line = proc.wait_for("\"listening\"", Duration::from_secs(1));
    let address = serde_json::from_str::<serde_json::Value>(&line).unwrap()["data"]["address"]
        .as_str()
        .unwrap()
        .to_string();
    let otp = proc.wait_for("one-time password:", Duration::from_secs(1));
    let otp = otp.rsplit(' ').next().unwrap().trim().to_string();
    Running {
        proc,
        base: format!("http://{address}"),
        otp,
        store,
        kalshi,
        _db: db,
        _dir: dir,
    }
}
