//! Authentication.
//!
//! - `POST /api/login` `{username, password}`: checks the Argon2id hash, starts a session (a
//!   random id in the `boz_session` cookie, HttpOnly, SameSite=Strict, Path=/, Secure over TLS;
//!   only its SHA-256 is stored) and returns the session's CSRF token. At most
//!   [`ATTEMPTS_PER_MINUTE`] attempts per username a minute (429 after that); a wrong username
//!   and a wrong password get the same 401.
//! - Every other route takes [`Authed`]: the session cookie, or `Authorization: Bearer <token>`
//!   (a personal API token; only its hash is stored). None: 401. A session's state-changing
//!   request (anything but GET/HEAD/OPTIONS) must carry its CSRF token in `X-CSRF-Token`, or 403.
//! - `POST /api/logout` ends the session; `GET /api/me` says who is signed in;
//!   `POST /api/password` `{current_password, new_password}` changes the password (and ends every
//!   session of the login, this one included).

use std::num::NonZeroU32;

use axum::Json;
use axum::extract::{FromRequestParts, State};
use axum::http::header::{AUTHORIZATION, COOKIE, SET_COOKIE};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use boz_common::BozError;
use boz_common::error::ErrorKind;
use boz_common::ports::Session;
use boz_crypto::password::{hash_password, verify_password};
use boz_crypto::token::{hash_secret, new_secret, same_secret};
use governor::{DefaultKeyedRateLimiter, Quota};
use serde::{Deserialize, Serialize};

use crate::ApiState;
use crate::error::{ApiError, ApiResult};
use crate::openapi::ErrorBody;
use crate::params::invalid;

/// The session cookie's name.
pub const COOKIE_NAME: &str = "boz_session";
/// Sign-in attempts allowed per username and minute.
pub const ATTEMPTS_PER_MINUTE: u32 = 5;
/// The shortest password accepted.
pub const MIN_PASSWORD_LEN: usize = 12;

/// Sign-in attempts per username.
pub struct LoginLimiter(DefaultKeyedRateLimiter<String>);

impl LoginLimiter {
    pub fn new() -> LoginLimiter {
        let per_minute = NonZeroU32::new(ATTEMPTS_PER_MINUTE).unwrap_or(NonZeroU32::MIN);
        LoginLimiter(DefaultKeyedRateLimiter::keyed(Quota::per_minute(
            per_minute,
        )))
    }

    fn allow(&self, username: &str) -> bool {
        // made-up names must not grow the table without end: forget the settled ones
        if self.0.len() > 10_000 {
            self.0.retain_recent();
        }
        self.0.check_key(&username.to_ascii_lowercase()).is_ok()
    }
}

impl Default for LoginLimiter {
    fn default() -> Self {
        LoginLimiter::new()
    }
}

fn unauthenticated(message: &str) -> ApiError {
    ApiError(BozError::new(
        ErrorKind::AuthenticationError,
        message,
        serde_json::Map::new(),
    ))
}

fn forbidden(message: &str) -> ApiError {
    ApiError(BozError::new(
        ErrorKind::PermissionError,
        message,
        serde_json::Map::new(),
    ))
}

/// How a request was authenticated.
#[derive(Debug, Clone, PartialEq)]
pub enum Via {
    Session { id_hash: String, csrf_token: String },
    Token { id: String },
}

/// The signed-in user of a request.
#[derive(Debug, Clone)]
pub struct Authed {
    pub user_id: String,
    /// The login's name (a token acts for its user, without a login name).
    pub username: Option<String>,
    pub via: Via,
}

fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_string())
}

fn bearer(headers: &HeaderMap) -> Option<String> {
    headers
        .get(AUTHORIZATION)?
        .to_str()
        .ok()?
        .strip_prefix("Bearer ")
        .map(|t| t.trim().to_string())
}

impl FromRequestParts<ApiState> for Authed {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &ApiState) -> Result<Self, ApiError> {
        let now = state.clock.now();
        if let Some(token) = bearer(&parts.headers) {
            let t = state
                .store
                .use_token(&hash_secret(&token), now)
                .await?
                .ok_or_else(|| unauthenticated("the API token is not valid"))?;
            return Ok(Authed {
                user_id: t.user_id,
                username: None,
                via: Via::Token { id: t.id },
            });
        }
        let Some(id) = cookie(&parts.headers, COOKIE_NAME) else {
            return Err(unauthenticated(
                "sign in first (a session cookie or an API token is needed)",
            ));
        };
        let s = state
            .store
            .get_session(&hash_secret(&id), now)
            .await?
            .ok_or_else(|| unauthenticated("the session has ended; sign in again"))?;
        let safe = matches!(parts.method, Method::GET | Method::HEAD | Method::OPTIONS);
        if !safe {
            let sent = parts
                .headers
                .get("x-csrf-token")
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default();
            if !same_secret(sent, &s.csrf_token) {
                return Err(forbidden("missing or wrong CSRF token (X-CSRF-Token)"));
            }
        }
        Ok(Authed {
            user_id: s.user_id,
            username: Some(s.username),
            via: Via::Session {
                id_hash: s.id_hash,
                csrf_token: s.csrf_token,
            },
        })
    }
}

/// A sign-in request. No `Debug`: it holds a password.
#[derive(Deserialize, utoipa::ToSchema)]
pub struct LoginRequest {
    pub username: String,
    pub password: String,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Me {
    pub username: Option<String>,
    pub user_id: String,
    pub role: Option<String>,
    pub must_change_password: bool,
    /// "session" or "token".
    pub auth: &'static str,
    /// The session's CSRF token (sessions only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub csrf_token: Option<String>,
}

fn session_cookie(state: &ApiState, value: &str, max_age_secs: i64) -> ApiResult<HeaderValue> {
    let secure = if state.secure_cookies { "; Secure" } else { "" };
    HeaderValue::from_str(&format!(
        "{COOKIE_NAME}={value}; HttpOnly; SameSite=Strict; Path=/; Max-Age={max_age_secs}{secure}"
    ))
    .map_err(|e| ApiError(BozError::internal(format!("cookie: {e}"))))
}

#[utoipa::path(post, path = "/api/login", tag = "auth", request_body = LoginRequest, security(()), responses((status = 200, description = "Signed in: the session cookie is set; the body holds the CSRF token", body = Me), (status = 401, body = ErrorBody), (status = 422, body = ErrorBody), (status = 429, body = ErrorBody)))]
pub async fn login(State(state): State<ApiState>, body: axum::body::Bytes) -> Response {
    let req: LoginRequest = match crate::params::secret_json_body(&body) {
        Ok(r) => r,
        Err(e) => return e.into_response(),
    };
    match try_login(&state, &req).await {
        Ok(r) => r,
        Err(e) => e.into_response(),
    }
}

async fn try_login(state: &ApiState, req: &LoginRequest) -> ApiResult<Response> {
    if req.username.trim().is_empty() {
        return Err(invalid("username", "must not be empty"));
    }
    if !state.limiter.allow(&req.username) {
        tracing::warn!(target: "AUTH", username = %req.username, "sign-in attempts rate-limited");
        return Err(ApiError(BozError::new(
            ErrorKind::RateLimitError,
            format!(
                "too many sign-in attempts; wait a minute (at most {ATTEMPTS_PER_MINUTE} a minute)"
            ),
            serde_json::Map::new(),
        )));
    }
    let login = state.store.get_login(&req.username).await?;
    let ok = match &login {
        Some(l) => verify_password(&req.password, &l.password_hash)
            .map_err(|e| ApiError(BozError::internal(format!("stored password hash: {e}"))))?,
        None => {
            // the same work for an unknown name, so timing does not tell names apart
            let _ = hash_password(&req.password);
            false
        }
    };
    let Some(login) = login.filter(|_| ok) else {
        tracing::warn!(target: "AUTH", username = %req.username, "sign-in refused");
        return Err(unauthenticated("wrong username or password"));
    };
    let now = state.clock.now();
    let secret =
        |p: &str| new_secret(p).map_err(|e| ApiError(BozError::internal(format!("random: {e}"))));
    let id = secret("s_")?;
    let csrf = secret("c_")?;
    let session = Session {
        id_hash: hash_secret(&id),
        username: login.username.clone(),
        user_id: login.user_id.clone(),
        csrf_token: csrf.clone(),
        created_at: now,
        expires_at: now + chrono::Duration::hours(state.session_hours),
    };
    state.store.create_session(&session).await?;
    tracing::info!(target: "AUTH", username = %login.username, "signed in");
    let me = Me {
        username: Some(login.username),
        user_id: login.user_id,
        role: Some(login.role),
        must_change_password: login.must_change_password,
        auth: "session",
        csrf_token: Some(csrf),
    };
    let mut response = Json(me).into_response();
    response.headers_mut().insert(
        SET_COOKIE,
        session_cookie(state, &id, state.session_hours * 3600)?,
    );
    Ok(response)
}

#[utoipa::path(post, path = "/api/logout", tag = "auth", responses((status = 204, description = "Session ended"), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn logout(State(state): State<ApiState>, authed: Authed) -> ApiResult<Response> {
    let Via::Session { id_hash, .. } = &authed.via else {
        return Err(invalid(
            "Authorization",
            "an API token has no session to end",
        ));
    };
    state.store.delete_session(id_hash).await?;
    tracing::info!(target: "AUTH", user_id = %authed.user_id, "signed out");
    let mut response = StatusCode::NO_CONTENT.into_response();
    response
        .headers_mut()
        .insert(SET_COOKIE, session_cookie(&state, "", 0)?);
    Ok(response)
}

#[utoipa::path(get, path = "/api/me", tag = "auth", responses((status = 200, body = Me), (status = 401, body = ErrorBody)))]
pub async fn me(State(state): State<ApiState>, authed: Authed) -> ApiResult<Json<Me>> {
    let login = match &authed.username {
        Some(u) => state.store.get_login(u).await?,
        None => None,
    };
    Ok(Json(Me {
        username: authed.username.clone(),
        user_id: authed.user_id.clone(),
        role: login.as_ref().map(|l| l.role.clone()),
        must_change_password: login.as_ref().is_some_and(|l| l.must_change_password),
        auth: match authed.via {
            Via::Session { .. } => "session",
            Via::Token { .. } => "token",
        },
        csrf_token: match authed.via {
            Via::Session { csrf_token, .. } => Some(csrf_token),
            Via::Token { .. } => None,
        },
    }))
}

/// No `Debug`: it holds passwords.
#[derive(Deserialize, utoipa::ToSchema)]
pub struct PasswordChange {
    pub current_password: String,
    pub new_password: String,
}

/// Whether a new password is acceptable; the reason when not.
pub fn check_new_password(p: &str) -> Result<(), String> {
    if p.chars().count() < MIN_PASSWORD_LEN {
        return Err(format!("must be at least {MIN_PASSWORD_LEN} characters"));
    }
    Ok(())
}

#[utoipa::path(post, path = "/api/password", tag = "auth", request_body = PasswordChange, responses((status = 204, description = "Changed; every session of the login ends"), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn change_password(
    State(state): State<ApiState>,
    authed: Authed,
    body: axum::body::Bytes,
) -> ApiResult<StatusCode> {
    let req: PasswordChange = crate::params::secret_json_body(&body)?;
    let Some(username) = &authed.username else {
        return Err(forbidden("sign in with your password to change it"));
    };
    let login = state
        .store
        .get_login(username)
        .await?
        .ok_or_else(|| unauthenticated("the login no longer exists"))?;
    let ok = verify_password(&req.current_password, &login.password_hash)
        .map_err(|e| ApiError(BozError::internal(format!("stored password hash: {e}"))))?;
    if !ok {
        return Err(ApiError(BozError::new(
            ErrorKind::ValidationError,
            "current_password is wrong",
            boz_common::context!("field" => "current_password"),
        )));
    }
    check_new_password(&req.new_password).map_err(|r| invalid("new_password", &r))?;
    let hash = hash_password(&req.new_password)
        .map_err(|e| ApiError(BozError::internal(format!("password hash: {e}"))))?;
    state.store.set_password(username, &hash, false).await?;
    tracing::info!(target: "AUTH", username = %username, "password changed (sessions ended)");
    Ok(StatusCode::NO_CONTENT)
}
