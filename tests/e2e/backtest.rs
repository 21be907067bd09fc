//! `tradingctl backtest` through the daemon, on the bundled real data.

use rust_decimal::Decimal;
use serde_json::Value;

use crate::helpers::{DEMO_SECRET, Daemon, Sim, ctl, free_port, repo_root};

/// `tradingctl --json backtest` of `strategy` on the bundled BTC/USDT candles at `candles`,
/// 0.1 % fees and a 1,000 USDT budget.
fn on_bundled_btc<'a>(strategy: &'a str, candles: &'a str) -> Vec<&'a str> {
    let run = ["backtest", "--strategy", strategy, "--pair", "BTC/USDT", "--data", candles];
    ["--json"].into_iter().chain(run).chain(["--fee", "0.001", "--budget", "1000"]).collect()
}

#[tokio::test]
async fn a_backtest_on_the_bundled_data_reports_trades_and_writes_the_equity_curve() {
    let data = tempfile::tempdir().unwrap();
    let daemon = Daemon::start(&data).await;
    let candles = repo_root().join("server/mexc-sim/data/binance_BTCUSDT_1m.csv");
    let equity = data.path().join("equity.csv");
    let (candles, equity_arg) = (candles.display().to_string(), equity.display().to_string());
    let mut args = on_bundled_btc("mean_reversion", &candles);
    args.extend(["--equity-csv", &equity_arg]);
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
async fn a_grid_backtest_fills_its_limit_orders_on_the_candles_ranges() {
    let data = tempfile::tempdir().unwrap();
    let daemon = Daemon::start(&data).await;
    let candles = repo_root().join("server/mexc-sim/data/binance_BTCUSDT_1m.csv").display().to_string();
    let out = ctl(&daemon.url, &on_bundled_btc("adaptive_grid", &candles));
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    let report: Value = serde_json::from_str(&out.stdout).unwrap();
    // The same run as the engine's snapshot of this data.
    assert_eq!(report["trade_count"], 7_364);
    let first = &report["trades"][0];
    assert!(first["reason"].as_str().unwrap().starts_with("grid buy at level 7 of 10"), "{first}");
    assert_eq!(first["price"], "56906.4", "a limit buy fills at its level");
}

#[tokio::test]
async fn a_period_of_the_file_or_of_the_venue_history_and_risk_stops_can_be_chosen() {
    let data = tempfile::tempdir().unwrap();
    let daemon = Daemon::start(&data).await;
    let candles = repo_root().join("server/mexc-sim/data/binance_BTCUSDT_1m.csv").display().to_string();
    let run = |extra: &[&str]| {
        let mut args =
            vec!["--json", "backtest", "--strategy", "mean_reversion", "--pair", "BTC/USDT", "--fee", "0.001"];
        args.extend_from_slice(extra);
        let out = ctl(&daemon.url, &args);
        assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
        serde_json::from_str::<Value>(&out.stdout).unwrap()
    };
    // One day of the file: 2021-04-22 has 1,440 one-minute candles.
    let day = run(&["--data", &candles, "--from", "2021-04-22", "--to", "2021-04-23"]);
    assert_eq!(day["candles"], 1_440);
    assert_eq!(day["first_candle_at"], "2021-04-22T00:00:00.000Z");
    // A stop loss that trips pauses the run: far fewer trades than the same strategy alone.
    let plain = run(&["--data", &candles]);
    let stopped = run(&["--data", &candles, "--stop-loss-percent", "0.2"]);
    assert!(stopped["trade_count"].as_u64() < plain["trade_count"].as_u64(), "{stopped} vs {plain}");
    // Without a file, the venue's recent one-minute candles are used.
    let today = ctl(
        &daemon.url,
        &["--json", "backtest", "--strategy", "dca_accumulator", "--pair", "BTC/USDT", "--from", &today()],
    );
    assert_eq!(today.code, 0, "{}", today.stderr);
    let report: Value = serde_json::from_str(&today.stdout).unwrap();
    assert!(report["candles"].as_u64().unwrap() > 0, "{report}");
}

/// Today's date, UTC.
fn today() -> String {
    time::OffsetDateTime::now_utc().date().to_string()
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

#[tokio::test]
async fn an_arbitrage_backtest_replays_the_three_markets_of_its_triangle() {
    let data = tempfile::tempdir().unwrap();
    let daemon = Daemon::start(&data).await;
    let file =
        |symbol: &str| repo_root().join(format!("server/mexc-sim/data/binance_{symbol}_1m.csv")).display().to_string();
    let (eth, btc, eth_btc) = (file("ETHUSDT"), file("BTCUSDT"), file("ETHBTC"));
    let (btc_market, eth_btc_market) = (format!("BTC/USDT={btc}"), format!("ETHBTC={eth_btc}"));
    let base = ["--json", "backtest", "--strategy", "arbitrage", "--pair", "ETH/USDT", "--data", &eth];
    let run = |extra: &[&str]| {
        let args: Vec<&str> = base.iter().copied().chain(extra.iter().copied()).collect();
        ctl(&daemon.url, &args)
    };
    let out = run(&["--market-data", &btc_market, "--market-data", &eth_btc_market, "--fee", "0.001"]);
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    let report: Value = serde_json::from_str(&out.stdout).unwrap();
    // The same run as the engine's snapshot of this triangle: only the crash of 19 May opens
    // gaps past the default 0.2 % edge at 0.1 % per leg.
    assert_eq!(report["candles"], 42_913);
    assert_eq!(report["trade_count"], 27);
    let legs: Vec<&str> = (0..3).map(|i| report["trades"][i]["trading_pair"].as_str().unwrap()).collect();
    assert_eq!(legs, ["BTC/USDT", "ETH/BTC", "ETH/USDT"]);
    assert!(report["trades"][0]["reason"].as_str().unwrap().starts_with("arbitrage leg 1 of 3"));

    // Every problem of the request, by field.
    let out = run(&["--market-data", "LTC/USDT=/nowhere.csv", "--stop-loss-percent", "5"]);
    assert_eq!(out.code, 1, "{}", out.stdout);
    for expected in [
        "market_data.LTC/USDT: not a market this arbitrage trades; expected: BTC/USDT, ETH/BTC",
        "market_data: needs the candles of BTC/USDT",
        "market_data: needs the candles of ETH/BTC",
        "stops: risk stops do not apply to arbitrage",
    ] {
        assert!(out.stderr.contains(expected), "{expected}\n{}", out.stderr);
    }
}

#[tokio::test]
async fn a_cross_exchange_backtest_reads_the_second_venue_account() {
    // Two venue accounts (both on one simulator): the bot's and a second one.
    let sim = Sim::start().await;
    let config = sim.config_dir(DEMO_SECRET);
    let second = format!(
        "  backup:\n    kind: mexc\n    rest_url: {}\n    ws_url: {}\n    api_key: mx0vglDEMOKEY0000000000\n    api_secret: {DEMO_SECRET}\n",
        sim.rest_url, sim.ws_url
    );
    let exchanges = config.path().join("exchanges.yaml");
    let mut text = std::fs::read_to_string(&exchanges).unwrap();
    text.push_str(&second);
    std::fs::write(&exchanges, text).unwrap();
    let data = tempfile::tempdir().unwrap();
    let daemon = Daemon::start_with(config.path(), data.path(), free_port()).await;
    // The second venue: the bundled day of 2021-04-22, its closes 1 % dearer every other hour.
    let source = std::fs::read_to_string(repo_root().join("server/mexc-sim/data/binance_BTCUSDT_1m.csv")).unwrap();
    let (from, to) = (1_619_049_600_000_i64, 1_619_136_000_000_i64);
    let mut first = String::from("open_time_ms,open,high,low,close,volume\n");
    let mut dear = first.clone();
    for line in source.lines().skip(1) {
        let fields: Vec<&str> = line.split(',').collect();
        let at: i64 = fields[0].parse().unwrap();
        if at < from || at >= to {
            continue;
        }
        first.push_str(line);
        first.push('\n');
        let lift = if (at / 3_600_000) % 2 == 0 { "1.01" } else { "1" };
        let lifted: Vec<String> = fields[1..5]
            .iter()
            .map(|p| (p.parse::<Decimal>().unwrap() * lift.parse::<Decimal>().unwrap()).round_dp(2).to_string())
            .collect();
        dear.push_str(&format!("{},{},{}\n", fields[0], lifted.join(","), fields[5]));
    }
    let (first_file, dear_file) = (data.path().join("first.csv"), data.path().join("dear.csv"));
    std::fs::write(&first_file, first).unwrap();
    std::fs::write(&dear_file, dear).unwrap();
    let (first_path, market) = (first_file.display().to_string(), format!("backup={}", dear_file.display()));
    let args = [
        "--json",
        "backtest",
        "--strategy",
        "arbitrage",
        "--pair",
        "BTC/USDT",
        "--data",
        &first_path,
        "--param",
        "mode=cross_exchange",
        "--param",
        "second_exchange=backup",
        "--market-data",
        &market,
        "--fee",
        "0.001",
    ];
    let out = ctl(&daemon.url, &args);
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    let report: Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(report["candles"], 1_440);
    let trades = report["trades"].as_array().unwrap();
    assert!(trades.len() > 2, "a 1 % gap clears the 0.2 % edge after two fees: {report}");
    // Each venue buys its inventory first; then bought where it is cheap (the bot's venue),
    // sold where it is dear, at the same minute.
    let reasons: Vec<&str> = trades.iter().map(|t| t["reason"].as_str().unwrap()).collect();
    assert!(reasons[..2].iter().all(|r| r.starts_with("arbitrage inventory")), "{reasons:?}");
    assert_eq!((trades[2]["side"].as_str(), trades[3]["side"].as_str()), (Some("buy"), Some("sell")));
    assert_eq!(trades[2]["at"], trades[3]["at"]);
    assert!(report["realized_pnl"].as_str().unwrap().parse::<Decimal>().unwrap() > Decimal::ZERO, "{report}");

    // A second venue that is not configured is named as such.
    let unknown: Vec<&str> =
        args.iter().map(|a| if *a == "second_exchange=backup" { "second_exchange=nowhere" } else { a }).collect();
    let out = ctl(&daemon.url, &unknown);
    assert_eq!(out.code, 1, "{}", out.stdout);
    assert!(
        out.stderr.contains("strategy_params.second_exchange: no venue account named \"nowhere\""),
        "{}",
        out.stderr
    );
}
