//! The arbitrage backtest: the candles of every market a cycle trades, joined on their open
//! times (a time missing from any market is skipped, as during a venue outage), through the
//! same arbitrage bot a live one runs ([`ArbitrageBot`]).
//!
//! Conventions: at each close a market's best bid and ask are its close, with
//! [`DEPTH_SHARE`] of the candle's volume offered at it. A cycle found at a close is sent at
//! the next open, its legs one after the other as the bot sends them, each filled at its
//! market's open (a buy spends the quote amount the bot planned, a sell sells its quantity,
//! both rounded down to the symbol's rules). A leg that breaks its symbol's rules there is
//! refused, and what the legs before it bought is sold back into the starting asset (the
//! unwind). Fees per side are charged in the asset received. A cycle's result is the change in
//! the wallet's value at the prices it traded at. What the rounding of a triangle's legs leaves
//! over is swept back into the quote asset at the next open once it is worth an order and no
//! cycle is due. Exposure counts the closes at which the wallet held a non-quote asset worth at
//! least its market's minimum order. Across two venues the budget starts split between them,
//! each venue first buys base with half its quote (as a live bot does: its inventory, not a
//! trade won or lost), and the base is valued at the first venue's price.

use std::collections::VecDeque;

use domain::{
    bot::{BotId, BotStatus},
    candle::Candle,
    money::{Percent, Price, Qty, Quote},
    order::OrderEvent,
    time::Timestamp,
};
use rust_decimal::Decimal;
use rust_decimal_macros::dec;

use super::{Report, Settings, Trade, fill_at};
use crate::{
    arbitrage::{ArbitrageBot, ArbitrageInput, ArbitrageOutput, ArbitrageState, Errand, Layout, TRIANGLE, TWO_VENUES},
    bot::Input,
    intent::OrderIntent,
    strategy::arbitrage::{ArbitrageParams, Top},
};

/// Share of a candle's volume taken as offered at its close (the depth a cycle may trade).
pub const DEPTH_SHARE: Decimal = dec!(0.1);

/// One market of the backtest: its symbol's rules and its candles.
#[derive(Debug, Clone)]
pub struct MarketData<'c> {
    /// Precision and minimums.
    pub rules: domain::symbol::SymbolRules,
    /// Its candles, oldest first.
    pub candles: &'c [Candle],
}

/// Replays a triangle (markets bridge/quote, target/bridge, target/quote, as
/// [`crate::strategy::arbitrage::triangle`] names them) from `budget` in the quote asset.
/// Without `compound`, a cycle spends at most the budget, however much the wallet has gained.
#[must_use]
pub fn triangular(
    markets: &[MarketData<'_>; 3],
    budget: Quote,
    compound: bool,
    params: &ArbitrageParams,
    settings: &Settings,
    progress: impl FnMut(usize),
) -> Report {
    let wallet = Wallet { budget, compound, balances: TRIANGLE.starting_balances(budget) };
    replay(markets, bot(markets, params, settings, wallet), budget, settings, progress)
}

/// Replays the same pair on two venues (the bot's venue first) from `budget`, split in four.
#[must_use]
pub fn cross_exchange(
    markets: &[MarketData<'_>; 2],
    budget: Quote,
    params: &ArbitrageParams,
    settings: &Settings,
    progress: impl FnMut(usize),
) -> Report {
    let wallet = Wallet { budget, compound: false, balances: TWO_VENUES.starting_balances(budget) };
    replay(markets, bot(markets, params, settings, wallet), budget, settings, progress)
}

/// What a backtest's bot starts with.
struct Wallet {
    budget: Quote,
    compound: bool,
    /// The balance of every asset.
    balances: Vec<Decimal>,
}

/// A running arbitrage bot on `markets` starting with `wallet`, its holdings costed at the
/// first prices.
fn bot(markets: &[MarketData<'_>], params: &ArbitrageParams, settings: &Settings, wallet: Wallet) -> ArbitrageBot {
    let Wallet { budget, compound, balances } = wallet;
    let layout = Layout::of(&params.mode);
    let first: Vec<Price> = join(markets).first().map(|row| row.iter().map(|c| c.close).collect()).unwrap_or_default();
    let costs = balances
        .iter()
        .enumerate()
        .map(|(asset, balance)| if first.is_empty() { *balance } else { *balance * layout.unit_value(asset, &first) })
        .collect();
    ArbitrageBot::new(ArbitrageState {
        id: BotId(0),
        order_prefix: domain::order::BACKTEST_ORDER_PREFIX.into(),
        markets: markets.iter().map(|m| m.rules.clone()).collect(),
        params: params.clone(),
        fee_rate: settings.fee_rate,
        budget,
        compound,
        balances,
        costs,
        status: BotStatus::Running,
        killed: false,
        next_seq: 1,
    })
}

/// The rows of candles all markets have, joined on their open time.
fn join<'c>(markets: &[MarketData<'c>]) -> Vec<Vec<&'c Candle>> {
    let Some((first, others)) = markets.split_first() else { return Vec::new() };
    let mut cursors = vec![0_usize; others.len()];
    let mut rows = Vec::with_capacity(first.candles.len());
    'candles: for candle in first.candles {
        let mut row = Vec::with_capacity(markets.len());
        row.push(candle);
        for (market, cursor) in others.iter().zip(&mut cursors) {
            while market.candles.get(*cursor).is_some_and(|c| c.open_time < candle.open_time) {
                *cursor += 1;
            }
            match market.candles.get(*cursor) {
                Some(c) if c.open_time == candle.open_time => row.push(c),
                _ => continue 'candles,
            }
        }
        rows.push(row);
    }
    rows
}

/// The markets' best prices at `price` (the open or the close of each), with a share of each
/// candle's volume offered on both sides.
fn tops(row: &[&Candle], price: impl Fn(&Candle) -> Price) -> Vec<Top> {
    row.iter()
        .map(|candle| {
            let offered = Qty::new(candle.volume.value() * DEPTH_SHARE);
            Top { bid: price(candle), bid_qty: offered, ask: price(candle), ask_qty: offered }
        })
        .collect()
}

/// The running replay: the bot, the orders it sent, and what came of them.
struct Replay<'m, 'c> {
    markets: &'m [MarketData<'c>],
    settings: &'m Settings,
    bot: ArbitrageBot,
    /// Orders sent and not yet filled, with their market.
    sent: VecDeque<(OrderIntent, usize)>,
    trades: Vec<Trade>,
    fees: Decimal,
    /// The result of every cycle.
    results: Vec<Decimal>,
    /// What sweeping crumbs back cost (their fees and rounding).
    swept: Decimal,
    /// Where the trades of the cycle under way begin.
    cycle_start: usize,
}

impl Replay<'_, '_> {
    /// Hands `input` to the bot and takes in what it outputs.
    fn feed(&mut self, input: ArbitrageInput) {
        for output in self.bot.handle(input) {
            match output {
                ArbitrageOutput::Place { order, market } => self.sent.push_back((order.into_inner(), market)),
                ArbitrageOutput::Ended { result, errand } => {
                    // Buying a venue's inventory realises nothing: its cost shows in the equity.
                    let last = self.trades.get_mut(self.cycle_start..).and_then(<[Trade]>::last_mut);
                    if let (Some(last), false) = (last, errand == Errand::Stock) {
                        last.realized = Some(result);
                        if errand == Errand::Sweep {
                            self.swept += result.value();
                        } else {
                            self.results.push(result.value());
                        }
                    }
                    self.cycle_start = self.trades.len();
                }
                ArbitrageOutput::Bot(_) => {}
            }
        }
    }

    /// Fills the orders sent, each at its market's open in `row` (a leg the bot sends in
    /// answer fills at the same open).
    fn execute(&mut self, row: &[&Candle]) {
        self.feed(ArbitrageInput::Tops(tops(row, |c| c.open)));
        let opens: Vec<Price> = row.iter().map(|c| c.open).collect();
        while let Some((intent, market)) = self.sent.pop_front() {
            let price = opens[market];
            let rules = &self.markets[market].rules;
            let (event, fill) = match fill_at(&intent, rules, price, self.settings.fee_rate) {
                Ok(fill) => (OrderEvent::Filled, Some(fill)),
                Err(_) => (OrderEvent::Rejected, None),
            };
            if let Some(fill) = &fill {
                // A fee is charged in the asset received: valued in the quote asset at the opens.
                let layout = self.bot.layout();
                let (base, quote) = layout.assets[market];
                let fee = fill.fee * layout.unit_value(if fill.fee_in_quote { quote } else { base }, &opens);
                self.fees += fee;
                self.trades.push(Trade {
                    at: row[0].open_time,
                    pair: Some(rules.pair.clone()),
                    side: intent.side,
                    price,
                    qty: fill.qty,
                    quote: fill.quote,
                    fee: Quote::new(fee),
                    realized: None,
                    reason: intent.decision.summary.clone(),
                });
            }
            self.feed(ArbitrageInput::Bot(Input::Order { client_order_id: intent.client_order_id, event, fill }));
        }
    }

    /// Whether the wallet holds a non-quote asset worth at least its market's minimum order.
    fn exposed(&self, closes: &[Price]) -> bool {
        let layout = self.bot.layout();
        self.bot.balances().iter().zip(layout.valued_by).any(|(balance, market)| {
            market.is_some_and(|m| *balance * closes[m].value() >= self.markets[m].rules.min_notional.value())
        })
    }
}

/// Replays the joined candles of `markets` through `bot`.
fn replay(
    markets: &[MarketData<'_>],
    bot: ArbitrageBot,
    budget: Quote,
    settings: &Settings,
    mut progress: impl FnMut(usize),
) -> Report {
    let rows = join(markets);
    let mut replay = Replay {
        markets,
        settings,
        bot,
        sent: VecDeque::new(),
        trades: Vec::new(),
        fees: Decimal::ZERO,
        results: Vec::new(),
        swept: Decimal::ZERO,
        cycle_start: 0,
    };
    let budget = budget.value();
    let (mut peak, mut max_drawdown, mut max_drawdown_peak) = (budget, Decimal::ZERO, budget);
    let (mut exposed, mut equity, mut curve) = (0_usize, budget, Vec::new());
    for (i, row) in rows.iter().enumerate() {
        if i & 0xFFFF == 0 && i > 0 {
            progress(i);
        }
        if !replay.sent.is_empty() {
            replay.execute(row);
        }
        replay.feed(ArbitrageInput::Tops(tops(row, |c| c.close)));
        let closes: Vec<Price> = row.iter().map(|c| c.close).collect();
        equity = replay.bot.value(&closes);
        if equity > peak {
            peak = equity;
        } else if peak - equity > max_drawdown {
            (max_drawdown, max_drawdown_peak) = (peak - equity, peak);
        }
        exposed += usize::from(replay.exposed(&closes));
        if settings.equity_curve {
            let close_time = Timestamp::from_millis(row[0].open_time.millis() + settings.candle_ms);
            curve.push((close_time, Quote::new(equity)));
        }
    }
    progress(rows.len());
    let Replay { trades, fees, results, swept, .. } = replay;
    let (wins, losses): (Vec<Decimal>, Vec<Decimal>) = results.iter().partition(|r| **r > Decimal::ZERO);
    let average = |values: &[Decimal]| {
        Quote::new(if values.is_empty() {
            Decimal::ZERO
        } else {
            (values.iter().sum::<Decimal>() / Decimal::from(values.len())).round_dp(8)
        })
    };
    let share = |part: Decimal, whole: Decimal| {
        Percent::new(if whole.is_zero() { Decimal::ZERO } else { (part * Decimal::ONE_HUNDRED / whole).round_dp(4) })
    };
    Report {
        candles: rows.len(),
        fees: Quote::new(fees),
        realized_pnl: Quote::new(results.iter().sum::<Decimal>() + swept),
        final_equity: Quote::new(equity),
        total_pnl: Quote::new(equity - budget),
        wins: wins.len(),
        losses: losses.len(),
        average_win: average(&wins),
        average_loss: average(&losses),
        max_drawdown: Quote::new(max_drawdown),
        max_drawdown_percent: share(max_drawdown, max_drawdown_peak),
        exposure_percent: share(Decimal::from(exposed), Decimal::from(rows.len())),
        equity: curve,
        trades,
    }
}

#[cfg(test)]
mod tests {
    use rust_decimal_macros::dec;

    use domain::order::Side;

    use super::*;
    use crate::{strategy::arbitrage::Mode, testing::rules};

    fn candle(minute: i64, open: Decimal, close: Decimal) -> Candle {
        let (o, c) = (Price::new(open), Price::new(close));
        Candle {
            open_time: Timestamp::from_millis(minute * 60_000),
            open: o,
            high: o.max(c),
            low: o.min(c),
            close: c,
            volume: Qty::new(dec!(100)),
        }
    }

    fn flat(minutes: std::ops::Range<i64>, price: Decimal) -> Vec<Candle> {
        minutes.map(|m| candle(m, price, price)).collect()
    }

    /// BTC/USDT, ETH/BTC and ETH/USDT with MEXC's rules, on these candles.
    fn triangle_of<'c>(btc: &'c [Candle], eth_btc: &'c [Candle], eth: &'c [Candle]) -> [MarketData<'c>; 3] {
        [
            MarketData { rules: rules("BTC/USDT", 2, 6, dec!(1)), candles: btc },
            MarketData { rules: rules("ETH/BTC", 6, 4, dec!(0.0001)), candles: eth_btc },
            MarketData { rules: rules("ETH/USDT", 2, 5, dec!(1)), candles: eth },
        ]
    }

    fn params() -> ArbitrageParams {
        ArbitrageParams {
            mode: Mode::Triangular { bridge: "BTC".into() },
            min_edge: dec!(0.002),
            max_trade: Quote::new(dec!(100)),
        }
    }

    const SETTINGS: Settings = Settings { fee_rate: dec!(0.001), candle_ms: 60_000, equity_curve: true };

    #[test]
    fn a_gap_in_the_triangle_is_traded_at_the_next_opens_and_counted_once() {
        let btc = flat(0..4, dec!(40000));
        let eth_btc = flat(0..4, dec!(0.049));
        // ETH/USDT closes at 2000 at minute 1 (1960 through BTC): a 2 % gap, still there at
        // the next open, gone after it.
        let eth = vec![
            candle(0, dec!(1960), dec!(1960)),
            candle(1, dec!(1960), dec!(2000)),
            candle(2, dec!(2000), dec!(1960)),
            candle(3, dec!(1960), dec!(1960)),
        ];
        let markets = triangle_of(&btc, &eth_btc, &eth);
        let report = triangular(&markets, Quote::new(dec!(1000)), false, &params(), &SETTINGS, |_| {});
        let legs: Vec<_> = report
            .trades
            .iter()
            .map(|t| (t.at.millis() / 60_000, t.pair.clone().unwrap().to_string(), t.side))
            .collect();
        assert_eq!(
            legs,
            [
                (2, "BTC/USDT".to_owned(), Side::Buy),
                (2, "ETH/BTC".to_owned(), Side::Buy),
                (2, "ETH/USDT".to_owned(), Side::Sell)
            ]
        );
        let result = report.trades[2].realized.unwrap().value();
        // 101.57832 back for 100 spent, and the crumbs rounding left: 0.0000034 BTC (0.136)
        // and 0.0000091 ETH (0.0182).
        assert_eq!(result, dec!(1.73252));
        assert_eq!((report.wins, report.losses, report.realized_pnl.value()), (1, 0, result));
        assert_eq!(report.equity.len(), 4);
        assert!(
            report.fees.value() > dec!(0.29) && report.fees.value() < dec!(0.31),
            "three fees of 0.1 %: {}",
            report.fees
        );
    }

    #[test]
    fn a_leg_that_cannot_be_sized_at_the_next_open_is_unwound() {
        let btc = flat(0..3, dec!(40000));
        // ETH/BTC prints far away at the open after the decision (a bad tick): the BTC bought
        // cannot buy the minimum ETH there, so it is sold back.
        let eth_btc = vec![
            candle(0, dec!(0.049), dec!(0.049)),
            candle(1, dec!(30), dec!(0.049)),
            candle(2, dec!(0.049), dec!(0.049)),
        ];
        let eth = flat(0..3, dec!(2000));
        let markets = triangle_of(&btc, &eth_btc, &eth);
        let report = triangular(&markets, Quote::new(dec!(1000)), false, &params(), &SETTINGS, |_| {});
        let sides: Vec<_> = report.trades.iter().map(|t| (t.pair.clone().unwrap().to_string(), t.side)).collect();
        assert_eq!(sides[..2], [("BTC/USDT".to_owned(), Side::Buy), ("BTC/USDT".to_owned(), Side::Sell)]);
        let reason = report.trades[1].reason.to_string();
        assert!(reason.starts_with("arbitrage unwind: leg 2 is too small for its market's rules"), "{reason}");
        let loss = report.trades[1].realized.unwrap().value();
        assert!(loss < Decimal::ZERO && loss > dec!(-0.3), "two fees and a crumb of rounding: {loss}");
        assert_eq!(report.losses, 1);
    }

    #[test]
    fn a_first_leg_spends_what_was_planned_whatever_the_open() {
        // The whole 60 USDT is planned at a close of 40000; BTC opens 1 % higher: the buy
        // still spends at most 60 USDT (and buys less), and the cycle goes on.
        let btc = vec![
            candle(0, dec!(40000), dec!(40000)),
            candle(1, dec!(40000), dec!(40000)),
            candle(2, dec!(40400), dec!(40400)),
        ];
        let eth_btc = flat(0..3, dec!(0.049));
        let eth = vec![
            candle(0, dec!(1960), dec!(1960)),
            candle(1, dec!(1960), dec!(2000)),
            candle(2, dec!(2000), dec!(2000)),
        ];
        let markets = triangle_of(&btc, &eth_btc, &eth);
        let report = triangular(&markets, Quote::new(dec!(60)), false, &params(), &SETTINGS, |_| {});
        assert_eq!(report.trades.len(), 3, "{:?}", report.trades);
        let first = &report.trades[0];
        assert_eq!((first.price, first.qty), (Price::new(dec!(40400)), Qty::new(dec!(0.001485))));
        assert!(first.quote.value() <= dec!(60), "{}", first.quote);
        assert_eq!((report.wins, report.losses), (1, 0));
    }

    #[test]
    fn crumbs_worth_an_order_are_swept_back_into_the_quote_asset() {
        let (btc, eth_btc, eth) = (flat(0..3, dec!(40000)), flat(0..3, dec!(0.049)), flat(0..3, dec!(1960)));
        let markets = triangle_of(&btc, &eth_btc, &eth);
        // 0.001 BTC (40 USDT) left over, and prices that agree: it is sold at the next open.
        let start = vec![dec!(1000), dec!(0.001), dec!(0.00001)];
        let budget = Quote::new(dec!(1040));
        let running = bot(&markets, &params(), &SETTINGS, Wallet { budget, compound: false, balances: start });
        let report = replay(&markets, running, budget, &SETTINGS, |_| {});
        assert_eq!(report.trades.len(), 1, "the ETH crumb is worth less than an order: {:?}", report.trades);
        let sweep = &report.trades[0];
        assert_eq!((sweep.at.millis(), sweep.side, sweep.qty), (60_000, Side::Sell, Qty::new(dec!(0.001))));
        assert!(sweep.reason.to_string().starts_with("arbitrage sweep"), "{}", sweep.reason);
        assert_eq!(sweep.realized, Some(Quote::new(dec!(-0.04))), "the fee");
        assert_eq!((report.wins, report.losses), (0, 0), "a sweep is not a cycle");
    }

    #[test]
    fn across_venues_each_venue_buys_its_inventory_first_and_the_dear_one_sells_from_it() {
        let cheap = flat(0..5, dec!(40000));
        let mut dear = flat(0..3, dec!(40000));
        dear.extend([candle(3, dec!(40000), dec!(40400)), candle(4, dec!(40400), dec!(40400))]);
        let btc = rules("BTC/USDT", 2, 6, dec!(1));
        let markets = [MarketData { rules: btc.clone(), candles: &cheap }, MarketData { rules: btc, candles: &dear }];
        let params = ArbitrageParams {
            mode: Mode::CrossExchange { second_exchange: "backup".into() },
            min_edge: dec!(0.002),
            max_trade: Quote::new(dec!(100)),
        };
        let report = cross_exchange(&markets, Quote::new(dec!(1000)), &params, &SETTINGS, |_| {});
        let sides: Vec<_> = report.trades.iter().map(|t| (t.at.millis() / 60_000, t.side, t.price.value())).collect();
        assert_eq!(
            sides,
            [
                (1, Side::Buy, dec!(40000)),
                (2, Side::Buy, dec!(40000)),
                (4, Side::Buy, dec!(40000)),
                (4, Side::Sell, dec!(40400))
            ]
        );
        let stock = &report.trades[0];
        assert!(stock.reason.to_string().starts_with("arbitrage inventory: base for venue 1"), "{}", stock.reason);
        assert!(stock.quote.value() <= dec!(250) && stock.realized.is_none(), "half of a venue's 500: {stock:?}");
        assert!(report.trades[3].realized.unwrap().value() > Decimal::ZERO);
        assert_eq!((report.wins, report.losses), (1, 0), "the inventory is no trade won or lost");
        assert_eq!(report.exposure_percent, Percent::new(dec!(80)), "inventory is held from the first close on");
    }
}
