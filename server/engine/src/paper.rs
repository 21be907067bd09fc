//! The paper-fill model of dry runs and backtests: how an order would have executed against
//! real market data, without sending it anywhere.
//!
//! * A market order walks the current book level by level (slippage), as a taker.
//! * A resting limit order fills, as a maker, only when the market trades *through* its price
//!   (strictly below a buy, strictly above a sell): touching the price is not enough, because
//!   a real order would have queued behind others at that level.
//! * Fees are the symbol's maker or taker rate; a buy pays in the base asset received and a
//!   sell in the quote asset received, as MEXC charges.
//!
//! Quantities round down to the symbol's precision, so a paper order never executes more than
//! a real one could.

use domain::{
    money::{Price, Qty, Quote},
    symbol::SymbolRules,
};
use rust_decimal::Decimal;

/// One level of a book: a price and the quantity available there.
pub type BookLevel = (Price, Qty);

/// A simulated execution.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaperFill {
    /// Base quantity executed.
    pub qty: Qty,
    /// Quote value executed.
    pub quote: Quote,
    /// Fee charged: base asset for buys, quote asset for sells.
    pub fee: Decimal,
}

impl PaperFill {
    /// Volume-weighted price of the execution.
    #[must_use]
    pub fn average_price(&self) -> Option<Price> {
        (!self.qty.value().is_zero()).then(|| Price::new(self.quote.value() / self.qty.value()))
    }
}

/// A market buy spending at most `budget` of quote against `asks` (best first). Returns
/// `None` when nothing can be bought (empty book, or less than one quantity step).
#[must_use]
pub fn market_buy(asks: &[BookLevel], budget: Quote, taker_fee: Decimal, rules: &SymbolRules) -> Option<PaperFill> {
    let (mut left, mut qty, mut quote) = (budget.value(), Decimal::ZERO, Decimal::ZERO);
    for &(price, available) in asks {
        if left <= Decimal::ZERO || price.value() <= Decimal::ZERO {
            break;
        }
        let affordable = rules.round_qty_down(Qty::new(left / price.value())).value();
        let take = affordable.min(available.value());
        if take <= Decimal::ZERO {
            break;
        }
        qty += take;
        quote += take * price.value();
        left -= take * price.value();
    }
    (qty > Decimal::ZERO).then(|| PaperFill { qty: Qty::new(qty), quote: Quote::new(quote), fee: qty * taker_fee })
}

/// A market sell of `qty` against `bids` (best first). Returns `None` when nothing can be sold.
#[must_use]
pub fn market_sell(bids: &[BookLevel], qty: Qty, taker_fee: Decimal, rules: &SymbolRules) -> Option<PaperFill> {
    let (mut left, mut sold, mut quote) = (rules.round_qty_down(qty).value(), Decimal::ZERO, Decimal::ZERO);
    for &(price, available) in bids {
        if left <= Decimal::ZERO {
            break;
        }
        let take = left.min(available.value());
        sold += take;
        quote += take * price.value();
        left -= take;
    }
    (sold > Decimal::ZERO).then(|| PaperFill { qty: Qty::new(sold), quote: Quote::new(quote), fee: quote * taker_fee })
}

/// The part of a resting limit order that a public trade of `trade_qty` at `trade_price`
/// fills: only a trade through the limit price fills, at the limit price, as a maker.
#[must_use]
pub fn limit_fill(
    buying: bool,
    limit: Price,
    remaining: Qty,
    trade_price: Price,
    trade_qty: Qty,
    maker_fee: Decimal,
) -> Option<PaperFill> {
    let through = if buying { trade_price < limit } else { trade_price > limit };
    let qty = remaining.value().min(trade_qty.value());
    if !through || qty <= Decimal::ZERO {
        return None;
    }
    let quote = qty * limit.value();
    let fee = if buying { qty * maker_fee } else { quote * maker_fee };
    Some(PaperFill { qty: Qty::new(qty), quote: Quote::new(quote), fee })
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use rust_decimal_macros::dec;

    use super::*;

    fn rules() -> SymbolRules {
        crate::testing::btc_usdt()
    }

    fn level(price: Decimal, qty: Decimal) -> BookLevel {
        (Price::new(price), Qty::new(qty))
    }

    #[test]
    fn market_buys_walk_the_book() {
        let asks = [level(dec!(100), dec!(1)), level(dec!(101), dec!(1)), level(dec!(105), dec!(5))];
        let fill = market_buy(&asks, Quote::new(dec!(250)), dec!(0.001), &rules()).unwrap();
        // 1 @ 100, 1 @ 101, then 49 quote buys 0.466666 @ 105.
        assert_eq!(fill.qty, Qty::new(dec!(2.466666)));
        assert_eq!(fill.quote, Quote::new(dec!(249.99993)));
        assert_eq!(fill.fee, dec!(0.002466666));
        assert!(fill.average_price().unwrap() > Price::new(dec!(100)), "slippage");
        assert_eq!(market_buy(&[], Quote::new(dec!(10)), dec!(0), &rules()), None);
    }

    #[test]
    fn market_sells_walk_the_bids_and_stop_at_the_book_depth() {
        let bids = [level(dec!(99), dec!(0.5)), level(dec!(98), dec!(0.25))];
        let fill = market_sell(&bids, Qty::new(dec!(1)), dec!(0.002), &rules()).unwrap();
        assert_eq!(fill.qty, Qty::new(dec!(0.75)));
        assert_eq!(fill.quote, Quote::new(dec!(74)));
        assert_eq!(fill.fee, dec!(0.148));
    }

    #[test]
    fn limits_fill_only_when_the_market_trades_through() {
        let limit = Price::new(dec!(100));
        assert_eq!(limit_fill(true, limit, Qty::new(dec!(1)), Price::new(dec!(100)), Qty::new(dec!(5)), dec!(0)), None);
        let fill =
            limit_fill(true, limit, Qty::new(dec!(1)), Price::new(dec!(99.99)), Qty::new(dec!(0.4)), dec!(0)).unwrap();
        assert_eq!(
            (fill.qty, fill.quote),
            (Qty::new(dec!(0.4)), Quote::new(dec!(40))),
            "at the limit, capped by the trade"
        );
        assert!(
            limit_fill(false, limit, Qty::new(dec!(1)), Price::new(dec!(100.01)), Qty::new(dec!(2)), dec!(0)).is_some()
        );
        assert!(
            limit_fill(false, limit, Qty::new(dec!(1)), Price::new(dec!(99)), Qty::new(dec!(2)), dec!(0)).is_none()
        );
    }

    proptest! {
        /// A paper market buy never spends more than its budget nor takes more than the book holds.
        #[test]
        fn market_buys_stay_within_budget_and_book(
            levels in proptest::collection::vec((1u32..100_000, 1u32..1_000_000), 0..10),
            budget in 1u32..1_000_000,
        ) {
            let mut asks: Vec<BookLevel> = levels
                .into_iter()
                .map(|(p, q)| level(Decimal::from(p), Decimal::new(i64::from(q), 6)))
                .collect();
            asks.sort_by_key(|l| l.0);
            let depth: Decimal = asks.iter().map(|l| l.1.value()).sum();
            // A budget of 1 buys at least 0.00001 at the dearest ask generated (99,999), so
            // only an empty book buys nothing: every other case reaches the assertions.
            match market_buy(&asks, Quote::new(Decimal::from(budget)), dec!(0.001), &rules()) {
                Some(fill) => {
                    prop_assert!(fill.quote.value() <= Decimal::from(budget));
                    prop_assert!(fill.qty.value() <= depth);
                    prop_assert!(fill.qty.value().scale() <= 6);
                    prop_assert!(fill.qty.value() > Decimal::ZERO);
                }
                None => prop_assert!(asks.is_empty(), "nothing bought with {} from {:?}", budget, asks),
            }
        }
    }
}
