//! Parsing the full raw NWS gridpoint response (the recorded 130 kB TAE grid, all 60+ layers)
//! and building the climate-day forecasts from it. Results in BENCHMARKS.md.

#![allow(clippy::unwrap_used, clippy::expect_used)] // benchmarks may panic

use std::hint::black_box;

use boz_common::city::CityCode;
use boz_weather::nws::gridpoint_days;
use chrono::{NaiveDate, Utc};
use criterion::{Criterion, criterion_group, criterion_main};

fn benches(c: &mut Criterion) {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/data/weather/nws_api/pynws_gridpoint_raw_TAE_58_65.json"
    );
    let text = std::fs::read_to_string(path).unwrap();
    let city = CityCode::parse("NYC").unwrap().city().unwrap();
    let dates: Vec<NaiveDate> = (4..=6)
        .map(|d| NaiveDate::from_ymd_opt(2022, 2, d).unwrap())
        .collect();
    let now = Utc::now();
    c.bench_function("gridpoint/parse JSON (130 kB)", |b| {
        b.iter(|| serde_json::from_str::<serde_json::Value>(black_box(&text)).unwrap())
    });
    let value: serde_json::Value = serde_json::from_str(&text).unwrap();
    c.bench_function("gridpoint/3 climate days from the parsed grid", |b| {
        b.iter(|| {
            gridpoint_days(black_box(&value), &city, &dates, now)
                .unwrap()
                .len()
        })
    });
    c.bench_function("gridpoint/parse JSON + 3 climate days", |b| {
        b.iter(|| {
            let v: serde_json::Value = serde_json::from_str(black_box(&text)).unwrap();
            gridpoint_days(&v, &city, &dates, now).unwrap().len()
        })
    });
}

criterion_group!(gridpoint, benches);
criterion_main!(gridpoint);
