//! The OpenAPI document, generated from the handlers' `#[utoipa::path]` annotations, served at
//! `/api/openapi.json` with a Swagger UI page at `/api/docs` (its assets are compiled into the
//! binary from the `utoipa-swagger-ui-vendored` crate: no CDN, works offline).
//!
//! A snapshot test (`tests/openapi.rs`) compares the document with `openapi.snapshot.json` and
//! fails when the API changes by accident; after a deliberate change run it with
//! `BOZ_UPDATE_SNAPSHOT=1` and commit the new snapshot.

use serde_json::{Map, Value};
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use crate::{auth, data, metrics, onboarding, performance, resources, trading};

/// The seed's error body: `{"error": "ValidationError", "message": "...", "context": {...}}`.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)] // a schema only: the body is built by `boz_common::error::error_body`
pub struct ErrorBody {
    /// The error's kind (`ValidationError`, `AuthenticationError`, `PermissionError`, ...).
    error: String,
    message: String,
    /// e.g. `{"field": "max_daily_exposure"}` for a validation error.
    #[schema(value_type = Object)]
    context: Map<String, Value>,
}

/// `GET /health`: served by the binary (it needs the engine); described here so the document
/// covers every route.
#[utoipa::path(get, path = "/health", tag = "system", security(()),
    responses((status = 200, description = "Healthy: database, jobs and data sources", body = Object),
        (status = 503, description = "Unhealthy, with the reasons", body = Object)))]
#[allow(dead_code)]
fn health() {}

struct Security;

impl Modify for Security {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let c = openapi.components.get_or_insert_with(Default::default);
        c.add_security_scheme(
            "session",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::with_description(
                auth::COOKIE_NAME,
                "The session cookie set by POST /api/login; state-changing requests also send \
                 the session's CSRF token in X-CSRF-Token",
            ))),
        );
        c.add_security_scheme(
            "token",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some("A personal API token (boz user token)"))
                    .build(),
            ),
        );
    }
}

#[derive(OpenApi)]
#[openapi(
    info(title = "Boz Weather Trader API", description = "Kalshi daily-high temperature trading: \
        forecasts, predictions, markets, the approval queue, trades, settlement and performance. \
        Errors have the body `ErrorBody`."),
    modifiers(&Security),
    security(("session" = []), ("token" = [])),
    paths(
        auth::login, auth::logout, auth::me, auth::change_password,
        resources::get_settings, resources::put_settings, resources::list_trades, resources::get_trade,
        data::weather, data::predictions, data::logs,
        trading::get_queue, trading::approve, trading::reject, trading::get_state, trading::halt,
        trading::resume, trading::signals, trading::markets,
        onboarding::status, onboarding::connect, onboarding::disconnect,
        performance::performance, metrics::metrics, health,
    ),
    tags(
        (name = "auth", description = "Sign-in, sessions, passwords"),
        (name = "settings"), (name = "trades"), (name = "trading", description = "Markets, signals, the approval queue, halting"),
        (name = "data", description = "Weather, predictions, logs"),
        (name = "onboarding", description = "Connecting a Kalshi account"),
        (name = "performance"), (name = "system", description = "Health and metrics"),
    )
)]
pub struct ApiDoc;

/// The document as served.
pub fn document() -> utoipa::openapi::OpenApi {
    let mut doc = ApiDoc::openapi();
    doc.info.version = env!("CARGO_PKG_VERSION").to_string();
    doc
}
