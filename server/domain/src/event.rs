//! Domain events: what the daemon publishes on its event bus as things happen.

use crate::{
    alert::Alert,
    bot::{Bot, BotId},
    money::Quote,
    order::{Order, Position},
    time::Timestamp,
};

/// Something that happened, with when it happened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    /// When it happened.
    pub at: Timestamp,
    /// What happened.
    pub kind: EventKind,
}

/// The kinds of events.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EventKind {
    /// A bot was created, edited or changed status; its new state.
    BotChanged(Box<Bot>),
    /// A bot was deleted.
    BotDeleted(BotId),
    /// An order (live or simulated) was written or changed; its new state.
    OrderChanged(Box<Order>),
    /// A bot's position changed (a fill, or a new market price).
    PositionChanged(Box<Position>),
    /// A bot's P&L was marked.
    Pnl {
        /// The bot.
        bot: BotId,
        /// Realised plus unrealised P&L.
        total_pnl: Quote,
        /// Budget plus total P&L.
        current_balance: Quote,
    },
    /// An alert was raised.
    AlertRaised(Box<Alert>),
}

impl Event {
    /// The bot the event concerns, if any.
    #[must_use]
    pub fn bot_id(&self) -> Option<BotId> {
        match &self.kind {
            EventKind::BotChanged(bot) => Some(bot.id),
            EventKind::BotDeleted(id) | EventKind::Pnl { bot: id, .. } => Some(*id),
            EventKind::OrderChanged(order) => Some(order.bot_id),
            EventKind::PositionChanged(position) => Some(position.bot_id),
            EventKind::AlertRaised(alert) => alert.bot_id,
        }
    }
}
