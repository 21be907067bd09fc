//! Venue-neutral market and account types, in domain money types. Every adapter converts
//! its wire format into these once, on receipt.

use domain::{
    money::{Price, Qty, Quote},
    pair::Pair,
    symbol::SymbolRules,
    time::Timestamp,
};
use rust_decimal::Decimal;

/// Buy or sell.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Side {
    /// Buy the base asset.
    Buy,
    /// Sell the base asset.
    Sell,
}

/// Order types a venue may offer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OrderKind {
    /// Executes immediately against the book.
    Market,
    /// Rests at a price until filled or cancelled.
    Limit,
    /// A limit order that is rejected rather than taking liquidity (post-only).
    LimitMaker,
}

/// A tradable symbol and its rules.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SymbolInfo {
    /// Venue symbol, `BTCUSDT`.
    pub symbol: String,
    /// Precision and minimums (which also name the pair).
    pub rules: SymbolRules,
    /// Whether the venue allows trading it through the API now.
    pub api_trading_allowed: bool,
    /// Order types the venue accepts for it.
    pub order_kinds: Vec<OrderKind>,
    /// Fee rate for resting (maker) fills, as a fraction (0.001 = 0.1 %).
    pub maker_fee: Decimal,
    /// Fee rate for taking (taker) fills, as a fraction.
    pub taker_fee: Decimal,
}

/// Best prices and the last trade price.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ticker {
    /// Pair.
    pub pair: Pair,
    /// Last traded price.
    pub last: Price,
    /// Best bid.
    pub bid: Price,
    /// Best ask.
    pub ask: Price,
}

/// One price level of a book.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Level {
    /// Price of the level.
    pub price: Price,
    /// Quantity available at it.
    pub qty: Qty,
}

/// An order book snapshot, best levels first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderBook {
    /// Buy side, highest price first.
    pub bids: Vec<Level>,
    /// Sell side, lowest price first.
    pub asks: Vec<Level>,
    /// Venue's book version.
    pub version: u64,
}

pub use domain::candle::Candle;

/// Candle intervals.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Interval {
    /// One minute.
    M1,
    /// Five minutes.
    M5,
    /// Fifteen minutes.
    M15,
    /// Thirty minutes.
    M30,
    /// One hour.
    H1,
    /// Four hours.
    H4,
    /// One day.
    D1,
}

impl Interval {
    /// Length in milliseconds.
    #[must_use]
    pub const fn millis(self) -> i64 {
        match self {
            Self::M1 => 60_000,
            Self::M5 => 300_000,
            Self::M15 => 900_000,
            Self::M30 => 1_800_000,
            Self::H1 => 3_600_000,
            Self::H4 => 14_400_000,
            Self::D1 => 86_400_000,
        }
    }
}

/// A public trade on the venue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicTrade {
    /// Venue trade id, when the venue gives one.
    pub id: Option<String>,
    /// Price.
    pub price: Price,
    /// Base quantity.
    pub qty: Qty,
    /// The taker's side.
    pub taker_side: Side,
    /// When it happened.
    pub time: Timestamp,
}

/// Free and locked amounts of one asset.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Balance {
    /// Asset.
    pub asset: String,
    /// Available.
    pub free: Qty,
    /// Held by open orders.
    pub locked: Qty,
}

/// How much to buy or sell.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OrderSize {
    /// A base quantity.
    Base(Qty),
    /// A quote amount to spend (market buys only).
    Quote(Quote),
}

/// A new order to place.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewOrder {
    /// Pair.
    pub pair: Pair,
    /// Buy or sell.
    pub side: Side,
    /// Market, limit or post-only.
    pub kind: OrderKind,
    /// Limit price (limit kinds only).
    pub price: Option<Price>,
    /// Quantity or quote amount.
    pub size: OrderSize,
    /// Our id for the order; the way to find it again after a lost response.
    pub client_order_id: String,
}

/// Which order, by the venue's id or ours.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OrderRef {
    /// The venue's id.
    Venue(String),
    /// Our client order id.
    Client(String),
}

/// Where an order is on the venue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VenueOrderStatus {
    /// Resting, nothing filled.
    New,
    /// Partly filled, remainder resting.
    PartiallyFilled,
    /// Completely filled.
    Filled,
    /// Cancelled with nothing filled.
    Cancelled,
    /// Cancelled after a partial fill.
    PartiallyCancelled,
    /// Rejected or expired by the venue.
    Rejected,
}

/// An order as the venue reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VenueOrder {
    /// Venue's id.
    pub venue_id: String,
    /// Our id, when it was given.
    pub client_order_id: Option<String>,
    /// Pair.
    pub pair: Pair,
    /// Buy or sell.
    pub side: Side,
    /// Order type.
    pub kind: OrderKind,
    /// Limit price (reference price for market orders).
    pub price: Option<Price>,
    /// Ordered base quantity (none for market buys by quote amount).
    pub orig_qty: Option<Qty>,
    /// Executed base quantity.
    pub executed_qty: Qty,
    /// Executed quote amount.
    pub cumulative_quote: Quote,
    /// Status.
    pub status: VenueOrderStatus,
    /// When the venue accepted it.
    pub created_at: Timestamp,
}

/// One of the account's own fills.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountTrade {
    /// Venue trade id (unique per venue: the idempotency key of fills).
    pub trade_id: String,
    /// Venue order id.
    pub order_id: String,
    /// Our client order id, when known.
    pub client_order_id: Option<String>,
    /// Pair.
    pub pair: Pair,
    /// Buy or sell.
    pub side: Side,
    /// Price.
    pub price: Price,
    /// Base quantity.
    pub qty: Qty,
    /// Quote amount.
    pub quote_qty: Quote,
    /// Fee charged.
    pub fee: Qty,
    /// Asset of the fee.
    pub fee_asset: String,
    /// Whether the fill rested on the book.
    pub is_maker: bool,
    /// When it happened.
    pub time: Timestamp,
}

/// Best bid and ask.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BookTop {
    /// Best bid.
    pub bid: Level,
    /// Best ask.
    pub ask: Level,
}

/// A market data event of one pair.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MarketEvent {
    /// A public trade.
    Trade(PublicTrade),
    /// The current one-minute candle (updated while it forms).
    Candle(Candle),
    /// New best bid/ask.
    BookTop(BookTop),
    /// The stream reconnected; `backfilled` trades missed meanwhile were recovered from REST
    /// and delivered before this event.
    Reconnected {
        /// Trades recovered from REST.
        backfilled: usize,
    },
    /// A push that carried no usable price (missing, unreadable, zero or negative) was
    /// dropped instead of delivered.
    Dropped {
        /// What was wrong with it.
        reason: String,
    },
}

/// An update of one of the account's orders.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderUpdate {
    /// Venue id.
    pub venue_id: String,
    /// Our id.
    pub client_order_id: Option<String>,
    /// Status after the update.
    pub status: VenueOrderStatus,
    /// Executed base quantity so far.
    pub executed_qty: Qty,
    /// Executed quote amount so far.
    pub cumulative_quote: Quote,
}

/// An account event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AccountEvent {
    /// An order changed.
    Order(OrderUpdate),
    /// One of our orders filled (partly).
    Fill(AccountTrade),
    /// A balance changed.
    Balance(Balance),
    /// The stream reconnected: events may have been missed; reconcile from REST.
    Reconnected,
}
