#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may panic

//! Post-mortem texts, snapshot-tested, and their verdicts.

use boz_common::schemas::{TradeRecord, Verdict};
use boz_common::{Dollars, Price};
use boz_settle::postmortem::{Facts, postmortem};
use serde_json::json;

fn trade(side: &str, entry: &str) -> TradeRecord {
    let b = |l: &str, lo: Option<f64>, hi: Option<f64>, p: f64| json!({"bracket_label": l, "lower_bound_f": lo, "upper_bound_f": hi, "probability": p});
    let w = |source: &str, high: f64| {
        json!({
            "city": "NYC", "date": "2026-02-17", "forecast_high_f": high, "source": source,
            "model_run_timestamp": "2026-02-16T12:00:00Z", "variables": {"temp_high_f": high},
            "raw_data": {}, "fetched_at": "2026-02-16T13:00:00Z"
        })
    };
    serde_json::from_value(json!({
        "id": "t-1", "city": "NYC", "date": "2026-02-17", "bracket_label": "53-54F", "side": side,
        "entry_price": entry, "quantity": "10", "model_probability": 0.298, "market_probability": 0.22,
        "ev_at_entry": 0.06, "confidence": "MEDIUM",
        "weather_forecasts": [w("NWS", 54.0), w("Open-Meteo:GFS", 51.0), w("Open-Meteo:ECMWF", 55.0)],
        "prediction": {"city": "NYC", "date": "2026-02-17", "brackets": [
            b("50F or below", None, Some(50.0), 0.102), b("51-52F", Some(51.0), Some(52.0), 0.206),
            b("53-54F", Some(53.0), Some(54.0), 0.298), b("55-56F", Some(55.0), Some(56.0), 0.244),
            b("57-58F", Some(57.0), Some(58.0), 0.115), b("59F or above", Some(59.0), None, 0.035)],
            "ensemble_forecast_f": 53.8, "confidence": "MEDIUM", "model_sources": ["NWS", "Open-Meteo:GFS", "Open-Meteo:ECMWF"],
            "forecast_spread_f": 1.6, "error_std_f": 2.6, "generated_at": "2026-02-16T20:00:00Z"},
        "status": "EXECUTED", "settlement_temp_f": null, "settlement_source": null, "pnl": null,
        "postmortem": null, "created_at": "2026-02-16T20:05:00Z", "settled_at": null
    }))
    .unwrap()
}

fn facts<'a>(
    t: &'a TradeRecord,
    high: i32,
    won: bool,
    pnl: &str,
    close: Option<&str>,
    issues: &[&str],
) -> Facts<'a> {
    Facts {
        trade: t,
        actual_high_f: high,
        fees: Dollars::parse("0.15").unwrap(),
        pnl: Dollars::parse(pnl).unwrap(),
        won,
        closing_price: close.map(|c| Price::parse(c).unwrap()),
        issues: issues.iter().map(|s| s.to_string()).collect(),
    }
}

#[test]
fn a_win() {
    let t = trade("yes", "0.22");
    let pm = postmortem(&facts(&t, 54, true, "7.65", Some("0.91"), &[])).unwrap();
    assert_eq!(pm.verdict, Verdict::Win);
    assert_eq!(pm.closest_source.as_deref(), Some("NWS (54°F)"));
    assert!((pm.winning_bracket_probability - 0.298).abs() < 1e-12);
    insta::assert_snapshot!("win", pm.narrative);
}

#[test]
fn bad_luck() {
    let t = trade("yes", "0.22");
    let pm = postmortem(&facts(&t, 55, false, "-2.35", Some("0.20"), &[])).unwrap();
    assert_eq!(pm.verdict, Verdict::BadLuck);
    insta::assert_snapshot!("bad_luck", pm.narrative);
}

#[test]
fn bad_forecast() {
    let t = trade("yes", "0.22");
    let pm = postmortem(&facts(&t, 61, false, "-2.35", None, &[])).unwrap();
    assert_eq!(pm.verdict, Verdict::BadForecast);
    assert!(pm.forecast_error_sigma < -2.0);
    insta::assert_snapshot!("bad_forecast", pm.narrative);
}

#[test]
fn bad_price() {
    let t = trade("no", "0.78");
    let pm = postmortem(&facts(&t, 53, false, "-7.95", Some("0.62"), &[])).unwrap();
    assert_eq!(pm.verdict, Verdict::BadPrice);
    insta::assert_snapshot!("bad_price", pm.narrative);
}

#[test]
fn a_bug_and_a_correction() {
    let t = trade("yes", "0.22");
    let pm = postmortem(&facts(
        &t,
        55,
        true,
        "7.65",
        None,
        &[
            "corrected report: the final high changed from 54°F to 55°F",
            "basis mismatch: the climate report's high of 55°F is outside this bracket but Kalshi settled it YES",
        ],
    ))
    .unwrap();
    assert_eq!(pm.verdict, Verdict::Bug);
    insta::assert_snapshot!("bug", pm.narrative);
}
