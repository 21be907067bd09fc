//! Orders, fills and positions as stored and reported.
//!
//! The order lifecycle table and the execution rules arrive with the engine; this module
//! holds the records every layer reads.

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
