//! The domain of tradingbot: the types every other crate speaks.
//!
//! Owns money newtypes, timestamps, trading pairs, strategy parameter schemas, bot
//! configuration with its validation, the bot lifecycle table and domain events.
//!
//! **Architecture Invariant:** this crate is pure. It never does I/O, never reads a clock or a
//! random source, never uses hash-ordered collections and never uses `f64` (money is
//! `rust_decimal::Decimal`). `clippy.toml` bans the offending APIs and `tests/purity.rs`
//! backs that up.
#![deny(clippy::float_arithmetic)]

pub mod alert;
pub mod bot;
pub mod candle;
pub mod event;
pub mod feed;
mod macros;
pub mod money;
pub mod order;
pub mod pair;
pub mod strategy;
pub mod symbol;
pub mod time;
pub mod validation;
