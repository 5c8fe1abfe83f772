//! The NWS Daily Climate Report (CLI) parser.
//!
//! A product holds one or more station sections, each opened by
//! `...THE <STATION> CLIMATE SUMMARY FOR <MONTH> <DAY> <YEAR>...`. The climate date is read from
//! that line, never from the issue time. In the `TEMPERATURE` block the sub-label says which
//! report it is: `YESTERDAY` in the final report issued after midnight; `TODAY` in intra-day
//! reports, with `VALID TODAY AS OF 0400 PM LOCAL TIME.` (afternoon preliminary) or
//! `VALID AS OF 0735 AM LOCAL TIME.` (morning partial). Only the bare `MAXIMUM` row of that
//! block is read (never the normals' `MAXIMUM TEMPERATURE (F)` further down). Values: `MM`
//! missing, a trailing `R` record set or tied, `(E)` or a trailing `E` estimated; times print as
//! `301 PM` or `2:38 PM`. Corrections: `CLIMATE REPORT (CORRECTION)`, a summary line ending in
//! `CORRECTION`, or a `CCA`/`CCB`/`COR` suffix on the WMO heading.

use chrono::{NaiveDate, NaiveTime};
use serde::{Deserialize, Serialize};
use thiserror::Error;

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ParseError {
    #[error("the text is empty")]
    Empty,
    #[error("no \"...CLIMATE SUMMARY FOR <date>...\" line: not a climate report")]
    NoSummary,
    #[error("line {line}: {reason}")]
    Line { line: usize, reason: String },
}

/// Which issuance a section is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ReportKind {
    /// Issued after the climate day (`YESTERDAY`): what Kalshi settles on.
    Final,
    /// Issued during the afternoon of the day (`VALID TODAY AS OF ... PM`).
    Preliminary { valid_as_of: String },
    /// Issued in the morning (`VALID AS OF ... AM`): the maximum may be a midnight reading.
    MorningPartial { valid_as_of: String },
}

/// One observed value of the temperature block.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Observation {
    pub value_f: i32,
    /// Local standard time, as printed.
    pub time_lst: Option<NaiveTime>,
    pub record: bool,
    pub estimated: bool,
}

/// One station's section of a climate report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClimateReport {
    pub awips_id: Option<String>,
    pub wmo_heading: Option<String>,
    pub issued: Option<String>,
    pub station: String,
    pub climate_date: NaiveDate,
    pub kind: ReportKind,
    pub correction: bool,
    /// `None` when the report prints `MM` (missing).
    pub maximum: Option<Observation>,
    pub minimum: Option<Observation>,
    /// The whole product text, as received.
    pub raw: String,
}

const MONTHS: [&str; 12] = [
    "JANUARY",
    "FEBRUARY",
    "MARCH",
    "APRIL",
    "MAY",
    "JUNE",
    "JULY",
    "AUGUST",
    "SEPTEMBER",
    "OCTOBER",
    "NOVEMBER",
    "DECEMBER",
];

fn err(line: usize, reason: impl Into<String>) -> ParseError {
    ParseError::Line {
        line: line + 1,
        reason: reason.into(),
    }
}

/// `...THE CENTRAL PARK NY CLIMATE SUMMARY FOR JANUARY 2 2013...` → (station, date, correction).
fn summary_line(n: usize, line: &str) -> Result<Option<(String, NaiveDate, bool)>, ParseError> {
    let t = line.trim().trim_matches('.').trim();
    let Some((head, tail)) = t.split_once(" CLIMATE SUMMARY FOR ") else {
        return Ok(None);
    };
    let station = head.strip_prefix("THE ").unwrap_or(head).trim().to_string();
    let mut words: Vec<&str> = tail.split_whitespace().collect();
    let correction = words
        .last()
        .is_some_and(|w| w.trim_matches('.') == "CORRECTION");
    if correction {
        words.pop();
    }
    let [month, day, year] = words[..] else {
        return Err(err(n, format!("cannot read the date in {t:?}")));
    };
    let m = MONTHS
        .iter()
        .position(|x| *x == month)
        .ok_or_else(|| err(n, format!("{month:?} is not a month")))?;
    let d: u32 = day
        .parse()
        .map_err(|_| err(n, format!("{day:?} is not a day")))?;
    let y: i32 = year
        .trim_matches('.')
        .parse()
        .map_err(|_| err(n, format!("{year:?} is not a year")))?;
    let date = NaiveDate::from_ymd_opt(y, m as u32 + 1, d)
        .ok_or_else(|| err(n, format!("{month} {d} {y} is not a date")))?;
    Ok(Some((station, date, correction)))
}

/// A value read from its token(s): (°F, record, estimated).
type Flagged = (i32, bool, bool);

/// A value token: `33`, `-5`, `53R`, `MM`, `61E`; `(E)` may follow. `Ok(None)` for missing;
/// also how many tokens it used.
fn value(n: usize, tokens: &[&str]) -> Result<(Option<Flagged>, usize), ParseError> {
    let Some(tok) = tokens.first() else {
        return Err(err(n, "MAXIMUM/MINIMUM row without a value"));
    };
    if *tok == "MM" {
        return Ok((None, 1));
    }
    let mut s = *tok;
    let mut record = false;
    let mut estimated = false;
    loop {
        if let Some(r) = s.strip_suffix('R') {
            record = true;
            s = r;
        } else if let Some(r) = s.strip_suffix('E') {
            estimated = true;
            s = r;
        } else if let Some(r) = s.strip_suffix('*') {
            estimated = true;
            s = r;
        } else {
            break;
        }
    }
    let v: i32 = s
        .parse()
        .map_err(|_| err(n, format!("{tok:?} is not a temperature (and not MM)")))?;
    if !(-80..=140).contains(&v) {
        return Err(err(n, format!("{v} °F is not a plausible temperature")));
    }
    let mut used = 1;
    if tokens.get(1) == Some(&"(E)") {
        estimated = true;
        used = 2;
    }
    Ok((Some((v, record, estimated)), used))
}

/// A time: `301 PM`, `1232 AM`, `2:38 PM`, `12 AM`.
fn time(tokens: &[&str]) -> Option<NaiveTime> {
    let [t, ampm, ..] = tokens else { return None };
    let pm = match *ampm {
        "AM" => false,
        "PM" => true,
        _ => return None,
    };
    let digits: String = t.chars().filter(|c| *c != ':').collect();
    if digits.is_empty() || !digits.chars().all(|c| c.is_ascii_digit()) || digits.len() > 4 {
        return None;
    }
    let (h, m) = if digits.len() <= 2 {
        (digits.parse::<u32>().ok()?, 0)
    } else {
        let (h, m) = digits.split_at(digits.len() - 2);
        (h.parse::<u32>().ok()?, m.parse::<u32>().ok()?)
    };
    if !(1..=12).contains(&h) {
        return None;
    }
    let h24 = match (h, pm) {
        (12, false) => 0,
        (12, true) => 12,
        (h, false) => h,
        (h, true) => h + 12,
    };
    NaiveTime::from_hms_opt(h24, m, 0)
}

fn observation(n: usize, line: &str, label: &str) -> Result<Option<Observation>, ParseError> {
    let tokens: Vec<&str> = line.split_whitespace().collect();
    let rest = &tokens[1..];
    let (v, used) = value(n, rest).map_err(|e| match e {
        ParseError::Line { line, reason } => ParseError::Line {
            line,
            reason: format!("{label}: {reason}"),
        },
        other => other,
    })?;
    Ok(v.map(|(value_f, record, estimated)| Observation {
        value_f,
        time_lst: time(&rest[used..]),
        record,
        estimated,
    }))
}

/// Parses every station section of a product. Errors say what could not be read; a number is
/// never guessed.
pub fn parse(text: &str) -> Result<Vec<ClimateReport>, ParseError> {
    if text.trim().is_empty() {
        return Err(ParseError::Empty);
    }
    let lines: Vec<&str> = text.lines().collect();
    let mut wmo_heading = None;
    let mut awips_id = None;
    let mut issued = None;
    let mut header_correction = false;
    for (i, l) in lines.iter().enumerate().take(12) {
        let t = l.trim();
        let words: Vec<&str> = t.split_whitespace().collect();
        if wmo_heading.is_none()
            && words.len() >= 3
            && words[0].len() == 6
            && words[1].len() == 4
            && words[2].len() == 6
            && words[2].chars().all(|c| c.is_ascii_digit())
        {
            wmo_heading = Some(t.to_string());
            header_correction |= words
                .get(3)
                .is_some_and(|w| w.starts_with("CC") || w.starts_with("CO"));
            if let Some(next) = lines.get(i + 1) {
                let a = next.trim();
                if !a.is_empty() && a.len() <= 6 && a.chars().all(|c| c.is_ascii_alphanumeric()) {
                    awips_id = Some(a.to_string());
                }
            }
        }
        if t.starts_with("CLIMATE REPORT") && t.contains("CORRECTION") {
            header_correction = true;
        }
        if issued.is_none()
            && (t.contains(" AM ") || t.contains(" PM "))
            && words
                .last()
                .is_some_and(|y| y.len() == 4 && y.chars().all(|c| c.is_ascii_digit()))
        {
            issued = Some(t.to_string());
        }
    }
    let mut starts = Vec::new();
    for (i, l) in lines.iter().enumerate() {
        if let Some(s) = summary_line(i, l)? {
            starts.push((i, s));
        }
    }
    if starts.is_empty() {
        return Err(ParseError::NoSummary);
    }
    let mut out = Vec::new();
    for (k, (start, (station, date, line_correction))) in starts.iter().enumerate() {
        let end = starts.get(k + 1).map_or(lines.len(), |s| s.0);
        let section = &lines[*start..end];
        let mut valid = None;
        let mut label = None;
        let mut in_temperature = false;
        let (mut maximum, mut minimum) = (None, None);
        let mut found_max = false;
        for (j, l) in section.iter().enumerate() {
            let n = start + j;
            let t = l.trim();
            if t.starts_with("VALID ") {
                valid = Some(t.trim_end_matches('.').to_string());
            }
            if t.starts_with("TEMPERATURE") && label.is_none() {
                in_temperature = true;
                continue;
            }
            if !in_temperature {
                continue;
            }
            if label.is_none() {
                if t == "YESTERDAY" || t == "TODAY" {
                    label = Some(t.to_string());
                    continue;
                }
                if t.is_empty() {
                    continue;
                }
                return Err(err(
                    n,
                    format!("expected YESTERDAY or TODAY under TEMPERATURE, found {t:?}"),
                ));
            }
            let first = t.split_whitespace().next().unwrap_or_default();
            match first {
                "MAXIMUM" if !found_max => {
                    if t.starts_with("MAXIMUM TEMPERATURE") {
                        continue;
                    }
                    maximum = observation(n, t, "MAXIMUM")?;
                    found_max = true;
                }
                "MINIMUM" => {
                    minimum = observation(n, t, "MINIMUM")?;
                    break;
                }
                "" if found_max => break,
                _ if found_max => {} // a wrapped record year, AVERAGE, ...
                _ => {}
            }
        }
        let Some(label) = label else {
            return Err(err(*start, format!("no TEMPERATURE block for {station}")));
        };
        if !found_max {
            return Err(err(
                *start,
                format!("no MAXIMUM row in the temperature block for {station}"),
            ));
        }
        let kind = match label.as_str() {
            "YESTERDAY" => ReportKind::Final,
            _ => match valid {
                Some(v) if v.contains(" AM ") => ReportKind::MorningPartial { valid_as_of: v },
                Some(v) => ReportKind::Preliminary { valid_as_of: v },
                None => ReportKind::Preliminary {
                    valid_as_of: "TODAY (no VALID line)".into(),
                },
            },
        };
        out.push(ClimateReport {
            awips_id: awips_id.clone(),
            wmo_heading: wmo_heading.clone(),
            issued: issued.clone(),
            station: station.clone(),
            climate_date: *date,
            kind,
            correction: header_correction || *line_correction,
            maximum,
            minimum,
            raw: text.to_string(),
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_as_printed() {
        let t = |a: &str, b: &str| time(&[a, b]).map(|t| t.format("%H:%M").to_string());
        assert_eq!(t("301", "PM").as_deref(), Some("15:01"));
        assert_eq!(t("2:38", "PM").as_deref(), Some("14:38"));
        assert_eq!(t("1232", "AM").as_deref(), Some("00:32"));
        assert_eq!(t("12", "AM").as_deref(), Some("00:00"));
        assert_eq!(t("1158", "PM").as_deref(), Some("23:58"));
        assert_eq!(t("82", "1967"), None);
    }
}
