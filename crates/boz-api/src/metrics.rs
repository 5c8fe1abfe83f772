//! Prometheus metrics at `GET /metrics` (text format, no sign-in: counts only, no user data).
//!
//! The process installs one `metrics` recorder (the first router built does it); the engine
//! records job runs into it with the `metrics` macros, and [`track`] records every HTTP request:
//! `boz_http_requests_total{method,route,status}` and the summary
//! `boz_http_request_duration_seconds{method,route}` (the route pattern, never the raw path,
//! so ids cannot blow up the label set).

use std::sync::OnceLock;
use std::time::Instant;

use axum::extract::{MatchedPath, Request};
use axum::http::header::CONTENT_TYPE;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};

static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();

/// The process's recorder (installed on first use; when another recorder is already installed,
/// a private one whose output holds only what is recorded through it).
pub fn handle() -> &'static PrometheusHandle {
    HANDLE.get_or_init(|| {
        let builder = PrometheusBuilder::new();
        match builder.install_recorder() {
            Ok(h) => h,
            Err(e) => {
                tracing::warn!(target: "SYSTEM", error = %e, "metrics recorder not installed");
                PrometheusBuilder::new().build_recorder().handle()
            }
        }
    })
}

/// `GET /metrics`.
#[utoipa::path(get, path = "/metrics", tag = "system", security(()),
    responses((status = 200, description = "Prometheus text format", content_type = "text/plain")))]
pub async fn metrics() -> Response {
    let h = handle();
    h.run_upkeep();
    (
        [(CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")],
        h.render(),
    )
        .into_response()
}

/// Middleware counting and timing every request by its route pattern.
pub async fn track(req: Request, next: Next) -> Response {
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|m| m.as_str().to_string())
        .unwrap_or_else(|| "unmatched".to_string());
    let method = req.method().as_str().to_string();
    let start = Instant::now();
    let resp = next.run(req).await;
    let status = resp.status().as_u16().to_string();
    metrics::counter!("boz_http_requests_total", "method" => method.clone(), "route" => route.clone(), "status" => status)
        .increment(1);
    metrics::histogram!("boz_http_request_duration_seconds", "method" => method, "route" => route)
        .record(start.elapsed().as_secs_f64());
    resp
}
