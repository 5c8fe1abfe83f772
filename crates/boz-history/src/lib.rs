//! `boz-history`: readers for the recorded history files under `../shared/data/history` (see
//! its `SOURCES.md`): NWS and AccuWeather forecast logs and the daily feature table (CSV),
//! GHCN daily highs, Kalshi trades, candles and market definitions (parquet), and Kalshi event
//! files (gzipped JSON lines); and a peer bot's top-of-book logs ([`book_logs`]). Each reader returns typed rows; a malformed row is an error
//! naming the file, the row and the column. The files stay where they are: nothing is copied.
//!
//! Log tag: HISTORY. May depend on: layer L0 (`boz-common`) and external crates (layer L1).

pub mod book_logs;
pub mod error;
pub mod events;
pub mod logs;
pub mod parquet_files;
pub mod reserved;

pub use error::HistoryError;
pub use reserved::{RESERVED_FROM, RESERVED_TO, is_reserved};
