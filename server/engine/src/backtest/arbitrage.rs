//! The arbitrage backtest: the candles of every market a cycle trades, joined on their open
//! times (a time missing from any market is skipped, as during a venue outage), through the
//! same cycle evaluation the bot runs live ([`crate::strategy::arbitrage`]).
//!
//! Conventions: at each close a market's best bid and ask are its close, with
//! [`DEPTH_SHARE`] of the candle's volume offered at it. A cycle found at a close is sent at
//! the next open, its legs one after the other as a live bot sends them ([`CycleRun`]), each
//! at its market's open and sized by what the previous leg received: a leg that its paying
//! balance cannot cover at that price, or that breaks its symbol's rules there, fails, and
//! what the legs before it bought is sold back into the starting asset (the unwind). Fees
//! per side are charged in the asset received. A cycle's result is the change in the wallet's
//! value at the prices it traded at. What the rounding of a triangle's legs leaves over is
//! swept back into the quote asset at the next open once it is worth an order and no cycle is
//! due. Exposure counts the closes at which the wallet held a non-quote asset worth at least
//! its market's minimum order. Across two venues the budget starts split in four: quote
//! and base (bought at the first close, without a fee) on each venue; the base is valued at the
//! first venue's price.

use domain::{
    candle::Candle,
    money::{Percent, Price, Qty, Quote},
    order::Side,
    symbol::SymbolRules,
    time::Timestamp,
};
use rust_decimal::Decimal;
use rust_decimal_macros::dec;

use super::{Report, Settings, Trade};
use crate::{
    intent::Reason,
    strategy::arbitrage::{self, ArbitrageParams, Cycle, CycleRun, Leg, Market, Next, Top},
};

/// Share of a candle's volume taken as offered at its close (the depth a cycle may trade).
pub const DEPTH_SHARE: Decimal = dec!(0.1);

/// One market of the backtest: its symbol's rules, its candles, and which of the wallet's
/// assets it trades (base, quote).
#[derive(Debug, Clone)]
pub struct MarketData<'c> {
    /// Precision and minimums.
    pub rules: SymbolRules,
    /// Its candles, oldest first.
    pub candles: &'c [Candle],
}

/// How the wallet's assets relate to the markets.
struct Layout {
    /// For each market: the positions of its base and quote assets in the wallet.
    assets: &'static [(usize, usize)],
    /// For each asset: the market that values it in the quote asset (none for a quote asset).
    valued_by: &'static [Option<usize>],
    /// The assets swept back into the quote asset once worth an order, with the market that
    /// sells them (what a triangle's rounding leaves; across venues the base is inventory).
    swept: &'static [(usize, usize)],
}

/// What is sent at the next open.
enum Pending {
    /// A cycle.
    Cycle(Cycle),
    /// The sale of crumbs back into the quote asset.
    Sweep(Leg),
}

/// The triangle: assets quote, bridge, target; markets bridge/quote, target/bridge,
/// target/quote.
const TRIANGLE: Layout =
    Layout { assets: &[(1, 0), (2, 1), (2, 0)], valued_by: &[None, Some(0), Some(2)], swept: &[(1, 0), (2, 2)] };

/// Two venues: assets quote and base on the first, then on the second; one market on each.
/// The base is valued at the first venue's price on both (a gain is base moved from where it
/// is dear to where it is cheap, which valuing each at its own venue's price would hide).
const TWO_VENUES: Layout = Layout { assets: &[(1, 0), (3, 2)], valued_by: &[None, Some(0), None, Some(0)], swept: &[] };

/// Replays a triangle (markets bridge/quote, target/bridge, target/quote, as
/// [`arbitrage::triangle`] names them) from `budget` in the quote asset. Without `compound`,
/// a cycle spends at most the budget, however much the wallet has gained.
#[must_use]
pub fn triangular(
    markets: &[MarketData<'_>; 3],
    budget: Quote,
    compound: bool,
    params: &ArbitrageParams,
    settings: &Settings,
    progress: impl FnMut(usize),
) -> Report {
    let start = vec![budget.value(), Decimal::ZERO, Decimal::ZERO];
    replay(markets, &TRIANGLE, start, budget, settings, progress, |tops, wallet| {
        let free = if compound { wallet[0] } else { wallet[0].min(budget.value()) };
        arbitrage::triangular(&[tops[0], tops[1], tops[2]], Quote::new(free), params)
    })
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
    let quarter = budget.value() / Decimal::from(4);
    let first = join(markets).first().map(|row| [row[0].close, row[1].close]);
    let base = |venue: usize| {
        first.map_or(Decimal::ZERO, |closes| {
            markets[venue].rules.round_qty_down(Qty::new(quarter / closes[venue].value())).value()
        })
    };
    let start = vec![quarter, base(0), quarter, base(1)];
    replay(markets, &TWO_VENUES, start, budget, settings, progress, |tops, wallet| {
        let free = [Quote::new(wallet[0]), Quote::new(wallet[2])];
        let held = [Qty::new(wallet[1]), Qty::new(wallet[3])];
        arbitrage::cross_exchange(&[tops[0], tops[1]], free, held, params)
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

/// The wallet: a balance per asset.
struct Wallet {
    balances: Vec<Decimal>,
    layout: &'static Layout,
}

impl Wallet {
    /// The value of one unit of `asset` in the quote asset, at `prices` (one per market).
    fn unit_value(&self, asset: usize, prices: &[Price]) -> Decimal {
        self.layout.valued_by[asset].map_or(Decimal::ONE, |market| prices[market].value())
    }

    /// Everything, valued in the quote asset at `prices`.
    fn value(&self, prices: &[Price]) -> Decimal {
        self.balances.iter().enumerate().map(|(asset, balance)| *balance * self.unit_value(asset, prices)).sum()
    }
}

/// A leg as carried out: what it received, after its fee, and the fee in quote terms.
struct Filled {
    received: Decimal,
    fee: Decimal,
}

/// The running replay.
struct Replay<'m, 'c> {
    markets: &'m [MarketData<'c>],
    settings: &'m Settings,
    wallet: Wallet,
    trades: Vec<Trade>,
    fees: Decimal,
    /// The result of every cycle.
    results: Vec<Decimal>,
    /// What sweeping crumbs back cost (their fees and rounding).
    swept: Decimal,
}

impl Replay<'_, '_> {
    /// Carries out `leg` at `prices`, or says why it cannot be.
    fn fill(&mut self, leg: &Leg, prices: &[Price]) -> Result<Filled, String> {
        let (base, quote) = self.wallet.layout.assets[leg.market];
        let rules = &self.markets[leg.market].rules;
        let price = prices[leg.market];
        rules.check_qty(leg.qty, price).map_err(|e| e.to_string())?;
        let (qty, value, fee_rate) = (leg.qty.value(), leg.qty.value() * price.value(), self.settings.fee_rate);
        let (paid_asset, paid, received_asset, gross) = match leg.side {
            Side::Buy => (quote, value, base, qty),
            Side::Sell => (base, qty, quote, value),
        };
        if self.wallet.balances[paid_asset] < paid {
            return Err(format!("{paid} needed, {} held", self.wallet.balances[paid_asset].normalize()));
        }
        let fee = gross * fee_rate;
        self.wallet.balances[paid_asset] -= paid;
        self.wallet.balances[received_asset] += gross - fee;
        Ok(Filled { received: gross - fee, fee: fee * self.wallet.unit_value(received_asset, prices) })
    }

    /// Records a filled leg.
    fn record(&mut self, at: Timestamp, leg: &Leg, prices: &[Price], fee: Decimal, reason: String) {
        let price = prices[leg.market];
        self.fees += fee;
        self.trades.push(Trade {
            at,
            pair: Some(self.markets[leg.market].rules.pair.clone()),
            side: leg.side,
            price,
            qty: leg.qty,
            quote: Quote::new(leg.qty.value() * price.value()),
            fee: Quote::new(fee),
            realized: None,
            reason: Reason::Text(reason),
        });
    }

    /// Sends `cycle` at the opens of `row`, leg after leg as a live bot would: each leg sized
    /// by what the previous one received; on a failed leg, the unwind.
    fn execute(&mut self, cycle: Cycle, row: &[&Candle]) {
        let prices: Vec<Price> = row.iter().map(|c| c.open).collect();
        let markets: Vec<Market<'_>> = self
            .markets
            .iter()
            .zip(row)
            .map(|(m, c)| Market { rules: &m.rules, top: top(c.open, c), fee_rate: self.settings.fee_rate })
            .collect();
        let at = row[0].open_time;
        let before = self.wallet.value(&prices);
        let trades_before = self.trades.len();
        let (legs, edge) = (cycle.legs.len(), Percent::new((cycle.edge() * Decimal::ONE_HUNDRED).round_dp(4)));
        let (mut run, first) = CycleRun::start(cycle);
        let mut next = first.map_or(Next::Done, Next::Leg);
        // Why the cycle is being unwound, once it is.
        let mut failure = String::from("what the previous leg received is below this leg's minimum order");
        loop {
            let (leg, unwinding) = match next {
                Next::Leg(leg) => (leg, false),
                Next::Unwind(leg) => (leg, true),
                Next::Done => break,
            };
            let number = run.leg() + 1;
            match self.fill(&leg, &prices) {
                Ok(filled) if unwinding => {
                    let reason = format!("arbitrage unwind: leg {number} failed ({failure})");
                    self.record(at, &leg, &prices, filled.fee, reason);
                    break;
                }
                Ok(filled) => {
                    let reason = format!("arbitrage leg {number} of {legs}: {edge}% edge at the close");
                    self.record(at, &leg, &prices, filled.fee, reason);
                    next = run.filled(Qty::new(filled.received), &markets);
                }
                Err(_) if unwinding => break,
                Err(why) => {
                    failure = why;
                    next = run.failed(&markets);
                }
            }
        }
        let result = self.wallet.value(&prices) - before;
        if let Some(last) = self.trades.get_mut(trades_before..).and_then(<[Trade]>::last_mut) {
            last.realized = Some(Quote::new(result));
            self.results.push(result);
        }
    }

    /// Sells at the opens of `row` the crumbs `leg` plans to sweep back into the quote asset.
    fn sweep(&mut self, leg: &Leg, row: &[&Candle]) {
        let prices: Vec<Price> = row.iter().map(|c| c.open).collect();
        let before = self.wallet.value(&prices);
        if let Ok(filled) = self.fill(leg, &prices) {
            let reason = "arbitrage sweep: what rounding left over, back into the quote asset".to_owned();
            self.record(row[0].open_time, leg, &prices, filled.fee, reason);
            let result = self.wallet.value(&prices) - before;
            if let Some(last) = self.trades.last_mut() {
                last.realized = Some(Quote::new(result));
            }
            self.swept += result;
        }
    }
}

/// A market's best prices at `price`, with a share of `candle`'s volume offered on each side.
fn top(price: Price, candle: &Candle) -> Top {
    let offered = Qty::new(candle.volume.value() * DEPTH_SHARE);
    Top { bid: price, bid_qty: offered, ask: price, ask_qty: offered }
}

/// Replays the joined candles of `markets`: a cycle found at a close (by `find`, from the
/// markets' tops and the wallet's balances) is sent at the next row's opens.
fn replay(
    markets: &[MarketData<'_>],
    layout: &'static Layout,
    start: Vec<Decimal>,
    budget: Quote,
    settings: &Settings,
    mut progress: impl FnMut(usize),
    find: impl Fn(&[Market<'_>], &[Decimal]) -> Option<Cycle>,
) -> Report {
    let rows = join(markets);
    let mut replay = Replay {
        markets,
        settings,
        wallet: Wallet { balances: start, layout },
        trades: Vec::new(),
        fees: Decimal::ZERO,
        results: Vec::new(),
        swept: Decimal::ZERO,
    };
    let budget = budget.value();
    let (mut peak, mut max_drawdown, mut max_drawdown_peak) = (budget, Decimal::ZERO, budget);
    let (mut exposed, mut equity, mut curve) = (0_usize, budget, Vec::new());
    let mut pending: Option<Pending> = None;
    for (i, row) in rows.iter().enumerate() {
        if i & 0xFFFF == 0 && i > 0 {
            progress(i);
        }
        match pending.take() {
            Some(Pending::Cycle(cycle)) => replay.execute(cycle, row),
            Some(Pending::Sweep(leg)) => replay.sweep(&leg, row),
            None => {}
        }
        let closes: Vec<Price> = row.iter().map(|c| c.close).collect();
        let tops: Vec<Market<'_>> = markets
            .iter()
            .zip(row)
            .map(|(m, c)| Market { rules: &m.rules, top: top(c.close, c), fee_rate: settings.fee_rate })
            .collect();
        let balances = &replay.wallet.balances;
        pending = find(&tops, balances).map(Pending::Cycle).or_else(|| {
            layout
                .swept
                .iter()
                .find_map(|&(asset, market)| arbitrage::sale(&tops, market, Qty::new(balances[asset])))
                .map(Pending::Sweep)
        });
        equity = replay.wallet.value(&closes);
        if equity > peak {
            peak = equity;
        } else if peak - equity > max_drawdown {
            (max_drawdown, max_drawdown_peak) = (peak - equity, peak);
        }
        // A position is what could be sold: crumbs below a market's minimum order are not.
        let holds = layout.valued_by.iter().enumerate().any(|(asset, market)| {
            market.is_some_and(|m| {
                replay.wallet.balances[asset] * closes[m].value() >= markets[m].rules.min_notional.value()
            })
        });
        exposed += usize::from(holds);
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
        assert!(reason.starts_with("arbitrage unwind: leg 2 failed (what the previous leg received"), "{reason}");
        let loss = report.trades[1].realized.unwrap().value();
        assert!(loss < Decimal::ZERO && loss > dec!(-0.3), "two fees and a crumb of rounding: {loss}");
        assert_eq!(report.losses, 1);
    }

    #[test]
    fn a_first_leg_the_wallet_cannot_pay_at_the_next_open_sends_nothing() {
        // The whole 60 USDT is planned at a close of 40000; BTC opens 1 % higher.
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
        assert!(report.trades.is_empty(), "{:?}", report.trades);
        assert_eq!((report.wins, report.losses, report.total_pnl), (0, 0, Quote::ZERO));
    }

    #[test]
    fn crumbs_worth_an_order_are_swept_back_into_the_quote_asset() {
        let (btc, eth_btc, eth) = (flat(0..3, dec!(40000)), flat(0..3, dec!(0.049)), flat(0..3, dec!(1960)));
        let markets = triangle_of(&btc, &eth_btc, &eth);
        // 0.001 BTC (40 USDT) left over, and prices that agree: it is sold at the next open.
        let start = vec![dec!(1000), dec!(0.001), dec!(0.00001)];
        let budget = Quote::new(dec!(1040));
        let report = replay(
            &markets,
            &TRIANGLE,
            start,
            budget,
            &SETTINGS,
            |_| {},
            |tops, wallet| arbitrage::triangular(&[tops[0], tops[1], tops[2]], Quote::new(wallet[0]), &params()),
        );
        assert_eq!(report.trades.len(), 1, "the ETH crumb is worth less than an order: {:?}", report.trades);
        let sweep = &report.trades[0];
        assert_eq!((sweep.at.millis(), sweep.side, sweep.qty), (60_000, Side::Sell, Qty::new(dec!(0.001))));
        assert!(sweep.reason.to_string().starts_with("arbitrage sweep"), "{}", sweep.reason);
        assert_eq!(sweep.realized, Some(Quote::new(dec!(-0.04))), "the fee");
        assert_eq!((report.wins, report.losses), (0, 0), "a sweep is not a cycle");
    }

    #[test]
    fn across_venues_the_dear_venue_sells_from_its_inventory() {
        let cheap = flat(0..3, dec!(40000));
        let dear = vec![
            candle(0, dec!(40000), dec!(40000)),
            candle(1, dec!(40000), dec!(40400)),
            candle(2, dec!(40400), dec!(40400)),
        ];
        let btc = rules("BTC/USDT", 2, 6, dec!(1));
        let markets = [MarketData { rules: btc.clone(), candles: &cheap }, MarketData { rules: btc, candles: &dear }];
        let params = ArbitrageParams {
            mode: Mode::CrossExchange { second_exchange: "backup".into() },
            min_edge: dec!(0.002),
            max_trade: Quote::new(dec!(100)),
        };
        let report = cross_exchange(&markets, Quote::new(dec!(1000)), &params, &SETTINGS, |_| {});
        let sides: Vec<_> = report.trades.iter().map(|t| (t.at.millis() / 60_000, t.side, t.price.value())).collect();
        assert_eq!(sides, [(2, Side::Buy, dec!(40000)), (2, Side::Sell, dec!(40400))]);
        assert!(report.trades[1].realized.unwrap().value() > Decimal::ZERO);
        assert_eq!(report.exposure_percent, Percent::new(dec!(100)), "inventory is held on both venues");
    }
}
