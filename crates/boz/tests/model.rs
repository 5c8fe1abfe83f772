//! `boz history import`, `boz score` and `boz predict` end to end: the real recorded history
//! into a SQLite file, the rolling evaluation on it, and predictions from stored forecasts with
//! brackets from a fake Kalshi server.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may panic

mod support;

use support::*;

use std::path::Path;

use boz_common::CityCode;
use boz_common::schemas::WeatherData;
use chrono::{NaiveDate, Utc};
use serde_json::{Value, json};

const HISTORY: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/data/history");

fn nyc() -> CityCode {
    CityCode::parse("NYC").unwrap()
}

fn score(dir: &Path, from: &str, to: &str) -> Value {
    let out = boz(
        dir,
        &[],
        &[
            "score", "--city", "NYC", "--from", from, "--to", to, "--json",
        ],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let v: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
    v[0].clone()
}

fn rps(v: &Value) -> f64 {
    v["rps"].as_f64().unwrap()
}

#[test]
fn history_import_then_score_beats_both_baselines() {
    let dir = tempfile::tempdir().unwrap();
    let out = boz(
        dir.path(),
        &[],
        &["history", "import", "--dir", HISTORY, "--city", "NYC"],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains("reserved window 2025-01-01..2025-06-30 skipped"),
        "{stdout}"
    );
    // nothing from the reserved window is stored
    let (reserved, forecasts) = with_store(&dir.path().join("boz.sqlite"), async |s| {
        let from = NaiveDate::from_ymd_opt(2025, 1, 1).unwrap();
        let to = NaiveDate::from_ymd_opt(2025, 6, 30).unwrap();
        (
            s.settlements_between(&nyc(), from, to).await.unwrap().len()
                + s.forecasts_between(&nyc(), from, to).await.unwrap().len()
                + s.market_snapshots_between(&nyc(), from, to)
                    .await
                    .unwrap()
                    .len(),
            s.forecasts_between(&nyc(), day(1900), day(2100))
                .await
                .unwrap()
                .len(),
        )
    });
    assert_eq!(reserved, 0);
    assert!(forecasts > 4000, "{forecasts}");
    // importing again adds nothing
    let again = boz(
        dir.path(),
        &[],
        &["history", "import", "--dir", HISTORY, "--city", "NYC"],
    );
    assert!(text(&again.stdout).contains("forecasts stored (new): 0"));

    for (from, to) in [("2024-01-20", "2024-12-31"), ("2025-07-01", "2026-08-21")] {
        let r = score(dir.path(), from, to);
        let events = r["model"]["scores"]["events"].as_u64().unwrap();
        assert!(events > 100, "{from}: {events} events");
        let (model, baseline, clim) = (
            rps(&r["model"]["scores"]),
            rps(&r["baseline"]),
            rps(&r["climatology"]),
        );
        assert!(
            model < baseline && baseline < clim,
            "{from}: {model} {baseline} {clim}"
        );
        assert!(r["market_vs_model"]["market"]["events"].as_u64().unwrap() > 100);
        let c = &r["continuous"];
        assert!(c["days"].as_u64().unwrap() > 300);
        assert!(c["mae_f"].as_f64().unwrap() < 3.0);
        assert!((0.75..=0.97).contains(&c["coverage_90"].as_f64().unwrap()));
        let pit: u64 = c["pit_histogram"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_u64().unwrap())
            .sum();
        assert_eq!(pit, c["days"].as_u64().unwrap());
    }
    // a past day is for `boz score`, not `boz predict`
    let out = boz(
        dir.path(),
        &[],
        &["predict", "--city", "NYC", "--date", "2024-06-10"],
    );
    assert!(
        text(&out.stderr).contains("the climate day is over"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn history_import_rejects_a_malformed_file_and_writes_nothing() {
    let history = tempfile::tempdir().unwrap();
    let logger = history.path().join("hwaheed13-nws-forecast-logger");
    std::fs::create_dir(&logger).unwrap();
    std::fs::write(
        logger.join("multiyear_atmospheric.csv"),
        "target_date,actual_high,mm_hrrr_max_d1\n2024-03-01,51,49.5\n",
    )
    .unwrap();
    std::fs::write(
        logger.join("nws_forecast_log.csv"),
        "timestamp,target_date,forecast_or_actual,forecast_time,predicted_high,forecast_detail,cli_date,actual_high,high_time,bias_corrected_prediction,source\n\
         2024-02-29 13:00:00,2024-03-01,forecast,,50,,,,,,\n\
         2024-02-29 14:00:00,2024-03-01,forecast,,M,,,,,,\n",
    )
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let out = boz(
        dir.path(),
        &[],
        &[
            "history",
            "import",
            "--dir",
            history.path().to_str().unwrap(),
            "--city",
            "NYC",
        ],
    );
    assert!(!out.status.success());
    let err = text(&out.stderr);
    assert!(
        err.contains("nws_forecast_log.csv row 2, column predicted_high: \"M\" is not a number"),
        "{err}"
    );
    let stored = with_store(&dir.path().join("boz.sqlite"), async |s| {
        s.settlements_between(&nyc(), day(1900), day(2100))
            .await
            .unwrap()
            .len()
            + s.forecasts_between(&nyc(), day(1900), day(2100))
                .await
                .unwrap()
                .len()
    });
    assert_eq!(stored, 0, "a malformed file changes nothing");
}

fn forecast(date: NaiveDate, source: &str, high: f64, hours_ago: i64) -> WeatherData {
    let at = Utc::now() - chrono::Duration::hours(hours_ago);
    serde_json::from_value(json!({
        "city": "NYC", "date": date, "forecast_high_f": high, "source": source,
        "model_run_timestamp": at, "variables": {"temp_high_f": high},
        "raw_data": {}, "fetched_at": at
    }))
    .unwrap()
}

fn event_json(date: NaiveDate) -> Value {
    let ticker = format!("KXHIGHNY-{}", date.format("%y%b%d")).to_uppercase();
    let m = |t: &str, st: &str, floor: Option<i32>, cap: Option<i32>| json!({"ticker": format!("{ticker}-{t}"), "strike_type": st, "floor_strike": floor, "cap_strike": cap});
    json!({
        "event_ticker": ticker, "series_ticker": "KXHIGHNY",
        "markets": [
            m("T57", "less", None, Some(57)),
            m("B57.5", "between", Some(57), Some(58)),
            m("B59.5", "between", Some(59), Some(60)),
            m("B61.5", "between", Some(61), Some(62)),
            m("B63.5", "between", Some(63), Some(64)),
            m("T64", "greater", Some(64), None),
        ]
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn predict_stores_a_prediction_with_its_provenance() {
    use wiremock::matchers::{path, query_param};
    use wiremock::{Mock, MockServer, ResponseTemplate};
    let city = nyc().city().unwrap();
    let tomorrow = city.climate_date(Utc::now()) + chrono::Duration::days(1);
    let server = MockServer::start().await;
    Mock::given(path("/trade-api/v2/events"))
        .and(query_param("series_ticker", "KXHIGHNY"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"events": [event_json(tomorrow)], "cursor": ""})),
        )
        .mount(&server)
        .await;
    let base = format!("{}/trade-api/v2", server.uri());
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_path_buf();
    tokio::task::spawn_blocking(move || {
        with_store(&d.join("boz.sqlite"), async |s| {
            let batch = vec![
                forecast(tomorrow, "NWS", 60.0, 1),
                forecast(tomorrow, "Open-Meteo:GFS", 62.0, 2),
                forecast(tomorrow, "Open-Meteo:ECMWF", 70.0, 40), // stale
            ];
            s.insert_forecasts(&batch).await.unwrap();
        })
    })
    .await
    .unwrap();
    let d = dir.path().to_path_buf();
    let b = base.clone();
    let out = tokio::task::spawn_blocking(move || {
        boz(
            &d,
            &[("KALSHI_BASE_URL", &b)],
            &["predict", "--city", "NYC", "--json"],
        )
    })
    .await
    .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    let v: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v.len(), 1);
    let p = &v[0];
    assert_eq!(p["date"], json!(tomorrow));
    assert_eq!(p["ensemble_forecast_f"], json!(61.0));
    assert_eq!(p["model_sources"], json!(["NWS", "Open-Meteo:GFS"]));
    let brackets = p["brackets"].as_array().unwrap();
    assert_eq!(brackets.len(), 6);
    assert_eq!(brackets[0]["upper_bound_f"], json!(56.0));
    let sum: f64 = brackets
        .iter()
        .map(|b| b["probability"].as_f64().unwrap())
        .sum();
    assert!((sum - 1.0).abs() < 1e-9);
    // the modal bracket is 61-62
    let best = brackets
        .iter()
        .max_by(|a, b| {
            a["probability"]
                .as_f64()
                .unwrap()
                .total_cmp(&b["probability"].as_f64().unwrap())
        })
        .unwrap();
    assert_eq!(best["bracket_label"], "61-62F");
    // stored with its provenance
    let d = dir.path().to_path_buf();
    let stored = tokio::task::spawn_blocking(move || {
        with_store(&d.join("boz.sqlite"), async |s| {
            s.latest_prediction(&nyc(), tomorrow)
                .await
                .unwrap()
                .unwrap()
        })
    })
    .await
    .unwrap();
    assert_eq!(serde_json::to_value(&stored.prediction).unwrap(), *p);
    let prov = &stored.provenance;
    assert!(
        prov["event_ticker"]
            .as_str()
            .unwrap()
            .starts_with("KXHIGHNY-")
    );
    assert_eq!(prov["sources"].as_array().unwrap().len(), 2);
    let excluded = prov["excluded"].to_string();
    assert!(
        excluded.contains("Open-Meteo:ECMWF") && excluded.contains("stale"),
        "{excluded}"
    );
    // a date with no stored event and none open on Kalshi
    let d = dir.path().to_path_buf();
    let later = (tomorrow + chrono::Duration::days(5)).to_string();
    let out = tokio::task::spawn_blocking(move || {
        boz(
            &d,
            &[("KALSHI_BASE_URL", &base)],
            &["predict", "--city", "NYC", "--date", &later],
        )
    })
    .await
    .unwrap();
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("no event stored and none open on Kalshi"),
        "{}",
        text(&out.stderr)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn predict_without_forecasts_says_why() {
    use wiremock::matchers::path;
    use wiremock::{Mock, MockServer, ResponseTemplate};
    let city = nyc().city().unwrap();
    let tomorrow = city.climate_date(Utc::now()) + chrono::Duration::days(1);
    let server = MockServer::start().await;
    Mock::given(path("/trade-api/v2/events"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"events": [event_json(tomorrow)], "cursor": ""})),
        )
        .mount(&server)
        .await;
    let base = format!("{}/trade-api/v2", server.uri());
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_path_buf();
    let out = tokio::task::spawn_blocking(move || {
        boz(
            &d,
            &[("KALSHI_BASE_URL", &base)],
            &["predict", "--city", "NYC"],
        )
    })
    .await
    .unwrap();
    assert!(!out.status.success());
    let err = text(&out.stderr);
    assert!(
        err.contains("no usable forecast source for NYC") && err.contains("no forecast stored"),
        "{err}"
    );
}

fn day(year: i32) -> NaiveDate {
    NaiveDate::from_ymd_opt(year, 1, 1).unwrap()
}
