//! Executors carry out a bot's approved orders: the live one on the venue, the paper one on
//! the venue's real market data with simulated fills. Both answer with the same [`Report`]s,
//! so the bot task (and the engine behind it) cannot tell them apart.
//!
//! **Architecture Invariant:** [`Executor::place`] accepts only `risk::Approved` intents, and
//! the live executor is the only caller of `Exchange::place_order`.

mod live;
mod paper;

use domain::{
    money::{Price, Qty, Quote},
    order::{Order, OrderEvent},
    time::Timestamp,
};
use engine::{intent::OrderIntent, risk::Approved};
use std::collections::BTreeMap;

use rust_decimal::Decimal;

pub(crate) use self::{
    live::Live,
    paper::{BookSource, Paper},
};
use super::{hub::LastTrade, ledger::Progress};

/// One execution of an order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Execution {
    /// The venue's trade id (the fill's idempotency key); `paper-…` for simulated fills.
    pub(crate) trade_id: String,
    /// Price.
    pub(crate) price: Price,
    /// Base quantity.
    pub(crate) qty: Qty,
    /// Quote amount.
    pub(crate) quote: Quote,
    /// Fee charged.
    pub(crate) fee: Decimal,
    /// Asset the fee was charged in.
    pub(crate) fee_asset: String,
    /// When it happened.
    pub(crate) at: Timestamp,
}

/// What an executor learned about one of the bot's orders.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Report {
    /// The order executed (partly). Always reported before the event that ends the order.
    Fill {
        /// Which order.
        client_order_id: String,
        /// The execution.
        execution: Execution,
    },
    /// The order changed state.
    Status {
        /// Which order.
        client_order_id: String,
        /// What happened.
        event: OrderEvent,
        /// The venue's id for it, once known.
        venue_id: Option<String>,
        /// Why it failed, for a refusal.
        error: Option<String>,
    },
    /// The venue has not said what became of the order for a while (reported once per spell;
    /// the order is still followed, and the bot waits for it).
    Unreadable {
        /// Which order.
        client_order_id: String,
        /// The last error.
        error: String,
    },
    /// A cancel has gone unconfirmed for a while (reported once; the cancel is still sent at
    /// every read until the venue shows the order ended).
    CancelUnconfirmed {
        /// Which order.
        client_order_id: String,
        /// What the venue last said.
        error: String,
    },
}

impl Report {
    /// A state change without a venue id or error.
    pub(crate) fn status(client_order_id: &str, event: OrderEvent) -> Self {
        Self::Status { client_order_id: client_order_id.to_owned(), event, venue_id: None, error: None }
    }

    /// A refusal with its reason.
    pub(crate) fn refused(client_order_id: &str, event: OrderEvent, error: String) -> Self {
        Self::Status { client_order_id: client_order_id.to_owned(), event, venue_id: None, error: Some(error) }
    }
}

/// Why the orders of a bot could not be reconciled with the venue.
#[derive(Debug, thiserror::Error)]
#[error("order {client_order_id}: {reason}")]
pub(crate) struct ReconcileError {
    /// The order.
    pub(crate) client_order_id: String,
    /// Why.
    pub(crate) reason: String,
}

/// Live or paper execution.
pub(crate) enum Executor {
    /// Orders go to the venue.
    Live(Live),
    /// Orders are filled by the paper-fill model on real market data.
    Paper(Paper),
}

impl Executor {
    /// Places an approved order (already written to the database) and reports what happened.
    pub(crate) async fn place(&mut self, order: &Approved<OrderIntent>, now: Timestamp) -> Vec<Report> {
        match self {
            Self::Live(live) => live.place(order.get(), now).await,
            Self::Paper(paper) => paper.place(order.get(), now).await,
        }
    }

    /// Cancels an order and reports what happened to it.
    pub(crate) async fn cancel(&mut self, client_order_id: &str, now: Timestamp) -> Vec<Report> {
        match self {
            Self::Live(live) => live.cancel(client_order_id, now).await,
            Self::Paper(paper) => paper.cancel(client_order_id),
        }
    }

    /// Fills resting paper orders the latest trade went through (live orders are polled).
    pub(crate) fn on_trade(&mut self, trade: LastTrade, now: Timestamp) -> Vec<Report> {
        match self {
            Self::Live(_) => Vec::new(),
            Self::Paper(paper) => paper.on_trade(trade, now),
        }
    }

    /// Books what the account's feed told of the open live orders, and reads from the venue
    /// those due for a read.
    pub(crate) async fn poll(&mut self, now: Timestamp) -> Vec<Report> {
        match self {
            Self::Live(live) => live.poll(now).await,
            Self::Paper(_) => Vec::new(),
        }
    }

    /// Whether live orders are still followed (the task must not end before they do).
    pub(crate) fn needs_polling(&self) -> bool {
        match self {
            Self::Live(live) => live.is_following(),
            Self::Paper(_) => false,
        }
    }

    /// How long until a live order is due for a read from the venue (none: only the account
    /// feed's notices, which ring the bot's wake, can change anything).
    pub(crate) fn next_read(&self, now: Timestamp) -> Option<std::time::Duration> {
        match self {
            Self::Live(live) => live.next_read(now),
            Self::Paper(_) => None,
        }
    }

    /// Takes over the orders the database lists as open after a restart and settles what the
    /// venue already finished.
    ///
    /// # Errors
    /// [`ReconcileError`] when the venue cannot say what became of an order.
    /// `progress` holds what the stored fills of each open order add up to.
    pub(crate) async fn reconcile(
        &mut self,
        open: &[Order],
        progress: &BTreeMap<String, Progress>,
        now: Timestamp,
    ) -> Result<Vec<Report>, ReconcileError> {
        match self {
            Self::Live(live) => live.reconcile(open, now).await,
            Self::Paper(paper) => Ok(paper.reconcile(open, progress)),
        }
    }
}
