//! Past climate reports (CLI) from IEM's archive into `settlements`.
//!
//! The products of the city's report (`CLINYC`, ...) are fetched one calendar month of issue
//! times at a time, from the month of the first missing date through three days after the last
//! (a day's final report comes out the next morning; a correction issued later than three days
//! after the end of the window is not looked for). Each product is read by the settlement
//! parser and a day's high is its latest *final* report, exactly as live settlement decides;
//! the row looks like a live one (source `NWS CLI final`, the product id, issue time and text,
//! plus `"via": "IEM"`). A date that already has a settled high (from any source) is not asked
//! for again and is never overwritten. A product that does not parse is reported with its id and
//! the reason and settles nothing; the run goes on.

use std::collections::BTreeSet;

use anyhow::{Context, Result};
use boz_common::city::City;
use boz_common::ports::SettlementRow;
use boz_settle::settlement::{day_high, read_products};
use boz_weather::iem::IemClient;
use chrono::{DateTime, Datelike, Duration, NaiveDate, TimeZone, Utc};
use serde_json::json;

use super::Run;

/// Days after a climate day within which its final report is looked for.
const FINAL_WITHIN_DAYS: i64 = 3;

/// Midnight UTC of the first of the month of `d`.
fn month_start(d: NaiveDate) -> DateTime<Utc> {
    let first = d.with_day(1).unwrap_or(d);
    Utc.from_utc_datetime(&first.and_time(chrono::NaiveTime::MIN))
}

fn next_month(t: DateTime<Utc>) -> DateTime<Utc> {
    let d = t.date_naive();
    let (y, m) = if d.month() == 12 {
        (d.year() + 1, 1)
    } else {
        (d.year(), d.month() + 1)
    };
    month_start(NaiveDate::from_ymd_opt(y, m, 1).unwrap_or(d))
}

pub(super) async fn backfill(run: &Run<'_>, client: &IemClient, city: &City) -> Result<()> {
    let code = city.code();
    let have: BTreeSet<NaiveDate> = run
        .store
        .settlements_between(&code, run.from, run.to)
        .await?
        .into_iter()
        .map(|s| s.settlement_date)
        .collect();
    let mut missing: BTreeSet<NaiveDate> = run
        .from
        .iter_days()
        .take_while(|d| *d <= run.to)
        .filter(|d| run.wanted(*d) && !have.contains(d))
        .collect();
    let (Some(first), Some(last)) = (missing.first().copied(), missing.last().copied()) else {
        run.say(format!(
            "{}: climate reports: every date already settled",
            city.code
        ));
        return Ok(());
    };
    let asked = missing.len() as u64;
    let until = month_start(last + Duration::days(FINAL_WITHIN_DAYS));
    let mut months = Vec::new();
    let mut m = month_start(first);
    while m <= until {
        months.push(m);
        m = next_month(m);
    }
    run.phase(city, "months of climate reports", months.len() as u64);
    let (mut stored, mut reads, mut unread) = (0u64, Vec::new(), Vec::new());
    for start in months {
        let end = next_month(start);
        run.limiter.until_ready().await;
        let got = client
            .products(&city.climate_report, start, end)
            .await
            .with_context(|| {
                format!(
                    "{} climate reports {} issued in {}",
                    city.code,
                    city.climate_report,
                    start.format("%Y-%m")
                )
            })?;
        let (read, errors) = read_products(&boz_engine::settle::issued(got));
        reads.extend(read);
        unread.extend(errors);
        run.bar.inc(1);
        // the dates whose finals are all in the months read so far
        let settled_by = (end - Duration::days(FINAL_WITHIN_DAYS)).date_naive();
        let ready: Vec<NaiveDate> = missing
            .iter()
            .copied()
            .filter(|d| *d < settled_by || end > until)
            .collect();
        if ready.is_empty() {
            continue;
        }
        for date in ready {
            missing.remove(&date);
            let Some(h) = day_high(&reads, date) else {
                continue;
            };
            let text = reads
                .iter()
                .find(|r| r.id == h.product_id)
                .map(|r| r.report.raw.clone())
                .unwrap_or_default();
            let row = SettlementRow {
                city: code.clone(),
                settlement_date: date,
                actual_high_f: f64::from(h.high_f),
                source: if h.corrected {
                    "NWS CLI final (corrected)".into()
                } else {
                    "NWS CLI final".into()
                },
                raw_report: json!({"product_id": h.product_id, "issued_at": h.issued_at, "text": text, "via": "IEM"}),
                fetched_at: Utc::now(),
            };
            run.store.upsert_settlement(&row).await?;
            stored += 1;
        }
    }
    let no_final = asked - stored;
    run.say(format!(
        "{}: climate reports: {stored} settled highs stored, {} already stored, {no_final} dates without a final report",
        city.code,
        have.len()
    ));
    if !unread.is_empty() {
        run.say(format!(
            "{}: {} climate report products not read (they settle nothing):",
            city.code,
            unread.len()
        ));
        for e in unread.iter().take(5) {
            run.say(format!("  {e}"));
        }
    }
    Ok(())
}
