//! Helpers shared by the binary's integration tests (each test file uses some of them).

#![allow(dead_code)]

pub mod fake_kalshi;

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
