//! Top-of-book logs of a peer bot (jetpackjules/Kalshi-Trader `server_mirror/market_logs`):
//! `market_data_<EVENT>.csv(.gz)`, one row per market per poll, with the columns
//! `timestamp, market_ticker, best_yes_bid, best_no_bid, implied_no_ask, implied_yes_ask`
//! (whole cents; `implied_yes_ask = 100 − best_no_bid`, `implied_no_ask = 100 − best_yes_bid`).
//!
//! The timestamps carry no zone. They are the logger's local time, US Pacific: in every file
//! the first poll is at 07:00-07:18, when Kalshi opens the next day's markets (10:00 ET), and
//! no live quote is later than 20:59, when they close (23:59 ET). The zone is a parameter of
//! [`read_book_log`] all the same. A 0 bid or a 100 ask is an empty side: no quote.

use std::io::Read;
use std::path::Path;

use chrono::{DateTime, NaiveDateTime, TimeZone, Utc};
use chrono_tz::Tz;

use crate::error::HistoryError;

/// One market's top of book at one poll.
#[derive(Debug, Clone, PartialEq)]
pub struct BookLogRow {
    /// Counting from 1 after the header.
    pub row: usize,
    pub at: DateTime<Utc>,
    pub ticker: String,
    /// Whole cents; `None` for an empty side.
    pub yes_bid_cents: Option<i64>,
    pub yes_ask_cents: Option<i64>,
}

const COLUMNS: [&str; 6] = [
    "timestamp",
    "market_ticker",
    "best_yes_bid",
    "best_no_bid",
    "implied_no_ask",
    "implied_yes_ask",
];

/// Every row of one log file (gzipped when its name ends in `.gz`), with local times read in
/// `zone`; the first malformed row is an error naming its row and column.
pub fn read_book_log(path: &Path, zone: Tz) -> Result<Vec<BookLogRow>, HistoryError> {
    let file = std::fs::File::open(path).map_err(|e| HistoryError::file(path, e))?;
    let input: Box<dyn Read> = if path.extension().is_some_and(|e| e == "gz") {
        Box::new(flate2::read::GzDecoder::new(file))
    } else {
        Box::new(file)
    };
    let mut reader = csv::Reader::from_reader(input);
    let headers = reader
        .headers()
        .map_err(|e| HistoryError::file(path, e))?
        .clone();
    let mut index = [0usize; 6];
    for (i, name) in COLUMNS.iter().enumerate() {
        index[i] = headers
            .iter()
            .position(|h| h.trim() == *name)
            .ok_or_else(|| HistoryError::row(path, 0, name, "no such column in the header"))?;
    }
    let mut out = Vec::new();
    for (n, rec) in reader.records().enumerate() {
        let row = n + 1;
        let rec = rec.map_err(|e| HistoryError::row(path, row, "", e))?;
        let field = |i: usize| rec.get(index[i]).map(str::trim).unwrap_or_default();
        let cents = |i: usize| -> Result<i64, HistoryError> {
            let v = field(i);
            v.parse::<i64>()
                .ok()
                .filter(|c| (0..=100).contains(c))
                .ok_or_else(|| {
                    HistoryError::row(path, row, COLUMNS[i], format!("{v:?} is not 0-100 cents"))
                })
        };
        let stamp = field(0);
        let local = NaiveDateTime::parse_from_str(stamp, "%Y-%m-%dT%H:%M:%S%.f")
            .map_err(|e| HistoryError::row(path, row, "timestamp", format!("{stamp:?}: {e}")))?;
        let at = zone
            .from_local_datetime(&local)
            .earliest()
            .ok_or_else(|| {
                HistoryError::row(
                    path,
                    row,
                    "timestamp",
                    format!("{stamp} does not exist in {zone}"),
                )
            })?
            .with_timezone(&Utc);
        let ticker = field(1);
        if ticker.is_empty() || !ticker.contains('-') {
            return Err(HistoryError::row(
                path,
                row,
                "market_ticker",
                format!("{ticker:?} is not a market ticker"),
            ));
        }
        let (yes_bid, no_bid, no_ask, yes_ask) = (cents(2)?, cents(3)?, cents(4)?, cents(5)?);
        if yes_ask != 100 - no_bid || no_ask != 100 - yes_bid {
            return Err(HistoryError::row(
                path,
                row,
                "implied_yes_ask",
                format!(
                    "the implied asks ({yes_ask}, {no_ask}) are not 100 minus the bids ({no_bid}, {yes_bid})"
                ),
            ));
        }
        out.push(BookLogRow {
            row,
            at,
            ticker: ticker.to_string(),
            yes_bid_cents: (yes_bid > 0).then_some(yes_bid),
            yes_ask_cents: (yes_ask < 100).then_some(yes_ask),
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(text: &str) -> (tempfile::TempDir, std::path::PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("market_data_KXHIGHNY-25DEC05.csv");
        std::fs::write(&p, text).unwrap();
        (dir, p)
    }

    const HEADER: &str =
        "timestamp,market_ticker,best_yes_bid,best_no_bid,implied_no_ask,implied_yes_ask\n";

    #[test]
    fn rows_are_read_in_the_zone_with_empty_sides_as_no_quote() {
        let (_d, p) = write(&format!(
            "{HEADER}2025-12-04T12:27:16.079996,KXHIGHNY-25DEC05-T37,1,96,99,4\n\
             2025-12-06T04:01:34.030224,KXHIGHNY-25DEC05-B36.5,0,0,100,100\n"
        ));
        let rows = read_book_log(&p, chrono_tz::America::Los_Angeles).unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(
            rows[0].at,
            "2025-12-04T20:27:16.079996Z"
                .parse::<DateTime<Utc>>()
                .unwrap()
        );
        assert_eq!(
            (rows[0].yes_bid_cents, rows[0].yes_ask_cents),
            (Some(1), Some(4))
        );
        assert_eq!((rows[1].yes_bid_cents, rows[1].yes_ask_cents), (None, None));
    }

    #[test]
    fn a_malformed_row_is_named_by_row_and_column() {
        for (line, column) in [
            ("yesterday,KXHIGHNY-25DEC05-T37,1,96,99,4", "timestamp"),
            (
                "2025-12-04T12:27:16,KXHIGHNY-25DEC05-T37,1,96,99,104",
                "implied_yes_ask",
            ),
            (
                "2025-12-04T12:27:16,KXHIGHNY-25DEC05-T37,1,96,99,5",
                "implied_yes_ask",
            ),
            ("2025-12-04T12:27:16,,1,96,99,4", "market_ticker"),
            (
                "2025-12-04T12:27:16,KXHIGHNY-25DEC05-T37,x,96,99,4",
                "best_yes_bid",
            ),
        ] {
            let (_d, p) = write(&format!(
                "{HEADER}2025-12-04T12:27:16,KXHIGHNY-25DEC05-T37,1,96,99,4\n{line}\n"
            ));
            let e = read_book_log(&p, chrono_tz::America::Los_Angeles)
                .unwrap_err()
                .to_string();
            assert!(e.contains(&format!("row 2, column {column}")), "{e}");
        }
        let (_d, p) = write("timestamp,market_ticker\n");
        let e = read_book_log(&p, chrono_tz::UTC).unwrap_err().to_string();
        assert!(e.contains("best_yes_bid: no such column"), "{e}");
    }
}
