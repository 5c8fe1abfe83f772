//! `boz-store`: the store ports of `boz-common` on SQLite (embedded default) and PostgreSQL
//! (many users, many machines), with versioned, reversible migrations embedded in the binary.
//!
//! Log tag: SYSTEM. May depend on: layer L0 (`boz-common`) and external crates (layer AD).
//!
//! Migrations live in `migrations/sqlite` and `migrations/postgres` (the same tables, each in
//! its engine's types) and are tracked in `boz_schema_migrations`, apart from any other tool's
//! migration table in the same database.

mod error;
mod job_repos;
mod migrations;
mod postgres;
mod repos;
mod sqlite;
mod trading_repos;

use std::sync::Arc;

use boz_common::config::DatabaseUrl;
use boz_common::error::BozError;
use boz_common::ports::Store;

pub use migrations::{MigrationState, MigrationStatus};
pub use postgres::PgStore;
pub use sqlite::SqliteStore;

/// Name of our migrations table.
pub const MIGRATIONS_TABLE: &str = "boz_schema_migrations";

/// An open database of either kind.
#[derive(Debug, Clone)]
pub enum Database {
    Sqlite(SqliteStore),
    Postgres(PgStore),
}

impl Database {
    /// Opens the database the URL names (creating a SQLite file if missing).
    pub async fn open(url: &DatabaseUrl) -> Result<Database, BozError> {
        match url {
            DatabaseUrl::Sqlite { path } => SqliteStore::open(path)
                .await
                .map(Database::Sqlite)
                .map_err(|e| {
                    BozError::upstream("database", format!("cannot open {}: {e}", path.display()))
                }),
            DatabaseUrl::Postgres { .. } => PgStore::open(&url_text(url))
                .await
                .map(Database::Postgres)
                .map_err(|e| {
                    BozError::upstream(
                        "database",
                        format!("cannot connect to {}: {e}", url.redacted()),
                    )
                }),
        }
    }

    /// The repositories, for everything above the composition root.
    pub fn store(&self) -> Arc<dyn Store> {
        match self {
            Database::Sqlite(s) => Arc::new(s.clone()),
            Database::Postgres(s) => Arc::new(s.clone()),
        }
    }

    /// Applies every pending migration (harmless when there is none).
    pub async fn migrate(&self) -> Result<Vec<i64>, BozError> {
        match self {
            Database::Sqlite(s) => migrations::sqlite().run(s.write_pool()).await,
            Database::Postgres(s) => migrations::postgres().run(s.pool()).await,
        }
    }

    /// Every known migration and whether it is applied.
    pub async fn status(&self) -> Result<Vec<MigrationStatus>, BozError> {
        match self {
            Database::Sqlite(s) => migrations::sqlite().status(s.write_pool()).await,
            Database::Postgres(s) => migrations::postgres().status(s.pool()).await,
        }
    }

    /// Reverts the last applied migration; returns its version, or `None` if none is applied.
    pub async fn revert(&self) -> Result<Option<i64>, BozError> {
        match self {
            Database::Sqlite(s) => migrations::sqlite().revert_one(s.write_pool()).await,
            Database::Postgres(s) => migrations::postgres().revert_one(s.pool()).await,
        }
    }

    pub async fn close(&self) {
        match self {
            Database::Sqlite(s) => s.close().await,
            Database::Postgres(s) => s.close().await,
        }
    }
}

fn url_text(url: &DatabaseUrl) -> String {
    match url {
        DatabaseUrl::Sqlite { path } => format!("sqlite://{}", path.display()),
        DatabaseUrl::Postgres { url } => url.clone(),
    }
}
