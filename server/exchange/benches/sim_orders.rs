//! Benchmark: order throughput of the local venue over loopback, through the real adapter
//! (encode, sign, HTTP, match, decode): each iteration places a limit order and cancels it
//! (the venue caps open orders at 500). The baseline is unsigned `/api/v3/time` round trips in
//! the same process.
//!
//! Run with `cargo bench -p exchange --bench sim_orders`.

use std::{path::PathBuf, sync::Arc, time::Instant};

use domain::{
    money::{Price, Qty},
    pair::Pair,
};
use exchange::{
    Exchange,
    mexc::{Mexc, MexcConfig, RateLimits},
    types::{NewOrder, OrderKind, OrderRef, OrderSize, Side},
};
use mexc_sim::{DEMO_API_KEY, DEMO_API_SECRET, SimConfig, Simulator};

const ORDERS: usize = 2000;
const CONCURRENCY: usize = 8;

async fn place_and_cancel(mexc: &Mexc, order: &NewOrder) {
    let placed = mexc.place_order(order).await.expect("order");
    mexc.cancel_order(&order.pair, &OrderRef::Venue(placed.venue_id)).await.expect("cancel");
}

#[tokio::main]
async fn main() {
    let data = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../mexc-sim/data");
    let mut config = SimConfig::demo(&data);
    config.speed = 0.0;
    let sim = Simulator::start(config, tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("port")).await;
    let mut adapter = MexcConfig::new(&sim.rest_url(), &sim.ws_url(), DEMO_API_KEY, DEMO_API_SECRET);
    adapter.limits =
        RateLimits { weight_per_second: 1_000_000, order_actions_per_second: 1_000_000, ..RateLimits::default() };
    let mexc = Arc::new(Mexc::new(&adapter).expect("adapter"));
    let pair: Pair = "BTC/USDT".parse().expect("pair");
    let below = Price::new(
        (mexc.ticker(&pair).await.expect("ticker").bid.value() * rust_decimal::Decimal::new(8, 1)).round_dp(2),
    );

    let http = reqwest::Client::new();
    let time_url = format!("{}/api/v3/time", sim.rest_url());
    let start = Instant::now();
    for _ in 0..ORDERS {
        http.get(&time_url).send().await.expect("time").bytes().await.expect("body");
    }
    let baseline = ORDERS as f64 / start.elapsed().as_secs_f64();

    let order = move |i: usize| NewOrder {
        pair: pair.clone(),
        side: Side::Buy,
        kind: OrderKind::Limit,
        price: Some(below),
        size: OrderSize::Base(Qty::new(rust_decimal::Decimal::new(1, 3))),
        client_order_id: format!("bench-{i}"),
    };
    let start = Instant::now();
    for i in 0..ORDERS {
        place_and_cancel(&mexc, &order(i)).await;
    }
    let sequential = ORDERS as f64 / start.elapsed().as_secs_f64();

    let start = Instant::now();
    let mut tasks = Vec::new();
    for worker in 0..CONCURRENCY {
        let (mexc, order) = (Arc::clone(&mexc), order.clone());
        tasks.push(tokio::spawn(async move {
            for i in (worker..ORDERS).step_by(CONCURRENCY) {
                place_and_cancel(&mexc, &order(ORDERS + i)).await;
            }
        }));
    }
    for task in tasks {
        task.await.expect("worker");
    }
    let concurrent = ORDERS as f64 / start.elapsed().as_secs_f64();

    println!("baseline  unsigned GET /api/v3/time round trips: {baseline:>8.0} /s");
    println!(
        "orders placed + cancelled, one at a time:       {sequential:>8.0} /s  ({:.2}x baseline)",
        sequential / baseline
    );
    println!(
        "orders placed + cancelled, {CONCURRENCY} concurrent:       {concurrent:>8.0} /s  ({:.2}x baseline)",
        concurrent / baseline
    );
    sim.shutdown().await;
}
