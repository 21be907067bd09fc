//! The bot runtime: a supervised task per active bot, the market-data hub they share, and the
//! executors behind them.
//!
//! A bot has a task while it runs or while it has orders that may still change (a stopped bot
//! whose pending orders were kept is still followed). Tasks are built from the database, so a
//! restart resumes every bot after reconciling its open orders with the venue; a bot that
//! cannot be reconciled is paused with an alert and places nothing. A panic in one bot's task
//! pauses that bot with an alert and leaves the others running.

mod account;
mod arbitrage;
mod executor;
mod hub;
mod journal;
mod ledger;
mod rebuild;
mod screen;
mod stats;
mod task;
#[cfg(test)]
pub(crate) mod tests;

use std::{
    collections::BTreeMap,
    path::PathBuf,
    sync::{Arc, Mutex, PoisonError},
    time::Duration,
};

use domain::{
    alert::AlertKind,
    bot::{Bot as BotRow, BotId, BotStatus, LifecycleCommand},
    event::{Event, EventKind},
    feed::ExternalData,
    pair::Pair,
    strategy::{StrategyDefaults, StrategyId},
};
use engine::{bot::Command, strategy::event_filler::ExternalSignal};
use exchange::{
    Exchange,
    types::{Interval, SymbolInfo},
};
use store::{BotFilter, StatusChange, Store};
use tokio::sync::{mpsc, oneshot, watch};
use tokio_util::{sync::CancellationToken, task::TaskTracker};

use self::{
    account::AccountHub,
    hub::{MarketHub, Subscription},
    ledger::Ledger,
    rebuild::RebuildError,
    stats::LoadStats,
    task::{BotTask, Control},
};
use crate::{clock, events::EventBus, notify::Notifier, venues::Venues};

/// How long shutdown waits for bot tasks to finish their current step.
const SHUTDOWN_WAIT: Duration = Duration::from_secs(10);
/// How often the load figures are logged.
const STATS_EVERY: Duration = Duration::from_secs(60);

/// What every bot task shares.
pub(crate) struct Inner {
    store: Store,
    events: EventBus,
    venues: Venues,
    hub: MarketHub,
    /// Each live account's order updates and fills, shared by its bots.
    accounts: AccountHub,
    logs_dir: PathBuf,
    tasks: Mutex<BTreeMap<BotId, mpsc::UnboundedSender<Control>>>,
    /// Serialises every bot status change, the bot service's and the runtime's.
    writes: Arc<tokio::sync::Mutex<()>>,
    /// Emails the alerts recorded.
    notifier: Notifier,
    /// Parameters of rotation targets.
    strategy_defaults: StrategyDefaults,
    /// The latest external market data.
    external: watch::Receiver<ExternalData>,
    stats: LoadStats,
    tracker: TaskTracker,
    shutdown: CancellationToken,
}

/// What the runtime needs besides the store, the bus and the venues.
#[derive(Debug)]
pub struct RuntimeSettings {
    /// Directory of the per-bot logs.
    pub logs_dir: PathBuf,
    /// Emails the alerts recorded.
    pub notifier: Notifier,
    /// Parameters of the strategies a bot may rotate to (the defaults of `defaults.yaml`).
    pub strategy_defaults: StrategyDefaults,
    /// The external data sources to poll for the bots.
    pub feeds: feeds::Settings,
}

/// Runs the bots; cheap to clone.
#[derive(Clone)]
pub struct Runtime {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Runtime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Runtime").field("bots", &self.active()).finish_non_exhaustive()
    }
}

impl Runtime {
    /// A runtime trading through `venues`, storing in `store`, publishing on `events`.
    #[must_use]
    pub fn new(store: Store, events: EventBus, venues: Venues, settings: RuntimeSettings) -> Self {
        let RuntimeSettings { logs_dir, notifier, strategy_defaults, feeds } = settings;
        let tracker = TaskTracker::new();
        let shutdown = CancellationToken::new();
        let external = feeds::Feeds::start(feeds, &tracker, &shutdown);
        let (market_alerts, market_alert_receiver) = mpsc::unbounded_channel();
        let inner = Inner {
            store,
            events,
            venues,
            hub: MarketHub::new(tracker.clone(), shutdown.clone(), market_alerts),
            accounts: AccountHub::new(tracker.clone(), shutdown.clone()),
            logs_dir,
            tasks: Mutex::default(),
            writes: Arc::default(),
            notifier,
            strategy_defaults,
            external,
            stats: LoadStats::default(),
            tracker,
            shutdown,
        };
        let runtime = Self { inner: Arc::new(inner) };
        runtime.inner.tracker.spawn(Arc::clone(&runtime.inner).log_load());
        runtime.inner.tracker.spawn(Arc::clone(&runtime.inner).relay_market_alerts(market_alert_receiver));
        runtime
    }

    /// Starts a task for every running bot and every bot with orders that may still change.
    ///
    /// # Errors
    /// [`store::Error`] when the database cannot be read.
    pub async fn resume(&self) -> Result<(), store::Error> {
        let mut ids: Vec<BotId> =
            self.inner.store.bots(BotFilter { status: Some(BotStatus::Running) }).await?.iter().map(|b| b.id).collect();
        ids.extend(self.inner.store.bots_with_open_orders().await?);
        ids.sort_unstable();
        ids.dedup();
        for id in ids {
            tracing::info!(bot = %id, "resuming bot");
            self.inner.spawn(id);
        }
        Ok(())
    }

    /// The lock that serialises bot status changes; the bot service holds it for its own.
    #[must_use]
    pub fn status_lock(&self) -> Arc<tokio::sync::Mutex<()>> {
        Arc::clone(&self.inner.writes)
    }

    /// Ids of the bots that have a task.
    #[must_use]
    pub fn active(&self) -> Vec<BotId> {
        self.inner.tasks.lock().unwrap_or_else(PoisonError::into_inner).keys().copied().collect()
    }

    /// Hands a person's command (already recorded by the bot service) to the bot's task. A bot
    /// without a task gets one for a start, and for a kill or a cancelling stop (it may have
    /// orders left from before a failure): the task rebuilds it, then carries the command out.
    pub async fn command(&self, id: BotId, command: Command) {
        let needs_task = matches!(command, Command::Start | Command::Kill | Command::Stop { cancel_pending: true });
        if !self.inner.deliver(id, command) && needs_task {
            self.inner.spawn(id);
            self.inner.deliver(id, command);
        }
    }

    /// Hands a signal to the bot's task; false when the bot has none.
    #[must_use]
    pub fn signal(&self, id: BotId, signal: ExternalSignal) -> bool {
        let tasks = self.inner.tasks.lock().unwrap_or_else(PoisonError::into_inner);
        tasks.get(&id).is_some_and(|sender| sender.send(Control::Signal(signal)).is_ok())
    }

    /// Records a global alert (a global kill, say).
    pub async fn alert(&self, kind: AlertKind, message: &str) {
        self.inner.alert(None, kind, message).await;
    }

    /// Rebuilds a bot whose configuration changed (an edit, a promotion to live): its task,
    /// if any, is retired, and a new one follows whatever still needs following.
    pub async fn reload(&self, id: BotId) {
        let sender = self.inner.tasks.lock().unwrap_or_else(PoisonError::into_inner).get(&id).cloned();
        if let Some(sender) = sender {
            let (ack, done) = oneshot::channel();
            if sender.send(Control::Retire(ack)).is_ok() {
                let _ = done.await;
            }
        }
        let needs_task = match self.inner.store.bot(id).await {
            Ok(bot) => {
                bot.status == BotStatus::Running
                    || self.inner.store.open_orders(id, bot.config.is_dry_run).await.is_ok_and(|o| !o.is_empty())
            }
            Err(_) => false,
        };
        if needs_task {
            self.inner.spawn(id);
        }
    }

    /// Stops every bot task (state is already stored) and the market feeds; with
    /// `cancel_pending`, every bot's open orders are cancelled first.
    pub async fn shutdown(&self, cancel_pending: bool) {
        if cancel_pending {
            let senders: Vec<_> =
                self.inner.tasks.lock().unwrap_or_else(PoisonError::into_inner).values().cloned().collect();
            let mut acks = Vec::new();
            for sender in senders {
                let (ack, done) = oneshot::channel();
                if sender.send(Control::CancelOpenOrders(ack)).is_ok() {
                    acks.push(done);
                }
            }
            tracing::info!(bots = acks.len(), "cancelling open orders before shutdown");
            let all = futures::future::join_all(acks);
            if tokio::time::timeout(SHUTDOWN_WAIT, all).await.is_err() {
                tracing::warn!("some cancels were not confirmed before shutdown; a restart reconciles them");
            }
        }
        self.inner.shutdown.cancel();
        tracing::info!(bots = self.active().len(), "runtime stopping: {}", self.inner.stats.summary());
        self.inner.tracker.close();
        if tokio::time::timeout(SHUTDOWN_WAIT, self.inner.tracker.wait()).await.is_err() {
            tracing::warn!("bot tasks still busy after {SHUTDOWN_WAIT:?}; stopping anyway");
        }
    }

    /// The venue's rules and fees for `pair` on `account` (the venues' shared listing).
    ///
    /// # Errors
    /// A message when the account is unknown or the venue cannot be read.
    pub async fn symbol(&self, account: &str, pair: &Pair) -> Result<SymbolInfo, String> {
        let (name, _, _) =
            self.inner.venues.get(account).ok_or_else(|| format!("no venue account named {account:?}"))?;
        self.inner.symbol(name, pair).await
    }

    /// The adapter of venue account `account`.
    #[must_use]
    pub fn venue(&self, account: &str) -> Option<Arc<dyn Exchange>> {
        self.inner.venues.get(account).map(|(_, venue, _)| venue)
    }

    /// Number of market feeds running (one per followed account and pair).
    #[must_use]
    pub fn feed_count(&self) -> usize {
        self.inner.hub.feed_count()
    }
}

impl Inner {
    /// Records the market feeds' alerts (prices dropped) until shutdown.
    async fn relay_market_alerts(self: Arc<Self>, mut alerts: mpsc::UnboundedReceiver<String>) {
        loop {
            tokio::select! {
                () = self.shutdown.cancelled() => return,
                alert = alerts.recv() => match alert {
                    Some(message) => self.alert(None, AlertKind::MarketData, &message).await,
                    None => return,
                },
            }
        }
    }

    /// Logs the load figures every [`STATS_EVERY`] while bots run.
    async fn log_load(self: Arc<Self>) {
        let mut every = tokio::time::interval(STATS_EVERY);
        every.tick().await;
        loop {
            tokio::select! {
                () = self.shutdown.cancelled() => return,
                _ = every.tick() => {
                    let bots = self.tasks.lock().unwrap_or_else(PoisonError::into_inner).len();
                    if bots > 0 {
                        tracing::info!(bots, feeds = self.hub.feed_count(), "runtime load: {}", self.stats.summary());
                    }
                }
            }
        }
    }

    /// Sends a command to the bot's task; false when it has none.
    fn deliver(&self, id: BotId, command: Command) -> bool {
        let tasks = self.tasks.lock().unwrap_or_else(PoisonError::into_inner);
        tasks.get(&id).is_some_and(|sender| sender.send(Control::Command(command)).is_ok())
    }

    /// Starts a supervised task for bot `id`.
    fn spawn(self: &Arc<Self>, id: BotId) {
        let (sender, receiver) = mpsc::unbounded_channel();
        {
            let mut tasks = self.tasks.lock().unwrap_or_else(PoisonError::into_inner);
            if tasks.contains_key(&id) {
                return;
            }
            tasks.insert(id, sender);
        }
        self.supervise(id, Arc::clone(self).run_bot(id, receiver));
    }

    /// Runs a bot's task; a panic in it pauses that bot with an alert and harms no other.
    fn supervise(self: &Arc<Self>, id: BotId, task: impl Future<Output = ()> + Send + 'static) {
        let inner = Arc::clone(self);
        self.tracker.spawn(async move {
            let joined = tokio::spawn(task).await;
            if let Err(error) = joined
                && error.is_panic()
            {
                inner.forget(id);
                let message = format!("bot {id} failed unexpectedly and was paused: {error}");
                tracing::error!(bot = %id, %error, "bot task panicked");
                inner.record_status(id, LifecycleCommand::Pause, &message).await;
                inner.alert(Some(id), AlertKind::BotError, &message).await;
            }
        });
    }

    async fn run_bot(self: Arc<Self>, id: BotId, control: mpsc::UnboundedReceiver<Control>) {
        let row = match self.store.bot(id).await {
            Ok(row) => row,
            Err(error) => {
                tracing::error!(bot = %id, %error, "cannot load the bot");
                self.forget(id);
                return;
            }
        };
        if row.config.strategy == StrategyId::Arbitrage {
            match arbitrage::rebuild(&self, &row, clock::now()).await {
                Ok(rebuilt) => rebuilt.run(control).await,
                Err(error) => self.not_rebuilt(id, error, control).await,
            }
            return;
        }
        let rebuilt = match rebuild::rebuild(&self, &row, clock::now()).await {
            Ok(rebuilt) => rebuilt,
            Err(error) => return self.not_rebuilt(id, error, control).await,
        };
        if row.killed_at.is_some() && rebuilt.bot.has_open_orders() {
            // Killed while orders were open (before a crash, say): cancel them now.
            self.deliver(id, Command::Kill);
        }
        let mut bot = rebuilt.bot;
        self.warm_up(&row, &mut bot).await;
        let market = self.resubscribe(&row);
        let mut external = self.external.clone();
        // A bot starts from the latest external data, not the next.
        external.mark_changed();
        let task = BotTask {
            external,
            ledger: Ledger::new(Arc::clone(&self), id, row.config.is_dry_run, rebuilt.progress),
            inner: Arc::clone(&self),
            row,
            bot,
            executor: rebuilt.executor,
            wake: rebuilt.wake,
            market,
            marked: None,
        };
        tracing::info!(bot = %id, "bot task started");
        task.run(rebuilt.reports, control).await;
    }

    /// A bot that cannot be rebuilt: one whose strategy has no engine stays as it is (a kill
    /// waiting for it is acknowledged); one that cannot be reconciled is paused with an alert.
    async fn not_rebuilt(&self, id: BotId, error: RebuildError, control: mpsc::UnboundedReceiver<Control>) {
        self.forget(id);
        match error {
            RebuildError::Unsupported(strategy) => {
                tracing::warn!(bot = %id, %strategy, "the strategy cannot trade yet; the bot places no orders");
                let mut control = control;
                while let Ok(message) = control.try_recv() {
                    if let Control::Command(Command::Kill) = message {
                        let text = format!("bot {id} killed: it had no orders; holdings kept");
                        self.alert(Some(id), AlertKind::KillSwitch, &text).await;
                    }
                }
            }
            RebuildError::Unreconcilable(reason) => {
                let message = format!("bot {id} paused: cannot reconcile it with the venue: {reason}");
                tracing::error!(bot = %id, %reason, "bot cannot be reconciled; paused");
                self.record_status(id, LifecycleCommand::Pause, &message).await;
                self.alert(Some(id), AlertKind::ReconciliationFailure, &message).await;
            }
        }
    }

    /// The latest trades and closed candles of the bot's pair on its account.
    fn resubscribe(&self, row: &BotRow) -> Subscription {
        match self.venues.get(&row.config.exchange) {
            Some((account, venue, _)) => self.hub.subscribe(account, &venue, &row.config.pair),
            // The account vanished from the configuration: no prices, so no trading.
            None => Subscription::idle(),
        }
    }

    /// Feeds a strategy the recent closed candles it needs before deciding: one-minute candles
    /// for indicators, hourly ones for a volume profile.
    pub(crate) async fn warm_up(&self, row: &BotRow, bot: &mut engine::bot::Bot) {
        let Some((_, venue, _)) = self.venues.get(&row.config.exchange) else { return };
        for (interval, needed) in [(Interval::M1, bot.history_needed()), (Interval::H1, bot.hourly_history_needed())] {
            if needed == 0 {
                continue;
            }
            let limit = u32::try_from(needed + 1).unwrap_or(u32::MAX);
            match venue.candles(&row.config.pair, interval, None, limit).await {
                Ok(recent) => {
                    // The last one is still forming.
                    let closed = &recent[..recent.len().saturating_sub(1)];
                    tracing::info!(bot = %row.id, candles = closed.len(), needed, ?interval, "strategy warmed up");
                    if interval == Interval::H1 { bot.learn_hourly(closed) } else { bot.warm_up(closed) }
                }
                Err(error) => {
                    tracing::warn!(bot = %row.id, %error, ?interval, "no recent candles; the strategy starts without them");
                }
            }
        }
    }

    /// The venue's rules and fees for `pair` (the venues' shared, periodically refreshed
    /// listing).
    async fn symbol(&self, account: &str, pair: &Pair) -> Result<SymbolInfo, String> {
        let symbols =
            self.venues.symbols(account).await.map_err(|e| format!("cannot read the venue's symbols: {e}"))?;
        symbols.iter().find(|s| &s.rules.pair == pair).cloned().ok_or_else(|| format!("{account} does not list {pair}"))
    }

    /// Drops the bot's task entry.
    fn forget(&self, id: BotId) {
        self.tasks.lock().unwrap_or_else(PoisonError::into_inner).remove(&id);
    }

    /// Drops the bot's task entry unless a command is waiting for it (commands are only sent
    /// under the same lock, so none can slip in after this check).
    fn retire_if_idle(&self, id: BotId, control: &mpsc::UnboundedReceiver<Control>) -> bool {
        let mut tasks = self.tasks.lock().unwrap_or_else(PoisonError::into_inner);
        if !control.is_empty() {
            return false;
        }
        tasks.remove(&id);
        true
    }

    /// Records a status change the runtime made (a halt, the end of the running time) through
    /// the lifecycle table, under the same lock as the bot service's changes: a change the
    /// table refuses (pausing a stopped bot, say) leaves the status as it is.
    async fn record_status(&self, id: BotId, command: LifecycleCommand, reason: &str) {
        let _guard = self.writes.lock().await;
        let Ok(bot) = self.store.bot(id).await else { return };
        let Ok(to) = bot.status.apply(command) else {
            tracing::info!(bot = %id, status = %bot.status, reason, "status left as it is");
            return;
        };
        if to == bot.status {
            return;
        }
        let change = StatusChange { id, from: bot.status, to, kill: false, reason: reason.to_owned() };
        match self.store.change_status(&[change], clock::now()).await {
            Ok(bots) => {
                for bot in bots {
                    tracing::info!(bot = %bot.id, status = %bot.status, reason, "bot status changed by the runtime");
                    self.events.publish(Event { at: bot.updated_at, kind: EventKind::BotChanged(Box::new(bot)) });
                }
            }
            Err(error) => tracing::error!(bot = %id, %error, "cannot record the bot's status"),
        }
    }

    /// Records a P&L mark of bot `id` and publishes its position and P&L.
    async fn record_mark(&self, id: BotId, record: &store::MarkRow, now: domain::time::Timestamp) {
        match self.store.record_mark(record, now).await {
            Ok(position) => {
                self.events.publish(Event { at: now, kind: EventKind::PositionChanged(Box::new(position)) });
                let (total_pnl, current_balance) = (record.total_pnl, record.current_balance);
                self.events.publish(Event { at: now, kind: EventKind::Pnl { bot: id, total_pnl, current_balance } });
            }
            Err(e) => tracing::error!(bot = %id, error = %e, "cannot record the P&L mark"),
        }
    }

    /// Records and publishes an alert.
    async fn alert(&self, bot: Option<BotId>, kind: AlertKind, message: &str) {
        tracing::warn!(bot = ?bot.map(|b| b.0), %kind, message, "alert");
        match self.store.insert_alert(bot, kind, message, clock::now()).await {
            Ok(alert) => {
                self.notifier.notify(&alert);
                self.events.publish(Event { at: alert.created_at, kind: EventKind::AlertRaised(Box::new(alert)) });
            }
            Err(error) => tracing::error!(%error, "cannot record the alert"),
        }
    }
}
