//! Kalshi's market history read for backtests: hourly candlesticks as recorded quotes, and the
//! trades printed on a market.
//!
//! Both the current fixed-point fields (`yes_bid.close_dollars`, `count_fp`,
//! `yes_price_dollars`) and the legacy integer-cent fields of older responses (`yes_bid.close`,
//! `count`, `yes_price`) are read; a value that is neither is a malformed response, named.
//! An empty side of the book shows as a 0.00 bid or a 1.00 ask in a candle: that is "no
//! quote", kept as `None`, never as a price.

use boz_common::{Count, Price};
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde_json::Value;

use crate::rest::KalshiError;

/// One hourly candle of a market, as a quote at its close.
#[derive(Debug, Clone, PartialEq)]
pub struct CandleQuote {
    /// The inclusive end of the period: the quote is known from then.
    pub end: DateTime<Utc>,
    pub yes_bid: Option<Price>,
    pub yes_ask: Option<Price>,
    /// The last traded price in the period (none without a trade).
    pub last_price: Option<Price>,
    /// Contracts traded in the period.
    pub volume: Option<Count>,
}

/// One trade printed on a market.
#[derive(Debug, Clone, PartialEq)]
pub struct PrintedTrade {
    pub trade_id: String,
    pub ticker: String,
    pub created_time: DateTime<Utc>,
    pub yes_price: Price,
    pub count: Count,
    pub taker_side: Option<String>,
}

fn bad(path: &str, reason: String) -> KalshiError {
    KalshiError::Malformed {
        path: path.to_string(),
        reason,
    }
}

/// A decimal from `<name>_dollars`/`<name>_fp` (string) or the legacy `<name>` (integer cents
/// when `cents`, else a plain number); `None` when absent or null.
fn decimal(
    v: &Value,
    name: &str,
    suffix: &str,
    cents: bool,
    path: &str,
) -> Result<Option<Decimal>, KalshiError> {
    let modern = format!("{name}{suffix}");
    if let Some(s) = v.get(&modern).filter(|x| !x.is_null()) {
        let text = s
            .as_str()
            .map(str::to_string)
            .unwrap_or_else(|| s.to_string());
        return text
            .parse::<Decimal>()
            .map(Some)
            .map_err(|e| bad(path, format!("{modern} {s}: {e}")));
    }
    match v.get(name).filter(|x| !x.is_null()) {
        None => Ok(None),
        Some(n) => {
            let d = n
                .as_i64()
                .map(Decimal::from)
                .or_else(|| n.as_str().and_then(|s| s.parse::<Decimal>().ok()))
                .ok_or_else(|| bad(path, format!("{name} {n}: not a number")))?;
            Ok(Some(if cents { d / Decimal::ONE_HUNDRED } else { d }))
        }
    }
}

/// A quoted price; 0 and 1 (an empty side) are no quote.
fn quote(d: Option<Decimal>, what: &str, path: &str) -> Result<Option<Price>, KalshiError> {
    match d {
        None => Ok(None),
        Some(d) if d <= Decimal::ZERO || d >= Decimal::ONE => Ok(None),
        Some(d) => Price::new(d)
            .map(Some)
            .map_err(|e| bad(path, format!("{what} {d}: {e}"))),
    }
}

/// The candles of a `.../candlesticks` response, oldest first.
pub fn candles_from_api(path: &str, response: &Value) -> Result<Vec<CandleQuote>, KalshiError> {
    let list = response
        .get("candlesticks")
        .and_then(Value::as_array)
        .ok_or_else(|| bad(path, "no candlesticks list".into()))?;
    let mut out = Vec::with_capacity(list.len());
    for (i, c) in list.iter().enumerate() {
        let at = |what: &str| format!("candlestick {i}: {what}");
        let end = c
            .get("end_period_ts")
            .and_then(Value::as_i64)
            .and_then(|s| DateTime::<Utc>::from_timestamp(s, 0))
            .ok_or_else(|| bad(path, at("no end_period_ts")))?;
        let close = |side: &str| -> Result<Option<Decimal>, KalshiError> {
            match c.get(side) {
                Some(o) if o.is_object() => decimal(o, "close", "_dollars", true, path),
                None | Some(Value::Null) => Ok(None),
                Some(other) => Err(bad(path, at(&format!("{side} is {other}")))),
            }
        };
        let volume = decimal(c, "volume", "_fp", false, path)?
            .map(|d| Count::new(d).map_err(|e| bad(path, at(&format!("volume {d}: {e}")))))
            .transpose()?;
        out.push(CandleQuote {
            end,
            yes_bid: quote(close("yes_bid")?, &at("yes_bid.close"), path)?,
            yes_ask: quote(close("yes_ask")?, &at("yes_ask.close"), path)?,
            last_price: quote(close("price")?, &at("price.close"), path)?,
            volume,
        });
    }
    out.sort_by_key(|c| c.end);
    Ok(out)
}

/// A market's last traded price and volume as its listing gives them (`last_price_dollars` /
/// `volume_fp`, or the legacy cents and count); `None` where absent, or no trade.
pub fn listing_totals(
    path: &str,
    market: &Value,
) -> Result<(Option<Price>, Option<Count>), KalshiError> {
    let last = quote(
        decimal(market, "last_price", "_dollars", true, path)?,
        "last_price",
        path,
    )?;
    let volume = decimal(market, "volume", "_fp", false, path)?
        .map(|d| Count::new(d).map_err(|e| bad(path, format!("volume {d}: {e}"))))
        .transpose()?;
    Ok((last, volume))
}

/// One element of a `.../trades` list.
pub fn trade_from_api(path: &str, t: &Value) -> Result<PrintedTrade, KalshiError> {
    let text = |name: &str| -> Result<String, KalshiError> {
        t.get(name)
            .and_then(Value::as_str)
            .map(str::to_string)
            .ok_or_else(|| bad(path, format!("a trade without {name}: {t}")))
    };
    let trade_id = text("trade_id")?;
    let at = |what: String| bad(path, format!("trade {trade_id}: {what}"));
    let created = text("created_time")?;
    let created_time = DateTime::parse_from_rfc3339(&created)
        .map_err(|e| at(format!("created_time {created}: {e}")))?
        .with_timezone(&Utc);
    let price = decimal(t, "yes_price", "_dollars", true, path)?
        .ok_or_else(|| at("no yes_price".into()))?;
    let yes_price = Price::new(price).map_err(|e| at(format!("yes_price {price}: {e}")))?;
    let count = decimal(t, "count", "_fp", false, path)?.ok_or_else(|| at("no count".into()))?;
    let count = Count::new(count).map_err(|e| at(format!("count {count}: {e}")))?;
    if count.as_decimal() <= Decimal::ZERO {
        return Err(at("count is zero".into()));
    }
    let taker_side = t
        .get("taker_side")
        .or_else(|| t.get("taker_outcome_side"))
        .and_then(Value::as_str)
        .map(str::to_string);
    Ok(PrintedTrade {
        trade_id,
        ticker: text("ticker")?,
        created_time,
        yes_price,
        count,
        taker_side,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn candles_read_fixed_point_and_legacy_cents_and_drop_empty_sides() {
        let v = json!({"ticker": "T", "candlesticks": [
            {"end_period_ts": 1723770000, "yes_bid": {"close_dollars": "0.4100"},
             "yes_ask": {"close_dollars": "0.4400"}, "price": {"close_dollars": null},
             "volume_fp": "12.00", "open_interest_fp": "30.00"},
            {"end_period_ts": 1723766400, "yes_bid": {"close": 0}, "yes_ask": {"close": 100},
             "price": {"close": 7}, "volume": 3},
        ]});
        let c = candles_from_api("/c", &v).unwrap();
        assert_eq!(c.len(), 2);
        assert_eq!(c[0].end.timestamp(), 1723766400, "oldest first");
        assert_eq!(
            (c[0].yes_bid, c[0].yes_ask),
            (None, None),
            "0/100 is no quote"
        );
        assert_eq!(c[0].last_price, Some(Price::parse("0.07").unwrap()));
        assert_eq!(c[1].yes_bid, Some(Price::parse("0.41").unwrap()));
        assert_eq!(c[1].yes_ask, Some(Price::parse("0.44").unwrap()));
        assert_eq!(c[1].last_price, None);
        assert_eq!(c[1].volume, Some(Count::parse("12").unwrap()));
        let e = candles_from_api("/c", &json!({"candlesticks": [{"yes_bid": {}}]})).unwrap_err();
        assert!(
            e.to_string().contains("candlestick 0: no end_period_ts"),
            "{e}"
        );
        let e = candles_from_api(
            "/c",
            &json!({"candlesticks": [{"end_period_ts": 1, "yes_bid": {"close_dollars": "x"}}]}),
        )
        .unwrap_err();
        assert!(e.to_string().contains("close_dollars"), "{e}");
    }

    #[test]
    fn trades_read_both_shapes_and_name_what_is_wrong() {
        let t = trade_from_api(
            "/t",
            &json!({"trade_id": "a", "ticker": "T", "created_time": "2024-08-15T20:00:00.123Z",
                    "count_fp": "2.50", "yes_price_dollars": "0.4150", "taker_outcome_side": "no"}),
        )
        .unwrap();
        assert_eq!(t.count, Count::parse("2.5").unwrap());
        assert_eq!(t.yes_price, Price::parse("0.415").unwrap());
        assert_eq!(t.taker_side.as_deref(), Some("no"));
        let legacy = trade_from_api(
            "/t",
            &json!({"trade_id": "b", "ticker": "T", "created_time": "2024-08-15T20:00:00Z",
                    "count": 4, "yes_price": 41, "taker_side": "yes"}),
        )
        .unwrap();
        assert_eq!(legacy.yes_price, Price::parse("0.41").unwrap());
        assert_eq!(legacy.count, Count::parse("4").unwrap());
        assert_eq!(
            listing_totals("/m", &json!({"last_price": 1, "volume": 136})).unwrap(),
            (
                Some(Price::parse("0.01").unwrap()),
                Some(Count::parse("136").unwrap())
            )
        );
        assert_eq!(
            listing_totals(
                "/m",
                &json!({"last_price_dollars": "0.9900", "volume_fp": "5.00"})
            )
            .unwrap(),
            (
                Some(Price::parse("0.99").unwrap()),
                Some(Count::parse("5").unwrap())
            )
        );
        for (bad_trade, says) in [
            (json!({"ticker": "T"}), "without trade_id"),
            (
                json!({"trade_id": "c", "ticker": "T", "created_time": "yesterday", "count": 1, "yes_price": 5}),
                "trade c: created_time yesterday",
            ),
            (
                json!({"trade_id": "d", "ticker": "T", "created_time": "2024-08-15T20:00:00Z", "count": 1, "yes_price": 100}),
                "trade d: yes_price 1",
            ),
            (
                json!({"trade_id": "e", "ticker": "T", "created_time": "2024-08-15T20:00:00Z", "count": 0, "yes_price": 5}),
                "trade e: count is zero",
            ),
        ] {
            let e = trade_from_api("/t", &bad_trade).unwrap_err().to_string();
            assert!(e.contains(says), "{e} should say {says}");
        }
    }
}
