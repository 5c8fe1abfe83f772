//! The NWS API client (`api.weather.gov`).
//!
//! - `/points/{lat},{lon}` gives each city's forecast office and grid cell; it is resolved on
//!   first use, cached for a day, and resolved again once when a grid endpoint answers 404
//!   (grid cells move without notice).
//! - Three forecast sources per city and climate date:
//!   - `NWS`: the raw gridpoint `maxTemperature` (the NDFD daytime maximum) of the period that
//!     overlaps the climate day most, plus the other variables over the climate day;
//!   - `NWS:forecast`: the daytime period's high of the 12-hour `/forecast`;
//!   - `NWS:hourly`: the maximum of `/forecast/hourly` over the climate day, only when the whole
//!     day is covered (a partial day would understate the high).
//! - Observations: the running maximum so far within the current climate day, from the METAR
//!   T-group (0.1 °C) of each observation and the 6-hour maximum groups whose 6 hours lie inside
//!   the day.
//! - A forecast whose `updateTime` is older than `NWS_MAX_FORECAST_AGE_MINUTES` is stale: an
//!   error, never silently used.

pub mod grid;
pub mod metar;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration as StdDuration;

use boz_common::city::City;
use boz_common::ports::Clock;
use boz_common::schemas::{
    WeatherData, WeatherDataFields, WeatherVariables, WeatherVariablesFields,
};
use chrono::{DateTime, Duration, NaiveDate, Utc};
use serde::Serialize;
use serde_json::{Value, json};

use crate::error::WeatherError;
use crate::http::{HttpJson, RetryPolicy, rate_limiter};
use crate::units::{Quantity, c_to_f, convert};

const SERVICE: &str = "NWS";
/// How long a `/points` resolution is trusted.
const GRID_TTL_HOURS: i64 = 24;

/// A city's forecast grid cell.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GridPoint {
    pub office: String,
    pub x: i64,
    pub y: i64,
}

/// How to reach NWS.
#[derive(Debug, Clone)]
pub struct NwsConfig {
    pub base_url: String,
    pub user_agent: String,
    pub rate_limit_per_second: f64,
    pub timeout: StdDuration,
    pub max_forecast_age: Duration,
    pub retry: RetryPolicy,
}

/// The running maximum of the current climate day from station observations.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ObservedMax {
    pub city: String,
    pub station: String,
    pub climate_date: NaiveDate,
    /// The highest temperature so far, °F.
    pub max_f: f64,
    /// When that temperature was reported.
    pub max_at: DateTime<Utc>,
    /// `t_group` (hourly 0.1 °C), `six_hour_max` (1snTTT group) or `temperature` (the API value).
    pub max_from: String,
    pub latest_observation_at: DateTime<Utc>,
    pub observations: usize,
}

/// A station's latest observation.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LatestObservation {
    pub station: String,
    pub at: DateTime<Utc>,
    pub temperature_f: Option<f64>,
    pub raw_message: String,
}

/// One climate report product as issued.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ClimateProduct {
    pub id: String,
    pub issued_at: DateTime<Utc>,
    pub text: String,
}

/// The NWS client. One rate limiter is shared by every call it makes.
pub struct NwsClient {
    http: HttpJson,
    base: String,
    max_age: Duration,
    clock: Arc<dyn Clock>,
    grids: Mutex<HashMap<String, (GridPoint, DateTime<Utc>)>>,
}

fn malformed(path: &str, reason: impl Into<String>) -> WeatherError {
    WeatherError::Malformed {
        service: SERVICE,
        path: path.to_string(),
        reason: reason.into(),
    }
}

fn props<'a>(v: &'a Value, path: &str) -> Result<&'a Value, WeatherError> {
    v.get("properties")
        .filter(|p| p.is_object())
        .ok_or_else(|| malformed(path, "no properties object"))
}

fn time_field(p: &Value, field: &str, path: &str) -> Result<DateTime<Utc>, WeatherError> {
    let s = p
        .get(field)
        .and_then(Value::as_str)
        .ok_or_else(|| malformed(path, format!("missing {field}")))?;
    DateTime::parse_from_rfc3339(s)
        .map(|d| d.with_timezone(&Utc))
        .map_err(|e| malformed(path, format!("{field} {s:?}: {e}")))
}

impl NwsClient {
    pub fn new(config: &NwsConfig, clock: Arc<dyn Clock>) -> Result<NwsClient, WeatherError> {
        let http = HttpJson::new(
            SERVICE,
            &config.user_agent,
            "application/geo+json",
            config.timeout,
            Some(rate_limiter(config.rate_limit_per_second)),
            config.retry,
        )?;
        Ok(NwsClient {
            http,
            base: config.base_url.trim_end_matches('/').to_string(),
            max_age: config.max_forecast_age,
            clock,
            grids: Mutex::new(HashMap::new()),
        })
    }

    async fn get(&self, path: &str, query: &[(&str, String)]) -> Result<Value, WeatherError> {
        self.http
            .get_json(&format!("{}{path}", self.base), query)
            .await
    }

    /// Resolves the city's grid cell through `/points` (4 decimals: more have caused 404s).
    pub async fn resolve_grid(&self, city: &City) -> Result<GridPoint, WeatherError> {
        let path = format!("/points/{:.4},{:.4}", city.latitude, city.longitude);
        let v = self.get(&path, &[]).await?;
        let p = props(&v, &path)?;
        let office = p
            .get("gridId")
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .ok_or_else(|| malformed(&path, "missing gridId"))?;
        let coord = |k: &str| {
            p.get(k)
                .and_then(Value::as_i64)
                .ok_or_else(|| malformed(&path, format!("missing {k}")))
        };
        let grid = GridPoint {
            office: office.to_string(),
            x: coord("gridX")?,
            y: coord("gridY")?,
        };
        tracing::info!(target: "WEATHER", city = %city.code, office = %grid.office, x = grid.x, y = grid.y, "resolved NWS grid");
        if let Ok(mut g) = self.grids.lock() {
            g.insert(city.code.clone(), (grid.clone(), self.clock.now()));
        }
        Ok(grid)
    }

    /// The cached grid cell, resolved when missing or older than a day.
    pub async fn grid(&self, city: &City) -> Result<GridPoint, WeatherError> {
        let cached = self
            .grids
            .lock()
            .ok()
            .and_then(|g| g.get(&city.code).cloned());
        match cached {
            Some((grid, at)) if self.clock.now() - at < Duration::hours(GRID_TTL_HOURS) => Ok(grid),
            _ => self.resolve_grid(city).await,
        }
    }

    /// GETs a grid endpoint (`suffix` after `/gridpoints/{o}/{x},{y}`); on a 404 the grid is
    /// resolved again once and the call repeated.
    async fn grid_get(&self, city: &City, suffix: &str) -> Result<Value, WeatherError> {
        let grid = self.grid(city).await?;
        let path = |g: &GridPoint| format!("/gridpoints/{}/{},{}{suffix}", g.office, g.x, g.y);
        match self.get(&path(&grid), &[]).await {
            Err(WeatherError::Http { status: 404, .. }) => {
                tracing::warn!(target: "WEATHER", city = %city.code, "grid endpoint answered 404; resolving the grid again");
                let fresh = self.resolve_grid(city).await?;
                self.get(&path(&fresh), &[]).await
            }
            other => other,
        }
    }

    fn check_fresh(&self, update_time: DateTime<Utc>) -> Result<(), WeatherError> {
        let age = self.clock.now() - update_time;
        if age > self.max_age {
            return Err(WeatherError::Stale {
                service: SERVICE,
                age_minutes: age.num_minutes(),
                max_age_minutes: self.max_age.num_minutes(),
            });
        }
        Ok(())
    }

    /// `NWS` forecasts from the raw gridpoint data for each date.
    pub async fn gridpoint_forecasts(
        &self,
        city: &City,
        dates: &[NaiveDate],
    ) -> Result<Vec<WeatherData>, WeatherError> {
        let v = self.grid_get(city, "").await?;
        let update = time_field(props(&v, "/gridpoints")?, "updateTime", "/gridpoints")?;
        self.check_fresh(update)?;
        gridpoint_days(&v, city, dates, self.clock.now())
    }

    /// `NWS:forecast` (12-hour periods) and `NWS:hourly` forecasts for each date.
    pub async fn period_forecasts(
        &self,
        city: &City,
        dates: &[NaiveDate],
    ) -> Result<Vec<WeatherData>, WeatherError> {
        let mut out = Vec::new();
        for (suffix, source) in [
            ("/forecast", "NWS:forecast"),
            ("/forecast/hourly", "NWS:hourly"),
        ] {
            let v = self.grid_get(city, suffix).await?;
            let fetched_at = self.clock.now();
            let p = props(&v, suffix)?;
            let update = time_field(p, "updateTime", suffix)?;
            self.check_fresh(update)?;
            let periods = read_periods(p, suffix)?;
            for &date in dates {
                let high = if source == "NWS:forecast" {
                    daytime_high(&periods, date)
                } else {
                    full_day_max(&periods, city, date)
                };
                if let Some((high, used)) = high {
                    out.push(make_weather(
                        city,
                        date,
                        high,
                        source,
                        update,
                        fetched_at,
                        json!({
                            "updateTime": update.to_rfc3339(), "periods": used
                        }),
                        None,
                    )?);
                }
            }
        }
        Ok(out)
    }

    /// The station's latest observation: its time, temperature (°F, from the METAR T-group when
    /// present) and raw METAR.
    pub async fn latest_observation(&self, city: &City) -> Result<LatestObservation, WeatherError> {
        let path = format!("/stations/{}/observations/latest", city.station_id);
        let v = self.get(&path, &[]).await?;
        let p = props(&v, &path)?;
        let at = time_field(p, "timestamp", &path)?;
        let raw = p
            .get("rawMessage")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        let from_metar = metar::parse(&raw).temperature_c.map(c_to_f);
        let from_api = api_temperature_f(p);
        Ok(LatestObservation {
            station: city.station_id.clone(),
            at,
            temperature_f: from_metar.or(from_api),
            raw_message: raw,
        })
    }

    /// The city's climate reports (CLI products), newest first, with their full text: the
    /// product list for the report's location code (`CLINYC` → `NYC`), then each product.
    /// `limit` caps how many products are read.
    pub async fn climate_reports(
        &self,
        city: &City,
        limit: usize,
    ) -> Result<Vec<ClimateProduct>, WeatherError> {
        let location = city
            .climate_report
            .strip_prefix("CLI")
            .unwrap_or(&city.climate_report);
        let path = format!("/products/types/CLI/locations/{location}");
        let list = self.get(&path, &[]).await?;
        let graph = list
            .get("@graph")
            .and_then(Value::as_array)
            .ok_or_else(|| malformed(&path, "no @graph list"))?;
        let mut out = Vec::new();
        for item in graph.iter().take(limit) {
            let id = item
                .get("id")
                .and_then(Value::as_str)
                .ok_or_else(|| malformed(&path, "a product without an id"))?;
            let product_path = format!("/products/{id}");
            let p = self.get(&product_path, &[]).await?;
            let text = p
                .get("productText")
                .and_then(Value::as_str)
                .ok_or_else(|| malformed(&product_path, "no productText"))?;
            out.push(ClimateProduct {
                id: id.to_string(),
                issued_at: time_field(&p, "issuanceTime", &product_path)?,
                text: text.to_string(),
            });
        }
        Ok(out)
    }

    /// The running maximum so far of the city's current climate day.
    pub async fn observed_max(&self, city: &City) -> Result<ObservedMax, WeatherError> {
        let now = self.clock.now();
        let date = city.climate_date(now);
        let (start, end) = city.climate_day_window(date);
        let path = format!("/stations/{}/observations", city.station_id);
        let v = self
            .get(
                &path,
                &[
                    ("start", start.to_rfc3339()),
                    ("end", now.min(end).to_rfc3339()),
                ],
            )
            .await?;
        let features = v
            .get("features")
            .and_then(Value::as_array)
            .ok_or_else(|| malformed(&path, "no features list"))?;
        let mut best: Option<(f64, DateTime<Utc>, &'static str)> = None;
        let mut latest: Option<DateTime<Utc>> = None;
        let mut used = 0;
        for (i, f) in features.iter().enumerate() {
            let p = f
                .get("properties")
                .ok_or_else(|| malformed(&path, format!("features[{i}] has no properties")))?;
            let at = time_field(p, "timestamp", &path)?;
            if at < start || at >= end {
                continue;
            }
            let raw = p
                .get("rawMessage")
                .and_then(Value::as_str)
                .unwrap_or_default();
            let m = metar::parse(raw);
            let api_temp = api_temperature_f(p);
            let mut candidates: Vec<(f64, &'static str)> = Vec::new();
            match (m.temperature_c, api_temp) {
                (Some(c), _) => candidates.push((c_to_f(c), "t_group")),
                (None, Some(f)) => candidates.push((f, "temperature")),
                (None, None) => {}
            }
            // The 6-hour maximum counts only when its 6 hours lie inside the climate day.
            if let Some(c) = m.six_hour_max_c
                && at - Duration::hours(6) >= start
            {
                candidates.push((c_to_f(c), "six_hour_max"));
            }
            if candidates.is_empty() {
                continue;
            }
            used += 1;
            latest = latest.max(Some(at));
            for (f, from) in candidates {
                if best.is_none_or(|(b, _, _)| f > b) {
                    best = Some((f, at, from));
                }
            }
        }
        let (max_f, max_at, from) = best.ok_or(WeatherError::NoData {
            service: SERVICE,
            what: format!(
                "observations at {} since {}",
                city.station_id,
                start.to_rfc3339()
            ),
        })?;
        Ok(ObservedMax {
            city: city.code.clone(),
            station: city.station_id.clone(),
            climate_date: date,
            max_f,
            max_at,
            max_from: from.to_string(),
            latest_observation_at: latest.unwrap_or(max_at),
            observations: used,
        })
    }
}

/// Reads a raw `/gridpoints` response into one `NWS` forecast per date that has a
/// `maxTemperature` period (dates beyond the forecast range are left out). Freshness is the
/// caller's to check.
pub fn gridpoint_days(
    v: &Value,
    city: &City,
    dates: &[NaiveDate],
    fetched_at: DateTime<Utc>,
) -> Result<Vec<WeatherData>, WeatherError> {
    let path = "/gridpoints";
    let p = props(v, path)?;
    let update = time_field(p, "updateTime", path)?;
    let mut out = Vec::new();
    for &date in dates {
        match gridpoint_day(p, city, date, update, fetched_at) {
            Ok(w) => out.push(w),
            Err(GridDayError::NoMax) => {
                tracing::debug!(target: "WEATHER", city = %city.code, %date, "no NWS maxTemperature period for this day");
            }
            Err(GridDayError::Bad(reason)) => return Err(malformed(path, reason)),
        }
    }
    Ok(out)
}

/// An observation's `temperature` in °F, unless missing or failed quality control (`X`).
fn api_temperature_f(p: &Value) -> Option<f64> {
    let t = p.get("temperature")?;
    let qc = t
        .get("qualityControl")
        .and_then(Value::as_str)
        .unwrap_or_default();
    if qc.ends_with('X') {
        return None;
    }
    let value = t.get("value")?.as_f64()?;
    let unit = t
        .get("unitCode")
        .and_then(Value::as_str)
        .unwrap_or("wmoUnit:degC");
    convert(value, unit, Quantity::TemperatureF).ok()
}

/// Why a gridpoint day could not be built.
enum GridDayError {
    /// No maxTemperature period overlaps the day (beyond the forecast range).
    NoMax,
    Bad(String),
}

fn gridpoint_day(
    p: &Value,
    city: &City,
    date: NaiveDate,
    update: DateTime<Utc>,
    fetched_at: DateTime<Utc>,
) -> Result<WeatherData, GridDayError> {
    let (s, e) = city.climate_day_window(date);
    let l = |name: &str| grid::layer(p, name).map_err(GridDayError::Bad);
    let bad = GridDayError::Bad;
    let max_t = l("maxTemperature")?;
    let high = max_t
        .main_period(s, e, Quantity::TemperatureF)
        .map_err(bad)?
        .ok_or(GridDayError::NoMax)?;
    let min_t = l("minTemperature")?;
    let temperature = l("temperature")?;
    let rh = l("relativeHumidity")?;
    let wind = l("windSpeed")?;
    let gust = l("windGust")?;
    let sky = l("skyCover")?;
    let dew = l("dewpoint")?;
    let pressure = l("pressure")?;
    let variables = WeatherVariables::new(WeatherVariablesFields {
        temp_high_f: high,
        temp_low_f: min_t
            .main_period(s, e, Quantity::TemperatureF)
            .map_err(bad)?,
        humidity_pct: rh.mean_within(s, e, Quantity::Percent).map_err(bad)?,
        wind_speed_mph: wind.max_within(s, e, Quantity::SpeedMph).map_err(bad)?,
        wind_gust_mph: gust.max_within(s, e, Quantity::SpeedMph).map_err(bad)?,
        cloud_cover_pct: sky.mean_within(s, e, Quantity::Percent).map_err(bad)?,
        dew_point_f: dew.mean_within(s, e, Quantity::TemperatureF).map_err(bad)?,
        pressure_mb: pressure
            .mean_within(s, e, Quantity::PressureMb)
            .map_err(bad)?,
    })
    .map_err(|e| GridDayError::Bad(e.to_string()))?;
    // raw_data keeps what this day was built from (the full grid is ~130 kB per fetch).
    let raw = json!({
        "updateTime": update.to_rfc3339(),
        "window": {"start": s.to_rfc3339(), "end": e.to_rfc3339()},
        "maxTemperature": {"uom": max_t.unit, "values": max_t.raw_within(s, e)},
        "minTemperature": {"uom": min_t.unit, "values": min_t.raw_within(s, e)},
        "temperature_max_f": temperature.max_within(s, e, Quantity::TemperatureF).map_err(bad)?,
    });
    make_weather(
        city,
        date,
        high,
        "NWS",
        update,
        fetched_at,
        raw,
        Some(variables),
    )
    .map_err(|e| GridDayError::Bad(e.to_string()))
}

/// One forecast period of `/forecast` or `/forecast/hourly`.
#[derive(Debug, Clone, Serialize)]
struct Period {
    start: DateTime<chrono::FixedOffset>,
    end: DateTime<chrono::FixedOffset>,
    is_daytime: bool,
    temperature_f: f64,
}

fn read_periods(p: &Value, path: &str) -> Result<Vec<Period>, WeatherError> {
    let list = p
        .get("periods")
        .and_then(Value::as_array)
        .ok_or_else(|| malformed(path, "no periods list"))?;
    list.iter()
        .enumerate()
        .map(|(i, x)| {
            let t = |k: &str| {
                x.get(k)
                    .and_then(Value::as_str)
                    .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
                    .ok_or_else(|| {
                        malformed(path, format!("periods[{i}].{k} is missing or not a time"))
                    })
            };
            let temp = x
                .get("temperature")
                .and_then(Value::as_f64)
                .ok_or_else(|| malformed(path, format!("periods[{i}].temperature is missing")))?;
            let unit = x
                .get("temperatureUnit")
                .and_then(Value::as_str)
                .unwrap_or("F");
            let temperature_f = match unit {
                "F" => temp,
                "C" => c_to_f(temp),
                other => {
                    return Err(malformed(
                        path,
                        format!("periods[{i}].temperatureUnit {other:?}"),
                    ));
                }
            };
            Ok(Period {
                start: t("startTime")?,
                end: t("endTime")?,
                is_daytime: x.get("isDaytime").and_then(Value::as_bool).unwrap_or(false),
                temperature_f,
            })
        })
        .collect()
}

/// The daytime period that starts on `date` (local clock date; daytime periods start after
/// 6 AM, inside the climate day).
fn daytime_high(periods: &[Period], date: NaiveDate) -> Option<(f64, Value)> {
    periods
        .iter()
        .find(|p| p.is_daytime && p.start.date_naive() == date)
        .map(|p| (p.temperature_f, json!([p])))
}

/// The maximum of hourly periods over the climate day, when every hour of it is covered.
fn full_day_max(periods: &[Period], city: &City, date: NaiveDate) -> Option<(f64, Value)> {
    let (s, e) = city.climate_day_window(date);
    let inside: Vec<&Period> = periods
        .iter()
        .filter(|p| p.start.with_timezone(&Utc) >= s && p.start.with_timezone(&Utc) < e)
        .collect();
    let covered: i64 = inside.iter().map(|p| (p.end - p.start).num_minutes()).sum();
    if covered < 24 * 60 {
        return None;
    }
    let max = inside.iter().map(|p| p.temperature_f).reduce(f64::max)?;
    Some((max, json!({"hours": inside.len(), "max_f": max})))
}

#[allow(clippy::too_many_arguments)]
pub(crate) fn make_weather(
    city: &City,
    date: NaiveDate,
    high: f64,
    source: &str,
    run: DateTime<Utc>,
    fetched_at: DateTime<Utc>,
    raw: Value,
    variables: Option<WeatherVariables>,
) -> Result<WeatherData, WeatherError> {
    let variables = match variables {
        Some(v) => v,
        None => WeatherVariables::high_only(high).map_err(|e| malformed(source, e.to_string()))?,
    };
    WeatherData::new(WeatherDataFields {
        city: city.code(),
        date,
        forecast_high_f: high,
        source: source.to_string(),
        model_run_timestamp: run,
        variables,
        raw_data: raw,
        fetched_at,
    })
    .map_err(|e| malformed(source, e.to_string()))
}
