//! The Open-Meteo client: deterministic models, the ensemble API, and the Previous Runs API.
//!
//! Every request asks for hourly values in GMT and °F/mph; the climate-day values are computed
//! here over the city's standard-time window (Open-Meteo's own daily aggregates use the clock
//! day). A day is used only when all 24 of its hours are present, so a model whose range ends
//! inside the day (HRRR) does not report a half-day maximum.
//!
//! Model names gained provider prefixes in 2026 (`gfs_seamless` became `ncep_gfs_seamless`). Both
//! are accepted in the settings; when Open-Meteo refuses the names sent (HTTP 400), the request is
//! repeated once with the other spelling of each model.
//!
//! Open-Meteo does not say which run a forecast value comes from. `model_run_timestamp` is the
//! fetch time truncated to the hour, so fetches within one hour are stored once. Previous Runs
//! values carry an approximate issue time instead (see [`OpenMeteoClient::previous_run_as_of`]).

use std::sync::Arc;
use std::time::Duration as StdDuration;

use boz_common::city::City;
use boz_common::ports::Clock;
use boz_common::schemas::{WeatherData, WeatherVariables, WeatherVariablesFields};
use chrono::{DateTime, Duration, DurationRound, NaiveDate, NaiveDateTime, Utc};
use serde_json::{Value, json};

use crate::error::WeatherError;
use crate::http::{HttpJson, RetryPolicy};
use crate::nws::make_weather;

const SERVICE: &str = "Open-Meteo";
const HOURLY: &str = "temperature_2m,relative_humidity_2m,dew_point_2m,wind_speed_10m,wind_gusts_10m,cloud_cover,pressure_msl";

/// Old and provider-prefixed spellings of the same model, and the label used in source names.
const MODELS: &[(&str, &str, &str)] = &[
    ("ncep_gfs_seamless", "gfs_seamless", "GFS"),
    ("ecmwf_ifs025", "ecmwf_ifs025", "ECMWF"),
    ("ecmwf_ifs", "ecmwf_ifs", "ECMWF-HRES"),
    ("dwd_icon_seamless", "icon_seamless", "ICON"),
    ("cmc_gem_seamless", "gem_seamless", "GEM"),
    ("ncep_hrrr_conus", "gfs_hrrr", "HRRR"),
    ("ncep_nbm_conus", "ncep_nbm_conus", "NBM"),
    ("best_match", "best_match", "BEST"),
];
const ENSEMBLES: &[(&str, &str, &str)] = &[
    ("ncep_gefs025", "gfs025", "ENS-GFS"),
    ("ncep_gefs05", "gfs05", "ENS-GFS05"),
    ("ecmwf_ifs025_ensemble", "ecmwf_ifs025", "ENS-ECMWF"),
    ("icon_seamless_eps", "icon_seamless", "ENS-ICON"),
    ("gem_global_ensemble", "gem_global", "ENS-GEM"),
];

fn lookup<'a>(
    table: &'a [(&'a str, &'a str, &'a str)],
    model: &str,
) -> Option<&'a (&'a str, &'a str, &'a str)> {
    table
        .iter()
        .find(|(new, old, _)| *new == model || *old == model)
}

/// The source label of a deterministic model: `Open-Meteo:GFS`, ...
pub fn model_source(model: &str) -> String {
    let label =
        lookup(MODELS, model).map_or_else(|| model.to_ascii_uppercase(), |m| m.2.to_string());
    format!("Open-Meteo:{label}")
}

/// The source label of an ensemble model: `Open-Meteo:ENS-GFS`, ...
pub fn ensemble_source(model: &str) -> String {
    let label = lookup(ENSEMBLES, model).map_or_else(
        || format!("ENS-{}", model.to_ascii_uppercase()),
        |m| m.2.to_string(),
    );
    format!("Open-Meteo:{label}")
}

/// The other spelling of a model name (new for old, old for new), if it has one.
fn other_spelling(table: &[(&str, &str, &str)], model: &str) -> String {
    match lookup(table, model) {
        Some((new, old, _)) if *new == model => old.to_string(),
        Some((new, _, _)) => new.to_string(),
        None => model.to_string(),
    }
}

/// How to reach Open-Meteo.
#[derive(Debug, Clone)]
pub struct OpenMeteoConfig {
    pub base_url: String,
    pub ensemble_url: String,
    pub previous_runs_url: String,
    pub api_key: Option<String>,
    pub models: Vec<String>,
    pub ensemble_models: Vec<String>,
    pub timeout: StdDuration,
    pub retry: RetryPolicy,
    /// How long after a run's start its values are assumed available (Previous Runs as-of).
    pub availability_lag: Duration,
}

/// The Open-Meteo client.
pub struct OpenMeteoClient {
    http: HttpJson,
    config: OpenMeteoConfig,
    clock: Arc<dyn Clock>,
}

fn malformed(path: &str, reason: impl Into<String>) -> WeatherError {
    WeatherError::Malformed {
        service: SERVICE,
        path: path.to_string(),
        reason: reason.into(),
    }
}

/// Hourly series of one response: times (UTC) and named value arrays.
struct Hourly<'a> {
    times: Vec<DateTime<Utc>>,
    series: &'a serde_json::Map<String, Value>,
    path: &'a str,
}

impl<'a> Hourly<'a> {
    fn read(v: &'a Value, path: &'a str) -> Result<Hourly<'a>, WeatherError> {
        let series = v
            .get("hourly")
            .and_then(Value::as_object)
            .ok_or_else(|| malformed(path, "no hourly object"))?;
        let offset = v
            .get("utc_offset_seconds")
            .and_then(Value::as_i64)
            .unwrap_or(0);
        let times = series
            .get("time")
            .and_then(Value::as_array)
            .ok_or_else(|| malformed(path, "no hourly.time list"))?
            .iter()
            .enumerate()
            .map(|(i, t)| {
                let s = t
                    .as_str()
                    .ok_or_else(|| malformed(path, format!("hourly.time[{i}] is not text")))?;
                let local = NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M")
                    .map_err(|e| malformed(path, format!("hourly.time[{i}] {s:?}: {e}")))?;
                Ok(local.and_utc() - Duration::seconds(offset))
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Hourly {
            times,
            series,
            path,
        })
    }

    /// The values of `key`, with nulls as `None`; an error if the list is malformed.
    fn values(&self, key: &str) -> Result<Option<Vec<Option<f64>>>, WeatherError> {
        let Some(list) = self.series.get(key) else {
            return Ok(None);
        };
        let list = list
            .as_array()
            .ok_or_else(|| malformed(self.path, format!("hourly.{key} is not a list")))?;
        if list.len() != self.times.len() {
            return Err(malformed(
                self.path,
                format!(
                    "hourly.{key} has {} values for {} times",
                    list.len(),
                    self.times.len()
                ),
            ));
        }
        list.iter()
            .enumerate()
            .map(|(i, x)| match x {
                Value::Null => Ok(None),
                x => x
                    .as_f64()
                    .filter(|f| f.is_finite())
                    .map(Some)
                    .ok_or_else(|| {
                        malformed(self.path, format!("hourly.{key}[{i}] is not a number"))
                    }),
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Some)
    }

    /// Values inside `[s, e)`; `None` unless every hour of the window is present.
    fn day(&self, vals: &[Option<f64>], s: DateTime<Utc>, e: DateTime<Utc>) -> Option<Vec<f64>> {
        let day: Vec<Option<f64>> = self
            .times
            .iter()
            .zip(vals)
            .filter(|(t, _)| **t >= s && **t < e)
            .map(|(_, v)| *v)
            .collect();
        let hours = (e - s).num_hours() as usize;
        if day.len() < hours || day.iter().any(Option::is_none) {
            return None;
        }
        Some(day.into_iter().flatten().collect())
    }
}

/// Whether `key` is the control or a member series of `model` (`temperature_2m`,
/// `temperature_2m_member07`, with `_<model>` appended when several models were asked for).
fn is_member_key(key: &str, model: &str, single: bool) -> bool {
    let rest = if single {
        key
    } else {
        match key.strip_suffix(model).and_then(|k| k.strip_suffix('_')) {
            Some(r) => r,
            None => return false,
        }
    };
    rest == "temperature_2m"
        || rest
            .strip_prefix("temperature_2m_member")
            .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
}

fn mean(v: &[f64]) -> Option<f64> {
    (!v.is_empty()).then(|| v.iter().sum::<f64>() / v.len() as f64)
}

fn max(v: &[f64]) -> Option<f64> {
    v.iter().copied().reduce(f64::max)
}

impl OpenMeteoClient {
    pub fn new(
        config: OpenMeteoConfig,
        user_agent: &str,
        clock: Arc<dyn Clock>,
    ) -> Result<OpenMeteoClient, WeatherError> {
        let http = HttpJson::new(
            SERVICE,
            user_agent,
            "application/json",
            config.timeout,
            None,
            config.retry,
        )?;
        Ok(OpenMeteoClient {
            http,
            config,
            clock,
        })
    }

    pub fn config(&self) -> &OpenMeteoConfig {
        &self.config
    }

    fn base_query(&self, city: &City) -> Vec<(&'static str, String)> {
        let mut q = vec![
            ("latitude", format!("{:.4}", city.latitude)),
            ("longitude", format!("{:.4}", city.longitude)),
            ("temperature_unit", "fahrenheit".to_string()),
            ("wind_speed_unit", "mph".to_string()),
            ("timezone", "GMT".to_string()),
            ("timeformat", "iso8601".to_string()),
        ];
        if let Some(k) = &self.config.api_key {
            q.push(("apikey", k.clone()));
        }
        q
    }

    /// GETs with the models given; on HTTP 400 repeats once with the other spelling of each.
    async fn get_models(
        &self,
        url: &str,
        mut query: Vec<(&'static str, String)>,
        models: &[String],
        table: &[(&str, &str, &str)],
    ) -> Result<(Value, Vec<String>), WeatherError> {
        query.push(("models", models.join(",")));
        match self.http.get_json(url, &query).await {
            Err(refused @ WeatherError::Http { status: 400, .. }) => {
                let other: Vec<String> = models.iter().map(|m| other_spelling(table, m)).collect();
                if other == models {
                    // No other spelling to try: the refusal stands.
                    return Err(refused);
                }
                tracing::warn!(target: "WEATHER", models = %models.join(","), "Open-Meteo refused these model names; trying the other spelling");
                if let Some(last) = query.last_mut() {
                    last.1 = other.join(",");
                }
                let v = self.http.get_json(url, &query).await?;
                Ok((v, other))
            }
            other => other.map(|v| (v, models.to_vec())),
        }
    }

    fn key(var: &str, model: &str, single: bool, hourly: &Hourly<'_>) -> String {
        let suffixed = format!("{var}_{model}");
        if single && !hourly.series.contains_key(&suffixed) {
            var.to_string()
        } else {
            suffixed
        }
    }

    /// Deterministic model forecasts for each date, one `WeatherData` per model and date.
    pub async fn forecasts(
        &self,
        city: &City,
        dates: &[NaiveDate],
    ) -> Result<Vec<WeatherData>, WeatherError> {
        let url = format!("{}/v1/forecast", self.config.base_url);
        let mut q = self.base_query(city);
        q.push(("hourly", HOURLY.to_string()));
        q.push(("past_days", "1".to_string()));
        q.push(("forecast_days", "4".to_string()));
        let (v, models) = self
            .get_models(&url, q, &self.config.models, MODELS)
            .await?;
        let fetched_at = self.clock.now();
        let run = fetched_at
            .duration_trunc(Duration::hours(1))
            .unwrap_or(fetched_at);
        let path = "/v1/forecast";
        let hourly = Hourly::read(&v, path)?;
        let single = models.len() == 1;
        let mut out = Vec::new();
        for model in &models {
            let series = |var: &str| hourly.values(&Self::key(var, model, single, &hourly));
            let Some(temps) = series("temperature_2m")? else {
                return Err(malformed(
                    path,
                    format!("no temperature_2m for model {model}"),
                ));
            };
            let others: Vec<Option<Vec<Option<f64>>>> = [
                "relative_humidity_2m",
                "dew_point_2m",
                "wind_speed_10m",
                "wind_gusts_10m",
                "cloud_cover",
                "pressure_msl",
            ]
            .iter()
            .map(|v| series(v))
            .collect::<Result<_, _>>()?;
            for &date in dates {
                let (s, e) = city.climate_day_window(date);
                let Some(day) = hourly.day(&temps, s, e) else {
                    continue;
                };
                let Some(high) = max(&day) else { continue };
                let agg = |i: usize, f: fn(&[f64]) -> Option<f64>| {
                    others[i]
                        .as_ref()
                        .and_then(|vals| hourly.day(vals, s, e))
                        .and_then(|d| f(&d))
                };
                let low = day.iter().copied().reduce(f64::min);
                let variables = WeatherVariables::new(WeatherVariablesFields {
                    temp_high_f: high,
                    temp_low_f: low,
                    humidity_pct: agg(0, mean),
                    dew_point_f: agg(1, mean),
                    wind_speed_mph: agg(2, max),
                    wind_gust_mph: agg(3, max),
                    cloud_cover_pct: agg(4, mean),
                    pressure_mb: agg(5, mean),
                })
                .map_err(|e| malformed(path, format!("model {model}, {date}: {e}")))?;
                let raw = json!({
                    "model": model,
                    "window": {"start": s.to_rfc3339(), "end": e.to_rfc3339()},
                    "temperature_2m": day,
                });
                out.push(make_weather(
                    city,
                    date,
                    high,
                    &model_source(model),
                    run,
                    fetched_at,
                    raw,
                    Some(variables),
                )?);
            }
        }
        Ok(out)
    }

    /// Ensemble forecasts: each member's climate-day high; `forecast_high_f` is the members'
    /// mean and `raw_data` holds every member's high, the spread (standard deviation), min and max.
    pub async fn ensembles(
        &self,
        city: &City,
        dates: &[NaiveDate],
    ) -> Result<Vec<WeatherData>, WeatherError> {
        let url = format!("{}/v1/ensemble", self.config.ensemble_url);
        let mut q = self.base_query(city);
        q.push(("hourly", "temperature_2m".to_string()));
        q.push(("past_days", "1".to_string()));
        q.push(("forecast_days", "4".to_string()));
        let (v, models) = self
            .get_models(&url, q, &self.config.ensemble_models, ENSEMBLES)
            .await?;
        let fetched_at = self.clock.now();
        let run = fetched_at
            .duration_trunc(Duration::hours(1))
            .unwrap_or(fetched_at);
        let path = "/v1/ensemble";
        let hourly = Hourly::read(&v, path)?;
        let single = models.len() == 1;
        let mut out = Vec::new();
        for model in &models {
            let mut keys: Vec<&String> = hourly
                .series
                .keys()
                .filter(|k| is_member_key(k, model, single))
                .collect();
            keys.sort();
            if keys.is_empty() {
                return Err(malformed(
                    path,
                    format!("no temperature_2m members for model {model}"),
                ));
            }
            let members: Vec<Vec<Option<f64>>> = keys
                .iter()
                .map(|k| hourly.values(k).map(Option::unwrap_or_default))
                .collect::<Result<_, _>>()?;
            for &date in dates {
                let (s, e) = city.climate_day_window(date);
                let highs: Vec<f64> = members
                    .iter()
                    .filter_map(|m| hourly.day(m, s, e))
                    .filter_map(|d| max(&d))
                    .collect();
                if highs.len() < 2 {
                    continue;
                }
                let m = mean(&highs).unwrap_or_default();
                let spread = (highs.iter().map(|h| (h - m).powi(2)).sum::<f64>()
                    / (highs.len() - 1) as f64)
                    .sqrt();
                let raw = json!({
                    "model": model,
                    "members": highs.len(),
                    "member_highs_f": highs,
                    "spread_f": spread,
                    "min_f": highs.iter().copied().reduce(f64::min),
                    "max_f": highs.iter().copied().reduce(f64::max),
                });
                out.push(make_weather(
                    city,
                    date,
                    m,
                    &ensemble_source(model),
                    run,
                    fetched_at,
                    raw,
                    None,
                )?);
            }
        }
        Ok(out)
    }

    /// What `model` forecast for `date` as it was known at `as_of` (for backtests), from the
    /// Previous Runs API: for each hour of the climate day the newest `previous_dayN` value whose
    /// run (about N days before the hour) plus the availability lag is not after `as_of`.
    /// `model_run_timestamp` is the latest such run time used. `None` when a needed value is
    /// missing or older than 7 days.
    pub async fn previous_run_as_of(
        &self,
        city: &City,
        date: NaiveDate,
        model: &str,
        as_of: DateTime<Utc>,
    ) -> Result<Option<WeatherData>, WeatherError> {
        let url = format!("{}/v1/forecast", self.config.previous_runs_url);
        let vars: Vec<String> = (1..=7)
            .map(|n| format!("temperature_2m_previous_day{n}"))
            .collect();
        let mut q = self.base_query(city);
        q.push(("hourly", vars.join(",")));
        q.push(("start_date", (date - Duration::days(1)).to_string()));
        q.push(("end_date", (date + Duration::days(1)).to_string()));
        let (v, models) = self
            .get_models(&url, q, &[model.to_string()], MODELS)
            .await?;
        let sent = models.first().map_or(model, String::as_str);
        let path = "/v1/forecast (previous runs)";
        let hourly = Hourly::read(&v, path)?;
        let (s, e) = city.climate_day_window(date);
        let series: Vec<Option<Vec<Option<f64>>>> = vars
            .iter()
            .map(|var| hourly.values(&Self::key(var, sent, true, &hourly)))
            .collect::<Result<_, _>>()?;
        let lag = self.config.availability_lag;
        let mut temps = Vec::new();
        let mut latest_run: Option<DateTime<Utc>> = None;
        for (i, t) in hourly.times.iter().enumerate() {
            if *t < s || *t >= e {
                continue;
            }
            // The smallest N with t - N days + lag <= as_of.
            let need = (*t - as_of + lag).num_seconds();
            let n = if need <= 0 {
                1
            } else {
                (need + 86_399) / 86_400
            }
            .max(1);
            if n > 7 {
                return Ok(None);
            }
            let value = series[(n - 1) as usize].as_ref().and_then(|vals| vals[i]);
            let Some(value) = value else { return Ok(None) };
            temps.push(value);
            let run = *t - Duration::days(n);
            latest_run = latest_run.max(Some(run));
        }
        if temps.len() < (e - s).num_hours() as usize {
            return Ok(None);
        }
        let (Some(high), Some(run)) = (max(&temps), latest_run) else {
            return Ok(None);
        };
        let raw = json!({"model": sent, "as_of": as_of.to_rfc3339(), "temperature_2m": temps});
        make_weather(
            city,
            date,
            high,
            &model_source(model),
            run,
            self.clock.now(),
            raw,
            None,
        )
        .map(Some)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn member_keys() {
        assert!(is_member_key("temperature_2m", "ncep_gefs025", true));
        assert!(is_member_key(
            "temperature_2m_member30",
            "ncep_gefs025",
            true
        ));
        assert!(!is_member_key(
            "temperature_2m_member30_ncep_gefs025",
            "ncep_gefs025",
            true
        ));
        assert!(is_member_key(
            "temperature_2m_member07_ecmwf_ifs025_ensemble",
            "ecmwf_ifs025_ensemble",
            false
        ));
        assert!(is_member_key(
            "temperature_2m_ecmwf_ifs025_ensemble",
            "ecmwf_ifs025_ensemble",
            false
        ));
        assert!(!is_member_key(
            "temperature_2m_member07_ecmwf_ifs025_ensemble",
            "ncep_gefs025",
            false
        ));
        assert!(!is_member_key(
            "temperature_2m_member07_ecmwf_ifs025_ensemble",
            "ifs025_ensemble",
            false
        ));
        assert!(!is_member_key(
            "relative_humidity_2m_ncep_gefs025",
            "ncep_gefs025",
            false
        ));
    }

    #[test]
    fn model_names_and_sources() {
        assert_eq!(model_source("ncep_gfs_seamless"), "Open-Meteo:GFS");
        assert_eq!(model_source("gfs_seamless"), "Open-Meteo:GFS");
        assert_eq!(model_source("ecmwf_ifs025"), "Open-Meteo:ECMWF");
        assert_eq!(model_source("gfs_hrrr"), "Open-Meteo:HRRR");
        assert_eq!(ensemble_source("gfs025"), "Open-Meteo:ENS-GFS");
        assert_eq!(
            ensemble_source("ecmwf_ifs025_ensemble"),
            "Open-Meteo:ENS-ECMWF"
        );
        assert_eq!(other_spelling(MODELS, "ncep_gfs_seamless"), "gfs_seamless");
        assert_eq!(other_spelling(MODELS, "icon_seamless"), "dwd_icon_seamless");
        assert_eq!(other_spelling(MODELS, "unknown_model"), "unknown_model");
    }
}
