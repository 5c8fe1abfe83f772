//! Errors of the weather clients. Messages name the service, the path (never the query string,
//! which may carry an API key) and what went wrong.

use boz_common::error::BozError;

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum WeatherError {
    #[error("{service}: blocked (HTTP 403 HTML page from the CDN): check NWS_USER_AGENT")]
    Blocked { service: &'static str },
    #[error("{service}: {path} answered HTTP {status} {title}{}", if detail.is_empty() { String::new() } else { format!(": {detail}") })]
    Http {
        service: &'static str,
        path: String,
        status: u16,
        title: String,
        detail: String,
    },
    #[error("{service}: {path} did not answer within the timeout")]
    Timeout { service: &'static str, path: String },
    #[error("{service}: cannot reach {path}: {reason}")]
    Connect {
        service: &'static str,
        path: String,
        reason: String,
    },
    #[error("{service}: malformed response from {path}: {reason}")]
    Malformed {
        service: &'static str,
        path: String,
        reason: String,
    },
    #[error(
        "{service}: data is stale: updated {age_minutes} minutes ago (limit {max_age_minutes})"
    )]
    Stale {
        service: &'static str,
        age_minutes: i64,
        max_age_minutes: i64,
    },
    #[error("{service}: no data for {what}")]
    NoData { service: &'static str, what: String },
}

impl WeatherError {
    /// Worth retrying: 500/502/503/504, timeouts and connection failures. Nothing else.
    pub fn is_transient(&self) -> bool {
        match self {
            WeatherError::Http { status, .. } => matches!(status, 500 | 502 | 503 | 504),
            WeatherError::Timeout { .. } | WeatherError::Connect { .. } => true,
            _ => false,
        }
    }

    /// The HTTP status, if the server answered.
    pub fn status(&self) -> Option<u16> {
        match self {
            WeatherError::Http { status, .. } => Some(*status),
            WeatherError::Blocked { .. } => Some(403),
            _ => None,
        }
    }

    pub fn service(&self) -> &'static str {
        match self {
            WeatherError::Blocked { service }
            | WeatherError::Http { service, .. }
            | WeatherError::Timeout { service, .. }
            | WeatherError::Connect { service, .. }
            | WeatherError::Malformed { service, .. }
            | WeatherError::Stale { service, .. }
            | WeatherError::NoData { service, .. } => service,
        }
    }
}

impl From<WeatherError> for BozError {
    fn from(e: WeatherError) -> Self {
        match &e {
            WeatherError::Stale {
                service,
                age_minutes,
                max_age_minutes,
            } => BozError::stale_data(service, *age_minutes, *max_age_minutes),
            _ => {
                let mut err = BozError::upstream(e.service(), e.to_string());
                // The variant's text already names the service.
                err.message = e.to_string();
                if let Some(s) = e.status() {
                    err.context.insert("status".into(), s.into());
                }
                err
            }
        }
    }
}
