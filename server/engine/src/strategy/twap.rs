//! TWAP: buy or sell a target base amount over a period in even slices, one market order per
//! slice. What is done is counted from the bot's own fills, so a restart continues where the
//! bot stopped instead of starting over; slices missed while the daemon was down are not
//! caught up at once but spread over further slices until the target is reached.

use domain::{
    money::{Price, Qty},
    order::Side,
    strategy::StrategyParams,
    time::Timestamp,
};
use rust_decimal::Decimal;

use super::{
    Action, Desire, Holding,
    params::{decimal, integer, text},
};

const NAME: &str = "twap";

/// Parameters, read from the validated `strategy_params`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TwapParams {
    /// Buy or sell.
    pub side: Side,
    /// Base amount in total.
    pub target: Qty,
    /// Time between slices, in milliseconds.
    pub interval_ms: i64,
    /// Base amount of a slice.
    pub slice: Qty,
}

/// The strategy with its progress.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Twap {
    params: TwapParams,
    /// Base amount executed so far (from the bot's fills on `side`).
    executed: Qty,
    /// When the next slice is due (the first as soon as the bot runs).
    next_slice_at: Option<Timestamp>,
}

impl Twap {
    /// A TWAP that has executed `executed` of its target already.
    #[must_use]
    pub const fn new(params: TwapParams, executed: Qty) -> Self {
        Self { params, executed, next_slice_at: None }
    }

    /// Reads the parameters validated by the schema.
    ///
    /// # Errors
    /// When a parameter is missing or of the wrong type (the schema prevents both).
    pub fn from_params(params: &StrategyParams) -> Result<TwapParams, String> {
        let side = if text(params, NAME, "side")? == "sell" { Side::Sell } else { Side::Buy };
        let target = decimal(params, NAME, "target_amount")?;
        let minutes = integer(params, NAME, "duration_minutes")?;
        let slices = integer(params, NAME, "slices")?.max(1);
        Ok(TwapParams {
            side,
            target: Qty::new(target),
            interval_ms: minutes.saturating_mul(60_000) / slices,
            slice: Qty::new(target / Decimal::from(slices)),
        })
    }

    /// The side it trades.
    #[must_use]
    pub const fn side(&self) -> Side {
        self.params.side
    }

    /// What is left of the target; less than a hundredth of a slice (what rounding to the
    /// symbol's precision leaves) counts as done.
    #[must_use]
    pub fn remaining(&self) -> Qty {
        let left = self.params.target.value() - self.executed.value();
        Qty::new(if left * Decimal::ONE_HUNDRED < self.params.slice.value() { Decimal::ZERO } else { left })
    }

    /// Counts a fill on the strategy's side.
    pub fn executed(&mut self, qty: Qty) {
        self.executed = Qty::new(self.executed.value() + qty.value());
    }

    /// When the next slice is due.
    #[must_use]
    pub fn next_wakeup(&self) -> Option<Timestamp> {
        if self.remaining().value().is_zero() { None } else { self.next_slice_at }
    }

    /// A slice when one is due: the slice size, or what is left (a sell never more than held).
    pub fn desire(&mut self, now: Timestamp, price: Price, holding: Holding) -> Option<Desire> {
        if self.next_slice_at.is_some_and(|due| now < due) {
            return None;
        }
        let mut qty = self.params.slice.value().min(self.remaining().value());
        if self.params.side == Side::Sell {
            qty = qty.min(holding.qty.value());
        }
        if qty <= Decimal::ZERO {
            return None;
        }
        let remaining = self.remaining();
        let reason = format!("twap slice: {} of the {remaining} left of {}", qty.round_dp(8), self.params.target);
        let action = match self.params.side {
            // Market buys are sized in quote: the slice at the current price.
            Side::Buy => Action::Buy(domain::money::Quote::new(qty * price.value())),
            Side::Sell => Action::Sell(Qty::new(qty)),
        };
        Some(Desire { action, reason: reason.into(), signals: vec![("remaining", remaining.value().into())] })
    }

    /// A slice was placed (or refused) at `now`: the next is due an interval later.
    pub fn slice_done(&mut self, now: Timestamp) {
        self.next_slice_at = Some(Timestamp::from_millis(now.millis() + self.params.interval_ms));
    }
}

#[cfg(test)]
mod tests {
    use domain::money::Quote;
    use rust_decimal_macros::dec;

    use super::*;

    fn twap(side: Side) -> Twap {
        let params = TwapParams { side, target: Qty::new(dec!(1)), interval_ms: 60_000, slice: Qty::new(dec!(0.25)) };
        Twap::new(params, Qty::ZERO)
    }

    const FLAT: Holding = Holding { qty: Qty::ZERO, cost: Quote::ZERO };

    #[test]
    fn buys_even_slices_at_each_interval_until_the_target() {
        let mut t = twap(Side::Buy);
        let at = Timestamp::from_millis;
        let price = Price::new(dec!(100));
        let first = t.desire(at(0), price, FLAT).unwrap();
        assert_eq!(first.action, Action::Buy(Quote::new(dec!(25))));
        t.slice_done(at(0));
        assert_eq!(t.desire(at(59_999), price, FLAT), None);
        assert_eq!(t.next_wakeup(), Some(at(60_000)));
        t.executed(Qty::new(dec!(0.9)));
        let last = t.desire(at(60_000), price, FLAT).unwrap();
        assert_eq!(last.action, Action::Buy(Quote::new(dec!(10))), "only what is left");
        t.executed(Qty::new(dec!(0.1)));
        assert_eq!(t.next_wakeup(), None, "done");
    }

    #[test]
    fn a_sell_never_exceeds_the_holding() {
        let mut t = twap(Side::Sell);
        let held = Holding { qty: Qty::new(dec!(0.1)), cost: Quote::new(dec!(10)) };
        let sell = t.desire(Timestamp::from_millis(0), Price::new(dec!(100)), held).unwrap();
        assert_eq!(sell.action, Action::Sell(Qty::new(dec!(0.1))));
        assert_eq!(t.desire(Timestamp::from_millis(0), Price::new(dec!(100)), FLAT), None);
    }

    #[test]
    fn reads_the_schema() {
        use domain::strategy::{RawParam, StrategyDefaults, StrategyId, validate_params};
        let raw = [("target_amount".to_owned(), RawParam::Text("2".into()))].into();
        let validated = validate_params(StrategyId::Twap, &raw, &StrategyDefaults::new()).unwrap();
        let p = Twap::from_params(&validated).unwrap();
        assert_eq!((p.side, p.slice, p.interval_ms), (Side::Buy, Qty::new(dec!(2) / dec!(12)), 300_000));
    }
}
