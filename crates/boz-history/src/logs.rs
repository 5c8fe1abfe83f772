//! CSV files of the NYC forecast logger (hwaheed13/nws-forecast-logger):
//! `nws_forecast_log.csv` and `accuweather_log.csv` (forecasts with the local time they were
//! read, and CLI actuals), and `multiyear_atmospheric.csv` (one row per day: the official CLI
//! high and the HRRR day-before forecast).

use std::path::Path;

use chrono::{DateTime, FixedOffset, NaiveDate, NaiveDateTime, TimeZone, Utc};
use chrono_tz::Tz;
use csv::StringRecord;

use crate::error::HistoryError;

/// A forecast as logged: when we could have had it, for which day, and the high.
#[derive(Debug, Clone, PartialEq)]
pub struct LoggedForecast {
    pub row: usize,
    pub logged_at: DateTime<Utc>,
    pub target_date: NaiveDate,
    pub high_f: f64,
}

/// A climate-report high recorded by the logger.
#[derive(Debug, Clone, PartialEq)]
pub struct LoggedActual {
    pub row: usize,
    pub date: NaiveDate,
    pub high_f: f64,
}

/// One day of `multiyear_atmospheric.csv`.
#[derive(Debug, Clone, PartialEq)]
pub struct DailyFeatures {
    pub date: NaiveDate,
    /// The official CLI high for Central Park.
    pub actual_high_f: f64,
    /// Daily max of Open-Meteo's HRRR `temperature_2m_previous_day1` (a day-before forecast).
    pub hrrr_previous_day1_f: Option<f64>,
}

struct Table<'a> {
    path: &'a Path,
    headers: StringRecord,
}

impl Table<'_> {
    fn field<'r>(
        &self,
        rec: &'r StringRecord,
        row: usize,
        col: &str,
    ) -> Result<&'r str, HistoryError> {
        let i = self
            .headers
            .iter()
            .position(|h| h == col)
            .ok_or_else(|| HistoryError::row(self.path, row, col, "no such column"))?;
        Ok(rec.get(i).map(str::trim).unwrap_or_default())
    }

    fn number(
        &self,
        rec: &StringRecord,
        row: usize,
        col: &str,
    ) -> Result<Option<f64>, HistoryError> {
        let s = self.field(rec, row, col)?;
        if s.is_empty() {
            return Ok(None);
        }
        let v: f64 = s.parse().map_err(|_| {
            HistoryError::row(self.path, row, col, format!("{s:?} is not a number"))
        })?;
        if !(v.is_finite() && (-80.0..=140.0).contains(&v)) {
            return Err(HistoryError::row(
                self.path,
                row,
                col,
                format!("{v} is not a plausible temperature in °F"),
            ));
        }
        Ok(Some(v))
    }

    fn date(&self, rec: &StringRecord, row: usize, col: &str) -> Result<NaiveDate, HistoryError> {
        let s = self.field(rec, row, col)?;
        s.parse()
            .map_err(|_| HistoryError::row(self.path, row, col, format!("{s:?} is not a date")))
    }
}

fn open(path: &Path) -> Result<(csv::Reader<std::fs::File>, StringRecord), HistoryError> {
    let mut r = csv::ReaderBuilder::new()
        .flexible(false)
        .from_path(path)
        .map_err(|e| HistoryError::file(path, e))?;
    let headers = r
        .headers()
        .map_err(|e| HistoryError::file(path, e))?
        .clone();
    Ok((r, headers))
}

/// A local wall-clock time as written by the logger: "2025-07-04 13:22:21" in `tz`, or with an
/// explicit " EDT" / " EST" suffix.
fn local_time(s: &str, tz: Tz) -> Option<DateTime<Utc>> {
    let s = s.trim();
    let (clock, offset) = match s.rsplit_once(' ') {
        Some((c, "EDT")) => (c, Some(-4)),
        Some((c, "EST")) => (c, Some(-5)),
        _ => (s, None),
    };
    let naive = NaiveDateTime::parse_from_str(clock.trim(), "%Y-%m-%d %H:%M:%S").ok()?;
    match offset {
        Some(h) => FixedOffset::east_opt(h * 3600)?
            .from_local_datetime(&naive)
            .single()
            .map(|t| t.to_utc()),
        None => tz
            .from_local_datetime(&naive)
            .earliest()
            .map(|t| t.to_utc()),
    }
}

/// Reads a forecast log (`nws_forecast_log.csv` or `accuweather_log.csv`): the forecast rows
/// and the actual rows. `tz` is the logger's time zone (America/New_York).
pub fn read_forecast_log(
    path: &Path,
    tz: Tz,
) -> Result<(Vec<LoggedForecast>, Vec<LoggedActual>), HistoryError> {
    let (mut reader, headers) = open(path)?;
    let t = Table { path, headers };
    let (mut forecasts, mut actuals) = (Vec::new(), Vec::new());
    for (i, rec) in reader.records().enumerate() {
        let row = i + 1;
        let rec = rec.map_err(|e| HistoryError::row(path, row, "*", e))?;
        let kind = t.field(&rec, row, "forecast_or_actual")?;
        let target_date = t.date(&rec, row, "target_date")?;
        match kind {
            "forecast" => {
                let stamp = t.field(&rec, row, "timestamp")?;
                let logged_at = local_time(stamp, tz).ok_or_else(|| {
                    HistoryError::row(
                        path,
                        row,
                        "timestamp",
                        format!("{stamp:?} is not a local time"),
                    )
                })?;
                let high_f = t.number(&rec, row, "predicted_high")?.ok_or_else(|| {
                    HistoryError::row(path, row, "predicted_high", "empty in a forecast row")
                })?;
                forecasts.push(LoggedForecast {
                    row,
                    logged_at,
                    target_date,
                    high_f,
                });
            }
            "actual" => {
                let high_f = t.number(&rec, row, "actual_high")?.ok_or_else(|| {
                    HistoryError::row(path, row, "actual_high", "empty in an actual row")
                })?;
                actuals.push(LoggedActual {
                    row,
                    date: target_date,
                    high_f,
                });
            }
            other => {
                return Err(HistoryError::row(
                    path,
                    row,
                    "forecast_or_actual",
                    format!("{other:?} is neither forecast nor actual"),
                ));
            }
        }
    }
    Ok((forecasts, actuals))
}

/// Reads `multiyear_atmospheric.csv`: one row per day with the CLI high and the HRRR
/// day-before forecast (other columns are not read).
pub fn read_daily_features(path: &Path) -> Result<Vec<DailyFeatures>, HistoryError> {
    let (mut reader, headers) = open(path)?;
    let t = Table { path, headers };
    let mut out = Vec::new();
    for (i, rec) in reader.records().enumerate() {
        let row = i + 1;
        let rec = rec.map_err(|e| HistoryError::row(path, row, "*", e))?;
        let actual_high_f = t
            .number(&rec, row, "actual_high")?
            .ok_or_else(|| HistoryError::row(path, row, "actual_high", "empty"))?;
        out.push(DailyFeatures {
            date: t.date(&rec, row, "target_date")?,
            actual_high_f,
            hrrr_previous_day1_f: t.number(&rec, row, "mm_hrrr_max_d1")?,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_times_with_and_without_zone_suffix() {
        let ny: Tz = "America/New_York".parse().unwrap();
        let t = local_time("2025-07-04 13:22:21", ny).unwrap();
        assert_eq!(t.to_rfc3339(), "2025-07-04T17:22:21+00:00");
        let t = local_time("2025-12-04 13:22:21 EST ", ny).unwrap();
        assert_eq!(t.to_rfc3339(), "2025-12-04T18:22:21+00:00");
        assert!(local_time("yesterday", ny).is_none());
    }
}
