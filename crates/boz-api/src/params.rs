//! Request parameters and bodies, read in one place: a bad value is a 422 `ValidationError`
//! naming the field; a body that is not JSON at all is a 400 `BadRequestError`.

use boz_common::error::ErrorKind;
use boz_common::{BozError, CityCode, ValidationError};
use chrono::NaiveDate;
use serde::de::DeserializeOwned;

use crate::error::{ApiError, ApiResult};

/// A 422 naming `field`.
pub fn invalid(field: &str, reason: impl Into<String>) -> ApiError {
    ApiError(ValidationError::new(field, reason).into())
}

/// A city code (`nyc` or `NYC`).
pub fn city(v: &str) -> ApiResult<CityCode> {
    CityCode::parse(&v.to_ascii_uppercase()).map_err(|e| invalid("city", e.to_string()))
}

pub fn opt_city(v: Option<&str>) -> ApiResult<Option<CityCode>> {
    v.filter(|c| !c.is_empty()).map(city).transpose()
}

/// A trade status (`pending` or `PENDING`); none when absent or empty.
pub fn opt_status(v: Option<&str>) -> ApiResult<Option<boz_common::status::TradeStatus>> {
    v.filter(|s| !s.is_empty())
        .map(|s| {
            s.to_ascii_uppercase()
                .parse()
                .map_err(|e: String| invalid("status", e))
        })
        .transpose()
}

/// A date, `YYYY-MM-DD`.
pub fn date(field: &str, v: &str) -> ApiResult<NaiveDate> {
    NaiveDate::parse_from_str(v, "%Y-%m-%d")
        .map_err(|_| invalid(field, format!("{v:?} is not a date (YYYY-MM-DD)")))
}

pub fn opt_date(field: &str, v: Option<&str>) -> ApiResult<Option<NaiveDate>> {
    v.map(|v| date(field, v)).transpose()
}

/// Why `b` could not be read: not JSON at all (400), or JSON of the wrong shape (422).
fn unreadable(b: &[u8], e: &serde_json::Error, detail: bool) -> ApiError {
    if let Err(syntax) = serde_json::from_slice::<serde::de::IgnoredAny>(b) {
        let message = if detail {
            format!("the body is not JSON: {syntax}")
        } else {
            "the body is not JSON".to_string()
        };
        return ApiError(BozError::new(
            ErrorKind::BadRequestError,
            message,
            serde_json::Map::new(),
        ));
    }
    invalid(
        "body",
        if detail {
            format!("not valid: {e}")
        } else {
            "a field is missing or of the wrong type".to_string()
        },
    )
}

/// A JSON body (serde's reason, with the field, in the error).
pub fn json_body<T: DeserializeOwned>(b: &[u8]) -> ApiResult<T> {
    serde_json::from_slice(b).map_err(|e| unreadable(b, &e, true))
}

/// A JSON body that holds secrets: the error never repeats any of it.
pub fn secret_json_body<T: DeserializeOwned>(b: &[u8]) -> ApiResult<T> {
    serde_json::from_slice(b).map_err(|e| unreadable(b, &e, false))
}

/// An optional JSON body (empty is the default).
pub fn optional_json_body<T: DeserializeOwned + Default>(b: &[u8]) -> ApiResult<T> {
    if b.iter().all(u8::is_ascii_whitespace) {
        return Ok(T::default());
    }
    json_body(b)
}
