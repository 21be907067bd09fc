//! End-to-end tests: the real binaries on loopback, driven through gRPC, REST, WebSocket,
//! the CLI and a Python script, plus the architecture rules checked as tests.
// Test code: a failed unwrap is a failed test with its location.
#![allow(clippy::unwrap_used)]

mod alerts;
mod architecture;
mod backtest;
mod boundary;
mod cli;
mod config;
mod daemon;
mod endpoints;
mod helpers;
mod processes;
mod rest;
mod scripting;
mod trading;
mod ui;
mod venue;
