//! `boz-api`: the HTTP API (layer L2).
//!
//! Log tag: AUTH for sign-in and tokens, SYSTEM otherwise. May depend on: layers L0 and L1,
//! never `boz-engine` or `boz-store`; the binary hands it an `Arc<dyn Store>` and mounts its
//! router beside `/health`.
//!
//! So far: authentication, the settings and trades of the signed-in user ([`resources`]), and
//! the approval queue and trading state ([`trading`]), the weather, predictions and logs
//! ([`data`]), connecting a Kalshi account ([`onboarding`]). [`auth`] signs users in with a session cookie (HttpOnly,
//! SameSite=Strict, Secure when served over TLS) whose every state-changing request must carry
//! the session's CSRF token, or with a personal API token (`Authorization: Bearer`); sign-in
//! attempts are rate-limited per username; every handler gets the signed-in user from
//! [`auth::Authed`] and acts only on that user's data.

pub mod auth;
pub mod dashboard;
pub mod data;
pub mod error;
pub mod metrics;
pub mod onboarding;
pub mod openapi;
pub mod params;
pub mod performance;
pub mod resources;
pub mod trading;

use std::sync::Arc;

use axum::Router;
use axum::routing::{get, post};
use boz_common::ports::{Clock, Store};

/// What the handlers share.
#[derive(Clone)]
pub struct ApiState {
    pub store: Arc<dyn Store>,
    pub clock: Arc<dyn Clock>,
    /// Add `Secure` to the session cookie (the server is reached over TLS).
    pub secure_cookies: bool,
    pub session_hours: i64,
    pub limiter: Arc<auth::LoginLimiter>,
    /// The trading engine for approvals and halts (none: those answer 503).
    pub trader: Option<Arc<dyn trading::Trader>>,
    /// Connecting Kalshi accounts (none: answers 503).
    pub onboarding: Option<onboarding::Onboarding>,
}

impl ApiState {
    pub fn new(store: Arc<dyn Store>, clock: Arc<dyn Clock>, secure_cookies: bool) -> ApiState {
        ApiState {
            store,
            clock,
            secure_cookies,
            session_hours: 12,
            limiter: Arc::new(auth::LoginLimiter::new()),
            trader: None,
            onboarding: None,
        }
    }

    pub fn with_onboarding(mut self, o: onboarding::Onboarding) -> ApiState {
        self.onboarding = Some(o);
        self
    }

    pub fn with_trader(mut self, trader: Arc<dyn trading::Trader>) -> ApiState {
        self.trader = Some(trader);
        self
    }
}

/// The API's routes, under `/api`.
pub fn router(state: ApiState) -> Router {
    metrics::handle();
    Router::new()
        .route("/api/login", post(auth::login))
        .route("/api/logout", post(auth::logout))
        .route("/api/me", get(auth::me))
        .route("/api/password", post(auth::change_password))
        .route(
            "/api/settings",
            get(resources::get_settings).put(resources::put_settings),
        )
        .route("/api/trades", get(resources::list_trades))
        .route("/api/trades/{id}", get(resources::get_trade))
        .route(
            "/api/kalshi",
            get(onboarding::status)
                .post(onboarding::connect)
                .delete(onboarding::disconnect),
        )
        .route("/api/weather", get(data::weather))
        .route("/api/predictions", get(data::predictions))
        .route("/api/logs", get(data::logs))
        .route("/api/signals", get(trading::signals))
        .route("/api/markets", get(trading::markets))
        .route("/api/queue", get(trading::get_queue))
        .route("/api/queue/{id}/approve", post(trading::approve))
        .route("/api/queue/{id}/reject", post(trading::reject))
        .route("/api/trading-state", get(trading::get_state))
        .route("/api/trading-state/halt", post(trading::halt))
        .route("/api/trading-state/resume", post(trading::resume))
        .route("/api/performance", get(performance::performance))
        .route("/api/events", get(dashboard::events))
        .route("/metrics", get(metrics::metrics))
        .route("/", get(dashboard::overview))
        .route("/login", get(dashboard::login_page))
        .route("/markets", get(dashboard::markets_page))
        .route("/markets/{city}/{date}", get(dashboard::market_page))
        .route("/queue", get(dashboard::queue_page))
        .route("/trades", get(dashboard::trades_page))
        .route("/performance", get(dashboard::performance_page))
        .route("/settings", get(dashboard::settings_page))
        .route("/onboarding", get(dashboard::onboarding_page))
        .route("/logs", get(dashboard::logs_page))
        .route("/assets/{name}", get(dashboard::asset))
        .route_layer(axum::middleware::from_fn(metrics::track))
        .merge(
            utoipa_swagger_ui::SwaggerUi::new("/api/docs")
                .url("/api/openapi.json", openapi::document()),
        )
        .with_state(state)
}
