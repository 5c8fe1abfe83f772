//! The logging hot path: redacting and formatting one record, and a whole event through the
//! subscriber (console line + queue to `log_entries`). Results in BENCHMARKS.md.

#![allow(clippy::unwrap_used, clippy::expect_used)] // benchmarks may panic

use std::hint::black_box;
use std::sync::{Arc, Mutex};

use boz_common::config::{LogFormat, LogLevel};
use boz_common::ports::LogRecord;
use boz_telemetry::{Redactor, TelemetryConfig, build, format_line};
use criterion::{Criterion, criterion_group, criterion_main};
use serde_json::json;

fn benches(c: &mut Criterion) {
    let redactor = Redactor::new(["AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=".to_string()]);
    let clean = "Fetched NWS forecast for KNYC gridpoint OKX/33,37 in 412 ms";
    let dirty = format!(
        concat!(
            "loaded key -----BEGIN RSA ",
            "PRIVATE KEY-----\n{}\n-----END RSA ",
            "PRIVATE KEY----- for user-1"
        ),
        "MIIEowIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo".repeat(20)
    );
    c.bench_function("redact_str/clean message", |b| {
        b.iter(|| redactor.redact_str(black_box(clean)).len())
    });
    c.bench_function("redact_str/message with a PEM key", |b| {
        b.iter(|| redactor.redact_str(black_box(&dirty)).len())
    });
    let data = json!({"city": "NYC", "high_f": 55, "source": "Open-Meteo:GFS", "api_key_id": "k-1", "age_s": 42});
    c.bench_function("redact_value/5 fields", |b| {
        b.iter(|| redactor.redact_value(black_box(data.clone())))
    });
    let record = LogRecord {
        timestamp: chrono::Utc::now(),
        level: "INFO".into(),
        module: "WEATHER".into(),
        message: "Fetched NWS forecast".into(),
        data: json!({"city": "NYC", "high_f": 55}),
    };
    c.bench_function("format_line/seed format", |b| {
        b.iter(|| format_line(black_box(&record)).len())
    });

    let sink: Arc<Mutex<Vec<u8>>> = Arc::new(Mutex::new(Vec::with_capacity(1 << 20)));
    let config = TelemetryConfig {
        level: LogLevel::Info,
        format: LogFormat::Text,
        secrets: vec![],
    };
    let (subscriber, telemetry) = build(&config, sink.clone()).unwrap();
    tracing::subscriber::with_default(subscriber, || {
        c.bench_function("event/info with 2 fields through the subscriber", |b| {
            b.iter(|| {
                tracing::info!(target: "boz_weather::nws", city = "NYC", high_f = 55, "Fetched NWS forecast");
                let mut s = sink.lock().unwrap();
                if s.len() > (1 << 20) {
                    s.clear();
                }
            })
        });
    });
    drop(telemetry);
}

criterion_group!(logging, benches);
criterion_main!(logging);
