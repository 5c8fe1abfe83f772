//! Executable prices and expected value.
//!
//! Buying YES pays the ask (1 − the best NO bid); buying NO pays 1 − the best YES bid. EV per
//! contract = probability the side wins − price − Kalshi's fee for the whole order ÷ contracts
//! (the fee is rounded up to the cent per order, so small orders pay more per contract).

use boz_common::fees::{FeeSchedule, Liquidity};
use boz_common::ports::{MarketEvent, TopOfBook};
use boz_common::schemas::{BracketPrediction, BracketProbability, Side};
use boz_common::{BozError, Count, Dollars, Price};
use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;
use serde::Serialize;

/// One side of one bracket that can be bought now.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Opportunity {
    pub ticker: String,
    /// Index of the bracket in the event's ladder (low tail first).
    pub index: usize,
    pub bracket: BracketProbability,
    pub side: Side,
    /// The executable price of the side bought.
    pub price: Price,
    /// Contracts offered at that price.
    pub available: Count,
    /// The model's probability that the side bought wins.
    pub probability: f64,
    /// The YES mid of the bracket, when both sides are quoted (the market's probability).
    pub market_probability: f64,
}

impl Opportunity {
    /// Which outcomes (brackets) this side wins in.
    pub fn wins(&self, brackets: usize) -> Vec<bool> {
        (0..brackets)
            .map(|k| (k == self.index) == (self.side == Side::Yes))
            .collect()
    }
}

/// Fee and all-in cost per contract for an order of `count` at `price`.
pub fn all_in(fees: &FeeSchedule, price: Price, count: Count) -> Result<(Dollars, f64), BozError> {
    let fee = fees
        .fee(price, count, Liquidity::Taker)
        .map_err(|e| BozError::invalid_order(e.to_string()))?;
    let per = if count.as_decimal().is_zero() {
        Decimal::ZERO
    } else {
        fee.as_decimal() / count.as_decimal()
    };
    let cost = (price.as_decimal() + per).to_f64().unwrap_or(f64::MAX);
    Ok((fee, cost))
}

/// EV per contract of buying `count` at `price` with win probability `q`.
pub fn ev_per_contract(
    fees: &FeeSchedule,
    q: f64,
    price: Price,
    count: Count,
) -> Result<f64, BozError> {
    let (_, cost) = all_in(fees, price, count)?;
    Ok(q - cost)
}

fn complement(p: Price) -> Option<Price> {
    Price::new(Decimal::ONE - p.as_decimal()).ok()
}

/// Both sides of every bracket that has a price, matched to the prediction by bounds.
pub fn opportunities(
    prediction: &BracketPrediction,
    event: &MarketEvent,
    books: &[TopOfBook],
) -> Result<Vec<Opportunity>, BozError> {
    let mut out = Vec::new();
    if prediction.brackets.len() != event.brackets.len() {
        return Err(BozError::invalid_order(format!(
            "the prediction has {} brackets but event {} has {}",
            prediction.brackets.len(),
            event.event_ticker,
            event.brackets.len()
        )));
    }
    for (index, (b, m)) in prediction.brackets.iter().zip(&event.brackets).enumerate() {
        let bounds = (
            b.lower_bound_f.map(|v| v as i32),
            b.upper_bound_f.map(|v| v as i32),
        );
        if bounds != (m.lower_bound_f, m.upper_bound_f) {
            return Err(BozError::invalid_order(format!(
                "bracket {} of the prediction does not match market {}",
                b.bracket_label, m.ticker
            )));
        }
        let Some(book) = books.iter().find(|t| t.ticker == m.ticker) else {
            continue;
        };
        let yes_ask = book.no_bid.and_then(complement);
        let no_ask = book.yes_bid.and_then(complement);
        let market_probability = match (book.yes_bid, yes_ask) {
            (Some(bid), Some(ask)) => ((bid.as_decimal() + ask.as_decimal()) / Decimal::TWO)
                .to_f64()
                .unwrap_or(f64::NAN),
            _ => f64::NAN,
        };
        let q = b.probability;
        if let Some(price) = yes_ask {
            out.push(Opportunity {
                ticker: m.ticker.clone(),
                index,
                bracket: b.clone(),
                side: Side::Yes,
                price,
                available: book.no_bid_size,
                probability: q,
                market_probability,
            });
        }
        if let Some(price) = no_ask {
            out.push(Opportunity {
                ticker: m.ticker.clone(),
                index,
                bracket: b.clone(),
                side: Side::No,
                price,
                available: book.yes_bid_size,
                probability: 1.0 - q,
                market_probability,
            });
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> Price {
        Price::parse(s).unwrap()
    }

    fn c(n: i64) -> Count {
        Count::new(Decimal::from(n)).unwrap()
    }

    #[test]
    fn fee_table_against_the_formula() {
        // (price, contracts, fee): ceil to the cent of 0.07 × C × P × (1 − P)
        let table = [
            ("0.50", 1, "0.02"),   // 1.75¢ rounds up
            ("0.50", 100, "1.75"), // the maximum per contract
            ("0.05", 100, "0.34"), // 0.3325
            ("0.10", 100, "0.63"),
            ("0.30", 100, "1.47"),
            ("0.01", 1, "0.01"),  // any fee is at least a cent
            ("0.99", 10, "0.01"), // 0.00693
            ("0.36", 7, "0.12"),  // 0.112896
            ("0.50", 4, "0.07"),
        ];
        for (price, n, fee) in table {
            let (f, _) = all_in(&FeeSchedule::WEATHER, p(price), c(n)).unwrap();
            assert_eq!(f, Dollars::parse(fee).unwrap(), "{price} × {n}");
        }
    }

    #[test]
    fn ev_signs_and_values() {
        // q = 0.36 at 0.30 for 100: fee 1.47, cost 0.3147, EV +0.0453
        let ev = ev_per_contract(&FeeSchedule::WEATHER, 0.36, p("0.30"), c(100)).unwrap();
        assert!((ev - 0.0453).abs() < 1e-12);
        // buying NO at 1 − bid 0.70 = 0.30 with model YES 0.64: NO wins 0.36, same EV
        let ev_no = ev_per_contract(&FeeSchedule::WEATHER, 1.0 - 0.64, p("0.30"), c(100)).unwrap();
        assert!((ev_no - ev).abs() < 1e-12);
        // a fair price loses the fee
        assert!(ev_per_contract(&FeeSchedule::WEATHER, 0.5, p("0.50"), c(1)).unwrap() < 0.0);
        // one contract pays 1.47¢ rounded up to 2¢ of fee
        let small = ev_per_contract(&FeeSchedule::WEATHER, 0.36, p("0.30"), c(1)).unwrap();
        assert!((small - (0.36 - 0.32)).abs() < 1e-12);
    }
}
