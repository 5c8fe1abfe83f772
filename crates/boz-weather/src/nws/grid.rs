//! The raw NWS gridpoint response (`/gridpoints/{office}/{x},{y}`): layers of values over
//! ISO-8601 intervals ("2022-02-04T12:00:00+00:00/PT13H"), read and aggregated over a climate day.

use chrono::{DateTime, Duration, Utc};
use serde_json::Value;

use crate::units::{Quantity, convert};

/// One value over `[start, end)`, in the layer's unit.
#[derive(Debug, Clone, PartialEq)]
pub struct GridValue {
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    pub value: f64,
}

/// One layer (`maxTemperature`, `windSpeed`, ...): its unit code and values.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct GridLayer {
    pub unit: String,
    pub values: Vec<GridValue>,
}

/// Parses an ISO-8601 duration of the forms NWS uses: `PT13H`, `P1D`, `P7DT14H`, `PT30M`.
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let body = s
        .strip_prefix('P')
        .ok_or_else(|| format!("duration {s:?} does not start with P"))?;
    let (date, time) = match body.split_once('T') {
        Some((d, t)) => (d, Some(t)),
        None => (body, None),
    };
    let mut total = Duration::zero();
    let mut take = |part: &str, units: &[(char, i64)]| -> Result<(), String> {
        let mut num = String::new();
        for c in part.chars() {
            if c.is_ascii_digit() {
                num.push(c);
                continue;
            }
            let secs = units
                .iter()
                .find(|(u, _)| *u == c)
                .map(|(_, s)| *s)
                .ok_or_else(|| format!("duration {s:?} has an unknown unit {c:?}"))?;
            let n: i64 = num
                .parse()
                .map_err(|_| format!("duration {s:?} is malformed"))?;
            total += Duration::seconds(n * secs);
            num.clear();
        }
        if num.is_empty() {
            Ok(())
        } else {
            Err(format!("duration {s:?} ends without a unit"))
        }
    };
    take(date, &[('W', 604_800), ('D', 86_400)])?;
    if let Some(t) = time {
        take(t, &[('H', 3_600), ('M', 60), ('S', 1)])?;
    }
    if total <= Duration::zero() {
        return Err(format!("duration {s:?} is not positive"));
    }
    Ok(total)
}

/// Parses `start/duration` into `[start, end)`.
pub fn parse_interval(s: &str) -> Result<(DateTime<Utc>, DateTime<Utc>), String> {
    let (start, dur) = s
        .split_once('/')
        .ok_or_else(|| format!("validTime {s:?} is not start/duration"))?;
    let start = DateTime::parse_from_rfc3339(start)
        .map_err(|e| format!("validTime {s:?}: {e}"))?
        .with_timezone(&Utc);
    Ok((start, start + parse_duration(dur)?))
}

/// Reads one layer from the gridpoint `properties`; an absent layer is empty. Null values are
/// skipped (NWS leaves holes); a malformed entry is an error naming the layer.
pub fn layer(properties: &Value, name: &str) -> Result<GridLayer, String> {
    let Some(l) = properties.get(name) else {
        return Ok(GridLayer::default());
    };
    let unit = l
        .get("uom")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    let mut values = Vec::new();
    for (i, v) in l
        .get("values")
        .and_then(Value::as_array)
        .ok_or_else(|| format!("{name} has no values list"))?
        .iter()
        .enumerate()
    {
        let when = v
            .get("validTime")
            .and_then(Value::as_str)
            .ok_or_else(|| format!("{name}.values[{i}] has no validTime"))?;
        let (start, end) = parse_interval(when).map_err(|e| format!("{name}.values[{i}]: {e}"))?;
        match v.get("value") {
            Some(Value::Null) | None => continue,
            Some(x) => {
                let value = x
                    .as_f64()
                    .ok_or_else(|| format!("{name}.values[{i}].value is not a number"))?;
                values.push(GridValue { start, end, value });
            }
        }
    }
    if !values.is_empty() && unit.is_empty() {
        return Err(format!("{name} has values but no uom"));
    }
    Ok(GridLayer { unit, values })
}

fn overlap(v: &GridValue, start: DateTime<Utc>, end: DateTime<Utc>) -> Duration {
    let s = v.start.max(start);
    let e = v.end.min(end);
    if e > s { e - s } else { Duration::zero() }
}

impl GridLayer {
    /// The value whose interval overlaps `[start, end)` the most (ties: the earlier), converted.
    /// This picks the NDFD daytime max (about 7 AM to 8 PM local) or overnight min of a day.
    pub fn main_period(
        &self,
        start: DateTime<Utc>,
        end: DateTime<Utc>,
        q: Quantity,
    ) -> Result<Option<f64>, String> {
        let best = self
            .values
            .iter()
            .filter(|v| overlap(v, start, end) > Duration::zero())
            .max_by(|a, b| {
                overlap(a, start, end)
                    .cmp(&overlap(b, start, end))
                    .then(b.start.cmp(&a.start))
            });
        best.map(|v| convert(v.value, &self.unit, q)).transpose()
    }

    /// Converted values overlapping `[start, end)`, with their overlap in hours.
    fn within(
        &self,
        start: DateTime<Utc>,
        end: DateTime<Utc>,
        q: Quantity,
    ) -> Result<Vec<(f64, f64)>, String> {
        self.values
            .iter()
            .filter_map(|v| {
                let h = overlap(v, start, end).num_seconds() as f64 / 3600.0;
                (h > 0.0).then(|| convert(v.value, &self.unit, q).map(|x| (x, h)))
            })
            .collect()
    }

    /// The largest converted value overlapping `[start, end)`.
    pub fn max_within(
        &self,
        start: DateTime<Utc>,
        end: DateTime<Utc>,
        q: Quantity,
    ) -> Result<Option<f64>, String> {
        Ok(self
            .within(start, end, q)?
            .into_iter()
            .map(|(v, _)| v)
            .reduce(f64::max))
    }

    /// The time-weighted mean of converted values over `[start, end)`.
    pub fn mean_within(
        &self,
        start: DateTime<Utc>,
        end: DateTime<Utc>,
        q: Quantity,
    ) -> Result<Option<f64>, String> {
        let vals = self.within(start, end, q)?;
        let hours: f64 = vals.iter().map(|(_, h)| h).sum();
        if hours <= 0.0 {
            return Ok(None);
        }
        Ok(Some(vals.iter().map(|(v, h)| v * h).sum::<f64>() / hours))
    }

    /// The raw entries overlapping `[start, end)`, for `raw_data`.
    pub fn raw_within(&self, start: DateTime<Utc>, end: DateTime<Utc>) -> Value {
        Value::Array(
            self.values
                .iter()
                .filter(|v| overlap(v, start, end) > Duration::zero())
                .map(|v| {
                    serde_json::json!({
                        "start": v.start.to_rfc3339(), "end": v.end.to_rfc3339(), "value": v.value
                    })
                })
                .collect(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_and_intervals() {
        assert_eq!(parse_duration("PT13H").unwrap(), Duration::hours(13));
        assert_eq!(
            parse_duration("P7DT14H").unwrap(),
            Duration::hours(7 * 24 + 14)
        );
        assert_eq!(parse_duration("P1D").unwrap(), Duration::days(1));
        assert_eq!(parse_duration("PT1H30M").unwrap(), Duration::minutes(90));
        for bad in ["13H", "PT", "PT13", "PTxH", "PT0H"] {
            assert!(parse_duration(bad).is_err(), "{bad}");
        }
        let (s, e) = parse_interval("2022-02-04T12:00:00+00:00/PT13H").unwrap();
        assert_eq!(s.to_rfc3339(), "2022-02-04T12:00:00+00:00");
        assert_eq!(e.to_rfc3339(), "2022-02-05T01:00:00+00:00");
        assert!(parse_interval("2022-02-04T12:00:00+00:00").is_err());
    }
}
