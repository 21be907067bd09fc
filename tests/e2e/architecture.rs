//! Architecture rules as tests: dependency direction and the purity of the domain.

use std::{collections::BTreeMap, process::Command};

use serde_json::Value;

use crate::helpers::repo_root;

/// Workspace crates each crate may depend on (normal dependencies).
const ALLOWED: &[(&str, &[&str])] = &[
    ("domain", &[]),
    ("tradingbot-proto", &[]),
    ("boundary", &[]),
    ("store", &["domain"]),
    ("engine", &["domain"]),
    ("candles", &["domain"]),
    ("feeds", &["domain"]),
    ("exchange", &["domain"]),
    ("mexc-sim", &["domain"]),
    ("tradingd", &["domain", "store", "engine", "candles", "feeds", "exchange", "tradingbot-proto", "boundary"]),
    ("tradingctl", &["domain", "tradingbot-proto", "boundary"]),
    ("gateway", &["tradingbot-proto", "boundary"]),
];

/// External crates the pure domain may use.
const DOMAIN_EXTERNAL: &[&str] = &["itoa", "rust_decimal", "rust_decimal_macros", "serde", "thiserror"];

/// Crates that must stay pure (no I/O, clock, randomness): only `domain` and these.
const PURE: &[&str] = &["domain", "engine"];

#[test]
fn dependencies_point_inward_only() {
    let output = Command::new(env!("CARGO"))
        .args(["metadata", "--format-version", "1", "--no-deps", "--offline"])
        .current_dir(repo_root())
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let metadata: Value = serde_json::from_slice(&output.stdout).unwrap();
    let packages = metadata["packages"].as_array().unwrap();
    let members: Vec<&str> = packages.iter().map(|p| p["name"].as_str().unwrap()).collect();
    let allowed: BTreeMap<&str, &[&str]> = ALLOWED.iter().copied().collect();
    for package in packages {
        let name = package["name"].as_str().unwrap();
        let normal = package["dependencies"].as_array().unwrap().iter().filter(|d| d["kind"].is_null());
        for dep in normal {
            let dep_name = dep["name"].as_str().unwrap();
            if members.contains(&dep_name) {
                let Some(ok) = allowed.get(name) else { continue };
                assert!(ok.contains(&dep_name), "{name} must not depend on {dep_name}");
            } else if PURE.contains(&name) {
                assert!(DOMAIN_EXTERNAL.contains(&dep_name), "{name} must stay pure; {dep_name} is not allowed");
            }
        }
    }
}

/// Every `.rs` file under `dir`, recursively.
fn rust_files(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files.extend(rust_files(&path));
        } else if path.extension().is_some_and(|e| e == "rs") {
            files.push(path);
        }
    }
    files
}

#[test]
fn only_the_live_executor_sends_orders() {
    // The executor accepts only `risk::Approved` intents, so this pins "no unchecked order".
    let allowed = repo_root().join("server/tradingd/src/runtime/executor/live.rs");
    let mut callers = Vec::new();
    for crate_dir in ["server/tradingd", "server/engine", "server/store", "server/feeds", "gateway", "cli"] {
        for path in rust_files(&repo_root().join(crate_dir)) {
            let text = std::fs::read_to_string(&path).unwrap();
            if text.contains(".place_order(") && path != allowed {
                callers.push(path.display().to_string());
            }
        }
    }
    assert!(callers.is_empty(), "orders may only be sent by the live executor; also sent from {callers:?}");
    let live = std::fs::read_to_string(&allowed).unwrap();
    assert!(live.contains(".place_order("), "the live executor is where orders are sent");
}

#[test]
fn the_daemons_api_and_backtests_open_no_files_but_the_candle_store() {
    // Requests name no paths the daemon would open: the gRPC services and the backtest service
    // touch no file system; uploaded candles are read and written by `candle_store` alone, by id.
    let tradingd = repo_root().join("server/tradingd/src");
    let mut files = rust_files(&tradingd.join("grpc"));
    files.push(tradingd.join("backtests.rs"));
    let mut openers = Vec::new();
    for path in files {
        let text = std::fs::read_to_string(&path).unwrap();
        for banned in ["fs::", "File::", "PathBuf", "OpenOptions"] {
            if text.contains(banned) {
                openers.push(format!("{} uses {banned}", path.display()));
            }
        }
    }
    assert!(openers.is_empty(), "only candle_store may touch files for a request: {openers:?}");
}

#[test]
fn the_domain_reads_no_clock_randomness_or_floats() {
    let banned = [
        "SystemTime::now",
        "Instant::now",
        "HashMap",
        "HashSet",
        "f64",
        "f32",
        "rand::",
        "tokio",
        "std::fs",
        "std::net",
    ];
    let dir = repo_root().join("server/domain/src");
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let text = std::fs::read_to_string(&path).unwrap();
        for (number, line) in text.lines().enumerate() {
            let code = line.split("//").next().unwrap_or_default();
            for word in banned {
                assert!(!code.contains(word), "{}:{}: `{word}` is banned in the domain", path.display(), number + 1);
            }
        }
    }
}
