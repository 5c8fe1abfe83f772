//! The interface contracts (the seed's `schemas.py`), with the seed's field names and JSON shape.
//!
//! Each validated schema is a newtype over a plain `...Fields` struct that holds the seed's
//! fields. The only ways to get one are [`new`](WeatherData::new) and deserialisation, and both
//! validate, so a value that exists is valid ("parse, don't validate"). Fields are read through
//! `Deref` (`prediction.brackets`), never written; `into_fields()` gives the parts back to build a
//! changed copy, which is validated again.
//!
//! Departures from the seed, each for correctness:
//! - money, prices and counts are [`Dollars`], [`Price`] and [`Count`] (exact; JSON numbers);
//! - `BracketProbability` bounds are the inclusive whole degrees that pay YES ("53-54F" is 53
//!   and 54); an open tail has one bound;
//! - `TradeRecord.status` is the full [`TradeStatus`]; the seed's `OPEN` reads as `EXECUTED`;
//! - `city` is a [`CityCode`] checked against the configured cities.

use std::ops::Deref;

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize, Serializer};
use serde_json::Value;

use crate::city::CityCode;
use crate::error::ValidationError;
use crate::money::{Count, Dollars, Price};
use crate::status::TradeStatus;

/// Plausible air temperatures in °F; anything outside is a unit or parsing error.
pub const TEMPERATURE_RANGE_F: std::ops::RangeInclusive<f64> = -80.0..=140.0;
/// How far bracket probabilities may sum away from 1.
pub const PROBABILITY_SUM_TOLERANCE: f64 = 1e-9;

macro_rules! validated {
    ($(#[$m:meta])* $name:ident($fields:ident), $validate:expr) => {
        $(#[$m])*
        #[derive(Debug, Clone, PartialEq)]
        pub struct $name($fields);

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let fields = $fields::deserialize(d)?;
                Self::new(fields).map_err(serde::de::Error::custom)
            }
        }

        impl $name {
            /// Validates the fields and builds the value.
            pub fn new(fields: $fields) -> Result<Self, ValidationError> {
                let validate: fn(&$fields) -> Result<(), ValidationError> = $validate;
                validate(&fields)?;
                Ok(Self(fields))
            }

            /// The plain fields, to build a changed copy.
            pub fn into_fields(self) -> $fields {
                self.0
            }
        }

        impl Deref for $name {
            type Target = $fields;
            fn deref(&self) -> &$fields {
                &self.0
            }
        }

        impl TryFrom<$fields> for $name {
            type Error = ValidationError;
            fn try_from(f: $fields) -> Result<Self, ValidationError> {
                Self::new(f)
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                self.0.serialize(s)
            }
        }
    };
}

fn finite(field: &str, v: f64) -> Result<(), ValidationError> {
    if v.is_finite() {
        Ok(())
    } else {
        Err(ValidationError::new(
            field,
            format!("must be a finite number, got {v}"),
        ))
    }
}

fn temperature(field: &str, v: f64) -> Result<(), ValidationError> {
    finite(field, v)?;
    if TEMPERATURE_RANGE_F.contains(&v) {
        Ok(())
    } else {
        Err(ValidationError::new(
            field,
            format!("{v} °F is outside the plausible range -80..140 °F"),
        ))
    }
}

fn probability(field: &str, v: f64) -> Result<(), ValidationError> {
    finite(field, v)?;
    if (0.0..=1.0).contains(&v) {
        Ok(())
    } else {
        Err(ValidationError::new(
            field,
            format!("must be within [0, 1], got {v}"),
        ))
    }
}

fn in_range(field: &str, v: Option<f64>, lo: f64, hi: f64) -> Result<(), ValidationError> {
    if let Some(v) = v {
        finite(field, v)?;
        if !(lo..=hi).contains(&v) {
            return Err(ValidationError::new(
                field,
                format!("must be within [{lo}, {hi}], got {v}"),
            ));
        }
    }
    Ok(())
}

fn non_empty(field: &str, v: &str) -> Result<(), ValidationError> {
    if v.trim().is_empty() {
        Err(ValidationError::new(field, "must not be empty"))
    } else {
        Ok(())
    }
}

/// Which side of a binary contract.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Side {
    Yes,
    No,
}

impl Side {
    pub fn as_str(self) -> &'static str {
        match self {
            Side::Yes => "yes",
            Side::No => "no",
        }
    }
}

impl std::str::FromStr for Side {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "yes" => Ok(Side::Yes),
            "no" => Ok(Side::No),
            _ => Err(format!("unknown side {s:?} (expected yes or no)")),
        }
    }
}

/// The model's confidence in a prediction or signal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Confidence {
    High,
    Medium,
    Low,
}

impl Confidence {
    pub fn as_str(self) -> &'static str {
        match self {
            Confidence::High => "HIGH",
            Confidence::Medium => "MEDIUM",
            Confidence::Low => "LOW",
        }
    }
}

impl std::str::FromStr for Confidence {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "HIGH" => Ok(Confidence::High),
            "MEDIUM" => Ok(Confidence::Medium),
            "LOW" => Ok(Confidence::Low),
            _ => Err(format!("unknown confidence {s:?}")),
        }
    }
}

/// Whether trades go out on their own or wait for the user.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TradingMode {
    Auto,
    Manual,
}

// ---------------------------------------------------------------- WeatherVariables

/// The seed's `WeatherVariables` fields.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WeatherVariablesFields {
    pub temp_high_f: f64,
    pub temp_low_f: Option<f64>,
    pub humidity_pct: Option<f64>,
    pub wind_speed_mph: Option<f64>,
    pub wind_gust_mph: Option<f64>,
    pub cloud_cover_pct: Option<f64>,
    pub dew_point_f: Option<f64>,
    pub pressure_mb: Option<f64>,
}

fn validate_variables(v: &WeatherVariablesFields) -> Result<(), ValidationError> {
    temperature("temp_high_f", v.temp_high_f)?;
    if let Some(low) = v.temp_low_f {
        temperature("temp_low_f", low)?;
    }
    if let Some(dp) = v.dew_point_f {
        temperature("dew_point_f", dp)?;
    }
    in_range("humidity_pct", v.humidity_pct, 0.0, 100.0)?;
    in_range("cloud_cover_pct", v.cloud_cover_pct, 0.0, 100.0)?;
    in_range("wind_speed_mph", v.wind_speed_mph, 0.0, 300.0)?;
    in_range("wind_gust_mph", v.wind_gust_mph, 0.0, 300.0)?;
    in_range("pressure_mb", v.pressure_mb, 800.0, 1100.0)?;
    Ok(())
}

validated!(
    /// Weather variables for one city and climate day (temperatures °F, wind mph, pressure mb).
    WeatherVariables(WeatherVariablesFields),
    validate_variables
);

impl WeatherVariables {
    /// Only the day's high known (a source that gives nothing else).
    pub fn high_only(temp_high_f: f64) -> Result<WeatherVariables, ValidationError> {
        WeatherVariables::new(WeatherVariablesFields {
            temp_high_f,
            temp_low_f: None,
            humidity_pct: None,
            wind_speed_mph: None,
            wind_gust_mph: None,
            cloud_cover_pct: None,
            dew_point_f: None,
            pressure_mb: None,
        })
    }
}

// ---------------------------------------------------------------- WeatherData

/// The seed's `WeatherData` fields.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WeatherDataFields {
    pub city: CityCode,
    pub date: NaiveDate,
    pub forecast_high_f: f64,
    /// "NWS", "Open-Meteo:GFS", "Open-Meteo:ECMWF", "Open-Meteo:ENS-GFS", ...
    pub source: String,
    pub model_run_timestamp: DateTime<Utc>,
    pub variables: WeatherVariables,
    /// The full raw API response (a JSON object).
    pub raw_data: Value,
    pub fetched_at: DateTime<Utc>,
}

fn validate_weather(w: &WeatherDataFields) -> Result<(), ValidationError> {
    temperature("forecast_high_f", w.forecast_high_f)?;
    non_empty("source", &w.source)?;
    if !w.raw_data.is_object() {
        return Err(ValidationError::new("raw_data", "must be a JSON object"));
    }
    Ok(())
}

validated!(
    /// One source's forecast of one city's climate-day high.
    WeatherData(WeatherDataFields),
    validate_weather
);

// ---------------------------------------------------------------- BracketProbability

/// The seed's `BracketProbability` fields.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BracketProbabilityFields {
    /// e.g. "53-54F", "48F or below", "57F or above".
    pub bracket_label: String,
    /// Lowest whole degree that pays YES; `None` for the low tail.
    pub lower_bound_f: Option<f64>,
    /// Highest whole degree that pays YES; `None` for the high tail.
    pub upper_bound_f: Option<f64>,
    pub probability: f64,
}

fn whole_degree(field: &str, v: Option<f64>) -> Result<(), ValidationError> {
    if let Some(v) = v {
        temperature(field, v)?;
        if v.fract() != 0.0 {
            return Err(ValidationError::new(
                field,
                format!("must be a whole degree (the inclusive bound that pays), got {v}"),
            ));
        }
    }
    Ok(())
}

fn validate_bracket(b: &BracketProbabilityFields) -> Result<(), ValidationError> {
    non_empty("bracket_label", &b.bracket_label)?;
    whole_degree("lower_bound_f", b.lower_bound_f)?;
    whole_degree("upper_bound_f", b.upper_bound_f)?;
    match (b.lower_bound_f, b.upper_bound_f) {
        (None, None) => {
            return Err(ValidationError::new(
                "lower_bound_f",
                "a bracket needs at least one bound",
            ));
        }
        (Some(lo), Some(hi)) if lo > hi => {
            return Err(ValidationError::new(
                "upper_bound_f",
                format!("upper bound {hi} is below lower bound {lo}"),
            ));
        }
        _ => {}
    }
    probability("probability", b.probability)
}

validated!(
    /// One bracket and the model's probability that it pays YES.
    BracketProbability(BracketProbabilityFields),
    validate_bracket
);

// ---------------------------------------------------------------- BracketPrediction

/// The seed's `BracketPrediction` fields.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BracketPredictionFields {
    pub city: CityCode,
    pub date: NaiveDate,
    /// Every bracket of the event, ordered from the low tail to the high tail.
    pub brackets: Vec<BracketProbability>,
    pub ensemble_forecast_f: f64,
    pub confidence: Confidence,
    pub model_sources: Vec<String>,
    pub forecast_spread_f: f64,
    pub error_std_f: f64,
    pub generated_at: DateTime<Utc>,
}

fn validate_prediction(p: &BracketPredictionFields) -> Result<(), ValidationError> {
    let n = p.brackets.len();
    if n < 2 {
        return Err(ValidationError::new(
            "brackets",
            format!("needs at least two brackets (two tails), got {n}"),
        ));
    }
    for (i, b) in p.brackets.iter().enumerate() {
        let at = |f: &str| format!("brackets[{i}].{f}");
        let first = i == 0;
        let last = i == n - 1;
        if first != b.lower_bound_f.is_none() {
            let why = if first {
                "the first bracket must be the open low tail (no lower bound)"
            } else {
                "only the first bracket may lack a lower bound"
            };
            return Err(ValidationError::new(at("lower_bound_f"), why));
        }
        if last != b.upper_bound_f.is_none() {
            let why = if last {
                "the last bracket must be the open high tail (no upper bound)"
            } else {
                "only the last bracket may lack an upper bound"
            };
            return Err(ValidationError::new(at("upper_bound_f"), why));
        }
        if i > 0 {
            let prev_upper = p.brackets[i - 1].upper_bound_f;
            if let (Some(prev), Some(lo)) = (prev_upper, b.lower_bound_f)
                && lo != prev + 1.0
            {
                return Err(ValidationError::new(
                    at("lower_bound_f"),
                    format!(
                        "brackets are not contiguous: {lo} does not follow the previous upper bound {prev}"
                    ),
                ));
            }
        }
    }
    let sum: f64 = p.brackets.iter().map(|b| b.probability).sum();
    if (sum - 1.0).abs() > PROBABILITY_SUM_TOLERANCE {
        return Err(ValidationError::new(
            "brackets",
            format!("probabilities sum to {sum}, not 1 (tolerance {PROBABILITY_SUM_TOLERANCE:e})"),
        ));
    }
    temperature("ensemble_forecast_f", p.ensemble_forecast_f)?;
    finite("forecast_spread_f", p.forecast_spread_f)?;
    if p.forecast_spread_f < 0.0 {
        return Err(ValidationError::new(
            "forecast_spread_f",
            "must not be negative",
        ));
    }
    finite("error_std_f", p.error_std_f)?;
    if p.error_std_f <= 0.0 {
        return Err(ValidationError::new("error_std_f", "must be positive"));
    }
    if p.model_sources.is_empty() {
        return Err(ValidationError::new(
            "model_sources",
            "must name at least one source",
        ));
    }
    Ok(())
}

validated!(
    /// The model's probabilities for every bracket of one city's climate day.
    BracketPrediction(BracketPredictionFields),
    validate_prediction
);

// ---------------------------------------------------------------- TradeSignal

/// The seed's `TradeSignal` fields.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TradeSignalFields {
    pub city: CityCode,
    pub bracket: BracketProbability,
    pub side: Side,
    /// The executable price of the side bought (YES ask, or 1 - best YES bid for NO).
    pub market_price: Price,
    /// The model's probability that the side bought wins.
    pub model_probability: f64,
    /// Expected value per contract in dollars after fees (an estimate, so `f64`).
    pub ev: f64,
    pub confidence: Confidence,
    pub reasoning: String,
}

fn validate_signal(s: &TradeSignalFields) -> Result<(), ValidationError> {
    probability("model_probability", s.model_probability)?;
    finite("ev", s.ev)?;
    if !(-1.0..=1.0).contains(&s.ev) {
        return Err(ValidationError::new(
            "ev",
            format!("must be within [-1, 1] dollars per contract, got {}", s.ev),
        ));
    }
    non_empty("reasoning", &s.reasoning)
}

validated!(
    /// A trade the engine would make, with its reasons.
    TradeSignal(TradeSignalFields),
    validate_signal
);

// ---------------------------------------------------------------- TradeRecord

/// The seed's `TradeRecord` fields.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TradeRecordFields {
    pub id: String,
    pub city: CityCode,
    pub date: NaiveDate,
    pub bracket_label: String,
    pub side: Side,
    pub entry_price: Price,
    pub quantity: Count,
    pub model_probability: f64,
    pub market_probability: f64,
    pub ev_at_entry: f64,
    pub confidence: Confidence,
    /// Forecast snapshots at the time of the trade.
    pub weather_forecasts: Vec<WeatherData>,
    /// The model output at the time of the trade.
    pub prediction: BracketPrediction,
    pub status: TradeStatus,
    pub settlement_temp_f: Option<f64>,
    pub settlement_source: Option<String>,
    pub pnl: Option<Dollars>,
    pub postmortem: Option<String>,
    pub created_at: DateTime<Utc>,
    pub settled_at: Option<DateTime<Utc>>,
}

fn validate_trade(t: &TradeRecordFields) -> Result<(), ValidationError> {
    non_empty("id", &t.id)?;
    non_empty("bracket_label", &t.bracket_label)?;
    if t.quantity == Count::ZERO {
        return Err(ValidationError::new("quantity", "must be positive"));
    }
    probability("model_probability", t.model_probability)?;
    probability("market_probability", t.market_probability)?;
    finite("ev_at_entry", t.ev_at_entry)?;
    if let Some(temp) = t.settlement_temp_f {
        temperature("settlement_temp_f", temp)?;
    }
    if t.prediction.city != t.city || t.prediction.date != t.date {
        return Err(ValidationError::new(
            "prediction",
            "is for another city or date than the trade",
        ));
    }
    if !t
        .prediction
        .brackets
        .iter()
        .any(|b| b.bracket_label == t.bracket_label)
    {
        return Err(ValidationError::new(
            "bracket_label",
            format!("{:?} is not a bracket of the prediction", t.bracket_label),
        ));
    }
    if let Some(s) = t.settled_at
        && s < t.created_at
    {
        return Err(ValidationError::new("settled_at", "is before created_at"));
    }
    Ok(())
}

validated!(
    /// A trade, with the data it was made on, for the record and the post-mortem.
    TradeRecord(TradeRecordFields),
    validate_trade
);

// ---------------------------------------------------------------- UserSettings

/// The seed's `UserSettings` fields.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UserSettingsFields {
    pub trading_mode: TradingMode,
    /// Dollars at most per trade.
    pub max_trade_size: Dollars,
    pub daily_loss_limit: Dollars,
    pub max_daily_exposure: Dollars,
    /// Minimum EV per contract, in dollars, 0.0 to 1.0.
    pub min_ev_threshold: f64,
    pub cooldown_per_loss_minutes: u32,
    pub consecutive_loss_limit: u32,
    /// Which cities to trade.
    pub cities: Vec<CityCode>,
}

fn validate_settings(s: &UserSettingsFields) -> Result<(), ValidationError> {
    for (name, v) in [
        ("max_trade_size", s.max_trade_size),
        ("daily_loss_limit", s.daily_loss_limit),
        ("max_daily_exposure", s.max_daily_exposure),
    ] {
        if !v.is_positive() {
            return Err(ValidationError::new(
                name,
                format!("must be positive, got {v}"),
            ));
        }
    }
    if s.max_trade_size > s.max_daily_exposure {
        return Err(ValidationError::new(
            "max_trade_size",
            format!(
                "{} exceeds max_daily_exposure {}",
                s.max_trade_size, s.max_daily_exposure
            ),
        ));
    }
    probability("min_ev_threshold", s.min_ev_threshold)?;
    if s.consecutive_loss_limit == 0 {
        return Err(ValidationError::new(
            "consecutive_loss_limit",
            "must be positive",
        ));
    }
    let mut seen = std::collections::BTreeSet::new();
    for c in &s.cities {
        if !seen.insert(c) {
            return Err(ValidationError::new(
                "cities",
                format!("{c} is listed twice"),
            ));
        }
    }
    Ok(())
}

validated!(
    /// A user's trading settings.
    UserSettings(UserSettingsFields),
    validate_settings
);

// ---------------------------------------------------------------- PendingTrade

/// A signal waiting for the user's approval in manual mode.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PendingTradeFields {
    pub id: String,
    pub user_id: String,
    pub date: NaiveDate,
    /// The Kalshi market the signal is for.
    pub market_ticker: String,
    pub signal: TradeSignal,
    pub quantity: Count,
    /// The price captured when queued; approval re-checks a fresh book against it.
    pub limit_price: Price,
    pub status: TradeStatus,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

fn validate_pending(p: &PendingTradeFields) -> Result<(), ValidationError> {
    non_empty("id", &p.id)?;
    non_empty("user_id", &p.user_id)?;
    non_empty("market_ticker", &p.market_ticker)?;
    if p.quantity == Count::ZERO {
        return Err(ValidationError::new("quantity", "must be positive"));
    }
    if p.expires_at <= p.created_at {
        return Err(ValidationError::new(
            "expires_at",
            "must be after created_at",
        ));
    }
    use TradeStatus::*;
    if !matches!(p.status, Pending | Approved | Rejected | Expired) {
        return Err(ValidationError::new(
            "status",
            format!("{} is not a queue state", p.status),
        ));
    }
    Ok(())
}

validated!(
    /// A trade in the manual approval queue.
    PendingTrade(PendingTradeFields),
    validate_pending
);

// ---------------------------------------------------------------- PostMortem

/// What a settled trade's outcome is put down to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Verdict {
    /// Won, as the model expected.
    Win,
    /// A sound forecast and price; the unlikely outcome happened.
    BadLuck,
    /// The forecast was far off (in units of its own σ).
    BadForecast,
    /// The forecast was fine but the price paid left no edge.
    BadPrice,
    /// Something in our data or code was wrong (e.g. settlement mismatch).
    Bug,
}

/// The structured post-mortem of one settled trade.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PostMortemFields {
    pub trade_id: String,
    pub city: CityCode,
    pub date: NaiveDate,
    pub actual_high_f: f64,
    pub forecast_high_f: f64,
    /// Forecast minus actual, °F.
    pub forecast_error_f: f64,
    /// The error in units of the prediction's σ.
    pub forecast_error_sigma: f64,
    pub closest_source: Option<String>,
    pub furthest_source: Option<String>,
    /// The model's probability for the bracket that won.
    pub winning_bracket_probability: f64,
    pub entry_price: Price,
    /// The last price before close, for closing-line value.
    pub closing_price: Option<Price>,
    pub fees: Dollars,
    pub pnl: Dollars,
    pub settlement_issues: Vec<String>,
    pub verdict: Verdict,
    pub narrative: String,
}

fn validate_postmortem(p: &PostMortemFields) -> Result<(), ValidationError> {
    non_empty("trade_id", &p.trade_id)?;
    temperature("actual_high_f", p.actual_high_f)?;
    temperature("forecast_high_f", p.forecast_high_f)?;
    finite("forecast_error_f", p.forecast_error_f)?;
    finite("forecast_error_sigma", p.forecast_error_sigma)?;
    probability("winning_bracket_probability", p.winning_bracket_probability)?;
    if p.fees.is_negative() {
        return Err(ValidationError::new("fees", "must not be negative"));
    }
    non_empty("narrative", &p.narrative)
}

validated!(
    /// Why a trade won or lost.
    PostMortem(PostMortemFields),
    validate_postmortem
);
