//! Strategies: market state in, desired trades out. They never see the wallet's internals or
//! an executor; risk approval stands between what they want and what is sent.
//!
//! [`StrategyState`] is a bot's strategy with its memory; the bot asks it for a [`Desire`] when
//! it may trade, and tells it what came of it.

pub mod arbitrage;
pub mod auto;
pub mod dca;
pub mod event_filler;
pub mod grid;
pub mod mean_reversion;
pub mod momentum;
mod params;
pub mod twap;
pub mod vwap;

use domain::{
    candle::Candle,
    feed::ExternalData,
    money::{Price, Qty, Quote},
    order::Side,
    strategy::{StrategyId, StrategyParams},
    time::Timestamp,
};

use self::{
    auto::Auto,
    dca::{DcaMemory, DcaParams},
    event_filler::{EventFiller, ExternalSignal},
    grid::{BookView, Grid, Plan},
    mean_reversion::MeanReversion,
    momentum::Momentum,
    twap::Twap,
    vwap::Vwap,
};
use crate::{
    indicators::to_f64,
    intent::{Reason, SignalValue},
};

/// An indicator value for a person: eight decimals at most, in the shortest form.
#[allow(clippy::disallowed_types, reason = "indicator values, shown to people")]
pub(crate) fn show(value: f64) -> String {
    SignalValue::Number(value).to_string()
}

/// What a strategy wants to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Buy at the market for this quote amount.
    Buy(Quote),
    /// Sell this base quantity at the market.
    Sell(Qty),
    /// Rest a limit order on the book.
    Limit {
        /// Buy or sell.
        side: Side,
        /// Base quantity.
        qty: Qty,
        /// Limit price.
        price: Price,
    },
}

/// What a strategy wants, before sizing and risk approval, with why.
#[derive(Debug, Clone, PartialEq)]
pub struct Desire {
    /// The trade.
    pub action: Action,
    /// Why, for the decision record.
    pub reason: Reason,
    /// The signal values behind it, for the decision record.
    pub signals: Vec<(&'static str, SignalValue)>,
}

impl Desire {
    /// A desire with no signal values beyond the price.
    #[must_use]
    pub fn new(action: Action, reason: impl Into<Reason>) -> Self {
        Self { action, reason: reason.into(), signals: Vec::new() }
    }
}

/// The bot's holding as the strategy sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Holding {
    /// Base quantity held and not promised to an open sell.
    pub qty: Qty,
    /// Cost of the holding.
    pub cost: Quote,
}

/// A strategy the engine cannot run yet.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the {0} strategy cannot trade yet (it can be backtested)")]
pub struct Unsupported(pub StrategyId);

/// A bot's strategy with its memory.
#[derive(Debug, Clone, PartialEq)]
pub enum StrategyState {
    /// DCA Accumulator.
    Dca(DcaParams, DcaMemory),
    /// Mean Reversion on Bollinger bands (or z-scores), optionally filtered by RSI.
    MeanReversion(Box<MeanReversion>),
    /// Breakdown Momentum: volume-confirmed range breakouts with a trailing exit.
    Momentum(Box<Momentum>),
    /// TWAP: a target amount in even slices over a period.
    Twap(Twap),
    /// Event Filler: spikes and pushed signals in, tight exits.
    EventFiller(Box<EventFiller>),
    /// Auto Mode: runs the strategy the market factors point to.
    Auto(Box<Auto>),
    /// VWAP: a target amount along the intraday volume profile, under a participation cap.
    Vwap(Box<Vwap>),
    /// Adaptive Grid: limit orders resting on a ladder of levels around the price.
    Grid(Box<Grid>),
}

impl StrategyState {
    /// A fresh strategy from its validated parameters.
    ///
    /// # Errors
    /// A message for parameters the schema should have refused, or [`Unsupported`].
    pub fn new(id: StrategyId, params: &StrategyParams) -> Result<Self, StrategyError> {
        match id {
            StrategyId::DcaAccumulator => Ok(Self::Dca(DcaParams::from_params(params)?, DcaMemory::default())),
            StrategyId::MeanReversion => Ok(Self::MeanReversion(Box::new(MeanReversion::from_params(params)?))),
            StrategyId::BreakdownMomentum => Ok(Self::Momentum(Box::new(Momentum::from_params(params)?))),
            StrategyId::Twap => Ok(Self::Twap(Twap::new(Twap::from_params(params)?, Qty::ZERO))),
            StrategyId::EventFiller => Ok(Self::EventFiller(Box::new(EventFiller::from_params(params)?))),
            StrategyId::Auto => Ok(Self::Auto(Box::new(Auto::from_params(params)?))),
            StrategyId::Vwap => Ok(Self::Vwap(Box::new(Vwap::new(Vwap::from_params(params)?, Qty::ZERO)))),
            StrategyId::AdaptiveGrid => Ok(Self::Grid(Box::new(Grid::from_params(params)?))),
            StrategyId::Arbitrage => Err(StrategyError::Unsupported(Unsupported(StrategyId::Arbitrage))),
        }
    }

    /// Which strategy this is.
    #[must_use]
    pub const fn id(&self) -> StrategyId {
        match self {
            Self::Dca(..) => StrategyId::DcaAccumulator,
            Self::MeanReversion(_) => StrategyId::MeanReversion,
            Self::Momentum(_) => StrategyId::BreakdownMomentum,
            Self::Twap(_) => StrategyId::Twap,
            Self::EventFiller(_) => StrategyId::EventFiller,
            Self::Auto(_) => StrategyId::Auto,
            Self::Vwap(_) => StrategyId::Vwap,
            Self::Grid(_) => StrategyId::AdaptiveGrid,
        }
    }

    /// A closed candle of the bot's pair, at `now`.
    pub fn on_candle(&mut self, now: Timestamp, candle: &Candle) {
        match self {
            Self::Dca(..) | Self::Twap(_) => {}
            Self::MeanReversion(mr) => mr.on_candle(candle),
            Self::Momentum(m) => m.on_candle(candle),
            Self::EventFiller(e) => e.on_candle(candle),
            Self::Auto(a) => a.on_candle(now, candle),
            Self::Vwap(v) => v.on_candle(candle),
            Self::Grid(g) => g.on_candle(candle),
        }
    }

    /// Hourly candles of history the strategy learns from (VWAP's volume profile).
    #[must_use]
    pub fn hourly_history_needed(&self) -> usize {
        if let Self::Vwap(v) = self { v.history_hours() } else { 0 }
    }

    /// A past hourly candle, for a volume profile.
    pub fn learn_hourly(&mut self, candle: &Candle) {
        if let Self::Vwap(v) = self {
            v.learn(candle);
        }
    }

    /// A switch Auto Mode made on the last candle: (from, to, reason).
    pub fn take_switch(&mut self) -> Option<(StrategyId, StrategyId, String)> {
        if let Self::Auto(a) = self { a.take_switch() } else { None }
    }

    /// A signal pushed in through the API (only the Event Filler acts on it).
    pub fn on_signal(&mut self, signal: &ExternalSignal) {
        match self {
            Self::EventFiller(e) => e.on_signal(signal),
            Self::Auto(a) => a.current_mut().on_signal(signal),
            _ => {}
        }
    }

    /// The latest external data about the market and `coin`, the pair's base asset (only the
    /// Event Filler acts on it).
    pub fn on_external(&mut self, data: &ExternalData, coin: &str) {
        match self {
            Self::EventFiller(e) => e.on_external(data, coin),
            Self::Auto(a) => a.current_mut().on_external(data, coin),
            _ => {}
        }
    }

    /// A past candle that warms the indicators up; no decision is taken on it.
    pub fn warm_up(&mut self, candle: &Candle) {
        match self {
            Self::Dca(..) | Self::Twap(_) | Self::Vwap(_) => {}
            Self::MeanReversion(mr) => mr.warm_up(candle),
            Self::Momentum(m) => m.warm_up(candle),
            Self::EventFiller(e) => e.warm_up(candle),
            Self::Auto(a) => a.warm_up(candle),
            Self::Grid(g) => g.on_candle(candle),
        }
    }

    /// How many past candles the strategy needs before it can decide.
    #[must_use]
    pub fn history_needed(&self) -> usize {
        match self {
            Self::Dca(..) | Self::Twap(_) | Self::Vwap(_) => 0,
            Self::MeanReversion(mr) => mr.history_needed(),
            Self::Momentum(m) => m.history_needed(),
            Self::EventFiller(e) => e.history_needed(),
            Self::Auto(a) => a.history_needed(),
            Self::Grid(g) => g.history_needed(),
        }
    }

    /// What the strategy wants now, if anything.
    pub fn desire(&mut self, now: Timestamp, price: Price, holding: Holding) -> Option<Desire> {
        match self {
            Self::Dca(params, memory) => dca::decide(params, memory, now, price, holding),
            Self::MeanReversion(mr) => mr.desire(holding),
            Self::Momentum(m) => m.desire(holding),
            Self::Twap(t) => t.desire(now, price, holding),
            Self::EventFiller(e) => e.desire(now, price, holding),
            Self::Auto(a) => a.current_mut().desire(now, price, holding),
            Self::Vwap(v) => v.desire(price, holding),
            Self::Grid(_) => None,
        }
    }

    /// Whether the strategy keeps several limit orders resting at once (and is asked for a
    /// [`Plan`] instead of a [`Desire`]).
    #[must_use]
    pub const fn keeps_a_book(&self) -> bool {
        matches!(self, Self::Grid(_))
    }

    /// What a strategy that keeps a book wants done with its `resting` orders (see
    /// [`Grid::plan`]); [`Plan::Keep`] for the others.
    pub fn plan(&mut self, view: &BookView<'_>, free: impl FnOnce() -> Quote) -> Plan {
        match self {
            Self::Grid(g) => g.plan(view, free),
            _ => Plan::Keep,
        }
    }

    /// One of the bot's orders filled (partly): `qty` of base on `side`.
    pub fn filled(&mut self, side: Side, qty: Qty) {
        match self {
            Self::Twap(t) if t.side() == side => t.executed(qty),
            Self::Vwap(v) if v.side() == side => v.executed(qty),
            Self::Auto(a) => a.current_mut().filled(side, qty),
            _ => {}
        }
    }

    /// A buy resting at `limit` filled `qty` (partly).
    pub fn bought_at(&mut self, limit: Price, qty: Qty) {
        if let Self::Grid(g) = self {
            g.bought_at(limit, qty);
        }
    }

    /// The desire was approved and its order placed.
    pub fn placed(&mut self, action: Action, now: Timestamp, price: Price) {
        match self {
            Self::Dca(_, memory) => {
                if let Action::Buy(_) = action {
                    *memory = DcaMemory { last_buy_at: Some(now), last_buy_price: Some(price) };
                }
            }
            Self::Momentum(m) => m.placed(action, to_f64(price)),
            Self::Twap(t) => t.slice_done(now),
            Self::EventFiller(e) => e.placed(action, now, price),
            Self::Auto(a) => a.current_mut().placed(action, now, price),
            Self::MeanReversion(_) | Self::Vwap(_) | Self::Grid(_) => {}
        }
    }

    /// The desire was refused by risk.
    pub fn refused(&mut self, action: Action, now: Timestamp) {
        match self {
            // A refused regular buy waits for the next interval rather than retrying at once.
            Self::Dca(_, memory) => {
                if let Action::Buy(_) = action {
                    memory.last_buy_at = Some(now);
                }
            }
            // A refused slice waits for the next one.
            Self::Twap(t) => t.slice_done(now),
            Self::Auto(a) => a.current_mut().refused(action, now),
            Self::MeanReversion(_) | Self::Momentum(_) | Self::EventFiller(_) | Self::Vwap(_) | Self::Grid(_) => {}
        }
    }

    /// When the strategy next needs a decision without new market data.
    #[must_use]
    pub fn next_wakeup(&self) -> Option<Timestamp> {
        match self {
            Self::Dca(params, memory) => {
                memory.last_buy_at.map(|t| Timestamp::from_millis(t.millis() + params.interval_ms))
            }
            Self::Twap(t) => t.next_wakeup(),
            Self::Auto(a) => a.current().next_wakeup(),
            Self::MeanReversion(_) | Self::Momentum(_) | Self::EventFiller(_) | Self::Vwap(_) | Self::Grid(_) => None,
        }
    }
}

/// Why a strategy cannot be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StrategyError {
    /// Not in the engine yet.
    #[error(transparent)]
    Unsupported(Unsupported),
    /// A parameter is missing or of the wrong type (the schema prevents it).
    #[error("{0}")]
    Params(String),
}

impl From<String> for StrategyError {
    fn from(message: String) -> Self {
        Self::Params(message)
    }
}
