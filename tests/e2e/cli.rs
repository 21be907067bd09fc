//! `tradingctl` against a live daemon: tables, JSON, exit codes.

use serde_json::Value;

use crate::helpers::{CLOSED_URL, Daemon, ctl};

#[tokio::test]
async fn manages_a_bot_end_to_end_with_json_output() {
    let data = tempfile::tempdir().unwrap();
    let daemon = Daemon::start(&data).await;
    let addr = daemon.url.clone();
    let created = ctl(
        &addr,
        &[
            "--json",
            "create",
            "--pair",
            "ethusdt",
            "--strategy",
            "dca_accumulator",
            "--budget",
            "75.50",
            "--param",
            "quote_amount=2.5",
            "--running-time",
            "3d",
        ],
    );
    assert_eq!(created.code, 0, "{}", created.stderr);
    let bot: Value = serde_json::from_str(&created.stdout).unwrap();
    let id = bot["id"].to_string();
    assert_eq!(bot["trading_pair"], "ETH/USDT");
    assert_eq!(bot["budget"], "75.5");
    assert_eq!(bot["running_time_hours"], 72);
    assert_eq!(bot["strategy_params"]["quote_amount"], "2.5");
    assert_eq!(bot["strategy_params"]["interval_minutes"], 60);

    assert_eq!(ctl(&addr, &["start", &id]).code, 0);
    let table = ctl(&addr, &["list"]);
    assert!(table.stdout.contains("ETH/USDT") && table.stdout.contains("running"), "{}", table.stdout);

    let refused = ctl(&addr, &["update", &id, "--budget", "10"]);
    assert_eq!(refused.code, 1, "a rejected request exits 1");
    assert!(refused.stderr.contains("pause or stop it before editing"), "{}", refused.stderr);

    let no_choice = ctl(&addr, &["stop", &id]);
    assert_eq!(no_choice.code, 2, "stop without a terminal must be told what to do with pending orders");
    assert!(no_choice.stderr.contains("--cancel-pending or --keep-pending"));
    let stopped = ctl(&addr, &["--json", "stop", &id, "--cancel-pending"]);
    assert_eq!(serde_json::from_str::<Value>(&stopped.stdout).unwrap()["status"], "stopped");

    let stats: Value = serde_json::from_str(&ctl(&addr, &["--json", "stats"]).stdout).unwrap();
    assert_eq!(stats["bots_stopped"], 1);
}

#[tokio::test]
async fn invalid_input_is_explained_field_by_field() {
    let data = tempfile::tempdir().unwrap();
    let daemon = Daemon::start(&data).await;
    let out = ctl(
        &daemon.url,
        &["create", "--pair", "BTC/USDT", "--strategy", "adaptive_grid", "--budget", "-3", "--param", "grid_count=500"],
    );
    assert_eq!(out.code, 1);
    assert!(out.stderr.contains("budget: -3 is out of range; expected a number greater than 0"), "{}", out.stderr);
    assert!(
        out.stderr.contains("strategy_params.grid_count: 500 is out of range; expected a whole number from 2 to 200"),
        "{}",
        out.stderr
    );
}

#[test]
fn exit_codes_distinguish_usage_and_unreachable_daemon() {
    let unreachable = ctl(CLOSED_URL, &["list"]);
    assert_eq!(unreachable.code, 3);
    assert!(unreachable.stderr.contains("cannot reach the daemon"), "{}", unreachable.stderr);
    let usage = ctl("http://127.0.0.1:1", &["start"]);
    assert_eq!(usage.code, 2);
    let completions = ctl("http://127.0.0.1:1", &["completions", "bash"]);
    assert_eq!(completions.code, 0);
    assert!(completions.stdout.contains("tradingctl"));
}

#[tokio::test]
async fn strategies_show_every_schema() {
    let data = tempfile::tempdir().unwrap();
    let daemon = Daemon::start(&data).await;
    let out = ctl(&daemon.url, &["--json", "strategies"]);
    let strategies: Value = serde_json::from_str(&out.stdout).unwrap();
    let ids: Vec<&str> = strategies.as_array().unwrap().iter().map(|s| s["id"].as_str().unwrap()).collect();
    assert_eq!(
        ids,
        [
            "adaptive_grid",
            "dca_accumulator",
            "breakdown_momentum",
            "mean_reversion",
            "event_filler",
            "twap",
            "vwap",
            "arbitrage",
            "auto"
        ]
    );
    let mean_reversion = &strategies[3]["params"];
    assert_eq!(mean_reversion[0]["name"], "period");
    assert_eq!(mean_reversion[0]["default"], 20);
    assert_eq!(mean_reversion[1]["default"], "2");
}
