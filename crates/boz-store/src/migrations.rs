//! Embedded migrations: apply, status, revert one step (the counterpart of
//! `alembic upgrade head | current | downgrade -1`).

use std::collections::BTreeSet;
use std::ops::Deref;

use boz_common::error::BozError;
use sqlx::migrate::{Migrate, MigrationType, Migrator};
use sqlx::{Acquire, Database as SqlxDatabase, Pool};

use crate::MIGRATIONS_TABLE;

/// Whether a migration is applied.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MigrationState {
    Applied,
    Pending,
}

/// One migration and its state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MigrationStatus {
    pub version: i64,
    pub description: String,
    pub state: MigrationState,
}

pub(crate) struct Migrations(Migrator);

pub(crate) fn sqlite() -> Migrations {
    let mut m = sqlx::migrate!("./migrations/sqlite");
    m.dangerous_set_table_name(MIGRATIONS_TABLE);
    Migrations(m)
}

pub(crate) fn postgres() -> Migrations {
    let mut m = sqlx::migrate!("./migrations/postgres");
    m.dangerous_set_table_name(MIGRATIONS_TABLE);
    Migrations(m)
}

fn migrate_error(op: &str, e: impl std::fmt::Display) -> BozError {
    BozError::upstream("database", format!("{op}: {e}"))
}

impl Migrations {
    fn ups(&self) -> impl Iterator<Item = &sqlx::migrate::Migration> {
        self.0
            .iter()
            .filter(|m| m.migration_type != MigrationType::ReversibleDown)
    }

    async fn applied<DB>(&self, pool: &Pool<DB>) -> Result<BTreeSet<i64>, BozError>
    where
        DB: SqlxDatabase,
        DB::Connection: Migrate,
    {
        let mut conn = pool
            .acquire()
            .await
            .map_err(|e| migrate_error("connect", e))?;
        let conn = conn
            .acquire()
            .await
            .map_err(|e| migrate_error("connect", e))?;
        conn.ensure_migrations_table(MIGRATIONS_TABLE)
            .await
            .map_err(|e| migrate_error("migrations table", e))?;
        if let Some(v) = conn
            .dirty_version(MIGRATIONS_TABLE)
            .await
            .map_err(|e| migrate_error("migration state", e))?
        {
            return Err(migrate_error(
                "migration state",
                format!("migration {v} failed half-way; repair the database before continuing"),
            ));
        }
        Ok(conn
            .list_applied_migrations(MIGRATIONS_TABLE)
            .await
            .map_err(|e| migrate_error("list migrations", e))?
            .into_iter()
            .map(|m| m.version)
            .collect())
    }

    /// Applies pending migrations; returns the versions applied now.
    pub(crate) async fn run<DB>(&self, pool: &Pool<DB>) -> Result<Vec<i64>, BozError>
    where
        DB: SqlxDatabase,
        DB::Connection: Migrate,
        for<'c> &'c mut DB::Connection: sqlx::Executor<'c, Database = DB>,
        for<'a> &'a Pool<DB>: Acquire<'a, Database = DB>,
        for<'a> <&'a Pool<DB> as Acquire<'a>>::Connection: Deref<Target = DB::Connection>,
    {
        let before = self.applied(pool).await?;
        self.0
            .run(pool)
            .await
            .map_err(|e| migrate_error("migrate", e))?;
        let after = self.applied(pool).await?;
        Ok(after.difference(&before).copied().collect())
    }

    pub(crate) async fn status<DB>(&self, pool: &Pool<DB>) -> Result<Vec<MigrationStatus>, BozError>
    where
        DB: SqlxDatabase,
        DB::Connection: Migrate,
    {
        let applied = self.applied(pool).await?;
        Ok(self
            .ups()
            .map(|m| MigrationStatus {
                version: m.version,
                description: m.description.to_string(),
                state: if applied.contains(&m.version) {
                    MigrationState::Applied
                } else {
                    MigrationState::Pending
                },
            })
            .collect())
    }

    /// Reverts the newest applied migration.
    pub(crate) async fn revert_one<DB>(&self, pool: &Pool<DB>) -> Result<Option<i64>, BozError>
    where
        DB: SqlxDatabase,
        DB::Connection: Migrate,
        for<'c> &'c mut DB::Connection: sqlx::Executor<'c, Database = DB>,
        for<'a> &'a Pool<DB>: Acquire<'a, Database = DB>,
        for<'a> <&'a Pool<DB> as Acquire<'a>>::Connection: Deref<Target = DB::Connection>,
    {
        let applied = self.applied(pool).await?;
        let Some(&last) = applied.iter().next_back() else {
            return Ok(None);
        };
        let target = applied.range(..last).next_back().copied().unwrap_or(0);
        self.0
            .undo(pool, target)
            .await
            .map_err(|e| migrate_error("revert", e))?;
        Ok(Some(last))
    }
}
