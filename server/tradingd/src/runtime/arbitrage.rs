//! An arbitrage bot's task: feeds the engine's [`ArbitrageBot`] the best prices of the markets
//! its cycles trade (a triangle of pairs on the bot's venue account, or its pair on its account
//! and on a second one), sends each leg through the executor of its market (live on the venue,
//! or paper fills for a dry run) after writing it to the database with the account it goes to,
//! and hands back what the executors report.
//!
//! A restart rebuilds the bot's balance of every asset, and what each holding cost, from its
//! stored fills, and takes over an order still open. A cycle the restart interrupted (an order
//! was open, or the last fill left the wallet holding what only a further leg sells: the bridge
//! or target of a triangle) pauses a running bot with an alert: whether to go on is a person's
//! decision.

use std::{collections::VecDeque, sync::Arc, time::Duration};

use domain::{
    bot::{Bot as BotRow, BotId, BotStatus, LifecycleCommand},
    money::{Price, Qty, Quote},
    pair::Pair,
    time::Timestamp,
};
use engine::{
    arbitrage::{ArbitrageBot, ArbitrageInput, ArbitrageOutput, ArbitrageState, Errand, Layout},
    bot::{Command, Input, Output},
    intent::OrderIntent,
    risk::Approved,
    strategy::arbitrage::{ArbitrageParams, Mode, Top, triangle},
};
use exchange::{Exchange, types::SymbolInfo};
use rust_decimal::Decimal;
use store::{MarkRow, PositionRow, RiskMemoryRow};
use tokio::sync::{Notify, mpsc};

use super::{
    Inner,
    executor::{Executor, Report},
    ledger::{Booking, Ledger, STORED_DP},
    rebuild::{RebuildError, booked_fill, ends_at, executor, progress_of},
    task::{CANCEL_POLLS, Control, POLL_INTERVAL, until},
};
use crate::clock;

#[cfg(test)]
mod tests;

/// How often the markets' best prices are read while the bot runs.
const TOPS_EVERY: Duration = Duration::from_secs(1);

/// A market the bot trades: where, its rules and fees, and the executor of its orders.
struct Market {
    account: String,
    venue: Arc<dyn Exchange>,
    symbol: SymbolInfo,
    executor: Executor,
}

/// A running arbitrage bot.
pub(crate) struct ArbitrageTask {
    inner: Arc<Inner>,
    row: BotRow,
    bot: ArbitrageBot,
    markets: Vec<Market>,
    ledger: Ledger,
    /// Rung when an account feed has news of its live orders.
    wake: Arc<Notify>,
}

/// An arbitrage bot rebuilt from the database, with what reconciling its open order found.
pub(crate) struct Rebuilt {
    task: ArbitrageTask,
    /// What the venue reported about the open order, still to be recorded.
    reports: Vec<Report>,
    /// Why the bot must pause before trading (a cycle the restart interrupted).
    interrupted: Option<String>,
}

fn unreconcilable(error: impl std::fmt::Display) -> RebuildError {
    RebuildError::Unreconcilable(error.to_string())
}

/// Rebuilds the arbitrage bot of `row` and reconciles its open order with the venue.
///
/// # Errors
/// [`RebuildError`] when the bot cannot trade.
pub(crate) async fn rebuild(inner: &Arc<Inner>, row: &BotRow, now: Timestamp) -> Result<Rebuilt, RebuildError> {
    let params = ArbitrageParams::from_params(&row.config.strategy_params).map_err(unreconcilable)?;
    let own = row.config.exchange.clone();
    let traded: Vec<(String, Pair)> = match &params.mode {
        Mode::Triangular { bridge } => {
            let pairs = triangle(&row.config.pair, bridge).map_err(unreconcilable)?;
            pairs.into_iter().map(|pair| (own.clone(), pair)).collect()
        }
        Mode::CrossExchange { second_exchange } => {
            vec![(own.clone(), row.config.pair.clone()), (second_exchange.clone(), row.config.pair.clone())]
        }
    };
    let simulated = row.config.is_dry_run;
    let mut markets = Vec::new();
    let wake = Arc::new(Notify::new());
    for (name, pair) in &traded {
        let (account, venue, _) =
            inner.venues.get(name).ok_or_else(|| unreconcilable(format!("no venue account named {name:?}")))?;
        let symbol = inner.symbol(account, pair).await.map_err(unreconcilable)?;
        let executor = executor(inner, account, Arc::clone(&venue), symbol.clone(), simulated, &wake);
        markets.push(Market { account: account.to_owned(), venue, symbol, executor });
    }
    let market_of =
        |account: &str, pair: &Pair| markets.iter().position(|m| m.account == account && &m.symbol.rules.pair == pair);

    let store = &inner.store;
    let fills = store.bot_fills(row.id, simulated).await.map_err(unreconcilable)?;
    let open = store.open_orders(row.id, simulated).await.map_err(unreconcilable)?;
    let next_seq = store.next_order_seq(row.id).await.map_err(unreconcilable)?;
    let start = Layout::of(&params.mode).starting_balances(row.config.budget);
    let state = ArbitrageState {
        id: row.id,
        order_prefix: store.order_prefix().await.map_err(unreconcilable)?.into(),
        markets: markets.iter().map(|m| m.symbol.rules.clone()).collect(),
        fee_rate: markets.iter().map(|m| m.symbol.taker_fee).max().unwrap_or_default(),
        params,
        budget: row.config.budget,
        compound: row.config.compound_enabled,
        costs: start.clone(),
        balances: start,
        status: row.status,
        killed: row.killed_at.is_some(),
        next_seq,
    };
    let mut bot = ArbitrageBot::new(state);
    for fill in &fills {
        let market = market_of(&fill.exchange, &fill.pair).ok_or_else(|| {
            unreconcilable(format!("a fill on {} {} is on none of its markets", fill.exchange, fill.pair))
        })?;
        let booked = booked_fill(&fill.pair, (fill.qty, fill.quote, fill.fee.value(), &fill.fee_asset));
        bot.replay(market, fill.side, &booked);
    }

    let mut progress = std::collections::BTreeMap::new();
    let mut reports = Vec::new();
    match open.as_slice() {
        [] => {}
        [order] => {
            let account = order.exchange.as_deref().unwrap_or(&own);
            let market = market_of(account, &order.pair)
                .ok_or_else(|| unreconcilable(format!("order {} is on none of its markets", order.client_order_id)))?;
            let order_progress = progress_of(order, &fills);
            bot.adopt(&order.client_order_id, market, super::rebuild::side_of(order));
            progress.insert(order.client_order_id.clone(), order_progress);
            let executor = &mut markets[market].executor;
            reports = executor.reconcile(std::slice::from_ref(order), &progress, now).await.map_err(unreconcilable)?;
        }
        _ => return Err(unreconcilable("more than one order is open, and an arbitrage bot sends one at a time")),
    }
    let last_fill = fills.last().map(|f| f.at);
    let resumed_midway = bot.midway() && last_fill > row.started_at;
    let interrupted = (row.status == BotStatus::Running && (!open.is_empty() || resumed_midway)).then(|| {
        let holdings = holdings(&bot, &markets);
        format!(
            "bot {} paused: a restart interrupted an arbitrage cycle; it holds {holdings}. Start it to go on \
             (what it holds besides {} is sold back once worth an order), or sell it yourself",
            row.id,
            row.config.pair.quote()
        )
    });
    let ledger = Ledger::new(Arc::clone(inner), row.id, simulated, progress);
    let task = ArbitrageTask { inner: Arc::clone(inner), row: row.clone(), bot, markets, ledger, wake };
    Ok(Rebuilt { task, reports, interrupted })
}

/// The bot's balances, named: `900 USDT, 0.0025 BTC, 0 ETH` (across venues, each with its
/// account: `500 USDT on sim, ...`).
fn holdings(bot: &ArbitrageBot, markets: &[Market]) -> String {
    let layout = bot.layout();
    let venues = markets.iter().any(|m| m.account != markets[0].account);
    let mut names = vec![String::new(); layout.valued_by.len()];
    for (market, (base, quote)) in markets.iter().zip(layout.assets) {
        let at = if venues { format!(" on {}", market.account) } else { String::new() };
        names[*base] = format!("{}{at}", market.symbol.rules.pair.base());
        names[*quote] = format!("{}{at}", market.symbol.rules.pair.quote());
    }
    let named: Vec<String> =
        bot.balances().iter().zip(names).map(|(balance, name)| format!("{} {name}", balance.normalize())).collect();
    named.join(", ")
}

impl Rebuilt {
    /// Runs the bot: records what reconciliation found, pauses an interrupted one, then trades
    /// until it is done, retired, or the daemon stops.
    pub(crate) async fn run(self, control: mpsc::UnboundedReceiver<Control>) {
        let Self { mut task, reports, interrupted } = self;
        if let Some(message) = interrupted {
            task.halt(&message).await;
        }
        task.apply(reports).await;
        if task.row.killed_at.is_some() && task.bot.in_flight().is_some() {
            // Killed while a leg was open (before a crash, say): cancel it now.
            task.step(VecDeque::from([ArbitrageInput::Bot(Input::Command(Command::Kill))])).await;
        }
        task.run(control).await;
    }
}

impl ArbitrageTask {
    const fn id(&self) -> BotId {
        self.row.id
    }

    fn polling(&self) -> bool {
        self.markets.iter().any(|m| m.executor.needs_polling())
    }

    async fn run(mut self, mut control: mpsc::UnboundedReceiver<Control>) {
        tracing::info!(bot = %self.id(), markets = self.markets.len(), "arbitrage task started");
        let mut tops = tokio::time::interval(TOPS_EVERY);
        tops.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let ends_at = ends_at(&self.row);
        loop {
            // Checked before waiting: a stopped bot with nothing open has nothing to wait for.
            if self.ledger.broken {
                self.inner.forget(self.id());
                tracing::error!(bot = %self.id(), "arbitrage task stopped after a storage failure; a restart reconciles it");
                return;
            }
            let done = self.bot.status() != BotStatus::Running && self.bot.in_flight().is_none();
            if done && !self.polling() && self.inner.retire_if_idle(self.id(), &control) {
                tracing::info!(bot = %self.id(), status = %self.bot.status(), "arbitrage task finished");
                return;
            }
            let polling = self.polling();
            let next_read = self.markets.iter().filter_map(|m| m.executor.next_read(clock::now())).min();
            let running = self.bot.status() == BotStatus::Running;
            let time_left = ends_at.map(|end| until(end, clock::now()));
            if running && time_left == Some(Duration::ZERO) && !self.bot.ending() {
                // Over already (a zero sleep would only fire at the timer's next tick, after
                // prices that could start a cycle).
                self.step(VecDeque::from([ArbitrageInput::TimeUp])).await;
                continue;
            }
            tokio::select! {
                biased;
                () = self.inner.shutdown.cancelled() => return,
                message = control.recv() => match message {
                    Some(Control::Command(command)) => {
                        self.step(VecDeque::from([ArbitrageInput::Bot(Input::Command(command))])).await;
                    }
                    Some(Control::Retire(ack)) => {
                        self.inner.forget(self.id());
                        let _ = ack.send(());
                        return;
                    }
                    Some(Control::CancelOpenOrders(ack)) => {
                        self.cancel_open_order().await;
                        let _ = ack.send(());
                    }
                    // Signals mean nothing to arbitrage.
                    Some(Control::Signal(_)) => {}
                    None => return,
                },
                () = tokio::time::sleep(time_left.unwrap_or_default()),
                    if running && time_left.is_some() && !self.bot.ending() =>
                {
                    self.step(VecDeque::from([ArbitrageInput::TimeUp])).await;
                }
                _ = tops.tick(), if running => {
                    if let Some(tops) = self.tops().await {
                        self.step(VecDeque::from([ArbitrageInput::Tops(tops)])).await;
                    }
                }
                () = self.wake.notified(), if polling => self.poll().await,
                () = tokio::time::sleep(next_read.unwrap_or_default()), if next_read.is_some() => {
                    self.poll().await;
                }
            }
        }
    }

    /// The best prices of every market from the hub's book snapshots (shared with paper
    /// fills); none while a market's book cannot be read or is empty.
    async fn tops(&self) -> Option<Vec<Top>> {
        let mut tops = Vec::with_capacity(self.markets.len());
        for market in &self.markets {
            let pair = &market.symbol.rules.pair;
            let book = match self.inner.hub.book(&market.account, &market.venue, pair).await {
                Ok(book) => book,
                Err(error) => {
                    tracing::warn!(bot = %self.id(), %pair, %error, "no order book; the bot waits");
                    return None;
                }
            };
            let (bid, ask) = (book.bids.first()?, book.asks.first()?);
            tops.push(Top { bid: bid.price, bid_qty: bid.qty, ask: ask.price, ask_qty: ask.qty });
        }
        Some(tops)
    }

    /// Polls the markets with live orders open.
    async fn poll(&mut self) {
        let mut reports = Vec::new();
        for market in &mut self.markets {
            reports.extend(market.executor.poll(clock::now()).await);
        }
        self.apply(reports).await;
    }

    /// Cancels the order in flight and follows it until the venue confirms (or the wait ends).
    async fn cancel_open_order(&mut self) {
        // The engine must send nothing more: pause it (in memory only; the recorded status is
        // kept, so the bot resumes at the next start).
        let _ = self.bot.handle(ArbitrageInput::Bot(Input::Command(Command::Pause)));
        if let Some((id, market)) = self.bot.in_flight().map(|(id, market)| (id.to_owned(), market)) {
            let now = clock::now();
            self.ledger.journal.audit(now, &format!("{id} cancel requested: the daemon is shutting down")).await;
            let reports = self.markets[market].executor.cancel(&id, now).await;
            self.apply(reports).await;
        }
        for _ in 0..CANCEL_POLLS {
            if !self.polling() {
                break;
            }
            tokio::time::sleep(POLL_INTERVAL).await;
            self.poll().await;
        }
    }

    /// Records reports, then hands them to the bot.
    async fn apply(&mut self, reports: Vec<Report>) {
        let mut inputs = VecDeque::new();
        for report in reports {
            inputs.extend(self.record(report).await);
        }
        if !inputs.is_empty() {
            self.step(inputs).await;
        }
    }

    /// Runs inputs through the bot and carries out its outputs, including the inputs those
    /// produce, until nothing is left.
    async fn step(&mut self, mut inputs: VecDeque<ArbitrageInput>) {
        while let Some(input) = inputs.pop_front() {
            for output in self.bot.handle(input) {
                let now = clock::now();
                match output {
                    ArbitrageOutput::Place { order, market } => {
                        for report in self.place(&order, market, now).await {
                            inputs.extend(self.record(report).await);
                        }
                    }
                    ArbitrageOutput::Ended { result, errand } => self.ended(result, errand, now).await,
                    ArbitrageOutput::Bot(Output::Cancel { client_order_id, reason }) => {
                        self.ledger.journal.audit(now, &format!("{client_order_id} cancel requested: {reason}")).await;
                        let market = self.bot.in_flight().filter(|(id, _)| *id == client_order_id).map(|(_, m)| m);
                        if let Some(market) = market {
                            for report in self.markets[market].executor.cancel(&client_order_id, now).await {
                                inputs.extend(self.record(report).await);
                            }
                        }
                    }
                    ArbitrageOutput::Bot(Output::Status { status, reason }) => {
                        if let Some(command) = status.command() {
                            self.inner.record_status(self.id(), command, &reason).await;
                        }
                    }
                    ArbitrageOutput::Bot(Output::Refused { intent, reason }) => {
                        tracing::info!(bot = %self.id(), order = %intent.client_order_id, %reason, "leg refused");
                        self.ledger.journal.audit(now, &format!("{} refused: {reason}", intent.client_order_id)).await;
                    }
                    ArbitrageOutput::Bot(Output::Alert { kind, message }) => {
                        self.inner.alert(Some(self.id()), kind, &message).await;
                    }
                    // A single-pair bot's outputs; the arbitrage bot has none of them.
                    ArbitrageOutput::Bot(_) => {}
                }
            }
        }
    }

    /// Writes a leg ahead, then sends it on its market.
    async fn place(&mut self, order: &Approved<OrderIntent>, market: usize, now: Timestamp) -> Vec<Report> {
        let to = (self.row.config.strategy.as_str(), self.markets[market].account.as_str());
        if let Err(refusal) = self.ledger.write_ahead(order, to, self.bot.next_seq(), now).await {
            return vec![refusal];
        }
        self.markets[market].executor.place(order, now).await
    }

    /// Stores a report; returns what the bot must be told (a report that cannot be stored
    /// pauses the bot instead).
    async fn record(&mut self, report: Report) -> Option<ArbitrageInput> {
        let (bot, markets) = (&self.bot, &self.markets);
        let recorded = self.ledger.record(report, |id, _, execution| {
            // Only the leg in flight fills.
            let market = bot.in_flight().filter(|(flight, _)| *flight == id).map(|(_, market)| market)?;
            let Market { account, symbol, .. } = &markets[market];
            let pair = &symbol.rules.pair;
            let fill = booked_fill(pair, (execution.qty, execution.quote, execution.fee, &execution.fee_asset));
            let sale = bot.sale(id, &fill).map(|s| (s.cost_basis, s.realized));
            Some(Booking { account, pair, fill, sale })
        });
        match recorded.await {
            Ok(input) => input.map(ArbitrageInput::Bot),
            Err(message) => {
                // Unbooked, the report must not reach the balances either; the bot stops trading
                // until a restart reconciles it from the venue.
                self.halt(&message).await;
                None
            }
        }
    }

    /// An errand ended: logs what it changed and marks the P&L.
    async fn ended(&mut self, result: Quote, errand: Errand, now: Timestamp) {
        let what = match errand {
            Errand::Cycle => "cycle",
            Errand::Sweep => "sweep",
            Errand::Stock => "inventory purchase",
            Errand::Adopted => "order taken over after a restart",
        };
        let line = format!("arbitrage {what} ended: {} {}", result.value().round_dp(8), self.row.config.pair.quote());
        self.ledger.journal.audit(now, &line).await;
        self.mark(now).await;
    }

    /// Marks the P&L: everything valued at the best bids, against the budget; the position is
    /// the bot's pair's base asset (on every venue), at what it cost.
    async fn mark(&mut self, now: Timestamp) {
        let prices: Vec<Price> = self.bot.tops().iter().map(|t| t.bid).collect();
        let own = self.markets.iter().position(|m| m.symbol.rules.pair == self.row.config.pair);
        let (Some(own), true) = (own, prices.len() == self.markets.len()) else { return };
        let value = self.bot.value(&prices);
        let (base, _) = self.bot.layout().assets[own];
        let (held, cost) = self.bot.holding(base);
        let entry = if held.is_zero() { Decimal::ZERO } else { cost / held };
        let cost_of_all: Decimal = self.bot.costs().iter().sum();
        let round = |amount: Decimal| amount.round_dp(STORED_DP);
        let position = PositionRow {
            bot: self.id(),
            pair: self.row.config.pair.clone(),
            entry_price: Price::new(round(entry)),
            current_price: prices[own],
            amount: Qty::new(held),
            unrealized_pnl: Quote::new(round(value - cost_of_all)),
        };
        let total = Quote::new(round(value - self.row.config.budget.value()));
        let balance = Quote::new(round(value));
        let risk = RiskMemoryRow { peak: balance.value(), day: None, week: None };
        let record = MarkRow { position, current_balance: balance, total_pnl: total, risk };
        self.inner.record_mark(self.id(), &record, now).await;
    }

    /// Pauses the bot with an alert.
    async fn halt(&mut self, message: &str) {
        drop(self.bot.handle(ArbitrageInput::Bot(Input::Command(Command::Pause))));
        self.ledger.journal.audit(clock::now(), message).await;
        self.inner.record_status(self.id(), LifecycleCommand::Pause, message).await;
        self.inner.alert(Some(self.id()), domain::alert::AlertKind::BotError, message).await;
    }
}
