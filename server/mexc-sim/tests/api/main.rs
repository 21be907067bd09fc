//! The simulator over real loopback HTTP and WebSocket, as a MEXC client sees it.

#![allow(missing_docs, unreachable_pub, clippy::unwrap_used)]

mod faults;
mod helpers;
mod orders;
mod public;
mod signed;
mod ws;
