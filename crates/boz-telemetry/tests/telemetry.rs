//! Logging end to end: the seed's line format, JSON lines, redaction in every sink (console,
//! `log_entries`, panics, error chains), and a database that fails or hangs.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may panic

use std::io::Write;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use boz_common::config::{LogFormat, LogLevel};
use boz_common::error::BozError;
use boz_common::ports::{LogRecord, LogSink};
use boz_telemetry::{LineWriter, TelemetryConfig, build, format_line};
use chrono::TimeZone;
use serde_json::json;

const PEM: &str = "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo4lgOEePzNm0tRgeLezV6ffAt0gun\n-----END RSA PRIVATE KEY-----";
const MASTER_KEY: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";

#[derive(Clone, Default)]
struct Buffer(Arc<Mutex<Vec<u8>>>);

impl Write for Buffer {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Buffer {
    fn text(&self) -> String {
        String::from_utf8(self.0.lock().unwrap().clone()).unwrap()
    }
}

fn config(format: LogFormat) -> TelemetryConfig {
    TelemetryConfig {
        level: LogLevel::Debug,
        format,
        secrets: vec![MASTER_KEY.to_string()],
    }
}

fn writer(buf: &Buffer) -> LineWriter {
    Arc::new(Mutex::new(buf.clone()))
}

#[derive(Default)]
struct MemorySink {
    batches: Mutex<Vec<Vec<LogRecord>>>,
}

#[async_trait]
impl LogSink for MemorySink {
    async fn insert_log_entries(&self, batch: &[LogRecord]) -> Result<(), BozError> {
        self.batches.lock().unwrap().push(batch.to_vec());
        Ok(())
    }
}

impl MemorySink {
    fn records(&self) -> Vec<LogRecord> {
        self.batches
            .lock()
            .unwrap()
            .iter()
            .flatten()
            .cloned()
            .collect()
    }
}

#[test]
fn the_seed_line_format_exactly() {
    let record = LogRecord {
        timestamp: chrono::Utc.with_ymd_and_hms(2026, 2, 17, 10, 0, 1).unwrap(),
        level: "INFO".into(),
        module: "WEATHER".into(),
        message: "Fetched NWS forecast".into(),
        data: json!({"city": "NYC", "high_f": 55}),
    };
    assert_eq!(
        format_line(&record),
        r#"[2026-02-17 10:00:01] INFO     WEATHER      Fetched NWS forecast  {"city":"NYC","high_f":55}"#
    );
    let warn = LogRecord {
        level: "WARN".into(),
        module: "RISK".into(),
        message: "Approaching daily loss limit".into(),
        data: json!({}),
        ..record
    };
    assert_eq!(
        format_line(&warn),
        "[2026-02-17 10:00:01] WARN     RISK         Approaching daily loss limit  {}"
    );
}

#[test]
fn events_become_seed_lines_with_tags_from_targets() {
    let buf = Buffer::default();
    let (sub, _t) = build(&config(LogFormat::Text), writer(&buf)).unwrap();
    tracing::subscriber::with_default(sub, || {
        tracing::info!(target: "boz_weather::nws", city = "NYC", high_f = 55, "Fetched NWS forecast");
        tracing::warn!(target: "RISK", current_loss = 8.5, "Approaching daily loss limit");
        tracing::error!(tag = "ORDER", order_id = "abc123", "Kalshi order rejected");
        tracing::trace!("not shown at DEBUG");
    });
    let lines: Vec<String> = buf.text().lines().map(str::to_string).collect();
    assert_eq!(lines.len(), 3, "{lines:?}");
    let re = regex::Regex::new(r"^\[\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\] ").unwrap();
    assert!(lines.iter().all(|l| re.is_match(l)), "{lines:?}");
    assert!(
        lines[0].ends_with(
            r#"] INFO     WEATHER      Fetched NWS forecast  {"city":"NYC","high_f":55}"#
        ),
        "{}",
        lines[0]
    );
    assert!(
        lines[1].ends_with(
            r#"] WARN     RISK         Approaching daily loss limit  {"current_loss":8.5}"#
        ),
        "{}",
        lines[1]
    );
    assert!(
        lines[2]
            .ends_with(r#"] ERROR    ORDER        Kalshi order rejected  {"order_id":"abc123"}"#),
        "{}",
        lines[2]
    );
}

#[test]
fn json_lines_mode() {
    let buf = Buffer::default();
    let (sub, _t) = build(&config(LogFormat::Json), writer(&buf)).unwrap();
    tracing::subscriber::with_default(sub, || {
        tracing::info!(target: "boz_settle", city = "CHI", "Settled");
    });
    let v: serde_json::Value = serde_json::from_str(buf.text().trim()).unwrap();
    assert_eq!(v["level"], "INFO");
    assert_eq!(v["module"], "SETTLE");
    assert_eq!(v["message"], "Settled");
    assert_eq!(v["data"], json!({"city": "CHI"}));
    assert!(v["timestamp"].as_str().unwrap().ends_with('Z'));
}

#[derive(Debug, thiserror::Error)]
#[error("could not load key")]
struct Outer(#[source] Inner);

#[derive(Debug, thiserror::Error)]
#[error("bad key material: {0}")]
struct Inner(String);

#[tokio::test]
async fn no_secret_reaches_the_console_or_the_database() {
    let buf = Buffer::default();
    let (sub, telemetry) = build(&config(LogFormat::Text), writer(&buf)).unwrap();
    let sink = Arc::new(MemorySink::default());
    telemetry.attach_sink(sink.clone());
    let err = Outer(Inner(PEM.to_string()));
    let chain =
        anyhow::Error::new(Outer(Inner(format!("key {MASTER_KEY}")))).context("rotating keys");
    tracing::subscriber::with_default(sub, || {
        tracing::info!(private_key = PEM, api_key_id = "key-123", "user onboarded");
        tracing::warn!("raw message carries {PEM}");
        tracing::error!(error = &err as &(dyn std::error::Error + 'static), "failed");
        tracing::error!(error = ?chain, "chain");
        tracing::error!("display chain: {chain:#}");
        tracing::info!(
            auth = "Bearer eyJhbGciOi.payload.sig",
            url = "postgres://boz:hunter2@db/x",
            "request"
        );
        tracing::info!(note = MASTER_KEY, "literal key in a field");
    });
    telemetry.flush().await;
    let console = buf.text();
    let stored = serde_json::to_string(&sink.records()).unwrap();
    assert_eq!(sink.records().len(), 7);
    for out in [&console, &stored] {
        for secret in [
            "MIIEowIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo4lgOEePzNm0tRgeLezV6ffAt0gun",
            MASTER_KEY,
            "key-123",
            "eyJhbGciOi",
            "hunter2",
        ] {
            assert!(!out.contains(secret), "{secret} leaked into:\n{out}");
        }
    }
    assert!(
        console.contains("could not load key: bad key material: [REDACTED PEM]"),
        "{console}"
    );
    assert!(console.contains("[REDACTED]"));
}

#[test]
fn panics_are_logged_redacted() {
    let buf = Buffer::default();
    let (sub, _t) = build(&config(LogFormat::Text), writer(&buf)).unwrap();
    let _guard = tracing::subscriber::set_default(sub);
    boz_telemetry::install_panic_hook(boz_telemetry::Redactor::new([MASTER_KEY.to_string()]));
    let r = std::panic::catch_unwind(|| panic!("boom with {PEM} and {MASTER_KEY}"));
    let _ = std::panic::take_hook();
    assert!(r.is_err());
    let out = buf.text();
    assert!(
        out.contains("ERROR    SYSTEM       panic: boom with [REDACTED PEM] and [REDACTED]"),
        "{out}"
    );
    assert!(!out.contains("MIIEow") && !out.contains(MASTER_KEY));
}

#[tokio::test]
async fn records_are_shipped_in_batches() {
    let buf = Buffer::default();
    let (sub, telemetry) = build(&config(LogFormat::Text), writer(&buf)).unwrap();
    let sink = Arc::new(MemorySink::default());
    // Records logged before the sink is attached are kept and shipped once it is.
    tracing::subscriber::with_default(sub, || {
        for i in 0..450 {
            tracing::info!(target: "boz_model", i, "prediction");
        }
        tracing::warn!(target: "sqlx::query", "driver noise is not shipped");
    });
    telemetry.attach_sink(sink.clone());
    telemetry.flush().await;
    let batches = sink.batches.lock().unwrap().clone();
    assert_eq!(batches.iter().map(Vec::len).sum::<usize>(), 450);
    assert!(
        batches
            .iter()
            .all(|b| b.len() <= boz_telemetry::shipper::BATCH)
    );
    assert_eq!(batches[0][0].module, "MODEL");
    assert_eq!(telemetry.stats().written(), 450);
    assert_eq!(buf.text().lines().count(), 451);
}

struct FailingSink;

#[async_trait]
impl LogSink for FailingSink {
    async fn insert_log_entries(&self, _: &[LogRecord]) -> Result<(), BozError> {
        Err(BozError::upstream("database", "connection refused"))
    }
}

struct HangingSink;

#[async_trait]
impl LogSink for HangingSink {
    async fn insert_log_entries(&self, _: &[LogRecord]) -> Result<(), BozError> {
        std::future::pending::<()>().await;
        Ok(())
    }
}

#[tokio::test]
async fn a_failing_database_does_not_stop_console_logging() {
    let buf = Buffer::default();
    let (sub, telemetry) = build(&config(LogFormat::Text), writer(&buf)).unwrap();
    telemetry.attach_sink(Arc::new(FailingSink));
    tracing::subscriber::with_default(sub, || {
        for _ in 0..10 {
            tracing::info!("still logging");
        }
    });
    telemetry.flush().await;
    assert_eq!(buf.text().lines().count(), 10);
    assert_eq!(telemetry.stats().dropped(), 10);
    assert!(telemetry.stats().failed_batches() >= 1);
}

#[tokio::test]
async fn a_hanging_database_never_stalls_the_caller() {
    let buf = Buffer::default();
    let (sub, telemetry) = build(&config(LogFormat::Text), writer(&buf)).unwrap();
    telemetry.attach_sink(Arc::new(HangingSink));
    let n = boz_telemetry::shipper::QUEUE + 5_000;
    tracing::subscriber::with_default(sub, || {
        for i in 0..n {
            tracing::debug!(i, "busy");
        }
    });
    // Every line reached the console even though the database never answered; the overflow
    // beyond the queue was counted as dropped instead of blocking.
    assert_eq!(buf.text().lines().count(), n);
    assert!(
        telemetry.stats().dropped() >= 4_000,
        "{}",
        telemetry.stats().dropped()
    );
}
