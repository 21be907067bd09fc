//! A venue's trading rules for one symbol, and the rounding and checks every order passes
//! before it is sent.
//!
//! Rounding is explicit and always in the safe direction: quantities round down (never more
//! than intended), buy prices round down and sell prices round up (never a worse price than
//! intended).

use rust_decimal::{Decimal, RoundingStrategy};

use crate::{
    money::{Price, Qty, Quote},
    pair::Pair,
};

/// Precision and minimums of one symbol.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SymbolRules {
    /// Pair the rules apply to.
    pub pair: Pair,
    /// Decimal places of a price.
    pub price_scale: u32,
    /// Decimal places of a base quantity.
    pub qty_scale: u32,
    /// Smallest base quantity of an order.
    pub min_qty: Qty,
    /// Smallest quote value (price × quantity, or quote amount) of an order.
    pub min_notional: Quote,
}

/// Why an order does not meet a symbol's rules.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RuleViolation {
    /// The quantity, after rounding down to the symbol's precision, is below the minimum.
    #[error("quantity {qty} {pair} is below the minimum order quantity {min}")]
    QuantityTooSmall {
        /// Pair ordered.
        pair: Pair,
        /// Rounded quantity.
        qty: Qty,
        /// Venue minimum.
        min: Qty,
    },
    /// The order's value is below the minimum notional.
    #[error("order value {notional} {quote} is below the minimum order value {min} {quote}")]
    NotionalTooSmall {
        /// Quote asset.
        quote: String,
        /// Value of the order.
        notional: Quote,
        /// Venue minimum.
        min: Quote,
    },
    /// A price or quantity that is zero or negative.
    #[error("{what} must be greater than zero")]
    NotPositive {
        /// Which value.
        what: &'static str,
    },
}

fn round(value: Decimal, scale: u32, strategy: RoundingStrategy) -> Decimal {
    value.round_dp_with_strategy(scale, strategy).normalize()
}

impl SymbolRules {
    /// A quantity rounded down to the symbol's precision.
    #[must_use]
    pub fn round_qty_down(&self, qty: Qty) -> Qty {
        Qty::new(round(qty.value(), self.qty_scale, RoundingStrategy::ToZero))
    }

    /// A limit price rounded to the symbol's tick in the buyer's or seller's favour.
    #[must_use]
    pub fn round_price(&self, price: Price, buying: bool) -> Price {
        let strategy = if buying { RoundingStrategy::ToNegativeInfinity } else { RoundingStrategy::ToPositiveInfinity };
        Price::new(round(price.value(), self.price_scale, strategy))
    }

    /// A quote amount (market buy size) rounded down to the quote precision.
    #[must_use]
    pub fn round_quote_down(&self, quote: Quote) -> Quote {
        Quote::new(round(quote.value(), self.price_scale, RoundingStrategy::ToZero))
    }

    /// Checks a base quantity at a price (the limit price, or the reference price of a
    /// market sell) against the minimums. Round first.
    ///
    /// # Errors
    /// The first rule the order breaks, naming the limit.
    pub fn check_qty(&self, qty: Qty, price: Price) -> Result<(), RuleViolation> {
        if qty.value() <= Decimal::ZERO {
            return Err(RuleViolation::NotPositive { what: "quantity" });
        }
        if price.value() <= Decimal::ZERO {
            return Err(RuleViolation::NotPositive { what: "price" });
        }
        if qty < self.min_qty {
            return Err(RuleViolation::QuantityTooSmall { pair: self.pair.clone(), qty, min: self.min_qty });
        }
        self.check_notional(Quote::new(qty.value() * price.value()))
    }

    /// Checks a quote amount (a market buy) against the minimum notional. Round first.
    ///
    /// # Errors
    /// [`RuleViolation::NotionalTooSmall`] or [`RuleViolation::NotPositive`].
    pub fn check_notional(&self, notional: Quote) -> Result<(), RuleViolation> {
        if notional.value() <= Decimal::ZERO {
            return Err(RuleViolation::NotPositive { what: "order value" });
        }
        if notional < self.min_notional {
            return Err(RuleViolation::NotionalTooSmall {
                quote: self.pair.quote().to_owned(),
                notional,
                min: self.min_notional,
            });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use rust_decimal_macros::dec;

    use super::*;

    fn btc() -> SymbolRules {
        SymbolRules {
            pair: "BTC/USDT".parse().unwrap(),
            price_scale: 2,
            qty_scale: 6,
            min_qty: Qty::new(dec!(0.000001)),
            min_notional: Quote::new(dec!(1)),
        }
    }

    #[test]
    fn rounds_in_the_safe_direction() {
        let rules = btc();
        assert_eq!(rules.round_qty_down(Qty::new(dec!(0.1234567))).to_string(), "0.123456");
        assert_eq!(rules.round_price(Price::new(dec!(100.019)), true).to_string(), "100.01");
        assert_eq!(rules.round_price(Price::new(dec!(100.011)), false).to_string(), "100.02");
        assert_eq!(rules.round_quote_down(Quote::new(dec!(10.999))).to_string(), "10.99");
    }

    #[test]
    fn minimums_are_named_in_the_error() {
        let rules = btc();
        let err = rules.check_qty(Qty::new(dec!(0.00001)), Price::new(dec!(50000))).unwrap_err();
        assert_eq!(err.to_string(), "order value 0.5 USDT is below the minimum order value 1 USDT");
        let err = rules.check_qty(Qty::new(dec!(0.0000001)), Price::new(dec!(50000))).unwrap_err();
        assert!(err.to_string().contains("below the minimum order quantity 0.000001"));
        assert!(rules.check_qty(Qty::new(dec!(0.001)), Price::new(dec!(50000))).is_ok());
    }

    proptest! {
        /// Rounding never increases a quantity and always lands on the symbol's precision.
        #[test]
        fn qty_rounding_never_rounds_up(mantissa in 1i64..i64::MAX / 4, scale in 0u32..=18) {
            let qty = Qty::new(Decimal::new(mantissa, scale));
            let rounded = btc().round_qty_down(qty);
            prop_assert!(rounded <= qty);
            prop_assert!(rounded.value().scale() <= 6);
            prop_assert!(qty.value() - rounded.value() < dec!(0.000001));
        }
    }
}
