//! The seed's schemas: JSON round trips in the seed's shape (snapshots) and rejection of
//! malformed input with the field named.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may panic

use boz_common::schemas::*;
use serde_json::{Value, json};

fn weather() -> Value {
    json!({
        "city": "NYC",
        "date": "2026-02-17",
        "forecast_high_f": 55.0,
        "source": "Open-Meteo:GFS",
        "model_run_timestamp": "2026-02-17T06:00:00Z",
        "variables": {
            "temp_high_f": 55.0,
            "temp_low_f": 41.5,
            "humidity_pct": 62.0,
            "wind_speed_mph": 11.2,
            "wind_gust_mph": null,
            "cloud_cover_pct": 40.0,
            "dew_point_f": 33.1,
            "pressure_mb": 1016.4
        },
        "raw_data": {"daily": {"temperature_2m_max": [55.0]}},
        "fetched_at": "2026-02-17T10:00:01Z"
    })
}

fn bracket(label: &str, lo: Option<f64>, hi: Option<f64>, p: f64) -> Value {
    json!({"bracket_label": label, "lower_bound_f": lo, "upper_bound_f": hi, "probability": p})
}

fn prediction() -> Value {
    json!({
        "city": "NYC",
        "date": "2026-02-17",
        "brackets": [
            bracket("50F or below", None, Some(50.0), 0.102),
            bracket("51-52F", Some(51.0), Some(52.0), 0.206),
            bracket("53-54F", Some(53.0), Some(54.0), 0.298),
            bracket("55-56F", Some(55.0), Some(56.0), 0.244),
            bracket("57-58F", Some(57.0), Some(58.0), 0.115),
            bracket("59F or above", Some(59.0), None, 0.035),
        ],
        "ensemble_forecast_f": 53.8,
        "confidence": "MEDIUM",
        "model_sources": ["NWS", "Open-Meteo:GFS"],
        "forecast_spread_f": 1.2,
        "error_std_f": 2.6,
        "generated_at": "2026-02-17T10:05:00Z"
    })
}

fn signal() -> Value {
    json!({
        "city": "NYC",
        "bracket": bracket("53-54F", Some(53.0), Some(54.0), 0.298),
        "side": "yes",
        "market_price": 0.22,
        "model_probability": 0.298,
        "ev": 0.0598,
        "confidence": "MEDIUM",
        "reasoning": "model 29.8% vs ask 22c; EV 5.98c after a 1.72c fee"
    })
}

fn trade() -> Value {
    json!({
        "id": "trade-1",
        "city": "NYC",
        "date": "2026-02-17",
        "bracket_label": "53-54F",
        "side": "yes",
        "entry_price": 0.22,
        "quantity": 4.0,
        "model_probability": 0.298,
        "market_probability": 0.22,
        "ev_at_entry": 0.0598,
        "confidence": "MEDIUM",
        "weather_forecasts": [weather()],
        "prediction": prediction(),
        "status": "WON",
        "settlement_temp_f": 54.0,
        "settlement_source": "NWS_CLI",
        "pnl": 3.05,
        "postmortem": "Won: the high was 54F, inside 53-54F.",
        "created_at": "2026-02-17T10:06:00Z",
        "settled_at": "2026-02-18T12:00:00Z"
    })
}

fn settings() -> Value {
    json!({
        "trading_mode": "manual",
        "max_trade_size": 1.0,
        "daily_loss_limit": 10.0,
        "max_daily_exposure": 25.0,
        "min_ev_threshold": 0.05,
        "cooldown_per_loss_minutes": 60,
        "consecutive_loss_limit": 3,
        "cities": ["NYC", "CHI", "MIA", "AUS"]
    })
}

fn pending() -> Value {
    json!({
        "id": "pending-1",
        "user_id": "user-1",
        "date": "2026-02-17",
        "market_ticker": "KXHIGHNY-26FEB17-B53.5",
        "signal": signal(),
        "quantity": 4.0,
        "limit_price": 0.22,
        "status": "PENDING",
        "created_at": "2026-02-17T10:06:00Z",
        "expires_at": "2026-02-17T10:21:00Z"
    })
}

fn postmortem() -> Value {
    json!({
        "trade_id": "trade-1",
        "city": "NYC",
        "date": "2026-02-17",
        "actual_high_f": 54.0,
        "forecast_high_f": 53.8,
        "forecast_error_f": -0.2,
        "forecast_error_sigma": -0.077,
        "closest_source": "NWS",
        "furthest_source": "Open-Meteo:GFS",
        "winning_bracket_probability": 0.298,
        "entry_price": 0.22,
        "closing_price": 0.41,
        "fees": 0.07,
        "pnl": 3.05,
        "settlement_issues": [],
        "verdict": "WIN",
        "narrative": "Won: the forecast was 0.2F high; the market closed at 41c."
    })
}

/// Deserialises, re-serialises and checks the JSON is unchanged.
fn round_trip<T: serde::de::DeserializeOwned + serde::Serialize>(v: &Value) -> Value {
    let parsed: T = serde_json::from_value(v.clone()).expect("valid input parses");
    let back = serde_json::to_value(&parsed).unwrap();
    assert_eq!(&back, v, "round trip changed the JSON");
    back
}

#[test]
fn every_schema_round_trips_in_the_seed_shape() {
    insta::assert_json_snapshot!("weather_data", round_trip::<WeatherData>(&weather()));
    insta::assert_json_snapshot!(
        "bracket_prediction",
        round_trip::<BracketPrediction>(&prediction())
    );
    insta::assert_json_snapshot!("trade_signal", round_trip::<TradeSignal>(&signal()));
    insta::assert_json_snapshot!("trade_record", round_trip::<TradeRecord>(&trade()));
    insta::assert_json_snapshot!("user_settings", round_trip::<UserSettings>(&settings()));
    insta::assert_json_snapshot!("pending_trade", round_trip::<PendingTrade>(&pending()));
    insta::assert_json_snapshot!("post_mortem", round_trip::<PostMortem>(&postmortem()));
}

#[test]
fn seed_open_status_reads_as_executed() {
    let mut t = trade();
    t["status"] = json!("OPEN");
    let parsed: TradeRecord = serde_json::from_value(t).unwrap();
    assert_eq!(parsed.status, boz_common::TradeStatus::Executed);
}

/// Applies `edit` to a valid document and expects an error mentioning every `needles`.
fn rejects<T: serde::de::DeserializeOwned + std::fmt::Debug>(
    mut doc: Value,
    edit: impl FnOnce(&mut Value),
    needles: &[&str],
) {
    edit(&mut doc);
    let err = serde_json::from_value::<T>(doc).unwrap_err().to_string();
    for n in needles {
        assert!(err.contains(n), "error {err:?} does not mention {n:?}");
    }
}

#[test]
fn malformed_weather_is_rejected_naming_the_field() {
    rejects::<WeatherData>(
        weather(),
        |w| w["city"] = json!("LAX"),
        &["unknown city", "LAX"],
    );
    rejects::<WeatherData>(
        weather(),
        |w| w["forecast_high_f"] = json!(255.0),
        &["forecast_high_f"],
    );
    rejects::<WeatherData>(
        weather(),
        |w| w["variables"]["humidity_pct"] = json!(140.0),
        &["humidity_pct", "within [0, 100]"],
    );
    rejects::<WeatherData>(
        weather(),
        |w| w["source"] = json!(" "),
        &["source", "empty"],
    );
    rejects::<WeatherData>(weather(), |w| w["raw_data"] = json!([1]), &["raw_data"]);
    rejects::<WeatherData>(
        weather(),
        |w| {
            w.as_object_mut().unwrap().remove("fetched_at");
        },
        &["missing field `fetched_at`"],
    );
    rejects::<WeatherData>(
        weather(),
        |w| w["date"] = json!("2026-02-30"),
        &["input is out of range"],
    );
}

#[test]
fn malformed_predictions_are_rejected_naming_the_field() {
    rejects::<BracketPrediction>(
        prediction(),
        |p| p["brackets"][2]["probability"] = json!(1.2),
        &["probability", "within [0, 1]"],
    );
    rejects::<BracketPrediction>(
        prediction(),
        |p| p["brackets"][2]["probability"] = json!(0.3),
        &["brackets", "sum to"],
    );
    rejects::<BracketPrediction>(
        prediction(),
        |p| p["brackets"][2]["lower_bound_f"] = json!(54.0),
        &["brackets[2].lower_bound_f", "not contiguous"],
    );
    rejects::<BracketPrediction>(
        prediction(),
        |p| p["brackets"][0]["lower_bound_f"] = json!(40.0),
        &["brackets[0].lower_bound_f", "low tail"],
    );
    rejects::<BracketPrediction>(
        prediction(),
        |p| p["brackets"][5]["upper_bound_f"] = json!(80.0),
        &["brackets[5].upper_bound_f", "high tail"],
    );
    rejects::<BracketPrediction>(
        prediction(),
        |p| {
            let b = p["brackets"].as_array_mut().unwrap();
            b.swap(1, 2);
        },
        &["brackets[1].lower_bound_f"],
    );
    rejects::<BracketPrediction>(
        prediction(),
        |p| p["brackets"][1]["lower_bound_f"] = json!(50.5),
        &["lower_bound_f", "whole degree"],
    );
    rejects::<BracketPrediction>(
        prediction(),
        |p| p["error_std_f"] = json!(0.0),
        &["error_std_f"],
    );
    rejects::<BracketPrediction>(
        prediction(),
        |p| p["confidence"] = json!("SURE"),
        &["unknown variant `SURE`"],
    );
    rejects::<BracketPrediction>(
        prediction(),
        |p| p["model_sources"] = json!([]),
        &["model_sources"],
    );
}

#[test]
fn sums_within_the_tolerance_are_accepted() {
    let mut p = prediction();
    p["brackets"][5]["probability"] = json!(0.035 + 5e-10);
    serde_json::from_value::<BracketPrediction>(p).unwrap();
}

#[test]
fn malformed_signals_trades_and_settings_are_rejected() {
    rejects::<TradeSignal>(
        signal(),
        |s| s["market_price"] = json!(1.0),
        &["not strictly between 0 and 1"],
    );
    rejects::<TradeSignal>(
        signal(),
        |s| s["side"] = json!("maybe"),
        &["unknown variant `maybe`"],
    );
    rejects::<TradeSignal>(
        signal(),
        |s| s["model_probability"] = json!(-0.1),
        &["model_probability"],
    );
    rejects::<TradeRecord>(
        trade(),
        |t| t["quantity"] = json!(0),
        &["quantity", "positive"],
    );
    rejects::<TradeRecord>(
        trade(),
        |t| t["bracket_label"] = json!("99-100F"),
        &["bracket_label"],
    );
    rejects::<TradeRecord>(
        trade(),
        |t| t["status"] = json!("DONE"),
        &["unknown trade status"],
    );
    rejects::<TradeRecord>(
        trade(),
        |t| t["entry_price"] = json!(0.1234567),
        &["more than 6 decimal places"],
    );
    rejects::<UserSettings>(
        settings(),
        |s| s["max_trade_size"] = json!(0),
        &["max_trade_size", "positive"],
    );
    rejects::<UserSettings>(
        settings(),
        |s| s["daily_loss_limit"] = json!(-5),
        &["daily_loss_limit"],
    );
    rejects::<UserSettings>(
        settings(),
        |s| s["min_ev_threshold"] = json!(2),
        &["min_ev_threshold"],
    );
    rejects::<UserSettings>(
        settings(),
        |s| s["consecutive_loss_limit"] = json!(0),
        &["consecutive_loss_limit"],
    );
    rejects::<UserSettings>(
        settings(),
        |s| s["cities"] = json!(["NYC", "NYC"]),
        &["cities", "twice"],
    );
    rejects::<UserSettings>(
        settings(),
        |s| s["cities"] = json!(["XYZ"]),
        &["unknown city"],
    );
    rejects::<UserSettings>(
        settings(),
        |s| s["trading_mode"] = json!("yolo"),
        &["unknown variant"],
    );
    rejects::<PendingTrade>(
        pending(),
        |p| p["expires_at"] = json!("2026-02-17T10:00:00Z"),
        &["expires_at"],
    );
    rejects::<PendingTrade>(
        pending(),
        |p| p["status"] = json!("WON"),
        &["status", "queue state"],
    );
    rejects::<PostMortem>(postmortem(), |p| p["fees"] = json!(-0.01), &["fees"]);
}

#[test]
fn constructors_validate_too() {
    let parsed: BracketPrediction = serde_json::from_value(prediction()).unwrap();
    let mut fields = parsed.into_fields();
    fields.error_std_f = -1.0;
    let err = BracketPrediction::new(fields).unwrap_err();
    assert_eq!(err.field, "error_std_f");
}
