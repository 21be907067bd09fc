//! Shared by the engine's tests and benchmarks: reviewed snapshots (a missing one is written,
//! `UPDATE_EXPECT=1` rewrites them all, a difference is reported with both texts) and the
//! BTC/USDT symbol rules.
// Each user takes what it needs.
#![allow(dead_code)]

use std::{fs, path::Path};

use domain::{
    money::{Qty, Quote},
    symbol::SymbolRules,
};
use rust_decimal::Decimal;

/// BTC/USDT with MEXC's precision: prices to 0.01, quantities to 0.000001, 1 USDT minimum.
pub(crate) fn btc_usdt() -> SymbolRules {
    SymbolRules {
        pair: "BTC/USDT".parse().unwrap_or_else(|e| panic!("{e}")),
        price_scale: 2,
        qty_scale: 6,
        min_qty: Qty::new(Decimal::new(1, 6)),
        min_notional: Quote::new(Decimal::ONE),
    }
}

/// Compares `actual` with the snapshot at `path`; the failure text when they differ.
pub(crate) fn check(path: &Path, actual: &str) -> Option<String> {
    let update = std::env::var_os("UPDATE_EXPECT").is_some();
    match fs::read_to_string(path) {
        Ok(expected) if !update => {
            (expected != actual).then(|| format!("{}:\n--- expected\n{expected}--- actual\n{actual}", path.display()))
        }
        _ => {
            fs::write(path, actual).unwrap_or_else(|e| panic!("cannot write {}: {e}", path.display()));
            None
        }
    }
}
