//! Orders, fills and positions: the records every layer reads, the order lifecycle table,
//! and deterministic client order ids.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::{
    bot::BotId,
    macros::named_enum,
    money::{Price, Qty, Quote},
    pair::Pair,
    time::Timestamp,
};

named_enum!(
    /// Buy or sell.
    Side, "side" {
        /// Buy the base asset with the quote asset.
        Buy => "buy",
        /// Sell the base asset for the quote asset.
        Sell => "sell",
    }
);

named_enum!(
    /// Market or limit, buy or sell.
    OrderType, "order type" {
        /// Buy at market, sized by quote amount.
        MarketBuy => "market_buy",
        /// Sell at market, sized by base quantity.
        MarketSell => "market_sell",
        /// Buy at a limit price.
        LimitBuy => "limit_buy",
        /// Sell at a limit price.
        LimitSell => "limit_sell",
    }
);

named_enum!(
    /// Where an order is in its life.
    OrderStatus, "order status" {
        /// Written before sending; outcome not yet known.
        Pending => "pending",
        /// Resting on the book.
        Open => "open",
        /// Partly executed, remainder resting.
        PartiallyFilled => "partially_filled",
        /// Fully executed.
        Filled => "filled",
        /// Cancelled (possibly after partial fills).
        Cancelled => "cancelled",
        /// Rejected by the venue or a local check.
        Failed => "failed",
        /// Sent but fate unknown (timeout or 5xx); resolved by client order id.
        Unknown => "unknown",
        /// Expired by the venue.
        Expired => "expired",
    }
);

impl OrderStatus {
    /// Whether the order may still change (and still reserves budget).
    #[must_use]
    pub const fn is_open(self) -> bool {
        matches!(self, Self::Pending | Self::Open | Self::PartiallyFilled | Self::Unknown)
    }

    /// The status after `event`: the one lifecycle table of an order.
    ///
    /// # Errors
    /// [`TransitionError`] for an event that cannot happen in this status; the caller must
    /// reconcile with the venue rather than guess.
    #[rustfmt::skip]
    pub fn transition(self, event: OrderEvent) -> Result<Self, TransitionError> {
        use OrderEvent::{Accepted, CancelConfirmed, Expired as Expiry, Filled as Fill, NotFound, OutcomeUnknown, PartiallyFilled as PartialFill, Rejected};
        use OrderStatus::{Cancelled, Expired, Failed, Filled, Open, PartiallyFilled, Pending, Unknown};
        match (self, event) {
            (Pending, Accepted)                          => Ok(Open),
            (Pending, Rejected)                          => Ok(Failed),
            // Timeout or 5xx on create: it may exist; resolve by client order id.
            (Pending, OutcomeUnknown)                    => Ok(Unknown),
            // The fill stream can overtake the create's answer.
            (Pending | Unknown, PartialFill)             => Ok(PartiallyFilled),
            (Pending | Unknown, Fill)                    => Ok(Filled),
            // Resolution found the order on the venue.
            (Unknown, Accepted)                          => Ok(Open),
            // Resolution established that the venue never took it.
            (Unknown, NotFound | Rejected)               => Ok(Failed),
            (Unknown, CancelConfirmed)                   => Ok(Cancelled),
            (Open | PartiallyFilled, PartialFill)        => Ok(PartiallyFilled),
            (Open | PartiallyFilled, Fill)               => Ok(Filled),
            (Open | PartiallyFilled, CancelConfirmed)    => Ok(Cancelled),
            (Open | PartiallyFilled, Expiry)             => Ok(Expired),
            // A cancel (a kill, say) sent before the create's answer arrived: the venue took the
            // order and cancelled it; the acknowledgement was overtaken.
            (Pending, CancelConfirmed)                   => Ok(Cancelled),
            // Likewise for an order the venue expired at once (nothing to match).
            (Pending, Expiry)                            => Ok(Expired),
            // Fill after cancel: executed before the cancel took effect, reported late. The
            // fill still counts; the order stays cancelled.
            (Cancelled, PartialFill | Fill)              => Ok(Cancelled),
            // A repeated cancel confirmation changes nothing.
            (Cancelled, CancelConfirmed)                 => Ok(Cancelled),
            (status, event)                              => Err(TransitionError { status, event }),
        }
    }
}

/// Something that happened to an order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum OrderEvent {
    /// The venue acknowledged it.
    Accepted,
    /// The venue (or a local check) refused it.
    Rejected,
    /// The create's answer was lost (timeout, 5xx): it may or may not exist.
    OutcomeUnknown,
    /// A lookup by client order id established that it does not exist.
    NotFound,
    /// Part of it executed; some remains.
    PartiallyFilled,
    /// All of it executed.
    Filled,
    /// The venue confirmed a cancel.
    CancelConfirmed,
    /// The venue expired it.
    Expired,
}

impl OrderEvent {
    /// Every event.
    pub const ALL: [Self; 8] = [
        Self::Accepted,
        Self::Rejected,
        Self::OutcomeUnknown,
        Self::NotFound,
        Self::PartiallyFilled,
        Self::Filled,
        Self::CancelConfirmed,
        Self::Expired,
    ];
}

/// An order event that cannot happen in the order's status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("order event {event:?} cannot happen to an order that is {status}")]
pub struct TransitionError {
    /// Status the order was in.
    pub status: OrderStatus,
    /// Event refused.
    pub event: OrderEvent,
}

/// The prefix of client order ids in backtests (a daemon's database draws its own, so that a
/// fresh database never names an order like one an earlier database left on the venue).
pub const BACKTEST_ORDER_PREFIX: &str = "tb";

/// The client order id of a bot's `seq`-th order under `prefix` (the database's own):
/// deterministic, so a restart or a replay names the same order the same way, and unique
/// across bots. Only letters, digits and `-`, which every venue accepts.
#[must_use]
pub fn client_order_id(prefix: &str, bot: BotId, seq: u64) -> String {
    // Written digit by digit: backtests make one per order, and formatting machinery costs more
    // than the rest of the order's bookkeeping.
    let (mut bot_digits, mut seq_digits) = (itoa::Buffer::new(), itoa::Buffer::new());
    let (bot, seq) = (bot_digits.format(bot.0), seq_digits.format(seq));
    let padding = 6_usize.saturating_sub(seq.len());
    let mut id = String::with_capacity(prefix.len() + 2 + bot.len() + padding + seq.len());
    id.push_str(prefix);
    id.push('-');
    id.push_str(bot);
    id.push('-');
    id.extend(std::iter::repeat_n('0', padding));
    id.push_str(seq);
    id
}

/// One risk or wallet check an order passed (or failed).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Check {
    /// Check name, e.g. `budget`.
    pub name: String,
    /// Whether it passed.
    pub passed: bool,
    /// Numbers behind the verdict.
    pub detail: String,
}

/// Why an order was placed, stored with it so that every order can be explained later.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct DecisionRecord {
    /// The strategy's signal values at the decision.
    pub signals: BTreeMap<String, String>,
    /// Risk and wallet checks.
    pub checks: Vec<Check>,
    /// Available budget before the order.
    pub budget_before: Quote,
    /// Available budget after reserving for the order.
    pub budget_after: Quote,
    /// One-line explanation.
    pub summary: String,
}

/// An order of a bot, live or simulated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Order {
    /// Database id (per table: live and simulated orders are numbered apart).
    pub id: i64,
    /// Owning bot.
    pub bot_id: BotId,
    /// Deterministic id sent to the venue.
    pub client_order_id: String,
    /// Id the venue assigned, once known.
    pub exchange_order_id: Option<String>,
    /// Market or limit, buy or sell.
    pub order_type: OrderType,
    /// The venue account it was sent to (none for orders written before this was recorded:
    /// the bot's own account).
    pub exchange: Option<String>,
    /// Pair traded.
    pub pair: Pair,
    /// Base quantity ordered (none for a market buy by quote amount).
    pub amount: Option<Qty>,
    /// Limit price.
    pub price: Option<Price>,
    /// Quote amount of a market buy.
    pub quote_amount: Option<Quote>,
    /// Base quantity executed so far.
    pub filled_amount: Qty,
    /// Average execution price.
    pub average_price: Option<Price>,
    /// Fees paid so far, in `fee_asset`.
    pub fees: Qty,
    /// Asset the fees were charged in.
    pub fee_asset: Option<String>,
    /// Lifecycle status.
    pub status: OrderStatus,
    /// Strategy that decided the order.
    pub strategy_used: String,
    /// Bot's virtual balance after the order.
    pub running_balance_after: Option<Quote>,
    /// Whether this is a dry-run order.
    pub is_simulated: bool,
    /// Why the order was placed.
    pub decision: DecisionRecord,
    /// Venue error or local reason for a failure.
    pub error: Option<String>,
    /// When the intent was written.
    pub created_at: Timestamp,
    /// Last change.
    pub updated_at: Timestamp,
    /// When it was completely filled.
    pub filled_at: Option<Timestamp>,
}

/// A bot's holding in one pair (spot: long only).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Position {
    /// Database id.
    pub id: i64,
    /// Owning bot.
    pub bot_id: BotId,
    /// Pair held.
    pub pair: Pair,
    /// Average entry price.
    pub entry_price: Price,
    /// Last known market price.
    pub current_price: Price,
    /// Base quantity held.
    pub amount: Qty,
    /// Mark-to-market result of the holding.
    pub unrealized_pnl: Quote,
    /// When the position was opened.
    pub created_at: Timestamp,
    /// Last change.
    pub updated_at: Timestamp,
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    const TERMINAL: [OrderStatus; 3] = [OrderStatus::Filled, OrderStatus::Failed, OrderStatus::Expired];

    #[test]
    fn the_happy_paths() {
        use OrderEvent::*;
        let run = |events: &[OrderEvent]| events.iter().try_fold(OrderStatus::Pending, |s, e| s.transition(*e));
        assert_eq!(run(&[Accepted, PartiallyFilled, Filled]), Ok(OrderStatus::Filled));
        assert_eq!(run(&[Accepted, PartiallyFilled, CancelConfirmed, Filled]), Ok(OrderStatus::Cancelled));
        assert_eq!(run(&[OutcomeUnknown, Accepted, Filled]), Ok(OrderStatus::Filled));
        assert_eq!(run(&[OutcomeUnknown, NotFound]), Ok(OrderStatus::Failed));
        assert_eq!(run(&[Rejected]), Ok(OrderStatus::Failed));
        assert_eq!(run(&[CancelConfirmed, PartiallyFilled]), Ok(OrderStatus::Cancelled), "a kill overtook the ack");
        assert!(
            run(&[OutcomeUnknown, NotFound, Filled]).is_err(),
            "a fill for an order we declared failed must be reconciled"
        );
    }

    #[test]
    fn client_order_ids_are_deterministic_and_plain() {
        assert_eq!(client_order_id("tb", BotId(12), 42), "tb-12-000042");
        assert_ne!(client_order_id("tb", BotId(1), 23), client_order_id("tb", BotId(12), 3));
        assert_eq!(client_order_id("tb", BotId(3), 1_234_567), "tb-3-1234567", "padding only up to six digits");
        assert_eq!(client_order_id("tb", BotId(0), 0), "tb-0-000000");
        assert_eq!(client_order_id("tb5e0c1a9f", BotId(7), 2), "tb5e0c1a9f-7-000002", "a database's own prefix");
    }

    proptest! {
        /// The table answers every pair, terminal states absorb every event, and an open
        /// order never goes back to pending.
        #[test]
        fn the_table_is_total_and_terminal_states_absorb(
            events in proptest::collection::vec(proptest::sample::select(OrderEvent::ALL.to_vec()), 0..12)
        ) {
            let mut status = OrderStatus::Pending;
            for event in events {
                match status.transition(event) {
                    Ok(next) => {
                        prop_assert!(!TERMINAL.contains(&status), "{status} left a terminal state on {event:?}");
                        prop_assert!(next != OrderStatus::Pending);
                        status = next;
                    }
                    Err(e) => prop_assert_eq!(e.status, status),
                }
            }
        }
    }
}
