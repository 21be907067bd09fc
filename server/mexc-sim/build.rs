//! Compiles the MEXC push schema shared with the adapter (`server/exchange/proto`) in pure Rust
//! (protox, no system `protoc`) into the simulator's private `pb` module.

use std::path::Path;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = Path::new("../exchange/proto");
    let file = "mexc_push_v3.proto";
    let descriptors = protox::compile([file], [dir])?;
    prost_build::Config::new().compile_fds(descriptors)?;
    println!("cargo:rerun-if-changed={}", dir.join(file).display());
    Ok(())
}
