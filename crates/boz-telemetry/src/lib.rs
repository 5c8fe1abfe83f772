//! `boz-telemetry`: logging for Boz Weather Trader.
//!
//! Log tag: SYSTEM. May depend on: `boz-common` and external crates (layer L0).
//!
//! - `tracing` events become the seed's lines
//!   `[2026-02-17 10:00:01] INFO     WEATHER      Fetched NWS forecast  {"city":"NYC","high_f":55}`
//!   or JSON lines (`LOG_FORMAT=json`), at `LOG_LEVEL` (`RUST_LOG` overrides when set);
//! - the module tag comes from the event's target (`boz_weather::...` is WEATHER; an explicit
//!   `target: "RISK"` or a `tag = "RISK"` field wins), see `boz_common::log_tag`;
//! - every message and field is redacted before any sink ([`redact`]);
//! - records are also shipped to `log_entries` in batches ([`shipper`]) once a sink is attached;
//! - panics are logged through the same redaction instead of the default hook's raw message.

pub mod layer;
pub mod redact;
pub mod shipper;

use std::sync::{Arc, Mutex};

use boz_common::config::{LogFormat, LogLevel};
use boz_common::ports::LogSink;
use tokio::sync::{mpsc, oneshot};
use tracing_subscriber::EnvFilter;
use tracing_subscriber::layer::SubscriberExt;

pub use layer::{Format, LineWriter, format_json, format_line};
pub use redact::Redactor;
pub use shipper::ShipperStats;

/// How to log.
#[derive(Debug, Clone)]
pub struct TelemetryConfig {
    pub level: LogLevel,
    pub format: LogFormat,
    /// Exact strings to mask wherever they appear (the configured `ENCRYPTION_KEY`, ...).
    pub secrets: Vec<String>,
}

/// Errors setting up logging.
#[derive(Debug, thiserror::Error)]
pub enum TelemetryError {
    #[error("a global logger is already installed")]
    AlreadyInstalled,
    #[error("invalid RUST_LOG filter: {0}")]
    Filter(String),
}

/// The handle to the logging pipeline: attach the database sink, flush, read counters.
pub struct Telemetry {
    sender: mpsc::Sender<shipper::Shipment>,
    receiver: Mutex<Option<mpsc::Receiver<shipper::Shipment>>>,
    stats: Arc<ShipperStats>,
}

impl Telemetry {
    /// Starts shipping records (including those queued since start-up) to the sink. Needs a
    /// tokio runtime. A second call does nothing.
    pub fn attach_sink(&self, sink: Arc<dyn LogSink>) {
        let rx = self.receiver.lock().ok().and_then(|mut g| g.take());
        if let Some(rx) = rx {
            tokio::spawn(shipper::run(rx, sink, self.stats.clone()));
        }
    }

    /// Waits until every record logged so far has been written (or dropped).
    pub async fn flush(&self) {
        let attached = self.receiver.lock().map(|g| g.is_none()).unwrap_or(false);
        if !attached {
            return;
        }
        let (tx, rx) = oneshot::channel();
        if self.sender.send(shipper::Shipment::Flush(tx)).await.is_ok() {
            let _ = rx.await;
        }
    }

    pub fn stats(&self) -> Arc<ShipperStats> {
        self.stats.clone()
    }
}

fn filter(level: LogLevel) -> Result<EnvFilter, TelemetryError> {
    if let Ok(directives) = std::env::var("RUST_LOG")
        && !directives.trim().is_empty()
    {
        return EnvFilter::try_new(directives).map_err(|e| TelemetryError::Filter(e.to_string()));
    }
    let level = level.as_str().to_ascii_lowercase();
    EnvFilter::try_new(format!(
        "{level},sqlx=warn,hyper=warn,h2=warn,rustls=warn,reqwest=warn,tower=warn"
    ))
    .map_err(|e| TelemetryError::Filter(e.to_string()))
}

/// Builds the subscriber and its handle without installing it (tests use this with a buffer).
pub fn build(
    config: &TelemetryConfig,
    writer: LineWriter,
) -> Result<(impl tracing::Subscriber + Send + Sync + 'static, Telemetry), TelemetryError> {
    let (tx, rx) = mpsc::channel(shipper::QUEUE);
    let stats = Arc::new(ShipperStats::default());
    let layer = layer::BozLayer {
        format: match config.format {
            LogFormat::Text => Format::Text,
            LogFormat::Json => Format::Json,
        },
        writer,
        redactor: Redactor::new(config.secrets.clone()),
        ship: Some(tx.clone()),
        stats: stats.clone(),
        now: chrono::Utc::now,
    };
    let subscriber = tracing_subscriber::registry()
        .with(filter(config.level)?)
        .with(layer);
    Ok((
        subscriber,
        Telemetry {
            sender: tx,
            receiver: Mutex::new(Some(rx)),
            stats,
        },
    ))
}

/// Installs logging to stderr for the whole process, and the redacting panic hook.
pub fn init(config: &TelemetryConfig) -> Result<Telemetry, TelemetryError> {
    let writer: LineWriter = Arc::new(Mutex::new(std::io::stderr()));
    let (subscriber, telemetry) = build(config, writer)?;
    tracing::subscriber::set_global_default(subscriber)
        .map_err(|_| TelemetryError::AlreadyInstalled)?;
    install_panic_hook(Redactor::new(config.secrets.clone()));
    Ok(telemetry)
}

/// Replaces the default panic hook (which prints the raw message) with one that logs the
/// redacted message and location as an ERROR.
pub fn install_panic_hook(redactor: Redactor) {
    std::panic::set_hook(Box::new(move |info| {
        let payload = info
            .payload()
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| info.payload().downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "non-text panic payload".to_string());
        let location = info
            .location()
            .map(|l| format!("{}:{}", l.file(), l.line()))
            .unwrap_or_default();
        let message = redactor.redact_str(&payload).into_owned();
        tracing::error!(target: "SYSTEM", location = %location, "panic: {message}");
    }));
}
