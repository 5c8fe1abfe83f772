//! The `boz` binary end to end: every command's help, `config check`, `db migrate | status |
//! revert` on SQLite and PostgreSQL, `keygen`, `keys rotate`, and `boz run` serving `/health`
//! and shutting down on SIGTERM. Each run gets a clean environment and its own directory.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may panic

mod support;

use support::*;

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use boz_common::ports::StoredUser;
use boz_crypto::KeyVault;

const OLD_KEY: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
const PEM_BODY: &str = "MIIEowIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo4lgOEePzNm0tRgeLezV6ffAt0gun";

#[test]
fn every_command_has_help() {
    let dir = tempfile::tempdir().unwrap();
    for args in [
        vec!["--help"],
        vec!["run", "--help"],
        vec!["config", "--help"],
        vec!["config", "check", "--help"],
        vec!["db", "--help"],
        vec!["db", "migrate", "--help"],
        vec!["db", "status", "--help"],
        vec!["db", "revert", "--help"],
        vec!["weather", "--help"],
        vec!["weather", "fetch", "--help"],
        vec!["weather", "observe", "--help"],
        vec!["markets", "--help"],
        vec!["kalshi", "--help"],
        vec!["kalshi", "check", "--help"],
        vec!["keygen", "--help"],
        vec!["keys", "--help"],
        vec!["keys", "rotate", "--help"],
        vec!["predict", "--help"],
        vec!["score", "--help"],
        vec!["history", "--help"],
        vec!["history", "import", "--help"],
        vec!["signals", "--help"],
        vec!["trade", "--help"],
        vec!["trade", "cycle", "--help"],
        vec!["trade", "pending", "--help"],
        vec!["trade", "approve", "--help"],
        vec!["trade", "reject", "--help"],
        vec!["settle", "--help"],
        vec!["settle", "parse", "--help"],
        vec!["postmortem", "--help"],
        vec!["halt", "--help"],
        vec!["resume", "--help"],
    ] {
        let out = boz(dir.path(), &[], &args);
        assert!(out.status.success(), "{args:?}: {}", text(&out.stderr));
        assert!(text(&out.stdout).contains("Usage: boz"), "{args:?}");
    }
}

#[test]
fn config_check_prints_the_effective_configuration_without_secrets() {
    let dir = tempfile::tempdir().unwrap();
    let out = boz(
        dir.path(),
        &[
            ("ENCRYPTION_KEY", OLD_KEY),
            (
                "DATABASE_URL",
                "postgresql+asyncpg://boz:hunter2@localhost:5432/boz",
            ),
            ("DEFAULT_MAX_TRADE_SIZE", "2.50"),
            (
                "NOTIFY_WEBHOOK_URL",
                "https://hooks.example.com/services/T0/B0/webhook-token-42",
            ),
        ],
        &["config", "check"],
    );
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        stdout.contains("DEFAULT_MAX_TRADE_SIZE           2.50  (environment)"),
        "{stdout}"
    );
    assert!(
        stdout.contains("postgres://boz:***@localhost:5432/boz"),
        "{stdout}"
    );
    assert!(
        stdout.contains("ENCRYPTION_KEY                   <redacted>"),
        "{stdout}"
    );
    assert!(!stdout.contains(OLD_KEY) && !stdout.contains("hunter2"));
    assert!(
        stdout.contains("https://hooks.example.com/<redacted>")
            && !stdout.contains("webhook-token-42"),
        "{stdout}"
    );
    assert!(stdout.contains("NYC (KNYC, KXHIGHNY)"));
}

#[test]
fn invalid_settings_fail_naming_the_variable() {
    let dir = tempfile::tempdir().unwrap();
    for (env, needle) in [
        (
            vec![("DEFAULT_DAILY_LOSS_LIMIT", "ten")],
            "invalid DEFAULT_DAILY_LOSS_LIMIT",
        ),
        (
            vec![("ENVIRONMENT", "production")],
            "invalid ENCRYPTION_KEY: is required",
        ),
        (vec![("DATABASE_URL", "mysql://x")], "invalid DATABASE_URL"),
        (
            vec![("ENCRYPTION_KEY", "c2hvcnQta2V5LWJ1dC1zZWNyZXQ=")],
            "invalid ENCRYPTION_KEY",
        ),
        (
            vec![("CITIES_FILE", "/nonexistent/cities.toml")],
            "invalid CITIES_FILE",
        ),
        (
            vec![("TRADING_VENUE", "live"), ("KALSHI_ENV", "prod")],
            "invalid TRADING_LIVE_CONFIRM: TRADING_VENUE=live trades real money",
        ),
        (
            vec![("TRADING_VENUE", "live"), ("TRADING_LIVE_CONFIRM", "true")],
            "invalid TRADING_VENUE: live trading needs KALSHI_ENV=prod",
        ),
        (vec![("TRADING_VENUE", "casino")], "invalid TRADING_VENUE"),
        (vec![("KELLY_FRACTION", "1.5")], "invalid KELLY_FRACTION"),
    ] {
        let out = boz(dir.path(), &env, &["config", "check"]);
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{env:?}");
        assert!(stderr.contains(needle), "{env:?}: {stderr}");
        assert!(!stderr.contains("c2hvcnQta2V5LWJ1dC1zZWNyZXQ="), "{stderr}");
    }
    // A .env file is read too.
    std::fs::write(dir.path().join(".env"), "LOG_LEVEL=LOUD\n").unwrap();
    let out = boz(dir.path(), &[], &["config", "check"]);
    assert!(text(&out.stderr).contains("invalid LOG_LEVEL"));
}

fn migrations_round_trip(dir: &Path, url: &str) {
    let env = [("DATABASE_URL", url)];
    let out = boz(dir, &env, &["db", "migrate"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("Applied migration 1."));
    assert!(text(&out.stdout).contains("Applied migration 2."));
    assert!(text(&out.stdout).contains("Applied migration 3."));
    assert!(text(&out.stdout).contains("Applied migration 4."));
    assert!(text(&out.stdout).contains("Applied migration 5."));
    assert!(text(&out.stdout).contains("Applied migration 6."));
    assert!(text(&out.stdout).contains("Applied migration 7."));
    assert!(text(&out.stdout).contains("Applied migration 8."));
    let out = boz(dir, &env, &["db", "migrate"]);
    assert!(
        text(&out.stdout).contains("Database is up to date"),
        "migrate twice is harmless"
    );
    let out = boz(dir, &env, &["db", "status"]);
    assert!(
        text(&out.stdout).contains("1  applied  initial"),
        "{}",
        text(&out.stdout)
    );
    let out = boz(dir, &env, &["db", "revert"]);
    assert!(text(&out.stdout).contains("Reverted migration 8."));
    let out = boz(dir, &env, &["db", "status"]);
    assert!(
        text(&out.stdout).contains("8  pending  market trades"),
        "{}",
        text(&out.stdout)
    );
    let out = boz(dir, &env, &["db", "revert"]);
    assert!(text(&out.stdout).contains("Reverted migration 7."));
    let out = boz(dir, &env, &["db", "status"]);
    assert!(
        text(&out.stdout).contains("7  pending  trade pages"),
        "{}",
        text(&out.stdout)
    );
    let out = boz(dir, &env, &["db", "revert"]);
    assert!(text(&out.stdout).contains("Reverted migration 6."));
    let out = boz(dir, &env, &["db", "status"]);
    assert!(text(&out.stdout).contains("6  pending  sessions"));
    let out = boz(dir, &env, &["db", "revert"]);
    assert!(text(&out.stdout).contains("Reverted migration 5."));
    let out = boz(dir, &env, &["db", "status"]);
    assert!(text(&out.stdout).contains("5  pending  jobs"));
    let out = boz(dir, &env, &["db", "revert"]);
    assert!(text(&out.stdout).contains("Reverted migration 4."));
    let out = boz(dir, &env, &["db", "status"]);
    assert!(text(&out.stdout).contains("4  pending  postmortem"));
    let out = boz(dir, &env, &["db", "revert"]);
    assert!(text(&out.stdout).contains("Reverted migration 3."));
    let out = boz(dir, &env, &["db", "status"]);
    assert!(text(&out.stdout).contains("2  applied  model history"));
    assert!(text(&out.stdout).contains("3  pending  trading"));
    let out = boz(dir, &env, &["db", "revert"]);
    assert!(text(&out.stdout).contains("Reverted migration 2."));
    let out = boz(dir, &env, &["db", "status"]);
    assert!(text(&out.stdout).contains("1  applied  initial"));
    assert!(text(&out.stdout).contains("2  pending  model history"));
    let out = boz(dir, &env, &["db", "revert"]);
    assert!(text(&out.stdout).contains("Reverted migration 1."));
    let out = boz(dir, &env, &["db", "status"]);
    assert!(text(&out.stdout).contains("1  pending  initial"));
    let out = boz(dir, &env, &["db", "revert"]);
    assert!(text(&out.stdout).contains("nothing to revert"));
    assert!(boz(dir, &env, &["db", "migrate"]).status.success());
}

#[test]
fn db_commands_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    migrations_round_trip(dir.path(), "sqlite://boz.sqlite");
    assert!(dir.path().join("boz.sqlite").exists());
}

#[test]
fn db_commands_on_postgres() {
    let Some((url, admin, name)) = pg_database() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    migrations_round_trip(dir.path(), &url);
    drop_pg_database(&admin, &name);
}

#[test]
fn keygen_prints_a_usable_key() {
    let dir = tempfile::tempdir().unwrap();
    let out = boz(dir.path(), &[], &["keygen"]);
    let a = text(&out.stdout).trim().to_string();
    let b = text(&boz(dir.path(), &[], &["keygen"]).stdout)
        .trim()
        .to_string();
    assert_ne!(a, b);
    KeyVault::new(&a).unwrap();
}

fn stored_user(id: &str, token: String) -> StoredUser {
    StoredUser {
        id: id.into(),
        api_key_id: format!("kalshi-{id}"),
        encrypted_private_key: token,
        settings: serde_json::json!({}),
        created_at: chrono::Utc::now(),
    }
}

/// Creates users with keys under `master` (one of them a legacy Fernet token).
fn seed_users(db_path: &Path, master: &str) -> Vec<(String, String)> {
    let vault = KeyVault::new(master).unwrap();
    let fernet = fernet::Fernet::new(master).unwrap();
    with_store(db_path, async |store| {
        let mut plain = Vec::new();
        for (i, legacy) in [(1, false), (2, false), (3, true)] {
            let id = format!("user-{i}");
            let secret = format!(
                "-----BEGIN RSA PRIVATE KEY-----\n{PEM_BODY}{i}\n-----END RSA PRIVATE KEY-----"
            );
            let token = if legacy {
                fernet.encrypt(secret.as_bytes())
            } else {
                vault.encrypt(&id, &secret).unwrap()
            };
            store.create_user(&stored_user(&id, token)).await.unwrap();
            plain.push((id, secret));
        }
        plain
    })
}

fn stored_tokens(db_path: &Path) -> Vec<StoredUser> {
    with_store(db_path, async |store| store.list_users().await.unwrap())
}

#[test]
fn keys_rotate_with_a_new_key_file() {
    let dir = tempfile::tempdir().unwrap();
    let db_path = dir.path().join("boz.sqlite");
    let plain = seed_users(&db_path, OLD_KEY);
    let new_key = boz_crypto::generate_master_key().unwrap();
    std::fs::write(dir.path().join("new.key"), format!("{}\n", &*new_key)).unwrap();
    let out = boz(
        dir.path(),
        &[("ENCRYPTION_KEY", OLD_KEY)],
        &["keys", "rotate", "--new-key-file", "new.key"],
    );
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        stdout.contains("Re-encrypted 3 stored keys (1 legacy Fernet tokens converted)"),
        "{stdout}"
    );
    assert!(!stdout.contains(&*new_key) && !stdout.contains(PEM_BODY));
    let new = KeyVault::new(&new_key).unwrap();
    let old = KeyVault::new(OLD_KEY).unwrap();
    for (u, (id, secret)) in stored_tokens(&db_path).iter().zip(&plain) {
        assert_eq!(&u.id, id);
        assert!(
            u.encrypted_private_key
                .starts_with(&format!("v1.{}.", new.key_id()))
        );
        assert_eq!(&*new.decrypt(id, &u.encrypted_private_key).unwrap(), secret);
        assert!(old.decrypt(id, &u.encrypted_private_key).is_err());
    }
}

#[test]
fn keys_rotate_refuses_when_a_key_cannot_be_read_and_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let db_path = dir.path().join("boz.sqlite");
    seed_users(&db_path, OLD_KEY);
    // user-9's key was made under another master key.
    let other = KeyVault::new(&boz_crypto::generate_master_key().unwrap()).unwrap();
    let token = other.encrypt("user-9", "x").unwrap();
    with_store(&db_path, async |store| {
        store
            .create_user(&stored_user("user-9", token))
            .await
            .unwrap()
    });
    let before = stored_tokens(&db_path);
    let out = boz(
        dir.path(),
        &[("ENCRYPTION_KEY", OLD_KEY)],
        &["keys", "rotate"],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr)
            .contains("cannot decrypt the stored key of user user-9; nothing was changed")
    );
    assert!(
        text(&out.stdout).is_empty(),
        "no new key is shown when nothing changes"
    );
    assert_eq!(stored_tokens(&db_path), before);
}

#[test]
fn keys_rotate_replaces_the_development_key_file() {
    let dir = tempfile::tempdir().unwrap();
    let db_path = dir.path().join("boz.sqlite");
    let key_path = dir.path().join("boz.sqlite.key");
    let (dev_key, _) = boz_crypto::keyfile::load_or_create(&key_path).unwrap();
    let plain = seed_users(&db_path, &dev_key);
    let out = boz(dir.path(), &[], &["keys", "rotate"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("Replaced the development key file"));
    let new_key = boz_crypto::keyfile::read(&key_path).unwrap();
    assert_ne!(*new_key, *dev_key);
    assert!(!text(&out.stdout).contains(&*new_key));
    let vault = KeyVault::new(&new_key).unwrap();
    for (u, (id, secret)) in stored_tokens(&db_path).iter().zip(&plain) {
        assert_eq!(
            &*vault.decrypt(id, &u.encrypted_private_key).unwrap(),
            secret
        );
    }
    assert!(!dir.path().join("boz.sqlite.key.next").exists());
}

/// A running `boz run`, killed if a test fails before stopping it.
struct Running(std::process::Child);

impl Drop for Running {
    fn drop(&mut self) {
        if self.0.try_wait().ok().flatten().is_none() {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
}

/// Starts `boz run`, waits for its "listening" line, and returns the child and the address.
fn start_run(
    dir: &Path,
    env: &[(&str, &str)],
) -> (Running, String, std::sync::mpsc::Receiver<String>) {
    let mut child = Command::new(BOZ)
        .arg("run")
        .current_dir(dir)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("BOZ_BIND", "127.0.0.1:0")
        .env("LOG_FORMAT", "json")
        .envs(env.iter().copied())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let child = Running(child);
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let deadline = Instant::now() + Duration::from_secs(60);
    let (lines_tx, lines_rx) = std::sync::mpsc::channel();
    loop {
        let remaining = deadline.saturating_duration_since(Instant::now());
        let line = rx
            .recv_timeout(remaining)
            .expect("boz run did not start listening");
        lines_tx.send(line.clone()).unwrap();
        let v: serde_json::Value = serde_json::from_str(&line).unwrap();
        if v["message"] == "listening" {
            let address = v["data"]["address"].as_str().unwrap().to_string();
            std::thread::spawn(move || {
                for l in rx {
                    let _ = lines_tx.send(l);
                }
            });
            return (child, address, lines_rx);
        }
    }
}

fn stop(mut child: Running, lines: std::sync::mpsc::Receiver<String>) -> String {
    let status = Command::new("kill")
        .args(["-TERM", &child.0.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let deadline = Instant::now() + Duration::from_secs(30);
    let exit = loop {
        if let Some(s) = child.0.try_wait().unwrap() {
            break s;
        }
        assert!(Instant::now() < deadline, "boz run did not stop on SIGTERM");
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(exit.success(), "exit status {exit:?}");
    let mut out = String::new();
    while let Ok(l) = lines.recv_timeout(Duration::from_secs(5)) {
        out.push_str(&l);
        out.push('\n');
    }
    out
}

fn get_health(address: &str) -> (u16, serde_json::Value) {
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let r = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .build()
            .unwrap()
            .get(format!("http://{address}/health"))
            .send()
            .await
            .unwrap();
        (r.status().as_u16(), r.json().await.unwrap())
    })
}

#[test]
fn run_on_a_fresh_machine_serves_health_and_stops_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let (child, address, lines) = start_run(dir.path(), &[]);
    let (status, body) = get_health(&address);
    assert_eq!(status, 200);
    assert_eq!(body["status"], "ok");
    assert_eq!(body["database"]["backend"], "sqlite");
    let log = stop(child, lines);
    assert!(log.contains("shutdown requested"), "{log}");

    // The development key was generated beside the database, 0600, and never printed.
    use std::os::unix::fs::PermissionsExt;
    let key_path = dir.path().join("boz.sqlite.key");
    let mode = std::fs::metadata(&key_path).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    let key = std::fs::read_to_string(&key_path).unwrap();
    assert!(!log.contains(key.trim()));
    // Records reached log_entries, including the warning about the generated key.
    let logs = with_store(&dir.path().join("boz.sqlite"), async |store| {
        store.recent_logs(&Default::default()).await.unwrap()
    });
    assert!(logs.iter().any(|l| l.module == "AUTH"
        && l.level == "WARN"
        && l.message.contains("generated a development key")));
    assert!(logs.iter().any(|l| l.message == "listening"));
}

#[test]
fn run_on_postgres() {
    let Some((url, admin, name)) = pg_database() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let (child, address, lines) = start_run(
        dir.path(),
        &[("DATABASE_URL", &url), ("ENCRYPTION_KEY", OLD_KEY)],
    );
    let (status, body) = get_health(&address);
    assert_eq!(status, 200);
    assert_eq!(body["database"]["backend"], "postgres");
    let log = stop(child, lines);
    assert!(!log.contains(OLD_KEY));
    drop_pg_database(&admin, &name);
}

// ---------------------------------------------------------------- weather

/// Fake NWS and Open-Meteo servers: the recorded NYC points and TAE raw grid (its forecast made
/// 2022-02-04 03:15Z), the recorded 12-hour forecast, and an Open-Meteo GFS answer for the days
/// around 2022-02-04 (40 + hour of day, so the climate day's high is 63 °F); the ensemble
/// endpoint fails.
async fn weather_servers() -> (wiremock::MockServer, wiremock::MockServer) {
    use wiremock::matchers::path;
    use wiremock::{Mock, MockServer, ResponseTemplate};
    let nws = MockServer::start().await;
    let ok = |v: serde_json::Value| ResponseTemplate::new(200).set_body_json(v);
    mount_nws_forecasts(&nws).await;
    let mut features = shared_json("weather/nws_api/pynws_stations_observations_latest.json");
    features["properties"]["timestamp"] = serde_json::json!(chrono::Utc::now().to_rfc3339());
    Mock::given(path("/stations/KNYC/observations"))
        .respond_with(ok(
            serde_json::json!({"type": "FeatureCollection", "features": [features]}),
        ))
        .mount(&nws)
        .await;
    let om = MockServer::start().await;
    let start = chrono::DateTime::parse_from_rfc3339("2022-02-03T00:00:00Z").unwrap();
    let times: Vec<String> = (0..96)
        .map(|i| {
            (start + chrono::Duration::hours(i))
                .format("%Y-%m-%dT%H:%M")
                .to_string()
        })
        .collect();
    let temps: Vec<f64> = (0..96).map(|i| 40.0 + (i % 24) as f64).collect();
    Mock::given(path("/v1/forecast"))
        .respond_with(ok(serde_json::json!({"utc_offset_seconds": 0, "hourly": {"time": times, "temperature_2m": temps}})))
        .mount(&om)
        .await;
    Mock::given(path("/v1/ensemble"))
        .respond_with(ResponseTemplate::new(500))
        .mount(&om)
        .await;
    (nws, om)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn weather_fetch_stores_and_prints_every_source_once() {
    let (nws, om) = weather_servers().await;
    let dir = tempfile::tempdir().unwrap();
    let dir_path = dir.path().to_path_buf();
    let (nws_url, om_url) = (nws.uri(), om.uri());
    let run = move || {
        boz(
            &dir_path,
            &[
                ("NWS_BASE_URL", &nws_url),
                ("OPEN_METEO_BASE_URL", &om_url),
                ("OPEN_METEO_ENSEMBLE_URL", &om_url),
                ("OPEN_METEO_MODELS", "gfs_seamless"),
                ("OPEN_METEO_API_KEY", "om-secret-key-123"),
                // The recorded grid is from 2022: accept its age for this test.
                ("NWS_MAX_FORECAST_AGE_MINUTES", "100000000"),
                ("HTTP_TIMEOUT_SECONDS", "5"),
            ],
            &[
                "weather",
                "fetch",
                "--city",
                "NYC",
                "--date",
                "2022-02-04",
                "--json",
            ],
        )
    };
    let first = tokio::task::spawn_blocking(run.clone()).await.unwrap();
    assert!(first.status.success(), "{}", text(&first.stderr));
    let data: Vec<serde_json::Value> = serde_json::from_slice(&first.stdout).unwrap();
    let high = |src: &str| {
        data.iter()
            .find(|w| w["source"] == src)
            .map(|w| w["forecast_high_f"].as_f64().unwrap())
    };
    assert_eq!(high("NWS"), Some(72.0));
    assert_eq!(high("Open-Meteo:GFS"), Some(63.0));
    assert_eq!(
        data.len(),
        2,
        "no 12-hour/hourly period on 2022-02-04; the ensemble failed"
    );
    let stderr = text(&first.stderr);
    assert!(stderr.contains("Open-Meteo:ENS for NYC failed"), "{stderr}");
    assert!(!stderr.contains("om-secret-key-123"), "{stderr}");
    // Fetching again stores nothing twice.
    let second = tokio::task::spawn_blocking(run).await.unwrap();
    assert!(second.status.success());
    let rows = tokio::task::spawn_blocking(move || {
        let db = dir.path().join("boz.sqlite");
        with_store(&db, async |store| {
            let city = boz_common::CityCode::parse("NYC").unwrap();
            store
                .forecasts_for(&city, chrono::NaiveDate::from_ymd_opt(2022, 2, 4).unwrap())
                .await
                .unwrap()
        })
    })
    .await
    .unwrap();
    let count = |src: &str| rows.iter().filter(|r| r.data.source == src).count();
    assert_eq!(count("NWS"), 1, "the same NWS run is stored once");
    // Open-Meteo's run is the fetch hour: one row, or two if the hour turned between the runs.
    assert!((1..=2).contains(&count("Open-Meteo:GFS")));
    assert_eq!(rows.len(), count("NWS") + count("Open-Meteo:GFS"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn weather_observe_prints_the_running_maximum() {
    let (nws, _om) = weather_servers().await;
    let dir = tempfile::tempdir().unwrap();
    let dir_path = dir.path().to_path_buf();
    let url = nws.uri();
    let out = tokio::task::spawn_blocking(move || {
        boz(
            &dir_path,
            &[("NWS_BASE_URL", &url)],
            &["weather", "observe", "--city", "NYC", "--json"],
        )
    })
    .await
    .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    let v: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v[0]["station"], "KNYC");
    // The recorded METAR's T-group: 22.8 °C = 73.04 °F (its 6-hour group began before the day
    // unless the test runs after 06:00 standard time; either way at least the T-group).
    assert!(v[0]["max_f"].as_f64().unwrap() >= 73.04 - 1e-9);
}

// ---------------------------------------------------------------- Kalshi

/// The recorded KXHIGHNY-24NOV24 markets (DOMAIN.md §1).
fn recorded_event() -> serde_json::Value {
    let m = |t: &str, st: &str, floor: Option<i32>, cap: Option<i32>, sub: &str| {
        serde_json::json!({"ticker": format!("KXHIGHNY-24NOV24-{t}"), "strike_type": st,
            "floor_strike": floor, "cap_strike": cap, "yes_sub_title": sub})
    };
    serde_json::json!({
        "event_ticker": "KXHIGHNY-24NOV24", "series_ticker": "KXHIGHNY",
        "markets": [
            m("T49", "less", None, Some(49), "48° or below"),
            m("B49.5", "between", Some(49), Some(50), "49° to 50°"),
            m("B51.5", "between", Some(51), Some(52), "51° to 52°"),
            m("B53.5", "between", Some(53), Some(54), "53° to 54°"),
            m("B55.5", "between", Some(55), Some(56), "55° to 56°"),
            m("T56", "greater", Some(56), None, "57° or above"),
        ]
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn markets_prints_brackets_prices_and_implied_probabilities() {
    use wiremock::matchers::{path, query_param};
    use wiremock::{Mock, MockServer, ResponseTemplate};
    let server = MockServer::start().await;
    Mock::given(path("/trade-api/v2/events"))
        .and(query_param("series_ticker", "KXHIGHNY"))
        .and(query_param("status", "open"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(serde_json::json!({"events": [recorded_event()], "cursor": ""})),
        )
        .mount(&server)
        .await;
    // Every bracket: YES bid b, NO bid 0.98 - b, so the YES ask is b + 0.02 and the mid b + 0.01.
    let bids = [
        ("T49", "0.04"),
        ("B49.5", "0.14"),
        ("B51.5", "0.29"),
        ("B53.5", "0.29"),
        ("B55.5", "0.14"),
        ("T56", "0.04"),
    ];
    let books: Vec<serde_json::Value> = bids
        .iter()
        .map(|(t, b)| {
            let bid: f64 = b.parse().unwrap();
            serde_json::json!({"ticker": format!("KXHIGHNY-24NOV24-{t}"), "orderbook_fp": {
                "yes_dollars": [[b, "10.00"]], "no_dollars": [[format!("{:.4}", 0.98 - bid), "7.00"]]}})
        })
        .collect();
    Mock::given(path("/trade-api/v2/markets/orderbooks"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(serde_json::json!({"orderbooks": books})),
        )
        .mount(&server)
        .await;
    let dir = tempfile::tempdir().unwrap();
    let dir_path = dir.path().to_path_buf();
    let base = format!("{}/trade-api/v2", server.uri());
    let out = tokio::task::spawn_blocking(move || {
        boz(
            &dir_path,
            &[("KALSHI_BASE_URL", &base)],
            &["markets", "--city", "NYC", "--json"],
        )
    })
    .await
    .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    let v: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).unwrap();
    let b = v[0]["brackets"].as_array().unwrap();
    assert_eq!(b.len(), 6);
    assert_eq!(
        (b[0]["lower_bound_f"].clone(), b[0]["upper_bound_f"].clone()),
        (serde_json::Value::Null, serde_json::json!(48))
    );
    assert_eq!(
        (b[5]["lower_bound_f"].clone(), b[5]["upper_bound_f"].clone()),
        (serde_json::json!(57), serde_json::Value::Null)
    );
    assert_eq!(b[3]["yes_bid"], "0.2900");
    assert_eq!(b[3]["yes_ask"], "0.3100");
    assert_eq!(b[3]["yes_ask_size"], "7.00");
    // Mids 0.05, 0.15, 0.30, 0.30, 0.15, 0.05 sum to 1.00.
    let sum: f64 = b
        .iter()
        .map(|x| x["implied_probability"].as_f64().unwrap())
        .sum();
    assert!((sum - 1.0).abs() < 1e-9);
    assert!((b[2]["implied_probability"].as_f64().unwrap() - 0.30).abs() < 1e-9);

    // --record stores every bracket's top of book, exactly
    let d = dir.path().to_path_buf();
    let base = format!("{}/trade-api/v2", server.uri());
    let out = tokio::task::spawn_blocking(move || {
        boz(
            &d,
            &[("KALSHI_BASE_URL", &base)],
            &["markets", "--city", "NYC", "--record"],
        )
    })
    .await
    .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("recorded 6 market snapshots"),
        "{}",
        text(&out.stderr)
    );
    let db = dir.path().join("boz.sqlite");
    let snaps = tokio::task::spawn_blocking(move || {
        with_store(&db, async |s| {
            let date = chrono::NaiveDate::from_ymd_opt(2024, 11, 24).unwrap();
            s.market_snapshots_between(&boz_common::CityCode::parse("NYC").unwrap(), date, date)
                .await
                .unwrap()
        })
    })
    .await
    .unwrap();
    assert_eq!(snaps.len(), 6);
    let s = snaps.iter().find(|s| s.ticker.ends_with("B53.5")).unwrap();
    assert_eq!(s.yes_bid.unwrap().to_kalshi_string(), "0.2900");
    assert_eq!(s.yes_ask.unwrap().to_kalshi_string(), "0.3100");
    assert_eq!(
        (s.lower_bound_f, s.upper_bound_f, s.source.as_str()),
        (Some(53), Some(54), "kalshi-rest")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kalshi_check_reads_the_balance_with_signed_requests() {
    use aws_lc_rs::encoding::AsDer;
    use wiremock::matchers::{header_exists, path};
    use wiremock::{Mock, MockServer, ResponseTemplate};
    let server = MockServer::start().await;
    Mock::given(path("/trade-api/v2/portfolio/balance"))
        .and(header_exists("KALSHI-ACCESS-KEY"))
        .and(header_exists("KALSHI-ACCESS-TIMESTAMP"))
        .and(header_exists("KALSHI-ACCESS-SIGNATURE"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(
                serde_json::json!({"balance": 123456, "balance_dollars": "1234.56"}),
            ),
        )
        .mount(&server)
        .await;
    let dir = tempfile::tempdir().unwrap();
    let kp = aws_lc_rs::signature::RsaKeyPair::generate(aws_lc_rs::rsa::KeySize::Rsa2048).unwrap();
    let key_pem = pem::encode(&pem::Pem::new(
        "PRIVATE KEY",
        kp.as_der().unwrap().as_ref().to_vec(),
    ));
    std::fs::write(dir.path().join("kalshi.pem"), &key_pem).unwrap();
    let dir_path = dir.path().to_path_buf();
    let base = format!("{}/trade-api/v2", server.uri());
    let out = tokio::task::spawn_blocking(move || {
        boz(
            &dir_path,
            &[
                ("KALSHI_BASE_URL", &base),
                ("KALSHI_API_KEY_ID", "key-123"),
                ("KALSHI_PRIVATE_KEY_PATH", "kalshi.pem"),
            ],
            &["kalshi", "check"],
        )
    })
    .await
    .unwrap();
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(stdout.contains("Kalshi environment: demo"), "{stdout}");
    assert!(
        stdout.contains("Credentials are valid. Balance: $1234.56"),
        "{stdout}"
    );
    assert!(!stdout.contains("PRIVATE KEY"));
    let none = boz(dir.path(), &[], &["kalshi", "check"]);
    assert_eq!(none.status.code(), Some(2));
    assert!(text(&none.stderr).contains("no credentials"));

    // A stored user's encrypted key works the same way.
    let vault = KeyVault::new(OLD_KEY).unwrap();
    let token = vault.encrypt("trader-1", &key_pem).unwrap();
    let db_path = dir.path().join("boz.sqlite");
    tokio::task::spawn_blocking(move || {
        with_store(&db_path, async |store| {
            store
                .create_user(&stored_user("trader-1", token))
                .await
                .unwrap()
        })
    })
    .await
    .unwrap();
    let dir_path = dir.path().to_path_buf();
    let base = format!("{}/trade-api/v2", server.uri());
    let out = tokio::task::spawn_blocking(move || {
        boz(
            &dir_path,
            &[("KALSHI_BASE_URL", &base), ("ENCRYPTION_KEY", OLD_KEY)],
            &["kalshi", "check", "--user", "trader-1"],
        )
    })
    .await
    .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("Credentials are valid. Balance: $1234.56"));
}
