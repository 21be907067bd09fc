//! The arbitrage bot: the sans-IO core that trades cycles across several markets (a triangle
//! on one venue, or one pair on two venues), driven like [`crate::bot::Bot`] by inputs and
//! outputs (`handle(input) -> outputs`; it needs no clock), so the backtest runs the code a
//! live bot runs.
//!
//! It keeps a balance per asset and what each holding cost (the budget starts in the quote
//! asset, shared by the venues; the rest comes from fills; across venues each venue first buys
//! the base it sells from), looks for a cycle whenever the markets' best prices change, and carries one cycle at
//! a time out leg after leg ([`CycleRun`]): each leg is approved against the balance it pays
//! with and sent only once the previous one has ended. A buy spends, in its quote asset, what
//! the previous leg received (so a price that moved never makes it spend more); a sell sells
//! it. What rounding leaves over is swept back into the quote asset once it is worth an order.
//! Paused or stopped, it sends no further leg (what a cycle holds stays, for a person to
//! decide); killed, it sends nothing at all.

use domain::{
    alert::AlertKind,
    bot::{BotId, BotStatus},
    money::{Price, Qty, Quote},
    order::{OrderEvent, Side, client_order_id},
    symbol::SymbolRules,
};
use rust_decimal::Decimal;

use crate::{
    bot::{Command, FillReport, Input, Output},
    intent::{Decision, IntentKind, IntentSize, OrderIntent, Reason},
    risk::{Approved, approve_leg},
    strategy::arbitrage::{self, ArbitrageParams, CycleRun, Leg, Market, Mode, Next, Top},
};

/// How the wallet's assets relate to the markets.
#[derive(Debug, PartialEq, Eq)]
pub struct Layout {
    /// For each market: the positions of its base and quote assets in the wallet.
    pub assets: &'static [(usize, usize)],
    /// For each asset: the market that values it in the quote asset (none for a quote asset).
    pub valued_by: &'static [Option<usize>],
    /// The assets swept back into the quote asset once worth an order, with the market that
    /// sells them (what a triangle's rounding leaves; across venues the base is inventory).
    pub swept: &'static [(usize, usize)],
    /// The markets that first buy the base they sell from, with the asset that pays (across
    /// venues: each venue buys base with half its quote before the first cycle).
    pub stocked: &'static [(usize, usize)],
    /// The assets held between cycles besides the quote assets (across venues, the base).
    pub inventory: &'static [usize],
    /// For each asset: the holding it is costed with (across venues, the base on both is one
    /// holding at one average cost, so a cycle's sale realises against what the base cost
    /// wherever it was bought).
    pub pools: &'static [usize],
}

impl Layout {
    /// The layout of a bot trading in `mode`.
    #[must_use]
    pub const fn of(mode: &Mode) -> &'static Self {
        match mode {
            Mode::Triangular { .. } => &TRIANGLE,
            Mode::CrossExchange { .. } => &TWO_VENUES,
        }
    }

    /// The balances a bot starts from: `budget` shared evenly by the quote assets (one per
    /// venue), nothing else.
    #[must_use]
    pub fn starting_balances(&self, budget: Quote) -> Vec<Decimal> {
        let quotes = self.valued_by.iter().filter(|v| v.is_none()).count();
        let share = budget.value() / Decimal::from(quotes.max(1));
        self.valued_by.iter().map(|v| if v.is_none() { share } else { Decimal::ZERO }).collect()
    }

    /// What one unit of `asset` is worth in the quote asset at `prices` (one per market).
    #[must_use]
    pub fn unit_value(&self, asset: usize, prices: &[Price]) -> Decimal {
        self.valued_by[asset].map_or(Decimal::ONE, |market| prices[market].value())
    }
}

/// The triangle: assets quote, bridge, target; markets bridge/quote, target/bridge,
/// target/quote.
pub const TRIANGLE: Layout = Layout {
    assets: &[(1, 0), (2, 1), (2, 0)],
    valued_by: &[None, Some(0), Some(2)],
    swept: &[(1, 0), (2, 2)],
    stocked: &[],
    inventory: &[],
    pools: &[0, 1, 2],
};

/// Two venues: assets quote and base on the first, then on the second; one market on each.
/// The base is valued at the first venue's price on both (a gain is base moved from where it
/// is dear to where it is cheap, which valuing each at its own venue's price would hide).
pub const TWO_VENUES: Layout = Layout {
    assets: &[(1, 0), (3, 2)],
    valued_by: &[None, Some(0), None, Some(0)],
    swept: &[],
    stocked: &[(0, 0), (1, 2)],
    inventory: &[1, 3],
    pools: &[0, 1, 2, 1],
};

/// What an order of the bot is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Errand {
    /// A leg of a cycle, or the unwind of a failed one.
    Cycle,
    /// Selling back what rounding left over.
    Sweep,
    /// Buying the base a venue sells from, before the first cycle.
    Stock,
    /// An order of the bot's past, taken over after a restart.
    Adopted,
}

/// What the bot is handed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ArbitrageInput {
    /// The best prices of every market, in the bot's order.
    Tops(Vec<Top>),
    /// The bot's running time is over: it finishes the cycle under way, then stops.
    TimeUp,
    /// What any bot is handed: an event of its order in flight, a person's command (a single
    /// market's prices, candles, signals and ticks mean nothing to it).
    Bot(Input),
}

/// What the bot wants done.
#[derive(Debug, Clone, PartialEq)]
pub enum ArbitrageOutput {
    /// Send this approved order (a leg, an unwind or a sweep) on the market at `market`.
    Place {
        /// The order.
        order: Approved<OrderIntent>,
        /// The market's position in the bot's order (two venues trade the same pair).
        market: usize,
    },
    /// What any bot asks: a cancel, a status change, a refused leg (the cycle ends; what it
    /// holds stays), an alert.
    Bot(Output),
    /// A cycle (or another errand) ended: what it changed in the wallet's value, at the best
    /// prices known when it ended.
    Ended {
        /// The change in value, in the quote asset.
        result: Quote,
        /// What it was.
        errand: Errand,
    },
}

/// Everything an arbitrage bot is built from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArbitrageState {
    /// The bot's id (part of its client order ids).
    pub id: BotId,
    /// The prefix of its client order ids: the database's own, or `BACKTEST_ORDER_PREFIX`.
    pub order_prefix: std::sync::Arc<str>,
    /// The markets' rules, in the order [`arbitrage::triangle`] names them (or the bot's venue,
    /// then the second).
    pub markets: Vec<SymbolRules>,
    /// The strategy's parameters.
    pub params: ArbitrageParams,
    /// Fee per side, as a fraction, for costing cycles.
    pub fee_rate: Decimal,
    /// The budget, in the quote asset.
    pub budget: Quote,
    /// Let realised gains raise what a cycle may spend.
    pub compound: bool,
    /// The balance of every asset of the layout.
    pub balances: Vec<Decimal>,
    /// What the holdings of every asset cost, in the quote asset (a quote asset costs its
    /// balance).
    pub costs: Vec<Decimal>,
    /// Lifecycle status.
    pub status: BotStatus,
    /// Killed and not started since: sends nothing.
    pub killed: bool,
    /// Sequence number of its next order.
    pub next_seq: u64,
}

/// A sale into a quote asset, as the books record it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sale {
    /// What each unit sold cost, in the quote asset.
    pub cost_basis: Price,
    /// What it received less what the quantity it sold cost (negative for a loss).
    pub realized: Quote,
}

/// What one fill did to the wallet.
struct Booked {
    /// What the order received, after fees.
    received: Decimal,
    /// Whether what it received is held between cycles (a quote asset, or inventory).
    settled: bool,
    /// The sale it made, when it sold into a quote asset.
    sale: Option<Sale>,
}

/// The balance and cost of the holding `asset` is costed with.
fn pooled(layout: &Layout, balances: &[Decimal], costs: &[Decimal], asset: usize) -> (Decimal, Decimal) {
    let pool = layout.pools[asset];
    (0..balances.len())
        .filter(|a| layout.pools[*a] == pool)
        .fold((Decimal::ZERO, Decimal::ZERO), |(held, cost), a| (held + balances[a], cost + costs[a]))
}

/// Shares the cost of the holding `asset` belongs to among its assets by balance (while it
/// holds anything).
fn spread(layout: &Layout, balances: &[Decimal], costs: &mut [Decimal], asset: usize) {
    let (held, cost) = pooled(layout, balances, costs, asset);
    if layout.valued_by[asset].is_none() || held <= Decimal::ZERO {
        return;
    }
    for a in (0..balances.len()).filter(|a| layout.pools[*a] == layout.pools[asset]) {
        costs[a] = cost * balances[a] / held;
    }
}

/// Books a fill of a `side` order on `market` into `balances` and `costs`: what it pays
/// leaves with its share of the paid holding's cost, which moves to what it receives, or, when
/// it receives a quote asset, is set against it as a sale.
fn book(
    layout: &Layout,
    balances: &mut [Decimal],
    costs: &mut [Decimal],
    (market, side): (usize, Side),
    fill: &FillReport,
) -> Booked {
    let (base, quote) = layout.assets[market];
    let (fee_quote, fee_base) = if fill.fee_in_quote { (fill.fee, Decimal::ZERO) } else { (Decimal::ZERO, fill.fee) };
    let (paid_asset, paid, got_asset, got) = match side {
        Side::Buy => (quote, fill.quote.value() + fee_quote, base, fill.qty.value() - fee_base),
        Side::Sell => (base, fill.qty.value() + fee_base, quote, fill.quote.value() - fee_quote),
    };
    let (held, cost) = pooled(layout, balances, costs, paid_asset);
    let moved = if layout.valued_by[paid_asset].is_none() {
        paid
    } else if held > Decimal::ZERO {
        cost * (paid / held).min(Decimal::ONE)
    } else {
        Decimal::ZERO
    };
    balances[paid_asset] -= paid;
    costs[paid_asset] -= moved;
    balances[got_asset] += got;
    costs[got_asset] += if layout.valued_by[got_asset].is_none() { got } else { moved };
    spread(layout, balances, costs, paid_asset);
    spread(layout, balances, costs, got_asset);
    let into_quote = layout.valued_by[got_asset].is_none();
    let sale = (into_quote && side == Side::Sell && !fill.qty.value().is_zero())
        .then(|| Sale { cost_basis: Price::new(moved / fill.qty.value()), realized: Quote::new(got - moved) });
    Booked { received: got, settled: into_quote || layout.inventory.contains(&got_asset), sale }
}

/// The leg in flight, with the cycle it belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Flight {
    /// The cycle being carried out; none for another errand.
    run: Option<CycleRun>,
    /// What the order is for.
    errand: Errand,
    /// The order in flight.
    order: String,
    /// The leg it carries out.
    leg: Leg,
    /// What it has received so far, after fees.
    received: Decimal,
    /// Whether anything filled.
    filled: bool,
    /// Whether it is the unwind of a failed cycle.
    unwinding: bool,
    /// The wallet's value when the cycle's first order was first heard of, at the prices of
    /// that moment (the cycle's result is counted at the prices it traded at).
    value_before: Option<Decimal>,
}

/// An arbitrage bot.
#[derive(Debug, Clone, PartialEq)]
pub struct ArbitrageBot {
    state: ArbitrageState,
    layout: &'static Layout,
    tops: Vec<Top>,
    flight: Option<Flight>,
    /// The last fill received what is not held between cycles: a cycle is under way.
    midway: bool,
    /// For each market: whether it has bought base (its venue is stocked).
    bought: Vec<bool>,
    /// The running time is over: the cycle under way is the last.
    ending: bool,
}

impl ArbitrageBot {
    /// The bot of `state`.
    #[must_use]
    pub fn new(state: ArbitrageState) -> Self {
        let layout = Layout::of(&state.params.mode);
        let bought = vec![false; state.markets.len()];
        Self { state, layout, tops: Vec::new(), flight: None, midway: false, bought, ending: false }
    }

    /// Books a fill of the bot's past (replayed from the database after a restart) of a
    /// `side` order on `market`.
    pub fn replay(&mut self, market: usize, side: Side, fill: &FillReport) {
        let state = &mut self.state;
        let booked = book(self.layout, &mut state.balances, &mut state.costs, (market, side), fill);
        self.midway = !booked.settled;
        self.bought[market] |= side == Side::Buy;
    }

    /// Takes over an order of the bot's past still open after a restart: its events are booked,
    /// and when it ends no further leg follows (its cycle's plan did not survive the restart).
    pub fn adopt(&mut self, client_order_id: &str, market: usize, side: Side) {
        let leg = Leg { market, side, qty: Qty::ZERO, price: Price::ZERO };
        self.flight = Some(Flight {
            run: None,
            errand: Errand::Adopted,
            order: client_order_id.to_owned(),
            leg,
            received: Decimal::ZERO,
            filled: false,
            unwinding: false,
            value_before: None,
        });
    }

    /// The sale a fill of the order in flight would make, for its record, before it is booked.
    #[must_use]
    pub fn sale(&self, client_order_id: &str, fill: &FillReport) -> Option<Sale> {
        let flight = self.flight.as_ref().filter(|f| f.order == client_order_id)?;
        let (mut balances, mut costs) = (self.state.balances.clone(), self.state.costs.clone());
        book(self.layout, &mut balances, &mut costs, (flight.leg.market, flight.leg.side), fill).sale
    }

    /// The order in flight and its market, if any.
    #[must_use]
    pub fn in_flight(&self) -> Option<(&str, usize)> {
        self.flight.as_ref().map(|f| (f.order.as_str(), f.leg.market))
    }

    /// Whether the last fill left the wallet midway through a cycle (holding what only a
    /// further leg turns back into a quote asset).
    #[must_use]
    pub const fn midway(&self) -> bool {
        self.midway
    }

    /// Sequence number of its next order.
    #[must_use]
    pub const fn next_seq(&self) -> u64 {
        self.state.next_seq
    }

    /// What the holdings of every asset cost, in the quote asset.
    #[must_use]
    pub fn costs(&self) -> &[Decimal] {
        &self.state.costs
    }

    /// The balance and cost of the holding `asset` belongs to (across venues, the base on both).
    #[must_use]
    pub fn holding(&self, asset: usize) -> (Decimal, Decimal) {
        pooled(self.layout, &self.state.balances, &self.state.costs, asset)
    }

    /// The latest best prices, one per market once every market has one.
    #[must_use]
    pub fn tops(&self) -> &[Top] {
        &self.tops
    }

    /// The balance of every asset.
    #[must_use]
    pub fn balances(&self) -> &[Decimal] {
        &self.state.balances
    }

    /// How the assets relate to the markets.
    #[must_use]
    pub const fn layout(&self) -> &'static Layout {
        self.layout
    }

    /// Lifecycle status.
    #[must_use]
    pub const fn status(&self) -> BotStatus {
        self.state.status
    }

    /// Everything, valued in the quote asset at `prices` (one per market).
    #[must_use]
    pub fn value(&self, prices: &[Price]) -> Decimal {
        self.state
            .balances
            .iter()
            .enumerate()
            .map(|(asset, balance)| *balance * self.layout.unit_value(asset, prices))
            .sum()
    }

    /// Handles one input; returns what must be done, in order.
    pub fn handle(&mut self, input: ArbitrageInput) -> Vec<ArbitrageOutput> {
        let mut out = Vec::new();
        match input {
            ArbitrageInput::Tops(tops) => {
                self.tops = tops;
                if self.flight.is_none() {
                    self.decide(&mut out);
                }
            }
            ArbitrageInput::TimeUp => {
                self.ending = self.state.status == BotStatus::Running;
                self.stop_if_ending(&mut out);
            }
            ArbitrageInput::Bot(Input::Order { client_order_id, event, fill }) => {
                self.order_update(&client_order_id, event, fill, &mut out);
            }
            ArbitrageInput::Bot(Input::Command(command)) => self.command(command, &mut out),
            ArbitrageInput::Bot(
                Input::Price(_) | Input::Candle(_) | Input::Signal(_) | Input::External(_) | Input::Tick,
            ) => {}
        }
        out
    }

    fn command(&mut self, command: Command, out: &mut Vec<ArbitrageOutput>) {
        let lifecycle = command.lifecycle();
        let Ok(status) = self.state.status.apply(lifecycle) else { return };
        let cancel = |reason: &str, out: &mut Vec<ArbitrageOutput>| {
            if let Some(flight) = &self.flight {
                let client_order_id = flight.order.clone();
                out.push(ArbitrageOutput::Bot(Output::Cancel { client_order_id, reason: reason.to_owned() }));
            }
        };
        let reason = match command {
            Command::Kill => {
                cancel("killed", out);
                self.state.killed = true;
                "killed: the order in flight cancelled, holdings kept"
            }
            Command::Stop { cancel_pending: true } => {
                cancel("stopped with its pending orders cancelled", out);
                "stopped: the order in flight cancelled, holdings kept"
            }
            Command::Start => {
                self.state.killed = false;
                "started"
            }
            Command::Pause => "paused",
            Command::Stop { .. } => "stopped",
        };
        self.state.status = status;
        out.push(ArbitrageOutput::Bot(Output::Status { status, reason: reason.to_owned() }));
    }

    /// Whether the running time is over (the cycle under way, if any, is the last).
    #[must_use]
    pub const fn ending(&self) -> bool {
        self.ending
    }

    /// Stops a bot whose running time is over once nothing is in flight.
    fn stop_if_ending(&mut self, out: &mut Vec<ArbitrageOutput>) {
        if self.ending && self.flight.is_none() && self.state.status == BotStatus::Running {
            self.state.status = BotStatus::Stopped;
            out.push(ArbitrageOutput::Bot(Output::Status {
                status: BotStatus::Stopped,
                reason: "the running time elapsed".to_owned(),
            }));
        }
    }

    /// Whether the bot may send an order now.
    fn may_send(&self) -> bool {
        self.state.status == BotStatus::Running && !self.state.killed
    }

    /// The markets at the latest best prices.
    fn markets(&self) -> Vec<Market<'_>> {
        self.state
            .markets
            .iter()
            .zip(&self.tops)
            .map(|(rules, top)| Market { rules, top: *top, fee_rate: self.state.fee_rate })
            .collect()
    }

    /// Stocks a venue not stocked yet, else looks for a cycle (or crumbs to sweep) and sends
    /// its first order.
    fn decide(&mut self, out: &mut Vec<ArbitrageOutput>) {
        if !self.may_send() || self.tops.len() != self.state.markets.len() {
            return;
        }
        let unstocked = self
            .layout
            .stocked
            .iter()
            .find(|&&(market, paying)| !self.bought[market] && self.state.balances[paying] > Decimal::ZERO);
        if let Some(&(market, paying)) = unstocked {
            // Tried once a run: a venue that cannot be stocked trades with what it has (a restart
            // tries again, with the same quote: it cannot grow without base to sell there).
            self.bought[market] = true;
            let spend = self.state.balances[paying] / Decimal::TWO;
            let ask = self.tops[market].ask;
            let qty = self.state.markets[market].round_qty_down(Qty::new(spend / ask.value()));
            let leg = Leg { market, side: Side::Buy, qty, price: ask };
            let reason =
                format!("arbitrage inventory: base for venue {} to sell from, with half its quote", market + 1);
            let sending =
                Sending { errand: Errand::Stock, unwinding: false, value_before: None, spend: Some(spend), reason };
            self.send(None, leg, sending, out);
            return;
        }
        let markets = self.markets();
        let balances = &self.state.balances;
        let params = &self.state.params;
        let cycle = match (&params.mode, markets.as_slice()) {
            (Mode::Triangular { .. }, [a, b, c]) => {
                let budget = self.state.budget.value();
                let free = if self.state.compound { balances[0] } else { balances[0].min(budget) };
                arbitrage::triangular(&[*a, *b, *c], Quote::new(free), params)
            }
            (Mode::CrossExchange { .. }, [a, b]) => {
                // Without compounding, a venue spends at most its share of the budget.
                let share = self.state.budget.value() / Decimal::TWO;
                let cap = |balance: Decimal| Quote::new(if self.state.compound { balance } else { balance.min(share) });
                let free = [cap(balances[0]), cap(balances[2])];
                arbitrage::cross_exchange(&[*a, *b], free, [Qty::new(balances[1]), Qty::new(balances[3])], params)
            }
            _ => None,
        };
        if let Some(cycle) = cycle {
            let edge = (cycle.edge() * Decimal::ONE_HUNDRED).round_dp(4);
            let (run, first) = CycleRun::start(cycle);
            if let Some(leg) = first {
                let reason = format!("arbitrage leg 1 of {}: {edge}% edge", run.cycle().legs.len());
                let sending =
                    Sending { errand: Errand::Cycle, unwinding: false, value_before: None, spend: None, reason };
                self.send(Some(run), leg, sending, out);
            }
            return;
        }
        let sweep = self
            .layout
            .swept
            .iter()
            .find_map(|&(asset, market)| arbitrage::sale(&markets, market, Qty::new(balances[asset])));
        if let Some(leg) = sweep {
            let reason = "arbitrage sweep: what rounding left over, back into the quote asset".to_owned();
            let sending = Sending { errand: Errand::Sweep, unwinding: false, value_before: None, spend: None, reason };
            self.send(None, leg, sending, out);
        }
    }

    /// Approves and sends `leg` of `run` (none for another errand); a refusal ends the cycle.
    fn send(&mut self, run: Option<CycleRun>, leg: Leg, sending: Sending, out: &mut Vec<ArbitrageOutput>) {
        let Sending { errand, unwinding, value_before, spend, reason } = sending;
        let rules = &self.state.markets[leg.market];
        let (base, quote) = self.layout.assets[leg.market];
        let (size, paying) = match leg.side {
            // A buy spends, in its quote asset, what it is given, else what it was planned to.
            Side::Buy => {
                let planned = leg.qty.value() * leg.price.value();
                (IntentSize::Quote(Quote::new(spend.unwrap_or(planned))), quote)
            }
            Side::Sell => (IntentSize::Base(leg.qty), base),
        };
        let id = client_order_id(&self.state.order_prefix, self.state.id, self.state.next_seq);
        self.state.next_seq += 1;
        let intent = OrderIntent {
            client_order_id: id.clone(),
            pair: rules.pair.clone(),
            side: leg.side,
            kind: IntentKind::Market,
            size,
            decision: Decision { summary: Reason::Text(reason), ..Decision::default() },
        };
        match approve_leg(intent, rules, self.state.balances[paying], leg.price) {
            Ok(approved) => {
                self.flight = Some(Flight {
                    run,
                    errand,
                    order: id,
                    leg,
                    received: Decimal::ZERO,
                    filled: false,
                    unwinding,
                    value_before,
                });
                out.push(ArbitrageOutput::Place { order: approved, market: leg.market });
            }
            Err(refused) => {
                let reason = refused.refusal.to_string();
                out.push(ArbitrageOutput::Bot(Output::Refused { intent: refused.intent, reason }));
                self.end(value_before, errand, out);
            }
        }
    }

    /// Applies an event of the leg in flight; once the leg has ended, sends what comes next.
    fn order_update(&mut self, id: &str, event: OrderEvent, fill: Option<FillReport>, out: &mut Vec<ArbitrageOutput>) {
        let value_now = self.value_at_tops();
        let Some(flight) = self.flight.as_mut().filter(|f| f.order == id) else {
            // A late fill, say: the balances and the venue may disagree, so the bot stops
            // until a person looks.
            let message = format!("bot {}: event {event:?} for an order it does not follow ({id})", self.state.id);
            out.push(ArbitrageOutput::Bot(Output::Alert { kind: AlertKind::BotError, message: message.clone() }));
            if self.state.status == BotStatus::Running {
                self.state.status = BotStatus::Paused;
                out.push(ArbitrageOutput::Bot(Output::Status { status: BotStatus::Paused, reason: message }));
            }
            return;
        };
        flight.value_before = flight.value_before.or(value_now);
        if let Some(fill) = fill {
            let state = &mut self.state;
            let booked =
                book(self.layout, &mut state.balances, &mut state.costs, (flight.leg.market, flight.leg.side), &fill);
            flight.received += booked.received;
            flight.filled = true;
            self.midway = !booked.settled;
        }
        let ended = matches!(
            event,
            OrderEvent::Filled
                | OrderEvent::CancelConfirmed
                | OrderEvent::Expired
                | OrderEvent::Rejected
                | OrderEvent::NotFound
        );
        if !ended {
            return;
        }
        let Some(mut flight) = self.flight.take() else { return };
        let markets: Vec<Market<'_>> = self.markets();
        let next = match (&mut flight.run, flight.unwinding) {
            (Some(run), false) if flight.filled => run.filled(Qty::new(flight.received), &markets),
            (Some(run), false) => run.failed(&markets),
            _ => Next::Done,
        };
        drop(markets);
        let (legs, errand) = (flight.run.as_ref().map_or(1, |r| r.cycle().legs.len()), flight.errand);
        match next {
            Next::Leg(leg) if self.may_send() => {
                let number = flight.run.as_ref().map_or(1, |r| r.leg() + 1);
                let reason = format!("arbitrage leg {number} of {legs}");
                // A buy spends what the previous leg received, all of it.
                let spend = Some(flight.received);
                let sending = Sending { errand, unwinding: false, value_before: flight.value_before, spend, reason };
                self.send(flight.run, leg, sending, out);
            }
            Next::Unwind(leg) if self.may_send() => {
                let failed = flight.run.as_ref().map_or(1, |r| r.leg() + 1);
                let why = if flight.filled {
                    "is too small for its market's rules at these prices".to_owned()
                } else {
                    format!("did not fill ({event:?})")
                };
                let reason = format!("arbitrage unwind: leg {failed} {why}");
                let sending =
                    Sending { errand, unwinding: true, value_before: flight.value_before, spend: None, reason };
                self.send(flight.run, leg, sending, out);
            }
            _ => self.end(flight.value_before, errand, out),
        }
    }

    /// The wallet's value at the latest best bids, once every market has one.
    fn value_at_tops(&self) -> Option<Decimal> {
        let prices: Vec<Price> = self.tops.iter().map(|t| t.bid).collect();
        (prices.len() == self.state.markets.len()).then(|| self.value(&prices))
    }

    /// An errand is over: reports what it changed, at the prices it traded at.
    fn end(&mut self, value_before: Option<Decimal>, errand: Errand, out: &mut Vec<ArbitrageOutput>) {
        let result = value_before.zip(self.value_at_tops()).map_or(Decimal::ZERO, |(before, after)| after - before);
        out.push(ArbitrageOutput::Ended { result: Quote::new(result), errand });
        self.stop_if_ending(out);
    }
}

/// How a leg is sent: for what, as an unwind or not, the value the cycle began at, what a buy
/// spends (none: what it was planned to), and why.
struct Sending {
    errand: Errand,
    unwinding: bool,
    value_before: Option<Decimal>,
    spend: Option<Decimal>,
    reason: String,
}

#[cfg(test)]
mod tests {
    use domain::money::Qty;
    use rust_decimal_macros::dec;

    use super::*;
    use crate::testing::rules;

    fn top(price: Decimal) -> Top {
        let qty = Qty::new(dec!(1000));
        Top { bid: Price::new(price), bid_qty: qty, ask: Price::new(price), ask_qty: qty }
    }

    /// A running triangle bot with 1,000 USDT, and prices with a 2 % gap (ETH/USDT 2000 against
    /// 1960 through BTC).
    fn bot() -> (ArbitrageBot, Vec<Top>) {
        let state = ArbitrageState {
            id: BotId(4),
            order_prefix: domain::order::BACKTEST_ORDER_PREFIX.into(),
            markets: vec![
                rules("BTC/USDT", 2, 6, dec!(1)),
                rules("ETH/BTC", 6, 4, dec!(0.0001)),
                rules("ETH/USDT", 2, 5, dec!(1)),
            ],
            params: ArbitrageParams {
                mode: Mode::Triangular { bridge: "BTC".into() },
                min_edge: dec!(0.002),
                max_trade: Quote::new(dec!(100)),
            },
            fee_rate: dec!(0.001),
            budget: Quote::new(dec!(1000)),
            compound: false,
            balances: vec![dec!(1000), Decimal::ZERO, Decimal::ZERO],
            costs: vec![dec!(1000), Decimal::ZERO, Decimal::ZERO],
            status: BotStatus::Running,
            killed: false,
            next_seq: 1,
        };
        (ArbitrageBot::new(state), vec![top(dec!(40000)), top(dec!(0.049)), top(dec!(2000))])
    }

    fn placed(outputs: &[ArbitrageOutput]) -> Vec<(usize, OrderIntent)> {
        outputs
            .iter()
            .filter_map(|o| match o {
                ArbitrageOutput::Place { order, market } => Some((*market, order.get().clone())),
                _ => None,
            })
            .collect()
    }

    /// A fill of `intent` at `price`, its fee in the asset received.
    fn filled(intent: &OrderIntent, price: Decimal) -> ArbitrageInput {
        let (qty, quote) = match intent.size {
            IntentSize::Quote(quote) => ((quote.value() / price).round_dp(4), quote.value()),
            IntentSize::Base(qty) => (qty.value(), qty.value() * price),
        };
        let (fee, fee_in_quote) = match intent.side {
            Side::Buy => (qty * dec!(0.001), false),
            Side::Sell => (quote * dec!(0.001), true),
        };
        let fill = FillReport { qty: Qty::new(qty), quote: Quote::new(qty * price), fee, fee_in_quote };
        ArbitrageInput::Bot(Input::Order {
            client_order_id: intent.client_order_id.clone(),
            event: OrderEvent::Filled,
            fill: Some(fill),
        })
    }

    #[test]
    fn a_cycle_goes_leg_after_leg_each_buy_spending_what_the_last_leg_received() {
        let (mut bot, tops) = bot();
        let first = placed(&bot.handle(ArbitrageInput::Tops(tops)));
        assert_eq!(first.len(), 1);
        let (market, leg) = &first[0];
        assert_eq!((*market, leg.side, leg.size), (0, Side::Buy, IntentSize::Quote(Quote::new(dec!(100)))));
        assert_eq!(leg.client_order_id, "tb-4-000001");
        let second = placed(&bot.handle(filled(leg, dec!(40000))));
        // 0.0025 BTC less its fee: 0.0024975, spent to the satoshi's precision of ETH/BTC.
        assert_eq!((second[0].0, second[0].1.side), (1, Side::Buy));
        assert_eq!(second[0].1.size, IntentSize::Quote(Quote::new(dec!(0.002497))));
        let third = placed(&bot.handle(filled(&second[0].1, dec!(0.049))));
        assert_eq!((third[0].0, third[0].1.side), (2, Side::Sell));
        let outputs = bot.handle(filled(&third[0].1, dec!(2000)));
        let Some(ArbitrageOutput::Ended { result, errand: Errand::Cycle }) = outputs.last() else {
            panic!("{outputs:?}")
        };
        assert!(result.value() > dec!(1.5), "{result}");
        assert!(bot.balances()[0] > dec!(1001.5), "{:?}", bot.balances());
    }

    #[test]
    fn the_closing_sale_realises_what_the_cycle_made_and_a_replay_rebuilds_the_same_books() {
        let (mut bot, tops) = bot();
        let mut history = Vec::new();
        let mut sales = Vec::new();
        let mut outputs = bot.handle(ArbitrageInput::Tops(tops));
        for price in [dec!(40000), dec!(0.049), dec!(2000)] {
            let (market, intent) = placed(&outputs).remove(0);
            let input = filled(&intent, price);
            let ArbitrageInput::Bot(Input::Order { fill: Some(fill), .. }) = &input else { unreachable!() };
            sales.push(bot.sale(&intent.client_order_id, fill));
            history.push((market, intent.side, fill.clone()));
            outputs = bot.handle(input);
            assert_eq!(bot.midway(), market != 2, "only the sale into USDT ends the cycle");
        }
        assert_eq!(sales[..2], [None, None], "legs into BTC and ETH are no sales");
        let sale = sales[2].expect("the closing leg is a sale");
        // Cost is conserved except where a sale realises: what the crumbs left over cost stays.
        let (balances, costs) = (bot.balances(), bot.costs());
        let conserved = balances[0] + costs[1] + costs[2] - dec!(1000);
        assert!((sale.realized.value() - conserved).abs() < dec!(1e-20), "{sale:?} against {conserved}");
        assert!(sale.realized.value() > dec!(1.5), "{sale:?}");

        let (mut rebuilt, _) = super::tests::bot();
        for (market, side, fill) in &history[..2] {
            rebuilt.replay(*market, *side, fill);
        }
        assert!(rebuilt.midway(), "a restart after two legs finds the cycle unfinished");
        let (market, side, fill) = &history[2];
        rebuilt.replay(*market, *side, fill);
        assert_eq!((rebuilt.balances(), rebuilt.costs(), rebuilt.midway()), (balances, costs, false));
    }

    /// A bot across two venues with 500 USDT on each and nothing else.
    fn two_venues() -> ArbitrageBot {
        let btc = rules("BTC/USDT", 2, 6, dec!(1));
        ArbitrageBot::new(ArbitrageState {
            id: BotId(5),
            order_prefix: domain::order::BACKTEST_ORDER_PREFIX.into(),
            markets: vec![btc.clone(), btc],
            params: ArbitrageParams {
                mode: Mode::CrossExchange { second_exchange: "backup".into() },
                min_edge: dec!(0.002),
                max_trade: Quote::new(dec!(100)),
            },
            fee_rate: dec!(0.001),
            budget: Quote::new(dec!(1000)),
            compound: false,
            balances: vec![dec!(500), Decimal::ZERO, dec!(500), Decimal::ZERO],
            costs: vec![dec!(500), Decimal::ZERO, dec!(500), Decimal::ZERO],
            status: BotStatus::Running,
            killed: false,
            next_seq: 1,
        })
    }

    #[test]
    fn across_venues_each_venue_buys_its_inventory_once_before_any_cycle() {
        let mut bot = two_venues();
        let gap = vec![top(dec!(40000)), top(dec!(40400))];
        let first = placed(&bot.handle(ArbitrageInput::Tops(gap.clone())));
        assert_eq!((first[0].0, first[0].1.size), (0, IntentSize::Quote(Quote::new(dec!(250)))), "{first:?}");
        let outputs = bot.handle(filled(&first[0].1, dec!(40000)));
        assert!(matches!(outputs.last(), Some(ArbitrageOutput::Ended { errand: Errand::Stock, .. })), "{outputs:?}");
        assert!(!bot.midway(), "inventory is held between cycles");
        let second = placed(&bot.handle(ArbitrageInput::Tops(gap.clone())));
        assert_eq!((second[0].0, second[0].1.side), (1, Side::Buy), "then the second venue");
        // Refused by the venue: not tried again; the bot trades with what it has.
        bot.handle(ArbitrageInput::Bot(Input::Order {
            client_order_id: second[0].1.client_order_id.clone(),
            event: OrderEvent::Rejected,
            fill: None,
        }));
        let outputs = bot.handle(ArbitrageInput::Tops(gap.clone()));
        assert!(placed(&outputs).is_empty(), "not tried again, and the dear venue has nothing to sell: {outputs:?}");

        // After a restart only the venue that never bought does; then the gap is traded.
        let mut rebuilt = two_venues();
        let ArbitrageInput::Bot(Input::Order { fill: Some(fill), .. }) = filled(&first[0].1, dec!(40000)) else {
            unreachable!()
        };
        rebuilt.replay(0, Side::Buy, &fill);
        let stock = placed(&rebuilt.handle(ArbitrageInput::Tops(gap.clone())));
        assert_eq!((stock[0].0, stock[0].1.side), (1, Side::Buy));
        rebuilt.handle(filled(&stock[0].1, dec!(40400)));
        let cycle = placed(&rebuilt.handle(ArbitrageInput::Tops(gap)));
        let summary = cycle[0].1.decision.summary.to_string();
        assert!(summary.starts_with("arbitrage leg 1 of 2"), "{summary}");
        assert_eq!((cycle[0].0, cycle[0].1.side), (0, Side::Buy), "bought where it is cheap");
    }

    #[test]
    fn an_adopted_order_is_booked_and_no_leg_follows_it() {
        let (mut bot, tops) = bot();
        bot.adopt("tb-4-000007", 0, Side::Buy);
        assert_eq!(bot.in_flight(), Some(("tb-4-000007", 0)));
        assert!(placed(&bot.handle(ArbitrageInput::Tops(tops))).is_empty(), "one order at a time");
        let fill = FillReport {
            qty: Qty::new(dec!(0.0025)),
            quote: Quote::new(dec!(100)),
            fee: dec!(0.0000025),
            fee_in_quote: false,
        };
        let event =
            |event, fill| ArbitrageInput::Bot(Input::Order { client_order_id: "tb-4-000007".into(), event, fill });
        bot.handle(event(OrderEvent::PartiallyFilled, Some(fill)));
        let outputs = bot.handle(event(OrderEvent::Filled, None));
        assert!(placed(&outputs).is_empty(), "{outputs:?}");
        assert!(matches!(outputs.last(), Some(ArbitrageOutput::Ended { .. })), "{outputs:?}");
        assert_eq!(bot.balances()[..2], [dec!(900), dec!(0.0024975)]);
        assert_eq!(bot.costs()[1], dec!(100), "the BTC cost what was paid for it");
        assert!(bot.midway() && bot.in_flight().is_none());
    }

    #[test]
    fn when_its_running_time_is_over_mid_cycle_it_finishes_the_cycle_then_stops() {
        let (mut bot, tops) = bot();
        let first = placed(&bot.handle(ArbitrageInput::Tops(tops.clone())));
        assert!(bot.handle(ArbitrageInput::TimeUp).is_empty(), "a leg is in flight: nothing yet");
        let second = placed(&bot.handle(filled(&first[0].1, dec!(40000))));
        assert_eq!(second.len(), 1, "the cycle goes on: no holding is left stranded");
        let third = placed(&bot.handle(filled(&second[0].1, dec!(0.049))));
        let outputs = bot.handle(filled(&third[0].1, dec!(2000)));
        let stopped = Output::Status { status: BotStatus::Stopped, reason: "the running time elapsed".into() };
        assert_eq!(outputs.last(), Some(&ArbitrageOutput::Bot(stopped)), "{outputs:?}");
        assert!(placed(&bot.handle(ArbitrageInput::Tops(tops))).is_empty(), "no new cycle");
    }

    #[test]
    fn killed_mid_cycle_it_cancels_the_leg_in_flight_and_sends_nothing_more() {
        let (mut bot, tops) = bot();
        let first = placed(&bot.handle(ArbitrageInput::Tops(tops.clone())));
        let mut stopped = bot.clone();
        let outputs = stopped.handle(ArbitrageInput::Bot(Input::Command(Command::Stop { cancel_pending: true })));
        assert!(outputs.iter().any(|o| matches!(o, ArbitrageOutput::Bot(Output::Cancel { .. }))), "{outputs:?}");
        let outputs = bot.handle(ArbitrageInput::Bot(Input::Command(Command::Kill)));
        let cancel = Output::Cancel { client_order_id: first[0].1.client_order_id.clone(), reason: "killed".into() };
        assert!(outputs.contains(&ArbitrageOutput::Bot(cancel)), "{outputs:?}");
        // The leg filled before the cancel took effect: the BTC is kept, nothing is sent.
        let outputs = bot.handle(filled(&first[0].1, dec!(40000)));
        assert!(placed(&outputs).is_empty(), "{outputs:?}");
        assert!(bot.balances()[1] > Decimal::ZERO);
        assert!(placed(&bot.handle(ArbitrageInput::Tops(tops))).is_empty(), "killed: no new cycle");
    }

    #[test]
    fn paused_it_sends_no_further_leg_and_a_stranger_order_raises_an_alert() {
        let (mut bot, tops) = bot();
        let first = placed(&bot.handle(ArbitrageInput::Tops(tops)));
        bot.handle(ArbitrageInput::Bot(Input::Command(Command::Pause)));
        assert!(placed(&bot.handle(filled(&first[0].1, dec!(40000)))).is_empty());
        let outputs = bot.handle(ArbitrageInput::Bot(Input::Order {
            client_order_id: "tb-9-000001".into(),
            event: OrderEvent::Filled,
            fill: None,
        }));
        assert!(
            matches!(&outputs[..], [ArbitrageOutput::Bot(Output::Alert { kind: AlertKind::BotError, .. })]),
            "{outputs:?}"
        );
    }

    #[test]
    fn a_running_bot_told_of_an_order_it_does_not_follow_pauses() {
        let (mut bot, tops) = bot();
        let first = placed(&bot.handle(ArbitrageInput::Tops(tops.clone())));
        bot.handle(filled(&first[0].1, dec!(40000)));
        // A fill of the first leg reported again after it ended: the books may disagree.
        let outputs = bot.handle(filled(&first[0].1, dec!(40000)));
        assert!(outputs.iter().any(|o| matches!(o, ArbitrageOutput::Bot(Output::Alert { .. }))), "{outputs:?}");
        assert_eq!(bot.status(), BotStatus::Paused);
    }

    #[test]
    fn a_first_leg_the_venue_rejects_ends_the_cycle_with_nothing_changed() {
        let (mut bot, tops) = bot();
        let first = placed(&bot.handle(ArbitrageInput::Tops(tops)));
        let outputs = bot.handle(ArbitrageInput::Bot(Input::Order {
            client_order_id: first[0].1.client_order_id.clone(),
            event: OrderEvent::Rejected,
            fill: None,
        }));
        let Some(ArbitrageOutput::Ended { result, errand: Errand::Cycle }) = outputs.last() else {
            panic!("{outputs:?}")
        };
        assert_eq!(*result, Quote::ZERO, "nothing filled, nothing changed");
        assert!(placed(&outputs).is_empty());
    }
}
