//! The sans-IO trading core (filled in by the engine issue).
//!
//! Will own: the bot as a value driven by `handle(now, input) -> outputs`, strategies,
//! indicators, auto mode, risk approval, the virtual wallet, the paper-fill model and the
//! backtest driver. The same code runs in backtests, dry runs and live trading.
//!
//! **Architecture Invariant:** no I/O, no clock, no randomness, no hash-ordered collections:
//! the crate depends on `domain` only (checked by `tests/e2e/architecture.rs`), and its
//! `clippy.toml` bans the clock and randomness APIs.
