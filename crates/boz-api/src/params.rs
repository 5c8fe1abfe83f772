//! Request parameters, read in one place: a bad one is a 422 `ValidationError` naming the field.

use boz_common::{CityCode, ValidationError};
use chrono::NaiveDate;

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

/// A date, `YYYY-MM-DD`.
pub fn date(field: &str, v: &str) -> ApiResult<NaiveDate> {
    NaiveDate::parse_from_str(v, "%Y-%m-%d")
        .map_err(|_| invalid(field, format!("{v:?} is not a date (YYYY-MM-DD)")))
}

pub fn opt_date(field: &str, v: Option<&str>) -> ApiResult<Option<NaiveDate>> {
    v.map(|v| date(field, v)).transpose()
}
