//! Resources of the signed-in user (each reads and writes that user's rows only):
//!
//! - `GET /api/settings`, `PUT /api/settings` (a whole `UserSettings`, validated: 422 naming the
//!   field);
//! - `GET /api/trades?city=&status=&from=&to=&limit=20&offset=0` (newest first; `limit` 1-200)
//!   and `GET /api/trades/{id}` (the trade, its structured post-mortem and the market snapshots
//!   of its event's day); another user's trade is 404.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use boz_common::ports::TradeFilter;
use boz_common::schemas::{UserSettings, UserSettingsFields};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::ApiState;
use crate::auth::Authed;
use crate::error::{ApiError, ApiResult};
use crate::openapi::ErrorBody;
use crate::params::{invalid, opt_city, opt_date};

#[utoipa::path(get, path = "/api/settings", tag = "settings", responses((status = 200, description = "The user's `UserSettings`", body = Object), (status = 401, body = ErrorBody)))]
pub async fn get_settings(State(state): State<ApiState>, authed: Authed) -> ApiResult<Json<Value>> {
    let user = state.store.get_user(&authed.user_id).await?;
    Ok(Json(user.settings))
}

#[utoipa::path(put, path = "/api/settings", tag = "settings", request_body(content = Object, description = "A whole `UserSettings`"), responses((status = 200, description = "The stored `UserSettings`", body = Object), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn put_settings(
    State(state): State<ApiState>,
    authed: Authed,
    body: Bytes,
) -> ApiResult<Json<UserSettings>> {
    let fields: UserSettingsFields = crate::params::json_body(&body)?;
    let settings = UserSettings::new(fields).map_err(|e| ApiError(e.into()))?;
    state
        .store
        .update_user_settings(&authed.user_id, &settings)
        .await?;
    tracing::info!(target: "TRADING", user_id = %authed.user_id, "settings changed");
    Ok(Json(settings))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct TradeQuery {
    pub city: Option<String>,
    pub status: Option<String>,
    pub from: Option<String>,
    pub to: Option<String>,
    pub limit: Option<i64>,
    pub offset: Option<i64>,
}

#[utoipa::path(get, path = "/api/trades", tag = "trades", params(TradeQuery), responses((status = 200, description = "`{trades: [TradeRecord], limit, offset}`, newest first", body = Object), (status = 401, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn list_trades(
    State(state): State<ApiState>,
    authed: Authed,
    Query(q): Query<TradeQuery>,
) -> ApiResult<Json<Value>> {
    let limit = q.limit.unwrap_or(20);
    if !(1..=200).contains(&limit) {
        return Err(invalid("limit", format!("must be 1 to 200, got {limit}")));
    }
    let offset = q.offset.unwrap_or(0);
    if offset < 0 {
        return Err(invalid(
            "offset",
            format!("must not be negative, got {offset}"),
        ));
    }
    let city = opt_city(q.city.as_deref())?;
    let status = crate::params::opt_status(q.status.as_deref())?;
    let filter = TradeFilter {
        city,
        status,
        from: opt_date("from", q.from.as_deref())?,
        to: opt_date("to", q.to.as_deref())?,
        limit: u32::try_from(limit).map_err(|_| invalid("limit", "out of range"))?,
        offset: u32::try_from(offset).map_err(|_| invalid("offset", "out of range"))?,
    };
    let trades = state.store.list_trades(&authed.user_id, &filter).await?;
    let records: Vec<&boz_common::schemas::TradeRecord> =
        trades.iter().map(|t| &t.record).collect();
    Ok(Json(
        json!({"trades": records, "limit": limit, "offset": offset}),
    ))
}

#[utoipa::path(get, path = "/api/trades/{id}", tag = "trades", params(("id" = String, Path, description = "Trade id")), responses((status = 200, description = "`{trade, postmortem, snapshots}`", body = Object), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn get_trade(
    State(state): State<ApiState>,
    authed: Authed,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let t = state.store.get_trade(&authed.user_id, &id).await?;
    let postmortem = state.store.get_postmortem(&authed.user_id, &id).await?;
    let r = &t.record;
    let snapshots = state
        .store
        .market_snapshots_between(&r.city, r.date, r.date)
        .await?;
    let snapshots: Vec<Value> = snapshots
        .iter()
        .map(|s| {
            json!({"ticker": s.ticker, "as_of": s.as_of, "yes_bid": s.yes_bid, "yes_ask": s.yes_ask,
                   "last_price": s.last_price, "lower_bound_f": s.lower_bound_f,
                   "upper_bound_f": s.upper_bound_f, "source": s.source})
        })
        .collect();
    Ok(Json(
        json!({"trade": r, "postmortem": postmortem, "snapshots": snapshots}),
    ))
}
