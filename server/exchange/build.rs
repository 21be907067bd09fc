//! Compiles the MEXC WebSocket push schema (pure Rust: protox, no system `protoc`).

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let schema = "proto/mexc_push_v3.proto";
    let descriptors = protox::compile([schema], ["proto"])?;
    prost_build::Config::new().compile_fds(descriptors)?;
    println!("cargo:rerun-if-changed={schema}");
    Ok(())
}
