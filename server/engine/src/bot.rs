//! The sans-IO bot: a value driven by `handle(now, input) -> outputs`.
//!
//! It never reads a clock, the network or the database: whoever drives it (a backtest loop, the
//! dry-run executor, the live executor) hands it `now` and what happened, and carries out what
//! it returns. The same code therefore runs in all three modes, and any run can be replayed.
//!
//! Guarantees, each covered by a property test below:
//! * after a kill, no `Place` is ever output until a person starts the bot again;
//! * every `Place` carries an [`Approved`] intent, so the wallet reserved for it first;
//! * while any order's outcome is unknown, nothing new is placed;
//! * an order event the lifecycle table refuses, or a fill the wallet refuses, pauses the bot
//!   with an alert instead of guessing.

use std::{collections::VecDeque, sync::Arc};

pub use crate::strategy::StrategyState;
use domain::{
    alert::AlertKind,
    bot::{BotId, BotStatus, LifecycleCommand, RiskLimits},
    candle::Candle,
    feed::ExternalData,
    money::{Price, Qty, Quote},
    order::{OrderEvent, OrderStatus, Side, client_order_id},
    strategy::{StrategyId, StrategyParams},
    symbol::SymbolRules,
    time::Timestamp,
};
use rust_decimal::Decimal;

use crate::{
    guard::{GuardMemory, RiskGuard},
    intent::{Decision, IntentKind, IntentSize, OrderIntent, SignalValue},
    kelly::Record,
    risk::{Approved, Refused, approve},
    rotation::{Rotation, Step},
    strategy::{
        Action, Desire, Holding,
        event_filler::ExternalSignal,
        grid::{BookView, Plan, Resting},
    },
    wallet::{FillSide, Wallet, WalletFill},
};

/// A person's command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Command {
    /// Start, resume, or re-arm after a kill.
    Start,
    /// No new orders; pending ones stay.
    Pause,
    /// Stop, cancelling pending orders when asked.
    Stop {
        /// Cancel the bot's open orders.
        cancel_pending: bool,
    },
    /// Emergency stop: cancel everything, send nothing more, never sell.
    Kill,
}

impl Command {
    /// The lifecycle table's command.
    #[must_use]
    pub const fn lifecycle(self) -> LifecycleCommand {
        match self {
            Self::Start => LifecycleCommand::Start,
            Self::Pause => LifecycleCommand::Pause,
            Self::Stop { .. } => LifecycleCommand::Stop,
            Self::Kill => LifecycleCommand::Kill,
        }
    }
}

/// The executed part of an order, as reported with an order event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FillReport {
    /// Base quantity executed by this fill.
    pub qty: domain::money::Qty,
    /// Quote value executed by this fill.
    pub quote: Quote,
    /// Fee charged.
    pub fee: Decimal,
    /// Whether the fee is in the quote asset (else the base asset).
    pub fee_in_quote: bool,
}

/// Something that happened, handed to the bot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Input {
    /// The market's last price (from a trade or the book).
    Price(Price),
    /// A closed candle of the bot's pair (its close is also the last price).
    Candle(Candle),
    /// A signal pushed in from outside (an API call, a script).
    Signal(ExternalSignal),
    /// The latest external market data (the Fear & Greed index, trending coins).
    External(ExternalData),
    /// A timer the bot asked for through [`Bot::next_wakeup`].
    Tick,
    /// One of the bot's orders changed.
    Order {
        /// Which order.
        client_order_id: String,
        /// What happened.
        event: OrderEvent,
        /// The execution it reports, if any.
        fill: Option<FillReport>,
    },
    /// A person's command.
    Command(Command),
}

/// What the bot wants done.
#[derive(Debug, Clone, PartialEq)]
pub enum Output {
    /// Send this approved order (written to the database first).
    Place(Approved<OrderIntent>),
    /// Cancel this order.
    Cancel {
        /// Which order.
        client_order_id: String,
        /// Why.
        reason: String,
    },
    /// The bot's status changed.
    Status {
        /// New status.
        status: BotStatus,
        /// Why.
        reason: String,
    },
    /// An intent risk refused: recorded, not sent.
    Refused {
        /// What the strategy wanted.
        intent: OrderIntent,
        /// Why it was refused.
        reason: String,
    },
    /// A critical event for the alert log, the UI and email.
    Alert {
        /// Kind of event.
        kind: AlertKind,
        /// What happened.
        message: String,
    },
    /// A fill changed the position and P&L: [`Bot::mark`] values them (computed only by a
    /// caller that records them; a backtest does not).
    PositionChanged,
    /// Auto Mode switched the strategy it runs (the bot stays in Auto Mode).
    Switched {
        /// The strategy it ran.
        from: StrategyId,
        /// The strategy it runs now.
        to: StrategyId,
        /// Why.
        reason: String,
    },
    /// Consecutive losing sales made the bot switch strategy.
    Rotated {
        /// The strategy it ran.
        from: StrategyId,
        /// The strategy it runs now.
        to: StrategyId,
        /// The new strategy's parameters.
        params: StrategyParams,
        /// Why.
        reason: String,
    },
}

/// A bot's position and P&L at a market price.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PnlMark {
    /// The price it is marked at.
    pub price: Price,
    /// Base quantity held.
    pub holdings: domain::money::Qty,
    /// Cost of the holdings.
    pub cost: Quote,
    /// Value of the holdings at `price` less their cost.
    pub unrealized: Quote,
    /// Realised P&L so far.
    pub realized: Quote,
    /// Realised plus unrealised.
    pub total: Quote,
    /// The budget plus the total P&L: what the virtual wallet is worth.
    pub equity: Quote,
}

impl PnlMark {
    /// Marks `wallet` at `price`.
    #[must_use]
    pub fn of(wallet: &Wallet, price: Price) -> Self {
        let (holdings, cost) = (wallet.holdings(), wallet.cost().value());
        let unrealized = holdings.value() * price.value() - cost;
        let total = wallet.realized_pnl().value() + unrealized;
        Self {
            price,
            holdings,
            cost: wallet.cost(),
            unrealized: Quote::new(unrealized),
            realized: wallet.realized_pnl(),
            total: Quote::new(total),
            equity: Quote::new(wallet.budget().value() + total),
        }
    }

    /// Average cost of the holdings (zero when none); a division, so computed when asked.
    #[must_use]
    pub fn entry_price(&self) -> Price {
        let held = self.holdings.value();
        Price::new(if held.is_zero() { Decimal::ZERO } else { self.cost.value() / held })
    }
}

/// An order the bot is following.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Tracked {
    side: Side,
    status: OrderStatus,
    /// Its limit price (none for a market order).
    limit: Option<Price>,
    /// Realised P&L of a sale's fills so far.
    realized: Decimal,
    /// Whether anything of it filled.
    filled: bool,
    /// Whether the bot asked for it to be cancelled.
    cancelling: bool,
}

impl Tracked {
    const fn new(side: Side, status: OrderStatus, limit: Option<Price>) -> Self {
        Self { side, status, limit, realized: Decimal::ZERO, filled: false, cancelling: false }
    }

    /// Open, acknowledged by the venue, resting at a limit, and not being cancelled.
    fn rests(&self) -> bool {
        matches!(self.status, OrderStatus::Open | OrderStatus::PartiallyFilled)
            && self.limit.is_some()
            && !self.cancelling
    }

    /// A limit order (in any state: one still pending may come to rest).
    const fn is_limit(&self) -> bool {
        self.limit.is_some()
    }
}

/// A bot's trading state.
#[derive(Debug, Clone, PartialEq)]
pub struct Bot {
    id: BotId,
    order_prefix: Arc<str>,
    rules: SymbolRules,
    strategy: StrategyState,
    wallet: Wallet,
    status: BotStatus,
    killed: bool,
    next_seq: u64,
    ends_at: Option<Timestamp>,
    last_price: Option<Price>,
    /// Its open orders, oldest first (an order leaves when it ends). A handful at most: a
    /// vector searched in order costs less than a tree that allocates a node per order.
    orders: Vec<(String, Tracked)>,
    /// Cancelled orders still remembered (for a late fill), oldest first; kept apart so that
    /// the open orders, looked through on every input, stay few.
    cancelled: VecDeque<(String, Tracked)>,
    /// After a refusal, the next decision waits until then instead of repeating at every price.
    quiet_until: Option<Timestamp>,
    /// Stop loss, drawdown and loss limits.
    guard: RiskGuard,
    /// A stop loss tripped while an order was in flight: the position is sold once it ends.
    stop_pending: Option<String>,
    /// Strategy rotation after consecutive losing sales.
    rotation: Rotation,
    /// Realised record of closed sales, for Kelly sizing.
    record: Record,
    /// What the bot could sell, measured again whenever the wallet changes (markets move far
    /// more often than wallets).
    holding: Holding,
    /// Whether buys are sized by the record.
    kelly_sizing: bool,
}

/// How long the bot stays quiet after a refused intent.
const QUIET_AFTER_REFUSAL_MS: i64 = 60_000;
/// How many cancelled orders the bot remembers for a late fill. Executors report an order's
/// end only once the venue lists all its fills, so a late fill is rare; one for an order
/// forgotten pauses the bot with an alert instead of being lost.
const CANCELLED_REMEMBERED: usize = 64;

/// An order still open when the bot is rebuilt, with what it still reserves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenOrder {
    /// Its client order id.
    pub client_order_id: String,
    /// Buy or sell.
    pub side: Side,
    /// Where it is in its life (an open status).
    pub status: OrderStatus,
    /// What it still holds: quote budget for a buy, base quantity for a sell.
    pub remaining: Decimal,
    /// Its limit price (none for a market order).
    pub limit: Option<Price>,
}

/// Everything a bot is built from: at creation, or rebuilt from the database after a restart.
#[derive(Debug, Clone, PartialEq)]
pub struct BotState {
    /// The bot's id (part of its client order ids).
    pub id: BotId,
    /// The prefix of its client order ids: the database's own, or `BACKTEST_ORDER_PREFIX`.
    pub order_prefix: Arc<str>,
    /// Precision and minimums of its pair.
    pub rules: SymbolRules,
    /// Its strategy with the strategy's memory.
    pub strategy: StrategyState,
    /// Its wallet, rebuilt from its fills (without reservations).
    pub wallet: Wallet,
    /// Lifecycle status.
    pub status: BotStatus,
    /// Whether a kill switch is in force.
    pub killed: bool,
    /// Sequence number of its next order.
    pub next_seq: u64,
    /// When its running time ends, if it has one.
    pub ends_at: Option<Timestamp>,
    /// Orders still open on the venue, followed again and reserved again.
    pub open_orders: Vec<OpenOrder>,
    /// Its risk stops.
    pub risk: RiskLimits,
    /// Its strategy rotation after consecutive losses.
    pub rotation: Rotation,
    /// Size buys down by the bot's Kelly record (live and dry run; not in backtests, which
    /// measure the strategy alone).
    pub kelly_sizing: bool,
    /// What its risk stops remembered when it last ran (none for a new bot).
    pub guard_memory: Option<GuardMemory>,
    /// Its record of closed sales, for Kelly sizing (rebuilt from its fills).
    pub record: Record,
}

impl Bot {
    /// Builds the bot from `state`, reserving what its open orders still hold.
    ///
    /// # Errors
    /// [`WalletError`](crate::wallet::WalletError) when the open orders do not fit the wallet;
    /// such a bot cannot be reconciled and must not trade.
    pub fn from_state(state: BotState) -> Result<Self, crate::wallet::WalletError> {
        let BotState {
            id,
            order_prefix,
            rules,
            strategy,
            mut wallet,
            status,
            killed,
            next_seq,
            ends_at,
            open_orders,
            risk,
            rotation,
            kelly_sizing,
            guard_memory,
            record,
        } = state;
        // The equity peak starts from what the wallet is worth without its open position, or
        // from what the stops remembered.
        let guard = RiskGuard::new(risk, wallet.budget().value() + wallet.realized_pnl().value(), guard_memory);
        let mut orders: Vec<(String, Tracked)> = Vec::with_capacity(open_orders.len());
        for order in open_orders {
            // An order whose fills used all it reserved is still followed until it ends.
            if order.remaining > Decimal::ZERO {
                match order.side {
                    Side::Buy => wallet.reserve_buy(&order.client_order_id, Quote::new(order.remaining))?,
                    Side::Sell => {
                        wallet.reserve_sell(&order.client_order_id, domain::money::Qty::new(order.remaining))?;
                    }
                }
            }
            let tracked = Tracked::new(order.side, order.status, order.limit);
            match orders.iter_mut().find(|(id, _)| *id == order.client_order_id) {
                Some((_, known)) => *known = tracked,
                None => orders.push((order.client_order_id, tracked)),
            }
        }
        orders.sort_by(|(a, _), (b, _)| a.cmp(b));
        let mut bot = Self {
            id,
            order_prefix,
            rules,
            strategy,
            wallet,
            status,
            killed,
            next_seq,
            ends_at,
            last_price: None,
            orders,
            cancelled: VecDeque::new(),
            quiet_until: None,
            guard,
            stop_pending: None,
            rotation,
            record,
            kelly_sizing,
            holding: Holding { qty: Qty::ZERO, cost: Quote::ZERO },
        };
        bot.holding = bot.measure_holding();
        Ok(bot)
    }

    /// The bot's id.
    #[must_use]
    pub const fn id(&self) -> BotId {
        self.id
    }

    /// Precision and minimums of the bot's pair.
    #[must_use]
    pub const fn rules(&self) -> &SymbolRules {
        &self.rules
    }

    /// The last market price the bot saw.
    #[must_use]
    pub const fn last_price(&self) -> Option<Price> {
        self.last_price
    }

    /// Sequence number of its next order (to be stored with every order it places).
    #[must_use]
    pub const fn next_seq(&self) -> u64 {
        self.next_seq
    }

    /// Warms the strategy's indicators up with past candles (oldest first) without deciding.
    pub fn warm_up(&mut self, candles: &[Candle]) {
        for candle in candles {
            self.strategy.warm_up(candle);
        }
    }

    /// Learns from past hourly candles (a volume profile), without deciding.
    pub fn learn_hourly(&mut self, candles: &[Candle]) {
        for candle in candles {
            self.strategy.learn_hourly(candle);
        }
    }

    /// How many past hourly candles the strategy learns from.
    #[must_use]
    pub fn hourly_history_needed(&self) -> usize {
        self.strategy.hourly_history_needed()
    }

    /// How many past candles the strategy wants before its first decision.
    #[must_use]
    pub fn history_needed(&self) -> usize {
        self.strategy.history_needed()
    }

    /// The position and P&L at the last price seen (none before the first price).
    #[must_use]
    pub fn mark(&self) -> Option<PnlMark> {
        self.last_price.map(|price| PnlMark::of(&self.wallet, price))
    }

    /// What its risk stops remember now (stored with each P&L mark).
    #[must_use]
    pub const fn guard_memory(&self) -> GuardMemory {
        self.guard.memory()
    }

    /// Whether any of its orders may still change.
    #[must_use]
    pub fn has_open_orders(&self) -> bool {
        // Asked on every input: most of the time the books are empty.
        self.orders.iter().any(|(_, o)| o.status.is_open())
    }

    /// Lifecycle status.
    #[must_use]
    pub const fn status(&self) -> BotStatus {
        self.status
    }

    /// Whether a kill switch is in force.
    #[must_use]
    pub const fn killed(&self) -> bool {
        self.killed
    }

    /// The virtual wallet.
    #[must_use]
    pub const fn wallet(&self) -> &Wallet {
        &self.wallet
    }

    /// When the bot next needs a [`Input::Tick`] (a due buy, the end of its running time).
    #[must_use]
    pub fn next_wakeup(&self) -> Option<Timestamp> {
        if self.status != BotStatus::Running {
            return None;
        }
        // A bot that cannot decide (killed, an order in flight, no price yet) is woken by what
        // it waits for, not by the clock; after a refusal it waits out its quiet time.
        let can_decide = !self.killed && !self.has_open_orders() && self.last_price.is_some();
        let decision = self
            .strategy
            .next_wakeup()
            .filter(|_| can_decide)
            .map(|at| self.quiet_until.map_or(at, |quiet| at.max(quiet)));
        [decision, self.ends_at].into_iter().flatten().min()
    }

    /// Client ids of its orders that may still change.
    #[must_use]
    pub fn open_order_ids(&self) -> Vec<String> {
        self.orders.iter().filter(|(_, o)| o.status.is_open()).map(|(id, _)| id.clone()).collect()
    }

    /// Asks for every open order `which` selects to be cancelled (once each).
    fn cancel_open_orders(&mut self, reason: &str, which: impl Fn(&Tracked) -> bool, out: &mut Vec<Output>) {
        for (id, order) in &mut self.orders {
            if order.status.is_open() && !order.cancelling && which(order) {
                order.cancelling = true;
                out.push(Output::Cancel { client_order_id: id.clone(), reason: reason.to_owned() });
            }
        }
    }

    fn set_status(&mut self, status: BotStatus, reason: impl Into<String>, out: &mut Vec<Output>) {
        self.status = status;
        out.push(Output::Status { status, reason: reason.into() });
    }

    /// Pauses with an alert: the core does not guess when its books and the venue disagree.
    fn halt(&mut self, message: String, out: &mut Vec<Output>) {
        out.push(Output::Alert { kind: AlertKind::BotError, message: message.clone() });
        if self.status == BotStatus::Running {
            self.set_status(BotStatus::Paused, message, out);
        }
    }

    /// Handles one input at `now`; returns what must be done, in order.
    pub fn handle(&mut self, now: Timestamp, input: Input) -> Vec<Output> {
        let mut out = Vec::new();
        self.handle_into(now, input, &mut out);
        out
    }

    /// [`Bot::handle`], appending what must be done to `out` (a caller handling inputs by the
    /// million, as a backtest does, reuses one vector).
    pub fn handle_into(&mut self, now: Timestamp, input: Input, out: &mut Vec<Output>) {
        match input {
            Input::Command(command) => self.command(command, out),
            Input::Order { client_order_id, event, fill } => {
                let refused = event == OrderEvent::Rejected;
                if self.order_update(&client_order_id, event, fill, out) == Some(OrderStatus::Failed) && refused {
                    // Refused by the venue: the next decision waits, or a strategy that wants
                    // the same order again would send it again at every price.
                    self.quiet_until = Some(Timestamp::from_millis(now.millis() + QUIET_AFTER_REFUSAL_MS));
                }
                self.holding = self.measure_holding();
            }
            // A price that is not one (a feed's zero, say) must never reach a risk check.
            Input::Price(price) if price.value() <= Decimal::ZERO => return,
            Input::Candle(candle)
                if [candle.open, candle.high, candle.low, candle.close].iter().any(|p| p.value() <= Decimal::ZERO) =>
            {
                return;
            }
            Input::Price(price) => self.last_price = Some(price),
            Input::Candle(candle) => {
                self.last_price = Some(candle.close);
                self.strategy.on_candle(now, &candle);
                if let Some((from, to, reason)) = self.strategy.take_switch() {
                    out.push(Output::Switched { from, to, reason });
                }
            }
            Input::Signal(signal) => self.strategy.on_signal(&signal),
            Input::External(data) => self.strategy.on_external(&data, self.rules.pair.base()),
            Input::Tick => {}
        }
        self.check_risk(now, out);
        if self.status == BotStatus::Running && self.ends_at.is_some_and(|end| now >= end) {
            self.set_status(BotStatus::Stopped, "the running time elapsed", out);
        }
        self.trade(now, out);
    }

    fn command(&mut self, command: Command, out: &mut Vec<Output>) {
        let lifecycle = command.lifecycle();
        // The daemon checked the command against the same table; a refusal changes nothing.
        let Ok(status) = self.status.apply(lifecycle) else { return };
        // A stop-loss sale still waiting for an order in flight is dropped: a person decides now.
        self.stop_pending = None;
        match command {
            Command::Kill => {
                self.killed = true;
                self.cancel_open_orders("kill switch", |_| true, out);
                out.push(Output::Alert {
                    kind: AlertKind::KillSwitch,
                    message: format!("bot {} killed: open orders cancelled, holdings kept", self.id),
                });
                self.set_status(status, "kill switch", out);
            }
            Command::Stop { cancel_pending } => {
                if cancel_pending {
                    self.cancel_open_orders("stopped with its pending orders cancelled", |_| true, out);
                }
                self.set_status(status, "stopped by request", out);
            }
            Command::Start => {
                self.killed = false;
                let equity = self.mark().map_or_else(
                    || self.wallet.budget().value() + self.wallet.realized_pnl().value(),
                    |m| m.equity.value(),
                );
                self.guard.rearm(equity);
                self.set_status(status, "started by request", out);
            }
            Command::Pause => self.set_status(status, "paused by request", out),
        }
    }

    /// Takes order `id` off the open orders.
    fn forget(&mut self, id: &str) -> Option<(String, Tracked)> {
        let at = self.orders.iter().position(|(known, _)| known == id)?;
        Some(self.orders.remove(at))
    }

    /// The order `id`, open or cancelled and remembered.
    fn tracked_mut(&mut self, id: &str) -> Option<&mut Tracked> {
        self.orders.iter_mut().chain(&mut self.cancelled).find(|(known, _)| known == id).map(|(_, tracked)| tracked)
    }

    /// Applies an order event; the order's new status, unless the event was refused.
    fn order_update(
        &mut self,
        id: &str,
        event: OrderEvent,
        fill: Option<FillReport>,
        out: &mut Vec<Output>,
    ) -> Option<OrderStatus> {
        let Some(tracked) = self.tracked_mut(id) else {
            self.halt(format!("bot {}: event {event:?} for an order it does not know ({id})", self.id), out);
            return None;
        };
        let next = match tracked.status.transition(event) {
            Ok(next) => next,
            Err(e) => {
                let message = format!("bot {}: order {id}: {e}", self.id);
                self.halt(message, out);
                return None;
            }
        };
        let was_open = tracked.status.is_open();
        tracked.status = next;
        let (side, limit) = (tracked.side, tracked.limit);
        // What the order has realised and whether anything filled, this event included.
        let (mut filled, mut order_realized) = (tracked.filled, tracked.realized);
        // Filled, failed and expired orders accept no further event: they are forgotten below.
        let forgotten = matches!(next, OrderStatus::Filled | OrderStatus::Failed | OrderStatus::Expired);
        if let Some(fill) = fill {
            let wallet_fill = WalletFill {
                client_order_id: id,
                side: if side == Side::Buy { FillSide::Buy } else { FillSide::Sell },
                qty: fill.qty,
                quote: fill.quote,
                fee: fill.fee,
                fee_in_quote: fill.fee_in_quote,
            };
            let realized_before = self.wallet.realized_pnl().value();
            if let Err(e) = self.wallet.apply_fill(&wallet_fill) {
                self.halt(format!("bot {}: order {id}: {e}", self.id), out);
                return None;
            }
            (filled, order_realized) = (true, order_realized + self.wallet.realized_pnl().value() - realized_before);
            if !forgotten && let Some(tracked) = self.tracked_mut(id) {
                (tracked.filled, tracked.realized) = (true, order_realized);
            }
            self.strategy.filled(side, fill.qty);
            if let (Side::Buy, Some(limit)) = (side, limit) {
                self.strategy.bought_at(limit, fill.qty);
            }
            out.push(Output::PositionChanged);
            // A fill the reservation did not cover (reported after its order ended, when the
            // freed budget may be reserved again, or larger than asked): the venue and the bot
            // disagree, so the bot stops buying until a person looks.
            let w = &self.wallet;
            if w.reserved().value() + w.cost().value() > w.cap().value() {
                let late = if was_open { "" } else { "late " };
                let message = format!("bot {}: a {late}fill of {id} took the bot over its budget", self.id);
                self.halt(message, out);
            }
        }
        if !next.is_open() {
            self.wallet.release(id);
            if was_open && side == Side::Sell && filled {
                self.record.sale(order_realized);
                self.sale_ended(order_realized > Decimal::ZERO, out);
            }
        }
        // Forgotten orders leave the books, so they stay small however long the bot runs. A
        // cancelled order may still report a late fill.
        match next {
            _ if forgotten => {
                self.forget(id);
            }
            OrderStatus::Cancelled if was_open => {
                if let Some(order) = self.forget(id) {
                    self.cancelled.push_back(order);
                }
                if self.cancelled.len() > CANCELLED_REMEMBERED {
                    self.cancelled.pop_front();
                }
            }
            _ => {}
        }
        Some(next)
    }

    /// A sale ended with a gain or a loss: a streak of losses rotates the strategy, or pauses
    /// the bot once rotations are exhausted.
    fn sale_ended(&mut self, won: bool, out: &mut Vec<Output>) {
        let from = self.strategy.id();
        let step = self.rotation.sale(from, won);
        // A book the strategy kept is its own: it goes with the strategy.
        if let (true, Some(Step::Rotate { reason, .. } | Step::Pause { reason })) =
            (self.strategy.keeps_a_book(), &step)
        {
            self.cancel_open_orders(reason, Tracked::is_limit, out);
        }
        match step {
            None => {}
            Some(Step::Rotate { to, params, reason }) => match StrategyState::new(to, &params) {
                Ok(strategy) => {
                    self.strategy = strategy;
                    out.push(Output::Rotated { from, to, params, reason });
                }
                Err(e) => self.halt(format!("bot {}: cannot rotate to {to}: {e}", self.id), out),
            },
            Some(Step::Pause { reason }) => {
                out.push(Output::Alert {
                    kind: AlertKind::ConsecutiveLosses,
                    message: format!("bot {}: {reason}", self.id),
                });
                if self.status == BotStatus::Running {
                    self.set_status(BotStatus::Paused, reason, out);
                }
            }
        }
    }

    /// What the bot could sell: dust below the symbol's minimum (left by fees and rounding)
    /// counts as flat, or a strategy would wait forever to sell what cannot be sold.
    fn measure_holding(&self) -> Holding {
        let sellable = self.wallet.sellable();
        let qty = if sellable.value().is_zero() {
            sellable
        } else {
            let rounded = self.rules.round_qty_down(sellable);
            if rounded < self.rules.min_qty { Qty::ZERO } else { rounded }
        };
        Holding { qty, cost: self.wallet.cost() }
    }

    /// The risk stops, on every input of a running bot: a trip pauses the bot with an alert
    /// (after selling the position, for a stop loss; if an order is still in flight, the sale
    /// waits for it to end, and nothing else is placed meanwhile).
    fn check_risk(&mut self, now: Timestamp, out: &mut Vec<Output>) {
        if self.status != BotStatus::Running || self.killed {
            return;
        }
        if self.stop_pending.is_none()
            && self.guard.is_armed()
            && let Some(mark) = self.mark()
            && let Some(trip) = self.guard.check(now, &mark)
        {
            out.push(Output::Alert { kind: trip.kind, message: format!("bot {}: {}", self.id, trip.reason) });
            // Resting orders would keep trading (and hold the position a stop must sell).
            self.cancel_open_orders(&trip.reason, Tracked::is_limit, out);
            if !trip.sell_position {
                self.set_status(BotStatus::Paused, trip.reason, out);
                return;
            }
            self.stop_pending = Some(trip.reason);
        }
        if self.has_open_orders() {
            return;
        }
        let (Some(reason), Some(price)) = (self.stop_pending.take(), self.last_price) else { return };
        let holding = self.holding;
        if !holding.qty.value().is_zero() {
            self.place(now, price, Desire::new(Action::Sell(holding.qty), reason.clone()), out);
        }
        self.set_status(BotStatus::Paused, reason, out);
    }

    fn trade(&mut self, now: Timestamp, out: &mut Vec<Output>) {
        // Nothing new while stopped, paused or killed.
        let Some(price) = self.last_price else { return };
        let waiting = self.quiet_until.is_some_and(|t| now < t) || self.stop_pending.is_some();
        if self.status != BotStatus::Running || self.killed || waiting {
            return;
        }
        if self.strategy.keeps_a_book() {
            self.trade_book(now, price, out);
            return;
        }
        // One decision at a time: nothing new while any order is still in flight (pending,
        // unknown, or resting).
        if self.has_open_orders() {
            return;
        }
        let holding = self.holding;
        let Some(desire) = self.strategy.desire(now, price, holding) else { return };
        self.place(now, price, desire, out);
    }

    /// A strategy that keeps limit orders resting: it sees them and plans around them, but
    /// only once every open order is settled on the book (none pending, unknown or being
    /// cancelled), so the bot still never acts on an order whose fate it does not know.
    fn trade_book(&mut self, now: Timestamp, price: Price, out: &mut Vec<Output>) {
        let mut resting = Vec::new();
        for (_, order) in self.orders.iter().filter(|(_, o)| o.status.is_open()) {
            match order.limit {
                Some(price) if order.rests() => resting.push(Resting { side: order.side, price }),
                _ => return,
            }
        }
        let holding = self.holding;
        let wallet = &self.wallet;
        let view = BookView { price, holding, resting: &resting, rules: &self.rules };
        match self.strategy.plan(&view, || wallet.free()) {
            Plan::Keep => {}
            Plan::CancelAll(reason) => self.cancel_open_orders(&reason, |_| true, out),
            Plan::Place(desires) => {
                for desire in desires {
                    if !self.place(now, price, desire, out) {
                        break;
                    }
                }
            }
        }
    }

    /// Turns a desire into an approved order (or a recorded refusal); true when approved.
    /// Market buys are sized down by the bot's Kelly record once it has one.
    fn place(&mut self, now: Timestamp, price: Price, mut desire: Desire, out: &mut Vec<Output>) -> bool {
        if let (true, Action::Buy(quote)) = (self.kelly_sizing, desire.action) {
            let sized = self.record.size(quote, self.wallet.free());
            if sized < quote {
                // A record without an edge sizes the buy at zero, which risk refuses.
                desire.signals.push(("kelly_size", SignalValue::Decimal(sized.value())));
                desire.action = Action::Buy(sized);
            }
        }
        let (side, size, kind) = match desire.action {
            Action::Buy(quote) => (Side::Buy, IntentSize::Quote(quote), IntentKind::Market),
            Action::Sell(qty) => (Side::Sell, IntentSize::Base(qty), IntentKind::Market),
            Action::Limit { side, qty, price } => (side, IntentSize::Base(qty), IntentKind::Limit(price)),
        };
        let id = client_order_id(&self.order_prefix, self.id, self.next_seq);
        self.next_seq += 1;
        let mut signals = desire.signals;
        signals.push(("price", SignalValue::Decimal(price.value())));
        let decision = Decision { summary: desire.reason, signals, ..Decision::default() };
        let intent =
            OrderIntent { client_order_id: id.clone(), pair: self.rules.pair.clone(), side, kind, size, decision };
        match approve(intent, &self.rules, &mut self.wallet, price) {
            Ok(approved) => {
                self.strategy.placed(desire.action, now, price);
                let limit = match approved.get().kind {
                    IntentKind::Limit(price) => Some(price),
                    IntentKind::Market => None,
                };
                self.orders.push((id, Tracked::new(side, OrderStatus::Pending, limit)));
                self.holding = self.measure_holding();
                out.push(Output::Place(approved));
                true
            }
            Err(refused) => {
                self.strategy.refused(desire.action, now);
                self.quiet_until = Some(Timestamp::from_millis(now.millis() + QUIET_AFTER_REFUSAL_MS));
                let Refused { intent, refusal } = *refused;
                out.push(Output::Refused { intent, reason: refusal.to_string() });
                false
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use domain::money::{Percent, Qty};
    use proptest::prelude::*;
    use rust_decimal_macros::dec;

    use std::collections::BTreeMap;

    use super::*;

    const HOUR: i64 = 3_600_000;

    fn bot(budget: Decimal, take_profit: Decimal, ends_at: Option<i64>) -> Bot {
        bot_with_risk(budget, take_profit, ends_at, RiskLimits::default())
    }

    fn bot_with_risk(budget: Decimal, take_profit: Decimal, ends_at: Option<i64>, risk: RiskLimits) -> Bot {
        let rules = crate::testing::btc_usdt();
        let params = crate::strategy::dca::DcaParams {
            quote_amount: Quote::new(dec!(10)),
            interval_ms: HOUR,
            drop_trigger: Percent::new(dec!(0)),
            drop_extra: Quote::new(dec!(0)),
            take_profit: Percent::new(take_profit),
        };
        Bot::from_state(BotState {
            id: BotId(7),
            order_prefix: domain::order::BACKTEST_ORDER_PREFIX.into(),
            rules,
            strategy: StrategyState::Dca(params, crate::strategy::dca::DcaMemory::default()),
            wallet: Wallet::new(Quote::new(budget), false),
            status: BotStatus::Created,
            killed: false,
            next_seq: 1,
            ends_at: ends_at.map(Timestamp::from_millis),
            open_orders: Vec::new(),
            risk,
            rotation: Rotation::off(),
            kelly_sizing: true,
            guard_memory: None,
            record: Record::default(),
        })
        .unwrap()
    }

    fn at(ms: i64) -> Timestamp {
        Timestamp::from_millis(ms)
    }

    fn placed(outputs: &[Output]) -> Vec<OrderIntent> {
        outputs.iter().filter_map(|o| if let Output::Place(a) = o { Some(a.get().clone()) } else { None }).collect()
    }

    impl Input {
        /// This order event with a fill of `quote` at 100.
        fn with_fill(self, quote: Decimal) -> Self {
            let Self::Order { client_order_id, event, .. } = self else { return self };
            let fill = FillReport {
                qty: Qty::new(quote / dec!(100)),
                quote: Quote::new(quote),
                fee: Decimal::ZERO,
                fee_in_quote: true,
            };
            Self::Order { client_order_id, event, fill: Some(fill) }
        }
    }

    fn filled(id: &str, qty: Decimal, quote: Decimal) -> Input {
        Input::Order {
            client_order_id: id.into(),
            event: OrderEvent::Filled,
            fill: Some(FillReport {
                qty: Qty::new(qty),
                quote: Quote::new(quote),
                fee: Decimal::ZERO,
                fee_in_quote: true,
            }),
        }
    }

    #[test]
    fn a_running_dca_bot_buys_once_per_interval_with_deterministic_ids() {
        let mut b = bot(dec!(100), dec!(0), None);
        assert!(placed(&b.handle(at(0), Input::Price(Price::new(dec!(100))))).is_empty(), "created bots do not trade");
        // Started with a known price, it buys at once.
        let first = placed(&b.handle(at(0), Input::Command(Command::Start)));
        assert_eq!(first.len(), 1);
        assert_eq!(first[0].client_order_id, "tb-7-000001");
        assert_eq!(first[0].decision.budget_after, Quote::new(dec!(90)));
        b.handle(
            at(2),
            Input::Order { client_order_id: "tb-7-000001".into(), event: OrderEvent::Accepted, fill: None },
        );
        b.handle(at(3), filled("tb-7-000001", dec!(0.1), dec!(10)));
        assert!(placed(&b.handle(at(HOUR - 1), Input::Price(Price::new(dec!(100))))).is_empty(), "not due yet");
        assert_eq!(b.next_wakeup(), Some(at(HOUR)));
        let second = placed(&b.handle(at(HOUR), Input::Tick));
        assert_eq!(second[0].client_order_id, "tb-7-000002");
    }

    #[test]
    fn the_budget_stops_buying_with_a_recorded_refusal() {
        let mut b = bot(dec!(15), dec!(0), None);
        b.handle(at(0), Input::Command(Command::Start));
        b.handle(at(0), Input::Price(Price::new(dec!(100))));
        b.handle(at(1), filled("tb-7-000001", dec!(0.1), dec!(10)));
        let out = b.handle(at(HOUR), Input::Tick);
        let Some(Output::Refused { reason, .. }) = out.first() else { panic!("{out:?}") };
        assert_eq!(reason, "the buy needs 10 but only 5 of the budget is free");
        assert!(b.handle(at(HOUR + 1), Input::Price(Price::new(dec!(99)))).is_empty(), "no repeat at every price");
    }

    #[test]
    fn a_grid_rotated_away_after_a_losing_sale_cancels_its_ladder() {
        use crate::strategy::grid::{Grid, GridParams, Range, Spacing};
        use domain::strategy::{StrategyDefaults, validate_params};
        let grid = Grid::new(GridParams {
            levels: 5,
            spacing: Spacing::Arithmetic,
            range: Range::Fixed(dec!(0.05)),
            quote: Quote::new(dec!(10)),
        });
        let mr = validate_params(StrategyId::MeanReversion, &Default::default(), &StrategyDefaults::new()).unwrap();
        let mut b = Bot::from_state(BotState {
            id: BotId(7),
            order_prefix: domain::order::BACKTEST_ORDER_PREFIX.into(),
            rules: crate::testing::btc_usdt(),
            strategy: StrategyState::Grid(Box::new(grid)),
            wallet: Wallet::new(Quote::new(dec!(25)), false),
            status: BotStatus::Created,
            killed: false,
            next_seq: 1,
            ends_at: None,
            open_orders: Vec::new(),
            risk: RiskLimits::default(),
            rotation: Rotation::new(1, 1, vec![(StrategyId::MeanReversion, mr)]),
            kelly_sizing: false,
            guard_memory: None,
            record: Record::default(),
        })
        .unwrap();
        b.handle(at(0), Input::Price(Price::new(dec!(100))));
        let laid = placed(&b.handle(at(0), Input::Command(Command::Start)));
        assert_eq!(laid.len(), 2, "buys at 97.5 and 95: {laid:?}");
        for id in ["tb-7-000001", "tb-7-000002"] {
            b.handle(at(1), Input::Order { client_order_id: id.into(), event: OrderEvent::Accepted, fill: None });
        }
        b.handle(at(2), Input::Price(Price::new(dec!(97.5))));
        let sell = placed(&b.handle(at(2), filled("tb-7-000001", dec!(0.102564), dec!(10))));
        assert_eq!(sell[0].kind, IntentKind::Limit(Price::new(dec!(100))));
        b.handle(
            at(3),
            Input::Order { client_order_id: "tb-7-000003".into(), event: OrderEvent::Accepted, fill: None },
        );
        // The sale fills for less than it cost: a loss, and a rotation.
        let out = b.handle(at(4), filled("tb-7-000003", dec!(0.102564), dec!(9)));
        assert!(out.iter().any(|o| matches!(o, Output::Rotated { to: StrategyId::MeanReversion, .. })), "{out:?}");
        let cancelled: Vec<&str> = out
            .iter()
            .filter_map(|o| {
                if let Output::Cancel { client_order_id, .. } = o { Some(client_order_id.as_str()) } else { None }
            })
            .collect();
        assert_eq!(cancelled, ["tb-7-000002"], "the ladder's resting buy goes with the grid");
    }

    #[test]
    fn kill_cancels_open_orders_and_sends_nothing_more() {
        let mut b = bot(dec!(100), dec!(0), None);
        b.handle(at(0), Input::Command(Command::Start));
        b.handle(at(0), Input::Price(Price::new(dec!(100))));
        let out = b.handle(at(1), Input::Command(Command::Kill));
        let cancel = Output::Cancel { client_order_id: "tb-7-000001".into(), reason: "kill switch".into() };
        assert!(out.contains(&cancel), "{out:?}");
        assert!(out.iter().any(|o| matches!(o, Output::Alert { kind: AlertKind::KillSwitch, .. })));
        assert!(b.killed() && b.status() == BotStatus::Stopped);
        b.handle(
            at(2),
            Input::Order { client_order_id: "tb-7-000001".into(), event: OrderEvent::CancelConfirmed, fill: None },
        );
        assert!(placed(&b.handle(at(10 * HOUR), Input::Price(Price::new(dec!(50))))).is_empty());
    }

    #[test]
    fn take_profit_sells_only_what_the_bot_holds() {
        let mut b = bot(dec!(100), dec!(10), None);
        b.handle(at(0), Input::Command(Command::Start));
        b.handle(at(0), Input::Price(Price::new(dec!(100))));
        b.handle(at(1), filled("tb-7-000001", dec!(0.1), dec!(10)));
        let sell = placed(&b.handle(at(2), Input::Price(Price::new(dec!(111)))));
        assert_eq!(sell[0].side, Side::Sell);
        assert_eq!(sell[0].size, IntentSize::Base(Qty::new(dec!(0.1))));
    }

    #[test]
    fn an_impossible_order_event_pauses_the_bot_with_an_alert() {
        let mut b = bot(dec!(100), dec!(0), None);
        b.handle(at(0), Input::Command(Command::Start));
        b.handle(at(0), Input::Price(Price::new(dec!(100))));
        b.handle(
            at(1),
            Input::Order { client_order_id: "tb-7-000001".into(), event: OrderEvent::Rejected, fill: None },
        );
        let out = b.handle(at(2), filled("tb-7-000001", dec!(0.1), dec!(10)));
        assert!(out.iter().any(|o| matches!(o, Output::Alert { kind: AlertKind::BotError, .. })));
        assert_eq!(b.status(), BotStatus::Paused);
    }

    #[test]
    fn a_late_fill_that_breaks_the_budget_pauses_the_bot_with_an_alert() {
        let mut b = bot(dec!(20), dec!(0), None);
        b.handle(at(0), Input::Command(Command::Start));
        b.handle(at(0), Input::Price(Price::new(dec!(100))));
        let cancel =
            Input::Order { client_order_id: "tb-7-000001".into(), event: OrderEvent::CancelConfirmed, fill: None };
        b.handle(at(1), cancel);
        // The next buy reserves the budget the cancel freed ...
        assert_eq!(placed(&b.handle(at(HOUR), Input::Tick)).len(), 1);
        // ... then the cancelled order reports a fill after all.
        let late = Input::Order {
            client_order_id: "tb-7-000001".into(),
            event: OrderEvent::PartiallyFilled,
            fill: Some(FillReport {
                qty: Qty::new(dec!(0.15)),
                quote: Quote::new(dec!(15)),
                fee: dec!(0),
                fee_in_quote: true,
            }),
        };
        let out = b.handle(at(HOUR + 1), late);
        assert!(out.iter().any(|o| matches!(o, Output::Alert { kind: AlertKind::BotError, message } if message.contains("over its budget"))), "{out:?}");
        assert_eq!(b.status(), BotStatus::Paused);
    }

    #[test]
    fn a_rebuilt_order_that_used_all_it_reserved_is_followed_without_a_reservation() {
        let template = bot(dec!(100), dec!(0), None);
        let exhausted = OpenOrder {
            client_order_id: "tb-7-000001".into(),
            side: Side::Buy,
            status: OrderStatus::PartiallyFilled,
            remaining: Decimal::ZERO,
            limit: None,
        };
        let state = BotState {
            id: BotId(7),
            order_prefix: domain::order::BACKTEST_ORDER_PREFIX.into(),
            rules: crate::testing::btc_usdt(),
            strategy: template.strategy.clone(),
            wallet: Wallet::new(Quote::new(dec!(100)), false),
            status: BotStatus::Running,
            killed: false,
            next_seq: 2,
            ends_at: None,
            open_orders: vec![exhausted],
            risk: RiskLimits::default(),
            rotation: Rotation::off(),
            kelly_sizing: true,
            guard_memory: None,
            record: Record::default(),
        };
        let mut b = Bot::from_state(state).unwrap();
        assert!(b.has_open_orders() && b.wallet().reserved() == Quote::ZERO);
        b.handle(at(0), Input::Price(Price::new(dec!(100))));
        let end = Input::Order { client_order_id: "tb-7-000001".into(), event: OrderEvent::Filled, fill: None };
        assert_eq!(placed(&b.handle(at(1), end)).len(), 1, "once it ended, the bot trades again");
    }

    #[test]
    fn a_bot_that_cannot_decide_asks_for_no_timer() {
        let mut b = bot(dec!(100), dec!(0), None);
        b.handle(at(0), Input::Command(Command::Start));
        assert_eq!(b.next_wakeup(), None, "no price yet");
        b.handle(at(0), Input::Price(Price::new(dec!(100))));
        assert_eq!(b.next_wakeup(), None, "its buy is in flight");
        b.handle(at(1), filled("tb-7-000001", dec!(0.1), dec!(10)));
        assert_eq!(b.next_wakeup(), Some(at(HOUR)));
        b.handle(at(2), Input::Command(Command::Pause));
        assert_eq!(b.next_wakeup(), None, "paused");
    }

    /// A DCA bot whose take-profit sales fill at a loss `rounds` times; the outputs of the last.
    fn losing_rounds(b: &mut Bot, rounds: i64) -> Vec<Output> {
        b.handle(at(0), Input::Command(Command::Start));
        let mut outputs = Vec::new();
        for round in 0..rounds {
            let t = round * HOUR;
            let buy = format!("tb-7-{:06}", 2 * round + 1);
            let sell = format!("tb-7-{:06}", 2 * round + 2);
            b.handle(at(t), Input::Price(Price::new(dec!(100))));
            b.handle(at(t + 1), filled(&buy, dec!(0.1), dec!(10)));
            assert_eq!(placed(&b.handle(at(t + 2), Input::Price(Price::new(dec!(101.5)))))[0].side, Side::Sell);
            // The venue filled the take-profit lower than the price that triggered it: a loss.
            outputs = b.handle(at(t + 3), filled(&sell, dec!(0.1), dec!(9)));
        }
        outputs
    }

    fn rotation_targets() -> Vec<(StrategyId, StrategyParams)> {
        use domain::strategy::{StrategyDefaults, validate_params};
        [StrategyId::DcaAccumulator, StrategyId::MeanReversion]
            .into_iter()
            .map(|id| (id, validate_params(id, &BTreeMap::new(), &StrategyDefaults::new()).unwrap()))
            .collect()
    }

    #[test]
    fn losing_sales_in_a_row_rotate_the_strategy() {
        let mut b = bot(dec!(100), dec!(1), None);
        b.rotation = Rotation::new(2, 1, rotation_targets());
        let outputs = losing_rounds(&mut b, 2);
        let rotated = outputs.iter().find_map(|o| match o {
            Output::Rotated { from, to, reason, .. } => Some((*from, *to, reason.clone())),
            _ => None,
        });
        assert_eq!(
            rotated,
            Some((
                StrategyId::DcaAccumulator,
                StrategyId::MeanReversion,
                "2 losing sales in a row with dca_accumulator; rotation 1 of 1".to_owned()
            ))
        );
        assert_eq!(b.strategy.id(), StrategyId::MeanReversion);
    }

    #[test]
    fn losses_with_no_rotation_left_pause_the_bot_with_an_alert() {
        let mut b = bot(dec!(100), dec!(1), None);
        b.rotation = Rotation::new(2, 0, rotation_targets());
        let outputs = losing_rounds(&mut b, 2);
        assert!(
            outputs.iter().any(|o| matches!(o, Output::Alert { kind: AlertKind::ConsecutiveLosses, .. })),
            "{outputs:?}"
        );
        assert_eq!(b.status(), BotStatus::Paused);
        assert!(placed(&b.handle(at(10 * HOUR), Input::Tick)).is_empty(), "paused until a person starts it");
    }

    #[test]
    fn the_running_time_stops_the_bot() {
        let mut b = bot(dec!(100), dec!(0), Some(2 * HOUR));
        b.handle(at(0), Input::Command(Command::Start));
        let out = b.handle(at(2 * HOUR), Input::Tick);
        assert!(
            out.contains(&Output::Status { status: BotStatus::Stopped, reason: "the running time elapsed".into() })
        );
    }

    /// The venue filling `percent` of `intent` (never more than asked) at `price`, ending it.
    #[test]
    fn a_zero_price_or_candle_never_reaches_the_stop_loss() {
        let risk = RiskLimits { stop_loss_percent: Some(Percent::new(dec!(5))), ..RiskLimits::default() };
        let mut b = bot_with_risk(dec!(200), dec!(0), None, risk);
        b.handle(at(0), Input::Price(Price::new(dec!(100))));
        let buy = placed(&b.handle(at(0), Input::Command(Command::Start))).remove(0);
        b.handle(at(1), fill_of(&buy, 100, Some(Price::new(dec!(100)))));
        assert!(b.wallet().holdings().value() > dec!(0));
        let zero = Candle {
            open_time: at(60_000),
            open: Price::new(dec!(100)),
            high: Price::new(dec!(100)),
            low: Price::new(dec!(0)),
            close: Price::new(dec!(0)),
            volume: Qty::new(dec!(1)),
        };
        for input in [Input::Price(Price::new(dec!(0))), Input::Price(Price::new(dec!(-1))), Input::Candle(zero)] {
            assert!(b.handle(at(2), input).is_empty(), "nothing is done on a price that is not one");
        }
        assert_eq!(b.status(), BotStatus::Running);
        assert_eq!(b.last_price, Some(Price::new(dec!(100))), "the last real price stands");
        let out = b.handle(at(3), Input::Price(Price::new(dec!(90))));
        assert_eq!(placed(&out)[0].side, Side::Sell, "a real fall still trips the stop: {out:?}");
    }

    fn fill_of(intent: &OrderIntent, percent: u32, price: Option<Price>) -> Input {
        let share = Decimal::from(percent) / dec!(100);
        let p = price.map_or(Decimal::ONE, Price::value);
        let (qty, quote) = match intent.size {
            IntentSize::Quote(q) => (q.value() * share / p, q.value() * share),
            IntentSize::Base(q) => (q.value() * share, q.value() * share * p),
        };
        let fill = FillReport { qty: Qty::new(qty), quote: Quote::new(quote), fee: Decimal::ZERO, fee_in_quote: true };
        Input::Order { client_order_id: intent.client_order_id.clone(), event: OrderEvent::Filled, fill: Some(fill) }
    }

    /// One generated input.
    fn input() -> impl Strategy<Value = (i64, u8, u32, u32)> {
        (0i64..(2 * HOUR), 0u8..8, 1u32..200_000, 0u32..=100)
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

        /// Whatever happens, nothing is placed after a kill (until a start), every placement
        /// is within the wallet, and the bot never sells more than it owns.
        #[test]
        fn no_order_after_kill_and_the_wallet_always_holds(steps in proptest::collection::vec(input(), 1..60)) {
            let mut b = bot(dec!(50), dec!(5), None);
            let mut now = 0;
            let mut last_placed: Option<OrderIntent> = None;
            for (dt, kind, price, fill_percent) in steps {
                now += dt;
                let input = match kind {
                    0 => Input::Command(Command::Start),
                    1 => Input::Command(Command::Pause),
                    2 => Input::Command(Command::Kill),
                    3 => Input::Command(Command::Stop { cancel_pending: fill_percent % 2 == 0 }),
                    4 | 5 => Input::Price(Price::new(Decimal::from(price))),
                    6 => Input::Tick,
                    _ => match &last_placed {
                        // The venue executes at most what was asked.
                        Some(intent) => fill_of(intent, fill_percent, b.last_price),
                        None => Input::Tick,
                    },
                };
                let killed_before = b.killed();
                let out = b.handle(at(now), input.clone());
                let new_orders = placed(&out);
                if killed_before && input != Input::Command(Command::Start) {
                    prop_assert!(new_orders.is_empty(), "an order after a kill: {out:?}");
                }
                if let Some(intent) = new_orders.into_iter().last() {
                    last_placed = Some(intent);
                }
                let w = b.wallet();
                prop_assert!(w.reserved().value() + w.cost().value() <= w.cap().value(), "budget exceeded: {w:?}");
                prop_assert!(w.holdings().value() >= Decimal::ZERO && w.sellable().value() >= Decimal::ZERO);
            }
        }

        /// Fills may arrive late (after a cancel confirmed, when the freed budget is already
        /// reserved again): the bot then either stays within its budget or pauses with an
        /// alert, and never places an order while over it.
        #[test]
        fn late_fills_never_go_unnoticed(steps in proptest::collection::vec((0u8..5, 1u32..100, 1u32..200), 1..80)) {
            let mut b = bot(dec!(40), dec!(0), None);
            b.handle(at(0), Input::Command(Command::Start));
            let mut now = 0;
            // Each order with its quote size and what has filled of it: the venue never fills
            // more than was asked, but may report it after the cancel.
            let mut placed_ids: Vec<(String, Decimal)> = Vec::new();
            let mut filled: BTreeMap<String, Decimal> = BTreeMap::new();
            for (kind, percent, price) in steps {
                now += HOUR / 2;
                let input = match (kind, placed_ids.last()) {
                    (0, _) => Input::Price(Price::new(Decimal::from(price))),
                    (1, _) | (_, None) => Input::Tick,
                    (2, Some((id, _))) => Input::Order { client_order_id: id.clone(), event: OrderEvent::CancelConfirmed, fill: None },
                    // A fill of the last order, or of any earlier one, open or not.
                    (_, Some(last)) => {
                        let (id, quote) = if kind == 3 { last } else { &placed_ids[usize::try_from(price).unwrap() % placed_ids.len()] };
                        let done = filled.entry(id.clone()).or_default();
                        let part = (*quote * Decimal::from(percent) / dec!(100)).min(*quote - *done);
                        *done += part;
                        let event = if kind == 3 { OrderEvent::Filled } else { OrderEvent::PartiallyFilled };
                        Input::Order { client_order_id: id.clone(), event, fill: None }.with_fill(part)
                    }
                };
                let was_over = { let w = b.wallet(); w.reserved().value() + w.cost().value() > w.cap().value() };
                let out = b.handle(at(now), input);
                for intent in placed(&out) {
                    prop_assert!(!was_over, "placed while over budget: {intent:?}");
                    if let IntentSize::Quote(q) = intent.size {
                        placed_ids.push((intent.client_order_id.clone(), q.value()));
                    }
                }
                let w = b.wallet();
                if w.reserved().value() + w.cost().value() > w.cap().value() {
                    prop_assert!(b.status() != BotStatus::Running, "over budget and still running: {w:?}");
                }
            }
        }

    }

    /// After a risk stop trips, the bot buys nothing until a person starts it, whatever
    /// prices and fills follow; a running bot never stays past a tripped limit, and every
    /// stop the prices and limits call for trips (counted: the generated prices must call
    /// for a good number of them, or the oracle was never put to work).
    #[test]
    fn risk_stops_cannot_be_bypassed() {
        // `source_file` keeps the committed regression seeds, as `proptest!` does.
        let config = ProptestConfig { cases: 2000, source_file: Some(file!()), ..ProptestConfig::default() };
        let must_trips = std::cell::Cell::new(0u32);
        let mut runner = proptest::test_runner::TestRunner::new(config);
        let outcome = runner.run(&proptest::collection::vec((0u8..5, 50u32..150, 0u32..=100), 1..80), |steps| {
            let risk = RiskLimits {
                stop_loss_percent: Some(Percent::new(dec!(5))),
                drawdown_limit_percent: Some(Percent::new(dec!(3))),
                daily_loss_limit: Some(Quote::new(dec!(4))),
                ..RiskLimits::default()
            };
            let mut b = bot_with_risk(dec!(200), dec!(0), None, risk);
            b.handle(at(0), Input::Command(Command::Start));
            let (mut now, mut stopped, mut last): (i64, bool, Option<OrderIntent>) = (0, false, None);
            // The oracle, kept here from the prices and the limits rather than read from the
            // bot's alerts: the highest equity seen at a price while running since the last
            // start (the guard's peak is at least that), and the trips that must follow.
            let mut peak = None::<Decimal>;
            for (kind, price, percent) in steps {
                now += 10 * 60_000;
                let input = match (kind, &last) {
                    (0 | 1, _) => Input::Price(Price::new(Decimal::from(price))),
                    (2, Some(intent)) => fill_of(intent, percent, b.last_price),
                    (3, _) => Input::Command(Command::Start),
                    _ => Input::Tick,
                };
                // A start re-arms only a bot that was not running: one still running with a
                // stop waiting for its order in flight stays stopped.
                let started = input == Input::Command(Command::Start) && b.status() != BotStatus::Running;
                // A new price for a running bot not yet stopped: value the wallet at it and
                // decide, with the limits' own arithmetic, whether a stop must trip.
                let must_trip = match &input {
                    Input::Price(p) if b.status() == BotStatus::Running && !stopped => {
                        let w = b.wallet();
                        let (held, cost, price) = (w.holdings().value(), w.cost().value(), p.value());
                        let equity = w.budget().value() + w.realized_pnl().value() + held * price - cost;
                        let high = peak.map_or(equity, |p: Decimal| p.max(equity));
                        peak = Some(high);
                        // Stop loss: 5 % or more below the average entry while holding.
                        let stop_loss = held > Decimal::ZERO && price * dec!(100) <= (cost / held) * dec!(95);
                        // Drawdown: 3 % or more below the peak.
                        let drawdown = (high - equity) * dec!(100) >= high * dec!(3);
                        stop_loss || drawdown
                    }
                    _ => false,
                };
                let out = b.handle(at(now), input);
                if started {
                    stopped = false;
                    peak = None;
                }
                let tripped = out
                    .iter()
                    .any(|o| matches!(o, Output::Alert { kind: AlertKind::LossLimit | AlertKind::DrawdownLimit, .. }));
                if must_trip {
                    must_trips.set(must_trips.get() + 1);
                    prop_assert!(
                        tripped,
                        "a stop the prices and limits call for did not trip: {:?} {:?}",
                        out,
                        b.wallet()
                    );
                }
                if tripped {
                    stopped = true;
                }
                // A tripped bot pauses at once, or as soon as the order in flight ends.
                if stopped && !b.has_open_orders() {
                    prop_assert_eq!(b.status(), BotStatus::Paused, "a trip pauses: {:?}", out);
                }
                for intent in placed(&out) {
                    prop_assert!(!(stopped && intent.side == Side::Buy), "a buy after a risk stop: {out:?}");
                    last = Some(intent);
                }
            }
            Ok(())
        });
        if let Err(e) = outcome {
            panic!("{e}");
        }
        eprintln!("MUST {}", must_trips.get());
    }
}
