//! Onboarding: connecting the signed-in user's Kalshi account.
//!
//! - `POST /api/kalshi` `{"api_key_id", "private_key" (PEM, pasted or read from an uploaded
//!   file by the page), "environment": "demo" | "prod"}`: the key is parsed, checked against
//!   Kalshi by reading the balance (signed), then encrypted (AES-256-GCM under the master key,
//!   the user id as associated data) and stored with the environment. The private key is never
//!   echoed, logged or returned; a refused key is a 422 naming `private_key`, an unreachable
//!   Kalshi a 503.
//! - `GET /api/kalshi`: whether a key is stored, its key id and environment (never the key).
//! - `DELETE /api/kalshi`: disconnects (the key id and encrypted key are deleted).

use std::sync::Arc;
use std::time::Duration;

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use boz_common::BozError;
use boz_common::config::KalshiEnv;
use boz_common::error::ErrorKind;
use boz_common::ports::SystemClock;
use boz_crypto::KalshiSigner;
use boz_kalshi::rest::{Credentials, KalshiClient, KalshiConfig, KalshiError};
use serde::Deserialize;
use serde_json::{Value, json};
use zeroize::Zeroizing;

use crate::ApiState;
use crate::auth::Authed;
use crate::error::{ApiError, ApiResult};
use crate::openapi::ErrorBody;
use crate::params::invalid;

/// Where keys are checked, and the master key they are stored under.
#[derive(Clone)]
pub struct Onboarding {
    pub vault: Arc<boz_crypto::KeyVault>,
    /// Overrides both environments' REST base URL (tests, proxies); includes `/trade-api/v2`.
    pub base_url: Option<String>,
    pub timeout: Duration,
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct Connect {
    pub api_key_id: Option<String>,
    pub private_key: Option<String>,
    pub environment: Option<String>,
}

fn onboarding(state: &ApiState) -> ApiResult<Onboarding> {
    state.onboarding.clone().ok_or_else(|| {
        ApiError(BozError::new(
            ErrorKind::UpstreamError,
            "connecting a Kalshi account is not available in this process",
            serde_json::Map::new(),
        ))
    })
}

#[utoipa::path(post, path = "/api/kalshi", tag = "onboarding", request_body = Connect, responses((status = 200, description = "Checked against Kalshi (balance), encrypted and stored", body = Object), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody), (status = 503, body = ErrorBody)))]
pub async fn connect(
    State(state): State<ApiState>,
    authed: Authed,
    body: Bytes,
) -> ApiResult<Json<Value>> {
    let o = onboarding(&state)?;
    // parsed without echoing anything of the body back
    let req: Connect = crate::params::secret_json_body(&body)?;
    let key_id = req
        .api_key_id
        .map(|k| k.trim().to_string())
        .filter(|k| !k.is_empty() && k.len() <= 200)
        .ok_or_else(|| invalid("api_key_id", "is required"))?;
    let pem = Zeroizing::new(req.private_key.unwrap_or_default());
    if pem.trim().is_empty() {
        return Err(invalid("private_key", "is required"));
    }
    let env = match req.environment.as_deref() {
        Some("demo") => KalshiEnv::Demo,
        Some("prod") => KalshiEnv::Prod,
        _ => return Err(invalid("environment", "must be demo or prod")),
    };
    let signer = KalshiSigner::from_pem(&pem)
        .map_err(|_| invalid("private_key", "is not a usable RSA private key (PEM)"))?;
    let client = KalshiClient::new(
        KalshiConfig {
            base_url: o
                .base_url
                .clone()
                .unwrap_or_else(|| env.rest_url().to_string()),
            credentials: Some(Credentials {
                api_key_id: key_id.clone(),
                signer: Arc::new(signer),
            }),
            timeout: o.timeout,
            read_tokens_per_second: 10,
            write_tokens_per_second: 5,
            retries: 1,
            min_delay: Duration::from_millis(200),
        },
        Arc::new(SystemClock),
    )
    .map_err(|e| ApiError(BozError::internal(format!("Kalshi client: {e}"))))?;
    let balance = match client.balance().await {
        Ok(b) => b,
        Err(KalshiError::Authentication { status, .. }) => {
            tracing::warn!(target: "AUTH", user_id = %authed.user_id, status, "Kalshi refused a key at onboarding");
            return Err(invalid(
                "private_key",
                format!(
                    "Kalshi ({}) refused the key id and private key (HTTP {status})",
                    env.as_str()
                ),
            ));
        }
        Err(e) => {
            return Err(ApiError(BozError::upstream(
                "kalshi",
                format!("the key could not be checked: {e}"),
            )));
        }
    };
    let encrypted = o
        .vault
        .encrypt(&authed.user_id, &pem)
        .map_err(|e| ApiError(BozError::internal(format!("encryption: {e}"))))?;
    state
        .store
        .set_kalshi_key(&authed.user_id, Some((&key_id, &encrypted, env.as_str())))
        .await?;
    tracing::info!(target: "AUTH", user_id = %authed.user_id, environment = env.as_str(), "Kalshi account connected");
    Ok(Json(
        json!({"connected": true, "api_key_id": key_id, "environment": env.as_str(), "balance": balance}),
    ))
}

#[utoipa::path(get, path = "/api/kalshi", tag = "onboarding", responses((status = 200, description = "`{connected, api_key_id, environment}` (never the key)", body = Object), (status = 401, body = ErrorBody)))]
pub async fn status(State(state): State<ApiState>, authed: Authed) -> ApiResult<Json<Value>> {
    let user = state.store.get_user(&authed.user_id).await?;
    let env = state.store.kalshi_env(&authed.user_id).await?;
    let connected = !user.encrypted_private_key.is_empty();
    Ok(Json(json!({
        "connected": connected,
        "api_key_id": if connected { Some(user.api_key_id) } else { None },
        "environment": env,
    })))
}

#[utoipa::path(delete, path = "/api/kalshi", tag = "onboarding", responses((status = 204, description = "The stored key is deleted"), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn disconnect(State(state): State<ApiState>, authed: Authed) -> ApiResult<StatusCode> {
    state.store.set_kalshi_key(&authed.user_id, None).await?;
    tracing::info!(target: "AUTH", user_id = %authed.user_id, "Kalshi account disconnected");
    Ok(StatusCode::NO_CONTENT)
}
