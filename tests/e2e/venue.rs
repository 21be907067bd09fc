//! The daemon and third-party clients against the local MEXC-compatible venue.

use std::process::Command;

use serde_json::Value;

use crate::helpers::{ANY_PORT, DEMO_SECRET, Daemon, Sim, ctl, repo_root};

#[tokio::test]
async fn exchange_check_verifies_keys_clock_symbols_and_balances() {
    let sim = Sim::start().await;
    let config = sim.config_dir(DEMO_SECRET);
    let data = tempfile::tempdir().unwrap();
    let daemon = Daemon::start_with(config.path(), data.path(), ANY_PORT).await;
    let out = ctl(&daemon.url, &["--json", "exchange", "check"]);
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    let check: Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(check["reachable"], true);
    assert_eq!(check["keys_valid"], true);
    assert!(check["problems"].as_array().unwrap().is_empty(), "{check}");
    let pairs: Vec<&str> = check["symbols"].as_array().unwrap().iter().map(|s| s["pair"].as_str().unwrap()).collect();
    assert!(pairs.contains(&"BTC/USDT"), "{pairs:?}");
    let usdt = check["balances"].as_array().unwrap().iter().find(|b| b["asset"] == "USDT").unwrap();
    assert_eq!(usdt["free"], "100000");

    let listed = ctl(&daemon.url, &["--json", "pairs"]);
    let listed: Value = serde_json::from_str(&listed.stdout).unwrap();
    assert!(listed.as_array().unwrap().iter().any(|p| p["pair"] == "ETH/BTC"));
}

#[tokio::test]
async fn exchange_check_explains_a_refused_key() {
    let sim = Sim::start().await;
    let config = sim.config_dir("wrong-secret");
    let data = tempfile::tempdir().unwrap();
    let daemon = Daemon::start_with(config.path(), data.path(), ANY_PORT).await;
    let out = ctl(&daemon.url, &["exchange", "check"]);
    assert_eq!(out.code, 1, "a failed check exits 1");
    assert!(out.stdout.contains("keys valid:   NO"), "{}", out.stdout);
    assert!(out.stdout.contains("the API key was refused"), "{}", out.stdout);
}

#[tokio::test]
async fn an_unmodified_ccxt_client_trades_against_the_simulator() {
    let sim = Sim::start().await;
    let script = repo_root().join("tests/python/ccxt_against_sim.py");
    let rest = sim.rest_url.clone();
    let output = tokio::task::spawn_blocking(move || {
        Command::new("python3").arg(script).args([&rest, "mx0vglDEMOKEY0000000000", DEMO_SECRET]).output()
    })
    .await
    .unwrap()
    .expect("python3 runs (install tests/python/requirements.txt)");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "ccxt failed:\n{stdout}\n{}", String::from_utf8_lossy(&output.stderr));
    assert!(stdout.contains("ccxt: all steps passed"), "{stdout}");
}
