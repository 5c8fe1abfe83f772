//! The store on PostgreSQL, for many users and many machines sharing one database.

use std::time::Duration;

use rust_decimal::Decimal;
use sqlx::postgres::{PgPool, PgPoolOptions};

use crate::repos::impl_repositories;

pub(crate) const BACKEND: &str = "postgres";

/// The PostgreSQL store. Reads and writes share one pool (`read` and `write` are the same).
#[derive(Debug, Clone)]
pub struct PgStore {
    pub(crate) read: PgPool,
    pub(crate) write: PgPool,
}

impl PgStore {
    /// Connects to the database at `url` (`postgres://...`).
    pub async fn open(url: &str) -> Result<PgStore, sqlx::Error> {
        let pool = PgPoolOptions::new()
            .max_connections(10)
            .acquire_timeout(Duration::from_secs(10))
            .connect(url)
            .await?;
        Ok(PgStore {
            read: pool.clone(),
            write: pool,
        })
    }

    pub fn pool(&self) -> &PgPool {
        &self.write
    }

    pub async fn close(&self) {
        self.write.close().await;
    }
}

/// Money is NUMERIC(20, 6) on PostgreSQL.
fn bind_money(d: Decimal) -> Decimal {
    d
}

fn get_money(row: &sqlx::postgres::PgRow, name: &str) -> Result<Decimal, boz_common::BozError> {
    use sqlx::Row;
    row.try_get(name)
        .map_err(|e| crate::error::decode_error(name, e))
}

fn get_opt_money(
    row: &sqlx::postgres::PgRow,
    name: &str,
) -> Result<Option<Decimal>, boz_common::BozError> {
    use sqlx::Row;
    row.try_get(name)
        .map_err(|e| crate::error::decode_error(name, e))
}

/// Row locks for read-then-write transactions.
const FOR_UPDATE: &str = " FOR UPDATE";

impl_repositories!(PgStore, sqlx::Postgres);
crate::trading_repos::impl_trading_repositories!(PgStore, sqlx::Postgres);
crate::job_repos::impl_job_repositories!(PgStore);
