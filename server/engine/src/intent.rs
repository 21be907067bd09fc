//! Order intents: what a bot wants sent, and why.

use domain::{
    money::{Price, Qty, Quote},
    order::{DecisionRecord, Side},
    pair::Pair,
};

/// How an intent executes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IntentKind {
    /// At the market.
    Market,
    /// Resting at this limit price.
    Limit(Price),
}

/// How much an intent trades.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IntentSize {
    /// Spend this much quote (market buys).
    Quote(Quote),
    /// Trade this base quantity.
    Base(Qty),
}

/// An order a bot wants placed, with why it wants it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderIntent {
    /// Deterministic id, `order::client_order_id(bot, seq)`.
    pub client_order_id: String,
    /// Pair traded.
    pub pair: Pair,
    /// Buy or sell.
    pub side: Side,
    /// Market or limit.
    pub kind: IntentKind,
    /// Quote amount or base quantity.
    pub size: IntentSize,
    /// Signals and checks behind it; the risk checks are appended on approval.
    pub decision: DecisionRecord,
}
