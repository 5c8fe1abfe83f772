//! A market's order book: YES bids and NO bids (each side lists bids only; best = highest).
//! A YES ask is 1 − the best NO bid; a NO ask is 1 − the best YES bid. NO levels are kept in NO
//! prices (Kalshi's REST book, and the WebSocket with `use_yes_price: false`).
//!
//! WebSocket updates: a snapshot, then deltas numbered by `seq` (one more each time). A gap means
//! a lost message: the book refuses the delta and must be rebuilt from a fresh snapshot.

use std::collections::BTreeMap;

use boz_common::money::{Count, FixedPointError, Price};
use boz_common::schemas::Side;
use chrono::{DateTime, Duration, Utc};
use rust_decimal::Decimal;
use serde_json::Value;

/// Why a book update was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BookError {
    #[error("{ticker}: sequence gap (expected {expected}, got {got}): resubscribe for a snapshot")]
    SequenceGap {
        ticker: String,
        expected: u64,
        got: u64,
    },
    #[error("{ticker}: malformed book data: {reason}")]
    Malformed { ticker: String, reason: String },
    #[error("{ticker}: a delta would make the level at {price} negative")]
    NegativeLevel { ticker: String, price: String },
}

/// One market's book.
#[derive(Debug, Clone, PartialEq)]
pub struct OrderBook {
    pub ticker: String,
    /// YES bids, price → contracts.
    yes: BTreeMap<Price, Count>,
    /// NO bids in NO prices, price → contracts.
    no: BTreeMap<Price, Count>,
    pub updated_at: DateTime<Utc>,
    /// The last WebSocket sequence number applied (`None` for a REST book).
    pub seq: Option<u64>,
}

fn read_levels(ticker: &str, v: Option<&Value>) -> Result<BTreeMap<Price, Count>, BookError> {
    let bad = |reason: String| BookError::Malformed {
        ticker: ticker.to_string(),
        reason,
    };
    let mut out = BTreeMap::new();
    let Some(v) = v else { return Ok(out) };
    if v.is_null() {
        return Ok(out);
    }
    let list = v
        .as_array()
        .ok_or_else(|| bad("levels are not a list".into()))?;
    for (i, level) in list.iter().enumerate() {
        let pair = level
            .as_array()
            .filter(|p| p.len() == 2)
            .ok_or_else(|| bad(format!("level {i} is not [price, count]")))?;
        let text = |x: &Value| {
            x.as_str()
                .map(str::to_string)
                .unwrap_or_else(|| x.to_string())
        };
        let price =
            Price::parse(&text(&pair[0])).map_err(|e| bad(format!("level {i} price: {e}")))?;
        let count =
            Count::parse(&text(&pair[1])).map_err(|e| bad(format!("level {i} count: {e}")))?;
        if count > Count::ZERO {
            out.insert(price, count);
        }
    }
    Ok(out)
}

impl OrderBook {
    pub fn empty(ticker: &str, at: DateTime<Utc>) -> OrderBook {
        OrderBook {
            ticker: ticker.to_string(),
            yes: BTreeMap::new(),
            no: BTreeMap::new(),
            updated_at: at,
            seq: None,
        }
    }

    /// From `GET /markets/{ticker}/orderbook` (`orderbook_fp: {yes_dollars, no_dollars}`).
    pub fn from_rest(
        ticker: &str,
        body: &Value,
        at: DateTime<Utc>,
    ) -> Result<OrderBook, BookError> {
        let fp = body.get("orderbook_fp").unwrap_or(body);
        Ok(OrderBook {
            ticker: ticker.to_string(),
            yes: read_levels(ticker, fp.get("yes_dollars"))?,
            no: read_levels(ticker, fp.get("no_dollars"))?,
            updated_at: at,
            seq: None,
        })
    }

    /// From levels given directly (tests, recordings, the paper exchange).
    pub fn from_levels(
        ticker: &str,
        yes: &[(Price, Count)],
        no: &[(Price, Count)],
        at: DateTime<Utc>,
    ) -> OrderBook {
        let keep = |l: &[(Price, Count)]| {
            l.iter()
                .filter(|(_, c)| *c > Count::ZERO)
                .copied()
                .collect()
        };
        OrderBook {
            ticker: ticker.to_string(),
            yes: keep(yes),
            no: keep(no),
            updated_at: at,
            seq: None,
        }
    }

    /// A WebSocket `orderbook_snapshot` (`yes_dollars_fp`, `no_dollars_fp`) with its `seq`.
    pub fn apply_snapshot(
        &mut self,
        msg: &Value,
        seq: u64,
        at: DateTime<Utc>,
    ) -> Result<(), BookError> {
        // Both sides are read before either replaces the book: a bad snapshot changes nothing.
        let yes = read_levels(&self.ticker, msg.get("yes_dollars_fp"))?;
        let no = read_levels(&self.ticker, msg.get("no_dollars_fp"))?;
        self.yes = yes;
        self.no = no;
        self.seq = Some(seq);
        self.updated_at = at;
        Ok(())
    }

    /// A WebSocket `orderbook_delta`: `delta` contracts (signed) at `price` on `side`. Refused on a
    /// sequence gap (the book is then stale until the next snapshot).
    pub fn apply_delta(
        &mut self,
        seq: u64,
        side: Side,
        price: Price,
        delta: Decimal,
        at: DateTime<Utc>,
    ) -> Result<(), BookError> {
        let expected = self.seq.map_or(seq, |s| s + 1);
        if seq != expected {
            return Err(BookError::SequenceGap {
                ticker: self.ticker.clone(),
                expected,
                got: seq,
            });
        }
        let levels = match side {
            Side::Yes => &mut self.yes,
            Side::No => &mut self.no,
        };
        let current = levels.get(&price).map_or(Decimal::ZERO, Count::as_decimal);
        let next = current + delta;
        if next < Decimal::ZERO {
            return Err(BookError::NegativeLevel {
                ticker: self.ticker.clone(),
                price: price.to_string(),
            });
        }
        let next = Count::new(next).map_err(|e: FixedPointError| BookError::Malformed {
            ticker: self.ticker.clone(),
            reason: e.to_string(),
        })?;
        if next == Count::ZERO {
            levels.remove(&price);
        } else {
            levels.insert(price, next);
        }
        self.seq = Some(seq);
        self.updated_at = at;
        Ok(())
    }

    /// The best bid of a side (its own prices) and its size.
    pub fn best_bid(&self, side: Side) -> Option<(Price, Count)> {
        let levels = match side {
            Side::Yes => &self.yes,
            Side::No => &self.no,
        };
        levels.iter().next_back().map(|(p, c)| (*p, *c))
    }

    /// The price to buy `side` now (1 − the other side's best bid) and the size there.
    pub fn best_ask(&self, side: Side) -> Option<(Price, Count)> {
        let other = match side {
            Side::Yes => Side::No,
            Side::No => Side::Yes,
        };
        self.best_bid(other).map(|(p, c)| (p.complement(), c))
    }

    /// Asks to buy `side`, best first: (price of `side`, contracts).
    pub fn asks(&self, side: Side) -> Vec<(Price, Count)> {
        let other = match side {
            Side::Yes => &self.no,
            Side::No => &self.yes,
        };
        other
            .iter()
            .rev()
            .map(|(p, c)| (p.complement(), *c))
            .collect()
    }

    /// How many price levels rest on `side`'s bids.
    pub fn levels(&self, side: Side) -> u32 {
        let n = match side {
            Side::Yes => self.yes.len(),
            Side::No => self.no.len(),
        };
        u32::try_from(n).unwrap_or(u32::MAX)
    }

    /// Contracts available to buy `side` at `limit` or better.
    pub fn depth_to(&self, side: Side, limit: Price) -> Count {
        self.asks(side)
            .into_iter()
            .take_while(|(p, _)| *p <= limit)
            .fold(Count::ZERO, |acc, (_, c)| acc.checked_add(c).unwrap_or(acc))
    }

    /// Takes up to `count` contracts of the ask to buy `side` at `price` (a paper fill).
    pub(crate) fn take(&mut self, side: Side, price: Price, count: Count) {
        let (levels, key) = match side {
            Side::Yes => (&mut self.no, price.complement()),
            Side::No => (&mut self.yes, price.complement()),
        };
        if let Some(level) = levels.get_mut(&key) {
            *level = level.checked_sub(count).unwrap_or(Count::ZERO);
            if *level == Count::ZERO {
                levels.remove(&key);
            }
        }
    }

    /// The market-implied probability of YES: the mid of the YES bid and ask, when both exist.
    pub fn mid(&self) -> Option<Decimal> {
        let bid = self.best_bid(Side::Yes)?.0.as_decimal();
        let ask = self.best_ask(Side::Yes)?.0.as_decimal();
        Some((bid + ask) / Decimal::TWO)
    }

    /// How old the book is.
    pub fn age(&self, now: DateTime<Utc>) -> Duration {
        now - self.updated_at
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn p(s: &str) -> Price {
        Price::parse(s).unwrap()
    }
    fn c(n: u32) -> Count {
        Count::whole(n)
    }
    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn the_documented_rest_book() {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../../shared/data/kalshi/samples/orderbook-response-docs-example.json"
        );
        let body: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        let b = OrderBook::from_rest("X", &body, at("2026-09-01T12:00:00Z")).unwrap();
        let (yes_bid, _) = b.best_bid(Side::Yes).unwrap();
        let (no_bid, _) = b.best_bid(Side::No).unwrap();
        assert_eq!(b.best_ask(Side::Yes).unwrap().0, no_bid.complement());
        assert_eq!(b.best_ask(Side::No).unwrap().0, yes_bid.complement());
        assert!(
            b.best_ask(Side::Yes).unwrap().0 > yes_bid,
            "the book is not crossed"
        );
    }

    #[test]
    fn asks_depth_and_mid() {
        let b = OrderBook::from_levels(
            "X",
            &[(p("0.20"), c(10)), (p("0.22"), c(5))],
            &[(p("0.75"), c(3)), (p("0.70"), c(8)), (p("0.60"), c(20))],
            at("2026-09-01T12:00:00Z"),
        );
        assert_eq!(b.best_bid(Side::Yes), Some((p("0.22"), c(5))));
        assert_eq!(b.best_ask(Side::Yes), Some((p("0.25"), c(3))));
        assert_eq!(
            b.asks(Side::Yes),
            vec![(p("0.25"), c(3)), (p("0.30"), c(8)), (p("0.40"), c(20))]
        );
        assert_eq!(b.depth_to(Side::Yes, p("0.30")), c(11));
        assert_eq!(b.depth_to(Side::Yes, p("0.24")), Count::ZERO);
        assert_eq!(b.best_ask(Side::No), Some((p("0.78"), c(5))));
        assert_eq!(b.mid(), Some(Decimal::new(235, 3)));
        assert_eq!(b.age(at("2026-09-01T12:00:30Z")), Duration::seconds(30));
    }

    #[test]
    fn snapshot_deltas_and_gaps() {
        let mut b = OrderBook::empty("X", at("2026-09-01T12:00:00Z"));
        b.apply_snapshot(
            &json!({"yes_dollars_fp": [["0.2000", "10.00"]], "no_dollars_fp": [["0.7000", "8.00"]]}),
            5,
            at("2026-09-01T12:00:01Z"),
        )
        .unwrap();
        b.apply_delta(
            6,
            Side::Yes,
            p("0.21"),
            Decimal::new(4, 0),
            at("2026-09-01T12:00:02Z"),
        )
        .unwrap();
        assert_eq!(b.best_bid(Side::Yes), Some((p("0.21"), c(4))));
        b.apply_delta(
            7,
            Side::Yes,
            p("0.21"),
            Decimal::new(-4, 0),
            at("2026-09-01T12:00:03Z"),
        )
        .unwrap();
        assert_eq!(b.best_bid(Side::Yes), Some((p("0.20"), c(10))));
        let gap = b
            .apply_delta(
                9,
                Side::No,
                p("0.70"),
                Decimal::ONE,
                at("2026-09-01T12:00:04Z"),
            )
            .unwrap_err();
        assert_eq!(
            gap,
            BookError::SequenceGap {
                ticker: "X".into(),
                expected: 8,
                got: 9
            }
        );
        assert_eq!(b.seq, Some(7), "a refused delta changes nothing");
        assert!(matches!(
            b.apply_delta(
                8,
                Side::No,
                p("0.70"),
                Decimal::new(-9, 0),
                at("2026-09-01T12:00:04Z")
            ),
            Err(BookError::NegativeLevel { .. })
        ));
        assert!(matches!(
            b.apply_snapshot(
                &json!({"yes_dollars_fp": [["0.30", "1"]], "no_dollars_fp": [["1.5", "1"]]}),
                1,
                at("2026-09-01T12:00:05Z")
            ),
            Err(BookError::Malformed { .. })
        ));
        assert_eq!(
            b.best_bid(Side::Yes),
            Some((p("0.20"), c(10))),
            "a bad snapshot changes nothing"
        );
    }
}
