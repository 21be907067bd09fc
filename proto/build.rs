//! Compiles `tradingbot/v1/*.proto` in pure Rust (protox, no system `protoc`) into tonic/prost
//! code and writes the descriptor set that gRPC reflection serves.

use std::{env, fs, path::PathBuf};

use prost::Message;

const PROTOS: &[&str] = &[
    "tradingbot/v1/common.proto",
    "tradingbot/v1/bots.proto",
    "tradingbot/v1/reports.proto",
    "tradingbot/v1/config.proto",
    "tradingbot/v1/events.proto",
    "tradingbot/v1/alerts.proto",
    "tradingbot/v1/exchanges.proto",
    "tradingbot/v1/backtest.proto",
];

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let out_dir = PathBuf::from(env::var("OUT_DIR")?);
    let descriptors = protox::compile(PROTOS, ["."])?;
    fs::write(out_dir.join("tradingbot_descriptor.bin"), descriptors.encode_to_vec())?;
    tonic_prost_build::configure().compile_fds(descriptors)?;
    for proto in PROTOS {
        println!("cargo:rerun-if-changed={proto}");
    }
    Ok(())
}
