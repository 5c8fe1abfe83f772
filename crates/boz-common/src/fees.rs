//! Kalshi's trading fee, the one formula every module uses (pre-trade EV, the paper exchange).
//!
//! Taker fee = ceil to the cent of 0.07 × C × P × (1 − P) × `fee_multiplier` (at most 1.75¢ a
//! contract, at P = 0.50). A maker fee of 0.0175 × ... (0.25 of the taker rate; 0.5 for combo
//! series) applies only where the series' `fee_type` includes maker fees; weather series are
//! `quadratic`, taker only. `flat` series use another table this project does not trade, so they
//! are refused rather than guessed. P&L always uses the fees the fills report.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::money::{Count, Dollars, FixedPointError, Price};

/// A series' `fee_type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FeeType {
    Quadratic,
    QuadraticWithMakerFees,
    QuadraticWithComboMakerFees,
    Flat,
}

/// How fees are charged on one series (or event, with its overrides).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FeeSchedule {
    pub fee_type: FeeType,
    pub fee_multiplier: Decimal,
}

/// Why a fee could not be computed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FeeError {
    #[error("fee_type flat is not supported: its table is not Kalshi's quadratic formula")]
    FlatUnsupported,
    #[error("fee arithmetic: {0}")]
    Arithmetic(#[from] FixedPointError),
}

/// Who took liquidity.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Liquidity {
    Taker,
    Maker,
}

const TAKER_RATE: Decimal = Decimal::from_parts(7, 0, 0, false, 2); // 0.07

impl FeeSchedule {
    /// Weather series as recorded: quadratic, multiplier 1.
    pub const WEATHER: FeeSchedule = FeeSchedule {
        fee_type: FeeType::Quadratic,
        fee_multiplier: Decimal::ONE,
    };

    fn rate(&self, liquidity: Liquidity) -> Result<Decimal, FeeError> {
        let maker_share = match (self.fee_type, liquidity) {
            (FeeType::Flat, _) => return Err(FeeError::FlatUnsupported),
            (_, Liquidity::Taker) => Decimal::ONE,
            (FeeType::Quadratic, Liquidity::Maker) => Decimal::ZERO,
            (FeeType::QuadraticWithMakerFees, Liquidity::Maker) => Decimal::new(25, 2),
            (FeeType::QuadraticWithComboMakerFees, Liquidity::Maker) => Decimal::new(5, 1),
        };
        Ok(TAKER_RATE * maker_share * self.fee_multiplier)
    }

    /// The fee for `count` contracts at `price` in one order (or fill), rounded up to the cent.
    pub fn fee(
        &self,
        price: Price,
        count: Count,
        liquidity: Liquidity,
    ) -> Result<Dollars, FeeError> {
        let p = price.as_decimal();
        let raw = self.rate(liquidity)? * count.as_decimal() * p * (Decimal::ONE - p);
        let cents = (raw * Decimal::ONE_HUNDRED).ceil();
        Ok(Dollars::new(cents / Decimal::ONE_HUNDRED)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fee(p: &str, c: u32) -> String {
        FeeSchedule::WEATHER
            .fee(Price::parse(p).unwrap(), Count::whole(c), Liquidity::Taker)
            .unwrap()
            .to_string()
    }

    #[test]
    fn taker_fee_table() {
        // 0.07 × C × P × (1 − P), rounded up to the cent.
        assert_eq!(fee("0.50", 1), "0.02"); // 0.0175
        assert_eq!(fee("0.50", 100), "1.75"); // the maximum, 1.75¢ a contract
        assert_eq!(fee("0.50", 4), "0.07"); // 0.07 exactly
        assert_eq!(fee("0.22", 4), "0.05"); // 0.048048
        assert_eq!(fee("0.01", 1), "0.01"); // 0.000693
        assert_eq!(fee("0.99", 100), "0.07"); // 0.0693
        assert_eq!(fee("0.10", 10), "0.07"); // 0.063
        assert_eq!(fee("0.30", 10), "0.15"); // 0.147
        assert_eq!(fee("0.0001", 1), "0.01"); // sub-cent price still rounds up
    }

    #[test]
    fn maker_fees_and_multipliers() {
        let p = Price::parse("0.50").unwrap();
        let c = Count::whole(100);
        assert_eq!(
            FeeSchedule::WEATHER.fee(p, c, Liquidity::Maker).unwrap(),
            Dollars::ZERO
        );
        let with_maker = FeeSchedule {
            fee_type: FeeType::QuadraticWithMakerFees,
            fee_multiplier: Decimal::ONE,
        };
        assert_eq!(
            with_maker.fee(p, c, Liquidity::Maker).unwrap().to_string(),
            "0.44"
        ); // 0.4375
        let doubled = FeeSchedule {
            fee_type: FeeType::Quadratic,
            fee_multiplier: Decimal::TWO,
        };
        assert_eq!(
            doubled.fee(p, c, Liquidity::Taker).unwrap().to_string(),
            "3.50"
        );
        let flat = FeeSchedule {
            fee_type: FeeType::Flat,
            fee_multiplier: Decimal::ONE,
        };
        assert_eq!(
            flat.fee(p, c, Liquidity::Taker),
            Err(FeeError::FlatUnsupported)
        );
        let fractional = FeeSchedule::WEATHER
            .fee(p, Count::parse("0.5").unwrap(), Liquidity::Taker)
            .unwrap();
        assert_eq!(fractional.to_string(), "0.01"); // 0.00875
    }
}
