//! The web dashboard: server-rendered pages (minijinja templates compiled into the binary) with
//! a little JavaScript (`assets/app.js`) and the vendored uPlot chart library; no CDN, works
//! offline, laid out for a phone as well as a desktop.
//!
//! Pages (signed-in by session; without one they redirect to `/login`):
//! `/` overview (P&L, exposure against limits, trading state with halt/resume, data-source
//! health), `/markets` and `/markets/{city}/{date}` (each bracket's model probability against
//! the market price as bars, with the EV of each side), `/queue` (approve/reject, time left),
//! `/trades` (with post-mortems), `/performance` (P&L curve, calibration plot), `/settings`,
//! `/onboarding`, `/logs` (admins).
//!
//! Every action goes through the JSON API with the session's CSRF token (a `<meta>` of each
//! page). Live updates: `GET /api/events` is a server-sent-event stream that names what changed
//! (`queue`, `trades`, `prices`); a page that shows that data fetches itself again and swaps its
//! content. Pages are sent with a strict Content-Security-Policy (scripts from this origin only)
//! and may not be framed.

use std::convert::Infallible;
use std::sync::LazyLock;
use std::time::Duration;

use axum::extract::{FromRequestParts, Path, Query, State};
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use axum::http::request::Parts;
use axum::http::{HeaderName, HeaderValue, StatusCode, Uri};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{Html, IntoResponse, Redirect, Response};
use boz_common::ports::{LogFilter, TradeFilter};
use boz_common::{BozError, CityCode};
use boz_trading::risk::trading_day;
use futures::Stream;
use minijinja::{Environment, context};
use serde::Deserialize;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::ApiState;
use crate::auth::{Authed, Via};
use crate::error::{ApiError, ApiResult};
use crate::performance::performance_of;
use crate::trading::{market_events, queue_items};

/// The vendored uPlot (MIT), for pages made elsewhere (the backtest report) to inline.
pub const UPLOT_JS: &str = include_str!("../assets/vendor/uPlot.iife.min.js");
pub const UPLOT_CSS: &str = include_str!("../assets/vendor/uPlot.min.css");

/// How often the event stream looks for changes.
pub const EVENT_POLL: Duration = Duration::from_secs(2);

static TEMPLATES: LazyLock<Environment<'static>> = LazyLock::new(|| {
    let mut env = Environment::new();
    env.add_filter("money", money);
    for (name, src) in [
        ("base.html", include_str!("../templates/base.html")),
        ("login.html", include_str!("../templates/login.html")),
        ("overview.html", include_str!("../templates/overview.html")),
        ("markets.html", include_str!("../templates/markets.html")),
        ("market.html", include_str!("../templates/market.html")),
        ("queue.html", include_str!("../templates/queue.html")),
        (
            "queue_items.html",
            include_str!("../templates/queue_items.html"),
        ),
        ("trades.html", include_str!("../templates/trades.html")),
        (
            "performance.html",
            include_str!("../templates/performance.html"),
        ),
        ("settings.html", include_str!("../templates/settings.html")),
        (
            "onboarding.html",
            include_str!("../templates/onboarding.html"),
        ),
        ("logs.html", include_str!("../templates/logs.html")),
        ("error.html", include_str!("../templates/error.html")),
    ] {
        if let Err(e) = env.add_template(name, src) {
            tracing::error!(target: "SYSTEM", template = name, error = %e, "dashboard template broken");
        }
    }
    env
});

/// Dollars for display: `$1.23`, `-$0.40` (to the cent; the API has the exact amounts).
fn money(v: minijinja::Value) -> String {
    let x = f64::try_from(v).unwrap_or(0.0);
    if x < 0.0 {
        format!("-${:.2}", -x)
    } else {
        format!("${x:.2}")
    }
}

const CSP: &str = "default-src 'self'; img-src 'self' data:; style-src 'self'; \
                   script-src 'self'; connect-src 'self'; frame-ancestors 'none'; \
                   form-action 'self'; base-uri 'none'";

fn page_headers(resp: &mut Response) {
    let h = resp.headers_mut();
    h.insert(
        HeaderName::from_static("content-security-policy"),
        HeaderValue::from_static(CSP),
    );
    h.insert(
        HeaderName::from_static("x-frame-options"),
        HeaderValue::from_static("DENY"),
    );
    h.insert(
        HeaderName::from_static("x-content-type-options"),
        HeaderValue::from_static("nosniff"),
    );
    h.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
}

fn render(name: &str, ctx: minijinja::Value) -> Response {
    let html = TEMPLATES.get_template(name).and_then(|t| t.render(ctx));
    let mut resp = match html {
        Ok(h) => Html(h).into_response(),
        Err(e) => {
            tracing::error!(target: "SYSTEM", template = name, error = %e, "page not rendered");
            (StatusCode::INTERNAL_SERVER_ERROR, "page not rendered").into_response()
        }
    };
    page_headers(&mut resp);
    resp
}

/// The signed-in viewer of a page.
#[derive(Clone)]
pub struct Viewer {
    user_id: String,
    username: String,
    csrf: String,
    admin: bool,
}

impl FromRequestParts<ApiState> for Viewer {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &ApiState) -> Result<Viewer, Response> {
        let authed = Authed::from_request_parts(parts, state).await;
        signed_in(state, authed, &parts.uri).await
    }
}

/// Pages are for sessions (a browser): the viewer, or a redirect to `/login` that comes back.
async fn signed_in(
    state: &ApiState,
    authed: Result<Authed, ApiError>,
    uri: &Uri,
) -> Result<Viewer, Response> {
    match authed {
        Ok(Authed {
            user_id,
            username: Some(username),
            via: Via::Session { csrf_token, .. },
        }) => {
            let admin = match state.store.get_login(&username).await {
                Ok(l) => l.is_some_and(|l| l.role == "admin"),
                Err(e) => return Err(error_page(&e)),
            };
            Ok(Viewer {
                user_id,
                username,
                csrf: csrf_token,
                admin,
            })
        }
        _ => {
            let next = uri.path_and_query().map_or("/", |p| p.as_str());
            Err(Redirect::to(&format!("/login?next={}", encode_next(next))).into_response())
        }
    }
}

/// Percent-encodes a path of this site for the `next` parameter (anything else becomes `/`).
fn encode_next(next: &str) -> String {
    let local = if next.starts_with('/') && !next.starts_with("//") {
        next
    } else {
        "/"
    };
    local
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'/' | b'-' | b'_' | b'.' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

fn error_page(e: &BozError) -> Response {
    let (status, body) = boz_common::error::error_body(e);
    let mut r = render(
        "error.html",
        context! { status => status, error => body.error, message => body.message },
    );
    *r.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    r
}

fn api_error_page(e: ApiError) -> Response {
    error_page(&e.0)
}

fn base(v: &Viewer, active: &str, live: &str) -> minijinja::Value {
    context! {
        username => v.username, csrf => v.csrf, admin => v.admin, active => active, live => live,
    }
}

fn page(name: &str, base: minijinja::Value, data: minijinja::Value) -> Response {
    render(name, context! { ..base, ..data })
}

macro_rules! try_page {
    ($e:expr) => {
        match $e {
            Ok(v) => v,
            Err(e) => return api_error_page(e.into()),
        }
    };
}

// ------------------------------------------------------------------------------ sign-in

#[derive(Deserialize)]
pub struct LoginPage {
    next: Option<String>,
}

pub async fn login_page(Query(q): Query<LoginPage>) -> Response {
    let next = q.next.unwrap_or_else(|| "/".into());
    let next = if next.starts_with('/') && !next.starts_with("//") {
        next
    } else {
        "/".into()
    };
    render("login.html", context! { next => next })
}

// ------------------------------------------------------------------------------ overview

pub async fn overview(State(state): State<ApiState>, v: Viewer) -> Response {
    let now = state.clock.now();
    let perf = try_page!(performance_of(&state, &v.user_id, None, None, None).await);
    let risk = try_page!(state.store.risk_status(&v.user_id, trading_day(now)).await);
    let user = try_page!(state.store.get_user(&v.user_id).await);
    let jobs = try_page!(state.store.job_statuses().await);
    let jobs: Vec<Value> = jobs
        .iter()
        .map(|j| {
            let ok_age = j
                .last_ok
                .as_ref()
                .and_then(|r| r.finished_at)
                .map(|t| (now - t).num_seconds());
            json!({
                "job": j.job,
                "outcome": j.last_finished.as_ref().map(|r| r.outcome.as_str()),
                "error": j.last_finished.as_ref().and_then(|r| r.error.clone()),
                "ok_age_seconds": ok_age,
            })
        })
        .collect();
    let pending = try_page!(queue_items(&state, &v.user_id).await).len();
    page(
        "overview.html",
        base(&v, "overview", "queue trades"),
        context! {
            totals => perf.totals, risk => risk, settings => user.settings, jobs => jobs,
            pending => pending, halted => matches!(risk.state, boz_common::ports::TradingState::Halted),
        },
    )
}

// ------------------------------------------------------------------------------ markets

pub async fn markets_page(State(state): State<ApiState>, v: Viewer) -> Response {
    let data = try_page!(market_events(&state, &v.user_id, None).await);
    let mut links: Vec<Value> = Vec::new();
    for e in data["events"].as_array().into_iter().flatten() {
        let ticker = e["event_ticker"].as_str().unwrap_or_default();
        let series = ticker.split('-').next().unwrap_or_default();
        let (Some(city), Ok(date)) = (
            boz_kalshi::market::city_of_series(series),
            boz_kalshi::market::event_date(ticker),
        ) else {
            continue;
        };
        links.push(
            json!({"city": city.as_str(), "date": date.to_string(), "event_ticker": ticker,
            "brackets": e["brackets"].as_array().map_or(0, Vec::len)}),
        );
    }
    page(
        "markets.html",
        base(&v, "markets", "prices"),
        context! { events => links, errors => data["errors"] },
    )
}

pub async fn market_page(
    State(state): State<ApiState>,
    v: Viewer,
    Path((city, date)): Path<(String, String)>,
) -> Response {
    let code = try_page!(crate::params::city(&city));
    let Some(c) = code.city() else {
        return error_page(
            &boz_common::ValidationError::new("city", format!("{code} is not configured")).into(),
        );
    };
    let day = try_page!(crate::params::date("date", &date));
    let series = format!("{}-", c.kalshi_series);
    let data = try_page!(market_events(&state, &v.user_id, Some(&series)).await);
    let event = data["events"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|e| {
            e["event_ticker"]
                .as_str()
                .and_then(|t| boz_kalshi::market::event_date(t).ok())
                == Some(day)
        })
        .cloned();
    let mut brackets: Vec<Value> = event
        .as_ref()
        .and_then(|e| e["brackets"].as_array().cloned())
        .unwrap_or_default();
    // each market's whole degrees (every judged side carries its bracket)
    let bounds_of = |b: &Value| {
        let edge = |k: &str| b["bracket"][k].as_f64().map(|v| v as i32);
        b.get("bracket")
            .map(|_| (edge("lower_bound_f"), edge("upper_bound_f")))
    };
    // low to high (the low tail first)
    brackets.sort_by_key(|b| {
        bounds_of(b).map_or((i32::MIN, i32::MIN), |(l, u)| {
            (l.unwrap_or(i32::MIN), u.unwrap_or(i32::MAX))
        })
    });
    let rows: Vec<Value> = brackets
        .iter()
        .map(|b| {
            let pct = |x: &Value| x.as_f64().map(|p| (p * 1000.0).round() / 10.0);
            let price = |s: &Value| s["price"].as_f64().map(|p| (p * 1000.0).round() / 10.0);
            json!({
                "ticker": b["ticker"],
                "label": bounds_of(b)
                    .map(|(l, u)| boz_kalshi::market::bracket_label(l, u))
                    .or_else(|| b["ticker"].as_str().map(str::to_string)),
                "model_pct": pct(&b["yes"]["model_probability"]),
                "market_pct": price(&b["yes"]),
                "yes_price": b["yes"]["price"], "no_price": b["no"]["price"],
                "yes_ev": b["yes"]["ev"], "no_ev": b["no"]["ev"],
                "yes_verdict": b["yes"]["verdict"], "no_verdict": b["no"]["verdict"],
            })
        })
        .collect();
    let prediction = try_page!(state.store.latest_prediction(&code, day).await);
    let queue: Vec<Value> = try_page!(queue_items(&state, &v.user_id).await)
        .into_iter()
        .filter(|q| {
            q["market_ticker"]
                .as_str()
                .is_some_and(|t| t.starts_with(&series))
                && q["date"].as_str() == Some(&day.to_string())
        })
        .collect();
    page(
        "market.html",
        base(&v, "markets", "prices queue"),
        context! {
            city => code.as_str(), city_name => c.name, date => day.to_string(),
            event_ticker => event.as_ref().map(|e| e["event_ticker"].clone()),
            rows => rows, errors => data["errors"], queue => queue,
            prediction => prediction.map(|p| json!({
                "ensemble_forecast_f": p.prediction.ensemble_forecast_f,
                "error_std_f": p.prediction.error_std_f,
                "confidence": p.prediction.confidence,
                "model_sources": p.prediction.model_sources,
            })),
        },
    )
}

// ------------------------------------------------------------------------------ queue, trades

pub async fn queue_page(State(state): State<ApiState>, v: Viewer) -> Response {
    let items = try_page!(queue_items(&state, &v.user_id).await);
    page(
        "queue.html",
        base(&v, "queue", "queue"),
        context! { queue => items },
    )
}

#[derive(Deserialize)]
pub struct TradesPage {
    city: Option<String>,
    status: Option<String>,
    page: Option<u32>,
}

const TRADES_PER_PAGE: u32 = 20;

pub async fn trades_page(
    State(state): State<ApiState>,
    v: Viewer,
    Query(q): Query<TradesPage>,
) -> Response {
    let city = try_page!(crate::params::opt_city(q.city.as_deref()));
    let status = try_page!(crate::params::opt_status(q.status.as_deref()));
    let page_no = q.page.unwrap_or(0);
    let filter = TradeFilter {
        city: city.clone(),
        status,
        limit: TRADES_PER_PAGE + 1,
        offset: page_no.saturating_mul(TRADES_PER_PAGE),
        ..TradeFilter::default()
    };
    let mut trades = try_page!(state.store.list_trades(&v.user_id, &filter).await);
    let more = trades.len() > TRADES_PER_PAGE as usize;
    trades.truncate(TRADES_PER_PAGE as usize);
    let rows: Vec<Value> = trades
        .iter()
        .map(|t| serde_json::to_value(&t.record).unwrap_or(Value::Null))
        .collect();
    page(
        "trades.html",
        base(&v, "trades", "trades"),
        context! {
            trades => rows, page => page_no, more => more,
            city => city.map(|c| c.as_str().to_string()).unwrap_or_default(),
            status => status.map(|s| s.as_str()).unwrap_or_default(),
        },
    )
}

// ------------------------------------------------------------------------------ performance

pub async fn performance_page(State(state): State<ApiState>, v: Viewer) -> Response {
    let perf = try_page!(performance_of(&state, &v.user_id, None, None, None).await);
    // the charts' data, read by app.js (a JSON island: no inline script)
    let chart = json!({
        "pnl": perf.by_day.iter().map(|d| json!([d.date.to_string(), d.cumulative_pnl.to_f64_lossy()])).collect::<Vec<_>>(),
        "calibration": perf.calibration.iter().filter(|b| b.count > 0)
            .map(|b| json!([b.mean_forecast, b.observed_frequency, b.count])).collect::<Vec<_>>(),
    });
    page(
        "performance.html",
        base(&v, "performance", "trades"),
        context! { perf => perf, chart => chart.to_string() },
    )
}

// ------------------------------------------------------------------------------ settings, onboarding, logs

pub async fn settings_page(State(state): State<ApiState>, v: Viewer) -> Response {
    let user = try_page!(state.store.get_user(&v.user_id).await);
    let fields: Vec<Value> = user
        .settings
        .as_object()
        .into_iter()
        .flatten()
        .map(|(k, val)| {
            let (kind, text) = match val {
                Value::Bool(b) => ("bool", b.to_string()),
                Value::Number(n) => ("number", n.to_string()),
                Value::Array(a) => (
                    "list",
                    a.iter()
                        .map(|x| x.as_str().map_or_else(|| x.to_string(), str::to_string))
                        .collect::<Vec<_>>()
                        .join(", "),
                ),
                Value::String(s) => ("string", s.clone()),
                other => ("json", other.to_string()),
            };
            json!({"name": k, "kind": kind, "value": text, "checked": val.as_bool() == Some(true)})
        })
        .collect();
    let login = try_page!(state.store.get_login(&v.username).await);
    page(
        "settings.html",
        base(&v, "settings", ""),
        context! {
            fields => fields,
            must_change_password => login.is_some_and(|l| l.must_change_password),
        },
    )
}

pub async fn onboarding_page(State(state): State<ApiState>, v: Viewer) -> Response {
    let user = try_page!(state.store.get_user(&v.user_id).await);
    let env = try_page!(state.store.kalshi_env(&v.user_id).await);
    let connected = !user.encrypted_private_key.is_empty();
    page(
        "onboarding.html",
        base(&v, "onboarding", ""),
        context! {
            connected => connected,
            api_key_id => if connected { Some(user.api_key_id) } else { None },
            environment => env,
        },
    )
}

#[derive(Deserialize)]
pub struct LogsPage {
    module: Option<String>,
    level: Option<String>,
}

pub async fn logs_page(
    State(state): State<ApiState>,
    v: Viewer,
    Query(q): Query<LogsPage>,
) -> Response {
    if !v.admin {
        return error_page(&BozError::new(
            boz_common::error::ErrorKind::PermissionError,
            "the logs are the whole installation's: admins only",
            serde_json::Map::new(),
        ));
    }
    let module = q
        .module
        .filter(|m| !m.is_empty())
        .map(|m| m.to_ascii_uppercase());
    let level = q
        .level
        .filter(|l| !l.is_empty())
        .map(|l| l.to_ascii_uppercase());
    let filter = LogFilter {
        module: module.clone(),
        level: level.clone(),
        limit: 200,
        ..LogFilter::default()
    };
    let logs = try_page!(state.store.recent_logs(&filter).await);
    let rows: Vec<Value> = logs
        .iter()
        .map(|l| serde_json::to_value(l).unwrap_or(Value::Null))
        .collect();
    page(
        "logs.html",
        base(&v, "logs", ""),
        context! { logs => rows, module => module.unwrap_or_default(), level => level.unwrap_or_default() },
    )
}

// ------------------------------------------------------------------------------ assets

pub async fn asset(Path(name): Path<String>) -> Response {
    let (body, kind): (&'static [u8], &str) = match name.as_str() {
        "app.js" => (
            include_bytes!("../assets/app.js"),
            "text/javascript; charset=utf-8",
        ),
        "app.css" => (
            include_bytes!("../assets/app.css"),
            "text/css; charset=utf-8",
        ),
        "uPlot.iife.min.js" => (
            include_bytes!("../assets/vendor/uPlot.iife.min.js"),
            "text/javascript; charset=utf-8",
        ),
        "uPlot.min.css" => (
            include_bytes!("../assets/vendor/uPlot.min.css"),
            "text/css; charset=utf-8",
        ),
        _ => return StatusCode::NOT_FOUND.into_response(),
    };
    (
        [
            (CONTENT_TYPE, kind),
            (CACHE_CONTROL, "public, max-age=3600"),
        ],
        body,
    )
        .into_response()
}

// ------------------------------------------------------------------------------ live updates

/// A digest of what a live page shows, per topic.
async fn fingerprints(
    state: &ApiState,
    user_id: &str,
    cities: &[CityCode],
) -> Result<[String; 3], ApiError> {
    fn digest(v: &Value) -> String {
        hex::encode(Sha256::digest(v.to_string().as_bytes()))
    }
    let queue = queue_items(state, user_id).await?;
    let queue: Vec<Value> = queue
        .iter()
        .map(|q| json!([q["id"], q["status"], q["limit_price"]]))
        .collect();
    let trades = state
        .store
        .list_trades(
            user_id,
            &TradeFilter {
                limit: 50,
                ..TradeFilter::default()
            },
        )
        .await?;
    let trades: Vec<Value> = trades
        .iter()
        .map(|t| {
            json!([
                t.record.id,
                t.record.status,
                t.record.pnl,
                t.record.postmortem.is_some()
            ])
        })
        .collect();
    let now = state.clock.now();
    let mut prices = Vec::new();
    for code in cities {
        let Some(c) = code.city() else { continue };
        let today = c.climate_date(now);
        let snaps = state
            .store
            .latest_market_snapshots(code, today, today + chrono::Duration::days(2))
            .await?;
        for s in snaps {
            prices.push(json!([s.ticker, s.yes_bid, s.yes_ask, s.last_price]));
        }
    }
    Ok([
        digest(&json!(queue)),
        digest(&json!(trades)),
        digest(&json!(prices)),
    ])
}

const TOPICS: [&str; 3] = ["queue", "trades", "prices"];

/// `GET /api/events`: server-sent events naming what changed for the signed-in user (`queue`,
/// `trades`, `prices`; data: the time of the change), looked for every [`EVENT_POLL`].
pub async fn events(
    State(state): State<ApiState>,
    authed: Authed,
) -> ApiResult<Sse<impl Stream<Item = Result<Event, Infallible>>>> {
    let user_id = authed.user_id;
    // the user's cities, read once: a page that changes them is left, and its stream with it
    let cities: Vec<CityCode> = state
        .store
        .get_user(&user_id)
        .await?
        .user_settings()?
        .into_fields()
        .cities;
    let stream = futures::stream::unfold(
        (
            state,
            user_id,
            cities,
            None::<[String; 3]>,
            Vec::<Event>::new(),
        ),
        |(state, user_id, cities, mut last, mut ready)| async move {
            loop {
                if let Some(e) = ready.pop() {
                    return Some((Ok(e), (state, user_id, cities, last, ready)));
                }
                if last.is_some() {
                    tokio::time::sleep(EVENT_POLL).await;
                }
                match fingerprints(&state, &user_id, &cities).await {
                    Ok(now) => {
                        if let Some(before) = &last {
                            for (i, topic) in TOPICS.iter().enumerate() {
                                if before[i] != now[i] {
                                    ready.push(
                                        Event::default()
                                            .event(*topic)
                                            .data(state.clock.now().to_rfc3339()),
                                    );
                                }
                            }
                        } else {
                            ready.push(Event::default().event("hello").data("live"));
                        }
                        last = Some(now);
                    }
                    Err(e) => {
                        tracing::warn!(target: "SYSTEM", error = %e.0.message, "live update check failed");
                        if last.is_none() {
                            tokio::time::sleep(EVENT_POLL).await;
                        }
                    }
                }
            }
        },
    );
    Ok(Sse::new(stream).keep_alive(KeepAlive::default()))
}
