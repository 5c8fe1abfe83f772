//! The weather-market model: a Kalshi daily-high event is one city's climate day, and its
//! markets are brackets of whole degrees with exact semantics.
//!
//! - `between` (ticker `Bxx.5`), floor f, cap c: YES if f <= high <= c (two whole degrees);
//! - `less` (a `T` ticker), cap c: YES if high < c, so the bracket is "c-1 or below";
//! - `greater` (a `T` ticker), floor f: YES if high > f (strict), so "f+1 or above".
//!
//! A `T` number alone does not say which tail it is: `strike_type` does, and the subtitle
//! ("48° or below", "49° to 50°", "57° or above") is cross-checked against the strikes. Old
//! markets without `strike_type` are read from the subtitle; ticker-only data (recordings that kept
//! only tickers) takes the lower `T` as the low tail and the higher as the high tail, the only
//! reading under which the brackets are contiguous. An event whose brackets are not contiguous
//! and exhaustive (one low tail, one high tail, no gap or overlap) is refused: never traded.

use std::fmt;
use std::sync::LazyLock;

use boz_common::city::{CityCode, registry};
use chrono::NaiveDate;
use regex::Regex;
use serde::Serialize;
use serde_json::Value;

/// Why an event could not be read as a weather event.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MarketModelError {
    #[error("event {event}: {reason}")]
    Event { event: String, reason: String },
    #[error("market {ticker}: {reason}")]
    Market { ticker: String, reason: String },
    #[error("event {event}: brackets are not contiguous and exhaustive: {reason}")]
    NotContiguous { event: String, reason: String },
}

/// One bracket: the inclusive whole degrees that pay YES (`None`: an open tail).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Bracket {
    pub ticker: String,
    pub lower_bound_f: Option<i32>,
    pub upper_bound_f: Option<i32>,
}

impl Bracket {
    /// Whether a settled high (whole °F) pays YES on this bracket.
    pub fn contains(&self, high_f: i32) -> bool {
        boz_common::ports::bracket_pays(self.lower_bound_f, self.upper_bound_f, high_f)
    }

    /// The label used in `BracketProbability.bracket_label`: "48F or below", "49-50F",
    /// "57F or above".
    pub fn label(&self) -> String {
        bracket_label(self.lower_bound_f, self.upper_bound_f)
    }
}

/// The seed's label for the whole degrees a bracket pays on ("53-54F", "48F or below",
/// "57F or above").
pub fn bracket_label(lower: Option<i32>, upper: Option<i32>) -> String {
    match (lower, upper) {
        (None, Some(u)) => format!("{u}F or below"),
        (Some(l), None) => format!("{l}F or above"),
        (Some(l), Some(u)) if l == u => format!("{l}F"),
        (Some(l), Some(u)) => format!("{l}-{u}F"),
        (None, None) => "any".to_string(),
    }
}

impl fmt::Display for Bracket {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.ticker, self.label())
    }
}

/// A weather event: one city's climate day and its brackets, low tail first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WeatherEvent {
    pub event_ticker: String,
    pub series_ticker: String,
    pub city: CityCode,
    pub date: NaiveDate,
    pub brackets: Vec<Bracket>,
}

impl WeatherEvent {
    /// The bracket a settled high falls in (exactly one, as the brackets are exhaustive).
    pub fn winning_bracket(&self, high_f: i32) -> Option<&Bracket> {
        self.brackets.iter().find(|b| b.contains(high_f))
    }
}

static SUBTITLE_BELOW: LazyLock<Option<Regex>> =
    LazyLock::new(|| Regex::new(r"^\s*(-?\d+)°\s*or below\s*$").ok());
static SUBTITLE_ABOVE: LazyLock<Option<Regex>> =
    LazyLock::new(|| Regex::new(r"^\s*(-?\d+)°\s*or above\s*$").ok());
static SUBTITLE_BETWEEN: LazyLock<Option<Regex>> =
    LazyLock::new(|| Regex::new(r"^\s*(-?\d+)°\s*to\s*(-?\d+)°\s*$").ok());

fn capture_ints(re: &LazyLock<Option<Regex>>, s: &str) -> Option<Vec<i32>> {
    let c = re.as_ref()?.captures(s)?;
    c.iter()
        .skip(1)
        .map(|m| m.and_then(|m| m.as_str().parse().ok()))
        .collect()
}

/// Reads a subtitle ("48° or below", "49° to 50°", "57° or above") into bounds.
pub fn bounds_from_subtitle(s: &str) -> Option<(Option<i32>, Option<i32>)> {
    if let Some(v) = capture_ints(&SUBTITLE_BELOW, s) {
        return Some((None, Some(v[0])));
    }
    if let Some(v) = capture_ints(&SUBTITLE_ABOVE, s) {
        return Some((Some(v[0]), None));
    }
    capture_ints(&SUBTITLE_BETWEEN, s).map(|v| (Some(v[0]), Some(v[1])))
}

fn whole(ticker: &str, name: &str, v: f64) -> Result<i32, MarketModelError> {
    if v.fract() != 0.0 || !v.is_finite() || v.abs() > 200.0 {
        return Err(MarketModelError::Market {
            ticker: ticker.to_string(),
            reason: format!("{name} {v} is not a whole degree"),
        });
    }
    Ok(v as i32)
}

/// Reads one market's bracket from its API object (`strike_type`, `floor_strike`, `cap_strike`,
/// `yes_sub_title`/`subtitle`).
pub fn bracket_from_market(m: &Value) -> Result<Bracket, MarketModelError> {
    let ticker = m
        .get("ticker")
        .and_then(Value::as_str)
        .ok_or_else(|| MarketModelError::Market {
            ticker: "?".into(),
            reason: "no ticker".into(),
        })?
        .to_string();
    let err = |reason: String| MarketModelError::Market {
        ticker: ticker.clone(),
        reason,
    };
    let num = |k: &str| m.get(k).and_then(Value::as_f64);
    let subtitle = ["yes_sub_title", "subtitle"]
        .iter()
        .filter_map(|k| m.get(*k).and_then(Value::as_str))
        .find(|s| !s.trim().is_empty());
    let from_subtitle = subtitle.map(|s| {
        bounds_from_subtitle(s).ok_or_else(|| err(format!("subtitle {s:?} is not a bracket")))
    });
    let from_strikes = match m.get("strike_type").and_then(Value::as_str) {
        Some("less") => {
            let cap = num("cap_strike").ok_or_else(|| err("less without cap_strike".into()))?;
            Some((None, Some(whole(&ticker, "cap_strike", cap)? - 1)))
        }
        Some("greater") => {
            let floor =
                num("floor_strike").ok_or_else(|| err("greater without floor_strike".into()))?;
            Some((Some(whole(&ticker, "floor_strike", floor)? + 1), None))
        }
        Some("between") => {
            let floor =
                num("floor_strike").ok_or_else(|| err("between without floor_strike".into()))?;
            let cap = num("cap_strike").ok_or_else(|| err("between without cap_strike".into()))?;
            Some((
                Some(whole(&ticker, "floor_strike", floor)?),
                Some(whole(&ticker, "cap_strike", cap)?),
            ))
        }
        Some(other) => {
            return Err(err(format!(
                "strike_type {other:?} is not less, between or greater"
            )));
        }
        None => None,
    };
    let (lower, upper) = match (from_strikes, from_subtitle) {
        (Some(s), Some(Ok(t))) if s != t => {
            return Err(err(format!(
                "strikes say {s:?} but the subtitle says {t:?}"
            )));
        }
        (Some(s), _) => s,
        (None, Some(t)) => t?,
        (None, None) => return Err(err("neither strike_type nor a subtitle".into())),
    };
    if let (Some(l), Some(u)) = (lower, upper)
        && l > u
    {
        return Err(err(format!("lower bound {l} above upper bound {u}")));
    }
    Ok(Bracket {
        ticker,
        lower_bound_f: lower,
        upper_bound_f: upper,
    })
}

/// The climate date of an event ticker such as `KXHIGHNY-24NOV24` or `HIGHNY-24AUG16`.
pub fn event_date(event_ticker: &str) -> Result<NaiveDate, MarketModelError> {
    let err = |reason: &str| MarketModelError::Event {
        event: event_ticker.to_string(),
        reason: reason.to_string(),
    };
    let code = event_ticker
        .rsplit('-')
        .next()
        .ok_or_else(|| err("no date part"))?;
    if code.len() != 7 {
        return Err(err("date part is not YYMMMDD"));
    }
    let month = match &code[2..5].to_ascii_uppercase()[..] {
        "JAN" => 1,
        "FEB" => 2,
        "MAR" => 3,
        "APR" => 4,
        "MAY" => 5,
        "JUN" => 6,
        "JUL" => 7,
        "AUG" => 8,
        "SEP" => 9,
        "OCT" => 10,
        "NOV" => 11,
        "DEC" => 12,
        _ => return Err(err("unknown month")),
    };
    let year: i32 = code[..2].parse().map_err(|_| err("year is not a number"))?;
    let day: u32 = code[5..].parse().map_err(|_| err("day is not a number"))?;
    NaiveDate::from_ymd_opt(2000 + year, month, day).ok_or_else(|| err("not a calendar date"))
}

/// The configured city whose Kalshi series this is (`KXHIGHNY`, or the older `HIGHNY`).
pub fn city_of_series(series: &str) -> Option<CityCode> {
    let series = series.to_ascii_uppercase();
    let wanted = if series.starts_with("KX") {
        series
    } else {
        format!("KX{series}")
    };
    registry()
        .all()
        .into_iter()
        .find(|c| c.kalshi_series.eq_ignore_ascii_case(&wanted))
        .map(|c| c.code())
}

/// Orders brackets low tail first and checks they are contiguous and exhaustive.
fn assemble(
    event_ticker: &str,
    mut brackets: Vec<Bracket>,
) -> Result<Vec<Bracket>, MarketModelError> {
    let bad = |reason: String| MarketModelError::NotContiguous {
        event: event_ticker.to_string(),
        reason,
    };
    if brackets.len() < 2 {
        return Err(bad(format!("{} brackets", brackets.len())));
    }
    brackets.sort_by_key(|b| (b.lower_bound_f.is_some(), b.lower_bound_f, b.upper_bound_f));
    let n = brackets.len();
    for (i, b) in brackets.iter().enumerate() {
        let (first, last) = (i == 0, i == n - 1);
        if first != b.lower_bound_f.is_none() {
            return Err(bad(format!("{b}: exactly one low tail must come first")));
        }
        if last != b.upper_bound_f.is_none() {
            return Err(bad(format!("{b}: exactly one high tail must come last")));
        }
        if i > 0 {
            let prev = &brackets[i - 1];
            if let (Some(pu), Some(l)) = (prev.upper_bound_f, b.lower_bound_f)
                && l != pu + 1
            {
                return Err(bad(format!("{b} does not follow {prev}")));
            }
        }
    }
    Ok(brackets)
}

/// Reads an event from the API: the event object (`event_ticker`, `series_ticker`) and its
/// markets.
pub fn event_from_api(event: &Value, markets: &[Value]) -> Result<WeatherEvent, MarketModelError> {
    let event_ticker = event
        .get("event_ticker")
        .and_then(Value::as_str)
        .ok_or_else(|| MarketModelError::Event {
            event: "?".into(),
            reason: "no event_ticker".into(),
        })?
        .to_string();
    let series = event
        .get("series_ticker")
        .and_then(Value::as_str)
        .map(str::to_string)
        .unwrap_or_else(|| {
            event_ticker
                .split('-')
                .next()
                .unwrap_or_default()
                .to_string()
        });
    let brackets = markets
        .iter()
        .map(bracket_from_market)
        .collect::<Result<Vec<_>, _>>()?;
    build(event_ticker, series, brackets)
}

/// Reads an event from market tickers alone (`...-B52.5`, `...-T52`, `...-T59`).
pub fn event_from_tickers(
    event_ticker: &str,
    tickers: &[&str],
) -> Result<WeatherEvent, MarketModelError> {
    let mut between = Vec::new();
    let mut tails: Vec<(i32, &str)> = Vec::new();
    for t in tickers {
        let err = |reason: &str| MarketModelError::Market {
            ticker: t.to_string(),
            reason: reason.to_string(),
        };
        let code = t.rsplit('-').next().ok_or_else(|| err("no strike part"))?;
        if let Some(x) = code.strip_prefix('B') {
            let v: f64 = x.parse().map_err(|_| err("B strike is not a number"))?;
            if v.fract() != 0.5 && v.fract() != -0.5 {
                return Err(err("B strike is not a half degree"));
            }
            let lo = v.floor() as i32;
            between.push(Bracket {
                ticker: t.to_string(),
                lower_bound_f: Some(lo),
                upper_bound_f: Some(lo + 1),
            });
        } else if let Some(x) = code.strip_prefix('T') {
            let v: i32 = x
                .parse()
                .map_err(|_| err("T strike is not a whole number"))?;
            tails.push((v, t));
        } else {
            return Err(err("strike part is neither B nor T"));
        }
    }
    tails.sort();
    let [(low, low_t), (high, high_t)] = tails[..] else {
        return Err(MarketModelError::NotContiguous {
            event: event_ticker.to_string(),
            reason: format!("{} tail markets, not 2", tails.len()),
        });
    };
    between.push(Bracket {
        ticker: low_t.to_string(),
        lower_bound_f: None,
        upper_bound_f: Some(low - 1),
    });
    between.push(Bracket {
        ticker: high_t.to_string(),
        lower_bound_f: Some(high + 1),
        upper_bound_f: None,
    });
    let series = event_ticker
        .split('-')
        .next()
        .unwrap_or_default()
        .to_string();
    build(event_ticker.to_string(), series, between)
}

fn build(
    event_ticker: String,
    series: String,
    brackets: Vec<Bracket>,
) -> Result<WeatherEvent, MarketModelError> {
    let city = city_of_series(&series).ok_or_else(|| MarketModelError::Event {
        event: event_ticker.clone(),
        reason: format!("series {series} is not a configured city's"),
    })?;
    let date = event_date(&event_ticker)?;
    let brackets = assemble(&event_ticker, brackets)?;
    Ok(WeatherEvent {
        event_ticker,
        series_ticker: series,
        city,
        date,
        brackets,
    })
}

/// The settled high in an `expiration_value` ("53.00", "53", or a note that starts with the
/// number), as whole degrees; `None` if it does not start with a number.
pub fn settled_high(expiration_value: &str) -> Option<i32> {
    let lead: String = expiration_value
        .trim()
        .chars()
        .take_while(|c| c.is_ascii_digit() || *c == '.' || *c == '-')
        .collect();
    let lead = lead.trim_end_matches('.');
    let v: f64 = lead.parse().ok()?;
    (v.fract() == 0.0).then_some(v as i32)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// KXHIGHNY-24NOV24 as recorded (DOMAIN.md §1).
    fn recorded() -> Vec<Value> {
        vec![
            json!({"ticker": "KXHIGHNY-24NOV24-T49", "strike_type": "less", "cap_strike": 49, "yes_sub_title": "48° or below"}),
            json!({"ticker": "KXHIGHNY-24NOV24-B49.5", "strike_type": "between", "floor_strike": 49, "cap_strike": 50, "yes_sub_title": "49° to 50°"}),
            json!({"ticker": "KXHIGHNY-24NOV24-B51.5", "strike_type": "between", "floor_strike": 51, "cap_strike": 52, "yes_sub_title": "51° to 52°"}),
            json!({"ticker": "KXHIGHNY-24NOV24-B53.5", "strike_type": "between", "floor_strike": 53, "cap_strike": 54, "yes_sub_title": "53° to 54°"}),
            json!({"ticker": "KXHIGHNY-24NOV24-B55.5", "strike_type": "between", "floor_strike": 55, "cap_strike": 56, "yes_sub_title": "55° to 56°"}),
            json!({"ticker": "KXHIGHNY-24NOV24-T56", "strike_type": "greater", "floor_strike": 56, "yes_sub_title": "57° or above"}),
        ]
    }

    #[test]
    fn the_recorded_example() {
        let mut markets = recorded();
        markets.reverse();
        let e = event_from_api(
            &json!({"event_ticker": "KXHIGHNY-24NOV24", "series_ticker": "KXHIGHNY"}),
            &markets,
        )
        .unwrap();
        assert_eq!(e.city.as_str(), "NYC");
        assert_eq!(e.date, NaiveDate::from_ymd_opt(2024, 11, 24).unwrap());
        let labels: Vec<String> = e.brackets.iter().map(Bracket::label).collect();
        assert_eq!(
            labels,
            [
                "48F or below",
                "49-50F",
                "51-52F",
                "53-54F",
                "55-56F",
                "57F or above"
            ]
        );
        assert_eq!(
            e.winning_bracket(53).unwrap().ticker,
            "KXHIGHNY-24NOV24-B53.5"
        );
        assert_eq!(
            e.winning_bracket(48).unwrap().ticker,
            "KXHIGHNY-24NOV24-T49"
        );
        assert_eq!(
            e.winning_bracket(49).unwrap().ticker,
            "KXHIGHNY-24NOV24-B49.5"
        );
        assert_eq!(
            e.winning_bracket(56).unwrap().ticker,
            "KXHIGHNY-24NOV24-B55.5"
        );
        assert_eq!(
            e.winning_bracket(57).unwrap().ticker,
            "KXHIGHNY-24NOV24-T56",
            "greater is strict"
        );
        let tickers: Vec<&str> = markets
            .iter()
            .map(|m| m["ticker"].as_str().unwrap())
            .collect();
        let from_tickers = event_from_tickers("KXHIGHNY-24NOV24", &tickers).unwrap();
        assert_eq!(from_tickers.brackets, e.brackets);
    }

    #[test]
    fn gaps_overlaps_and_disagreements_are_refused() {
        let ev = json!({"event_ticker": "KXHIGHNY-24NOV24", "series_ticker": "KXHIGHNY"});
        let mut gap = recorded();
        gap.remove(2);
        assert!(matches!(
            event_from_api(&ev, &gap),
            Err(MarketModelError::NotContiguous { .. })
        ));
        let mut two_low = recorded();
        two_low[5] = json!({"ticker": "X-T40", "strike_type": "less", "cap_strike": 40});
        assert!(matches!(
            event_from_api(&ev, &two_low),
            Err(MarketModelError::NotContiguous { .. })
        ));
        let mut wrong_sub = recorded();
        wrong_sub[0]["yes_sub_title"] = json!("49° or below");
        let e = event_from_api(&ev, &wrong_sub).unwrap_err();
        assert!(e.to_string().contains("subtitle"), "{e}");
        let mut no_type = recorded();
        no_type[1].as_object_mut().unwrap().remove("strike_type");
        assert_eq!(
            event_from_api(&ev, &no_type).unwrap().brackets.len(),
            6,
            "read from the subtitle"
        );
        let unknown = json!({"event_ticker": "KXHIGHLAX-24NOV24", "series_ticker": "KXHIGHLAX"});
        assert!(matches!(
            event_from_api(&unknown, &recorded()),
            Err(MarketModelError::Event { .. })
        ));
    }

    #[test]
    fn dates_and_settled_values() {
        assert_eq!(
            event_date("HIGHNY-24AUG16").unwrap(),
            NaiveDate::from_ymd_opt(2024, 8, 16).unwrap()
        );
        assert!(event_date("KXHIGHNY-24FOO16").is_err());
        assert!(event_date("KXHIGHNY-24FEB30").is_err());
        assert_eq!(settled_high("53.00"), Some(53));
        assert_eq!(settled_high("7.00"), Some(7));
        assert_eq!(settled_high("104.00"), Some(104));
        assert_eq!(
            settled_high("81. Although the Daily Climate Report was not finalized"),
            Some(81)
        );
        assert_eq!(
            settled_high("53.5"),
            None,
            "not a whole degree: never guessed"
        );
        assert_eq!(settled_high(""), None);
        assert_eq!(city_of_series("HIGHCHI").unwrap().as_str(), "CHI");
    }
}
