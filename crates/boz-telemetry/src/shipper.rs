//! Ships log records to `log_entries` in batches, off the hot path.
//!
//! The layer `try_send`s into a bounded channel and never waits. A background task collects up
//! to [`BATCH`] records (or whatever arrived within [`FLUSH_EVERY`]) and writes them through the
//! [`LogSink`] port with a timeout. When the database is unavailable the batch is dropped and
//! counted; console logging goes on and nothing stalls.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use boz_common::ports::{LogRecord, LogSink};
use tokio::sync::{mpsc, oneshot};

/// Most records written in one insert.
pub const BATCH: usize = 200;
/// Longest a record waits before its batch is written.
pub const FLUSH_EVERY: Duration = Duration::from_millis(500);
/// Longest one batch insert may take.
pub const WRITE_TIMEOUT: Duration = Duration::from_secs(5);
/// Records queued at most (beyond that they are dropped and counted).
pub const QUEUE: usize = 10_000;

/// What travels to the shipper task.
pub enum Shipment {
    Record(LogRecord),
    /// Write everything queued so far, then answer.
    Flush(oneshot::Sender<()>),
}

/// Counters of the shipper, for health reporting.
#[derive(Debug, Default)]
pub struct ShipperStats {
    written: AtomicU64,
    dropped: AtomicU64,
    failed_batches: AtomicU64,
}

impl ShipperStats {
    pub(crate) fn note_dropped(&self) {
        self.dropped.fetch_add(1, Ordering::Relaxed);
    }
    /// Records written to the database.
    pub fn written(&self) -> u64 {
        self.written.load(Ordering::Relaxed)
    }
    /// Records dropped (queue full, or their batch failed).
    pub fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }
    /// Batches the database refused or did not answer in time.
    pub fn failed_batches(&self) -> u64 {
        self.failed_batches.load(Ordering::Relaxed)
    }
}

async fn write(sink: &dyn LogSink, batch: &mut Vec<LogRecord>, stats: &ShipperStats) {
    if batch.is_empty() {
        return;
    }
    let n = batch.len() as u64;
    match tokio::time::timeout(WRITE_TIMEOUT, sink.insert_log_entries(batch)).await {
        Ok(Ok(())) => {
            stats.written.fetch_add(n, Ordering::Relaxed);
        }
        Ok(Err(e)) => {
            stats.dropped.fetch_add(n, Ordering::Relaxed);
            if stats.failed_batches.fetch_add(1, Ordering::Relaxed) == 0 {
                // Not through tracing (it would queue more records); the first failure only.
                eprintln!(
                    "log_entries: could not store {n} log records ({}); console logging continues",
                    e.kind.name()
                );
            }
        }
        Err(_) => {
            stats.dropped.fetch_add(n, Ordering::Relaxed);
            if stats.failed_batches.fetch_add(1, Ordering::Relaxed) == 0 {
                eprintln!(
                    "log_entries: the database did not answer within {WRITE_TIMEOUT:?}; console logging continues"
                );
            }
        }
    }
    batch.clear();
}

/// The shipper loop; ends when every sender is gone.
pub async fn run(
    mut rx: mpsc::Receiver<Shipment>,
    sink: Arc<dyn LogSink>,
    stats: Arc<ShipperStats>,
) {
    let mut batch: Vec<LogRecord> = Vec::with_capacity(BATCH);
    loop {
        let next = if batch.is_empty() {
            rx.recv().await
        } else {
            match tokio::time::timeout(FLUSH_EVERY, rx.recv()).await {
                Ok(m) => m,
                Err(_) => {
                    write(sink.as_ref(), &mut batch, &stats).await;
                    continue;
                }
            }
        };
        match next {
            Some(Shipment::Record(r)) => {
                batch.push(r);
                if batch.len() >= BATCH {
                    write(sink.as_ref(), &mut batch, &stats).await;
                }
            }
            Some(Shipment::Flush(done)) => {
                write(sink.as_ref(), &mut batch, &stats).await;
                let _ = done.send(());
            }
            None => {
                write(sink.as_ref(), &mut batch, &stats).await;
                return;
            }
        }
    }
}
