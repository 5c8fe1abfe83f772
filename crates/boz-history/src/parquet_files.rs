//! Parquet files: GHCN daily highs, Kalshi trades, hourly candles and market definitions.

use std::fs::File;
use std::path::Path;

use chrono::{DateTime, NaiveDate, Utc};
use parquet::file::reader::SerializedFileReader;
use parquet::record::{Field, Row};

use crate::error::HistoryError;

/// A GHCN-Daily TMAX (converted to °F, unrounded).
#[derive(Debug, Clone, PartialEq)]
pub struct GhcnDay {
    pub station: String,
    pub date: NaiveDate,
    pub tmax_f: f64,
}

/// One public Kalshi trade.
#[derive(Debug, Clone, PartialEq)]
pub struct Trade {
    pub ticker: String,
    pub created_time: DateTime<Utc>,
    pub count: i64,
    /// YES price in cents (1-99).
    pub yes_price_cents: i64,
    pub taker_side: String,
}

/// One hourly candle (cents). In these files `high` is the YES ask and `low` the YES bid at
/// the candle's close, not the price range (see SOURCES.md).
#[derive(Debug, Clone, PartialEq)]
pub struct Candle {
    pub ticker: String,
    pub ts: DateTime<Utc>,
    pub close_cents: Option<f64>,
    pub yes_ask_cents: Option<f64>,
    pub yes_bid_cents: Option<f64>,
    pub volume: Option<f64>,
}

/// A market's definition.
#[derive(Debug, Clone, PartialEq)]
pub struct MarketDef {
    pub ticker: String,
    pub event_ticker: String,
    pub strike_type: Option<String>,
    pub floor_strike: Option<f64>,
    pub cap_strike: Option<f64>,
    pub subtitle: Option<String>,
}

struct Reader<'a> {
    path: &'a Path,
}

impl Reader<'_> {
    fn each(
        &self,
        mut f: impl FnMut(usize, &Row) -> Result<(), HistoryError>,
    ) -> Result<(), HistoryError> {
        let file = File::open(self.path).map_err(|e| HistoryError::file(self.path, e))?;
        let reader =
            SerializedFileReader::new(file).map_err(|e| HistoryError::file(self.path, e))?;
        for (i, row) in reader.into_iter().enumerate() {
            let row = row.map_err(|e| HistoryError::row(self.path, i + 1, "*", e))?;
            f(i + 1, &row)?;
        }
        Ok(())
    }

    fn field<'r>(&self, row: &'r Row, n: usize, col: &str) -> Result<&'r Field, HistoryError> {
        row.get_column_iter()
            .find(|(name, _)| name.as_str() == col)
            .map(|(_, f)| f)
            .ok_or_else(|| HistoryError::row(self.path, n, col, "missing column"))
    }

    fn string(&self, row: &Row, n: usize, col: &str) -> Result<Option<String>, HistoryError> {
        match self.field(row, n, col)? {
            Field::Null => Ok(None),
            Field::Str(s) => Ok(Some(s.clone())),
            other => Err(HistoryError::row(
                self.path,
                n,
                col,
                format!("expected text, got {other}"),
            )),
        }
    }

    fn required(&self, row: &Row, n: usize, col: &str) -> Result<String, HistoryError> {
        self.string(row, n, col)?
            .filter(|s| !s.is_empty())
            .ok_or_else(|| HistoryError::row(self.path, n, col, "empty"))
    }

    fn number(&self, row: &Row, n: usize, col: &str) -> Result<Option<f64>, HistoryError> {
        let v = match self.field(row, n, col)? {
            Field::Null => return Ok(None),
            Field::Double(v) => *v,
            Field::Float(v) => f64::from(*v),
            Field::Byte(v) => f64::from(*v),
            Field::Short(v) => f64::from(*v),
            Field::Int(v) => f64::from(*v),
            Field::Long(v) => *v as f64,
            other => {
                return Err(HistoryError::row(
                    self.path,
                    n,
                    col,
                    format!("expected a number, got {other}"),
                ));
            }
        };
        if v.is_nan() {
            return Ok(None);
        }
        if !v.is_finite() {
            return Err(HistoryError::row(
                self.path,
                n,
                col,
                format!("{v} is not finite"),
            ));
        }
        Ok(Some(v))
    }

    fn integer(&self, row: &Row, n: usize, col: &str) -> Result<i64, HistoryError> {
        let v = self
            .number(row, n, col)?
            .ok_or_else(|| HistoryError::row(self.path, n, col, "empty"))?;
        if v.fract() != 0.0 {
            return Err(HistoryError::row(
                self.path,
                n,
                col,
                format!("{v} is not a whole number"),
            ));
        }
        Ok(v as i64)
    }

    fn time(&self, row: &Row, n: usize, col: &str) -> Result<DateTime<Utc>, HistoryError> {
        let bad = |why: String| HistoryError::row(self.path, n, col, why);
        match self.field(row, n, col)? {
            Field::TimestampMicros(us) => DateTime::from_timestamp_micros(*us)
                .ok_or_else(|| bad(format!("{us} µs is out of range"))),
            Field::TimestampMillis(ms) => DateTime::from_timestamp_millis(*ms)
                .ok_or_else(|| bad(format!("{ms} ms is out of range"))),
            Field::Str(s) => DateTime::parse_from_rfc3339(s)
                .map(|t| t.to_utc())
                .map_err(|_| bad(format!("{s:?} is not an RFC 3339 time"))),
            other => Err(bad(format!("expected a time, got {other}"))),
        }
    }
}

/// GHCN daily highs (`weather_daily.parquet`).
pub fn read_ghcn_daily(path: &Path) -> Result<Vec<GhcnDay>, HistoryError> {
    let r = Reader { path };
    let mut out = Vec::new();
    r.each(|n, row| {
        let date_s = r.required(row, n, "obs_date")?;
        let date = date_s.parse().map_err(|_| {
            HistoryError::row(path, n, "obs_date", format!("{date_s:?} is not a date"))
        })?;
        let tmax_f = r
            .number(row, n, "tmax_f")?
            .ok_or_else(|| HistoryError::row(path, n, "tmax_f", "empty"))?;
        if !(-80.0..=140.0).contains(&tmax_f) {
            return Err(HistoryError::row(
                path,
                n,
                "tmax_f",
                format!("{tmax_f} °F is not plausible"),
            ));
        }
        out.push(GhcnDay {
            station: r.required(row, n, "station_id")?,
            date,
            tmax_f,
        });
        Ok(())
    })?;
    Ok(out)
}

/// Every public trade (`kxhigh*_trades.parquet`).
pub fn read_trades(path: &Path) -> Result<Vec<Trade>, HistoryError> {
    let r = Reader { path };
    let mut out = Vec::new();
    r.each(|n, row| {
        let yes_price_cents = r.integer(row, n, "yes_price")?;
        if !(1..=99).contains(&yes_price_cents) {
            return Err(HistoryError::row(
                path,
                n,
                "yes_price",
                format!("{yes_price_cents} is not 1-99 cents"),
            ));
        }
        let count = r.integer(row, n, "count")?;
        if count <= 0 {
            return Err(HistoryError::row(
                path,
                n,
                "count",
                format!("{count} is not positive"),
            ));
        }
        out.push(Trade {
            ticker: r.required(row, n, "ticker")?,
            created_time: r.time(row, n, "created_time")?,
            count,
            yes_price_cents,
            taker_side: r.required(row, n, "taker_side")?,
        });
        Ok(())
    })?;
    Ok(out)
}

/// Hourly candles (`kalshi_candles.parquet`, `kalshi_history_chunks__*_concat.parquet`).
pub fn read_candles(path: &Path) -> Result<Vec<Candle>, HistoryError> {
    let r = Reader { path };
    let mut out = Vec::new();
    r.each(|n, row| {
        let cents = |col: &str| -> Result<Option<f64>, HistoryError> {
            match r.number(row, n, col)? {
                Some(v) if !(0.0..=100.0).contains(&v) => Err(HistoryError::row(
                    path,
                    n,
                    col,
                    format!("{v} is not 0-100 cents"),
                )),
                v => Ok(v),
            }
        };
        out.push(Candle {
            ticker: r.required(row, n, "market_ticker")?,
            ts: r.time(row, n, "candle_ts")?,
            close_cents: cents("close")?,
            yes_ask_cents: cents("high")?,
            yes_bid_cents: cents("low")?,
            volume: r.number(row, n, "volume")?,
        });
        Ok(())
    })?;
    Ok(out)
}

/// Market definitions (`kalshi_markets.parquet`).
pub fn read_markets(path: &Path) -> Result<Vec<MarketDef>, HistoryError> {
    let r = Reader { path };
    let mut out = Vec::new();
    r.each(|n, row| {
        out.push(MarketDef {
            ticker: r.required(row, n, "market_ticker")?,
            event_ticker: r.required(row, n, "event_ticker")?,
            strike_type: r.string(row, n, "strike_type")?,
            floor_strike: r.number(row, n, "floor_strike")?,
            cap_strike: r.number(row, n, "cap_strike")?,
            subtitle: r.string(row, n, "market_subtitle")?,
        });
        Ok(())
    })?;
    Ok(out)
}
