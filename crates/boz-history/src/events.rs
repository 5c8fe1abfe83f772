//! Kalshi event files (`kxhigh*_events.jsonl.gz`): one GET /events response per line, with
//! nested markets (strikes, result, `expiration_value` = the settled high).

use std::io::{BufRead, BufReader};
use std::path::Path;

use serde_json::Value;

use crate::error::HistoryError;

/// One event object and its markets, as recorded.
#[derive(Debug, Clone, PartialEq)]
pub struct RecordedEvent {
    pub line: usize,
    pub event: Value,
    pub markets: Vec<Value>,
}

/// Reads every line; each must be a JSON object holding an `event` (or being one) with a
/// `markets` array.
pub fn read_events(path: &Path) -> Result<Vec<RecordedEvent>, HistoryError> {
    let file = std::fs::File::open(path).map_err(|e| HistoryError::file(path, e))?;
    let reader = BufReader::new(flate2::read::GzDecoder::new(file));
    let mut out = Vec::new();
    for (i, line) in reader.lines().enumerate() {
        let n = i + 1;
        let line = line.map_err(|e| HistoryError::row(path, n, "*", e))?;
        if line.trim().is_empty() {
            continue;
        }
        let v: Value = serde_json::from_str(&line)
            .map_err(|e| HistoryError::row(path, n, "*", format!("not JSON: {e}")))?;
        let event = v.get("event").cloned().unwrap_or_else(|| v.clone());
        if !event.is_object() || event.get("event_ticker").and_then(Value::as_str).is_none() {
            return Err(HistoryError::row(
                path,
                n,
                "event",
                "no event object with an event_ticker",
            ));
        }
        let markets = v
            .get("markets")
            .or_else(|| event.get("markets"))
            .and_then(Value::as_array)
            .cloned()
            .ok_or_else(|| HistoryError::row(path, n, "markets", "missing or not an array"))?;
        out.push(RecordedEvent {
            line: n,
            event,
            markets,
        });
    }
    Ok(out)
}
