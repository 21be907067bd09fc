//! Alerts: the critical events a person must hear about.

use crate::{bot::BotId, macros::named_enum, time::Timestamp};

named_enum!(
    /// The kinds of critical events; each can be switched on or off for email.
    AlertKind, "alert kind" {
        /// Consecutive losses exhausted the strategy rotations and paused the bot.
        ConsecutiveLosses => "consecutive_losses",
        /// A daily or weekly loss limit was reached.
        LossLimit => "loss_limit",
        /// The drawdown limit was reached.
        DrawdownLimit => "drawdown_limit",
        /// A bot or global kill switch was used.
        KillSwitch => "kill_switch",
        /// Extreme market conditions paused the bot.
        CrashPause => "crash_pause",
        /// The bot failed and was paused, or cannot learn what became of one of its orders.
        BotError => "bot_error",
        /// The bot could not be reconciled with the venue at start and was paused.
        ReconciliationFailure => "reconciliation_failure",
        /// A market feed delivered prices that are not prices (zero, unreadable, absurd
        /// jumps); they were dropped, and bots never saw them.
        MarketData => "market_data",
    }
);

/// An alert as recorded in the alert log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Alert {
    /// Database id.
    pub id: i64,
    /// Bot concerned; `None` for global alerts (such as a global kill).
    pub bot_id: Option<BotId>,
    /// Kind of event.
    pub kind: AlertKind,
    /// What happened, for a person.
    pub message: String,
    /// Whether the email for it went out.
    pub email_sent: bool,
    /// When it was raised.
    pub created_at: Timestamp,
}
