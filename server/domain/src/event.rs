//! Domain events: what the daemon publishes on its event bus as things happen.

use crate::{
    bot::{Bot, BotId},
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

/// The kinds of events. Later capabilities (orders, fills, P&L marks, alerts) add variants.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EventKind {
    /// A bot was created, edited or changed status; its new state.
    BotChanged(Box<Bot>),
    /// A bot was deleted.
    BotDeleted(BotId),
}

impl Event {
    /// The bot the event concerns, if any.
    #[must_use]
    pub fn bot_id(&self) -> Option<BotId> {
        match &self.kind {
            EventKind::BotChanged(bot) => Some(bot.id),
            EventKind::BotDeleted(id) => Some(*id),
        }
    }
}
