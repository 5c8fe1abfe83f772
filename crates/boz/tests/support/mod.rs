//! Helpers shared by the binary's integration tests (each test file uses some of them).

#![allow(dead_code)]

pub mod fake_kalshi;
pub mod process;

use std::path::Path;
use std::process::{Command, Output};
use std::sync::Arc;

use boz_common::config::DatabaseUrl;
use boz_common::ports::Store;
use boz_store::Database;
use sqlx::Connection;

pub const BOZ: &str = env!("CARGO_BIN_EXE_boz");

pub fn boz(dir: &Path, env: &[(&str, &str)], args: &[&str]) -> Output {
    Command::new(BOZ)
        .args(args)
        .current_dir(dir)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .envs(env.iter().copied())
        .output()
        .unwrap()
}

pub fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// A fresh database on the local PostgreSQL server (see the store's conformance suite).
pub fn pg_database() -> Option<(String, String, String)> {
    let admin = std::env::var("DATABASE_URL_PG")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_string());
    let name = format!("boz_test_{}", uuid::Uuid::new_v4().simple());
    let rt = tokio::runtime::Runtime::new().unwrap();
    let created = rt.block_on(async {
        let mut c = sqlx::PgConnection::connect(&admin).await?;
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .execute(&mut c)
            .await?;
        c.close().await
    });
    match created {
        Ok(()) => {
            let (base, _) = admin.rsplit_once('/').unwrap();
            Some((format!("{base}/{name}"), admin.clone(), name))
        }
        Err(e) if std::env::var_os("BOZ_REQUIRE_PG").is_none() => {
            eprintln!("skipping the PostgreSQL part: {e}");
            None
        }
        Err(e) => panic!("PostgreSQL required (BOZ_REQUIRE_PG) but unreachable: {e}"),
    }
}

pub fn drop_pg_database(admin: &str, name: &str) {
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let mut c = sqlx::PgConnection::connect(admin).await.unwrap();
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
        )))
        .execute(&mut c)
        .await
        .unwrap();
    });
}

/// Runs `f` against the (migrated) SQLite store at `db_path`.
pub fn with_store<T>(db_path: &Path, f: impl AsyncFnOnce(Arc<dyn Store>) -> T) -> T {
    with_database(
        &DatabaseUrl::Sqlite {
            path: db_path.into(),
        },
        f,
    )
}

/// The SQLite database at `path`, migrated (a second migrate is harmless).
pub async fn open_sqlite(path: &Path) -> Database {
    let db = Database::open(&DatabaseUrl::Sqlite { path: path.into() })
        .await
        .unwrap();
    db.migrate().await.unwrap();
    db
}

/// Runs `f` on the store at `url` (migrated), on a runtime of its own.
pub fn with_database<T>(url: &DatabaseUrl, f: impl AsyncFnOnce(Arc<dyn Store>) -> T) -> T {
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let db = Database::open(url).await.unwrap();
        db.migrate().await.unwrap();
        let out = f(db.store()).await;
        db.close().await;
        out
    })
}

/// A user `user_id` (empty settings) with the login `name` (`role`, Argon2id hash of
/// `password`, no change asked).
pub async fn add_login(
    store: &Arc<dyn Store>,
    name: &str,
    user_id: &str,
    role: &str,
    password: &str,
) {
    let now = chrono::Utc::now();
    store
        .create_login(
            &boz_common::ports::StoredUser {
                id: user_id.into(),
                api_key_id: String::new(),
                encrypted_private_key: String::new(),
                settings: serde_json::to_value(
                    boz_common::config::Settings::from_map(&Default::default())
                        .unwrap()
                        .default_user_settings()
                        .unwrap(),
                )
                .unwrap(),
                created_at: now,
            },
            &boz_common::ports::Login {
                username: name.into(),
                user_id: user_id.into(),
                password_hash: boz_crypto::password::hash_password(password).unwrap(),
                role: role.into(),
                must_change_password: false,
                created_at: now,
            },
        )
        .await
        .unwrap();
}

pub const SHARED: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/data");

/// A recorded JSON file of `../shared/data`.
pub fn shared_json(rel: &str) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(format!("{SHARED}/{rel}")).unwrap()).unwrap()
}

/// Mounts the recorded NWS forecast for New York on `server`: the NYC point, the recorded raw
/// grid (TAE 58,65, made 2022-02-04 03:15Z) at OKX/33,37, and the 12-hour and hourly forecasts.
pub async fn mount_nws_forecasts(server: &wiremock::MockServer) {
    use wiremock::matchers::path;
    use wiremock::{Mock, ResponseTemplate};
    for (p, file) in [
        (
            "/points/40.7790,-73.9690",
            "peers/aclarkson2013-kalshi-weather-bot-fixtures/nws_points_nyc.json",
        ),
        (
            "/gridpoints/OKX/33,37",
            "weather/nws_api/pynws_gridpoint_raw_TAE_58_65.json",
        ),
        (
            "/gridpoints/OKX/33,37/forecast",
            "weather/nws_api/pynws_gridpoints_forecast_us.json",
        ),
        (
            "/gridpoints/OKX/33,37/forecast/hourly",
            "weather/nws_api/pynws_gridpoints_forecast_hourly_us.json",
        ),
    ] {
        Mock::given(path(p))
            .respond_with(ResponseTemplate::new(200).set_body_json(shared_json(file)))
            .mount(server)
            .await;
    }
}

/// Signs in over HTTP: the session cookie (`boz_session=...`) and the session's CSRF token.
pub async fn sign_in(
    http: &reqwest::Client,
    base: &str,
    user: &str,
    password: &str,
) -> (String, String) {
    let r = http
        .post(format!("{base}/api/login"))
        .json(&serde_json::json!({"username": user, "password": password}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "{user}");
    let cookie = r.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_string();
    let csrf = r.json::<serde_json::Value>().await.unwrap()["csrf_token"]
        .as_str()
        .unwrap()
        .to_string();
    (cookie, csrf)
}

/// A personal API token for `user_id` stored under `id`; the secret is returned.
pub async fn add_token(store: &Arc<dyn Store>, id: &str, user_id: &str) -> String {
    let token = boz_crypto::token::new_secret("boz_").unwrap();
    store
        .create_token(&boz_common::ports::ApiToken {
            id: id.into(),
            user_id: user_id.into(),
            name: "script".into(),
            token_hash: boz_crypto::token::hash_secret(&token),
            created_at: chrono::Utc::now(),
            last_used_at: None,
        })
        .await
        .unwrap();
    token
}
