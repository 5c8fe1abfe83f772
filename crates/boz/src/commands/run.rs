//! `boz run`, `boz serve`, `boz worker`.
//!
//! - `boz run`: everything in one process: the HTTP server (`/health` and the API's
//!   authentication so far),
//!   the scheduler and the workers. SQLite by default (the job queue in a file of its own
//!   beside the database), the paper exchange unless TRADING_VENUE says otherwise.
//! - `boz serve`: the HTTP server and a scheduler; `boz worker`: a scheduler and the workers.
//!   Any number of each share one PostgreSQL database; every tick runs once (the queue refuses a
//!   tick's second push), a dead worker's job runs again on another, one trading cycle runs at
//!   a time.
//!
//! On first start an `admin` login (for the local user) is created and its one-time password
//! printed once on standard output (never logged). SIGINT or SIGTERM stops taking jobs, waits
//! for the running ones (no order is left between sending and recording), then exits.

use std::sync::Arc;

use anyhow::{Context, Result};
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use boz_common::ports::{LogSink, SystemClock};
use boz_engine::queue::Queue;
use boz_engine::runtime::{Runner, schedule, worker_name};
use boz_engine::services::Services;
use serde_json::Value;
use tokio_util::sync::CancellationToken;

use crate::setup;

/// Which pieces a process runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// `boz run`: server, scheduler and workers.
    All,
    /// `boz serve`: server and scheduler.
    Serve,
    /// `boz worker`: scheduler and workers.
    Worker,
}

impl Role {
    fn name(self) -> &'static str {
        match self {
            Role::All => "run",
            Role::Serve => "serve",
            Role::Worker => "worker",
        }
    }
    fn serves(self) -> bool {
        self != Role::Worker
    }
    fn works(self) -> bool {
        self != Role::Serve
    }
}

async fn health(State(svc): State<Services>) -> (StatusCode, Json<Value>) {
    let h = boz_engine::health::check(&svc).await;
    if !h.healthy {
        tracing::warn!(reasons = ?h.reasons, "unhealthy");
    }
    let code = if h.healthy {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (code, Json(h.body))
}

/// Resolves on SIGINT or SIGTERM. The handlers are installed at once (a signal that arrives
/// before the future is first polled is not lost, and never kills the process).
fn shutdown_signal() -> Result<impl std::future::Future<Output = ()>> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut term = signal(SignalKind::terminate()).context("cannot handle SIGTERM")?;
    let mut int = signal(SignalKind::interrupt()).context("cannot handle SIGINT")?;
    Ok(async move {
        tokio::select! {
            _ = term.recv() => {},
            _ = int.recv() => {},
        }
        tracing::info!("shutdown requested");
    })
}

pub async fn run(role: Role) -> Result<()> {
    let shutdown = shutdown_signal()?;
    let settings = setup::settings()?;
    let key = setup::master_key(&settings)?;
    let telemetry = setup::telemetry(&settings, vec![key.text.to_string()])?;
    setup::report_key_source(&key);

    // demo and live trade with the installation's Kalshi key: refuse to start without one
    if settings.trading_venue != boz_common::config::TradingVenue::Paper
        && boz_engine::services::kalshi_credentials(&settings)?.is_none()
    {
        anyhow::bail!(
            "TRADING_VENUE={} needs Kalshi credentials: set KALSHI_API_KEY_ID and KALSHI_PRIVATE_KEY_PATH (or KALSHI_PRIVATE_KEY)",
            settings.trading_venue.as_str()
        );
    }

    let db = setup::database(&settings).await?;
    let applied = db.migrate().await?;
    let store = db.store();
    telemetry.attach_sink(store.clone() as Arc<dyn LogSink>);
    tracing::info!(
        role = role.name(),
        backend = store.backend(),
        database = %settings.database_url.redacted(),
        venue = settings.trading_venue.as_str(),
        migrations_applied = applied.len(),
        "Boz Weather Trader starting"
    );
    let svc = Services::new(
        Arc::new(settings.clone()),
        store.clone(),
        Arc::new(SystemClock),
        setup::cities(&[])?,
    )?;
    if role.serves()
        && let Some(password) = boz_engine::services::ensure_admin(&store, &settings).await?
    {
        println!(
            "Created the admin login `{}` with the one-time password: {password}\n\
             It is shown only this once; you will be asked to change it at first sign-in.",
            boz_engine::services::ADMIN_LOGIN
        );
    } else {
        boz_engine::services::ensure_local_user(&store, &settings).await?;
    }

    let heartbeat = std::time::Duration::from_secs(u64::from(settings.job_heartbeat_seconds));
    let queue = Queue::open(&settings.database_url, heartbeat)
        .await
        .context("the job queue")?;
    let stop = CancellationToken::new();
    let scheduler = tokio::spawn(schedule(queue.clone(), svc.clone(), stop.clone()));
    // the book watch (with Kalshi credentials) asks for trading cycles when books move
    let (moved_tx, mut moved_rx) = tokio::sync::mpsc::unbounded_channel();
    let watcher = role.serves().then(|| {
        tokio::spawn(boz_engine::watch::watch_books(
            svc.clone(),
            moved_tx,
            stop.clone(),
        ))
    });
    let forwarder = {
        let q = queue.clone();
        tokio::spawn(async move {
            while let Some(job) = moved_rx.recv().await {
                if let Err(e) = q.push(&job).await {
                    tracing::warn!(error = %e, "trading cycle after a book move not queued");
                }
            }
        })
    };
    let workers = if role.works() {
        let runner = Arc::new(Runner::new(
            svc.clone(),
            worker_name(role.name()),
            Some(queue.clone()),
            stop.clone(),
        ));
        tracing::info!(worker = %runner.worker, concurrency = settings.worker_concurrency, "workers started");
        let q = queue.clone();
        let s = stop.clone();
        let n = settings.worker_concurrency as usize;
        Some(tokio::spawn(async move { q.work(runner, n, s).await }))
    } else {
        None
    };

    if role.serves() {
        let api = boz_api::ApiState::new(store.clone(), svc.clock.clone(), settings.secure_cookies)
            .with_trader(Arc::new(crate::trader::EngineTrader::new(svc.clone())))
            .with_onboarding(boz_api::onboarding::Onboarding {
                vault: Arc::new(boz_crypto::KeyVault::new(&key.text)?),
                base_url: settings.kalshi_base_url.clone(),
                timeout: std::time::Duration::from_secs(u64::from(settings.http_timeout_seconds)),
            });
        let app = Router::new()
            .route("/health", get(health))
            .with_state(svc.clone())
            .merge(boz_api::router(api));
        let listener = tokio::net::TcpListener::bind(settings.bind)
            .await
            .with_context(|| format!("cannot listen on BOZ_BIND={}", settings.bind))?;
        let address = listener.local_addr()?;
        tracing::info!(address = %address, "listening");
        axum::serve(listener, app)
            .with_graceful_shutdown(shutdown)
            .await
            .context("HTTP server failed")?;
    } else {
        shutdown.await;
    }
    stop.cancel();
    let _ = scheduler.await;
    if let Some(w) = watcher {
        let _ = w.await;
    }
    let _ = forwarder.await;
    if let Some(w) = workers {
        tracing::info!("waiting for running jobs");
        match w.await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => tracing::error!(error = %e, "workers stopped with an error"),
            Err(e) => tracing::error!(error = %e, "workers task failed"),
        }
    }
    tracing::info!("stopped");
    telemetry.flush().await;
    db.close().await;
    Ok(())
}
