//! The error family shared by every crate (the seed's `exceptions.py`), and its JSON body.
//!
//! Each error has a kind (the seed's exception class name), a message and a structured
//! `context` (the seed's `context` dict). [`error_body`] is the one place that turns an error into
//! the seed's `{"error", "message", "context"}` body and an HTTP status; the API uses only it.

use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// A value that failed validation: which field, and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid {field}: {reason}")]
pub struct ValidationError {
    pub field: String,
    pub reason: String,
}

impl ValidationError {
    pub fn new(field: impl Into<String>, reason: impl Into<String>) -> ValidationError {
        ValidationError {
            field: field.into(),
            reason: reason.into(),
        }
    }

    /// The same error one level deeper, e.g. `probability` inside `brackets[2]`.
    pub fn within(self, parent: impl fmt::Display) -> ValidationError {
        ValidationError {
            field: format!("{parent}.{}", self.field),
            reason: self.reason,
        }
    }
}

/// The kinds of error, named as the seed's exception classes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ErrorKind {
    /// Data too old to trade on (seed `StaleDataError`).
    StaleDataError,
    /// A risk limit would be violated (seed `RiskLimitError`).
    RiskLimitError,
    /// Trading is paused by a cooldown (seed `CooldownActiveError`).
    CooldownActiveError,
    /// Not enough balance (seed `InsufficientBalanceError`).
    InsufficientBalanceError,
    /// Order parameters are invalid (seed `InvalidOrderError`).
    InvalidOrderError,
    /// The request cannot be read at all (a body that is not JSON).
    BadRequestError,
    /// A value or request failed validation.
    ValidationError,
    /// The thing asked for does not exist (or is not the caller's).
    NotFoundError,
    /// The request conflicts with the current state (duplicate, illegal transition).
    ConflictError,
    /// An upstream service (NWS, Open-Meteo, Kalshi, the database) failed.
    UpstreamError,
    /// The caller is not authenticated.
    AuthenticationError,
    /// The caller may not do this.
    PermissionError,
    /// Too many attempts (sign-in); try again later.
    RateLimitError,
    /// A bug or an unexpected condition; details are logged, never returned.
    InternalError,
}

impl ErrorKind {
    pub fn name(self) -> &'static str {
        match self {
            ErrorKind::StaleDataError => "StaleDataError",
            ErrorKind::RiskLimitError => "RiskLimitError",
            ErrorKind::CooldownActiveError => "CooldownActiveError",
            ErrorKind::InsufficientBalanceError => "InsufficientBalanceError",
            ErrorKind::InvalidOrderError => "InvalidOrderError",
            ErrorKind::BadRequestError => "BadRequestError",
            ErrorKind::ValidationError => "ValidationError",
            ErrorKind::NotFoundError => "NotFoundError",
            ErrorKind::ConflictError => "ConflictError",
            ErrorKind::UpstreamError => "UpstreamError",
            ErrorKind::AuthenticationError => "AuthenticationError",
            ErrorKind::PermissionError => "PermissionError",
            ErrorKind::RateLimitError => "RateLimitError",
            ErrorKind::InternalError => "InternalError",
        }
    }

    /// The HTTP status the API answers with.
    pub fn http_status(self) -> u16 {
        match self {
            ErrorKind::StaleDataError => 503,
            ErrorKind::RiskLimitError => 422,
            ErrorKind::CooldownActiveError => 409,
            ErrorKind::InsufficientBalanceError => 422,
            ErrorKind::InvalidOrderError => 400,
            ErrorKind::BadRequestError => 400,
            ErrorKind::ValidationError => 422,
            ErrorKind::NotFoundError => 404,
            ErrorKind::ConflictError => 409,
            ErrorKind::UpstreamError => 503,
            ErrorKind::AuthenticationError => 401,
            ErrorKind::PermissionError => 403,
            ErrorKind::RateLimitError => 429,
            ErrorKind::InternalError => 500,
        }
    }
}

/// An error of the system: a kind, a message and a structured context.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{}: {message}", kind.name())]
pub struct BozError {
    pub kind: ErrorKind,
    pub message: String,
    pub context: Map<String, Value>,
}

/// Builds a context map from `key => value` pairs.
#[macro_export]
macro_rules! context {
    ($($k:expr => $v:expr),* $(,)?) => {{
        #[allow(unused_mut)]
        let mut m = ::serde_json::Map::new();
        $( m.insert(($k).to_string(), ::serde_json::json!($v)); )*
        m
    }};
}

impl BozError {
    pub fn new(kind: ErrorKind, message: impl Into<String>, context: Map<String, Value>) -> Self {
        BozError {
            kind,
            message: message.into(),
            context,
        }
    }

    pub fn stale_data(source: &str, age_minutes: i64, max_age_minutes: i64) -> Self {
        Self::new(
            ErrorKind::StaleDataError,
            format!("{source} data is {age_minutes} minutes old (limit {max_age_minutes})"),
            crate::context!("source" => source, "age_minutes" => age_minutes,
                "max_age_minutes" => max_age_minutes),
        )
    }

    pub fn risk_limit(limit: &str, current: impl fmt::Display, max: impl fmt::Display) -> Self {
        let (current, max) = (current.to_string(), max.to_string());
        Self::new(
            ErrorKind::RiskLimitError,
            format!("{limit} would be exceeded ({current} of {max})"),
            crate::context!("limit" => limit, "current" => current, "max" => max),
        )
    }

    /// A risk limit refused a trade: the limit, what is used now, what was asked for.
    pub fn risk_refused(
        limit: &str,
        current: impl fmt::Display,
        attempted: impl fmt::Display,
        max: impl fmt::Display,
    ) -> Self {
        let (current, attempted, max) =
            (current.to_string(), attempted.to_string(), max.to_string());
        Self::new(
            ErrorKind::RiskLimitError,
            format!("{limit}: {current} used + {attempted} asked would pass the limit of {max}"),
            crate::context!("limit" => limit, "current" => current, "attempted" => attempted,
                "max" => max),
        )
    }

    pub fn cooldown_active(until: chrono::DateTime<chrono::Utc>, reason: &str) -> Self {
        Self::new(
            ErrorKind::CooldownActiveError,
            format!("trading is paused until {}: {reason}", until.to_rfc3339()),
            crate::context!("until" => until.to_rfc3339(), "reason" => reason),
        )
    }

    pub fn insufficient_balance(needed: impl fmt::Display, available: impl fmt::Display) -> Self {
        let (needed, available) = (needed.to_string(), available.to_string());
        Self::new(
            ErrorKind::InsufficientBalanceError,
            format!("balance {available} is less than the {needed} needed"),
            crate::context!("needed" => needed, "available" => available),
        )
    }

    pub fn invalid_order(reason: impl Into<String>) -> Self {
        let reason = reason.into();
        Self::new(
            ErrorKind::InvalidOrderError,
            reason.clone(),
            crate::context!("reason" => reason),
        )
    }

    pub fn not_found(what: &str, id: impl fmt::Display) -> Self {
        let id = id.to_string();
        Self::new(
            ErrorKind::NotFoundError,
            format!("{what} {id} not found"),
            crate::context!("resource" => what, "id" => id),
        )
    }

    pub fn conflict(message: impl Into<String>, context: Map<String, Value>) -> Self {
        Self::new(ErrorKind::ConflictError, message, context)
    }

    pub fn upstream(service: &str, message: impl Into<String>) -> Self {
        let message = message.into();
        Self::new(
            ErrorKind::UpstreamError,
            format!("{service}: {message}"),
            crate::context!("service" => service),
        )
    }

    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::InternalError, message, Map::new())
    }
}

impl From<ValidationError> for BozError {
    fn from(e: ValidationError) -> Self {
        let message = e.to_string();
        BozError::new(
            ErrorKind::ValidationError,
            message,
            crate::context!("field" => e.field, "reason" => e.reason),
        )
    }
}

/// The seed's JSON error body.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ErrorBody {
    pub error: String,
    pub message: String,
    pub context: Map<String, Value>,
}

/// The one mapping from an error to an HTTP status and the seed's body. Internal errors keep
/// their details out of the body (they are logged where they happen).
pub fn error_body(err: &BozError) -> (u16, ErrorBody) {
    let (message, context) = match err.kind {
        ErrorKind::InternalError => ("internal error".to_string(), Map::new()),
        _ => (err.message.clone(), err.context.clone()),
    };
    (
        err.kind.http_status(),
        ErrorBody {
            error: err.kind.name().to_string(),
            message,
            context,
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn body_has_the_seed_shape() {
        let e = BozError::risk_limit("daily loss limit", "8.50", "10.00");
        let (status, body) = error_body(&e);
        assert_eq!(status, 422);
        assert_eq!(
            serde_json::to_value(&body).unwrap(),
            serde_json::json!({
                "error": "RiskLimitError",
                "message": "daily loss limit would be exceeded (8.50 of 10.00)",
                "context": {"limit": "daily loss limit", "current": "8.50", "max": "10.00"}
            })
        );
    }

    #[test]
    fn every_kind_has_a_status_and_internal_hides_details() {
        let e = BozError::stale_data("NWS", 95, 90);
        assert_eq!(error_body(&e).0, 503);
        assert_eq!(error_body(&e).1.context["age_minutes"], 95);
        let (s, b) = error_body(&BozError::internal("db password wrong at line 3"));
        assert_eq!(s, 500);
        assert_eq!(b.message, "internal error");
        assert!(b.context.is_empty());
        let v: BozError = ValidationError::new("max_trade_size", "must be positive").into();
        let (s, b) = error_body(&v);
        assert_eq!(s, 422);
        assert_eq!(b.context["field"], "max_trade_size");
        assert_eq!(error_body(&BozError::not_found("trade", "t1")).0, 404);
        assert_eq!(error_body(&BozError::invalid_order("count is zero")).0, 400);
        assert_eq!(
            error_body(&BozError::cooldown_active(chrono::Utc::now(), "loss")).0,
            409
        );
        assert_eq!(
            error_body(&BozError::insufficient_balance("5.00", "1.00")).0,
            422
        );
        assert_eq!(error_body(&BozError::upstream("NWS", "503")).0, 503);
        assert_eq!(error_body(&BozError::conflict("dup", Map::new())).0, 409);
    }
}
