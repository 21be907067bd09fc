//! Bot management: the application service behind the bot RPCs.
//!
//! Validates requests with the domain rules, applies lifecycle changes through the one
//! transition table (`BotStatus::apply`), persists through the store and publishes every
//! change on the event bus. Mutations are serialised by one lock, so a check and the write
//! that depends on it never interleave with another request.

use domain::{
    alert::AlertKind,
    bot::{Bot, BotConfigInput, BotId, BotStatus, LifecycleCommand, ValidationContext},
    event::{Event, EventKind},
    order::{Order, OrderStatus, Position},
    strategy::StrategyId,
    validation::Violations,
};
use engine::{
    bot::Command,
    strategy::{
        arbitrage::{ArbitrageParams, Mode},
        event_filler::ExternalSignal,
    },
};
use std::sync::Arc;
use store::{BotFilter, StatusChange, Store};

use tokio::sync::Mutex;

use crate::{clock, events::EventBus, runtime::Runtime};

/// Why a bot request failed.
#[derive(Debug, thiserror::Error)]
pub enum BotError {
    /// The request's fields are invalid; every problem is listed.
    #[error("invalid request: {0}")]
    Invalid(Violations),
    /// No such bot.
    #[error("bot {0} not found")]
    NotFound(BotId),
    /// The request makes no sense in the bot's current state.
    #[error("{0}")]
    Conflict(String),
    /// The database failed.
    #[error(transparent)]
    Store(store::Error),
}

impl BotError {
    fn from_store(id: BotId, error: store::Error) -> Self {
        match error {
            store::Error::NotFound { .. } => Self::NotFound(id),
            other => Self::Store(other),
        }
    }
}

/// Longest bot name, also for generated copy names.
const MAX_NAME_CHARS: usize = 64;

/// Creates, edits and drives bots.
#[derive(Debug)]
pub struct Bots {
    store: Store,
    events: EventBus,
    ctx: ValidationContext,
    runtime: Runtime,
    /// The runtime's status lock: a check and the write that depends on it never interleave
    /// with another request or with a change the runtime makes.
    writes: Arc<Mutex<()>>,
}

impl Bots {
    /// A bot service over `store`, validating with `ctx`, publishing on `events` and handing
    /// lifecycle commands to `runtime`.
    #[must_use]
    pub fn new(store: Store, events: EventBus, ctx: ValidationContext, runtime: Runtime) -> Self {
        let writes = runtime.status_lock();
        Self { store, events, ctx, runtime, writes }
    }

    fn publish(&self, bot: &Bot) {
        self.events.publish(Event { at: bot.updated_at, kind: EventKind::BotChanged(Box::new(bot.clone())) });
    }

    /// Creates a bot in status `created`.
    ///
    /// # Errors
    /// [`BotError::Invalid`] with every invalid field.
    pub async fn create(&self, input: &BotConfigInput) -> Result<Bot, BotError> {
        let config = domain::bot::BotConfig::create(input, &self.ctx).map_err(BotError::Invalid)?;
        runnable(&config, &self.ctx)?;
        let bot = self.store.insert_bot(&config, clock::now()).await.map_err(BotError::Store)?;
        tracing::info!(bot = %bot.id, name = %bot.config.name, pair = %bot.config.pair, strategy = %bot.config.strategy, "bot created");
        self.publish(&bot);
        Ok(bot)
    }

    /// One bot.
    ///
    /// # Errors
    /// [`BotError::NotFound`].
    pub async fn get(&self, id: BotId) -> Result<Bot, BotError> {
        self.store.bot(id).await.map_err(|e| BotError::from_store(id, e))
    }

    /// Bots, newest first, optionally only those in `status`.
    ///
    /// # Errors
    /// [`BotError::Store`].
    pub async fn list(&self, status: Option<BotStatus>) -> Result<Vec<Bot>, BotError> {
        self.store.bots(BotFilter { status }).await.map_err(BotError::Store)
    }

    /// Edits a bot that is not running; unset fields keep their value.
    ///
    /// # Errors
    /// [`BotError::Conflict`] while the bot runs, [`BotError::Invalid`] for bad fields.
    pub async fn update(&self, id: BotId, patch: &BotConfigInput) -> Result<Bot, BotError> {
        let guard = self.writes.lock().await;
        let bot = self.get(id).await?;
        bot.check_editable().map_err(BotError::Conflict)?;
        let config = bot.config.update(patch, &self.ctx).map_err(BotError::Invalid)?;
        runnable(&config, &self.ctx)?;
        let moved = config.pair != bot.config.pair
            || config.exchange != bot.config.exchange
            || config.is_dry_run != bot.config.is_dry_run;
        if moved && self.store.has_trading_history(id).await.map_err(BotError::Store)? {
            return Err(BotError::Conflict(format!(
                "bot {id} has traded as {} on {} ({}); its pair, venue account and mode belong to that history: \
                 copy it to trade elsewhere, or promote it with go-live",
                bot.config.pair,
                bot.config.exchange,
                if bot.config.is_dry_run { "dry run" } else { "live" }
            )));
        }
        if config.strategy != bot.config.strategy && self.has_open_orders(&bot).await? {
            return Err(BotError::Conflict(format!(
                "bot {id} has open orders of its {} strategy; stop it with cancel before changing its strategy",
                bot.config.strategy
            )));
        }
        let bot = self
            .store
            .update_bot_config(id, bot.status, &config, clock::now())
            .await
            .map_err(|e| BotError::from_store(id, e))?;
        tracing::info!(bot = %id, "bot configuration edited");
        self.publish(&bot);
        drop(guard);
        self.runtime.reload(id).await;
        Ok(bot)
    }

    /// Deletes a bot that is not running; its orders and fills stay in the audit trail.
    ///
    /// # Errors
    /// [`BotError::Conflict`] while the bot runs.
    pub async fn delete(&self, id: BotId) -> Result<(), BotError> {
        let _guard = self.writes.lock().await;
        let bot = self.get(id).await?;
        if bot.status == BotStatus::Running {
            return Err(BotError::Conflict(format!("bot {id} is running; stop it before deleting it")));
        }
        if self.has_open_orders(&bot).await? {
            return Err(BotError::Conflict(format!(
                "bot {id} has open orders; stop it with cancel (or kill it) before deleting it"
            )));
        }
        let now = clock::now();
        self.store.delete_bot(id, now).await.map_err(|e| BotError::from_store(id, e))?;
        tracing::info!(bot = %id, "bot deleted");
        self.events.publish(Event { at: now, kind: EventKind::BotDeleted(id) });
        Ok(())
    }

    /// Applies a lifecycle command through the transition table, records it, and hands it to
    /// the bot's runtime task (which cancels orders for a kill or a cancelling stop).
    ///
    /// # Errors
    /// [`BotError::Conflict`] when the command makes no sense in the bot's status.
    pub async fn command(&self, id: BotId, order: Command, reason: &str) -> Result<Bot, BotError> {
        let command = order.lifecycle();
        let _guard = self.writes.lock().await;
        let bot = self.get(id).await?;
        let to = bot.status.apply(command).map_err(|e| BotError::Conflict(format!("bot {id}: {e}")))?;
        // Bots created before their strategy was refused at creation may still exist.
        if command == LifecycleCommand::Start
            && let Err(BotError::Invalid(violations)) = runnable(&bot.config, &self.ctx)
        {
            return Err(BotError::Conflict(format!("bot {id} cannot start: {violations}")));
        }
        let change = StatusChange {
            id,
            from: bot.status,
            to,
            kill: command == LifecycleCommand::Kill,
            reason: reason.to_owned(),
        };
        let bot = self.apply(&[change]).await?.remove(0);
        tracing::info!(bot = %id, status = %bot.status, reason, "bot {}", command.verb());
        self.runtime.command(id, order).await;
        Ok(bot)
    }

    /// Kills every bot not already killed, in one transaction.
    ///
    /// # Errors
    /// [`BotError::Store`].
    pub async fn kill_all(&self, reason: &str) -> Result<Vec<Bot>, BotError> {
        let _guard = self.writes.lock().await;
        let changes: Vec<StatusChange> = self
            .list(None)
            .await?
            .into_iter()
            .filter(|bot| bot.killed_at.is_none())
            .map(|bot| StatusChange {
                id: bot.id,
                from: bot.status,
                to: BotStatus::Stopped,
                kill: true,
                reason: format!("global kill: {reason}"),
            })
            .collect();
        let killed = self.apply(&changes).await?;
        tracing::warn!(bots = killed.len(), reason, "global kill switch");
        self.runtime
            .alert(AlertKind::KillSwitch, &format!("global kill switch ({} bots): {reason}", killed.len()))
            .await;
        for bot in &killed {
            self.runtime.command(bot.id, Command::Kill).await;
        }
        Ok(killed)
    }

    async fn apply(&self, changes: &[StatusChange]) -> Result<Vec<Bot>, BotError> {
        let first = changes.first().map_or(BotId(0), |c| c.id);
        let bots = self.store.change_status(changes, clock::now()).await.map_err(|e| BotError::from_store(first, e))?;
        for bot in &bots {
            self.publish(bot);
        }
        Ok(bots)
    }

    /// Promotes a dry-run bot that is not running to live trading, keeping its history.
    ///
    /// # Errors
    /// [`BotError::Conflict`] when the bot is already live or running.
    pub async fn go_live(&self, id: BotId) -> Result<Bot, BotError> {
        let guard = self.writes.lock().await;
        let bot = self.get(id).await?;
        if !bot.config.is_dry_run {
            return Err(BotError::Conflict(format!("bot {id} already trades live")));
        }
        if bot.status == BotStatus::Running {
            return Err(BotError::Conflict(format!("bot {id} is running; pause or stop it before going live")));
        }
        if self.has_open_orders(&bot).await? {
            return Err(BotError::Conflict(format!(
                "bot {id} has open simulated orders; stop it with cancel before going live"
            )));
        }
        let patch = BotConfigInput { is_dry_run: Some(false), ..BotConfigInput::default() };
        let config = bot.config.update(&patch, &self.ctx).map_err(BotError::Invalid)?;
        let bot = self
            .store
            .update_bot_config(id, bot.status, &config, clock::now())
            .await
            .map_err(|e| BotError::from_store(id, e))?;
        tracing::warn!(bot = %id, "bot promoted to live trading");
        self.publish(&bot);
        drop(guard);
        self.runtime.reload(id).await;
        Ok(bot)
    }

    /// Creates a new bot from another's configuration with `overrides` applied. The copy is
    /// named "<name> (copy)" unless a name is given.
    ///
    /// # Errors
    /// [`BotError::Invalid`] when the overrides are invalid.
    pub async fn copy(&self, id: BotId, overrides: &BotConfigInput) -> Result<Bot, BotError> {
        let source = self.get(id).await?;
        let mut overrides = overrides.clone();
        if overrides.name.is_none() {
            let base: String = source.config.name.chars().take(MAX_NAME_CHARS - " (copy)".len()).collect();
            overrides.name = Some(format!("{base} (copy)"));
        }
        let config = source.config.update(&overrides, &self.ctx).map_err(BotError::Invalid)?;
        runnable(&config, &self.ctx)?;
        let bot = self.store.insert_bot(&config, clock::now()).await.map_err(BotError::Store)?;
        tracing::info!(bot = %bot.id, from = %id, "bot copied");
        self.publish(&bot);
        Ok(bot)
    }

    /// A bot's orders, newest first: simulated or live as asked, else as the bot trades now.
    ///
    /// # Errors
    /// [`BotError::NotFound`].
    pub async fn orders(
        &self,
        id: BotId,
        simulated: Option<bool>,
        status: Option<OrderStatus>,
        limit: u32,
    ) -> Result<Vec<Order>, BotError> {
        let bot = self.get(id).await?;
        let simulated = simulated.unwrap_or(bot.config.is_dry_run);
        self.store.orders(id, simulated, status, limit).await.map_err(BotError::Store)
    }

    async fn has_open_orders(&self, bot: &Bot) -> Result<bool, BotError> {
        let open = self.store.open_orders(bot.id, bot.config.is_dry_run).await.map_err(BotError::Store)?;
        Ok(!open.is_empty())
    }

    /// Hands a signal to a running bot.
    ///
    /// # Errors
    /// [`BotError::Conflict`] when the bot is not running.
    pub async fn signal(&self, id: BotId, signal: ExternalSignal) -> Result<(), BotError> {
        let bot = self.get(id).await?;
        if bot.status != BotStatus::Running || !self.runtime.signal(id, signal) {
            return Err(BotError::Conflict(format!("bot {id} is not running; start it before sending it signals")));
        }
        tracing::info!(bot = %id, "signal delivered");
        Ok(())
    }

    /// A bot's open positions.
    ///
    /// # Errors
    /// [`BotError::NotFound`].
    pub async fn positions(&self, id: BotId) -> Result<Vec<Position>, BotError> {
        self.get(id).await?;
        self.store.positions(id).await.map_err(BotError::Store)
    }
}

/// Refuses, with a field error naming it, what an arbitrage bot cannot trade with: a second
/// venue account that is not configured or is the bot's own, and risk stops (as in its
/// backtests).
fn runnable(config: &domain::bot::BotConfig, ctx: &ValidationContext) -> Result<(), BotError> {
    if config.strategy != StrategyId::Arbitrage {
        return Ok(());
    }
    let mut violations = Violations::default();
    if let Ok(ArbitrageParams { mode: Mode::CrossExchange { second_exchange }, .. }) =
        ArbitrageParams::from_params(&config.strategy_params)
    {
        let accounts = ctx.exchanges.join(", ");
        if second_exchange == config.exchange {
            violations.add(
                "strategy_params.second_exchange",
                format!("must differ from the bot's own account {}; one of: {accounts}", config.exchange),
            );
        } else if !ctx.exchanges.contains(&second_exchange) {
            violations.add(
                "strategy_params.second_exchange",
                format!("no venue account named {second_exchange:?} in exchanges.yaml; one of: {accounts}"),
            );
        }
    }
    let risk = &config.risk;
    let stops = [
        ("stop_loss_percent", risk.stop_loss_percent.is_some()),
        ("stop_loss_absolute", risk.stop_loss_absolute.is_some()),
        ("drawdown_limit_percent", risk.drawdown_limit_percent.is_some()),
        ("drawdown_limit_absolute", risk.drawdown_limit_absolute.is_some()),
        ("daily_loss_limit", risk.daily_loss_limit.is_some()),
        ("weekly_loss_limit", risk.weekly_loss_limit.is_some()),
    ];
    for (field, _) in stops.iter().filter(|(_, set)| *set) {
        violations.add(
            *field,
            "risk stops do not apply to arbitrage: a cycle trades only at its minimum edge and ends back \
             in what it started from; leave it unset",
        );
    }
    if violations.is_empty() { Ok(()) } else { Err(BotError::Invalid(violations)) }
}

#[cfg(test)]
mod tests {
    // Test code: a failed unwrap is a failed test with its location.
    #![allow(clippy::unwrap_used)]

    use std::path::PathBuf;

    use domain::{bot::BotConfigInput, strategy::RawParam};

    use super::*;
    use crate::{config::Config, runtime::tests::daemon};

    #[tokio::test]
    async fn a_stored_arbitrage_bot_whose_second_venue_is_gone_is_refused_at_start() {
        let dir = tempfile::tempdir().unwrap();
        let (store, runtime, bots) = daemon(dir.path(), None).await;
        let config = Config::load(&PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../config")).unwrap();
        // As stored before the account was removed from the configuration.
        let input = BotConfigInput {
            name: Some("triangle".into()),
            trading_pair: Some("ETH/USDT".into()),
            strategy: Some("arbitrage".into()),
            strategy_params: Some(
                [
                    ("mode".to_owned(), RawParam::Text("cross_exchange".into())),
                    ("second_exchange".to_owned(), RawParam::Text("backup".into())),
                ]
                .into(),
            ),
            budget: Some("100".into()),
            ..BotConfigInput::default()
        };
        let stored = domain::bot::BotConfig::create(&input, &config.validation_context()).unwrap();
        let bot = store.insert_bot(&stored, clock::now()).await.unwrap();
        let Err(BotError::Conflict(message)) = bots.command(bot.id, Command::Start, "test").await else {
            panic!("the start should be refused")
        };
        assert!(
            message.contains("strategy_params.second_exchange: no venue account named \"backup\" in exchanges.yaml"),
            "{message}"
        );
        assert_eq!(bots.get(bot.id).await.unwrap().status, BotStatus::Created);
        runtime.shutdown(false).await;
    }
}
