//! The approval queue and the trading state of the signed-in user:
//!
//! - `GET /api/queue` (the user's PENDING trades, with their signal and time to live);
//!   `POST /api/queue/{id}/approve` `{"limit_price": "0.40"}` (optional; the book is read again
//!   and EV and risk re-run before the order: 422 with the reason when it no longer passes, 409
//!   when it is no longer pending); `POST /api/queue/{id}/reject` `{"reason": "..."}`;
//! - `GET /api/trading-state` (today's exposure, realised P&L, losing streak, ACTIVE /
//!   REDUCING / HALTED and why); `POST /api/trading-state/halt` `{"reason": "..."}`;
//!   `POST /api/trading-state/resume`.
//!
//! Orders go through a [`Trader`] the binary provides (the trading engine on the configured
//! venue); a process without one answers 503.

use std::sync::Arc;

use async_trait::async_trait;
use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use boz_common::error::ErrorKind;
use boz_common::ports::OrderRecord;
use boz_common::{BozError, Price, ValidationError};
use boz_trading::engine::Candidate;
use boz_trading::risk::trading_day;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::ApiState;
use crate::auth::Authed;
use crate::error::{ApiError, ApiResult};
use crate::openapi::ErrorBody;

/// What the API asks of the trading engine, for one user.
#[async_trait]
pub trait Trader: Send + Sync {
    async fn approve(
        &self,
        user_id: &str,
        id: &str,
        by: &str,
        limit_price: Option<Price>,
    ) -> Result<OrderRecord, BozError>;
    async fn reject(
        &self,
        user_id: &str,
        id: &str,
        by: &str,
        reason: Option<&str>,
    ) -> Result<(), BozError>;
    async fn halt(&self, user_id: &str, by: &str, reason: &str) -> Result<(), BozError>;
    async fn resume(&self, user_id: &str, by: &str) -> Result<(), BozError>;
    /// Every candidate of the user's open events with its price, probability, EV after fees
    /// and verdict, and what could not be judged.
    async fn signals(&self, user_id: &str) -> Result<(Vec<Candidate>, Vec<String>), BozError>;
}

fn trader(state: &ApiState) -> ApiResult<Arc<dyn Trader>> {
    state.trader.clone().ok_or_else(|| {
        ApiError(BozError::new(
            ErrorKind::UpstreamError,
            "trading is not available in this process",
            serde_json::Map::new(),
        ))
    })
}

fn who(a: &Authed) -> String {
    a.username
        .clone()
        .unwrap_or_else(|| format!("token:{}", a.user_id))
}

#[utoipa::path(get, path = "/api/queue", tag = "trading", responses((status = 200, description = "`{queue: [PendingTrade + time left]}`", body = Object), (status = 401, body = ErrorBody)))]
pub async fn get_queue(State(state): State<ApiState>, authed: Authed) -> ApiResult<Json<Value>> {
    Ok(Json(
        json!({"queue": queue_items(&state, &authed.user_id).await?}),
    ))
}

/// The user's pending trades, each with `seconds_left` (also the dashboard's queue).
pub async fn queue_items(state: &ApiState, user_id: &str) -> ApiResult<Vec<Value>> {
    let list = state.store.list_approvals(user_id, true).await?;
    let now = state.clock.now();
    Ok(list
        .iter()
        .map(|a| {
            let mut v = serde_json::to_value(&a.pending).unwrap_or(Value::Null);
            v["seconds_left"] = json!((a.pending.expires_at - now).num_seconds().max(0));
            v
        })
        .collect())
}

#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
pub struct Approve {
    /// The highest price to pay, e.g. "0.4500" (default: the queued price).
    #[schema(value_type = Option<String>)]
    pub limit_price: Option<Price>,
}

#[utoipa::path(post, path = "/api/queue/{id}/approve", tag = "trading", params(("id" = String, Path, description = "Queued trade id")), request_body(content = Approve, description = "Optional limit price"), responses((status = 200, description = "The order placed", body = Object), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody), (status = 503, body = ErrorBody)))]
pub async fn approve(
    State(state): State<ApiState>,
    authed: Authed,
    Path(id): Path<String>,
    b: Bytes,
) -> ApiResult<Json<OrderRecord>> {
    let req: Approve = crate::params::optional_json_body(&b)?;
    let t = trader(&state)?;
    let order = t
        .approve(&authed.user_id, &id, &who(&authed), req.limit_price)
        .await?;
    Ok(Json(order))
}

#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
pub struct Reason {
    pub reason: Option<String>,
}

#[utoipa::path(post, path = "/api/queue/{id}/reject", tag = "trading", params(("id" = String, Path, description = "Queued trade id")), request_body(content = Reason), responses((status = 204, description = "Rejected"), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 503, body = ErrorBody)))]
pub async fn reject(
    State(state): State<ApiState>,
    authed: Authed,
    Path(id): Path<String>,
    b: Bytes,
) -> ApiResult<StatusCode> {
    let req: Reason = crate::params::optional_json_body(&b)?;
    trader(&state)?
        .reject(&authed.user_id, &id, &who(&authed), req.reason.as_deref())
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(get, path = "/api/trading-state", tag = "trading", responses((status = 200, description = "`RiskStatus`: halted or not, the day's P&L and exposure", body = Object), (status = 401, body = ErrorBody)))]
pub async fn get_state(State(state): State<ApiState>, authed: Authed) -> ApiResult<Json<Value>> {
    let day = trading_day(state.clock.now());
    let status = state.store.risk_status(&authed.user_id, day).await?;
    Ok(Json(serde_json::to_value(&status).map_err(|e| {
        ApiError(BozError::internal(e.to_string()))
    })?))
}

#[utoipa::path(post, path = "/api/trading-state/halt", tag = "trading", request_body(content = Reason), responses((status = 204, description = "Halted"), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 503, body = ErrorBody)))]
pub async fn halt(
    State(state): State<ApiState>,
    authed: Authed,
    b: Bytes,
) -> ApiResult<StatusCode> {
    let req: Reason = crate::params::optional_json_body(&b)?;
    let reason = req
        .reason
        .filter(|r| !r.trim().is_empty())
        .ok_or_else(|| ApiError(ValidationError::new("reason", "say why trading stops").into()))?;
    trader(&state)?
        .halt(&authed.user_id, &who(&authed), &reason)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(post, path = "/api/trading-state/resume", tag = "trading", responses((status = 204, description = "Resumed"), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 503, body = ErrorBody)))]
pub async fn resume(State(state): State<ApiState>, authed: Authed) -> ApiResult<StatusCode> {
    trader(&state)?
        .resume(&authed.user_id, &who(&authed))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(get, path = "/api/signals", tag = "trading", responses((status = 200, description = "`{candidates, errors}`: every side judged", body = Object), (status = 401, body = ErrorBody), (status = 503, body = ErrorBody)))]
pub async fn signals(State(state): State<ApiState>, authed: Authed) -> ApiResult<Json<Value>> {
    let (candidates, errors) = trader(&state)?.signals(&authed.user_id).await?;
    Ok(Json(json!({"candidates": candidates, "errors": errors})))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct MarketQuery {
    pub city: Option<String>,
}

/// The open events of the user's cities: each bracket with both sides' executable price, the
/// model's probability and the EV after fees, from the same judgement as the signals.
#[utoipa::path(get, path = "/api/markets", tag = "trading", params(MarketQuery), responses((status = 200, description = "`{events: [{event_ticker, brackets: [{ticker, bracket, yes, no}]}], errors}`", body = Object), (status = 401, body = ErrorBody), (status = 422, body = ErrorBody), (status = 503, body = ErrorBody)))]
pub async fn markets(
    State(state): State<ApiState>,
    authed: Authed,
    axum::extract::Query(q): axum::extract::Query<MarketQuery>,
) -> ApiResult<Json<Value>> {
    // a city's events are those of its Kalshi series
    let series = match q.city.as_deref() {
        Some(c) => {
            let code = crate::params::city(c)?;
            let city = code.city().ok_or_else(|| {
                crate::params::invalid("city", format!("{code} is not configured"))
            })?;
            Some(format!("{}-", city.kalshi_series))
        }
        None => None,
    };
    Ok(Json(
        market_events(&state, &authed.user_id, series.as_deref()).await?,
    ))
}

/// The open events (of one series when given: `KXHIGHNY-`) with each bracket's sides:
/// `{events: [{event_ticker, brackets: [{ticker, bracket, yes, no}]}], errors}` (also the
/// dashboard's market pages).
pub async fn market_events(
    state: &ApiState,
    user_id: &str,
    series: Option<&str>,
) -> ApiResult<Value> {
    let (candidates, errors) = trader(state)?.signals(user_id).await?;
    let mut events: std::collections::BTreeMap<String, std::collections::BTreeMap<String, Value>> =
        std::collections::BTreeMap::new();
    for c in &candidates {
        if series.is_some_and(|s| !c.event_ticker.starts_with(s)) {
            continue;
        }
        let b = events
            .entry(c.event_ticker.clone())
            .or_default()
            .entry(c.ticker.clone())
            .or_insert_with(|| json!({"ticker": c.ticker}));
        b["bracket"] = serde_json::to_value(&c.bracket).unwrap_or(Value::Null);
        b[c.side.as_str()] = json!({
            "price": c.price, "model_probability": c.probability, "ev": c.ev, "verdict": c.verdict,
        });
    }
    let list: Vec<Value> = events
        .into_iter()
        .map(|(e, brackets)| json!({"event_ticker": e, "brackets": brackets.into_values().collect::<Vec<_>>()}))
        .collect();
    Ok(json!({"events": list, "errors": errors}))
}
