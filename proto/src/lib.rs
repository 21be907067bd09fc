//! The tradingbot v1 gRPC API, generated from `proto/tradingbot/v1/*.proto`.
//!
//! This crate owns the wire types of the control plane and nothing else: the protobuf
//! messages and services, and their JSON rendering (`json`) shared by the REST API and
//! `tradingctl --json`. No domain conversions, no logic. Conversions into domain types happen once, in the crate that receives a message
//! (`tradingd::grpc` on the server side, `gateway` and `tradingctl` on the client side).
//! The conventions (decimal strings for money, RFC 3339 timestamps) are documented in
//! `common.proto`.

/// Generated messages and services of package `tradingbot.v1`.
#[allow(missing_docs, unreachable_pub, clippy::all, clippy::pedantic, rust_2018_idioms)]
pub mod v1 {
    tonic::include_proto!("tradingbot.v1");
}

/// Encoded `FileDescriptorSet` of the API, for gRPC server reflection.
pub const FILE_DESCRIPTOR_SET: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/tradingbot_descriptor.bin"));

pub mod json;
