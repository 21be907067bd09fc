//! Backtests: the application service behind `BacktestService`. Validates a request (every
//! problem listed), reads the venue's symbol rules and fees, loads the uploaded candles it
//! names (and, for arbitrage, those of the other markets it trades) from the candle store, and
//! runs the engine's backtest driver on a blocking thread, reporting progress as it goes.
//!
//! **Invariant:** candles come from the daemon's candle store (by id) or from a venue, never
//! from a path a caller names.

use std::collections::BTreeMap;

use domain::{
    bot::{MAX_BUDGET, RiskLimits, StopTexts, ValidationContext, risk_stops},
    candle::Candle,
    money::{DecimalRange, Quote},
    pair::Pair,
    strategy::{RawParam, StrategyId, validate_params},
    symbol::SymbolRules,
    time::Timestamp,
    validation::Violations,
};
use engine::{
    backtest::{
        self, Report, Settings,
        arbitrage::{self as arbitrage_backtest, MarketData},
    },
    strategy::{
        StrategyError, StrategyState,
        arbitrage::{self, ArbitrageParams, Mode},
    },
};
use exchange::types::Interval;
use rust_decimal::Decimal;
use rust_decimal_macros::dec;
use tokio::sync::mpsc;

use crate::{
    candle_store::{CandleId, CandleStore, CandleStoreError},
    clock,
    runtime::Runtime,
};

/// Budget when the request names none.
const DEFAULT_BUDGET: Decimal = dec!(1000);
/// Accepted fees per side.
const FEE_RANGE: DecimalRange = DecimalRange::between(dec!(0), dec!(0.1));
/// Longest candle: a week.
const MAX_CANDLE_MINUTES: u32 = 10_080;
/// Most candles fetched from a venue for one backtest (about two years of minutes).
const MAX_VENUE_CANDLES: usize = 1_000_000;
/// Candles a venue returns per request.
const VENUE_PAGE: u32 = 1000;

/// A backtest request as received.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BacktestRequest {
    /// Strategy id.
    pub strategy: String,
    /// Pair whose symbol rules apply.
    pub pair: String,
    /// Strategy parameters given (the rest take their defaults).
    pub params: BTreeMap<String, RawParam>,
    /// Budget; empty for the default.
    pub budget: String,
    /// Fee per side as a fraction; empty for the venue's taker fee.
    pub fee: String,
    /// Id of uploaded candles in the candle store; empty for the venue's history.
    pub data_id: String,
    /// Add realised profits to the budget.
    pub compound: bool,
    /// Candle length in minutes; 0 for one minute.
    pub candle_minutes: u32,
    /// Venue account; empty for the default.
    pub exchange: String,
    /// Record the equity at every close.
    pub equity_curve: bool,
    /// Only candles opening at or after this.
    pub from: Option<Timestamp>,
    /// Only candles opening before this.
    pub to: Option<Timestamp>,
    /// Risk stops given (stop loss, drawdown, daily and weekly loss limits), as text.
    pub stops: [Option<String>; 6],
    /// Arbitrage: ids of the uploaded candles of the other markets, by pair (triangular) or by
    /// second venue account (cross-exchange).
    pub market_data: BTreeMap<String, String>,
}

/// Why a backtest cannot run.
#[derive(Debug, thiserror::Error)]
pub enum BacktestError {
    /// The request's fields are invalid; every problem is listed.
    #[error("invalid request: {0}")]
    Invalid(Violations),
    /// The venue's symbol rules could not be read.
    #[error("{0}")]
    Unavailable(String),
    /// The candle store failed (not the request's fault).
    #[error(transparent)]
    Store(CandleStoreError),
}

/// A validated backtest, ready to run.
#[derive(Debug)]
pub struct Job {
    run: Run,
    /// The candles of the request's pair.
    candles: Vec<Candle>,
    settings: Settings,
    budget: Quote,
}

/// What a job replays besides the request pair's candles.
#[derive(Debug)]
enum Run {
    /// A bot on the request's pair.
    Bot(Box<engine::bot::Bot>),
    /// Arbitrage around a triangle: the request's pair (its rules here) is the third market.
    Triangle {
        rules: SymbolRules,
        /// Bridge/quote and target/bridge, with their candles.
        others: [(SymbolRules, Vec<Candle>); 2],
        params: ArbitrageParams,
        compound: bool,
    },
    /// Arbitrage across two venues: the request's pair on its venue (its rules here) and on
    /// the second.
    TwoVenues { rules: SymbolRules, other: (SymbolRules, Vec<Candle>), params: ArbitrageParams },
}

impl Job {
    /// Candles to replay.
    #[must_use]
    pub fn candles(&self) -> &[Candle] {
        &self.candles
    }

    /// The budget and the fee per side it runs with.
    #[must_use]
    pub fn terms(&self) -> (Quote, Decimal) {
        (self.budget, self.settings.fee_rate)
    }

    /// Runs the backtest (CPU-bound: call it on a blocking thread), sending `(done, total)`
    /// progress now and then.
    #[must_use]
    pub fn run(self, progress: &mpsc::Sender<(u64, u64)>) -> Report {
        let total = u64::try_from(self.candles.len()).unwrap_or(u64::MAX);
        let report = |done: usize| {
            // A caller that stopped listening does not stop the run; it just goes unreported.
            let _ = progress.blocking_send((u64::try_from(done).unwrap_or(u64::MAX), total));
        };
        let Self { run, candles, settings, budget } = self;
        match run {
            Run::Bot(bot) => backtest::run(*bot, &candles, &settings, report),
            Run::Triangle { rules, others: [bridge, cross], params, compound } => {
                let markets = [
                    MarketData { rules: bridge.0, candles: &bridge.1 },
                    MarketData { rules: cross.0, candles: &cross.1 },
                    MarketData { rules, candles: &candles },
                ];
                arbitrage_backtest::triangular(&markets, budget, compound, &params, &settings, report)
            }
            Run::TwoVenues { rules, other, params } => {
                let markets =
                    [MarketData { rules, candles: &candles }, MarketData { rules: other.0, candles: &other.1 }];
                arbitrage_backtest::cross_exchange(&markets, budget, &params, &settings, report)
            }
        }
    }
}

/// The candles opening in `[from, to)`.
fn within(candles: Vec<Candle>, from: Option<Timestamp>, to: Option<Timestamp>) -> Vec<Candle> {
    candles
        .into_iter()
        .filter(|c| from.is_none_or(|f| c.open_time >= f) && to.is_none_or(|t| c.open_time < t))
        .collect()
}

/// Prepares backtests.
#[derive(Debug, Clone)]
pub struct Backtests {
    runtime: Runtime,
    ctx: ValidationContext,
    candles: CandleStore,
}

impl Backtests {
    /// Backtests validated with `ctx`, using the venues of `runtime` for symbol rules and
    /// history, and `candles` for uploaded files.
    #[must_use]
    pub const fn new(runtime: Runtime, ctx: ValidationContext, candles: CandleStore) -> Self {
        Self { runtime, ctx, candles }
    }

    /// The store of uploaded candle files.
    #[must_use]
    pub const fn candles(&self) -> &CandleStore {
        &self.candles
    }

    /// Validates `request`, reads the symbol rules and loads the candles.
    ///
    /// # Errors
    /// [`BacktestError::Invalid`] listing every problem; [`BacktestError::Unavailable`] when
    /// the venue cannot say what the pair's rules are; [`BacktestError::Store`] when the candle
    /// store cannot be read.
    pub async fn prepare(&self, request: &BacktestRequest) -> Result<Job, BacktestError> {
        let mut v = Violations::default();
        let strategy = v.check("strategy", request.strategy.parse::<StrategyId>());
        let pair = v.check("trading_pair", request.pair.parse::<Pair>());
        let params = strategy.and_then(|id| match validate_params(id, &request.params, &self.ctx.strategy_defaults) {
            Ok(params) => Some(params),
            Err(problems) => {
                for p in problems.list() {
                    v.add(p.field.clone(), p.description.clone());
                }
                None
            }
        });
        let budget = if request.budget.trim().is_empty() {
            Some(DEFAULT_BUDGET)
        } else {
            v.check("budget", DecimalRange::above(dec!(0), MAX_BUDGET).parse(&request.budget))
        };
        let fee = if request.fee.trim().is_empty() { None } else { v.check("fee", FEE_RANGE.parse(&request.fee)) };
        let minutes = match request.candle_minutes {
            0 => 1,
            m if m <= MAX_CANDLE_MINUTES => m,
            m => {
                v.add("candle_minutes", format!("{m} is out of range; expected 1 to {MAX_CANDLE_MINUTES}"));
                1
            }
        };
        // Arbitrage trades several markets: it runs on its own driver, not as a bot.
        let arbitrage = match (strategy, &params) {
            (Some(StrategyId::Arbitrage), Some(params)) => {
                v.check("strategy_params", ArbitrageParams::from_params(params))
            }
            _ => None,
        };
        let state = match (strategy, &params) {
            (Some(StrategyId::Arbitrage), _) => None,
            (Some(id), Some(params)) => match StrategyState::new(id, params) {
                Ok(state) => Some(state),
                Err(StrategyError::Unsupported(_)) => {
                    v.add("strategy", format!("{id} cannot be backtested yet"));
                    None
                }
                Err(StrategyError::Params(message)) => {
                    v.add("strategy_params", message);
                    None
                }
            },
            _ => None,
        };
        let account =
            if request.exchange.is_empty() { self.ctx.default_exchange.clone() } else { request.exchange.clone() };
        if !self.ctx.exchanges.contains(&account) {
            v.add(
                "exchange",
                format!("no venue account named {account:?}; configured: {}", self.ctx.exchanges.join(", ")),
            );
        }
        let [stop_pct, stop_abs, dd_pct, dd_abs, daily, weekly] = &request.stops;
        let texts = StopTexts {
            stop_loss_percent: stop_pct.as_deref(),
            stop_loss_absolute: stop_abs.as_deref(),
            drawdown_limit_percent: dd_pct.as_deref(),
            drawdown_limit_absolute: dd_abs.as_deref(),
            daily_loss_limit: daily.as_deref(),
            weekly_loss_limit: weekly.as_deref(),
        };
        let risk = risk_stops(texts, budget.map(Quote::new), &mut v);
        if arbitrage.is_some() && risk != RiskLimits::default() {
            let why = "risk stops do not apply to arbitrage: a cycle trades only at its minimum edge and ends back in \
                       what it started from";
            v.add("stops", why);
        }
        if let (Some(from), Some(to)) = (request.from, request.to)
            && to <= from
        {
            v.add("to", "must be after from");
        }
        let candles = match (request.data_id.trim().is_empty(), &pair, request.from) {
            (false, _, _) => {
                self.load("data_id", &request.data_id, &mut v).await?.map(|c| within(c, request.from, request.to))
            }
            (true, _, Some(_)) if minutes != 1 => {
                v.add("candle_minutes", "the venue's history is one-minute candles; use 1, or uploaded candles");
                None
            }
            (true, Some(pair), Some(from)) if v.is_empty() => {
                self.fetch(&account, pair, from, request.to).await.map_err(|e| v.add("from", e)).ok()
            }
            (true, _, None) => {
                v.add("data_id", "required unless from is given (then the venue's candles are used)");
                None
            }
            _ => None,
        };
        let candles = candles.filter(|c| {
            if c.is_empty() {
                v.add("data_id", "no candles in the requested period");
            }
            !c.is_empty()
        });
        let (Some(pair), Some(budget), Some(candles)) = (pair, budget, candles) else {
            return Err(BacktestError::Invalid(v));
        };
        let others = match &arbitrage {
            Some(params) => self.other_markets(params, &pair, &account, request, &mut v).await?,
            None => Vec::new(),
        };
        if !v.is_empty() {
            return Err(BacktestError::Invalid(v));
        }
        let symbol = self.runtime.symbol(&account, &pair).await.map_err(BacktestError::Unavailable)?;
        let settings = Settings {
            fee_rate: fee.unwrap_or(symbol.taker_fee),
            candle_ms: i64::from(minutes) * 60_000,
            equity_curve: request.equity_curve,
        };
        let budget = Quote::new(budget);
        let rules = symbol.rules;
        let run = match (arbitrage, state) {
            (Some(params), _) => match (params.mode.clone(), <[_; 2]>::try_from(others)) {
                (Mode::Triangular { .. }, Ok(others)) => {
                    Run::Triangle { rules, others, params, compound: request.compound }
                }
                (Mode::CrossExchange { .. }, Err(mut others)) if others.len() == 1 => {
                    Run::TwoVenues { rules, other: others.remove(0), params }
                }
                _ => return Err(BacktestError::Unavailable("the arbitrage's markets could not be assembled".into())),
            },
            (None, Some(state)) => Run::Bot(Box::new(backtest::bot(rules, state, budget, request.compound, risk))),
            (None, None) => return Err(BacktestError::Invalid(v)),
        };
        Ok(Job { run, candles, settings, budget })
    }

    /// The rules and candles of the markets an arbitrage trades besides the request's pair:
    /// bridge/quote and target/bridge around a triangle, or the pair on the second venue.
    /// Each market's candles come from its `market_data` file, else from its venue when the
    /// request gives `from`.
    async fn other_markets(
        &self,
        params: &ArbitrageParams,
        pair: &Pair,
        account: &str,
        request: &BacktestRequest,
        v: &mut Violations,
    ) -> Result<Vec<(SymbolRules, Vec<Candle>)>, BacktestError> {
        // (the key naming the market's file, the venue account, the pair)
        let wanted: Vec<(String, String, Pair)> = match &params.mode {
            Mode::Triangular { bridge } => match arbitrage::triangle(pair, bridge) {
                Ok([bridge_quote, target_bridge, _]) => [bridge_quote, target_bridge]
                    .into_iter()
                    .map(|market| (market.to_string(), account.to_owned(), market))
                    .collect(),
                Err(e) => {
                    v.add("strategy_params.bridge_asset", e);
                    return Ok(Vec::new());
                }
            },
            Mode::CrossExchange { second_exchange } => {
                if !self.ctx.exchanges.contains(second_exchange) {
                    let configured = self.ctx.exchanges.join(", ");
                    v.add(
                        "strategy_params.second_exchange",
                        format!("no venue account named {second_exchange:?}; configured: {configured}"),
                    );
                    return Ok(Vec::new());
                }
                vec![(second_exchange.clone(), second_exchange.clone(), pair.clone())]
            }
        };
        // A key matches a market by pair (any accepted spelling) or by account name.
        let matches = |key: &str, wanted: &str| {
            key == wanted || key.parse::<Pair>().ok().zip(wanted.parse::<Pair>().ok()).is_some_and(|(a, b)| a == b)
        };
        for key in request.market_data.keys() {
            if !wanted.iter().any(|(name, ..)| matches(key, name)) {
                let expected: Vec<&str> = wanted.iter().map(|(name, ..)| name.as_str()).collect();
                v.add(
                    format!("market_data_ids.{key}"),
                    format!("not a market this arbitrage trades; expected: {}", expected.join(", ")),
                );
            }
        }
        let mut markets = Vec::with_capacity(wanted.len());
        for (name, venue, market) in wanted {
            if !self.ctx.exchanges.contains(&venue) {
                // Already reported (`exchange`).
                continue;
            }
            let upload = request.market_data.iter().find(|(key, _)| matches(key, &name));
            let candles = match (upload, request.from) {
                (Some((key, id)), _) => self
                    .load(&format!("market_data_ids.{key}"), id, v)
                    .await?
                    .map(|c| within(c, request.from, request.to)),
                (None, Some(from)) => {
                    self.fetch(&venue, &market, from, request.to).await.map_err(|e| v.add("from", e)).ok()
                }
                (None, None) => {
                    v.add(
                        "market_data_ids",
                        format!("needs the uploaded candles of {market} on {venue}, keyed {name}"),
                    );
                    None
                }
            };
            let rules = self.runtime.symbol(&venue, &market).await.map_err(BacktestError::Unavailable)?.rules;
            markets.extend(candles.map(|candles| (rules, candles)));
        }
        Ok(markets)
    }

    /// The venue's closed one-minute candles from `from` to `to` (or now), page by page.
    async fn fetch(
        &self,
        account: &str,
        pair: &Pair,
        from: Timestamp,
        to: Option<Timestamp>,
    ) -> Result<Vec<Candle>, String> {
        let venue = self.runtime.venue(account).ok_or_else(|| format!("no venue account named {account:?}"))?;
        let end = to.unwrap_or_else(clock::now);
        let mut candles: Vec<Candle> = Vec::new();
        let mut cursor = from;
        while cursor < end && candles.len() < MAX_VENUE_CANDLES {
            let page = venue
                .candles(pair, Interval::M1, Some(cursor), VENUE_PAGE)
                .await
                .map_err(|e| format!("cannot read the venue's candles: {e}"))?;
            let fresh: Vec<Candle> = page
                .into_iter()
                .filter(|c| {
                    c.open_time >= cursor && c.open_time < end && c.open_time.millis() + 60_000 <= clock::now().millis()
                })
                .collect();
            let Some(last) = fresh.last() else { break };
            cursor = Timestamp::from_millis(last.open_time.millis() + 60_000);
            candles.extend(fresh);
        }
        Ok(candles)
    }

    /// The uploaded candles of the id `text`, recording what is wrong with the id under `field`.
    ///
    /// # Errors
    /// [`BacktestError::Store`] when the store fails (a missing file is the request's problem).
    async fn load(&self, field: &str, text: &str, v: &mut Violations) -> Result<Option<Vec<Candle>>, BacktestError> {
        let Some(id) = v.check(field, text.trim().parse::<CandleId>().map_err(|e| e.to_string())) else {
            return Ok(None);
        };
        match self.candles.load(id).await {
            Ok(candles) => Ok(Some(candles)),
            Err(e @ CandleStoreError::NotHeld) => {
                v.add(field, e.to_string());
                Ok(None)
            }
            Err(e) => Err(BacktestError::Store(e)),
        }
    }
}
