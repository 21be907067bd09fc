//! `tradingctl backtest` through the daemon, on the bundled real data.

use serde_json::Value;

use crate::helpers::{Daemon, ctl, repo_root};

#[tokio::test]
async fn a_backtest_on_the_bundled_data_reports_trades_and_writes_the_equity_curve() {
    let data = tempfile::tempdir().unwrap();
    let daemon = Daemon::start(&data).await;
    let candles = repo_root().join("server/mexc-sim/data/binance_BTCUSDT_1m.csv");
    let equity = data.path().join("equity.csv");
    let (candles, equity_arg) = (candles.display().to_string(), equity.display().to_string());
    let args = [
        "--json",
        "backtest",
        "--strategy",
        "mean_reversion",
        "--pair",
        "BTC/USDT",
        "--data",
        &candles,
        "--fee",
        "0.001",
        "--budget",
        "1000",
        "--equity-csv",
        &equity_arg,
    ];
    let out = ctl(&daemon.url, &args);
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    let report: Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(report["candles"], 42_913);
    // The daemon runs the same engine as the engine's own snapshot test of this data.
    assert_eq!(report["trade_count"], 1_703);
    assert_eq!((report["wins"].as_u64(), report["losses"].as_u64()), (Some(308), Some(543)));
    assert_eq!(report["fee_rate"], "0.001");
    assert_eq!(report["trades"][0]["side"], "buy");
    assert!(report["trades"][0]["reason"].as_str().unwrap().starts_with("entry: close"));
    let curve = std::fs::read_to_string(&equity).unwrap();
    assert_eq!(curve.lines().count(), 42_914, "a header and one row per candle");
    assert!(curve.starts_with("at,equity\n2021-04-20T20:43:00.000Z,1000\n"), "{}", &curve[..80]);

    let table = ctl(&daemon.url, &args[1..12]);
    assert_eq!(table.code, 0, "{}", table.stderr);
    assert!(table.stdout.contains("total_pnl") && table.stdout.contains("1683 more trades"), "{}", table.stdout);
}

#[tokio::test]
async fn backtest_requests_are_checked_field_by_field() {
    let data = tempfile::tempdir().unwrap();
    let daemon = Daemon::start(&data).await;
    let out = ctl(
        &daemon.url,
        &[
            "backtest",
            "--strategy",
            "mean_reversion",
            "--pair",
            "BTC/USDT",
            "--data",
            "/nonexistent.csv",
            "--param",
            "period=1",
            "--fee",
            "0.5",
        ],
    );
    assert_eq!(out.code, 1, "{}", out.stdout);
    assert!(out.stderr.contains("strategy_params.period: 1 is out of range"), "{}", out.stderr);
    assert!(out.stderr.contains("data_path: cannot read /nonexistent.csv"), "{}", out.stderr);
    assert!(out.stderr.contains("fee: 0.5 is out of range"), "{}", out.stderr);
}
