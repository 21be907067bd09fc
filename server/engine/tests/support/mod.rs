//! Shared by the engine's tests and benchmarks: reviewed snapshots (a missing one fails the
//! test, `UPDATE_EXPECT=1` and only that writes them, a difference is reported with both texts)
//! and the BTC/USDT symbol rules.
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

/// Whether `UPDATE_EXPECT` asks for snapshots to be (re)written: only the value `1` does, so
/// `UPDATE_EXPECT=0` or an empty value left in a shell never rewrites a reviewed snapshot.
fn updating(value: Option<&std::ffi::OsStr>) -> bool {
    value.is_some_and(|v| v == "1")
}

/// Compares `actual` with the snapshot at `path`; the failure text when they differ or the
/// snapshot is missing. With `UPDATE_EXPECT=1` the snapshot is written instead and the
/// comparison passes: the new text is reviewed in the diff like code.
pub(crate) fn check(path: &Path, actual: &str) -> Option<String> {
    if updating(std::env::var_os("UPDATE_EXPECT").as_deref()) {
        fs::write(path, actual).unwrap_or_else(|e| panic!("cannot write {}: {e}", path.display()));
        return None;
    }
    compare(path, actual)
}

/// The comparison alone, never writing: a missing snapshot is a failure that says how to make it.
fn compare(path: &Path, actual: &str) -> Option<String> {
    match fs::read_to_string(path) {
        Ok(expected) => {
            (expected != actual).then(|| format!("{}:\n--- expected\n{expected}--- actual\n{actual}", path.display()))
        }
        Err(e) => Some(format!(
            "{}: no snapshot ({e}); run the test with UPDATE_EXPECT=1 to write it, then review it\n--- actual\n{actual}",
            path.display()
        )),
    }
}

#[test]
fn a_missing_snapshot_fails_and_only_update_expect_1_writes() {
    let dir = std::env::temp_dir().join(format!("engine-snapshot-check-{}", std::process::id()));
    fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{e}"));
    let path = dir.join("missing.snap");
    let _ = fs::remove_file(&path);
    let failure = compare(&path, "text\n").unwrap_or_else(|| panic!("a missing snapshot passed"));
    assert!(failure.contains("UPDATE_EXPECT=1"), "{failure}");
    assert!(!path.exists(), "a missing snapshot was written by a plain run");
    fs::write(&path, "other\n").unwrap_or_else(|e| panic!("{e}"));
    assert!(compare(&path, "text\n").is_some(), "a different snapshot passed");
    assert!(compare(&path, "other\n").is_none(), "the same text failed");
    for (value, writes) in
        [(None, false), (Some("0"), false), (Some(""), false), (Some("yes"), false), (Some("1"), true)]
    {
        assert_eq!(updating(value.map(std::ffi::OsStr::new)), writes, "UPDATE_EXPECT={value:?}");
    }
    let _ = fs::remove_dir_all(&dir);
}
