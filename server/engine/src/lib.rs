//! The sans-IO trading core.
//!
//! Owns (as the engine issue fills it in): the bot as a value driven by
//! `handle(now, input) -> outputs`, strategies, indicators, auto mode, risk approval, the
//! virtual wallet, the paper-fill model and the backtest driver. The same code runs in
//! backtests, dry runs and live trading. Built so far: [`wallet`], [`paper`], [`intent`], [`risk`] (the only maker of
//! [`risk::Approved`]) the DCA Accumulator decision in [`strategy`], and the
//! [`bot::Bot`] that ties them together.
//!
//! **Architecture Invariant:** no I/O, no clock, no randomness, no hash-ordered collections:
//! the crate depends on `domain` (and the decimal and error crates) only, checked by
//! `tests/e2e/architecture.rs`; its `clippy.toml` bans the clock and randomness APIs.
#![deny(clippy::float_arithmetic)]

pub mod arbitrage;
pub mod backtest;
pub mod bot;
pub mod guard;
pub mod indicators;
pub mod intent;
pub mod kelly;
pub mod paper;
pub mod risk;
pub mod rotation;
pub mod strategy;
pub mod wallet;

/// Fixtures shared by the crate's tests.
#[cfg(test)]
mod testing {
    use domain::{
        money::{Qty, Quote},
        symbol::SymbolRules,
    };
    use rust_decimal::Decimal;
    use rust_decimal_macros::dec;

    /// BTC/USDT with MEXC's precision: prices to 0.01, quantities to 0.000001, 1 USDT minimum.
    pub(crate) fn btc_usdt() -> SymbolRules {
        rules("BTC/USDT", 2, 6, dec!(1))
    }

    /// The rules of `pair`: prices and quantities to so many decimals, the smallest quantity
    /// one step, and a minimum order value.
    pub(crate) fn rules(pair: &str, price_scale: u32, qty_scale: u32, min_notional: Decimal) -> SymbolRules {
        SymbolRules {
            pair: pair.parse().unwrap(),
            price_scale,
            qty_scale,
            min_qty: Qty::new(Decimal::new(1, qty_scale)),
            min_notional: Quote::new(min_notional),
        }
    }
}
