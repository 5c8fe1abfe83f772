//! `boz backfill` against local servers over real HTTP: Open-Meteo (the Previous Runs API's
//! response shape: as-of forecasts stored with the decision time as the time they became known,
//! the backtest's look-ahead rule), IEM's text-product archive (a real climate report), and
//! Kalshi (recorded real markets, trades and candlesticks); a second run asks nothing again
//! (resumable), and a malformed answer stops with its name and leaves what was stored.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may panic

mod support;

use support::*;

use boz_common::city::builtin_cities;
use boz_common::config::DatabaseUrl;
use boz_store::Database;
use chrono::{DateTime, Duration, NaiveDate, NaiveTime, Utc};
use serde_json::json;
use wiremock::matchers::{path, query_param};
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
        "--source",
        "forecasts",
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

fn nyc() -> boz_common::city::City {
    builtin_cities()
        .into_iter()
        .find(|c| c.code == "NYC")
        .unwrap()
}

async fn open_db(dir: &std::path::Path) -> Database {
    Database::open(&DatabaseUrl::Sqlite {
        path: dir.join("boz.sqlite"),
    })
    .await
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn climate_reports_from_the_archive_settle_like_live_and_are_not_asked_twice() {
    // a real final CLINYC (Central Park, 2013-01-02, issued 06:16 UTC on the 3rd) as IEM's
    // text format wraps it
    let report =
        std::fs::read_to_string(format!("{SHARED}/weather/cli_samples/pyiem_CLINYC.txt")).unwrap();
    let server = MockServer::start().await;
    Mock::given(path("/cgi-bin/afos/retrieve.py"))
        .and(query_param("pil", "CLINYC"))
        .and(query_param("sdate", "2013-01-01T00:00Z"))
        .and(query_param("edate", "2013-02-01T00:00Z"))
        .respond_with(
            ResponseTemplate::new(200).set_body_string(format!("\u{1}\n{report}\n\u{3}\n")),
        )
        .mount(&server)
        .await;
    let dir = tempfile::tempdir().unwrap();
    let uri = server.uri();
    let env = [
        ("DATABASE_URL", "sqlite://boz.sqlite"),
        ("IEM_BASE_URL", uri.as_str()),
    ];
    let args = |from: &str, to: &str| {
        [
            "backfill", "--source", "climate", "--city", "NYC", "--from", from, "--to", to,
        ]
        .map(str::to_string)
    };
    let run = |a: [String; 9]| {
        let a: Vec<&str> = a.iter().map(String::as_str).collect();
        boz(dir.path(), &env, &a)
    };
    let out = run(args("2013-01-02", "2013-01-02"));
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("NYC: climate reports: 1 settled highs stored, 0 already stored, 0 dates without a final report"),
        "{}",
        text(&out.stdout)
    );
    assert_eq!(
        server.received_requests().await.unwrap().len(),
        1,
        "one month, one request"
    );
    let db = open_db(dir.path()).await;
    let s = db
        .store()
        .get_settlement(&nyc().code(), day("2013-01-02"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(s.actual_high_f, 33.0, "the report's MAXIMUM");
    assert_eq!(s.source, "NWS CLI final");
    assert_eq!(
        s.raw_report["product_id"],
        "201301030616-KOKX-CDUS41-CLINYC"
    );
    assert_eq!(s.raw_report["via"], "IEM");
    assert!(
        s.raw_report["text"]
            .as_str()
            .unwrap()
            .contains("CLIMATE SUMMARY FOR JANUARY 2 2013")
    );
    db.close().await;

    // again: the date is settled, nothing is asked
    let again = run(args("2013-01-02", "2013-01-02"));
    assert!(again.status.success(), "{}", text(&again.stderr));
    assert!(
        text(&again.stdout).contains("every date already settled"),
        "{}",
        text(&again.stdout)
    );
    assert_eq!(server.received_requests().await.unwrap().len(), 1);

    // a day with no final in the archive settles nothing and says so
    let none = run(args("2013-01-03", "2013-01-03"));
    assert!(none.status.success(), "{}", text(&none.stderr));
    assert!(
        text(&none.stdout)
            .contains("0 settled highs stored, 0 already stored, 1 dates without a final report"),
        "{}",
        text(&none.stdout)
    );

    // a malformed answer stops the run by name; what was stored stays
    server.reset().await;
    Mock::given(path("/cgi-bin/afos/retrieve.py"))
        .respond_with(ResponseTemplate::new(200).set_body_string("<html>maintenance</html>"))
        .mount(&server)
        .await;
    let bad = run(args("2013-01-01", "2013-01-04"));
    assert!(!bad.status.success());
    let err = text(&bad.stderr);
    assert!(
        err.contains("NYC climate reports CLINYC issued in 2013-01"),
        "{err}"
    );
    assert!(
        err.contains("IEM") && err.contains("not a text-product list"),
        "{err}"
    );
    let db = open_db(dir.path()).await;
    let kept = db
        .store()
        .settlements_between(&nyc().code(), day("2013-01-01"), day("2013-01-31"))
        .await
        .unwrap();
    assert_eq!(kept.len(), 1);
    assert_eq!(kept[0].actual_high_f, 33.0);
    db.close().await;
}
