//! Benchmark: backtest throughput (candles per second, one thread) of Mean Reversion and
//! Adaptive Grid over 1,000,000 candles held in memory, through the same `Bot::handle` as
//! live, against a baseline in the same process: the same candles through a bot whose
//! strategy never trades (DCA with an interval longer than the data), which measures the
//! driver and the bot alone. Also the candle-file load rate (bundled CSV layout). Targets: at
//! least 10 million candles/s for Mean Reversion, at least 2 million rows/s loaded.
//!
//! Run with `cargo bench -p engine --bench backtest`.
// A benchmark measures wall time and reports in floating point.
#![allow(clippy::disallowed_methods, clippy::disallowed_types, clippy::unwrap_used, clippy::cast_precision_loss)]

#[path = "../tests/support/mod.rs"]
mod support;

use std::{fmt::Write as _, hint::black_box, time::Instant};

use domain::{
    candle::Candle,
    money::{Percent, Price, Qty, Quote},
    symbol::SymbolRules,
    time::Timestamp,
};
use engine::{
    backtest::{self, Settings},
    strategy::{
        StrategyState,
        dca::{DcaMemory, DcaParams},
        grid::{Grid, GridParams, Range, Spacing},
        mean_reversion::{Entry, MeanReversion, MeanReversionParams},
    },
};
use rust_decimal::Decimal;

const CANDLES: usize = 1_000_000;

fn rules() -> SymbolRules {
    support::btc_usdt()
}

/// A seeded random walk around 30,000 with cent prices.
fn candles() -> Vec<Candle> {
    let mut state = 0x9e37_79b9_7f4a_7c15_u64;
    let mut cents: i64 = 3_000_000;
    (0..CANDLES)
        .map(|i| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let open = cents;
            cents = (cents + i64::try_from(state % 4_001).unwrap() - 2_000).max(100_000);
            let (high, low) = (open.max(cents) + 500, open.min(cents) - 500);
            let price = |c: i64| Price::new(Decimal::new(c, 2));
            Candle {
                open_time: Timestamp::from_millis(i64::try_from(i).unwrap() * 60_000),
                open: price(open),
                high: price(high),
                low: price(low),
                close: price(cents),
                volume: Qty::new(Decimal::new(i64::try_from(state % 10_000).unwrap(), 3)),
            }
        })
        .collect()
}

fn per_second(candles: &[Candle], strategy: &StrategyState) -> (f64, usize) {
    let settings = Settings { fee_rate: Decimal::new(1, 3), candle_ms: 60_000, equity_curve: false };
    let bot = backtest::bot(
        rules(),
        strategy.clone(),
        Quote::new(Decimal::from(1_000_000)),
        false,
        domain::bot::RiskLimits::default(),
    );
    let start = Instant::now();
    let report = black_box(backtest::run(bot, candles, &settings, |_| {}));
    (candles.len() as f64 / start.elapsed().as_secs_f64(), report.trades.len())
}

/// Runs measured per strategy; the best run counts (the least disturbed on a noisy machine).
/// Runs are interleaved (baseline, then each strategy, in turn), so a disturbance of the
/// machine weighs on all of them alike.
const RUNS: usize = 7;

/// The best run of each strategy: candles per second and trades.
fn best_of_runs(candles: &[Candle], strategies: &[&StrategyState]) -> Vec<(f64, usize)> {
    let mut best = vec![(0.0, 0); strategies.len()];
    for _ in 0..RUNS {
        for (strategy, best) in strategies.iter().zip(&mut best) {
            let run = per_second(candles, strategy);
            if run.0 > best.0 {
                *best = run;
            }
        }
    }
    best
}

fn main() {
    let data = candles();
    let mean_reversion = StrategyState::MeanReversion(Box::new(MeanReversion::new(MeanReversionParams {
        period: 20,
        entry: Entry::Bollinger(2.0),
        rsi: None,
        quote: Quote::new(Decimal::from(100)),
    })));
    let idle = StrategyState::Dca(
        DcaParams {
            quote_amount: Quote::new(Decimal::from(10)),
            interval_ms: i64::MAX / 4,
            drop_trigger: Percent::new(Decimal::ZERO),
            drop_extra: Quote::new(Decimal::ZERO),
            take_profit: Percent::new(Decimal::ZERO),
        },
        DcaMemory { last_buy_at: Some(Timestamp::from_millis(0)), last_buy_price: None },
    );
    let grid = StrategyState::Grid(Box::new(Grid::new(GridParams {
        levels: 10,
        spacing: Spacing::Arithmetic,
        range: Range::Volatility { lookback: 60, multiplier: 2.0 },
        quote: Quote::new(Decimal::from(100)),
    })));
    // Warm up, then measure.
    per_second(&data[..CANDLES / 10], &mean_reversion);
    let best = best_of_runs(&data, &[&idle, &mean_reversion, &grid]);
    let ((baseline, _), (measured, trades)) = (best[0], best[1]);
    println!("backtest, {CANDLES} candles in memory, one thread, best of {RUNS} runs");
    println!(
        "  mean reversion: {:6.2} M candles/s ({trades} trades)   baseline (bot that never trades) {:6.2} M candles/s   ratio {:.2}x",
        measured / 1e6,
        baseline / 1e6,
        measured / baseline
    );
    println!("  target >= 10 M candles/s: {}", if measured >= 10e6 { "met" } else { "NOT met" });
    let (measured, trades) = best[2];
    println!(
        "  adaptive grid:  {:6.2} M candles/s ({trades} trades)   ratio to the baseline {:.2}x",
        measured / 1e6,
        measured / baseline
    );

    let mut csv = String::from(candles::CSV_HEADER);
    for c in &data {
        let _ = write!(csv, "\n{},{},{},{},{},{}", c.open_time.millis(), c.open, c.high, c.low, c.close, c.volume);
    }
    let bytes = csv.into_bytes();
    let best = |rate: &dyn Fn() -> f64| (0..RUNS).map(|_| rate()).fold(0.0, f64::max);
    let rate = best(&|| {
        let start = Instant::now();
        let loaded = black_box(candles::parse(&bytes).unwrap());
        loaded.len() as f64 / start.elapsed().as_secs_f64()
    });
    let split_rate = best(&|| {
        let start = Instant::now();
        let lines = black_box(bytes.split(|b| *b == b'\n').count());
        lines as f64 / start.elapsed().as_secs_f64()
    });
    println!(
        "  CSV load: {:6.2} M rows/s ({} MB)   baseline (splitting the lines only) {:6.1} M rows/s   ratio {:.3}x",
        rate / 1e6,
        bytes.len() / 1_000_000,
        split_rate / 1e6,
        rate / split_rate
    );
    println!("  target >= 2 M rows/s: {}", if rate >= 2e6 { "met" } else { "NOT met" });
}
