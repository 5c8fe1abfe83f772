//! Scheduler and workers.
//!
//! - [`Runner`] runs one job: records its start in `job_runs`, does the work (a trading cycle
//!   only while it holds the `trading_cycle` lease, so one runs at a time across every worker),
//!   records the outcome, duration and error, and queues the jobs it asks for. Jobs run on
//!   tasks the worker's shutdown cannot cancel; [`Runner::finish`] waits for them, so a
//!   shutdown never cuts a job off between sending an order and recording it.
//! - [`schedule`] pushes every due tick to the queue once a second (each process remembers
//!   what it pushed; the queue refuses a key pushed by another process).

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use boz_common::ports::{JobOutcome, JobRun};
use chrono::Utc;
use serde_json::json;
use tokio_util::sync::CancellationToken;
use tokio_util::task::{AbortOnDropHandle, TaskTracker};

use crate::jobs::{self, Done, Job, JobKind};
use crate::queue::Queue;
use crate::schedule::Schedule;
use crate::services::Services;
use crate::{EngineError, Result};

/// The lease that keeps the jobs that touch orders from overlapping.
pub const TRADING_LEASE: &str = "trading_cycle";

/// How long job runs are kept in `job_runs`.
pub const JOB_RUNS_KEEP_DAYS: i64 = 30;

/// A name for this process's workers: host, process id and a random suffix.
pub fn worker_name(role: &str) -> String {
    let host = std::env::var("HOSTNAME").unwrap_or_else(|_| "boz".into());
    let id = uuid::Uuid::new_v4().simple().to_string();
    format!("{role}-{host}-{}-{}", std::process::id(), &id[..8])
}

pub struct Runner {
    pub svc: Services,
    pub worker: String,
    /// Where follow-up jobs go; none: they run at once, in this task (tests, one-off runs).
    pub queue: Option<Queue>,
    tracker: TaskTracker,
    /// Cancelled at shutdown: jobs that only read upstreams and store idempotent data stop;
    /// trading, reconciliation and approvals run to the end.
    stop: CancellationToken,
    /// The kinds running in this process: a tick of a kind still running is skipped (a fetch
    /// slower than its interval would otherwise pile up behind the rate limits).
    busy: Arc<std::sync::Mutex<HashSet<JobKind>>>,
}

/// Marks a kind busy for as long as it lives (also when the job panics).
struct Busy {
    set: Arc<std::sync::Mutex<HashSet<JobKind>>>,
    kind: JobKind,
}

impl Busy {
    fn take(set: &Arc<std::sync::Mutex<HashSet<JobKind>>>, kind: JobKind) -> Option<Busy> {
        let mut s = set.lock().unwrap_or_else(|p| p.into_inner());
        s.insert(kind).then(|| Busy {
            set: set.clone(),
            kind,
        })
    }
}

impl Drop for Busy {
    fn drop(&mut self) {
        let mut s = self.set.lock().unwrap_or_else(|p| p.into_inner());
        s.remove(&self.kind);
    }
}

impl Runner {
    pub fn new(
        svc: Services,
        worker: String,
        queue: Option<Queue>,
        stop: CancellationToken,
    ) -> Runner {
        Runner {
            svc,
            worker,
            queue,
            tracker: TaskTracker::new(),
            stop,
            busy: Arc::default(),
        }
    }

    /// Runs `job` on a task of its own and waits for it.
    pub async fn spawn(self: &Arc<Self>, job: Job) {
        let me = self.clone();
        let work: std::pin::Pin<Box<dyn std::future::Future<Output = Result<JobOutcome>> + Send>> =
            Box::pin(async move { me.run(&job).await });
        let task = self.tracker.spawn(work);
        if let Err(e) = task.await {
            tracing::error!(target: "SYSTEM", error = %e, "job task failed");
        }
    }

    /// Waits for every job started on this runner.
    pub async fn finish(&self) {
        self.tracker.close();
        self.tracker.wait().await;
    }

    /// Runs one job and what it asks for (queued, or at once without a queue). The run and
    /// its outcome are recorded; the outcome is returned.
    pub async fn run(&self, job: &Job) -> Result<JobOutcome> {
        let mut pending = vec![job.clone()];
        let mut first = None;
        while let Some(job) = pending.pop() {
            let (outcome, next) = self.run_one(&job).await?;
            first.get_or_insert(outcome);
            for n in next {
                match &self.queue {
                    Some(q) => {
                        if let Err(e) = q.push(&n).await {
                            tracing::error!(target: "SYSTEM", job = %n.key(), error = %e, "follow-up job not queued");
                        }
                    }
                    None => pending.push(n),
                }
            }
        }
        Ok(first.unwrap_or(JobOutcome::Ok))
    }

    async fn run_one(&self, job: &Job) -> Result<(JobOutcome, Vec<Job>)> {
        let store = &self.svc.store;
        // jobs that touch orders wait for each other (the lease); other kinds coalesce
        let _busy = if job.kind.trades() {
            None
        } else {
            match Busy::take(&self.busy, job.kind) {
                Some(b) => Some(b),
                None => {
                    self.record_unrun(
                        job,
                        JobOutcome::Skipped,
                        None,
                        json!({"reason": job.reason,
                            "skipped": "a run of this job is still going in this process"}),
                    )
                    .await?;
                    tracing::info!(target: "SYSTEM", job = %job.kind.as_str(), tick = %job.tick, "skipped: the previous run is still going");
                    return Ok((JobOutcome::Skipped, Vec::new()));
                }
            }
        };
        let run_id = uuid::Uuid::new_v4().to_string();
        // a job that touches orders (trading cycle, reconciliation, expiry) starts (and is
        // recorded) once it holds the lease, and gives it back after its end is recorded:
        // recorded runs of these never overlap, so no two of them reconcile or send one order
        // at once
        if job.kind.trades()
            && let Err(e) = self.acquire_trading_lease(&run_id).await
        {
            self.record_unrun(
                job,
                JobOutcome::Failed,
                Some(e.to_string()),
                json!({"reason": job.reason}),
            )
            .await?;
            return Ok((JobOutcome::Failed, Vec::new()));
        }
        // renewed while the cycle runs; a dead holder's lease expires after JOB_LEASE_SECONDS
        let _renew = job.kind.trades().then(|| self.renew_trading_lease(&run_id));
        let run = JobRun {
            id: run_id,
            job: job.kind.as_str().to_string(),
            tick: job.tick,
            worker: self.worker.clone(),
            started_at: self.svc.clock.now(),
            finished_at: None,
            duration_ms: None,
            outcome: JobOutcome::Running,
            error: None,
            summary: Some(json!({"reason": job.reason})),
        };
        store.start_job_run(&run).await?;
        tracing::info!(target: "SYSTEM", job = %job.kind.as_str(), tick = %job.tick, reason = %job.reason, worker = %self.worker, "job started");
        let result = match job.kind {
            JobKind::TradingCycle | JobKind::Reconcile | JobKind::ExpireApprovals => {
                jobs::execute(&self.svc, job).await
            }
            // reads and idempotent writes (each settlement is one transaction): safe to stop
            _ => tokio::select! {
                r = jobs::execute(&self.svc, job) => r,
                _ = self.stop.cancelled() => Err(EngineError::failed("stopped by shutdown")),
            },
        };
        let finished = self.svc.clock.now();
        let seconds = (finished - run.started_at).num_milliseconds() as f64 / 1000.0;
        let (outcome, error, summary, next) = match result {
            Ok(Done {
                mut summary,
                next,
                failed,
            }) => {
                if let Some(m) = summary.as_object_mut() {
                    m.insert("reason".into(), json!(job.reason));
                }
                let outcome = if failed.is_some() {
                    JobOutcome::Failed
                } else {
                    JobOutcome::Ok
                };
                (outcome, failed, Some(summary), next)
            }
            Err(e) => (
                JobOutcome::Failed,
                Some(e.to_string()),
                run.summary.clone(),
                Vec::new(),
            ),
        };
        store
            .finish_job_run(
                &run.id,
                finished,
                outcome,
                error.as_deref(),
                summary.as_ref(),
            )
            .await?;
        metrics::counter!("boz_job_runs_total", "kind" => job.kind.as_str(), "outcome" => outcome.as_str())
            .increment(1);
        metrics::histogram!("boz_job_duration_seconds", "kind" => job.kind.as_str())
            .record(seconds.max(0.0));
        if job.kind.trades()
            && let Err(e) = store.release_lease(TRADING_LEASE, &run.id).await
        {
            tracing::warn!(target: "SYSTEM", error = %e, "trading lease not released (it expires)");
        }
        match &error {
            None => {
                tracing::info!(target: "SYSTEM", job = %job.kind.as_str(), tick = %job.tick, "job done")
            }
            Some(e) => {
                tracing::warn!(target: "SYSTEM", job = %job.kind.as_str(), tick = %job.tick, error = %e, "job failed")
            }
        }
        Ok((outcome, next))
    }

    /// Records a run that ended before it started: skipped, or failed waiting for the lease.
    async fn record_unrun(
        &self,
        job: &Job,
        outcome: JobOutcome,
        error: Option<String>,
        summary: serde_json::Value,
    ) -> Result<()> {
        let now = self.svc.clock.now();
        self.svc
            .store
            .start_job_run(&JobRun {
                id: uuid::Uuid::new_v4().to_string(),
                job: job.kind.as_str().to_string(),
                tick: job.tick,
                worker: self.worker.clone(),
                started_at: now,
                finished_at: Some(now),
                duration_ms: Some(0),
                outcome,
                error,
                summary: Some(summary),
            })
            .await?;
        Ok(())
    }

    /// Renews `holder`'s trading lease every third of its length until dropped.
    fn renew_trading_lease(&self, holder: &str) -> AbortOnDropHandle<()> {
        let store = self.svc.store.clone();
        let holder = holder.to_string();
        let length = chrono::Duration::seconds(i64::from(self.svc.settings.job_lease_seconds));
        let every = length.to_std().unwrap_or(Duration::from_secs(60)) / 3;
        AbortOnDropHandle::new(tokio::spawn(async move {
            loop {
                tokio::time::sleep(every).await;
                let now = Utc::now();
                match store
                    .acquire_lease(TRADING_LEASE, &holder, now + length, now)
                    .await
                {
                    Ok(true) => {}
                    Ok(false) => {
                        tracing::warn!(target: "SYSTEM", "trading lease lost (expired before renewal)");
                        break;
                    }
                    Err(e) => {
                        tracing::warn!(target: "SYSTEM", error = %e, "trading lease not renewed")
                    }
                }
            }
        }))
    }

    /// Takes the trading lease for `holder`, waiting while another worker's cycle holds it (at
    /// most the lease's length, after which a dead holder's lease has expired).
    async fn acquire_trading_lease(&self, holder: &str) -> Result<()> {
        let store = &self.svc.store;
        let length = chrono::Duration::seconds(i64::from(self.svc.settings.job_lease_seconds));
        let give_up = Utc::now() + length + chrono::Duration::seconds(5);
        loop {
            let now = Utc::now();
            if store
                .acquire_lease(TRADING_LEASE, holder, now + length, now)
                .await?
            {
                return Ok(());
            }
            if now > give_up {
                return Err(EngineError::failed(
                    "another trading cycle held the lease for too long",
                ));
            }
            // nothing has been done yet: a shutdown may stop the wait
            tokio::select! {
                _ = tokio::time::sleep(Duration::from_millis(500)) => {}
                _ = self.stop.cancelled() => {
                    return Err(EngineError::failed("stopped by shutdown before it started"));
                }
            }
        }
    }
}

/// Pushes every due tick to `queue` once a second until `stop` is cancelled.
pub async fn schedule(queue: Queue, svc: Services, stop: CancellationToken) {
    let plan = Schedule::from_settings(&svc.settings);
    let mut pushed: HashSet<String> = HashSet::new();
    let mut pruned_at: Option<chrono::DateTime<Utc>> = None;
    let mut every = tokio::time::interval(Duration::from_secs(1));
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = stop.cancelled() => break,
            _ = every.tick() => {}
        }
        let now = svc.clock.now();
        for job in plan.due(now) {
            let key = job.key();
            if pushed.contains(&key) {
                continue;
            }
            match queue.push(&job).await {
                Ok(()) => {
                    tracing::debug!(target: "SYSTEM", job = %key, "tick queued (or queued before)");
                    pushed.insert(key);
                }
                Err(e) => {
                    tracing::warn!(target: "SYSTEM", job = %key, error = %e, "tick not queued (retried next second)")
                }
            }
        }
        // job records are kept for JOB_RUNS_KEEP_DAYS; pruned hourly
        if pruned_at.is_none_or(|t| now - t > chrono::Duration::hours(1)) {
            pruned_at = Some(now);
            let before = now - chrono::Duration::days(JOB_RUNS_KEEP_DAYS);
            match svc.store.prune_job_runs(before).await {
                Ok(n) if n > 0 => {
                    tracing::info!(target: "SYSTEM", removed = n, "old job runs pruned")
                }
                Ok(_) => {}
                Err(e) => tracing::warn!(target: "SYSTEM", error = %e, "job runs not pruned"),
            }
        }
        // forget keys of ticks long past
        if pushed.len() > 10_000 {
            pushed.clear();
        }
    }
}
