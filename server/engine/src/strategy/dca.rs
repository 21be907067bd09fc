//! DCA Accumulator: buy a fixed quote amount every interval, buy extra after a price drop,
//! and optionally take profit on the whole position.

use domain::{
    money::{Percent, Price, Quote},
    strategy::StrategyParams,
    time::Timestamp,
};
use rust_decimal::Decimal;

use super::{
    Action, Desire, Holding,
    params::{decimal, integer},
};

const NAME: &str = "dca_accumulator";

/// Parameters, read from the validated `strategy_params`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DcaParams {
    /// Quote bought every interval.
    pub quote_amount: Quote,
    /// Time between regular buys, in milliseconds.
    pub interval_ms: i64,
    /// Extra buy when the price falls this much below the last buy (0 = off).
    pub drop_trigger: Percent,
    /// Quote amount of an extra buy.
    pub drop_extra: Quote,
    /// Sell the position when it gains this much over its average cost (0 = never).
    pub take_profit: Percent,
}

impl DcaParams {
    /// Reads the parameters validated by the schema.
    ///
    /// # Errors
    /// When a parameter is missing or of the wrong type (the schema prevents both).
    pub fn from_params(params: &StrategyParams) -> Result<Self, String> {
        Ok(Self {
            quote_amount: Quote::new(decimal(params, NAME, "quote_amount")?),
            interval_ms: integer(params, NAME, "interval_minutes")?.saturating_mul(60_000),
            drop_trigger: Percent::new(decimal(params, NAME, "drop_trigger_percent")?),
            drop_extra: Quote::new(decimal(params, NAME, "drop_extra_quote")?),
            take_profit: Percent::new(decimal(params, NAME, "take_profit_percent")?),
        })
    }
}

/// What the strategy remembers between decisions (owned by the bot, persisted with it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct DcaMemory {
    /// When the last buy was decided.
    pub last_buy_at: Option<Timestamp>,
    /// Price at the last buy.
    pub last_buy_price: Option<Price>,
}

fn percent_of(value: Decimal, percent: Percent) -> Decimal {
    value * percent.value() / Decimal::ONE_HUNDRED
}

/// The decision at `now` given the last `price`: take profit first, then the regular buy,
/// then an extra buy on a drop. At most one desire per decision.
#[must_use]
pub fn decide(
    params: &DcaParams,
    memory: &DcaMemory,
    now: Timestamp,
    price: Price,
    holding: Holding,
) -> Option<Desire> {
    let p = price.value();
    if !params.take_profit.value().is_zero() && !holding.qty.value().is_zero() {
        let average = holding.cost.value() / holding.qty.value();
        if p >= average + percent_of(average, params.take_profit) {
            let reason = format!(
                "take profit: {price} is {}% over the average cost {}",
                params.take_profit,
                average.round_dp(8)
            );
            return Some(Desire::new(Action::Sell(holding.qty), reason));
        }
    }
    let due = memory.last_buy_at.is_none_or(|last| now.millis() - last.millis() >= params.interval_ms);
    if due {
        return Some(Desire::new(Action::Buy(params.quote_amount), "regular buy: the interval has passed".to_owned()));
    }
    if !params.drop_trigger.value().is_zero()
        && !params.drop_extra.value().is_zero()
        && let Some(last) = memory.last_buy_price
        && p <= last.value() - percent_of(last.value(), params.drop_trigger)
    {
        let reason = format!("extra buy: {price} is {}% or more below the last buy at {last}", params.drop_trigger);
        return Some(Desire::new(Action::Buy(params.drop_extra), reason));
    }
    None
}

#[cfg(test)]
mod tests {
    use domain::{
        money::Qty,
        strategy::{StrategyDefaults, StrategyId, validate_params},
    };
    use rust_decimal_macros::dec;

    use super::*;

    fn params(tp: Decimal, drop: Decimal) -> DcaParams {
        DcaParams {
            quote_amount: Quote::new(dec!(10)),
            interval_ms: 3_600_000,
            drop_trigger: Percent::new(drop),
            drop_extra: Quote::new(dec!(5)),
            take_profit: Percent::new(tp),
        }
    }

    const EMPTY: Holding = Holding { qty: Qty::ZERO, cost: Quote::ZERO };

    #[test]
    fn reads_the_schema_defaults() {
        let validated =
            validate_params(StrategyId::DcaAccumulator, &Default::default(), &StrategyDefaults::new()).unwrap();
        let p = DcaParams::from_params(&validated).unwrap();
        assert_eq!((p.quote_amount, p.interval_ms), (Quote::new(dec!(10)), 3_600_000));
    }

    #[test]
    fn buys_every_interval() {
        let p = params(dec!(0), dec!(0));
        let at = |ms| Timestamp::from_millis(ms);
        assert!(matches!(
            decide(&p, &DcaMemory::default(), at(0), Price::new(dec!(100)), EMPTY),
            Some(Desire { action: Action::Buy(_), .. })
        ));
        let memory = DcaMemory { last_buy_at: Some(at(0)), last_buy_price: Some(Price::new(dec!(100))) };
        assert_eq!(decide(&p, &memory, at(3_599_999), Price::new(dec!(100)), EMPTY), None);
        assert!(matches!(
            decide(&p, &memory, at(3_600_000), Price::new(dec!(100)), EMPTY),
            Some(Desire { action: Action::Buy(_), .. })
        ));
    }

    #[test]
    fn buys_extra_after_a_drop_and_takes_profit() {
        let p = params(dec!(10), dec!(5));
        let memory =
            DcaMemory { last_buy_at: Some(Timestamp::from_millis(0)), last_buy_price: Some(Price::new(dec!(100))) };
        let soon = Timestamp::from_millis(60_000);
        assert_eq!(decide(&p, &memory, soon, Price::new(dec!(95.01)), EMPTY), None);
        let Some(Desire { action: Action::Buy(quote), .. }) = decide(&p, &memory, soon, Price::new(dec!(95)), EMPTY)
        else {
            panic!()
        };
        assert_eq!(quote, Quote::new(dec!(5)));
        let holding = Holding { qty: Qty::new(dec!(2)), cost: Quote::new(dec!(200)) };
        assert_eq!(decide(&p, &memory, soon, Price::new(dec!(109.99)), holding), None);
        let Some(Desire { action: Action::Sell(qty), .. }) = decide(&p, &memory, soon, Price::new(dec!(110)), holding)
        else {
            panic!()
        };
        assert_eq!(qty, Qty::new(dec!(2)));
    }
}
