//! Exact money types.
//!
//! Every price, quantity, balance, budget and fee is a [`rust_decimal::Decimal`] wrapped in a
//! newtype that says what it measures. There is no `f64` anywhere on a money path.
//!
//! | type | measures | may be negative |
//! |---|---|---|
//! | [`Quote`] | an amount of the pair's quote asset (budgets, balances, P&L) | yes (P&L) |
//! | [`Price`] | quote asset per unit of base asset | no |
//! | [`Qty`] | an amount of an asset (order size, fee) | no |
//! | [`Percent`] | a percentage, `5` meaning 5 % | no |
//!
//! Operations exist only where they make sense and a caller needs them:
//!
//! | operation | result |
//! |---|---|
//! | `Quote + Quote`, `Sum<Quote>` | `Quote` |
//!
//! A `Quote` never adds to a `Price` or a `Percent`; mixing them does not compile.

use std::{fmt, iter::Sum, ops::Add, str::FromStr};

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// Most fractional digits accepted in a decimal input; beyond this the input is refused
/// rather than silently rounded.
pub const MAX_SCALE: u32 = 18;

/// Parses a plain decimal number ("12", "-0.5", "100.25"); no exponent, no thousands
/// separators, at most [`MAX_SCALE`] fractional digits.
///
/// # Errors
/// A human-readable reason when the text is not such a number.
pub fn parse_decimal(text: &str) -> Result<Decimal, String> {
    let trimmed = text.trim();
    let plain = !trimmed.is_empty()
        && trimmed
            .chars()
            .enumerate()
            .all(|(i, c)| c.is_ascii_digit() || c == '.' || (i == 0 && (c == '-' || c == '+')));
    if !plain {
        return Err(format!("'{text}' is not a decimal number"));
    }
    let value = Decimal::from_str(trimmed).map_err(|_| format!("'{text}' is not a decimal number"))?;
    if value.scale() > MAX_SCALE {
        return Err(format!("'{text}' has more than {MAX_SCALE} decimal places"));
    }
    Ok(value.normalize())
}

/// Defines a decimal newtype with exact text parsing and canonical display.
macro_rules! decimal_newtype {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(Decimal);

        impl $name {
            /// Zero.
            pub const ZERO: Self = Self(Decimal::ZERO);

            /// Wraps an exact decimal value.
            #[must_use]
            pub const fn new(value: Decimal) -> Self {
                Self(value)
            }

            /// The value as a decimal.
            #[must_use]
            pub const fn value(self) -> Decimal {
                self.0
            }
        }

        impl FromStr for $name {
            type Err = String;

            fn from_str(text: &str) -> Result<Self, String> {
                parse_decimal(text).map(Self)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.normalize().fmt(f)
            }
        }
    };
}

decimal_newtype!(
    /// An amount of a pair's quote asset (USDT for BTC/USDT): budgets, balances, P&L.
    Quote
);
decimal_newtype!(
    /// A price: quote asset per one unit of base asset.
    Price
);
decimal_newtype!(
    /// A quantity of an asset (the base asset of an order, or a fee's asset).
    Qty
);
decimal_newtype!(
    /// A percentage: `Percent(5)` is 5 %.
    Percent
);

impl Add for Quote {
    type Output = Self;

    fn add(self, rhs: Self) -> Self {
        Self(self.0 + rhs.0)
    }
}

impl Sum for Quote {
    fn sum<I: Iterator<Item = Self>>(iter: I) -> Self {
        iter.fold(Self::ZERO, Add::add)
    }
}

/// An accepted range of decimal values, used to validate inputs and to describe the range in
/// error messages and schemas.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DecimalRange {
    /// Lower bound.
    pub min: Decimal,
    /// Whether `min` itself is accepted (`false` means "greater than min").
    pub min_inclusive: bool,
    /// Inclusive upper bound.
    pub max: Decimal,
}

impl DecimalRange {
    /// `(min, max]`: strictly above `min`, at most `max`.
    #[must_use]
    pub const fn above(min: Decimal, max: Decimal) -> Self {
        Self { min, min_inclusive: false, max }
    }

    /// `[min, max]`.
    #[must_use]
    pub const fn between(min: Decimal, max: Decimal) -> Self {
        Self { min, min_inclusive: true, max }
    }

    /// Whether `value` lies in the range.
    #[must_use]
    pub fn contains(&self, value: Decimal) -> bool {
        let above_min = if self.min_inclusive { value >= self.min } else { value > self.min };
        above_min && value <= self.max
    }

    /// The range in words, e.g. "greater than 0 and at most 100".
    #[must_use]
    pub fn describe(&self) -> String {
        let lower = if self.min_inclusive { "at least" } else { "greater than" };
        format!("{lower} {} and at most {}", self.min.normalize(), self.max.normalize())
    }

    /// Parses `text` and checks it against the range.
    ///
    /// # Errors
    /// A reason naming the accepted range when the text is not a number in range.
    pub fn parse(&self, text: &str) -> Result<Decimal, String> {
        let value = parse_decimal(text).map_err(|e| format!("{e}; expected a number {}", self.describe()))?;
        if self.contains(value) {
            Ok(value)
        } else {
            Err(format!("{value} is out of range; expected a number {}", self.describe()))
        }
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use rust_decimal_macros::dec;

    use super::*;

    #[test]
    fn parses_plain_decimals_exactly() {
        assert_eq!(parse_decimal("100.10").unwrap(), dec!(100.1));
        assert_eq!(parse_decimal(" -0.5 ").unwrap(), dec!(-0.5));
        assert_eq!("0.30".parse::<Quote>().unwrap().to_string(), "0.3");
    }

    #[test]
    fn refuses_non_plain_numbers() {
        for bad in ["", "abc", "1e5", "1,000", "NaN", "--1", "1.2.3", "0.1234567890123456789"] {
            assert!(parse_decimal(bad).is_err(), "{bad} should be refused");
        }
    }

    #[test]
    fn range_checks_and_describes_bounds() {
        let range = DecimalRange::above(dec!(0), dec!(100));
        assert!(!range.contains(dec!(0)));
        assert!(range.contains(dec!(100)));
        assert_eq!(
            range.parse("150").unwrap_err(),
            "150 is out of range; expected a number greater than 0 and at most 100"
        );
        assert!(DecimalRange::between(dec!(0), dec!(1)).contains(dec!(0)));
    }

    proptest! {
        /// Decimal text round-trips exactly through parse and display.
        #[test]
        fn quote_text_round_trips(mantissa in any::<i64>(), scale in 0u32..=MAX_SCALE) {
            let value = Decimal::new(mantissa, scale);
            let quote: Quote = value.to_string().parse().unwrap();
            prop_assert_eq!(quote.value(), value);
            let again: Quote = quote.to_string().parse().unwrap();
            prop_assert_eq!(again, quote);
        }
    }
}
