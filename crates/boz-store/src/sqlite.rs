//! The store on SQLite: one file, WAL journal, foreign keys on, a busy timeout, and a single
//! writer connection so concurrent writers queue instead of failing with "database is locked".
//! Reads use a separate pool and see committed data (WAL lets them run beside the writer).

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use rust_decimal::Decimal;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};

use crate::repos::impl_repositories;

pub(crate) const BACKEND: &str = "sqlite";

/// How long a statement waits for a lock held by another process before failing.
const BUSY_TIMEOUT: Duration = Duration::from_secs(30);

/// The SQLite store.
#[derive(Debug, Clone)]
pub struct SqliteStore {
    pub(crate) read: SqlitePool,
    pub(crate) write: SqlitePool,
}

impl SqliteStore {
    /// Opens (creating if missing) the database file.
    pub async fn open(path: &Path) -> Result<SqliteStore, sqlx::Error> {
        let options = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            .busy_timeout(BUSY_TIMEOUT);
        // The writer first, so the file exists and is in WAL mode before readers open it.
        let write = SqlitePoolOptions::new()
            .max_connections(1)
            .acquire_timeout(Duration::from_secs(60))
            .connect_with(options.clone())
            .await?;
        let read = SqlitePoolOptions::new()
            .max_connections(4)
            .acquire_timeout(Duration::from_secs(30))
            .connect_with(options)
            .await?;
        Ok(SqliteStore { read, write })
    }

    /// The writer pool (migrations run on it).
    pub fn write_pool(&self) -> &SqlitePool {
        &self.write
    }

    pub async fn close(&self) {
        self.read.close().await;
        self.write.close().await;
    }
}

/// Money is exact decimal text on SQLite.
fn bind_money(d: Decimal) -> String {
    d.to_string()
}

fn get_money(row: &sqlx::sqlite::SqliteRow, name: &str) -> Result<Decimal, boz_common::BozError> {
    use sqlx::Row;
    let s: String = row
        .try_get(name)
        .map_err(|e| crate::error::decode_error(name, e))?;
    Decimal::from_str(&s).map_err(|e| crate::error::invalid_row(name, e))
}

fn get_opt_money(
    row: &sqlx::sqlite::SqliteRow,
    name: &str,
) -> Result<Option<Decimal>, boz_common::BozError> {
    use sqlx::Row;
    let s: Option<String> = row
        .try_get(name)
        .map_err(|e| crate::error::decode_error(name, e))?;
    s.map(|s| Decimal::from_str(&s).map_err(|e| crate::error::invalid_row(name, e)))
        .transpose()
}

/// Row locks for read-then-write transactions (none: SQLite has one writer at a time).
const FOR_UPDATE: &str = "";

impl_repositories!(SqliteStore, sqlx::Sqlite);
crate::trading_repos::impl_trading_repositories!(SqliteStore, sqlx::Sqlite);
crate::job_repos::impl_job_repositories!(SqliteStore);
