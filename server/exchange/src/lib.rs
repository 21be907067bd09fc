//! Venue adapters: the venue-neutral [`Exchange`] trait and its MEXC spot v3 implementation.
//!
//! Owns request signing, server-time sync, rate limiting (429/418 obeyed), retries of safe
//! requests, resolution of lost order creates by client order id, precision and minimum
//! checks before sending, and error classification. Wire types stay private to each venue
//! module and are converted once, into the types of [`types`], on receipt.
//!
//! **Architecture Invariant:** an order create is never resent blindly. After a timeout or a
//! 5xx its fate is resolved by querying its client order id.
//! **Architecture Invariant:** adding a venue means adding one module implementing
//! [`Exchange`]; nothing else changes.

mod error;
pub mod mexc;
pub mod types;

use std::sync::Arc;

use async_trait::async_trait;
use domain::{pair::Pair, time::Timestamp};
use tokio::sync::mpsc;

pub use crate::error::{Error, Result, VenueError};
use crate::types::{
    AccountEvent, AccountTrade, Balance, Candle, Interval, MarketEvent, NewOrder, OrderBook, OrderRef, PublicTrade,
    SymbolInfo, Ticker, VenueOrder,
};

/// A trading venue account: market data, balances and orders.
#[async_trait]
pub trait Exchange: Send + Sync {
    /// Measures the venue's clock against ours (server minus local, in milliseconds); signed
    /// requests are stamped with the correction from then on.
    async fn sync_clock(&self) -> Result<i64>;
    /// Every symbol with its precision, minimums, fees and whether API trading is allowed.
    async fn symbols(&self) -> Result<Vec<SymbolInfo>>;
    /// Last price and best bid/ask.
    async fn ticker(&self, pair: &Pair) -> Result<Ticker>;
    /// Book snapshot with up to `depth` levels a side.
    async fn order_book(&self, pair: &Pair, depth: u32) -> Result<OrderBook>;
    /// Candles from `from` (oldest first), at most `limit`.
    async fn candles(
        &self,
        pair: &Pair,
        interval: Interval,
        from: Option<Timestamp>,
        limit: u32,
    ) -> Result<Vec<Candle>>;
    /// The most recent public trades, oldest first.
    async fn recent_trades(&self, pair: &Pair, limit: u32) -> Result<Vec<PublicTrade>>;
    /// Balances of the account.
    async fn balances(&self) -> Result<Vec<Balance>>;
    /// Places an order after checking it against the symbol's rules. Never resent blindly.
    async fn place_order(&self, order: &NewOrder) -> Result<VenueOrder>;
    /// Cancels an order.
    async fn cancel_order(&self, pair: &Pair, order: &OrderRef) -> Result<VenueOrder>;
    /// One order's current state.
    async fn order(&self, pair: &Pair, order: &OrderRef) -> Result<VenueOrder>;
    /// Orders of the pair not yet finished.
    async fn open_orders(&self, pair: &Pair) -> Result<Vec<VenueOrder>>;
    /// Orders of the pair since `from` (venue default window when `None`).
    async fn order_history(&self, pair: &Pair, from: Option<Timestamp>) -> Result<Vec<VenueOrder>>;
    /// The account's fills on the pair since `from`, every page of them, oldest first (the
    /// venue's latest page when `None`).
    async fn account_trades(&self, pair: &Pair, from: Option<Timestamp>) -> Result<Vec<AccountTrade>>;
    /// Every fill of one order (by the venue's id) from `since` (at or before its creation) on,
    /// oldest first, however many pages they take.
    async fn order_trades(&self, pair: &Pair, venue_order_id: &str, since: Timestamp) -> Result<Vec<AccountTrade>>;
    /// Live trades, candles and book top of `pair`, kept connected until the receiver drops;
    /// trades missed during a reconnect are recovered before `Reconnected` is delivered.
    fn market_stream(self: Arc<Self>, pair: &Pair) -> mpsc::Receiver<MarketEvent>;
    /// Live order updates, fills and balances of the account, kept connected until the
    /// receiver drops; after a reconnect, `Reconnected` asks the consumer to reconcile.
    ///
    /// # Errors
    /// [`Error::Auth`] when the account has no API key.
    fn account_stream(self: Arc<Self>) -> Result<mpsc::UnboundedReceiver<AccountEvent>>;
}
