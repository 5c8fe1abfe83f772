#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may panic

//! The readers on the real recorded files (counts from `../shared/data/history/SOURCES.md`)
//! and on malformed copies.

use std::path::{Path, PathBuf};

use boz_history::events::read_events;
use boz_history::logs::{read_daily_features, read_forecast_log};
use boz_history::parquet_files::{read_candles, read_ghcn_daily, read_markets, read_trades};
use chrono_tz::Tz;

const HISTORY: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/data/history");

fn file(rel: &str) -> PathBuf {
    Path::new(HISTORY).join(rel)
}

fn ny() -> Tz {
    "America/New_York".parse().unwrap()
}

#[test]
fn forecast_logs_and_daily_features() {
    let (f, a) = read_forecast_log(
        &file("hwaheed13-nws-forecast-logger/nws_forecast_log.csv"),
        ny(),
    )
    .unwrap();
    assert_eq!((f.len(), a.len()), (1360, 410));
    assert_eq!(f[0].logged_at.to_rfc3339(), "2025-07-04T17:22:21+00:00");
    assert_eq!(f[0].high_f, 89.0);
    let (f, a) = read_forecast_log(
        &file("hwaheed13-nws-forecast-logger/accuweather_log.csv"),
        ny(),
    )
    .unwrap();
    assert_eq!((f.len(), a.len()), (2254, 0));
    assert_eq!(f[0].logged_at.to_rfc3339(), "2025-09-12T18:59:22+00:00");
    let days = read_daily_features(&file(
        "hwaheed13-nws-forecast-logger/multiyear_atmospheric.csv",
    ))
    .unwrap();
    assert_eq!(days.len(), 1694);
    assert_eq!(
        days.iter()
            .filter(|d| d.hrrr_previous_day1_f.is_some())
            .count(),
        946
    );
}

#[test]
fn parquet_files() {
    let g = read_ghcn_daily(&file("sameeres-kalshi-weather-bot/weather_daily.parquet")).unwrap();
    assert_eq!(g.len(), 8093);
    assert_eq!(g.iter().filter(|d| d.station == "KNYC").count(), 4048);
    let t = read_trades(&file(
        "cpratim-Kalshi-Weather-Trading/kxhighny_trades.parquet",
    ))
    .unwrap();
    assert_eq!(t.len(), 409_520);
    assert_eq!(t[0].ticker, "HIGHNY-23DEC25-B43.5");
    let c = read_candles(&file("sameeres-kalshi-weather-bot/kalshi_candles.parquet")).unwrap();
    assert_eq!(c.len(), 41_493);
    assert_eq!(c[0].ts.to_rfc3339(), "2025-11-30T16:00:00+00:00");
    assert_eq!(
        (c[0].yes_ask_cents, c[0].yes_bid_cents),
        (Some(13.0), Some(6.0))
    );
    let c = read_candles(&file(
        "sameeres-kalshi-weather-bot/kalshi_history_chunks__KXHIGHNY_concat.parquet",
    ))
    .unwrap();
    assert_eq!(c.len(), 32_279);
    assert_eq!(c.iter().filter(|c| c.close_cents.is_none()).count(), 84);
    let m = read_markets(&file("sameeres-kalshi-weather-bot/kalshi_markets.parquet")).unwrap();
    assert_eq!(m.len(), 1092);
    assert_eq!(m[0].strike_type.as_deref(), Some("between"));
}

#[test]
fn event_files() {
    let e = read_events(&file(
        "cpratim-Kalshi-Weather-Trading/kxhighny_events.jsonl.gz",
    ))
    .unwrap();
    assert_eq!(e.len(), 266);
    assert_eq!(e.iter().map(|e| e.markets.len()).sum::<usize>(), 1596);
}

fn write(dir: &Path, name: &str, body: &[u8]) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, body).unwrap();
    p
}

#[test]
fn malformed_rows_are_named() {
    let dir = tempfile::tempdir().unwrap();
    let head = "timestamp,target_date,forecast_or_actual,forecast_time,predicted_high,forecast_detail,cli_date,actual_high,high_time,bias_corrected_prediction,source\n";
    let cases = [
        (
            "2025-07-04 13:22:21,2025-07-05,forecast,,MM,,,,,,\n",
            "row 1, column predicted_high: \"MM\" is not a number",
        ),
        (
            "2025-07-04 13:22:21,2025-07-05,forecast,,,,,,,,\n",
            "row 1, column predicted_high: empty",
        ),
        (
            "2025-07-04 13:22:21,2025-07-05,forecast,,912,,,,,,\n",
            "row 1, column predicted_high: 912 is not a plausible temperature",
        ),
        (
            "soon,2025-07-05,forecast,,70,,,,,,\n",
            "row 1, column timestamp",
        ),
        (
            "2025-07-04 13:22:21,07/05/2025,forecast,,70,,,,,,\n",
            "row 1, column target_date",
        ),
        (
            "2025-07-04 13:22:21,2025-07-05,guess,,70,,,,,,\n",
            "row 1, column forecast_or_actual",
        ),
        (
            "2025-07-04 13:22:21,2025-07-05,actual,,,,,88 (E),,,\n",
            "row 1, column actual_high",
        ),
        (
            "2025-07-04 13:22:21,2025-07-05,forecast\n",
            "row 1, column *",
        ),
    ];
    for (row, want) in cases {
        let p = write(dir.path(), "log.csv", format!("{head}{row}").as_bytes());
        let e = read_forecast_log(&p, ny()).unwrap_err().to_string();
        assert!(e.contains("log.csv") && e.contains(want), "{e} / {want}");
    }
    let p = write(
        dir.path(),
        "days.csv",
        b"target_date,actual_high\n2024-01-01,40\n",
    );
    let e = read_daily_features(&p).unwrap_err().to_string();
    assert!(
        e.contains("row 1, column mm_hrrr_max_d1: no such column"),
        "{e}"
    );
    let p = write(dir.path(), "bad.parquet", b"PAR1 this is not parquet PAR1");
    let e = read_trades(&p).unwrap_err().to_string();
    assert!(
        e.starts_with(&format!("cannot read {}", p.display())),
        "{e}"
    );
    let e = read_trades(&dir.path().join("absent.parquet"))
        .unwrap_err()
        .to_string();
    assert!(e.contains("absent.parquet"), "{e}");
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    std::io::Write::write_all(
        &mut gz,
        b"{\"event\": {\"event_ticker\": \"X\"}, \"markets\": []}\n{oops\n",
    )
    .unwrap();
    let p = write(dir.path(), "events.jsonl.gz", &gz.finish().unwrap());
    let e = read_events(&p).unwrap_err().to_string();
    assert!(e.contains("row 2") && e.contains("not JSON"), "{e}");
}
