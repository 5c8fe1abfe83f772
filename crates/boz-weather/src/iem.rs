//! The Iowa Environmental Mesonet's archive of NWS text products: past climate reports (CLI)
//! for `boz backfill`, since the NWS API keeps only recent products.
//!
//! `GET {IEM_BASE_URL}/cgi-bin/afos/retrieve.py?pil=CLINYC&fmt=text&sdate=..&edate=..&limit=9999&order=asc`
//! returns every product entered in `[sdate, edate)` (UTC), each written as `\x01\n<text>\n\x03\n`,
//! or the line `ERROR: Could not Find: <pil>` when there is none. The text carries no issue
//! timestamp of its own but its WMO heading (`CDUS41 KOKX 030616`: day 03, 06:16 UTC); within a
//! window of at most one calendar month that day is unambiguous, so [`split_products`] needs
//! the window and refuses a longer one.

use std::sync::LazyLock;

use chrono::{DateTime, Datelike, Duration, NaiveTime, TimeZone, Utc};
use regex::Regex;

use crate::error::WeatherError;
use crate::http::{HttpJson, RetryPolicy};
use crate::nws::ClimateProduct;

const SERVICE: &str = "IEM";
const RETRIEVE: &str = "/cgi-bin/afos/retrieve.py";

static WMO_HEADING: LazyLock<Option<Regex>> =
    LazyLock::new(|| Regex::new(r"(?m)^([A-Z]{4}\d{2}) ([A-Z]{4}) (\d{2})(\d{2})(\d{2})\b").ok());

/// The IEM text-product archive client (timeouts and retries of [`HttpJson`]).
pub struct IemClient {
    http: HttpJson,
    base_url: String,
}

impl IemClient {
    pub fn new(
        base_url: &str,
        user_agent: &str,
        timeout: std::time::Duration,
        retry: RetryPolicy,
    ) -> Result<IemClient, WeatherError> {
        Ok(IemClient {
            http: HttpJson::new(SERVICE, user_agent, "text/plain", timeout, None, retry)?,
            base_url: base_url.trim_end_matches('/').to_string(),
        })
    }

    /// Every product `pil` entered in `[start, end)`, oldest first (`end - start` at most 31
    /// days).
    pub async fn products(
        &self,
        pil: &str,
        start: DateTime<Utc>,
        end: DateTime<Utc>,
    ) -> Result<Vec<ClimateProduct>, WeatherError> {
        let stamp = |t: DateTime<Utc>| t.format("%Y-%m-%dT%H:%MZ").to_string();
        let query = [
            ("pil", pil.to_string()),
            ("fmt", "text".to_string()),
            ("sdate", stamp(start)),
            ("edate", stamp(end)),
            ("limit", "9999".to_string()),
            ("order", "asc".to_string()),
        ];
        let body = self
            .http
            .get_text(&format!("{}{RETRIEVE}", self.base_url), &query)
            .await?;
        split_products(&body, pil, start, end)
    }
}

fn malformed(reason: String) -> WeatherError {
    WeatherError::Malformed {
        service: SERVICE,
        path: RETRIEVE.to_string(),
        reason,
    }
}

/// The products of a `fmt=text` answer for the window `[start, end)`, with their issue times
/// from the WMO heading and ids in IEM's form (`201301030616-KOKX-CDUS41-CLINYC`).
pub fn split_products(
    body: &str,
    pil: &str,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
) -> Result<Vec<ClimateProduct>, WeatherError> {
    if end <= start || end - start > Duration::days(31) {
        return Err(malformed(format!(
            "window {start}..{end} must be 1 to 31 days"
        )));
    }
    let trimmed = body.trim();
    if trimmed.starts_with("ERROR: Could not Find") || trimmed.is_empty() {
        return Ok(Vec::new());
    }
    if !trimmed.starts_with('\u{1}') {
        let first: String = trimmed.chars().take(80).collect();
        return Err(malformed(format!("not a text-product list: {first:?}")));
    }
    let re = WMO_HEADING
        .as_ref()
        .ok_or_else(|| malformed("heading pattern".into()))?;
    let mut out = Vec::new();
    for (n, part) in trimmed.split('\u{1}').skip(1).enumerate() {
        let text = part.trim_end().trim_end_matches('\u{3}').trim().to_string();
        let which = || format!("product {} of {pil} in {start}..{end}", n + 1);
        let caps = re
            .captures(&text)
            .ok_or_else(|| malformed(format!("{}: no WMO heading line", which())))?;
        let num = |i: usize| caps[i].parse::<u32>().unwrap_or(u32::MAX);
        let (day, hour, minute) = (num(3), num(4), num(5));
        let time = NaiveTime::from_hms_opt(hour, minute, 0)
            .ok_or_else(|| malformed(format!("{}: heading time {}", which(), &caps[0])))?;
        // the one date of the window with that day of the month and the time inside it
        let mut d = start.date_naive();
        let mut found = Vec::new();
        while d <= end.date_naive() {
            if d.day() == day {
                let at = Utc.from_utc_datetime(&d.and_time(time));
                if at >= start && at < end {
                    found.push(at);
                }
            }
            d += Duration::days(1);
        }
        let [issued_at] = found[..] else {
            return Err(malformed(format!(
                "{}: heading {} does not fall in the window",
                which(),
                &caps[0]
            )));
        };
        out.push(ClimateProduct {
            id: format!(
                "{}-{}-{}-{pil}",
                issued_at.format("%Y%m%d%H%M"),
                &caps[2],
                &caps[1]
            ),
            issued_at,
            text,
        });
    }
    out.sort_by_key(|p| p.issued_at);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    #[test]
    fn products_are_split_and_dated_from_their_heading() {
        let body = "\u{1}\n795 \nCDUS41 KOKX 030616\nCLINYC\n\nCLIMATE REPORT\n\n\u{3}\n\
                    \u{1}\n123 \nCDUS41 KOKX 312130\nCLINYC\ntext\n\u{3}\n";
        let p = split_products(
            body,
            "CLINYC",
            t("2013-01-01T00:00:00Z"),
            t("2013-02-01T00:00:00Z"),
        )
        .unwrap();
        assert_eq!(p.len(), 2);
        assert_eq!(p[0].issued_at, t("2013-01-03T06:16:00Z"));
        assert_eq!(p[0].id, "201301030616-KOKX-CDUS41-CLINYC");
        assert!(p[0].text.starts_with("795"));
        assert!(p[0].text.ends_with("CLIMATE REPORT"));
        assert_eq!(p[1].issued_at, t("2013-01-31T21:30:00Z"));
    }

    #[test]
    fn nothing_found_is_empty_and_anything_else_is_named() {
        let (s, e) = (t("2013-01-01T00:00:00Z"), t("2013-02-01T00:00:00Z"));
        assert!(
            split_products("ERROR: Could not Find: CLINYC", "CLINYC", s, e)
                .unwrap()
                .is_empty()
        );
        let err = split_products("<html>oops</html>", "CLINYC", s, e).unwrap_err();
        assert!(err.to_string().contains("not a text-product list"), "{err}");
        let err = split_products("\u{1}\nno heading\n\u{3}\n", "CLINYC", s, e).unwrap_err();
        assert!(err.to_string().contains("product 1 of CLINYC"), "{err}");
        // day 05 is outside a window of the 10th to the 20th
        let err = split_products(
            "\u{1}\nCDUS41 KOKX 050616\n\u{3}\n",
            "CLINYC",
            t("2013-01-10T00:00:00Z"),
            t("2013-01-20T00:00:00Z"),
        )
        .unwrap_err();
        assert!(
            err.to_string().contains("does not fall in the window"),
            "{err}"
        );
        assert!(split_products("", "CLINYC", s, t("2013-03-15T00:00:00Z")).is_err());
    }
}
