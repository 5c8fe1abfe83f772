//! `boz backfill` against a local Open-Meteo (real HTTP, the Previous Runs API's response
//! shape): as-of forecasts stored with the decision time as the time they became known, the
//! backtest's look-ahead rule; a second run asks nothing again (resumable).

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may panic

mod support;

use support::*;

use boz_common::city::builtin_cities;
use boz_common::config::DatabaseUrl;
use boz_store::Database;
use chrono::{DateTime, Duration, NaiveDate, NaiveTime, Utc};
use serde_json::json;
use wiremock::matchers::path;
use wiremock::{Mock, MockServer, ResponseTemplate};

fn day(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn as_of_forecasts_are_stored_known_from_the_decision_and_not_asked_twice() {
    let server = MockServer::start().await;
    // hourly values for a week around the dates; previous_dayN = 50 + N
    let start: DateTime<Utc> = "2026-02-13T00:00:00Z".parse().unwrap();
    let n = 24 * 8;
    let times: Vec<String> = (0..n)
        .map(|i| {
            (start + Duration::hours(i))
                .format("%Y-%m-%dT%H:%M")
                .to_string()
        })
        .collect();
    let mut hourly = serde_json::Map::new();
    hourly.insert("time".into(), json!(times));
    for k in 1..=7 {
        hourly.insert(
            format!("temperature_2m_previous_day{k}"),
            json!(vec![50.0 + f64::from(k); n as usize]),
        );
    }
    Mock::given(path("/v1/forecast"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"utc_offset_seconds": 0, "hourly": hourly})),
        )
        .mount(&server)
        .await;
    let dir = tempfile::tempdir().unwrap();
    let uri = server.uri();
    let env = [
        ("DATABASE_URL", "sqlite://boz.sqlite"),
        ("OPEN_METEO_PREVIOUS_RUNS_URL", uri.as_str()),
    ];
    let args = [
        "backfill",
        "--from",
        "2026-02-16",
        "--to",
        "2026-02-17",
        "--city",
        "NYC",
        "--model",
        "ncep_gfs_seamless",
        "--rate-per-second",
        "20",
    ];
    let out = boz(dir.path(), &env, &args);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("NYC: 2 forecasts stored, 0 already stored"),
        "{}",
        text(&out.stdout)
    );
    let asked = server.received_requests().await.unwrap().len();
    assert_eq!(asked, 2, "one request per date, model and decision");

    let db = Database::open(&DatabaseUrl::Sqlite {
        path: dir.path().join("boz.sqlite"),
    })
    .await
    .unwrap();
    let store = db.store();
    let nyc = builtin_cities()
        .into_iter()
        .find(|c| c.code == "NYC")
        .unwrap();
    let stored = store
        .forecasts_between(&nyc.code(), day("2026-02-16"), day("2026-02-17"))
        .await
        .unwrap();
    assert_eq!(stored.len(), 2);
    for f in &stored {
        let w = &f.data;
        assert_eq!(w.source, "Open-Meteo:GFS");
        // known at 20:00 local standard time the day before, as a backtest decides
        let decision = nyc.at_standard_time(
            w.date - Duration::days(1),
            NaiveTime::from_hms_opt(20, 0, 0).unwrap(),
        );
        assert_eq!(w.fetched_at, decision, "{w:?}");
        // only runs out (with their 6-hour lag) by then were used
        assert!(
            w.model_run_timestamp + Duration::hours(6) <= decision,
            "{w:?}"
        );
        assert!(w.forecast_high_f > 50.0, "{w:?}");
    }
    db.close().await;

    // again: everything is stored, nothing is asked
    let again = boz(dir.path(), &env, &args);
    assert!(again.status.success(), "{}", text(&again.stderr));
    assert!(
        text(&again.stdout).contains("NYC: 0 forecasts stored, 2 already stored"),
        "{}",
        text(&again.stdout)
    );
    assert_eq!(server.received_requests().await.unwrap().len(), asked);

    // bad input is refused by name
    let bad = boz(
        dir.path(),
        &env,
        &[
            "backfill",
            "--from",
            "2026-02-16",
            "--to",
            "2026-02-17",
            "--rate-per-second",
            "0",
        ],
    );
    assert!(!bad.status.success());
    assert!(
        text(&bad.stderr).contains("--rate-per-second 0"),
        "{}",
        text(&bad.stderr)
    );
}
