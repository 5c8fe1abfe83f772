//! From climate reports to a day's settled high, and from Kalshi's result and our fills to a
//! trade's outcome.
//!
//! The settled high of a climate day is the MAXIMUM of its latest *final* report (the one
//! issued after the day, labelled YESTERDAY); a later final that differs (a correction) replaces
//! it and is flagged. Preliminary and morning reports never settle anything. What pays is
//! Kalshi's market result: the report is only cross-checked against it.

use boz_common::money::FixedPointError;
use boz_common::schemas::Side;
use boz_common::status::TradeStatus;
use boz_common::{Count, Dollars};
use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;

use crate::climate::{ClimateReport, ReportKind, parse};

/// One issued product (text as received).
#[derive(Debug, Clone, PartialEq)]
pub struct Issued {
    pub id: String,
    pub issued_at: DateTime<Utc>,
    pub text: String,
}

/// A parsed section with where it came from.
#[derive(Debug, Clone, PartialEq)]
pub struct Read {
    pub id: String,
    pub issued_at: DateTime<Utc>,
    pub report: ClimateReport,
}

/// Parses every product; the first section of a product is its own station. Products that do
/// not parse are reported with the reason, never guessed at.
pub fn read_products(products: &[Issued]) -> (Vec<Read>, Vec<String>) {
    let mut ok = Vec::new();
    let mut errors = Vec::new();
    for p in products {
        match parse(&p.text) {
            Ok(mut sections) if !sections.is_empty() => ok.push(Read {
                id: p.id.clone(),
                issued_at: p.issued_at,
                report: sections.remove(0),
            }),
            Ok(_) => errors.push(format!("{}: no station section", p.id)),
            Err(e) => errors.push(format!("{}: {e}", p.id)),
        }
    }
    (ok, errors)
}

/// A day's settled high.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DayHigh {
    pub date: NaiveDate,
    pub high_f: i32,
    pub product_id: String,
    pub issued_at: DateTime<Utc>,
    /// A correction (marked, or a later final with another value).
    pub corrected: bool,
    /// The last preliminary or morning value, if any (for the post-mortem).
    pub preliminary_high_f: Option<i32>,
}

/// The settled high of `date`, from the latest final report; `None` while there is no final or
/// its MAXIMUM is missing.
pub fn day_high(reads: &[Read], date: NaiveDate) -> Option<DayHigh> {
    let mut finals: Vec<&Read> = reads
        .iter()
        .filter(|r| r.report.climate_date == date && r.report.kind == ReportKind::Final)
        .collect();
    finals.sort_by_key(|r| r.issued_at);
    let last = finals.last()?;
    let high = last.report.maximum.as_ref()?.value_f;
    let differs = finals
        .iter()
        .filter_map(|r| r.report.maximum.as_ref())
        .any(|m| m.value_f != high);
    let preliminary_high_f = reads
        .iter()
        .filter(|r| r.report.climate_date == date && r.report.kind != ReportKind::Final)
        .max_by_key(|r| r.issued_at)
        .and_then(|r| r.report.maximum.as_ref().map(|m| m.value_f));
    Some(DayHigh {
        date,
        high_f: high,
        product_id: last.id.clone(),
        issued_at: last.issued_at,
        corrected: last.report.correction || differs,
        preliminary_high_f,
    })
}

/// WON or LOST and the P&L from the fills: a winning side pays $1 a contract; P&L = payout −
/// what the contracts cost − fees.
pub fn outcome(
    side: Side,
    filled: Count,
    fill_cost: Dollars,
    fees: Dollars,
    yes_won: bool,
) -> Result<(TradeStatus, Dollars), FixedPointError> {
    let won = (side == Side::Yes) == yes_won;
    let payout = if won {
        filled.as_decimal()
    } else {
        rust_decimal::Decimal::ZERO
    };
    let pnl = payout - fill_cost.as_decimal() - fees.as_decimal();
    let status = if won {
        TradeStatus::Won
    } else {
        TradeStatus::Lost
    };
    Ok((status, Dollars::new(pnl)?))
}

/// A disagreement between the report's high and Kalshi's result for a bracket, in words.
pub fn cross_check(
    high_f: i32,
    lower: Option<i32>,
    upper: Option<i32>,
    yes_won: bool,
) -> Option<String> {
    let in_bracket = boz_common::ports::bracket_pays(lower, upper, high_f);
    (in_bracket != yes_won).then(|| {
        format!(
            "basis mismatch: the climate report's high of {high_f}°F {} this bracket but Kalshi settled it {}",
            if in_bracket { "is in" } else { "is outside" },
            if yes_won { "YES" } else { "NO" }
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Dollars {
        Dollars::parse(s).unwrap()
    }

    #[test]
    fn pnl_from_fills_on_hand_computed_trades() {
        let ten = Count::parse("10").unwrap();
        // 10 YES at 0.30 (3.00) with 0.15 fees
        assert_eq!(
            outcome(Side::Yes, ten, d("3.00"), d("0.15"), true).unwrap(),
            (TradeStatus::Won, d("6.85"))
        );
        assert_eq!(
            outcome(Side::Yes, ten, d("3.00"), d("0.15"), false).unwrap(),
            (TradeStatus::Lost, d("-3.15"))
        );
        // 10 NO at 0.75 (7.50) with 0.14 fees: NO wins when YES does not
        assert_eq!(
            outcome(Side::No, ten, d("7.50"), d("0.14"), false).unwrap(),
            (TradeStatus::Won, d("2.36"))
        );
        assert_eq!(
            outcome(Side::No, ten, d("7.50"), d("0.14"), true).unwrap(),
            (TradeStatus::Lost, d("-7.64"))
        );
    }

    #[test]
    fn cross_check_flags_a_disagreement() {
        assert_eq!(cross_check(53, Some(53), Some(54), true), None);
        assert_eq!(cross_check(55, Some(53), Some(54), false), None);
        assert_eq!(cross_check(48, None, Some(48), true), None);
        let m = cross_check(55, Some(53), Some(54), true).unwrap();
        assert!(
            m.contains("is outside this bracket but Kalshi settled it YES"),
            "{m}"
        );
    }
}
