//! `mexc-sim`: runs the local MEXC-compatible venue until Ctrl-C / SIGTERM.

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use clap::Parser;
use mexc_sim::{MarketSource, SimConfig, Simulator};
use rust_decimal::Decimal;

/// A local MEXC-compatible spot venue (REST v3 + protobuf WebSocket) replaying real market data.
#[derive(Debug, Parser)]
#[command(version)]
struct Args {
    /// Address to listen on (port 0: any free port). The bound address is printed to stdout
    /// as `listening on HOST:PORT` once the simulator serves.
    #[arg(long, default_value = "127.0.0.1:9090")]
    listen: String,
    /// Directory of the bundled candles (`binance_<SYMBOL>_1m.csv`); found automatically if absent.
    #[arg(long)]
    data: Option<PathBuf>,
    /// Simulated seconds per wall second.
    #[arg(long, default_value_t = 60.0)]
    speed: f64,
    /// Seed of the market model.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Follow a seeded random walk instead of replaying the recorded candles.
    #[arg(long)]
    random_walk: bool,
    /// Add this many seeded random-walk pairs (SYNAUSDT, SYNBUSDT, ...) for load tests.
    #[arg(long, default_value_t = 0, value_parser = clap::value_parser!(u8).range(0..=26))]
    synthetic: u8,
}

/// The bundled data directory: beside the crate sources for `cargo run`, relative to the
/// executable for `target/<profile>/mexc-sim`, or below the current directory.
fn find_data_dir() -> Option<PathBuf> {
    let marker = |dir: &Path| dir.join("binance_BTCUSDT_1m.csv").is_file();
    let mut candidates = vec![PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("data")];
    if let Ok(exe) = std::env::current_exe() {
        candidates.extend(exe.ancestors().skip(1).map(|dir| dir.join("server/mexc-sim/data")));
    }
    if let Ok(cwd) = std::env::current_dir() {
        candidates.extend([cwd.join("server/mexc-sim/data"), cwd.join("data")]);
    }
    candidates.into_iter().find(|dir| marker(dir))
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt().with_env_filter(tracing_subscriber::EnvFilter::new("info")).init();
    let args = Args::parse();
    let mut config = if args.random_walk {
        let mut config = SimConfig::demo(Path::new("."));
        let symbols = mexc_sim::BUNDLED_SYMBOLS.iter().map(|s| ((*s).to_owned(), Decimal::from(100))).collect();
        config.market = MarketSource::RandomWalk { symbols };
        config
    } else {
        let Some(data) = args.data.or_else(find_data_dir) else {
            bail!("bundled candles not found: pass --data <dir> (the crate's server/mexc-sim/data)");
        };
        SimConfig::demo(&data)
    };
    config.speed = args.speed;
    config.seed = args.seed;
    config.synthetic = (b'A'..b'A' + args.synthetic).map(|letter| format!("SYN{}USDT", char::from(letter))).collect();
    let listener = tokio::net::TcpListener::bind(&args.listen)
        .await
        .with_context(|| format!("cannot listen on {}", args.listen))?;
    let handle = Simulator::try_start(config, listener).await?;
    // One machine-readable line with the address actually bound (`--listen 127.0.0.1:0` picks
    // a free port), for scripts and tests that start the simulator.
    println!("listening on {}", handle.addr());
    println!("mexc-sim: REST {} WebSocket {}", handle.rest_url(), handle.ws_url());
    shutdown_signal().await;
    handle.shutdown().await;
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let Ok(mut term) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) else {
            return ctrl_c.await.unwrap_or_default();
        };
        tokio::select! {
            _ = ctrl_c => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    ctrl_c.await.unwrap_or_default();
}
