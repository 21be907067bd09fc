//! One bot's task: feeds the engine's bot with market data, timers, commands and what the
//! executor reports, and carries out what the bot outputs: every order is written to the
//! database before it is sent, every fill and state change is stored, logged and published.

use std::{collections::VecDeque, sync::Arc, time::Duration};

use domain::{
    alert::AlertKind,
    bot::{Bot as BotRow, BotId, BotStatus, LifecycleCommand},
    event::{Event, EventKind},
    feed::ExternalData,
    money::{Price, Qty, Quote},
    order::Side,
    strategy::{StrategyId, StrategyParams},
    time::Timestamp,
};
use engine::{
    bot::{Bot, Command, FillReport, Input, Output},
    intent::OrderIntent,
    risk::Approved,
    strategy::event_filler::ExternalSignal,
};
use store::{MarkRow, PositionRow, RiskMemoryRow};
use tokio::sync::{mpsc, oneshot, watch};

use super::{
    Inner,
    executor::{Executor, Report},
    hub::Subscription,
    ledger::{Booking, Ledger, STORED_DP},
    rebuild::wallet_fill,
};
use crate::clock;

/// Pause before following a fresh feed after one ended.
const RESUBSCRIBE_AFTER: Duration = Duration::from_secs(1);
/// How often open live orders are polled.
pub(crate) const POLL_INTERVAL: Duration = Duration::from_millis(500);
/// Least time between two price-driven P&L marks of a bot.
const MARK_INTERVAL_MS: i64 = 5_000;

/// A message to a bot task.
#[derive(Debug)]
pub(crate) enum Control {
    /// A person's command (already recorded by the bot service).
    Command(Command),
    /// Stop following the bot (its configuration changed); acknowledged once the task is gone.
    Retire(oneshot::Sender<()>),
    /// Cancel every open order (the daemon is shutting down and was asked to); acknowledged
    /// once the venue has answered or the wait ran out.
    CancelOpenOrders(oneshot::Sender<()>),
    /// A signal pushed in through the API.
    Signal(ExternalSignal),
}

/// How many polls a shutdown waits for cancels to be confirmed.
pub(crate) const CANCEL_POLLS: u32 = 20;

/// A running bot.
pub(crate) struct BotTask {
    pub(crate) inner: Arc<Inner>,
    pub(crate) row: BotRow,
    pub(crate) bot: Bot,
    pub(crate) executor: Executor,
    /// Rung when the account's feed has news of the bot's live orders.
    pub(crate) wake: Arc<tokio::sync::Notify>,
    pub(crate) market: Subscription,
    /// The latest external market data.
    pub(crate) external: watch::Receiver<ExternalData>,
    pub(crate) ledger: Ledger,
    /// When the P&L was last marked, and at what holdings.
    pub(crate) marked: Option<(Timestamp, Qty)>,
}

/// How long from `now` until `wake` (nothing once it has passed).
pub(crate) fn until(wake: Timestamp, now: Timestamp) -> Duration {
    Duration::from_millis(u64::try_from(wake.millis() - now.millis()).unwrap_or(0))
}

impl BotTask {
    fn id(&self) -> BotId {
        self.row.id
    }

    /// Runs until the bot is done (not running, nothing open), retired, or the daemon stops.
    pub(crate) async fn run(mut self, reports: Vec<Report>, mut control: mpsc::UnboundedReceiver<Control>) {
        self.apply(reports).await;
        loop {
            let now = clock::now();
            let wake = self.bot.next_wakeup().map(|at| until(at, now));
            let polling = self.executor.needs_polling();
            let next_read = self.executor.next_read(now);
            tokio::select! {
                biased;
                () = self.inner.shutdown.cancelled() => return,
                message = control.recv() => match message {
                    Some(Control::Command(command)) => self.step(VecDeque::from([Input::Command(command)])).await,
                    Some(Control::Retire(ack)) => {
                        self.inner.forget(self.id());
                        let _ = ack.send(());
                        return;
                    }
                    Some(Control::Signal(signal)) => self.step(VecDeque::from([Input::Signal(signal)])).await,
                    Some(Control::CancelOpenOrders(ack)) => {
                        self.cancel_open_orders().await;
                        let _ = ack.send(());
                    }
                    None => return,
                },
                changed = self.market.trades.changed() => {
                    if changed.is_err() {
                        self.follow_a_fresh_feed().await;
                        continue;
                    }
                    let trade = *self.market.trades.borrow_and_update();
                    if let Some(trade) = trade {
                        let reports = self.executor.on_trade(trade, clock::now());
                        self.apply(reports).await;
                        self.step(VecDeque::from([Input::Price(trade.price)])).await;
                        self.inner.stats.event(trade.received.elapsed());
                    }
                }
                changed = self.market.candles.changed() => {
                    if changed.is_err() {
                        self.follow_a_fresh_feed().await;
                        continue;
                    }
                    let candle = *self.market.candles.borrow_and_update();
                    if let Some(candle) = candle {
                        self.step(VecDeque::from([Input::Candle(candle)])).await;
                    }
                }
                Ok(()) = self.external.changed() => {
                    let data = self.external.borrow_and_update().clone();
                    self.step(VecDeque::from([Input::External(data)])).await;
                }
                () = tokio::time::sleep(wake.unwrap_or_default()), if wake.is_some() => {
                    self.step(VecDeque::from([Input::Tick])).await;
                }
                () = self.wake.notified(), if polling => {
                    let reports = self.executor.poll(clock::now()).await;
                    self.apply(reports).await;
                }
                () = tokio::time::sleep(next_read.unwrap_or_default()), if next_read.is_some() => {
                    let reports = self.executor.poll(clock::now()).await;
                    self.apply(reports).await;
                }
            }
            if self.ledger.broken {
                self.inner.forget(self.id());
                tracing::error!(bot = %self.id(), "bot task stopped after a storage failure; a restart reconciles it");
                return;
            }
            let done = self.bot.status() != BotStatus::Running && !self.bot.has_open_orders();
            if done && !self.executor.needs_polling() && self.inner.retire_if_idle(self.id(), &control) {
                tracing::info!(bot = %self.id(), status = %self.bot.status(), "bot task finished: nothing left to follow");
                return;
            }
        }
    }

    /// The feed ended (its venue stream closed): follow a fresh one, after a pause so a venue
    /// that keeps closing streams is not hammered.
    async fn follow_a_fresh_feed(&mut self) {
        tokio::time::sleep(RESUBSCRIBE_AFTER).await;
        self.market = self.inner.resubscribe(&self.row);
    }

    /// Cancels every open order and follows them until the venue confirms (or the wait ends).
    async fn cancel_open_orders(&mut self) {
        // The engine must place nothing more: pause it (in memory only; the bot keeps its
        // recorded status and resumes at the next start).
        let _ = self.bot.handle(clock::now(), Input::Command(Command::Pause));
        for id in self.bot.open_order_ids() {
            let now = clock::now();
            self.ledger.journal.audit(now, &format!("{id} cancel requested: the daemon is shutting down")).await;
            let reports = self.executor.cancel(&id, now).await;
            self.apply(reports).await;
        }
        for _ in 0..CANCEL_POLLS {
            if !self.executor.needs_polling() {
                break;
            }
            tokio::time::sleep(POLL_INTERVAL).await;
            let reports = self.executor.poll(clock::now()).await;
            self.apply(reports).await;
        }
    }

    /// Records reports, then hands them to the bot.
    async fn apply(&mut self, reports: Vec<Report>) {
        if reports.is_empty() {
            return;
        }
        let mut inputs = VecDeque::new();
        for report in reports {
            inputs.extend(self.record(report).await);
        }
        self.step(inputs).await;
    }

    /// Runs inputs through the bot and carries out its outputs, including the inputs those
    /// produce, until nothing is left.
    async fn step(&mut self, mut inputs: VecDeque<Input>) {
        let mut filled = false;
        while let Some(input) = inputs.pop_front() {
            let now = clock::now();
            for output in self.bot.handle(now, input) {
                match output {
                    Output::Place(order) => {
                        let reports = self.place(order, now).await;
                        for report in reports {
                            inputs.extend(self.record(report).await);
                        }
                    }
                    Output::Cancel { client_order_id, reason } => {
                        self.ledger.journal.audit(now, &format!("{client_order_id} cancel requested: {reason}")).await;
                        let reports = self.executor.cancel(&client_order_id, now).await;
                        for report in reports {
                            inputs.extend(self.record(report).await);
                        }
                    }
                    Output::Status { status, reason } => self.record_status(status, &reason).await,
                    Output::Refused { intent, reason } => {
                        tracing::info!(bot = %self.id(), order = %intent.client_order_id, %reason, "intent refused");
                        self.ledger.journal.audit(now, &format!("{} refused: {reason}", intent.client_order_id)).await;
                    }
                    Output::Alert { kind, message } => self.inner.alert(Some(self.id()), kind, &message).await,
                    Output::PositionChanged => filled = true,
                    Output::Switched { from, to, reason } => self.record_switch(from, to, &reason).await,
                    Output::Rotated { from, to, params, reason } => {
                        self.record_rotation(from, to, params, &reason).await;
                    }
                }
            }
        }
        self.mark(filled).await;
    }

    /// Writes the order ahead, then sends it.
    async fn place(&mut self, order: Approved<OrderIntent>, now: Timestamp) -> Vec<Report> {
        let to = (self.row.config.strategy.as_str(), self.row.config.exchange.as_str());
        if let Err(refusal) = self.ledger.write_ahead(&order, to, self.bot.next_seq(), now).await {
            return vec![refusal];
        }
        self.executor.place(&order, now).await
    }

    /// Stores a report; returns what the bot must be told (a report that cannot be stored
    /// pauses the bot instead).
    async fn record(&mut self, report: Report) -> Option<Input> {
        let (bot, row) = (&self.bot, &self.row);
        let recorded = self.ledger.record(report, |id, side, execution| {
            let fill =
                wallet_fill(id, side, (execution.qty, execution.quote, execution.fee, &execution.fee_asset), row);
            // A sale's cost basis and result, as the wallet will book them.
            let before = bot.wallet();
            let mut after = before.clone();
            let sale = (side == Side::Sell && after.apply_fill(&fill).is_ok() && !before.holdings().value().is_zero())
                .then(|| {
                    let basis = Price::new(before.cost().value() / before.holdings().value());
                    (basis, Quote::new(after.realized_pnl().value() - before.realized_pnl().value()))
                });
            let fill = FillReport { qty: fill.qty, quote: fill.quote, fee: fill.fee, fee_in_quote: fill.fee_in_quote };
            Some(Booking { account: &row.config.exchange, pair: &row.config.pair, fill, sale })
        });
        match recorded.await {
            Ok(input) => input,
            Err(message) => {
                // Unrecorded, the report must not reach the wallet either; the bot stops trading
                // until a restart reconciles it from the venue.
                self.halt(&message).await;
                None
            }
        }
    }

    /// Records a status change the bot made itself (the bot service already recorded those a
    /// person asked for).
    async fn record_status(&mut self, status: BotStatus, reason: &str) {
        if let Some(command) = status.command() {
            self.inner.record_status(self.id(), command, reason).await;
        }
    }

    /// Records a strategy rotation (the bot's configuration follows it, so a restart runs the
    /// new strategy) and warms the new strategy up.
    async fn record_rotation(&mut self, from: StrategyId, to: StrategyId, params: StrategyParams, reason: &str) {
        let store = &self.inner.store;
        match store.record_rotation(self.id(), from, to, &params, reason, clock::now()).await {
            Ok(row) => {
                tracing::warn!(bot = %self.id(), %from, %to, reason, "strategy rotated");
                self.ledger
                    .journal
                    .audit(clock::now(), &format!("strategy rotated from {from} to {to}: {reason}"))
                    .await;
                self.inner
                    .events
                    .publish(Event { at: row.updated_at, kind: EventKind::BotChanged(Box::new(row.clone())) });
                self.row = row;
                self.inner.warm_up(&self.row, &mut self.bot).await;
            }
            Err(error) => tracing::error!(bot = %self.id(), %error, "cannot record the strategy rotation"),
        }
    }

    /// Records a switch Auto Mode made, and warms the strategy it runs now up.
    async fn record_switch(&mut self, from: StrategyId, to: StrategyId, reason: &str) {
        match self.inner.store.record_switch(self.id(), from, to, reason, clock::now()).await {
            Ok(()) => {
                tracing::info!(bot = %self.id(), %from, %to, reason, "auto mode switched strategy");
                self.ledger
                    .journal
                    .audit(clock::now(), &format!("auto mode switched from {from} to {to}: {reason}"))
                    .await;
                self.inner.warm_up(&self.row, &mut self.bot).await;
            }
            Err(error) => tracing::error!(bot = %self.id(), %error, "cannot record the auto mode switch"),
        }
    }

    /// Pauses the bot with an alert.
    async fn halt(&mut self, message: &str) {
        let outputs = self.bot.handle(clock::now(), Input::Command(Command::Pause));
        drop(outputs);
        self.inner.record_status(self.id(), LifecycleCommand::Pause, message).await;
        self.inner.alert(Some(self.id()), AlertKind::BotError, message).await;
    }

    /// Marks the position and P&L at the last price: after a fill at once, on price moves
    /// at most every few seconds and only while the bot holds something.
    async fn mark(&mut self, filled: bool) {
        let Some(mark) = self.bot.mark() else { return };
        let now = clock::now();
        let due = match self.marked {
            None => true,
            Some((at, held)) => {
                filled
                    || held != mark.holdings
                    || (now.millis() - at.millis() >= MARK_INTERVAL_MS && !mark.holdings.value().is_zero())
            }
        };
        if !due {
            return;
        }
        self.marked = Some((now, mark.holdings));
        let position = PositionRow {
            bot: self.id(),
            pair: self.row.config.pair.clone(),
            entry_price: Price::new(mark.entry_price().value().round_dp(STORED_DP)),
            current_price: mark.price,
            amount: mark.holdings,
            unrealized_pnl: Quote::new(mark.unrealized.value().round_dp(STORED_DP)),
        };
        let total = Quote::new(mark.total.value().round_dp(STORED_DP));
        let balance = Quote::new(mark.equity.value().round_dp(STORED_DP));
        let memory = self.bot.guard_memory();
        let risk = RiskMemoryRow {
            peak: memory.peak,
            day: memory.day.map(|p| (p.index, p.start_equity)),
            week: memory.week.map(|p| (p.index, p.start_equity)),
        };
        let record = MarkRow { position, current_balance: balance, total_pnl: total, risk };
        self.inner.record_mark(self.id(), &record, now).await;
    }
}
