//! `boz run`: everything in one process. For now: migrate the database, ship logs to
//! `log_entries`, and serve `/health` on `BOZ_BIND` until SIGINT or SIGTERM. The pipeline jobs,
//! the API and the dashboard join this process as their issues land.

use std::sync::Arc;

use anyhow::{Context, Result};
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use boz_common::error::error_body;
use boz_common::ports::{LogSink, Store};
use serde_json::{Value, json};

use crate::setup;

#[derive(Clone)]
struct AppState {
    store: Arc<dyn Store>,
}

async fn health(State(state): State<AppState>) -> (StatusCode, Json<Value>) {
    match state.store.ping().await {
        Ok(()) => (
            StatusCode::OK,
            Json(json!({
                "status": "ok",
                "database": {"backend": state.store.backend(), "reachable": true}
            })),
        ),
        Err(e) => {
            tracing::error!(error = %e, "health check: database unreachable");
            let (_, body) = error_body(&e);
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(json!({
                    "status": "unavailable",
                    "database": {"backend": state.store.backend(), "reachable": false},
                    "error": body
                })),
            )
        }
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
    tracing::info!("shutdown requested");
}

pub async fn run() -> Result<()> {
    let settings = setup::settings()?;
    let key = setup::master_key(&settings)?;
    let telemetry = setup::telemetry(&settings, vec![key.text.to_string()])?;
    setup::report_key_source(&key);

    let db = setup::database(&settings).await?;
    let applied = db.migrate().await?;
    let store = db.store();
    telemetry.attach_sink(store.clone() as Arc<dyn LogSink>);
    tracing::info!(
        backend = store.backend(),
        database = %settings.database_url.redacted(),
        migrations_applied = applied.len(),
        "Boz Weather Trader starting"
    );

    let app = Router::new()
        .route("/health", get(health))
        .with_state(AppState { store });
    let listener = tokio::net::TcpListener::bind(settings.bind)
        .await
        .with_context(|| format!("cannot listen on BOZ_BIND={}", settings.bind))?;
    let address = listener.local_addr()?;
    tracing::info!(address = %address, "listening");
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown_signal())
        .await
        .context("HTTP server failed")?;
    tracing::info!("stopped");
    telemetry.flush().await;
    db.close().await;
    Ok(())
}
