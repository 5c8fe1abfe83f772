//! Errors as HTTP responses: the seed's body `{"error", "message", "context"}` with the
//! status of the error's kind (one place for every handler).

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use boz_common::BozError;
use boz_common::error::error_body;

/// A handler's error.
#[derive(Debug)]
pub struct ApiError(pub BozError);

impl From<BozError> for ApiError {
    fn from(e: BozError) -> Self {
        ApiError(e)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, body) = error_body(&self.0);
        if status >= 500 {
            tracing::error!(target: "SYSTEM", error = %self.0.message, "request failed");
        }
        let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        (status, Json(body)).into_response()
    }
}

pub type ApiResult<T> = Result<T, ApiError>;
