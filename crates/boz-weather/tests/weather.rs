//! The weather clients against local fake servers (wiremock) that serve the real recorded NWS
//! responses in `../shared/data/weather/nws_api/` and `../shared/data/peers/aclarkson2013-...`
//! (adapted to our cities where needed), and Open-Meteo responses in the documented shape.
//! Expected values were computed by hand from those files.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may panic

use std::sync::Arc;
use std::time::Duration as StdDuration;

use boz_common::city::{City, CityCode};
use boz_common::error::ErrorKind;
use boz_common::ports::{Clock, ForecastSource, ManualClock};
use boz_weather::http::RetryPolicy;
use boz_weather::service::{NwsGridSource, OpenMeteoEnsembles, OpenMeteoModels};
use boz_weather::{
    NwsClient, NwsConfig, OpenMeteoClient, OpenMeteoConfig, WeatherError, WeatherService,
};
use chrono::{DateTime, Duration, NaiveDate, Utc};
use serde_json::{Value, json};
use wiremock::matchers::{header, method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

const SHARED: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/data");
const UA: &str = "BozWeatherTrader/test (ci@example.com)";

fn shared(rel: &str) -> Value {
    let p = format!("{SHARED}/{rel}");
    serde_json::from_str(&std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{p}: {e}")))
        .unwrap()
}

fn at(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

fn day(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

fn city(code: &str) -> Arc<City> {
    CityCode::parse(code).unwrap().city().unwrap()
}

fn fast_retry(retries: usize) -> RetryPolicy {
    RetryPolicy {
        retries,
        min_delay: StdDuration::from_millis(5),
        max_delay: StdDuration::from_millis(20),
    }
}

fn nws(server: &MockServer, clock: Arc<dyn Clock>, retries: usize, max_age_h: i64) -> NwsClient {
    NwsClient::new(
        &NwsConfig {
            base_url: server.uri(),
            user_agent: UA.into(),
            rate_limit_per_second: 1000.0,
            timeout: StdDuration::from_millis(800),
            max_forecast_age: Duration::hours(max_age_h),
            retry: fast_retry(retries),
        },
        clock,
    )
    .unwrap()
}

fn clock(s: &str) -> Arc<ManualClock> {
    Arc::new(ManualClock::new(at(s)))
}

const NYC_POINTS: &str = "/points/40.7790,-73.9690";
const NYC_GRID: &str = "/gridpoints/OKX/33,37";

/// Points for NYC (the recorded OKX 33,37 answer) and the recorded raw TAE gridpoint data
/// served at that cell.
async fn mount_nyc_grid(server: &MockServer) {
    Mock::given(method("GET"))
        .and(path(NYC_POINTS))
        .and(header("user-agent", UA))
        .and(header("accept", "application/geo+json"))
        .respond_with(ResponseTemplate::new(200).set_body_json(shared(
            "peers/aclarkson2013-kalshi-weather-bot-fixtures/nws_points_nyc.json",
        )))
        .expect(1)
        .mount(server)
        .await;
    Mock::given(method("GET"))
        .and(path(NYC_GRID))
        .and(header("user-agent", UA))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(shared("weather/nws_api/pynws_gridpoint_raw_TAE_58_65.json")),
        )
        .mount(server)
        .await;
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() < 1e-6
}

#[tokio::test]
async fn gridpoint_forecast_matches_hand_computed_values() {
    let server = MockServer::start().await;
    mount_nyc_grid(&server).await;
    let client = nws(&server, clock("2022-02-04T04:00:00Z"), 0, 6);
    let got = client
        .gridpoint_forecasts(
            &city("NYC"),
            &[day("2022-02-04"), day("2022-02-05"), day("2022-03-30")],
        )
        .await
        .unwrap();
    assert_eq!(
        got.len(),
        2,
        "no maxTemperature period for 2022-03-30: left out"
    );
    let d = &got[0];
    assert_eq!(d.source, "NWS");
    assert_eq!(d.date, day("2022-02-04"));
    assert_eq!(
        d.model_run_timestamp,
        at("2022-02-04T03:15:41Z"),
        "the grid's updateTime"
    );
    // maxTemperature 2022-02-04T12:00Z/PT13H = 22.2222 °C = 72.0 °F.
    assert!(close(d.forecast_high_f, 72.0), "{}", d.forecast_high_f);
    let v = &d.variables;
    // minTemperature 2022-02-04T00:00Z/PT14H = 17.7778 °C = 64.0 °F.
    assert!(close(v.temp_low_f.unwrap(), 64.0));
    // Time-weighted over 05:00Z-05:00Z: humidity 92.5 %, sky 84.0417 %, dew point 61.2917 °F.
    assert!(close(v.humidity_pct.unwrap(), 92.5));
    assert!((v.cloud_cover_pct.unwrap() - 84.041_666_7).abs() < 1e-6);
    assert!((v.dew_point_f.unwrap() - 61.291_666_7).abs() < 1e-6);
    // Highest wind 14.816 km/h = 9.2062 mph; gust 24.076 km/h = 14.9601 mph.
    assert!((v.wind_speed_mph.unwrap() - 9.206_235_6).abs() < 1e-6);
    assert!((v.wind_gust_mph.unwrap() - 14.960_132_8).abs() < 1e-6);
    assert_eq!(v.pressure_mb, None, "the recorded pressure layer is empty");
    assert_eq!(
        d.raw_data["maxTemperature"]["values"][0]["value"],
        json!(22.22222222222222)
    );
    // 2022-02-05: 12.7778 °C = 55.0 °F.
    assert!(close(got[1].forecast_high_f, 55.0));
    // The grid is cached: a second call does not resolve /points again (expect(1) above).
    client
        .gridpoint_forecasts(&city("NYC"), &[day("2022-02-04")])
        .await
        .unwrap();
}

#[tokio::test]
async fn twelve_hour_and_hourly_forecasts() {
    let server = MockServer::start().await;
    Mock::given(path(NYC_POINTS))
        .respond_with(ResponseTemplate::new(200).set_body_json(shared(
            "peers/aclarkson2013-kalshi-weather-bot-fixtures/nws_points_nyc.json",
        )))
        .mount(&server)
        .await;
    Mock::given(path(format!("{NYC_GRID}/forecast")))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(shared("weather/nws_api/pynws_gridpoints_forecast_us.json")),
        )
        .mount(&server)
        .await;
    // The recorded hourly response, extended to 30 hours from 2019-10-14 00:00 EDT with
    // temperature 60 + (hour index mod 24): the NYC climate day of the 14th (01:00 EDT to 01:00
    // EDT) holds indexes 1..=24, so its maximum is 83 (index 23).
    let mut hourly = shared("weather/nws_api/pynws_gridpoints_forecast_hourly_us.json");
    let template = hourly["properties"]["periods"][0].clone();
    let start = DateTime::parse_from_rfc3339("2019-10-14T00:00:00-04:00").unwrap();
    let periods: Vec<Value> = (0..30)
        .map(|i| {
            let mut p = template.clone();
            p["number"] = json!(i + 1);
            p["startTime"] = json!((start + Duration::hours(i)).to_rfc3339());
            p["endTime"] = json!((start + Duration::hours(i + 1)).to_rfc3339());
            p["temperature"] = json!(60 + (i % 24));
            p
        })
        .collect();
    hourly["properties"]["periods"] = json!(periods);
    Mock::given(path(format!("{NYC_GRID}/forecast/hourly")))
        .respond_with(ResponseTemplate::new(200).set_body_json(hourly))
        .mount(&server)
        .await;
    let client = nws(&server, clock("2019-10-14T12:00:00Z"), 0, 48);
    let got = client
        .period_forecasts(
            &city("NYC"),
            &[day("2019-10-13"), day("2019-10-14"), day("2019-10-15")],
        )
        .await
        .unwrap();
    let find = |src: &str, d: &str| got.iter().find(|w| w.source == src && w.date == day(d));
    // "This Afternoon", 2019-10-13, 41 °F (recorded).
    let f = find("NWS:forecast", "2019-10-13").unwrap();
    assert_eq!(f.forecast_high_f, 41.0);
    assert_eq!(f.model_run_timestamp, at("2019-10-13T18:16:20Z"));
    assert!(
        find("NWS:forecast", "2019-10-14").is_none(),
        "no daytime period recorded for the 14th"
    );
    assert_eq!(
        find("NWS:hourly", "2019-10-14").unwrap().forecast_high_f,
        83.0
    );
    assert!(
        find("NWS:hourly", "2019-10-15").is_none(),
        "a partly covered day is not reported"
    );
}

/// An observation feature with the given time, METAR and API temperature (°C).
fn observation(ts: &str, raw: &str, temp_c: Option<f64>) -> Value {
    let mut f = shared("weather/nws_api/pynws_stations_observations_latest.json");
    f["properties"]["timestamp"] = json!(ts);
    f["properties"]["rawMessage"] = json!(raw);
    f["properties"]["temperature"]["value"] = json!(temp_c);
    f
}

#[tokio::test]
async fn observations_give_the_running_maximum_of_the_climate_day() {
    let server = MockServer::start().await;
    let recorded = shared("weather/nws_api/pynws_stations_observations_latest.json");
    let metar = recorded["properties"]["rawMessage"]
        .as_str()
        .unwrap()
        .to_string();
    let older = shared("weather/nws_api/pynws_stations_observations.json");
    let older_metar = older["features"][0]["properties"]["rawMessage"]
        .as_str()
        .unwrap()
        .to_string();
    let features = json!([
        // The recorded KFLL report at its own time, 23:53Z: T-group 22.8 °C, 6-hour max 24.4 °C.
        recorded,
        // The same report at 08:53Z: its 6 hours began before the climate day (05:00Z), so only
        // its T-group counts.
        observation("2022-03-02T08:53:00+00:00", &metar, Some(22.8)),
        // Before the climate day (25.6 °C): ignored even though the server returned it.
        observation("2022-03-02T04:53:00+00:00", &older_metar, Some(25.6)),
        // No METAR: the API temperature is used.
        observation("2022-03-02T12:00:00+00:00", "", Some(10.0)),
    ]);
    Mock::given(method("GET"))
        .and(path("/stations/KMIA/observations"))
        .and(query_param("start", "2022-03-02T05:00:00+00:00"))
        .and(query_param("end", "2022-03-03T00:30:00+00:00"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"type": "FeatureCollection", "features": features})),
        )
        .mount(&server)
        .await;
    let client = nws(&server, clock("2022-03-03T00:30:00Z"), 0, 6);
    let m = client.observed_max(&city("MIA")).await.unwrap();
    assert_eq!(m.station, "KMIA");
    assert_eq!(m.climate_date, day("2022-03-02"));
    assert!(close(m.max_f, 75.92), "24.4 °C = 75.92 °F, got {}", m.max_f);
    assert_eq!(m.max_from, "six_hour_max");
    assert_eq!(m.max_at, at("2022-03-02T23:53:00Z"));
    assert_eq!(m.observations, 3);
    assert_eq!(m.latest_observation_at, at("2022-03-02T23:53:00Z"));
}

#[tokio::test]
async fn the_latest_observation_reads_the_t_group() {
    let server = MockServer::start().await;
    Mock::given(path("/stations/KMIA/observations/latest"))
        .and(header("accept", "application/geo+json"))
        .respond_with(ResponseTemplate::new(200).set_body_json(shared(
            "weather/nws_api/pynws_stations_observations_latest.json",
        )))
        .mount(&server)
        .await;
    let client = nws(&server, clock("2022-03-03T00:30:00Z"), 0, 6);
    let o = client.latest_observation(&city("MIA")).await.unwrap();
    assert_eq!(o.at, at("2022-03-02T23:53:00Z"));
    assert!(close(o.temperature_f.unwrap(), 73.04), "T02280183: 22.8 °C");
    assert!(o.raw_message.starts_with("KFLL 022353Z"));
}

#[tokio::test]
async fn a_500_then_success_is_retried() {
    let server = MockServer::start().await;
    mount_nyc_grid(&server).await;
    Mock::given(path(NYC_GRID))
        .respond_with(ResponseTemplate::new(500).set_body_json(json!({
            "correlationId": "1", "title": "Unexpected Problem", "type": "https://api.weather.gov/problems/UnexpectedProblem",
            "status": 500, "detail": "An unexpected problem has occurred."
        })))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    let client = nws(&server, clock("2022-02-04T04:00:00Z"), 2, 6);
    let got = client
        .gridpoint_forecasts(&city("NYC"), &[day("2022-02-04")])
        .await
        .unwrap();
    assert!(close(got[0].forecast_high_f, 72.0));
}

#[tokio::test]
async fn a_persistent_503_grid_expired_ends_in_a_typed_error() {
    let server = MockServer::start().await;
    mount_nyc_grid(&server).await;
    Mock::given(path(NYC_GRID))
        .respond_with(ResponseTemplate::new(503).set_body_json(json!({
            "title": "Forecast Grid Expired", "type": "https://api.weather.gov/problems/ForecastGridExpired",
            "status": 503, "detail": "The requested forecast grid was issued 2022-02-01T00:00:00+00:00 and has expired."
        })))
        .with_priority(1)
        .expect(3)
        .mount(&server)
        .await;
    let client = nws(&server, clock("2022-02-04T04:00:00Z"), 2, 6);
    let e = client
        .gridpoint_forecasts(&city("NYC"), &[day("2022-02-04")])
        .await
        .unwrap_err();
    assert!(
        matches!(&e, WeatherError::Http { status: 503, title, .. } if title == "Forecast Grid Expired"),
        "{e}"
    );
    let b: boz_common::BozError = e.into();
    assert_eq!(b.kind, ErrorKind::UpstreamError);
    assert!(b.message.contains("Forecast Grid Expired"));
}

#[tokio::test]
async fn the_cdn_html_403_says_check_the_user_agent_and_is_not_retried() {
    let server = MockServer::start().await;
    Mock::given(path(NYC_POINTS))
        .respond_with(
            ResponseTemplate::new(403)
                .insert_header("content-type", "text/html")
                .set_body_string("<HTML><HEAD><TITLE>Access Denied</TITLE></HEAD><BODY>Reference #18.1</BODY></HTML>"),
        )
        .expect(1)
        .mount(&server)
        .await;
    let client = nws(&server, clock("2022-02-04T04:00:00Z"), 3, 6);
    let e = client
        .gridpoint_forecasts(&city("NYC"), &[day("2022-02-04")])
        .await
        .unwrap_err();
    assert_eq!(e, WeatherError::Blocked { service: "NWS" });
    assert!(e.to_string().contains("check NWS_USER_AGENT"));
}

#[tokio::test]
async fn malformed_json_and_missing_fields_are_errors() {
    let server = MockServer::start().await;
    Mock::given(path(NYC_POINTS))
        .respond_with(
            ResponseTemplate::new(200).set_body_string("{\"properties\": {\"gridId\": \"OKX\""),
        )
        .mount(&server)
        .await;
    let client = nws(&server, clock("2022-02-04T04:00:00Z"), 0, 6);
    let e = client.resolve_grid(&city("NYC")).await.unwrap_err();
    assert!(
        matches!(&e, WeatherError::Malformed { reason, .. } if reason.contains("not JSON")),
        "{e}"
    );

    let server = MockServer::start().await;
    let mut points = shared("peers/aclarkson2013-kalshi-weather-bot-fixtures/nws_points_nyc.json");
    points["properties"]
        .as_object_mut()
        .unwrap()
        .remove("gridX");
    Mock::given(path(NYC_POINTS))
        .respond_with(ResponseTemplate::new(200).set_body_json(points))
        .mount(&server)
        .await;
    let client = nws(&server, clock("2022-02-04T04:00:00Z"), 0, 6);
    let e = client.resolve_grid(&city("NYC")).await.unwrap_err();
    assert!(e.to_string().contains("missing gridX"), "{e}");

    let server = MockServer::start().await;
    Mock::given(path(NYC_POINTS))
        .respond_with(ResponseTemplate::new(200).set_body_json(shared(
            "peers/aclarkson2013-kalshi-weather-bot-fixtures/nws_points_nyc.json",
        )))
        .mount(&server)
        .await;
    let mut grid = shared("weather/nws_api/pynws_gridpoint_raw_TAE_58_65.json");
    grid["properties"]
        .as_object_mut()
        .unwrap()
        .remove("updateTime");
    Mock::given(path(NYC_GRID))
        .respond_with(ResponseTemplate::new(200).set_body_json(grid.clone()))
        .mount(&server)
        .await;
    let client = nws(&server, clock("2022-02-04T04:00:00Z"), 0, 6);
    let e = client
        .gridpoint_forecasts(&city("NYC"), &[day("2022-02-04")])
        .await
        .unwrap_err();
    assert!(e.to_string().contains("missing updateTime"), "{e}");

    // A value that is not a number is refused with the layer and index named.
    let server = MockServer::start().await;
    Mock::given(path(NYC_POINTS))
        .respond_with(ResponseTemplate::new(200).set_body_json(shared(
            "peers/aclarkson2013-kalshi-weather-bot-fixtures/nws_points_nyc.json",
        )))
        .mount(&server)
        .await;
    let mut grid = shared("weather/nws_api/pynws_gridpoint_raw_TAE_58_65.json");
    grid["properties"]["maxTemperature"]["values"][1]["value"] = json!("hot");
    Mock::given(path(NYC_GRID))
        .respond_with(ResponseTemplate::new(200).set_body_json(grid))
        .mount(&server)
        .await;
    let client = nws(&server, clock("2022-02-04T04:00:00Z"), 0, 6);
    let e = client
        .gridpoint_forecasts(&city("NYC"), &[day("2022-02-04")])
        .await
        .unwrap_err();
    assert!(
        e.to_string()
            .contains("maxTemperature.values[1].value is not a number"),
        "{e}"
    );
}

#[tokio::test]
async fn a_stale_update_time_is_stale_data_not_a_forecast() {
    let server = MockServer::start().await;
    mount_nyc_grid(&server).await;
    // updateTime 2022-02-04T03:15:41Z is 32 hours old at noon on the 5th.
    let client = nws(&server, clock("2022-02-05T12:00:00Z"), 0, 6);
    let e = client
        .gridpoint_forecasts(&city("NYC"), &[day("2022-02-05")])
        .await
        .unwrap_err();
    assert!(
        matches!(
            e,
            WeatherError::Stale {
                age_minutes: 1964,
                max_age_minutes: 360,
                ..
            }
        ),
        "{e}"
    );
    let b: boz_common::BozError = e.into();
    assert_eq!(b.kind, ErrorKind::StaleDataError);
}

#[tokio::test]
async fn a_slow_server_times_out() {
    let server = MockServer::start().await;
    Mock::given(path(NYC_POINTS))
        .respond_with(
            ResponseTemplate::new(200)
                .set_delay(StdDuration::from_secs(3))
                .set_body_json(json!({})),
        )
        .expect(2)
        .mount(&server)
        .await;
    let client = nws(&server, clock("2022-02-04T04:00:00Z"), 1, 6);
    let e = client.resolve_grid(&city("NYC")).await.unwrap_err();
    assert!(matches!(e, WeatherError::Timeout { .. }), "{e}");
}

#[tokio::test]
async fn a_grid_404_resolves_the_grid_again() {
    let server = MockServer::start().await;
    let old = shared("peers/aclarkson2013-kalshi-weather-bot-fixtures/nws_points_nyc.json");
    let mut moved = old.clone();
    moved["properties"]["gridX"] = json!(34);
    moved["properties"]["gridY"] = json!(45);
    Mock::given(path(NYC_POINTS))
        .respond_with(ResponseTemplate::new(200).set_body_json(old))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(path(NYC_POINTS))
        .respond_with(ResponseTemplate::new(200).set_body_json(moved))
        .mount(&server)
        .await;
    Mock::given(path(NYC_GRID))
        .respond_with(
            ResponseTemplate::new(404)
                .set_body_json(json!({"title": "Marine Forecast Not Supported", "status": 404})),
        )
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(path("/gridpoints/OKX/34,45"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(shared("weather/nws_api/pynws_gridpoint_raw_TAE_58_65.json")),
        )
        .expect(2)
        .mount(&server)
        .await;
    let client = nws(&server, clock("2022-02-04T04:00:00Z"), 0, 6);
    let got = client
        .gridpoint_forecasts(&city("NYC"), &[day("2022-02-04")])
        .await
        .unwrap();
    assert!(close(got[0].forecast_high_f, 72.0));
    // The new cell is cached.
    client
        .gridpoint_forecasts(&city("NYC"), &[day("2022-02-04")])
        .await
        .unwrap();
}

// ---------------------------------------------------------------- Open-Meteo

fn open_meteo(
    server: &MockServer,
    clock: Arc<dyn Clock>,
    models: &[&str],
    ensembles: &[&str],
    key: Option<&str>,
) -> OpenMeteoClient {
    OpenMeteoClient::new(
        OpenMeteoConfig {
            base_url: server.uri(),
            ensemble_url: server.uri(),
            previous_runs_url: server.uri(),
            api_key: key.map(str::to_string),
            models: models.iter().map(|m| m.to_string()).collect(),
            ensemble_models: ensembles.iter().map(|m| m.to_string()).collect(),
            timeout: StdDuration::from_secs(5),
            retry: fast_retry(1),
            availability_lag: Duration::hours(6),
        },
        UA,
        clock,
    )
    .unwrap()
}

/// Hourly times in GMT from `start` for `n` hours, as Open-Meteo prints them.
fn hours(start: &str, n: i64) -> Vec<String> {
    let s = at(start);
    (0..n)
        .map(|i| {
            (s + Duration::hours(i))
                .format("%Y-%m-%dT%H:%M")
                .to_string()
        })
        .collect()
}

#[tokio::test]
async fn deterministic_models_over_the_climate_day() {
    let server = MockServer::start().await;
    // 96 hours from 2026-02-16T00:00Z. GFS: 40 + (i mod 24); ECMWF: 30 + ((i + 5) mod 24),
    // missing after index 60 (as a model whose range ends).
    let n = 96;
    let gfs: Vec<f64> = (0..n).map(|i| 40.0 + (i % 24) as f64).collect();
    let ecmwf: Vec<Value> = (0..n)
        .map(|i| {
            if i > 60 {
                Value::Null
            } else {
                json!(30.0 + ((i + 5) % 24) as f64)
            }
        })
        .collect();
    let body = json!({
        "latitude": 40.78, "longitude": -73.97, "utc_offset_seconds": 0, "timezone": "GMT",
        "hourly_units": {"time": "iso8601", "temperature_2m_ncep_gfs_seamless": "°F"},
        "hourly": {
            "time": hours("2026-02-16T00:00:00Z", n),
            "temperature_2m_ncep_gfs_seamless": gfs,
            "relative_humidity_2m_ncep_gfs_seamless": vec![55.0; n as usize],
            "wind_speed_10m_ncep_gfs_seamless": (0..n).map(|i| (i % 10) as f64).collect::<Vec<_>>(),
            "temperature_2m_ecmwf_ifs025": ecmwf,
        }
    });
    Mock::given(method("GET"))
        .and(path("/v1/forecast"))
        .and(query_param("models", "ncep_gfs_seamless,ecmwf_ifs025"))
        .and(query_param("temperature_unit", "fahrenheit"))
        .and(query_param("timezone", "GMT"))
        .and(query_param("latitude", "40.7790"))
        .and(query_param("apikey", "om-secret-key"))
        .respond_with(ResponseTemplate::new(200).set_body_json(body))
        .mount(&server)
        .await;
    let c = clock("2026-02-17T10:42:00Z");
    let client = open_meteo(
        &server,
        c,
        &["ncep_gfs_seamless", "ecmwf_ifs025"],
        &[],
        Some("om-secret-key"),
    );
    let got = client
        .forecasts(
            &city("NYC"),
            &[
                day("2026-02-16"),
                day("2026-02-17"),
                day("2026-02-18"),
                day("2026-02-19"),
            ],
        )
        .await
        .unwrap();
    let find = |src: &str, d: &str| got.iter().find(|w| w.source == src && w.date == day(d));
    // 2026-02-17 (05:00Z to 05:00Z): indexes 29..=52.
    let g = find("Open-Meteo:GFS", "2026-02-17").unwrap();
    assert_eq!(g.forecast_high_f, 63.0);
    assert_eq!(g.variables.temp_low_f, Some(40.0));
    assert_eq!(g.variables.humidity_pct, Some(55.0));
    assert_eq!(g.variables.wind_speed_mph, Some(9.0));
    assert_eq!(g.variables.cloud_cover_pct, None);
    assert_eq!(
        g.model_run_timestamp,
        at("2026-02-17T10:00:00Z"),
        "fetch hour"
    );
    assert_eq!(
        find("Open-Meteo:ECMWF", "2026-02-17")
            .unwrap()
            .forecast_high_f,
        53.0
    );
    assert_eq!(
        find("Open-Meteo:GFS", "2026-02-16")
            .unwrap()
            .forecast_high_f,
        63.0
    );
    assert!(
        find("Open-Meteo:ECMWF", "2026-02-18").is_none(),
        "ECMWF ends inside the 18th"
    );
    assert!(find("Open-Meteo:GFS", "2026-02-18").is_some());
    assert!(
        find("Open-Meteo:GFS", "2026-02-19").is_none(),
        "not covered to 05:00Z on the 20th"
    );
}

#[tokio::test]
async fn refused_model_names_are_retried_with_the_other_spelling() {
    let server = MockServer::start().await;
    Mock::given(path("/v1/forecast"))
        .and(query_param("models", "ncep_gfs_seamless"))
        .respond_with(ResponseTemplate::new(400).set_body_json(json!({
            "error": true, "reason": "Cannot initialize MultiDomains from invalid String value ncep_gfs_seamless"
        })))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(path("/v1/forecast"))
        .and(query_param("models", "gfs_seamless"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "utc_offset_seconds": 0,
            "hourly": {"time": hours("2026-02-17T00:00:00Z", 48), "temperature_2m": (0..48).map(|i| 20.0 + i as f64 / 2.0).collect::<Vec<_>>()}
        })))
        .expect(1)
        .mount(&server)
        .await;
    let client = open_meteo(
        &server,
        clock("2026-02-17T10:00:00Z"),
        &["ncep_gfs_seamless"],
        &[],
        None,
    );
    let got = client
        .forecasts(&city("NYC"), &[day("2026-02-17")])
        .await
        .unwrap();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].source, "Open-Meteo:GFS");
    // Indexes 5..=28: the highest is 20 + 28/2 = 34.
    assert_eq!(got[0].forecast_high_f, 34.0);
}

#[tokio::test]
async fn ensemble_members_give_mean_and_spread() {
    let server = MockServer::start().await;
    let n = 48;
    let member = |peak: f64| {
        (0..n)
            .map(|i| if i == 20 { peak } else { 30.0 })
            .collect::<Vec<f64>>()
    };
    Mock::given(path("/v1/ensemble"))
        .and(query_param("models", "ncep_gefs025"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "utc_offset_seconds": 0,
            "hourly": {
                "time": hours("2026-02-17T00:00:00Z", n),
                "temperature_2m": member(52.0),
                "temperature_2m_member01": member(50.0),
                "temperature_2m_member02": member(54.0),
                "temperature_2m_member03": member(52.0),
                "relative_humidity_2m": vec![50.0; n as usize],
            }
        })))
        .mount(&server)
        .await;
    let client = open_meteo(
        &server,
        clock("2026-02-17T10:00:00Z"),
        &[],
        &["ncep_gefs025"],
        None,
    );
    let got = client
        .ensembles(&city("NYC"), &[day("2026-02-17")])
        .await
        .unwrap();
    assert_eq!(got.len(), 1);
    let e = &got[0];
    assert_eq!(e.source, "Open-Meteo:ENS-GFS");
    assert_eq!(e.forecast_high_f, 52.0);
    assert_eq!(e.raw_data["members"], 4);
    let spread = e.raw_data["spread_f"].as_f64().unwrap();
    assert!((spread - (8.0f64 / 3.0).sqrt()).abs() < 1e-9, "{spread}");
    assert_eq!(e.raw_data["min_f"], 50.0);
    assert_eq!(e.raw_data["max_f"], 54.0);
}

#[tokio::test]
async fn previous_runs_as_of_an_issue_time_never_look_ahead() {
    let server = MockServer::start().await;
    let n = 72;
    // previous_dayN is 50 + N everywhere (older runs forecast warmer here).
    let mut hourly = serde_json::Map::new();
    hourly.insert("time".into(), json!(hours("2026-02-16T00:00:00Z", n)));
    for k in 1..=7 {
        hourly.insert(
            format!("temperature_2m_previous_day{k}"),
            json!(vec![50.0 + k as f64; n as usize]),
        );
    }
    Mock::given(path("/v1/forecast"))
        .and(query_param("start_date", "2026-02-16"))
        .and(query_param("end_date", "2026-02-18"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"utc_offset_seconds": 0, "hourly": hourly})),
        )
        .mount(&server)
        .await;
    let client = open_meteo(&server, clock("2026-03-01T00:00:00Z"), &[], &[], None);
    let as_of = at("2026-02-16T12:00:00Z");
    let w = client
        .previous_run_as_of(&city("NYC"), day("2026-02-17"), "ncep_gfs_seamless", as_of)
        .await
        .unwrap()
        .unwrap();
    // With a 6-hour availability lag, only the hours up to 06:00Z on the 17th can use the
    // 1-day-old run (51); the rest need the 2-day-old run (52).
    assert_eq!(w.forecast_high_f, 52.0);
    assert!(
        w.model_run_timestamp + Duration::hours(6) <= as_of,
        "{}",
        w.model_run_timestamp
    );
    assert_eq!(w.model_run_timestamp, at("2026-02-16T06:00:00Z"));
    // Too long before: more than 7 days ahead is not available.
    let none = client
        .previous_run_as_of(
            &city("NYC"),
            day("2026-02-17"),
            "ncep_gfs_seamless",
            at("2026-02-08T00:00:00Z"),
        )
        .await
        .unwrap();
    assert!(none.is_none());
}

#[tokio::test]
async fn an_api_key_never_appears_in_errors() {
    let server = MockServer::start().await;
    Mock::given(path("/v1/forecast"))
        .respond_with(
            ResponseTemplate::new(429)
                .set_body_json(json!({"error": true, "reason": "Too many requests"})),
        )
        .mount(&server)
        .await;
    let client = open_meteo(
        &server,
        clock("2026-02-17T10:00:00Z"),
        &["ncep_gfs_seamless"],
        &[],
        Some("om-secret-key"),
    );
    let e = client
        .forecasts(&city("NYC"), &[day("2026-02-17")])
        .await
        .unwrap_err();
    assert!(matches!(e, WeatherError::Http { status: 429, .. }));
    assert!(!e.to_string().contains("om-secret-key"), "{e}");
}

/// The climate day on daylight-saving change days: always 24 hours of local standard time.
#[tokio::test]
async fn climate_day_windows_on_dst_change_days() {
    // Values are the hour index from the first time, so a day's high is its last hour and its
    // low its first: the window's edges show exactly.
    for (code, first, date, low, high) in [
        // New York, spring forward 2024-03-10: 05:00Z to 05:00Z (the clock day would end at 04:00Z).
        ("NYC", "2024-03-09T00:00:00Z", "2024-03-10", 29.0, 52.0),
        // New York, fall back 2024-11-03: 05:00Z to 05:00Z (the clock day would start at 04:00Z).
        ("NYC", "2024-11-02T00:00:00Z", "2024-11-03", 29.0, 52.0),
        // Chicago, spring forward 2024-03-10: 06:00Z to 06:00Z.
        ("CHI", "2024-03-09T00:00:00Z", "2024-03-10", 30.0, 53.0),
        // Chicago, fall back 2024-11-03: 06:00Z to 06:00Z (the clock day would start at 05:00Z).
        ("CHI", "2024-11-02T00:00:00Z", "2024-11-03", 30.0, 53.0),
    ] {
        let server = MockServer::start().await;
        Mock::given(path("/v1/forecast"))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({
                "utc_offset_seconds": 0,
                "hourly": {"time": hours(first, 96), "temperature_2m": (0..96).map(f64::from).collect::<Vec<_>>()}
            })))
            .mount(&server)
            .await;
        let client = open_meteo(
            &server,
            clock("2024-03-01T00:00:00Z"),
            &["ncep_gfs_seamless"],
            &[],
            None,
        );
        let got = client.forecasts(&city(code), &[day(date)]).await.unwrap();
        assert_eq!(got[0].forecast_high_f, high, "{code} {date}");
        assert_eq!(got[0].variables.temp_low_f, Some(low), "{code} {date}");
        assert_eq!(
            got[0].raw_data["temperature_2m"].as_array().unwrap().len(),
            24
        );
    }
}

// ---------------------------------------------------------------- the service

#[tokio::test]
async fn one_failing_source_does_not_block_the_others() {
    let nws_server = MockServer::start().await;
    Mock::given(path(NYC_POINTS))
        .respond_with(
            ResponseTemplate::new(500).set_body_json(json!({"title": "Unexpected Problem"})),
        )
        .mount(&nws_server)
        .await;
    let om_server = MockServer::start().await;
    Mock::given(path("/v1/forecast"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "utc_offset_seconds": 0,
            "hourly": {"time": hours("2026-02-17T00:00:00Z", 48), "temperature_2m": vec![41.0; 48]}
        })))
        .mount(&om_server)
        .await;
    Mock::given(path("/v1/ensemble"))
        .respond_with(ResponseTemplate::new(200).set_body_string("not json"))
        .mount(&om_server)
        .await;
    let c = clock("2026-02-17T10:00:00Z");
    let nws = Arc::new(nws(&nws_server, c.clone(), 1, 6));
    let om = Arc::new(open_meteo(
        &om_server,
        c.clone(),
        &["ncep_gfs_seamless"],
        &["ncep_gefs025"],
        None,
    ));
    let sources: Vec<Arc<dyn ForecastSource>> = vec![
        Arc::new(NwsGridSource(nws)),
        Arc::new(OpenMeteoModels(om.clone())),
        Arc::new(OpenMeteoEnsembles(om)),
    ];
    let service = WeatherService::new(sources, 2, c.clone());
    let report = service.fetch(&[city("NYC")], &[day("2026-02-17")]).await;
    assert_eq!(report.data.len(), 1);
    assert_eq!(report.data[0].source, "Open-Meteo:GFS");
    assert_eq!(report.errors.len(), 2);
    let health = service.health();
    let h = |s: &str| health.iter().find(|h| h.source == s).unwrap().clone();
    assert_eq!(
        h("Open-Meteo").last_success,
        Some(at("2026-02-17T10:00:00Z"))
    );
    assert_eq!(h("Open-Meteo").newest_run, Some(at("2026-02-17T10:00:00Z")));
    assert!(h("NWS").last_success.is_none());
    assert!(h("NWS").last_error.as_deref().unwrap().contains("HTTP 500"));
    assert!(
        h("Open-Meteo:ENS")
            .last_error
            .as_deref()
            .unwrap()
            .contains("not JSON")
    );
}

#[tokio::test]
async fn climate_reports_list_then_read_each_product() {
    let server = MockServer::start().await;
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/data/weather/cli_samples/pyiem_CLINYC.txt"
    ))
    .unwrap();
    Mock::given(path("/products/types/CLI/locations/NYC"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"@graph": [
            {"id": "p-2", "issuanceTime": "2013-01-03T06:16:00+00:00"},
            {"id": "p-1", "issuanceTime": "2013-01-02T21:30:00+00:00"}
        ]})))
        .mount(&server)
        .await;
    Mock::given(path("/products/p-2"))
        .respond_with(ResponseTemplate::new(200).set_body_json(
            json!({"id": "p-2", "issuanceTime": "2013-01-03T06:16:00+00:00", "productText": text}),
        ))
        .mount(&server)
        .await;
    Mock::given(path("/products/p-1"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"id": "p-1"})))
        .mount(&server)
        .await;
    let client = nws(&server, clock("2013-01-03T12:00:00Z"), 0, 6);
    let one = client.climate_reports(&city("NYC"), 1).await.unwrap();
    assert_eq!(one.len(), 1);
    assert_eq!(
        (one[0].id.as_str(), one[0].issued_at),
        ("p-2", at("2013-01-03T06:16:00Z"))
    );
    assert!(
        one[0]
            .text
            .contains("CENTRAL PARK NY CLIMATE SUMMARY FOR JANUARY 2 2013")
    );
    // a product without its text is an error naming the path, not an empty report
    let e = client
        .climate_reports(&city("NYC"), 2)
        .await
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("/products/p-1") && e.contains("no productText"),
        "{e}"
    );
}
