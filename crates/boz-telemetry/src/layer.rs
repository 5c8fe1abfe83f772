//! The tracing layer: formats each event in the seed's line format (or as a JSON line), after
//! redaction, and hands a copy to the `log_entries` shipper.

use std::io::Write;
use std::sync::{Arc, Mutex};

use boz_common::log_tag::LogTag;
use boz_common::ports::LogRecord;
use chrono::{DateTime, Utc};
use serde_json::{Map, Value};
use tokio::sync::mpsc;
use tracing::field::{Field, Visit};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::Layer;
use tracing_subscriber::layer::Context;

use crate::redact::Redactor;
use crate::shipper::{Shipment, ShipperStats};

/// Human lines or JSON lines.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Text,
    Json,
}

/// Where formatted lines go (stderr in the binary, a buffer in tests).
pub type LineWriter = Arc<Mutex<dyn Write + Send>>;

/// The seed's level names (`WARN`, as in its sample output).
pub fn level_name(level: &Level) -> &'static str {
    match *level {
        Level::TRACE => "TRACE",
        Level::DEBUG => "DEBUG",
        Level::INFO => "INFO",
        Level::WARN => "WARN",
        Level::ERROR => "ERROR",
    }
}

/// One line in the seed's format:
/// `[2026-02-17 10:00:01] INFO     WEATHER      Fetched NWS forecast  {"city":"NYC","high_f":55}`.
pub fn format_line(record: &LogRecord) -> String {
    let data = match &record.data {
        Value::Object(m) if !m.is_empty() => record.data.to_string(),
        _ => "{}".to_string(),
    };
    format!(
        "[{}] {:<8} {:<12} {}  {}",
        record.timestamp.format("%Y-%m-%d %H:%M:%S"),
        record.level,
        record.module,
        record.message,
        data
    )
}

/// One JSON line.
pub fn format_json(record: &LogRecord) -> String {
    serde_json::json!({
        "timestamp": record.timestamp.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        "level": record.level,
        "module": record.module,
        "message": record.message,
        "data": record.data,
    })
    .to_string()
}

#[derive(Default)]
struct FieldCollector {
    message: Option<String>,
    tag: Option<String>,
    fields: Map<String, Value>,
}

impl FieldCollector {
    fn put(&mut self, field: &Field, value: Value) {
        match field.name() {
            "message" => {
                self.message = Some(match value {
                    Value::String(s) => s,
                    other => other.to_string(),
                })
            }
            "tag" => self.tag = value.as_str().map(str::to_string),
            name => {
                self.fields.insert(name.to_string(), value);
            }
        }
    }
}

impl Visit for FieldCollector {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        self.put(field, Value::String(format!("{value:?}")));
    }
    fn record_str(&mut self, field: &Field, value: &str) {
        self.put(field, Value::String(value.to_string()));
    }
    fn record_i64(&mut self, field: &Field, value: i64) {
        self.put(field, Value::from(value));
    }
    fn record_u64(&mut self, field: &Field, value: u64) {
        self.put(field, Value::from(value));
    }
    fn record_f64(&mut self, field: &Field, value: f64) {
        self.put(
            field,
            serde_json::Number::from_f64(value).map_or(Value::Null, Value::Number),
        );
    }
    fn record_bool(&mut self, field: &Field, value: bool) {
        self.put(field, Value::Bool(value));
    }
    fn record_error(&mut self, field: &Field, value: &(dyn std::error::Error + 'static)) {
        // The whole chain, so causes are visible (and redacted like everything else).
        let mut text = value.to_string();
        let mut source = value.source();
        while let Some(s) = source {
            text.push_str(": ");
            text.push_str(&s.to_string());
            source = s.source();
        }
        self.put(field, Value::String(text));
    }
}

/// The layer that formats, redacts and ships events.
pub struct BozLayer {
    pub(crate) format: Format,
    pub(crate) writer: LineWriter,
    pub(crate) redactor: Redactor,
    pub(crate) ship: Option<mpsc::Sender<Shipment>>,
    pub(crate) stats: Arc<ShipperStats>,
    pub(crate) now: fn() -> DateTime<Utc>,
}

/// Targets never shipped to the database: the database driver's own logs (shipping them would
/// log every log insert).
fn is_shippable(target: &str) -> bool {
    !(target.starts_with("sqlx") || target.starts_with("boz_telemetry::shipper"))
}

impl BozLayer {
    /// Builds the redacted record of an event.
    pub(crate) fn record(&self, event: &Event<'_>) -> LogRecord {
        let mut c = FieldCollector::default();
        event.record(&mut c);
        let meta = event.metadata();
        let module = c
            .tag
            .map(|t| LogTag::from_target(&t))
            .unwrap_or_else(|| LogTag::from_target(meta.target()));
        let message = self
            .redactor
            .redact_str(c.message.as_deref().unwrap_or_default())
            .into_owned();
        let data = self.redactor.redact_value(Value::Object(c.fields));
        LogRecord {
            timestamp: (self.now)(),
            level: level_name(meta.level()).to_string(),
            module: module.as_str().to_string(),
            message,
            data,
        }
    }
}

impl<S: Subscriber> Layer<S> for BozLayer {
    fn on_event(&self, event: &Event<'_>, _ctx: Context<'_, S>) {
        let record = self.record(event);
        let line = match self.format {
            Format::Text => format_line(&record),
            Format::Json => format_json(&record),
        };
        if let Ok(mut w) = self.writer.lock() {
            let _ = writeln!(w, "{line}");
        }
        if let Some(tx) = &self.ship
            && is_shippable(event.metadata().target())
            && tx.try_send(Shipment::Record(record)).is_err()
        {
            // Full or closed: the console line above is written; the database copy is dropped.
            self.stats.note_dropped();
        }
    }
}
