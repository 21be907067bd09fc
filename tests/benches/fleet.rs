//! Benchmark: one daemon running 1,000 dry-run DCA bots across 20 pairs (the five bundled real
//! pairs replayed by `mexc-sim` plus fifteen seeded synthetic ones), on the release binaries.
//! Reports the daemon's CPU share and resident memory against the same daemon idle (measured
//! first, in the same run), and the event-to-decision delay its runtime logs. Targets: under
//! 300 MB resident, keeping up with the feed (CPU below the two cores, delays bounded).
//!
//! Run with `scripts/bench` (it builds the release binaries first).
// A benchmark measures wall time and reports in floating point; a failed step is a failed run.
#![allow(clippy::unwrap_used, clippy::cast_precision_loss)]

#[path = "../e2e/helpers.rs"]
#[allow(dead_code, unreachable_pub)]
mod helpers;

use std::time::{Duration, Instant};

use futures::{StreamExt, stream};
use helpers::{ANY_PORT, DEMO_SECRET, Daemon, Sim};
use prost_types::{Struct, Value, value::Kind};
use tradingbot_proto::v1 as pb;

const BOTS: usize = 1_000;
const SYNTHETIC: u8 = 15;
const WARM_UP: Duration = Duration::from_secs(20);
/// Seconds measured; `FLEET_SECONDS` overrides (for a quick look).
fn measure() -> Duration {
    Duration::from_secs(std::env::var("FLEET_SECONDS").ok().and_then(|s| s.parse().ok()).unwrap_or(60))
}
const IDLE: Duration = Duration::from_secs(10);

/// CPU time (user + system) of a process, in seconds.
fn cpu_seconds(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    // Fields after the command name (which may hold spaces), counted from 3.
    let fields: Vec<&str> = stat.rsplit_once(')').unwrap().1.split_whitespace().collect();
    let ticks: u64 = fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap();
    let per_second = std::process::Command::new("getconf").arg("CLK_TCK").output().unwrap();
    ticks as f64 / String::from_utf8_lossy(&per_second.stdout).trim().parse::<f64>().unwrap()
}

/// A `/proc/<pid>/status` figure in MB (`VmRSS`, `VmHWM`).
fn memory_mb(pid: u32, field: &str) -> f64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let line = status.lines().find(|l| l.starts_with(field)).unwrap();
    line.split_whitespace().nth(1).unwrap().parse::<f64>().unwrap() / 1024.0
}

/// CPU share of one core over `window`.
async fn cpu_share(pid: u32, window: Duration) -> f64 {
    let (cpu, wall) = (cpu_seconds(pid), Instant::now());
    tokio::time::sleep(window).await;
    (cpu_seconds(pid) - cpu) / wall.elapsed().as_secs_f64()
}

fn text(value: &str) -> Value {
    Value { kind: Some(Kind::StringValue(value.to_owned())) }
}

fn dca(pair: &str, n: usize) -> pb::BotConfig {
    // ETH/BTC is priced in BTC: its bots buy in BTC amounts.
    let (amount, budget) = if pair.ends_with("/BTC") { ("0.0005", "1") } else { ("10", "100000") };
    let params = [
        ("quote_amount", text(amount)),
        ("interval_minutes", Value { kind: Some(Kind::NumberValue(1.0)) }),
        ("drop_trigger_percent", text("0.2")),
        ("drop_extra_quote", text(amount)),
        ("take_profit_percent", text("1")),
    ];
    pb::BotConfig {
        name: Some(format!("fleet {n}")),
        trading_pair: Some(pair.to_owned()),
        strategy: Some("dca_accumulator".to_owned()),
        strategy_params: Some(Struct { fields: params.into_iter().map(|(k, v)| (k.to_owned(), v)).collect() }),
        budget: Some(budget.to_owned()),
        is_dry_run: Some(true),
        ..pb::BotConfig::default()
    }
}

fn tail(log: &str) -> String {
    let lines: Vec<&str> = log.lines().collect();
    lines[lines.len().saturating_sub(8)..].join("\n")
}

#[tokio::main]
async fn main() {
    let synthetic = SYNTHETIC.to_string();
    let sim = Sim::start_with_flags(&["--speed", "60", "--synthetic", &synthetic]).await;
    let config = sim.config_dir(DEMO_SECRET);
    let exchanges = std::fs::read_to_string(config.path().join("exchanges.yaml")).unwrap();
    let limits = "    rate_limits:\n      weight_per_second: 200\n      order_actions_per_second: 50\n";
    std::fs::write(config.path().join("exchanges.yaml"), format!("{exchanges}{limits}")).unwrap();
    let data = tempfile::tempdir().unwrap();
    let daemon = Daemon::start_with(config.path(), data.path(), ANY_PORT).await;
    let pid = daemon.pid();

    let mut pairs: Vec<String> =
        ["BTC/USDT", "ETH/USDT", "ETH/BTC", "LTC/USDT", "XRP/USDT"].iter().map(|p| (*p).to_owned()).collect();
    pairs.extend((b'A'..b'A' + SYNTHETIC).map(|l| format!("SYN{}/USDT", char::from(l))));

    let idle_cpu = cpu_share(pid, IDLE).await;
    let idle_rss = memory_mb(pid, "VmRSS");

    let bots = daemon.bots().await;
    let ids: Vec<i64> = stream::iter(0..BOTS)
        .map(|n| {
            let (mut bots, config) = (bots.clone(), dca(&pairs[n % pairs.len()], n));
            async move { bots.create_bot(pb::CreateBotRequest { config: Some(config) }).await.unwrap().into_inner().id }
        })
        .buffer_unordered(32)
        .collect()
        .await;
    let started = Instant::now();
    stream::iter(ids.clone())
        .for_each_concurrent(32, |id| {
            let mut bots = bots.clone();
            async move {
                bots.start_bot(pb::StartBotRequest { id }).await.unwrap();
            }
        })
        .await;
    let start_time = started.elapsed();
    tokio::time::sleep(WARM_UP).await;
    let cpu = cpu_share(pid, measure()).await;
    let (rss, peak) = (memory_mb(pid, "VmRSS"), memory_mb(pid, "VmHWM"));
    let log_path = std::fs::read_dir(data.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|e| e == "log"))
        .unwrap();
    assert_eq!(daemon.terminate().await, 0, "graceful shutdown");
    let log = std::fs::read_to_string(&log_path).unwrap();
    let summary = log
        .lines()
        .rev()
        .find_map(|l| {
            l.split_once("runtime stopping: ").map(|(_, s)| s.split('\u{1b}').next().unwrap_or(s).trim().to_owned())
        })
        .unwrap_or_else(|| {
            format!("no runtime summary in {} ({} bytes):\n{}", log_path.display(), log.len(), tail(&log))
        });

    println!(
        "fleet: {BOTS} dry-run DCA bots on {} pairs (5 replayed real, {SYNTHETIC} synthetic), sim at 60x",
        pairs.len()
    );
    println!("  start of all bots over gRPC: {:.1} s", start_time.as_secs_f64());
    println!(
        "  CPU over {} s: {:.0}% of one core ({:.0}% of 2 cores); idle daemon baseline {:.1}%",
        measure().as_secs(),
        cpu * 100.0,
        cpu * 50.0,
        idle_cpu * 100.0
    );
    println!(
        "  resident memory: {rss:.0} MB (peak {peak:.0} MB); idle baseline {idle_rss:.0} MB, ratio {:.1}x; target < 300 MB: {}",
        rss / idle_rss,
        if peak < 300.0 { "met" } else { "NOT met" }
    );
    println!("  runtime: {summary}");
    println!("  keeping up (CPU below the 2 cores): {}", if cpu < 2.0 { "yes" } else { "NO" });
}
