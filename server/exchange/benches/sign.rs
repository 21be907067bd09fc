//! Benchmark: encoding and signing an order request, against a baseline of hashing the same
//! bytes with plain SHA-256 in the same process (ratios hold on noisy machines).
//!
//! Run with `cargo bench -p exchange --bench sign`.

use std::{hint::black_box, time::Instant};

use exchange::mexc::sign::signed_query;
use sha2::{Digest, Sha256};

const ITERATIONS: u32 = 200_000;

fn per_op_ns(mut op: impl FnMut()) -> f64 {
    for _ in 0..ITERATIONS / 10 {
        op();
    }
    let start = Instant::now();
    for _ in 0..ITERATIONS {
        op();
    }
    start.elapsed().as_secs_f64() * 1e9 / f64::from(ITERATIONS)
}

fn main() {
    let params = [
        ("symbol", "BTCUSDT".to_owned()),
        ("side", "BUY".to_owned()),
        ("type", "LIMIT".to_owned()),
        ("quantity", "0.001234".to_owned()),
        ("price", "43210.55".to_owned()),
        ("newClientOrderId", "tb-17-000042".to_owned()),
    ];
    let secret = "demo0secret0for0the0local0simulator0only";
    let sample = signed_query(secret, &params, 5000, 1_718_000_000_000);
    let baseline = per_op_ns(|| {
        black_box(Sha256::digest(black_box(sample.as_bytes())));
    });
    let mut timestamp = 1_718_000_000_000_i64;
    let signing = per_op_ns(|| {
        timestamp += 1;
        black_box(signed_query(black_box(secret), black_box(&params), 5000, timestamp));
    });
    println!("baseline  sha256 of the same {} bytes: {baseline:>8.0} ns/op", sample.len());
    println!(
        "encode + sign an order request:        {signing:>8.0} ns/op  ({:.0} requests/s on one core)",
        1e9 / signing
    );
    println!("ratio to baseline: {:.1}x", signing / baseline);
}
