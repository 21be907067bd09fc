//! The backtest driver: runs a bot over recorded candles with the paper-fill model, through the
//! same `Bot::handle` the daemon runs live, as fast as the CPU allows.
//!
//! Conventions: the bot decides on each candle's close; a market order it places fills at the
//! next candle's open, its quantity rounded down to the symbol's precision, paying `fee_rate`
//! (in the base asset for buys, the quote asset for sells). A limit order rests from the next
//! candle on and fills in full once a candle's range reaches its price, at that price (or at
//! the candle's open, when it opens beyond it). Sizing comes from the virtual wallet and risk
//! approval exactly as live.

pub mod arbitrage;

use std::collections::VecDeque;

use domain::{
    bot::{BotId, BotStatus, RiskLimits},
    candle::Candle,
    money::{Percent, Price, Qty, Quote},
    order::{OrderEvent, Side},
    pair::Pair,
    symbol::SymbolRules,
    time::Timestamp,
};
use rust_decimal::Decimal;

use crate::{
    bot::{Bot, BotState, FillReport, Input, Output},
    indicators::to_f64,
    intent::{IntentKind, IntentSize, OrderIntent, Reason},
    strategy::StrategyState,
    wallet::Wallet,
};

/// A running bot for a backtest: `strategy` on the pair of `rules` with `budget`, under the
/// risk stops of `risk` only (none by default, so a plain run measures the strategy alone).
#[must_use]
pub fn bot(rules: SymbolRules, strategy: StrategyState, budget: Quote, compound: bool, risk: RiskLimits) -> Bot {
    let state = BotState {
        id: BotId(0),
        order_prefix: domain::order::BACKTEST_ORDER_PREFIX.into(),
        rules,
        strategy,
        wallet: Wallet::new(budget, compound),
        status: BotStatus::Running,
        killed: false,
        next_seq: 1,
        ends_at: None,
        open_orders: Vec::new(),
        risk,
        rotation: crate::rotation::Rotation::off(),
        kelly_sizing: false,
        guard_memory: None,
        record: crate::kelly::Record::default(),
    };
    match Bot::from_state(state) {
        Ok(bot) => bot,
        // A bot without open orders reserves nothing, so this cannot fail.
        Err(e) => unreachable!("an empty wallet refused nothing: {e}"),
    }
}

/// How a backtest fills orders and what it records.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Settings {
    /// Fee per side, as a fraction (0.001 = 0.1 %).
    pub fee_rate: Decimal,
    /// Length of one candle in milliseconds (the decision happens at its close).
    pub candle_ms: i64,
    /// Record the equity at every candle close (for an equity curve).
    pub equity_curve: bool,
}

/// One executed trade.
#[derive(Debug, Clone, PartialEq)]
pub struct Trade {
    /// When it filled (the open of the candle after the decision).
    pub at: Timestamp,
    /// The pair, when the backtest trades several (arbitrage); none for the bot's own pair.
    pub pair: Option<Pair>,
    /// Buy or sell.
    pub side: Side,
    /// Fill price.
    pub price: Price,
    /// Base quantity.
    pub qty: Qty,
    /// Quote value.
    pub quote: Quote,
    /// Fee, in quote terms.
    pub fee: Quote,
    /// Realised result of a sale.
    pub realized: Option<Quote>,
    /// Why the bot traded.
    pub reason: Reason,
}

/// What a backtest found.
#[derive(Debug, Clone, PartialEq)]
pub struct Report {
    /// Candles replayed.
    pub candles: usize,
    /// Every trade, in order.
    pub trades: Vec<Trade>,
    /// Fees paid, in quote terms.
    pub fees: Quote,
    /// Realised P&L at the end.
    pub realized_pnl: Quote,
    /// Wallet value at the last close.
    pub final_equity: Quote,
    /// Final equity less the budget.
    pub total_pnl: Quote,
    /// Sales with a gain.
    pub wins: usize,
    /// Sales with a loss (or break-even).
    pub losses: usize,
    /// Average gain of a winning sale.
    pub average_win: Quote,
    /// Average loss of a losing sale (negative).
    pub average_loss: Quote,
    /// Largest fall of the equity from a previous peak.
    pub max_drawdown: Quote,
    /// The same as a share of that peak.
    pub max_drawdown_percent: Percent,
    /// Share of candles that closed with a position (dust below the minimum quantity aside).
    pub exposure_percent: Percent,
    /// Equity at each candle close, when asked for.
    pub equity: Vec<(Timestamp, Quote)>,
}

impl Report {
    /// Winning sales as a share of all sales, when there were any.
    #[must_use]
    pub fn win_rate_percent(&self) -> Option<Percent> {
        let sales = self.wins + self.losses;
        (sales > 0).then(|| Percent::new(Decimal::from(self.wins) * Decimal::ONE_HUNDRED / Decimal::from(sales)))
    }
}

/// Running totals of the trades while replaying.
#[derive(Default)]
struct Tally {
    fees: Decimal,
    wins: (usize, Decimal),
    losses: (usize, Decimal),
}

/// Relative margin of the float screening of closes (far above the float error).
#[allow(clippy::disallowed_types, reason = "a screening margin")]
const SCREEN_MARGIN: f64 = 1e-9;

/// The equity, its peak and its worst fall, followed candle by candle.
///
/// Between two fills the equity is `base + holdings × close`, rising with the close, so only a
/// close above one price can set a new peak and only a close below another a new worst fall.
/// Closes are screened against those two prices: as integer mantissas when they share the
/// screen's scale, else in floating point with a margin. A close that may set a new peak is
/// valued exactly, in Decimal, at once. One under the fall price becomes the fall price and
/// waits: of the falls under one peak only the lowest counts, so it is valued once, before the
/// next peak, the next fill or the end. The figures are exact, and most candles cost a
/// comparison.
#[allow(clippy::disallowed_types, reason = "screening prices only; every figure is Decimal")]
struct Equity {
    budget: Decimal,
    /// Budget plus realised P&L less the cost of the holdings.
    base: Decimal,
    holdings: Decimal,
    /// Whether the holdings are a position (dust below the minimum quantity is not).
    exposed: bool,
    peak: Decimal,
    max_drawdown: Decimal,
    /// The peak the worst fall fell from (its share is worked out once, at the end).
    max_drawdown_peak: Decimal,
    /// Closes above this may set a new peak.
    rise: f64,
    /// Closes below this may set a new worst fall.
    fall: f64,
    /// The same two prices as integer mantissas at one scale (most closes share their
    /// symbol's scale, and then screening them is two integer comparisons).
    mantissas: Mantissas,
    /// The lowest close under the fall price since the last valuation, not yet valued.
    low: Option<Price>,
}

/// Screening prices as mantissas at `scale`: closes at that scale above `rise` may set a new
/// peak, below `fall` a new worst fall.
#[derive(Clone, Copy)]
struct Mantissas {
    scale: u32,
    rise: i128,
    fall: i128,
}

#[allow(clippy::disallowed_types, clippy::float_arithmetic, reason = "screening prices only")]
impl Equity {
    fn new(budget: Decimal) -> Self {
        Self {
            budget,
            base: budget,
            holdings: Decimal::ZERO,
            exposed: false,
            peak: budget,
            max_drawdown: Decimal::ZERO,
            max_drawdown_peak: budget,
            rise: f64::INFINITY,
            fall: f64::NEG_INFINITY,
            mantissas: Mantissas { scale: 0, rise: i128::MAX, fall: i128::MIN },
            low: None,
        }
    }

    /// The wallet changed (a fill): its terms are taken again, and the screen with them.
    fn rebase(&mut self, wallet: &Wallet, min_qty: Qty, close: Price) {
        // A low still waiting was reached on the old terms.
        self.settle_low();
        self.base = self.budget + wallet.realized_pnl().value() - wallet.cost().value();
        self.holdings = wallet.holdings().value();
        self.exposed = wallet.holdings() >= min_qty;
        self.screen(close.value().scale());
        if self.holdings.is_zero() {
            // Flat, the equity is its base at any close: the screen lets no close through.
            self.value(close);
        }
    }

    /// The exact equity at `close`, which updates the peak, the worst fall and the screen.
    fn value(&mut self, close: Price) -> Decimal {
        let equity = if self.holdings.is_zero() { self.base } else { self.base + self.holdings * close.value() };
        if equity > self.peak {
            self.peak = equity;
            self.screen(close.value().scale());
        } else if self.peak - equity > self.max_drawdown {
            self.max_drawdown = self.peak - equity;
            self.max_drawdown_peak = self.peak;
            self.lower_fall(close);
        }
        equity
    }

    /// Values the low waiting, if any.
    fn settle_low(&mut self) {
        if let Some(low) = self.low.take() {
            self.value(low);
        }
    }

    /// Closes below `close` may set a new worst fall (under the same peak and terms, those
    /// are exactly the closes below it).
    fn lower_fall(&mut self, close: Price) {
        let at = to_f64(close);
        self.fall = at + at.abs() * SCREEN_MARGIN;
        let value = close.value();
        self.mantissas.fall = if value.scale() == self.mantissas.scale {
            value.mantissa()
        } else {
            ceiling_at_scale(self.fall, self.mantissas.scale)
        };
    }

    /// The worst fall as a share of the peak it fell from.
    fn max_drawdown_percent(&self) -> Decimal {
        if self.max_drawdown.is_zero() {
            Decimal::ZERO
        } else {
            self.max_drawdown * Decimal::ONE_HUNDRED / self.max_drawdown_peak
        }
    }

    /// Sets the two screening prices from the current terms, peak and worst fall; mantissas
    /// are kept at `scale`.
    fn screen(&mut self, scale: u32) {
        if self.holdings.is_zero() {
            // The equity cannot move until the next fill.
            (self.rise, self.fall) = (f64::INFINITY, f64::NEG_INFINITY);
        } else {
            let float = |value: Decimal| to_f64(Price::new(value));
            let (base, holdings, peak) = (float(self.base), float(self.holdings), float(self.peak));
            // The closes at which the equity reaches a level, widened by the float error of
            // the subtraction (a few units in the last place of its terms) and a margin.
            let slack = 8.0 * f64::EPSILON * base.abs().max(peak.abs()) / holdings;
            let at = |level: f64| (level - base) / holdings;
            let rise = at(peak);
            let fall = at(float(self.peak - self.max_drawdown));
            self.rise = rise - slack - rise.abs() * SCREEN_MARGIN;
            self.fall = fall + slack + fall.abs() * SCREEN_MARGIN;
        }
        // A close at `scale` is above `rise` exactly when its mantissa is above the floor of
        // `rise` at that scale, and below `fall` when below its ceiling.
        let rise = -ceiling_at_scale(-self.rise, scale);
        self.mantissas = Mantissas { scale, rise, fall: ceiling_at_scale(self.fall, scale) };
    }

    /// Follows a close that changed nothing in the wallet: one that may set a new peak is
    /// valued at once, one that may set a new worst fall waits as the low.
    fn follow(&mut self, close: Price) {
        let value = close.value();
        let screen = self.mantissas;
        let (above, below) = if value.scale() == screen.scale {
            let mantissa = value.mantissa();
            (mantissa > screen.rise, mantissa < screen.fall)
        } else {
            let at = to_f64(close);
            (at > self.rise, at < self.fall)
        };
        if above {
            self.settle_low();
            self.value(close);
        } else if below && self.low.is_none_or(|low| value < low.value()) {
            self.low = Some(close);
            self.lower_fall(close);
        }
    }
}

/// The smallest mantissa at `scale` not below `price` (infinities saturate).
#[allow(clippy::disallowed_types, clippy::float_arithmetic, reason = "screening prices only")]
fn ceiling_at_scale(price: f64, scale: u32) -> i128 {
    let at_scale = 10_f64.powi(i32::try_from(scale).unwrap_or(i32::MAX));
    #[allow(clippy::cast_possible_truncation, reason = "ceil is integral; infinities saturate")]
    let mantissa = (price * at_scale).ceil() as i64;
    i128::from(mantissa)
}

/// Fills `intent` at `price`, or says why a market order cannot be filled. Fees are in the
/// base asset for buys and the quote asset for sells.
fn fill_at(intent: &OrderIntent, rules: &SymbolRules, price: Price, fee_rate: Decimal) -> Result<FillReport, String> {
    let qty = match intent.size {
        IntentSize::Quote(quote) => rules.round_qty_down(Qty::new(quote.value() / price.value())),
        IntentSize::Base(qty) => qty,
    };
    // A limit order was checked when placed; it may fill at a better price than its limit.
    if intent.kind == IntentKind::Market {
        rules.check_qty(qty, price).map_err(|e| e.to_string())?;
    }
    let quote = qty.value() * price.value();
    let fee_in_quote = intent.side == Side::Sell;
    let fee = if fee_in_quote { quote * fee_rate } else { qty.value() * fee_rate };
    Ok(FillReport { qty, quote: Quote::new(quote), fee, fee_in_quote })
}

/// Where `candle` fills `intent`, if it does: a market order at the open; a limit order once
/// the range reaches its price, at that price (or at the open, when the candle opens beyond it).
fn execution_price(intent: &OrderIntent, candle: &Candle) -> Option<Price> {
    match (intent.kind, intent.side) {
        (IntentKind::Market, _) => Some(candle.open),
        (IntentKind::Limit(limit), Side::Buy) => (candle.low <= limit).then(|| candle.open.min(limit)),
        (IntentKind::Limit(limit), Side::Sell) => (candle.high >= limit).then(|| candle.open.max(limit)),
    }
}

/// The replay: the bot, the orders it has open, and what it did.
struct Replay<'s> {
    bot: Bot,
    settings: &'s Settings,
    /// Market orders waiting for the next open, and limit orders resting.
    open: Vec<OrderIntent>,
    /// The orders a candle fills, in the order it fills them (kept to reuse its allocation).
    due: Vec<(OrderIntent, Price)>,
    /// The bot's outputs for one input (kept to reuse its allocation).
    outputs: Vec<Output>,
    /// Inputs the bot's own outputs produced (acknowledgements, cancels), not yet handled.
    inputs: VecDeque<Input>,
    trades: Vec<Trade>,
    tally: Tally,
}

impl Replay<'_> {
    /// Hands `input` to the bot at `now` and carries out what it outputs: orders are taken
    /// (a limit order is acknowledged at once), cancels confirmed at once.
    fn feed(&mut self, now: Timestamp, input: Input) {
        self.carry_out(now, input);
        while let Some(input) = self.inputs.pop_front() {
            self.carry_out(now, input);
        }
    }

    /// Hands one input to the bot and carries out its outputs.
    fn carry_out(&mut self, now: Timestamp, input: Input) {
        self.bot.handle_into(now, input, &mut self.outputs);
        if self.outputs.is_empty() {
            // Most inputs change nothing.
            return;
        }
        for output in self.outputs.drain(..) {
            match output {
                Output::Place(order) => {
                    let intent = order.into_inner();
                    if let IntentKind::Limit(_) = intent.kind {
                        let id = intent.client_order_id.clone();
                        self.inputs.push_back(Input::Order {
                            client_order_id: id,
                            event: OrderEvent::Accepted,
                            fill: None,
                        });
                    }
                    self.open.push(intent);
                }
                Output::Cancel { client_order_id, .. } => {
                    if let Some(at) = self.open.iter().position(|o| o.client_order_id == client_order_id) {
                        self.open.remove(at);
                        let event = OrderEvent::CancelConfirmed;
                        self.inputs.push_back(Input::Order { client_order_id, event, fill: None });
                    }
                }
                _ => {}
            }
        }
    }

    /// Fills the open orders `candle` reaches: market orders at its open, then limit orders in
    /// the order the price meets them. A limit fill first shows the bot the price it filled at,
    /// as a trade would live.
    fn execute(&mut self, candle: &Candle) {
        if !self.open.iter().any(|intent| execution_price(intent, candle).is_some()) {
            return;
        }
        let mut due = std::mem::take(&mut self.due);
        due.extend(
            self.open
                .extract_if(.., |intent| execution_price(intent, candle).is_some())
                .filter_map(|intent| execution_price(&intent, candle).map(|price| (intent, price))),
        );
        due.sort_by_key(|(intent, price)| {
            (intent.kind != IntentKind::Market, (price.value() - candle.open.value()).abs())
        });
        for (intent, price) in due.drain(..) {
            if intent.kind != IntentKind::Market {
                self.feed(candle.open_time, Input::Price(price));
            }
            self.settle(intent, candle.open_time, price);
        }
        self.due = due;
    }

    /// Fills one order (or rejects it when the symbol's rules refuse the fill) and records it.
    fn settle(&mut self, intent: OrderIntent, at: Timestamp, price: Price) {
        let realized_before = self.bot.wallet().realized_pnl().value();
        let (event, fill) = match fill_at(&intent, self.bot.rules(), price, self.settings.fee_rate) {
            Ok(fill) => (OrderEvent::Filled, Some(fill)),
            Err(_) => (OrderEvent::Rejected, None),
        };
        let OrderIntent { client_order_id, side, decision, .. } = intent;
        self.feed(at, Input::Order { client_order_id, event, fill: fill.clone() });
        let Some(fill) = fill else { return };
        let fee_quote = if fill.fee_in_quote { fill.fee } else { fill.fee * price.value() };
        self.tally.fees += fee_quote;
        let realized =
            (side == Side::Sell).then(|| Quote::new(self.bot.wallet().realized_pnl().value() - realized_before));
        if let Some(gain) = realized {
            let (count, sum) = if gain.value() > Decimal::ZERO { &mut self.tally.wins } else { &mut self.tally.losses };
            *count += 1;
            *sum += gain.value();
        }
        self.trades.push(Trade {
            at,
            pair: None,
            side,
            price,
            qty: fill.qty,
            quote: fill.quote,
            fee: Quote::new(fee_quote),
            realized,
            reason: decision.summary,
        });
    }
}

/// Replays `candles` (oldest first) through `bot`, which should be running. `progress` is
/// called with the number of candles done every 65,536 candles.
#[must_use]
pub fn run(bot: Bot, candles: &[Candle], settings: &Settings, mut progress: impl FnMut(usize)) -> Report {
    let budget = bot.wallet().budget().value();
    let min_qty = bot.rules().min_qty;
    let mut replay = Replay {
        bot,
        settings,
        open: Vec::new(),
        due: Vec::new(),
        outputs: Vec::new(),
        inputs: VecDeque::new(),
        trades: Vec::new(),
        tally: Tally::default(),
    };
    let mut curve = Vec::with_capacity(if settings.equity_curve { candles.len() } else { 0 });
    let mut equity = Equity::new(budget);
    let (mut exposed, mut fills_seen) = (0_usize, 0);
    for (i, candle) in candles.iter().enumerate() {
        if i & 0xFFFF == 0 && i > 0 {
            progress(i);
        }
        replay.execute(candle);
        let close_time = Timestamp::from_millis(candle.open_time.millis() + settings.candle_ms);
        replay.feed(close_time, Input::Candle(*candle));
        if replay.trades.len() != fills_seen {
            fills_seen = replay.trades.len();
            equity.rebase(replay.bot.wallet(), min_qty, candle.close);
        }
        if settings.equity_curve {
            curve.push((close_time, Quote::new(equity.value(candle.close))));
        } else {
            equity.follow(candle.close);
        }
        exposed += usize::from(equity.exposed);
    }
    progress(candles.len());
    equity.settle_low();
    let last_equity = candles.last().map_or(budget, |last| equity.value(last.close));
    let Replay { bot, trades, tally, .. } = replay;
    let average = |(count, sum): (usize, Decimal)| {
        Quote::new(if count == 0 { Decimal::ZERO } else { (sum / Decimal::from(count)).round_dp(8) })
    };
    let exposure = if candles.is_empty() {
        Decimal::ZERO
    } else {
        Decimal::from(exposed) * Decimal::ONE_HUNDRED / Decimal::from(candles.len())
    };
    Report {
        candles: candles.len(),
        trades,
        fees: Quote::new(tally.fees),
        realized_pnl: bot.wallet().realized_pnl(),
        final_equity: Quote::new(last_equity),
        total_pnl: Quote::new(last_equity - budget),
        wins: tally.wins.0,
        losses: tally.losses.0,
        average_win: average(tally.wins),
        average_loss: average(tally.losses),
        max_drawdown: Quote::new(equity.max_drawdown),
        max_drawdown_percent: Percent::new(equity.max_drawdown_percent().round_dp(4)),
        exposure_percent: Percent::new(exposure.round_dp(4)),
        equity: curve,
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use rust_decimal_macros::dec;

    use super::*;
    use crate::strategy::mean_reversion::{Entry, MeanReversion, MeanReversionParams};

    fn candle(minute: i64, open: Decimal, close: Decimal) -> Candle {
        let (o, c) = (Price::new(open), Price::new(close));
        let (high, low) = if open > close { (o, c) } else { (c, o) };
        Candle {
            open_time: Timestamp::from_millis(minute * 60_000),
            open: o,
            high,
            low,
            close: c,
            volume: Qty::new(dec!(1)),
        }
    }

    #[test]
    fn decisions_on_a_close_fill_at_the_next_open_with_fees_and_a_report() {
        let params =
            MeanReversionParams { period: 3, entry: Entry::Bollinger(1.0), rsi: None, quote: Quote::new(dec!(50)) };
        let strategy = StrategyState::MeanReversion(Box::new(MeanReversion::new(params)));
        let bot = bot(crate::testing::btc_usdt(), strategy, Quote::new(dec!(100)), false, RiskLimits::default());
        let path = [
            candle(0, dec!(100), dec!(100)),
            candle(1, dec!(100), dec!(101)),
            candle(2, dec!(101), dec!(100)),
            candle(3, dec!(99), dec!(90)), // below the band: buy at the next open
            candle(4, dec!(80), dec!(78)),
            candle(5, dec!(78), dec!(100)), // above the middle: sell at the next open
            candle(6, dec!(102), dec!(102)),
        ];
        let settings = Settings { fee_rate: dec!(0.001), candle_ms: 60_000, equity_curve: true };
        let report = run(bot, &path, &settings, |_| {});
        assert_eq!(report.trades.len(), 2, "{:?}", report.trades);
        let (buy, sell) = (&report.trades[0], &report.trades[1]);
        assert_eq!(
            (buy.side, buy.price, buy.at),
            (Side::Buy, Price::new(dec!(80)), Timestamp::from_millis(4 * 60_000))
        );
        assert_eq!(buy.qty, Qty::new(dec!(0.625)));
        assert_eq!(buy.fee, Quote::new(dec!(0.05)), "0.1 % of 0.625 BTC, valued at 80");
        assert_eq!((sell.side, sell.price), (Side::Sell, Price::new(dec!(102))));
        // The fee was paid in BTC, so 0.624375 is sold: 63.68625 less 0.06368625 fee, less the 50 cost.
        assert_eq!(sell.qty, Qty::new(dec!(0.624375)));
        assert_eq!(sell.realized, Some(Quote::new(dec!(13.62256375))));
        assert_eq!((report.wins, report.losses, report.win_rate_percent()), (1, 0, Some(Percent::new(dec!(100)))));
        assert_eq!(report.total_pnl, report.realized_pnl);
        assert_eq!(report.equity.len(), path.len());
        assert!(report.max_drawdown.value() > Decimal::ZERO, "the position fell before it recovered");
        assert_eq!(report.exposure_percent, Percent::new(dec!(28.5714)));
    }

    #[test]
    fn a_limit_buy_filled_below_its_limit_by_a_gap_is_a_fill_not_a_rejection() {
        use crate::strategy::grid::{Grid, GridParams, Range, Spacing};
        let grid = Grid::new(GridParams {
            levels: 3,
            spacing: Spacing::Arithmetic,
            range: Range::Fixed(dec!(0.05)),
            quote: Quote::new(dec!(1.05)),
        });
        let strategy = StrategyState::Grid(Box::new(grid));
        let bot = bot(crate::testing::btc_usdt(), strategy, Quote::new(dec!(10)), false, RiskLimits::default());
        // Levels 95, 100, 105: a buy of 1.05 USDT rests at 95, and the next candle opens at 85,
        // where the order is worth less than the 1 USDT minimum: it fills all the same.
        let path = [candle(0, dec!(100), dec!(100)), candle(1, dec!(85), dec!(86))];
        let settings = Settings { fee_rate: dec!(0.001), candle_ms: 60_000, equity_curve: false };
        let report = run(bot, &path, &settings, |_| {});
        assert_eq!(report.trades.len(), 1, "{:?}", report.trades);
        assert_eq!((report.trades[0].side, report.trades[0].price), (Side::Buy, Price::new(dec!(85))));
    }

    proptest! {
        /// The screened drawdown equals the one valued exactly at every candle (the equity
        /// curve), whatever the path, with fees (which leave dust) or without (which sell flat).
        #[test]
        fn screening_closes_loses_no_peak_and_no_fall(
            steps in proptest::collection::vec((-300i64..300, -100i64..100), 20..400),
            fee_rate in prop_oneof![Just(Decimal::ZERO), Just(dec!(0.001))],
        ) {
            // Around 100, with moves of up to 3 % and gaps of up to 1 % between a close and the
            // next open: gains and losses dwarf the fees, and a sale's price is no close's.
            let mut cents = 10_000_i64;
            let path: Vec<Candle> = steps
                .iter()
                .enumerate()
                .map(|(i, (step, gap))| {
                    let open = (cents + gap).max(100);
                    cents = (open + step).max(100);
                    // Closes of several scales, as in files that drop trailing zeros.
                    let close = if i % 3 == 0 { Decimal::new(cents, 2).normalize() } else { Decimal::new(cents, 2) };
                    candle(i64::try_from(i).unwrap(), Decimal::new(open, 2), close)
                })
                .collect();
            let params =
                MeanReversionParams { period: 5, entry: Entry::Bollinger(1.0), rsi: None, quote: Quote::new(dec!(50)) };
            let report = |equity_curve| {
                let strategy = StrategyState::MeanReversion(Box::new(MeanReversion::new(params.clone())));
                let bot = bot(crate::testing::btc_usdt(), strategy, Quote::new(dec!(100)), false, RiskLimits::default());
                run(bot, &path, &Settings { fee_rate, candle_ms: 60_000, equity_curve }, |_| {})
            };
            let (screened, exact) = (report(false), report(true));
            prop_assert_eq!(screened.max_drawdown, exact.max_drawdown);
            prop_assert_eq!(screened.max_drawdown_percent, exact.max_drawdown_percent);
            prop_assert_eq!(screened.final_equity, exact.final_equity);
            prop_assert_eq!(screened.exposure_percent, exact.exposure_percent);
            let worst = exact.equity.iter().scan(Decimal::MIN, |peak, (_, e)| {
                *peak = (*peak).max(e.value());
                Some(*peak - e.value())
            }).max().unwrap_or_default();
            prop_assert_eq!(exact.max_drawdown.value(), worst.max(Decimal::ZERO));
        }
    }
}
