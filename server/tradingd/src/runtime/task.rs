//! One bot's task: feeds the engine's bot with market data, timers, commands and what the
//! executor reports, and carries out what the bot outputs: every order is written to the
//! database before it is sent, every fill and state change is stored, logged and published.

use std::{
    collections::{BTreeMap, VecDeque},
    sync::Arc,
    time::Duration,
};

use domain::{
    alert::AlertKind,
    bot::{Bot as BotRow, BotId, BotStatus, LifecycleCommand},
    event::{Event, EventKind},
    money::{Price, Qty, Quote},
    order::{OrderEvent, OrderType, Side},
    strategy::{StrategyId, StrategyParams},
    time::Timestamp,
};
use engine::{
    bot::{Bot, Command, FillReport, Input, Output},
    intent::{IntentKind, IntentSize, OrderIntent},
    risk::Approved,
    strategy::event_filler::ExternalSignal,
};
use rust_decimal::Decimal;
use store::{FillRow, MarkRow, NewOrderRow, OrderUpdateRow, PositionRow, RiskMemoryRow};
use tokio::sync::{mpsc, oneshot};

use super::{
    Inner,
    executor::{Execution, Executor, Report},
    hub::Subscription,
    journal::{Journal, Sale},
    rebuild::wallet_fill,
};
use crate::clock;

/// Pause before following a fresh feed after one ended.
const RESUBSCRIBE_AFTER: Duration = Duration::from_secs(1);
/// How often open live orders are polled.
const POLL_INTERVAL: Duration = Duration::from_millis(500);
/// Least time between two price-driven P&L marks of a bot.
const MARK_INTERVAL_MS: i64 = 5_000;
/// Decimal places of stored averages and P&L figures.
const STORED_DP: u32 = 12;

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
const CANCEL_POLLS: u32 = 20;

/// The fills so far of one open order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Progress {
    side: Side,
    pub(crate) qty: Qty,
    pub(crate) quote: Quote,
    fees: Decimal,
    fee_asset: Option<String>,
}

impl Progress {
    /// No fill yet.
    pub(crate) const fn new(side: Side) -> Self {
        Self { side, qty: Qty::ZERO, quote: Quote::ZERO, fees: Decimal::ZERO, fee_asset: None }
    }

    /// Adds one fill.
    pub(crate) fn add(&mut self, qty: Qty, quote: Quote, fee: Decimal, fee_asset: &str) {
        self.qty = Qty::new(self.qty.value() + qty.value());
        self.quote = Quote::new(self.quote.value() + quote.value());
        self.fees += fee;
        self.fee_asset = Some(fee_asset.to_owned());
    }

    fn update(
        &self,
        status: domain::order::OrderStatus,
        venue_id: Option<String>,
        error: Option<String>,
    ) -> OrderUpdateRow {
        let average = (!self.qty.value().is_zero()).then(|| Price::new(self.quote.value() / self.qty.value()));
        OrderUpdateRow {
            status,
            exchange_order_id: venue_id,
            filled_amount: self.qty,
            average_price: average,
            fees: Qty::new(self.fees),
            fee_asset: self.fee_asset.clone(),
            error,
        }
    }
}

/// A running bot.
pub(crate) struct BotTask {
    pub(crate) inner: Arc<Inner>,
    pub(crate) row: BotRow,
    pub(crate) bot: Bot,
    pub(crate) executor: Executor,
    pub(crate) market: Subscription,
    pub(crate) journal: Journal,
    pub(crate) progress: BTreeMap<String, Progress>,
    /// When the P&L was last marked, and at what holdings.
    pub(crate) marked: Option<(Timestamp, Qty)>,
    /// A report could not be stored: the task records nothing more and ends, leaving the
    /// bot's orders open in the database for the next start to reconcile.
    pub(crate) broken: bool,
}

fn order_type(intent: &OrderIntent) -> OrderType {
    match (intent.side, intent.kind) {
        (Side::Buy, IntentKind::Market) => OrderType::MarketBuy,
        (Side::Sell, IntentKind::Market) => OrderType::MarketSell,
        (Side::Buy, IntentKind::Limit(_)) => OrderType::LimitBuy,
        (Side::Sell, IntentKind::Limit(_)) => OrderType::LimitSell,
    }
}

fn until(wake: Timestamp, now: Timestamp) -> Duration {
    Duration::from_millis(u64::try_from(wake.millis() - now.millis()).unwrap_or(0))
}

impl BotTask {
    fn id(&self) -> BotId {
        self.row.id
    }

    fn simulated(&self) -> bool {
        self.row.config.is_dry_run
    }

    /// Runs until the bot is done (not running, nothing open), retired, or the daemon stops.
    pub(crate) async fn run(mut self, reports: Vec<Report>, mut control: mpsc::UnboundedReceiver<Control>) {
        self.apply(reports).await;
        loop {
            let now = clock::now();
            let wake = self.bot.next_wakeup().map(|at| until(at, now));
            let polling = self.executor.needs_polling();
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
                () = tokio::time::sleep(wake.unwrap_or_default()), if wake.is_some() => {
                    self.step(VecDeque::from([Input::Tick])).await;
                }
                () = tokio::time::sleep(POLL_INTERVAL), if polling => {
                    let reports = self.executor.poll(clock::now()).await;
                    self.apply(reports).await;
                }
            }
            if self.broken {
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
            self.journal.audit(now, &format!("{id} cancel requested: the daemon is shutting down")).await;
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
                        self.journal.audit(now, &format!("{client_order_id} cancel requested: {reason}")).await;
                        let reports = self.executor.cancel(&client_order_id, now).await;
                        for report in reports {
                            inputs.extend(self.record(report).await);
                        }
                    }
                    Output::Status { status, reason } => self.record_status(status, &reason).await,
                    Output::Refused { intent, reason } => {
                        tracing::info!(bot = %self.id(), order = %intent.client_order_id, %reason, "intent refused");
                        self.journal.audit(now, &format!("{} refused: {reason}", intent.client_order_id)).await;
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
        let intent = order.get();
        let id = intent.client_order_id.clone();
        let row = NewOrderRow {
            bot: self.id(),
            client_order_id: id.clone(),
            next_seq: self.bot.next_seq(),
            order_type: order_type(intent),
            pair: intent.pair.clone(),
            amount: match intent.size {
                IntentSize::Base(qty) => Some(qty),
                IntentSize::Quote(_) => None,
            },
            price: match intent.kind {
                IntentKind::Limit(price) => Some(price),
                IntentKind::Market => None,
            },
            quote_amount: match intent.size {
                IntentSize::Quote(quote) => Some(quote),
                IntentSize::Base(_) => None,
            },
            strategy: self.row.config.strategy.as_str().to_owned(),
            decision: intent.decision.record(),
            simulated: self.simulated(),
        };
        if let Err(error) = self.inner.store.insert_order(&row, now).await {
            let message = format!("order {id} not sent: it could not be written first: {error}");
            self.inner.alert(Some(self.id()), AlertKind::BotError, &message).await;
            return vec![Report::refused(&id, OrderEvent::Rejected, message)];
        }
        self.progress.insert(id.clone(), Progress::new(intent.side));
        let d = &intent.decision;
        let line = format!(
            "{id} placed: {} {:?} {:?} ({}; budget {} -> {})",
            intent.side, intent.kind, intent.size, d.summary, d.budget_before, d.budget_after
        );
        self.journal.audit(now, &line).await;
        self.publish_order(&id).await;
        self.inner.stats.order();
        self.executor.place(&order, now).await
    }

    /// Stores a report; returns what the bot must be told (nothing for a fill already stored).
    async fn record(&mut self, report: Report) -> Option<Input> {
        if self.broken {
            return None;
        }
        match report {
            Report::Fill { client_order_id, execution } => self.record_fill(client_order_id, execution).await,
            Report::Unreadable { client_order_id, error } => {
                let message = format!(
                    "bot {}: the venue has not said what became of order {client_order_id} for a minute ({error}); \
                     the bot waits for it and keeps asking",
                    self.id()
                );
                self.journal.audit(clock::now(), &message).await;
                self.inner.alert(Some(self.id()), AlertKind::BotError, &message).await;
                None
            }
            Report::Status { client_order_id, event, venue_id, error } => {
                self.record_order_event(&client_order_id, event, venue_id, error).await;
                Some(Input::Order { client_order_id, event, fill: None })
            }
        }
    }

    async fn record_fill(&mut self, id: String, execution: Execution) -> Option<Input> {
        let Some(side) = self.progress.get(&id).map(|p| p.side) else {
            tracing::warn!(bot = %self.id(), order = %id, "fill of an order the bot does not follow; ignored");
            return None;
        };
        let fill =
            wallet_fill(&id, side, (execution.qty, execution.quote, execution.fee, &execution.fee_asset), &self.row);
        // A sale's cost basis and result, as the wallet will book them.
        let before = self.bot.wallet();
        let mut after = before.clone();
        let sale = (side == Side::Sell && after.apply_fill(&fill).is_ok() && !before.holdings().value().is_zero())
            .then(|| {
                let basis = Price::new(before.cost().value() / before.holdings().value());
                (basis, Quote::new(after.realized_pnl().value() - before.realized_pnl().value()))
            });
        let row = FillRow {
            bot: self.id(),
            client_order_id: id.clone(),
            exchange: self.row.config.exchange.clone(),
            venue_trade_id: execution.trade_id.clone(),
            side,
            pair: self.row.config.pair.clone(),
            price: execution.price,
            qty: execution.qty,
            quote: execution.quote,
            fee: Qty::new(execution.fee),
            fee_asset: execution.fee_asset.clone(),
            cost_basis: sale.map(|(basis, _)| basis),
            realized_pnl: sale.map(|(_, gain)| gain),
            at: execution.at,
            simulated: self.simulated(),
        };
        match self.inner.store.record_fill(&row).await {
            Ok(true) => {}
            Ok(false) => return None,
            Err(error) => {
                // Unrecorded, the fill must not reach the wallet either; the bot stops trading
                // until a restart reconciles it from the venue.
                let message = format!("fill {} of order {id} could not be stored: {error}", execution.trade_id);
                self.broken = true;
                self.halt(&message).await;
                return None;
            }
        }
        if let Some(p) = self.progress.get_mut(&id) {
            p.add(execution.qty, execution.quote, execution.fee, &execution.fee_asset);
        }
        let line = format!(
            "{id} fill {}: {} {} at {} (fee {} {})",
            execution.trade_id, side, execution.qty, execution.price, execution.fee, execution.fee_asset
        );
        self.journal.audit(execution.at, &line).await;
        if let Some((basis, gain)) = sale {
            let sale = Sale {
                at: execution.at,
                token: self.row.config.pair.base().to_owned(),
                amount: execution.qty,
                buy_price: basis,
                sale_price: execution.price,
                gain,
            };
            self.journal.sale(&sale).await;
        }
        self.record_order_event(&id, OrderEvent::PartiallyFilled, None, None).await;
        let report = FillReport { qty: fill.qty, quote: fill.quote, fee: fill.fee, fee_in_quote: fill.fee_in_quote };
        Some(Input::Order { client_order_id: id, event: OrderEvent::PartiallyFilled, fill: Some(report) })
    }

    /// Stores an order's new state per the lifecycle table. An event the table refuses leaves
    /// the row as it is; the bot, told the same event, pauses with an alert.
    async fn record_order_event(
        &mut self,
        id: &str,
        event: OrderEvent,
        venue_id: Option<String>,
        error: Option<String>,
    ) {
        let store = &self.inner.store;
        let current = match store.order(self.id(), self.simulated(), id).await {
            Ok(order) => order.status,
            Err(e) => {
                tracing::error!(bot = %self.id(), order = id, error = %e, "cannot read the order");
                return;
            }
        };
        let Ok(next) = current.transition(event) else { return };
        let progress = self.progress.get(id).cloned().unwrap_or_else(|| Progress::new(Side::Buy));
        let update = progress.update(next, venue_id, error.clone());
        if let Err(e) = store.update_order(self.id(), id, self.simulated(), &update, clock::now()).await {
            tracing::error!(bot = %self.id(), order = id, error = %e, "cannot record the order's state");
            return;
        }
        if !next.is_open() {
            self.progress.remove(id);
        }
        if event != OrderEvent::PartiallyFilled {
            let why = error.map(|e| format!(": {e}")).unwrap_or_default();
            self.journal.audit(clock::now(), &format!("{id} {current} -> {next} ({event:?}){why}")).await;
        }
        self.publish_order(id).await;
    }

    async fn publish_order(&self, id: &str) {
        if let Ok(order) = self.inner.store.order(self.id(), self.simulated(), id).await {
            self.inner.events.publish(Event { at: order.updated_at, kind: EventKind::OrderChanged(Box::new(order)) });
        }
    }

    /// Records a status change the bot made itself (the bot service already recorded those a
    /// person asked for).
    async fn record_status(&mut self, status: BotStatus, reason: &str) {
        let command = match status {
            BotStatus::Paused => LifecycleCommand::Pause,
            BotStatus::Stopped => LifecycleCommand::Stop,
            BotStatus::Running => LifecycleCommand::Start,
            BotStatus::Created => return,
        };
        self.inner.record_status(self.id(), command, reason).await;
    }

    /// Records a strategy rotation (the bot's configuration follows it, so a restart runs the
    /// new strategy) and warms the new strategy up.
    async fn record_rotation(&mut self, from: StrategyId, to: StrategyId, params: StrategyParams, reason: &str) {
        let store = &self.inner.store;
        match store.record_rotation(self.id(), from, to, &params, reason, clock::now()).await {
            Ok(row) => {
                tracing::warn!(bot = %self.id(), %from, %to, reason, "strategy rotated");
                self.journal.audit(clock::now(), &format!("strategy rotated from {from} to {to}: {reason}")).await;
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
                self.journal.audit(clock::now(), &format!("auto mode switched from {from} to {to}: {reason}")).await;
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
        match self.inner.store.record_mark(&record, now).await {
            Ok(position) => {
                let events = &self.inner.events;
                events.publish(Event { at: now, kind: EventKind::PositionChanged(Box::new(position)) });
                let pnl = EventKind::Pnl { bot: self.id(), total_pnl: total, current_balance: balance };
                events.publish(Event { at: now, kind: pnl });
            }
            Err(e) => tracing::error!(bot = %self.id(), error = %e, "cannot record the P&L mark"),
        }
    }
}
