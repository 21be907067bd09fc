//! The virtual wallet: a bot's budget cap, independent of the exchange balance.
//!
//! Invariants (DESIGN.md, money invariants 2 and 3), each proven by the property tests below:
//! * `reserved + cost of holdings <= cap` after every reservation and every fill the venue
//!   can produce (a buy never spends more than was reserved for it);
//! * a sell is never reserved beyond the holdings not already promised to another sell, and a
//!   sell fill beyond the holdings is refused as an accounting error;
//! * the holdings, their cost and the realised P&L are a pure function of the fills: replaying
//!   the fills into a fresh wallet gives the same figures.
//!
//! `cap` is the budget, reduced by realised losses and raised by realised profits only when
//! compounding is on. Costs are average costs; fees paid in the quote asset are part of a
//! buy's cost and reduce a sale's proceeds; fees paid in the base asset reduce the quantity.
//! A sale's share of the cost is rounded to 16 decimal places, far below any asset's
//! precision: the books' numbers stay short, and so does the arithmetic on them.

use domain::money::{Qty, Quote};
use rust_decimal::Decimal;

/// Decimal places of a sale's share of the cost.
const BASIS_DP: u32 = 16;

/// Why the wallet refused a reservation or a fill.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WalletError {
    /// A buy needs more than the wallet has free.
    #[error("the buy needs {needed} but only {free} of the budget is free")]
    InsufficientBudget {
        /// Amount asked for.
        needed: Quote,
        /// Amount free.
        free: Quote,
    },
    /// A sell asks for more than the bot holds and has not promised to other sells.
    #[error("the sell needs {needed} but the bot holds only {available} not already being sold")]
    InsufficientHoldings {
        /// Quantity asked for.
        needed: Qty,
        /// Quantity available.
        available: Qty,
    },
    /// A sell fill for more than the bot holds: the books disagree with the venue.
    #[error("a sell fill of {qty} exceeds the holdings {held}; reconcile before trading on")]
    Oversold {
        /// Quantity of the fill.
        qty: Qty,
        /// Quantity held.
        held: Qty,
    },
    /// A reservation under this client order id already exists.
    #[error("order {0} already has a reservation")]
    DuplicateReservation(String),
    /// Zero or negative amounts are not orders.
    #[error("reservations must be greater than zero")]
    NotPositive,
}

/// Which side a fill was on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FillSide {
    /// Bought base with quote.
    Buy,
    /// Sold base for quote.
    Sell,
}

/// What the wallet needs of a fill.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WalletFill<'a> {
    /// The order it belongs to (its reservation is consumed).
    pub client_order_id: &'a str,
    /// Buy or sell.
    pub side: FillSide,
    /// Base quantity executed.
    pub qty: Qty,
    /// Quote value executed (price × quantity).
    pub quote: Quote,
    /// Fee charged.
    pub fee: Decimal,
    /// Whether the fee was charged in the quote asset (else in the base asset).
    pub fee_in_quote: bool,
}

/// A bot's virtual wallet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Wallet {
    budget: Quote,
    compound: bool,
    realized_pnl: Quote,
    holdings: Qty,
    cost: Quote,
    /// Budget reserved by open buys, by client order id.
    buys: Reservations<Quote>,
    /// Holdings promised to open sells, by client order id.
    sells: Reservations<Qty>,
}

/// What open orders hold, by client order id, oldest first. A handful at most: a vector
/// searched in order costs less than a tree that allocates a node per order.
type Reservations<T> = Vec<(String, T)>;

/// The reservation of `id`, if it holds one.
fn reservation<'r, T>(reservations: &'r mut Reservations<T>, id: &str) -> Option<&'r mut T> {
    reservations.iter_mut().find(|(held_by, _)| held_by == id).map(|(_, held)| held)
}

impl Wallet {
    /// An empty wallet with `budget`; profits raise the cap only when `compound`.
    #[must_use]
    pub const fn new(budget: Quote, compound: bool) -> Self {
        Self {
            budget,
            compound,
            realized_pnl: Quote::ZERO,
            holdings: Qty::ZERO,
            cost: Quote::ZERO,
            buys: Vec::new(),
            sells: Vec::new(),
        }
    }

    /// Rebuilds the holdings, their cost and the realised P&L from fills alone.
    ///
    /// # Errors
    /// [`WalletError::Oversold`] when the fills sell more than they bought.
    pub fn replay<'a>(
        budget: Quote,
        compound: bool,
        fills: impl IntoIterator<Item = &'a WalletFill<'a>>,
    ) -> Result<Self, WalletError> {
        let mut wallet = Self::new(budget, compound);
        for fill in fills {
            wallet.apply_fill(fill)?;
        }
        Ok(wallet)
    }

    /// The budget the bot was given.
    #[must_use]
    pub const fn budget(&self) -> Quote {
        self.budget
    }

    /// The most the bot may have committed: the budget, less realised losses, plus realised
    /// profits when compounding.
    #[must_use]
    pub fn cap(&self) -> Quote {
        let pnl = self.realized_pnl.value();
        let adjustment = if self.compound { pnl } else { pnl.min(Decimal::ZERO) };
        Quote::new(self.budget.value() + adjustment)
    }

    /// Quote reserved by open buys.
    #[must_use]
    pub fn reserved(&self) -> Quote {
        self.buys.iter().map(|(_, quote)| *quote).sum()
    }

    /// Cost of what the bot holds.
    #[must_use]
    pub const fn cost(&self) -> Quote {
        self.cost
    }

    /// Base quantity the bot holds.
    #[must_use]
    pub const fn holdings(&self) -> Qty {
        self.holdings
    }

    /// Realised P&L so far, net of fees.
    #[must_use]
    pub const fn realized_pnl(&self) -> Quote {
        self.realized_pnl
    }

    /// What a new buy may still reserve.
    #[must_use]
    pub fn free(&self) -> Quote {
        Quote::new(self.cap().value() - self.reserved().value() - self.cost.value())
    }

    /// Holdings not yet promised to an open sell.
    #[must_use]
    pub fn sellable(&self) -> Qty {
        if self.sells.is_empty() {
            return self.holdings;
        }
        let promised: Decimal = self.sells.iter().map(|(_, qty)| qty.value()).sum();
        Qty::new(self.holdings.value() - promised)
    }

    /// Reserves `amount` of the budget for a buy, before the order is sent.
    ///
    /// # Errors
    /// [`WalletError::InsufficientBudget`] when it does not fit.
    pub fn reserve_buy(&mut self, client_order_id: &str, amount: Quote) -> Result<(), WalletError> {
        if amount.value() <= Decimal::ZERO {
            return Err(WalletError::NotPositive);
        }
        if self.holds(client_order_id) {
            return Err(WalletError::DuplicateReservation(client_order_id.to_owned()));
        }
        let free = self.free();
        if amount > free {
            return Err(WalletError::InsufficientBudget { needed: amount, free });
        }
        self.buys.push((client_order_id.to_owned(), amount));
        Ok(())
    }

    /// Reserves `qty` of the holdings for a sell, before the order is sent.
    ///
    /// # Errors
    /// [`WalletError::InsufficientHoldings`] when the bot does not own that much unpromised.
    pub fn reserve_sell(&mut self, client_order_id: &str, qty: Qty) -> Result<(), WalletError> {
        if qty.value() <= Decimal::ZERO {
            return Err(WalletError::NotPositive);
        }
        if self.holds(client_order_id) {
            return Err(WalletError::DuplicateReservation(client_order_id.to_owned()));
        }
        let available = self.sellable();
        if qty > available {
            return Err(WalletError::InsufficientHoldings { needed: qty, available });
        }
        self.sells.push((client_order_id.to_owned(), qty));
        Ok(())
    }

    /// Applies a fill, consuming its order's reservation.
    ///
    /// # Errors
    /// [`WalletError::Oversold`] for a sell beyond the holdings (nothing is changed).
    pub fn apply_fill(&mut self, fill: &WalletFill<'_>) -> Result<(), WalletError> {
        let (qty, quote, fee) = (fill.qty.value(), fill.quote.value(), fill.fee);
        match fill.side {
            FillSide::Buy => {
                let spent = if fill.fee_in_quote { quote + fee } else { quote };
                let received = if fill.fee_in_quote { qty } else { qty - fee };
                if let Some(reserved) = reservation(&mut self.buys, fill.client_order_id) {
                    *reserved = Quote::new((reserved.value() - spent).max(Decimal::ZERO));
                }
                self.holdings = Qty::new(self.holdings.value() + received);
                self.cost = Quote::new(self.cost.value() + spent);
            }
            FillSide::Sell => {
                let sold = if fill.fee_in_quote { qty } else { qty + fee };
                if sold > self.holdings.value() {
                    return Err(WalletError::Oversold { qty: Qty::new(sold), held: self.holdings });
                }
                let basis = if sold == self.holdings.value() {
                    // Everything is sold: the whole cost, without a division.
                    self.cost.value()
                } else {
                    (self.cost.value() * sold / self.holdings.value()).round_dp(BASIS_DP).min(self.cost.value())
                };
                let proceeds = if fill.fee_in_quote { quote - fee } else { quote };
                self.holdings = Qty::new(self.holdings.value() - sold);
                self.cost =
                    Quote::new(if self.holdings.value().is_zero() { Decimal::ZERO } else { self.cost.value() - basis });
                self.realized_pnl = Quote::new(self.realized_pnl.value() + proceeds - basis);
                if let Some(promised) = reservation(&mut self.sells, fill.client_order_id) {
                    *promised = Qty::new((promised.value() - sold).max(Decimal::ZERO));
                }
            }
        }
        Ok(())
    }

    /// Frees what is left of an order's reservation once it is finished (filled, cancelled,
    /// failed or expired).
    pub fn release(&mut self, client_order_id: &str) {
        self.buys.retain(|(id, _)| id != client_order_id);
        self.sells.retain(|(id, _)| id != client_order_id);
    }

    /// Whether order `client_order_id` holds a reservation.
    fn holds(&self, client_order_id: &str) -> bool {
        self.buys.iter().any(|(id, _)| id == client_order_id) || self.sells.iter().any(|(id, _)| id == client_order_id)
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use rust_decimal_macros::dec;

    use super::*;

    fn q(v: Decimal) -> Quote {
        Quote::new(v)
    }

    fn fill(
        id: &str,
        side: FillSide,
        qty: Decimal,
        price: Decimal,
        fee: Decimal,
        fee_in_quote: bool,
    ) -> WalletFill<'_> {
        WalletFill { client_order_id: id, side, qty: Qty::new(qty), quote: q(qty * price), fee, fee_in_quote }
    }

    #[test]
    fn buys_are_capped_by_the_budget_including_holdings() {
        let mut w = Wallet::new(q(dec!(100)), false);
        w.reserve_buy("a", q(dec!(60))).unwrap();
        assert_eq!(
            w.reserve_buy("b", q(dec!(50))),
            Err(WalletError::InsufficientBudget { needed: q(dec!(50)), free: q(dec!(40)) })
        );
        w.apply_fill(&fill("a", FillSide::Buy, dec!(1), dec!(59), dec!(0), true)).unwrap();
        w.release("a");
        assert_eq!(w.free(), q(dec!(41)), "holdings cost counts against the budget");
    }

    #[test]
    fn losses_shrink_the_cap_and_profits_grow_it_only_with_compounding() {
        for (compound, sell_price, cap) in
            [(false, dec!(40), dec!(90)), (false, dec!(70), dec!(100)), (true, dec!(70), dec!(120))]
        {
            let mut w = Wallet::new(q(dec!(100)), compound);
            w.apply_fill(&fill("b", FillSide::Buy, dec!(1), dec!(50), dec!(0), true)).unwrap();
            w.apply_fill(&fill("s", FillSide::Sell, dec!(1), sell_price, dec!(0), true)).unwrap();
            assert_eq!(w.cap(), q(cap), "compound {compound}, sold at {sell_price}");
        }
    }

    #[test]
    fn sells_are_capped_by_unpromised_holdings_and_fees_count() {
        let mut w = Wallet::new(q(dec!(1000)), false);
        // Fee in base: 0.01 of the 1 bought goes to the venue.
        w.apply_fill(&fill("b", FillSide::Buy, dec!(1), dec!(100), dec!(0.01), false)).unwrap();
        assert_eq!(w.holdings(), Qty::new(dec!(0.99)));
        w.reserve_sell("s1", Qty::new(dec!(0.5))).unwrap();
        assert!(matches!(w.reserve_sell("s2", Qty::new(dec!(0.5))), Err(WalletError::InsufficientHoldings { .. })));
        w.apply_fill(&fill("s1", FillSide::Sell, dec!(0.5), dec!(110), dec!(0.11), true)).unwrap();
        // Basis of half of 0.99 bought for 100: 50.505050...; proceeds 55 - 0.11.
        assert!(w.realized_pnl().value() > dec!(4.38) && w.realized_pnl().value() < dec!(4.39));
        let err = w.apply_fill(&fill("x", FillSide::Sell, dec!(1), dec!(110), dec!(0), true)).unwrap_err();
        assert!(matches!(err, WalletError::Oversold { .. }));
    }

    /// One step of a generated trading session.
    #[derive(Debug, Clone)]
    enum Step {
        Buy { amount: u32, price: u32, fill_percent: u32, fee_bps: u32 },
        Sell { qty_percent: u32, price: u32, fill_percent: u32, fee_bps: u32 },
    }

    fn step() -> impl Strategy<Value = Step> {
        prop_oneof![
            (1u32..500, 1u32..1000, 0u32..=100, 0u32..50)
                .prop_map(|(amount, price, fill_percent, fee_bps)| Step::Buy { amount, price, fill_percent, fee_bps }),
            (1u32..=100, 1u32..1000, 0u32..=100, 0u32..50).prop_map(|(qty_percent, price, fill_percent, fee_bps)| {
                Step::Sell { qty_percent, price, fill_percent, fee_bps }
            }),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

        /// Budget never exceeded, never sell more than owned, and the figures rebuild from the fills.
        #[test]
        fn wallet_invariants_hold_over_any_session(
            budget in 1u32..5000,
            compound in any::<bool>(),
            steps in proptest::collection::vec(step(), 1..40),
        ) {
            let mut w = Wallet::new(q(Decimal::from(budget)), compound);
            let mut fills = Vec::new();
            let ids: Vec<String> = (0..steps.len()).map(|i| format!("o{i}")).collect();
            for (id, step) in ids.iter().zip(steps) {
                match step {
                    Step::Buy { amount, price, fill_percent, fee_bps } => {
                        let amount = q(Decimal::from(amount));
                        if w.reserve_buy(id, amount).is_err() {
                            prop_assert!(amount > w.free());
                            continue;
                        }
                        // The venue spends at most what was reserved (quote-sized market buy),
                        // fee included when charged in quote.
                        let fee_rate = Decimal::from(fee_bps) / dec!(10000);
                        let spend = amount.value() * Decimal::from(fill_percent) / dec!(100) / (Decimal::ONE + fee_rate);
                        if spend > Decimal::ZERO {
                            let price = Decimal::from(price);
                            let f = WalletFill {
                                client_order_id: id,
                                side: FillSide::Buy,
                                qty: Qty::new(spend / price),
                                quote: q(spend),
                                fee: spend * fee_rate,
                                fee_in_quote: true,
                            };
                            w.apply_fill(&f).unwrap();
                            fills.push(f);
                        }
                        w.release(id);
                    }
                    Step::Sell { qty_percent, price, fill_percent, fee_bps } => {
                        let qty = Qty::new(w.sellable().value() * Decimal::from(qty_percent) / dec!(100));
                        if qty.value().is_zero() || w.reserve_sell(id, qty).is_err() {
                            continue;
                        }
                        let sold = qty.value() * Decimal::from(fill_percent) / dec!(100);
                        if sold > Decimal::ZERO {
                            let quote = sold * Decimal::from(price);
                            let f = WalletFill {
                                client_order_id: id,
                                side: FillSide::Sell,
                                qty: Qty::new(sold),
                                quote: q(quote),
                                fee: quote * Decimal::from(fee_bps) / dec!(10000),
                                fee_in_quote: true,
                            };
                            w.apply_fill(&f).unwrap();
                            fills.push(f);
                        }
                        w.release(id);
                    }
                }
                prop_assert!(w.reserved().value() + w.cost().value() <= w.cap().value(), "budget exceeded: {w:?}");
                prop_assert!(w.holdings().value() >= Decimal::ZERO);
                prop_assert!(w.sellable().value() >= Decimal::ZERO);
            }
            let rebuilt = Wallet::replay(q(Decimal::from(budget)), compound, &fills).unwrap();
            prop_assert_eq!(rebuilt.holdings(), w.holdings());
            prop_assert_eq!(rebuilt.cost(), w.cost());
            prop_assert_eq!(rebuilt.realized_pnl(), w.realized_pnl());
        }
    }
}
