//! Shared data every signed-in user may read (the weather and the model are the same for
//! everyone), and the logs (admins only: they are the whole installation's):
//!
//! - `GET /api/weather?city=NYC&date=YYYY-MM-DD` — the newest forecast of each source for each
//!   city (or one city) and climate date (default: the city's climate day today and the next
//!   two days), with its age in seconds;
//! - `GET /api/predictions?city=NYC&date=YYYY-MM-DD` — the newest stored prediction of the
//!   city's event of that date, with its provenance (404 when none);
//! - `GET /api/logs?module=TRADING&level=WARN&since=RFC3339&limit=100` — newest first, limit
//!   1-1000.

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::{Query, State};
use boz_common::ports::LogFilter;
use boz_common::{BozError, CityCode};
use chrono::{DateTime, Duration, NaiveDate, Utc};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::ApiState;
use crate::auth::Authed;
use crate::error::{ApiError, ApiResult};
use crate::openapi::ErrorBody;
use crate::params::{city, date, invalid, opt_date};

#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct CityDate {
    pub city: Option<String>,
    pub date: Option<String>,
}

#[utoipa::path(get, path = "/api/weather", tag = "data", params(CityDate), responses((status = 200, description = "The newest forecast of each source per city and date, with its age", body = Object), (status = 401, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn weather(
    State(state): State<ApiState>,
    _authed: Authed,
    Query(q): Query<CityDate>,
) -> ApiResult<Json<Value>> {
    let now = state.clock.now();
    let cities: Vec<CityCode> = match &q.city {
        Some(c) => vec![city(c)?],
        None => boz_common::city::registry()
            .all()
            .iter()
            .map(|c| c.code())
            .collect(),
    };
    let asked = opt_date("date", q.date.as_deref())?;
    let mut out = Vec::new();
    for c in &cities {
        // the date asked, or the city's own climate day and the next two
        let dates: Vec<NaiveDate> = match (asked, c.city()) {
            (Some(d), _) => vec![d],
            (None, Some(city)) => {
                let today = city.climate_date(now);
                (0..3).map(|i| today + Duration::days(i)).collect()
            }
            (None, None) => Vec::new(),
        };
        for d in &dates {
            let rows = state.store.forecasts_for(c, *d).await?;
            let mut newest: BTreeMap<&str, &boz_common::schemas::WeatherData> = BTreeMap::new();
            for r in &rows {
                let w = &r.data;
                if newest.get(w.source.as_str()).is_none_or(|n| {
                    (w.fetched_at, w.model_run_timestamp) > (n.fetched_at, n.model_run_timestamp)
                }) {
                    newest.insert(&w.source, w);
                }
            }
            for w in newest.values() {
                let mut v = serde_json::to_value(w)
                    .map_err(|e| ApiError(BozError::internal(e.to_string())))?;
                v["age_seconds"] = json!((now - w.fetched_at).num_seconds());
                out.push(v);
            }
        }
    }
    Ok(Json(json!({"weather": out})))
}

#[utoipa::path(get, path = "/api/predictions", tag = "data", params(CityDate), responses((status = 200, description = "The newest `BracketPrediction` with its provenance", body = Object), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn predictions(
    State(state): State<ApiState>,
    _authed: Authed,
    Query(q): Query<CityDate>,
) -> ApiResult<Json<Value>> {
    let c = city(
        q.city
            .as_deref()
            .ok_or_else(|| invalid("city", "is required"))?,
    )?;
    let d = date(
        "date",
        q.date
            .as_deref()
            .ok_or_else(|| invalid("date", "is required"))?,
    )?;
    let p = state
        .store
        .latest_prediction(&c, d)
        .await?
        .ok_or_else(|| ApiError(BozError::not_found("prediction", format!("{c} {d}"))))?;
    Ok(Json(
        json!({"prediction": p.prediction, "provenance": p.provenance}),
    ))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct LogQuery {
    pub module: Option<String>,
    pub level: Option<String>,
    pub since: Option<String>,
    pub limit: Option<u32>,
}

#[utoipa::path(get, path = "/api/logs", tag = "data", params(LogQuery), responses((status = 200, description = "`{logs: [LogEntry]}`, newest first", body = Object), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn logs(
    State(state): State<ApiState>,
    authed: Authed,
    Query(q): Query<LogQuery>,
) -> ApiResult<Json<Value>> {
    let admin = match &authed.username {
        Some(u) => state
            .store
            .get_login(u)
            .await?
            .is_some_and(|l| l.role == "admin"),
        None => false,
    };
    if !admin {
        return Err(ApiError(BozError::new(
            boz_common::error::ErrorKind::PermissionError,
            "the logs are for admins (they cover the whole installation)",
            serde_json::Map::new(),
        )));
    }
    let limit = q.limit.unwrap_or(100);
    if !(1..=1000).contains(&limit) {
        return Err(invalid("limit", format!("must be 1 to 1000, got {limit}")));
    }
    let since = q
        .since
        .as_deref()
        .map(|s| {
            DateTime::parse_from_rfc3339(s)
                .map(|t| t.with_timezone(&Utc))
                .map_err(|_| invalid("since", format!("{s:?} is not an RFC 3339 time")))
        })
        .transpose()?;
    let filter = LogFilter {
        module: q.module.map(|m| m.to_ascii_uppercase()),
        level: q.level.map(|l| l.to_ascii_uppercase()),
        since,
        limit,
    };
    let logs = state.store.recent_logs(&filter).await?;
    Ok(Json(json!({"logs": logs})))
}
