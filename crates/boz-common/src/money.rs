//! Exact fixed-point values for dollars, prices and contract counts.
//!
//! Kalshi sends these as strings ("0.5600", "10.00") with up to six decimals. We keep them as
//! [`rust_decimal::Decimal`] limited to six decimal places and a bounded magnitude, so parsing,
//! printing and arithmetic never lose a digit. `f64` is never used to hold them.
//!
//! JSON: the seed's schemas carry these fields as JSON numbers, so they serialise as numbers.
//! Deserialisation accepts a number or a string. A JSON number goes through serde's `f64` and is
//! read back from its shortest round-trip text, which is exact for the magnitudes allowed here
//! (at most 15 significant digits); anything with more than six decimals is rejected, not rounded.

use std::fmt;
use std::str::FromStr;

use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;
use serde::de::{self, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Most decimal places any fixed-point value may carry (Kalshi's `*_dollars` and `*_fp` fields).
pub const MAX_DECIMALS: u32 = 6;
/// Largest magnitude allowed (keeps every value within 15 significant digits).
const MAX_ABS: i64 = 1_000_000_000;

/// Why a fixed-point value was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FixedPointError {
    #[error("{0:?} is not a decimal number")]
    NotANumber(String),
    #[error("{0} has more than {MAX_DECIMALS} decimal places")]
    TooPrecise(String),
    #[error("{0} is outside the allowed magnitude (less than 1000000000)")]
    OutOfRange(String),
    #[error("{value} is {reason}")]
    Invalid { value: String, reason: &'static str },
    #[error("arithmetic overflow")]
    Overflow,
    #[error("{0} cannot be represented with {MAX_DECIMALS} decimal places")]
    Inexact(String),
}

fn check(d: Decimal) -> Result<Decimal, FixedPointError> {
    let d = d.normalize();
    if d.scale() > MAX_DECIMALS {
        return Err(FixedPointError::TooPrecise(d.to_string()));
    }
    if d.abs() >= Decimal::from(MAX_ABS) {
        return Err(FixedPointError::OutOfRange(d.to_string()));
    }
    Ok(d)
}

fn parse_decimal(s: &str) -> Result<Decimal, FixedPointError> {
    let t = s.trim();
    if t.is_empty() || t.contains(['e', 'E']) {
        return Err(FixedPointError::NotANumber(s.to_string()));
    }
    let d = Decimal::from_str(t).map_err(|_| FixedPointError::NotANumber(s.to_string()))?;
    check(d)
}

/// Prints `d` with at least `min_dp` decimals, more when needed to stay exact.
fn print(d: Decimal, min_dp: u32) -> String {
    let d = d.normalize();
    let dp = d.scale().max(min_dp) as usize;
    format!("{d:.dp$}")
}

macro_rules! fixed_point {
    ($(#[$doc:meta])* $name:ident, min_dp = $dp:expr, validate = $validate:expr) => {
        $(#[$doc])*
        #[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
        pub struct $name(Decimal);

        impl $name {
            /// Decimals printed at least (Kalshi's own formatting of this kind of value).
            pub const MIN_DECIMALS: u32 = $dp;

            /// Builds a value from a decimal, refusing more than six places or a bad range.
            pub fn new(d: Decimal) -> Result<Self, FixedPointError> {
                let d = check(d)?;
                let validate: fn(Decimal) -> Result<(), &'static str> = $validate;
                validate(d).map_err(|reason| FixedPointError::Invalid {
                    value: d.to_string(),
                    reason,
                })?;
                Ok(Self(d))
            }

            /// Parses Kalshi's string form ("0.5600", "10.00").
            pub fn parse(s: &str) -> Result<Self, FixedPointError> {
                Self::new(parse_decimal(s)?)
            }

            /// Builds a value from an integer number of millionths.
            pub fn from_micros(micros: i64) -> Result<Self, FixedPointError> {
                Self::new(Decimal::new(micros, MAX_DECIMALS))
            }

            /// The exact decimal value.
            pub fn as_decimal(&self) -> Decimal {
                self.0
            }

            /// The value in millionths (exact: at most six decimals and a magnitude below 10^9
            /// are ever held, so this always fits an i64).
            pub fn micros(&self) -> i64 {
                (self.0 * Decimal::from(1_000_000)).to_i64().unwrap_or(0)
            }

            /// Kalshi's string form, with at least the decimals Kalshi prints for this kind.
            pub fn to_kalshi_string(&self) -> String {
                print(self.0, $dp)
            }

            pub fn checked_add(self, other: $name) -> Result<$name, FixedPointError> {
                $name::new(self.0.checked_add(other.0).ok_or(FixedPointError::Overflow)?)
            }

            pub fn checked_sub(self, other: $name) -> Result<$name, FixedPointError> {
                $name::new(self.0.checked_sub(other.0).ok_or(FixedPointError::Overflow)?)
            }

            /// The nearest `f64`, for statistics and display only, never for arithmetic on money.
            pub fn to_f64_lossy(&self) -> f64 {
                self.0.to_f64().unwrap_or(f64::NAN)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.to_kalshi_string())
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({})", stringify!($name), self.to_kalshi_string())
            }
        }

        impl FromStr for $name {
            type Err = FixedPointError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Self::parse(s)
            }
        }

        impl TryFrom<Decimal> for $name {
            type Error = FixedPointError;
            fn try_from(d: Decimal) -> Result<Self, Self::Error> {
                Self::new(d)
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                // Exact: at most 15 significant digits, printed by serde_json's shortest round-trip.
                match self.0.to_f64() {
                    Some(v) => s.serialize_f64(v),
                    None => Err(serde::ser::Error::custom("fixed-point value out of range")),
                }
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let dec = d.deserialize_any(DecimalVisitor)?;
                Self::new(dec).map_err(de::Error::custom)
            }
        }
    };
}

struct DecimalVisitor;

impl Visitor<'_> for DecimalVisitor {
    type Value = Decimal;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a decimal number or a decimal string")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Decimal, E> {
        parse_decimal(v).map_err(E::custom)
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Decimal, E> {
        check(Decimal::from(v)).map_err(E::custom)
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Decimal, E> {
        check(Decimal::from(v)).map_err(E::custom)
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Decimal, E> {
        if !v.is_finite() {
            return Err(E::custom(format!("{v} is not a finite number")));
        }
        // `{}` on f64 prints the shortest text that reads back as the same f64, so "0.56" in the
        // JSON comes back as exactly 0.56.
        parse_decimal(&format!("{v}")).map_err(E::custom)
    }
}

fixed_point!(
    /// An amount of money in US dollars (may be negative: a loss). Kalshi prints two decimals.
    Dollars,
    min_dp = 2,
    validate = |_| Ok(())
);

fixed_point!(
    /// A contract price in dollars, strictly inside (0, 1). Kalshi prints four decimals.
    Price,
    min_dp = 4,
    validate = |d| {
        if d > Decimal::ZERO && d < Decimal::ONE {
            Ok(())
        } else {
            Err("not strictly between 0 and 1")
        }
    }
);

fixed_point!(
    /// A number of contracts (fractional fills happen), never negative. Kalshi prints two decimals.
    Count,
    min_dp = 2,
    validate = |d| {
        if d >= Decimal::ZERO {
            Ok(())
        } else {
            Err("negative")
        }
    }
);

impl Dollars {
    pub const ZERO: Dollars = Dollars(Decimal::ZERO);

    pub fn is_positive(&self) -> bool {
        self.0 > Decimal::ZERO
    }

    pub fn is_negative(&self) -> bool {
        self.0 < Decimal::ZERO
    }

    /// Rounds up to the next whole cent (Kalshi rounds fees up to the cent).
    pub fn ceil_to_cent(self) -> Dollars {
        let cents = (self.0 * Decimal::ONE_HUNDRED).ceil();
        Dollars(cents / Decimal::ONE_HUNDRED).normalized()
    }

    fn normalized(self) -> Dollars {
        Dollars(self.0.normalize())
    }
}

impl Price {
    /// The complementary price (a YES price of 0.56 is a NO price of 0.44).
    pub fn complement(self) -> Price {
        Price((Decimal::ONE - self.0).normalize())
    }

    /// What `count` contracts cost at this price, exactly.
    pub fn cost(self, count: Count) -> Result<Dollars, FixedPointError> {
        let product = self
            .0
            .checked_mul(count.0)
            .ok_or(FixedPointError::Overflow)?;
        let normal = product.normalize();
        if normal.scale() > MAX_DECIMALS {
            return Err(FixedPointError::Inexact(normal.to_string()));
        }
        Dollars::new(normal)
    }
}

impl Count {
    pub const ZERO: Count = Count(Decimal::ZERO);

    /// A whole number of contracts.
    pub fn whole(n: u32) -> Count {
        Count(Decimal::from(n))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn parses_and_prints_kalshi_strings_without_loss() {
        assert_eq!(Price::parse("0.5600").unwrap().to_kalshi_string(), "0.5600");
        assert_eq!(
            Price::parse("0.123456").unwrap().to_kalshi_string(),
            "0.123456"
        );
        assert_eq!(Count::parse("10.00").unwrap().to_kalshi_string(), "10.00");
        assert_eq!(Count::parse("2.5").unwrap().to_kalshi_string(), "2.50");
        assert_eq!(
            Dollars::parse("-12.345678").unwrap().to_string(),
            "-12.345678"
        );
        assert_eq!(Dollars::parse("100").unwrap().to_string(), "100.00");
        assert_eq!(Price::parse("0.56").unwrap().micros(), 560_000);
    }

    #[test]
    fn rejects_what_cannot_be_held_exactly() {
        assert!(matches!(
            Price::parse("0.1234567"),
            Err(FixedPointError::TooPrecise(_))
        ));
        assert!(matches!(
            Price::parse("abc"),
            Err(FixedPointError::NotANumber(_))
        ));
        assert!(matches!(
            Price::parse("1e-2"),
            Err(FixedPointError::NotANumber(_))
        ));
        assert!(matches!(
            Price::parse(""),
            Err(FixedPointError::NotANumber(_))
        ));
        assert!(matches!(
            Price::parse("1.00"),
            Err(FixedPointError::Invalid { .. })
        ));
        assert!(matches!(
            Price::parse("0"),
            Err(FixedPointError::Invalid { .. })
        ));
        assert!(matches!(
            Count::parse("-1"),
            Err(FixedPointError::Invalid { .. })
        ));
        assert!(matches!(
            Dollars::parse("1000000000"),
            Err(FixedPointError::OutOfRange(_))
        ));
    }

    #[test]
    fn checked_arithmetic() {
        let a = Dollars::parse("10.00").unwrap();
        let b = Dollars::parse("0.07").unwrap();
        assert_eq!(a.checked_sub(b).unwrap().to_string(), "9.93");
        assert_eq!(a.checked_add(b).unwrap().to_string(), "10.07");
        let big = Dollars::parse("999999999").unwrap();
        assert!(big.checked_add(big).is_err());
        let p = Price::parse("0.56").unwrap();
        assert_eq!(p.complement().to_kalshi_string(), "0.4400");
        assert_eq!(p.cost(Count::whole(3)).unwrap().to_string(), "1.68");
        assert_eq!(
            Price::parse("0.123457")
                .unwrap()
                .cost(Count::parse("0.5").unwrap()),
            Err(FixedPointError::Inexact("0.0617285".into()))
        );
        assert_eq!(
            Dollars::parse("0.0172").unwrap().ceil_to_cent().to_string(),
            "0.02"
        );
        assert_eq!(
            Dollars::parse("0.02").unwrap().ceil_to_cent().to_string(),
            "0.02"
        );
    }

    #[test]
    fn json_is_a_number_in_the_seed_shape_and_strings_are_accepted() {
        let p: Price = serde_json::from_str("0.56").unwrap();
        assert_eq!(serde_json::to_string(&p).unwrap(), "0.56");
        let p: Price = serde_json::from_str("\"0.5600\"").unwrap();
        assert_eq!(p.to_kalshi_string(), "0.5600");
        let c: Count = serde_json::from_str("3").unwrap();
        assert_eq!(c, Count::whole(3));
        let err = serde_json::from_str::<Price>("1.5")
            .unwrap_err()
            .to_string();
        assert!(err.contains("not strictly between 0 and 1"), "{err}");
        assert!(serde_json::from_str::<Price>("0.1234567").is_err());
    }

    proptest! {
        #[test]
        fn string_round_trip_is_exact(micros in -999_999_999_999_999i64..999_999_999_999_999i64) {
            let d = Dollars::from_micros(micros).unwrap();
            let back = Dollars::parse(&d.to_kalshi_string()).unwrap();
            prop_assert_eq!(d, back);
            prop_assert_eq!(back.micros(), micros);
        }

        #[test]
        fn json_round_trip_is_exact(micros in -999_999_999_999_999i64..999_999_999_999_999i64) {
            let d = Dollars::from_micros(micros).unwrap();
            let json = serde_json::to_string(&d).unwrap();
            let back: Dollars = serde_json::from_str(&json).unwrap();
            prop_assert_eq!(back.micros(), micros);
        }
    }
}
