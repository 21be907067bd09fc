//! Benchmark: latency of `Bot::handle` for one market event (a new price) on a running DCA bot
//! that holds a position and decides at every price, reported as p50/p99/p99.9 against a
//! baseline measured in the same process: the same event on a paused bot, which only records
//! the price (the fixed cost of a call). Target: p99 under 20 µs.
//!
//! Run with `cargo bench -p engine --bench handle`.
// A benchmark measures wall time, and reports it in floating point.
#![allow(clippy::disallowed_methods, clippy::disallowed_types, clippy::unwrap_used)]

#[path = "../tests/support/mod.rs"]
mod support;

use std::{hint::black_box, time::Instant};

use domain::{
    bot::{BotId, BotStatus},
    money::{Percent, Price, Qty, Quote},
    order::OrderEvent,
    time::Timestamp,
};
use engine::{
    bot::{Bot, BotState, Command, FillReport, Input, StrategyState},
    strategy::dca::{DcaMemory, DcaParams},
    wallet::Wallet,
};
use rust_decimal::Decimal;

const EVENTS: usize = 1_000_000;
const MINUTE: i64 = 60_000;

fn bot(status: BotStatus) -> Bot {
    let rules = support::btc_usdt();
    let params = DcaParams {
        quote_amount: Quote::new(Decimal::from(10)),
        interval_ms: 1_000 * 24 * 60 * MINUTE,
        drop_trigger: Percent::new(Decimal::from(5)),
        drop_extra: Quote::new(Decimal::from(10)),
        take_profit: Percent::new(Decimal::from(50)),
    };
    let state = BotState {
        id: BotId(1),
        order_prefix: domain::order::BACKTEST_ORDER_PREFIX.into(),
        rules,
        strategy: StrategyState::Dca(params, DcaMemory::default()),
        wallet: Wallet::new(Quote::new(Decimal::from(1_000)), false),
        status: BotStatus::Created,
        killed: false,
        next_seq: 1,
        ends_at: None,
        open_orders: Vec::new(),
        risk: domain::bot::RiskLimits::default(),
        rotation: engine::rotation::Rotation::off(),
        kelly_sizing: false,
        guard_memory: None,
        record: engine::kelly::Record::default(),
    };
    let mut bot = Bot::from_state(state).unwrap();
    // Start, buy once and fill, so every later price is judged against a held position.
    bot.handle(Timestamp::from_millis(0), Input::Price(Price::new(Decimal::from(30_000))));
    bot.handle(Timestamp::from_millis(0), Input::Command(Command::Start));
    let fill = FillReport {
        qty: Qty::new(Decimal::new(333, 6)),
        quote: Quote::new(Decimal::from(10)),
        fee: Decimal::ZERO,
        fee_in_quote: true,
    };
    let event = Input::Order { client_order_id: "tb-1-000001".into(), event: OrderEvent::Filled, fill: Some(fill) };
    bot.handle(Timestamp::from_millis(1), event);
    if status == BotStatus::Paused {
        bot.handle(Timestamp::from_millis(2), Input::Command(Command::Pause));
    }
    bot
}

/// Prices wandering around 30,000 within ±1%: no drop or take-profit trigger fires, so every
/// event runs the whole decision and places nothing (the common case).
fn prices() -> Vec<Price> {
    let mut state = 0x2545_f491_u64;
    (0..EVENTS)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let cents = 2_970_000 + i64::try_from(state % 60_000).unwrap();
            Price::new(Decimal::new(cents, 2))
        })
        .collect()
}

/// Per-event latencies in nanoseconds, sorted.
fn latencies(bot: &mut Bot, prices: &[Price]) -> Vec<u64> {
    let mut out = Vec::with_capacity(prices.len());
    for (i, price) in prices.iter().enumerate() {
        let now = Timestamp::from_millis(10 + i64::try_from(i).unwrap());
        let start = Instant::now();
        black_box(bot.handle(now, Input::Price(*price)));
        out.push(u64::try_from(start.elapsed().as_nanos()).unwrap_or(u64::MAX));
    }
    out.sort_unstable();
    out
}

/// The `per_mille`-th value in microseconds.
fn percentile(sorted: &[u64], per_mille: usize) -> f64 {
    sorted[(sorted.len() - 1) * per_mille / 1_000] as f64 / 1_000.0
}

fn main() {
    let prices = prices();
    let mut running = bot(BotStatus::Running);
    let mut paused = bot(BotStatus::Paused);
    // Warm up caches and the allocator.
    latencies(&mut running.clone(), &prices[..EVENTS / 10]);
    let baseline = latencies(&mut paused, &prices);
    let measured = latencies(&mut running, &prices);
    assert_eq!(running.status(), BotStatus::Running, "the bot kept running and placed nothing");
    println!("engine handle, one market event ({EVENTS} events on a running DCA bot holding a position)");
    for (name, p) in [("p50", 500), ("p99", 990), ("p99.9", 999)] {
        let (m, b) = (percentile(&measured, p), percentile(&baseline, p));
        println!("  {name:>5}: {m:8.2} µs   baseline (paused bot) {b:6.2} µs   ratio {:5.1}x", m / b);
    }
    let p99 = percentile(&measured, 990);
    println!("  target p99 < 20 µs: {}", if p99 < 20.0 { "met" } else { "NOT met" });
}
