//! The engine's own settings (the per-user limits are the seed's `UserSettings`).

use boz_common::config::Settings;
use boz_common::{Dollars, Price};

#[derive(Debug, Clone)]
pub struct TradingConfig {
    /// Fraction of the Kelly stake (halved while REDUCING).
    pub kelly_fraction: f64,
    /// No contract is bought below this price.
    pub min_price: Price,
    /// Most dollars per event per trading day.
    pub max_event_exposure: Dollars,
    pub max_prediction_age: chrono::Duration,
    pub max_book_age: chrono::Duration,
    pub approval_ttl: chrono::Duration,
    pub cancel_before_close: chrono::Duration,
    /// How long an order call may take before its outcome counts as unknown.
    pub order_timeout: std::time::Duration,
    /// An order stored but not found at the exchange this long after is taken as never sent.
    pub unknown_grace: chrono::Duration,
}

impl TradingConfig {
    pub fn from_settings(s: &Settings) -> TradingConfig {
        TradingConfig {
            kelly_fraction: s.kelly_fraction,
            min_price: s.min_contract_price,
            max_event_exposure: s.max_event_exposure,
            max_prediction_age: chrono::Duration::minutes(i64::from(s.max_prediction_age_minutes)),
            max_book_age: chrono::Duration::seconds(i64::from(s.max_book_age_seconds)),
            approval_ttl: chrono::Duration::minutes(i64::from(s.approval_ttl_minutes)),
            cancel_before_close: chrono::Duration::minutes(i64::from(
                s.cancel_before_close_minutes,
            )),
            order_timeout: std::time::Duration::from_secs(u64::from(s.http_timeout_seconds) + 5),
            unknown_grace: chrono::Duration::minutes(2),
        }
    }
}
