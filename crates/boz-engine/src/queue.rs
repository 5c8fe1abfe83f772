//! The job queue: apalis, on a SQLite file of its own beside ours (`boz.sqlite` →
//! `boz.jobs.sqlite`) or in the `apalis` schema of our PostgreSQL database. Its tables stay
//! apart from ours; its migrations are its own.
//!
//! Every job carries its key ([`Job::key`]) as apalis's idempotency key, so a tick pushed by
//! several schedulers is stored once. Workers send heartbeats; the job of a worker that misses
//! three is put back and run by another worker.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use apalis::prelude::*;
use apalis_postgres::PostgresStorage;
use apalis_sqlite::SqliteStorage;
use boz_common::config::DatabaseUrl;
use sqlx::postgres::PgPoolOptions;
use sqlx::sqlite::{SqliteConnectOptions, SqlitePoolOptions};
use tokio_util::sync::CancellationToken;

use crate::jobs::Job;
use crate::runtime::Runner;
use crate::{Context, EngineError, Result};

/// The apalis queue the jobs go through.
const QUEUE: &str = "boz-pipeline";
/// How many jobs one push may be retried by apalis (a job whose worker died counts one).
const MAX_ATTEMPTS: usize = 5;

#[derive(Clone)]
pub enum Queue {
    Sqlite(SqliteStorage<Job>),
    Postgres(PostgresStorage<Job>),
}

/// The queue's SQLite file beside the database file.
pub fn sqlite_jobs_path(db: &Path) -> std::path::PathBuf {
    let stem = db
        .file_stem()
        .map(|s| s.to_string_lossy().to_string())
        .unwrap_or_else(|| "boz".into());
    db.with_file_name(format!("{stem}.jobs.sqlite"))
}

impl Queue {
    /// Opens the queue for the database `url` (creating its tables), with a worker heartbeat of
    /// `heartbeat`.
    pub async fn open(url: &DatabaseUrl, heartbeat: Duration) -> Result<Queue> {
        match url {
            DatabaseUrl::Sqlite { path } => {
                let file = sqlite_jobs_path(path);
                let options = SqliteConnectOptions::new()
                    .filename(&file)
                    .create_if_missing(true)
                    .busy_timeout(Duration::from_secs(10));
                let pool = SqlitePoolOptions::new()
                    .max_connections(4)
                    .acquire_timeout(Duration::from_secs(10))
                    .connect_with(options)
                    .await
                    .with_context(|| format!("cannot open the job queue {}", file.display()))?;
                SqliteStorage::setup(&pool)
                    .await
                    .context("cannot create the job queue's tables")?;
                let config = apalis_sqlite::Config::default()
                    .queue(QUEUE)
                    .heartbeat_interval(heartbeat)
                    .missed_heartbeats(3);
                Ok(Queue::Sqlite(SqliteStorage::new(&pool).with_config(config)))
            }
            DatabaseUrl::Postgres { url } => {
                let pool = PgPoolOptions::new()
                    .max_connections(4)
                    .acquire_timeout(Duration::from_secs(10))
                    .connect(url)
                    .await
                    .map_err(|e| {
                        EngineError::failed(format!("cannot connect the job queue: {e}"))
                    })?;
                PostgresStorage::setup(&pool)
                    .await
                    .context("cannot create the job queue's tables")?;
                let config = apalis_postgres::Config::default()
                    .queue(QUEUE)
                    .heartbeat_interval(heartbeat)
                    .missed_heartbeats(3);
                Ok(Queue::Postgres(
                    PostgresStorage::new(&pool).with_config(config),
                ))
            }
        }
    }

    /// Pushes `job` unless a job with its key was pushed before (by any process).
    pub async fn push(&self, job: &Job) -> Result<()> {
        let task = || {
            TaskBuilder::new(job.clone())
                .idempotency_key(job.key())
                .max_attempts(MAX_ATTEMPTS)
                .build()
        };
        let failed = match self.clone() {
            // SQLite ignores a second job with the key (ON CONFLICT DO NOTHING)
            Queue::Sqlite(mut q) => q.push_task(task()).await.err().map(|e| e.to_string()),
            // PostgreSQL refuses it with a unique violation: pushed before, not an error
            Queue::Postgres(mut q) => match q.push_task(task()).await {
                Ok(()) => None,
                Err(TaskSinkError::PushError(apalis_postgres::Error::Database(
                    sqlx::Error::Database(db),
                ))) if db.is_unique_violation() => None,
                Err(e) => Some(e.to_string()),
            },
        };
        match failed {
            None => Ok(()),
            Some(e) => Err(EngineError::failed(format!(
                "cannot queue {}: {e}",
                job.key()
            ))),
        }
    }

    /// Runs `count` workers taking jobs from the queue until `stop` is cancelled; then waits for
    /// the jobs they started to finish (none is cut off).
    pub async fn work(
        &self,
        runner: Arc<Runner>,
        count: usize,
        stop: CancellationToken,
    ) -> Result<()> {
        let mut handles = Vec::new();
        for i in 0..count.max(1) {
            let name = format!("{}-{i}", runner.worker);
            let stop = stop.clone();
            let runner = runner.clone();
            let signal = async move {
                stop.cancelled().await;
                Ok::<(), std::io::Error>(())
            };
            handles.push(match self.clone() {
                Queue::Sqlite(q) => tokio::spawn(async move {
                    WorkerBuilder::new(name)
                        .backend(q)
                        .data(runner)
                        .build(handle)
                        .run_until(signal)
                        .await
                        .map_err(|e| e.to_string())
                }),
                Queue::Postgres(q) => tokio::spawn(async move {
                    WorkerBuilder::new(name)
                        .backend(q)
                        .data(runner)
                        .build(handle)
                        .run_until(signal)
                        .await
                        .map_err(|e| e.to_string())
                }),
            });
        }
        let mut failures = Vec::new();
        for h in handles {
            match h.await {
                Ok(Ok(())) => {}
                Ok(Err(e)) => failures.push(e),
                Err(e) => failures.push(e.to_string()),
            }
        }
        runner.finish().await;
        if failures.is_empty() {
            Ok(())
        } else {
            Err(EngineError::failed(format!(
                "workers stopped with errors: {}",
                failures.join("; ")
            )))
        }
    }
}

/// One job from the queue: run (and recorded) on a task the worker's shutdown cannot cancel.
async fn handle(job: Job, runner: Data<Arc<Runner>>) -> Result<(), BoxDynError> {
    let runner: Arc<Runner> = runner.0.clone();
    runner.spawn(job).await;
    Ok(())
}
