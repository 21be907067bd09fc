//! Risk approval: the one door between what a strategy wants and what an executor sends.
//!
//! Every intent passes here: its size is rounded to the symbol's precision and checked against
//! the venue's minimums, and the wallet reserves the budget (buys) or the holdings (sells)
//! before anything can be sent. The checks and the budget before and after are written into
//! the intent's decision record. Stop-loss, drawdown, loss limits and sizing rules join here.

use domain::{
    money::{Price, Quote},
    order::Side,
    symbol::SymbolRules,
};
use rust_decimal::Decimal;

use crate::{
    intent::{IntentKind, IntentSize, OrderIntent, Reservation},
    wallet::{Wallet, WalletError},
};

/// An intent that passed every risk and wallet check and holds its reservation. Only
/// [`approve`] can make one (its constructor is private to this module), so an unchecked order
/// cannot be expressed: executors accept nothing else.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Approved<T>(T);

impl<T> Approved<T> {
    /// Wraps an approved value; private to this module on purpose.
    const fn new(value: T) -> Self {
        Self(value)
    }

    /// The approved value.
    #[must_use]
    pub const fn get(&self) -> &T {
        &self.0
    }

    /// The approved value, for the executor that sends it.
    #[must_use]
    pub fn into_inner(self) -> T {
        self.0
    }
}

/// Why an intent was refused; recorded and shown, never silently dropped.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// The order breaks the venue's size rules after rounding.
    #[error("{0}")]
    Rules(#[from] domain::symbol::RuleViolation),
    /// The wallet cannot cover it.
    #[error("{0}")]
    Wallet(#[from] WalletError),
    /// The intent's shape makes no sense (a sell sized in quote, a market price needed but absent).
    #[error("{0}")]
    Malformed(&'static str),
    /// An arbitrage leg needs more of the asset it pays with than the bot holds.
    #[error("the leg needs {needed} {asset} but only {held} is held")]
    Balance {
        /// The asset it pays with.
        asset: String,
        /// What it needs.
        needed: Decimal,
        /// What the bot holds.
        held: Decimal,
    },
}

/// An intent risk refused, handed back with why.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{refusal}")]
pub struct Refused {
    /// The intent, as the strategy wanted it.
    pub intent: OrderIntent,
    /// Why it was refused.
    pub refusal: Refusal,
}

/// Approves `intent` against the symbol's rules and the wallet, reserving what it needs.
/// `reference` is the current price, used to value market sells.
///
/// # Errors
/// [`Refused`], with the intent and the rule or limit it breaks; nothing is reserved then.
pub fn approve(
    mut intent: OrderIntent,
    rules: &SymbolRules,
    wallet: &mut Wallet,
    reference: Price,
) -> Result<Approved<OrderIntent>, Box<Refused>> {
    match check(&mut intent, rules, wallet, reference) {
        Ok(()) => Ok(Approved::new(intent)),
        Err(refusal) => Err(Box::new(Refused { intent, refusal })),
    }
}

/// Approves one leg of an arbitrage cycle against the symbol's rules and the balance it pays
/// with: a market buy sized in the quote asset (it spends at most that), or a market sell sized
/// in the base asset, out of `held` of that asset. `reference` values a sell.
///
/// # Errors
/// [`Refused`], with the intent and the rule it breaks or the balance it lacks.
pub fn approve_leg(
    mut intent: OrderIntent,
    rules: &SymbolRules,
    held: Decimal,
    reference: Price,
) -> Result<Approved<OrderIntent>, Box<Refused>> {
    match check_leg(&mut intent, rules, held, reference) {
        Ok(()) => Ok(Approved::new(intent)),
        Err(refusal) => Err(Box::new(Refused { intent, refusal })),
    }
}

/// The checks of an arbitrage leg; the intent is completed only once all have passed.
fn check_leg(intent: &mut OrderIntent, rules: &SymbolRules, held: Decimal, reference: Price) -> Result<(), Refusal> {
    let (size, needed, asset, reservation) = match (intent.kind, intent.size, intent.side) {
        (IntentKind::Market, IntentSize::Quote(quote), Side::Buy) => {
            let quote = rules.round_quote_down(quote);
            rules.check_notional(quote)?;
            let reservation = Reservation::Budget { reserved: quote, free: Quote::new(held) };
            (IntentSize::Quote(quote), quote.value(), intent.pair.quote(), reservation)
        }
        (IntentKind::Market, IntentSize::Base(qty), Side::Sell) => {
            let qty = rules.round_qty_down(qty);
            rules.check_qty(qty, reference)?;
            let reservation = Reservation::Holdings { reserved: qty, held: domain::money::Qty::new(held) };
            (IntentSize::Base(qty), qty.value(), intent.pair.base(), reservation)
        }
        _ => return Err(Refusal::Malformed("a leg is a market buy sized in quote or a market sell sized in base")),
    };
    if needed > held {
        return Err(Refusal::Balance { asset: asset.to_owned(), needed, held });
    }
    intent.size = size;
    intent.decision.reservation = Some(reservation);
    Ok(())
}

/// The checks and the reservation; the intent is completed only once all have passed.
fn check(intent: &mut OrderIntent, rules: &SymbolRules, wallet: &mut Wallet, reference: Price) -> Result<(), Refusal> {
    let budget_before = wallet.free();
    let buying = intent.side == Side::Buy;
    let (size, price) = match (intent.kind, intent.size) {
        (IntentKind::Market, IntentSize::Quote(quote)) if buying => {
            let quote = rules.round_quote_down(quote);
            rules.check_notional(quote)?;
            (IntentSize::Quote(quote), None)
        }
        (IntentKind::Market, IntentSize::Base(qty)) => {
            let qty = rules.round_qty_down(qty);
            rules.check_qty(qty, reference)?;
            (IntentSize::Base(qty), None)
        }
        (IntentKind::Limit(price), IntentSize::Base(qty)) => {
            let price = rules.round_price(price, buying);
            let qty = rules.round_qty_down(qty);
            rules.check_qty(qty, price)?;
            (IntentSize::Base(qty), Some(price))
        }
        _ => return Err(Refusal::Malformed("only market buys can be sized in quote")),
    };
    let id = intent.client_order_id.as_str();
    let reservation = match (intent.side, size) {
        (Side::Buy, IntentSize::Quote(quote)) => {
            wallet.reserve_buy(id, quote)?;
            Reservation::Budget { reserved: quote, free: budget_before }
        }
        (Side::Buy, IntentSize::Base(qty)) => {
            let cost = Quote::new(qty.value() * price.unwrap_or(reference).value());
            wallet.reserve_buy(id, cost)?;
            Reservation::Budget { reserved: cost, free: budget_before }
        }
        (Side::Sell, IntentSize::Base(qty)) => {
            let held = wallet.sellable();
            wallet.reserve_sell(id, qty)?;
            Reservation::Holdings { reserved: qty, held }
        }
        (Side::Sell, IntentSize::Quote(_)) => return Err(Refusal::Malformed("a sell is sized in base quantity")),
    };
    if let Some(price) = price {
        intent.kind = IntentKind::Limit(price);
    }
    intent.size = size;
    // A buy's reservation takes exactly its amount from the free budget; a sell's none.
    intent.decision.budget_after = match reservation {
        Reservation::Budget { reserved, .. } => Quote::new(budget_before.value() - reserved.value()),
        Reservation::Holdings { .. } => budget_before,
    };
    intent.decision.reservation = Some(reservation);
    intent.decision.budget_before = budget_before;
    Ok(())
}

#[cfg(test)]
mod tests {
    use domain::money::{Qty, Quote};
    use rust_decimal_macros::dec;

    use super::*;

    fn rules() -> SymbolRules {
        crate::testing::btc_usdt()
    }

    fn intent(id: &str, side: Side, kind: IntentKind, size: IntentSize) -> OrderIntent {
        OrderIntent {
            client_order_id: id.into(),
            pair: "BTC/USDT".parse().unwrap(),
            side,
            kind,
            size,
            decision: crate::intent::Decision::default(),
        }
    }

    #[test]
    fn approval_reserves_and_records_the_budget() {
        let mut wallet = Wallet::new(Quote::new(dec!(100)), false);
        let buy = intent("b1", Side::Buy, IntentKind::Market, IntentSize::Quote(Quote::new(dec!(30.555))));
        let approved = approve(buy, &rules(), &mut wallet, Price::new(dec!(50000))).unwrap();
        assert_eq!(
            approved.get().size,
            IntentSize::Quote(Quote::new(dec!(30.55))),
            "rounded down to the quote precision"
        );
        assert_eq!(approved.get().decision.budget_before, Quote::new(dec!(100)));
        assert_eq!(approved.get().decision.budget_after, Quote::new(dec!(69.45)));
        assert_eq!(approved.get().decision.budget_after, wallet.free());
        assert_eq!(wallet.reserved(), Quote::new(dec!(30.55)));
    }

    #[test]
    fn an_arbitrage_leg_pays_only_with_what_is_held() {
        let buy = intent("l1", Side::Buy, IntentKind::Market, IntentSize::Quote(Quote::new(dec!(100.005))));
        let approved = approve_leg(buy.clone(), &rules(), dec!(100.01), Price::new(dec!(50000))).unwrap();
        assert_eq!(approved.get().size, IntentSize::Quote(Quote::new(dec!(100))), "rounded down");
        let refused = approve_leg(buy, &rules(), dec!(99.99), Price::new(dec!(50000))).unwrap_err();
        assert_eq!(refused.to_string(), "the leg needs 100 USDT but only 99.99 is held");
        let sell = intent("l2", Side::Sell, IntentKind::Market, IntentSize::Base(Qty::new(dec!(0.002))));
        assert!(approve_leg(sell.clone(), &rules(), dec!(0.002), Price::new(dec!(50000))).is_ok());
        assert!(matches!(
            approve_leg(sell, &rules(), dec!(0.0019), Price::new(dec!(50000))).unwrap_err().refusal,
            Refusal::Balance { .. }
        ));
        let quote_sale = intent("l3", Side::Sell, IntentKind::Market, IntentSize::Quote(Quote::new(dec!(10))));
        assert!(matches!(
            approve_leg(quote_sale, &rules(), dec!(1), Price::new(dec!(50000))).unwrap_err().refusal,
            Refusal::Malformed(_)
        ));
    }

    #[test]
    fn refusals_name_the_limit_and_reserve_nothing() {
        let mut wallet = Wallet::new(Quote::new(dec!(100)), false);
        let too_big =
            intent("b1", Side::Buy, IntentKind::Limit(Price::new(dec!(50000))), IntentSize::Base(Qty::new(dec!(0.01))));
        let refusal = approve(too_big, &rules(), &mut wallet, Price::new(dec!(50000))).unwrap_err();
        assert_eq!(refusal.to_string(), "the buy needs 500 but only 100 of the budget is free");
        let dust = intent("b2", Side::Buy, IntentKind::Market, IntentSize::Quote(Quote::new(dec!(0.5))));
        let refused = approve(dust, &rules(), &mut wallet, Price::new(dec!(50000))).unwrap_err();
        assert!(matches!(refused.refusal, Refusal::Rules(_)), "{refused:?}");
        assert_eq!(refused.intent.client_order_id, "b2", "the intent comes back as it was");
        let unowned = intent("s1", Side::Sell, IntentKind::Market, IntentSize::Base(Qty::new(dec!(0.001))));
        let refused = approve(unowned, &rules(), &mut wallet, Price::new(dec!(50000))).unwrap_err();
        assert!(matches!(refused.refusal, Refusal::Wallet(_)), "{refused:?}");
        assert_eq!(wallet.reserved(), Quote::ZERO);
    }
}
