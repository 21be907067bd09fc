//! `tradingctl backtest` through the daemon, on the bundled real data; candle files reach the
//! daemon as uploads, never as paths.

use std::time::Duration;

use rust_decimal::Decimal;
use serde_json::Value;
use sha2::{Digest, Sha256};
use tonic::Code;
use tonic_types::StatusExt;
use tradingbot_proto::v1 as pb;

use crate::helpers::{ANY_PORT, DEMO_SECRET, Daemon, Sim, ctl, repo_root, upload_candles};

/// `tradingctl --json backtest` of `strategy` on the bundled BTC/USDT candles at `candles`,
/// 0.1 % fees and a 1,000 USDT budget.
fn on_bundled_btc<'a>(strategy: &'a str, candles: &'a str) -> Vec<&'a str> {
    let run = ["backtest", "--strategy", strategy, "--pair", "BTC/USDT", "--data", candles];
    ["--json"].into_iter().chain(run).chain(["--fee", "0.001", "--budget", "1000"]).collect()
}

/// The engine's own run of `strategy` (its default parameters) on the bundled BTC/USDT
/// candles, with the daemon's terms of `on_bundled_btc` and BTC/USDT's rules on the simulator:
/// what the daemon must report, computed here rather than copied.
fn engine_on_bundled_btc(strategy: domain::strategy::StrategyId) -> engine::backtest::Report {
    use domain::{
        money::{Qty, Quote},
        strategy::{StrategyDefaults, validate_params},
        symbol::SymbolRules,
    };
    let bytes = std::fs::read(repo_root().join("server/mexc-sim/data/binance_BTCUSDT_1m.csv")).unwrap();
    let candles = candles::parse(&bytes).unwrap();
    let rules = SymbolRules {
        pair: "BTC/USDT".parse().unwrap(),
        price_scale: 2,
        qty_scale: 6,
        min_qty: Qty::new(Decimal::new(1, 6)),
        min_notional: Quote::new(Decimal::ONE),
    };
    let params = validate_params(strategy, &Default::default(), &StrategyDefaults::new()).unwrap();
    let state = engine::strategy::StrategyState::new(strategy, &params).unwrap();
    let bot = engine::backtest::bot(rules, state, Quote::new(Decimal::from(1_000)), false, Default::default());
    let settings = engine::backtest::Settings { fee_rate: Decimal::new(1, 3), candle_ms: 60_000, equity_curve: false };
    engine::backtest::run(bot, &candles, &settings, |_| {})
}

/// A decimal string of the JSON report as a number (`"56906.4"` and `56906.40` are equal).
fn number(value: &Value) -> Decimal {
    value.as_str().unwrap_or_else(|| panic!("{value} is not a decimal string")).parse().unwrap()
}

/// Asserts that the daemon's JSON `report` says what the engine's `expected` run says: the
/// counts, the money figures and the first trades, field by field.
fn assert_reports_the_engines_run(report: &Value, expected: &engine::backtest::Report) {
    assert_eq!(report["candles"], expected.candles);
    assert_eq!(report["trade_count"], expected.trades.len());
    assert_eq!(
        (report["wins"].as_u64(), report["losses"].as_u64()),
        (Some(expected.wins as u64), Some(expected.losses as u64))
    );
    // The wire carries money to 8 decimals.
    let money = |d: Decimal| d.round_dp(8);
    assert_eq!(number(&report["final_equity"]), money(expected.final_equity.value()), "final equity");
    assert_eq!(number(&report["total_pnl"]), money(expected.total_pnl.value()), "total P&L");
    assert_eq!(number(&report["fees"]), money(expected.fees.value()), "fees");
    let trades = report["trades"].as_array().unwrap();
    assert!(trades.len() >= 5.min(expected.trades.len()), "the report lists its first trades");
    for (got, want) in trades.iter().zip(&expected.trades).take(5) {
        assert_eq!(got["side"], want.side.to_string(), "{got}");
        assert_eq!(number(&got["price"]), want.price.value(), "{got}");
        assert_eq!(number(&got["amount"]), want.qty.value(), "{got}");
        assert_eq!(got["reason"], want.reason.to_string(), "{got}");
    }
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
    // The daemon runs the same engine as a run of it here on the same candles.
    let expected = engine_on_bundled_btc(domain::strategy::StrategyId::MeanReversion);
    assert_reports_the_engines_run(&report, &expected);
    assert!(expected.trades.len() > 100, "the run trades: {}", expected.trades.len());
    assert_eq!(report["fee_rate"], "0.001");
    assert_eq!(report["trades"][0]["side"], "buy");
    assert!(report["trades"][0]["reason"].as_str().unwrap().starts_with("entry: close"));
    let curve = std::fs::read_to_string(&equity).unwrap();
    assert_eq!(curve.lines().count(), 42_914, "a header and one row per candle");
    assert!(curve.starts_with("at,equity\n2021-04-20T20:43:00.000Z,1000\n"), "{}", &curve[..80]);

    let table = ctl(&daemon.url, &args[1..12]);
    assert_eq!(table.code, 0, "{}", table.stderr);
    let more = format!("{} more trades", expected.trades.len() - 20);
    assert!(table.stdout.contains("total_pnl") && table.stdout.contains(&more), "{more}\n{}", table.stdout);
}

#[tokio::test]
async fn a_grid_backtest_fills_its_limit_orders_on_the_candles_ranges() {
    let data = tempfile::tempdir().unwrap();
    let daemon = Daemon::start(&data).await;
    let candles = repo_root().join("server/mexc-sim/data/binance_BTCUSDT_1m.csv").display().to_string();
    let out = ctl(&daemon.url, &on_bundled_btc("adaptive_grid", &candles));
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    let report: Value = serde_json::from_str(&out.stdout).unwrap();
    // The same run as the engine's, made here on the same candles.
    assert_reports_the_engines_run(&report, &engine_on_bundled_btc(domain::strategy::StrategyId::AdaptiveGrid));
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
    let candles = repo_root().join("server/mexc-sim/data/binance_BTCUSDT_1m.csv").display().to_string();
    let run = ["backtest", "--strategy", "mean_reversion", "--pair", "BTC/USDT", "--data"];
    let out = ctl(&daemon.url, &[&run[..], &[candles.as_str(), "--param", "period=1", "--fee", "0.5"]].concat());
    assert_eq!(out.code, 1, "{}", out.stdout);
    assert!(out.stderr.contains("strategy_params.period: 1 is out of range"), "{}", out.stderr);
    assert!(out.stderr.contains("fee: 0.5 is out of range"), "{}", out.stderr);
    // The client reads the file; one it cannot read never reaches the daemon.
    let out = ctl(&daemon.url, &[&run[..], &["/nonexistent.csv"]].concat());
    assert_eq!(out.code, 2, "{}", out.stdout);
    assert!(out.stderr.contains("--data /nonexistent.csv: cannot read the file"), "{}", out.stderr);
}

/// A backtest request over gRPC that names `path` as its candle file, the old way.
fn naming_a_path(path: &str) -> pb::RunBacktestRequest {
    pb::RunBacktestRequest {
        strategy: "mean_reversion".to_owned(),
        trading_pair: "BTC/USDT".to_owned(),
        data_path: path.to_owned(),
        ..pb::RunBacktestRequest::default()
    }
}

#[tokio::test]
async fn a_backtest_never_opens_a_path_the_caller_names() {
    let data = tempfile::tempdir().unwrap();
    let daemon = Daemon::start(&data).await;
    let mut client = daemon.backtests().await;
    // A FIFO tells whether anything opened it: opening one to read blocks until a writer comes,
    // so a daemon that opened it would never answer.
    let fifo = data.path().join("candles.fifo");
    assert!(std::process::Command::new("mkfifo").arg(&fifo).status().unwrap().success());
    let fifo = fifo.display().to_string();
    let secret_path = std::env::var("PATH").unwrap_or_default();
    let arbitrage = pb::RunBacktestRequest {
        strategy: "arbitrage".to_owned(),
        trading_pair: "ETH/USDT".to_owned(),
        market_data_paths: [("BTC/USDT".to_owned(), "/proc/self/environ".to_owned())].into(),
        ..pb::RunBacktestRequest::default()
    };
    // The FIFO first: before the fix the daemon hangs on it here, before it could be asked to
    // read /dev/zero into memory.
    for (request, field) in [
        (naming_a_path(&fifo), "data_path"),
        (naming_a_path("/proc/self/environ"), "data_path"),
        (naming_a_path("/dev/zero"), "data_path"),
        (arbitrage, "market_data_paths"),
    ] {
        let named = format!("{:?}", (&request.data_path, &request.market_data_paths));
        let answer = tokio::time::timeout(Duration::from_secs(20), client.run_backtest(request)).await;
        let refused = answer.expect("answered at once, without opening anything").expect_err("refused");
        assert_eq!(refused.code(), Code::InvalidArgument, "{refused:?}");
        let violations = refused.get_details_bad_request().expect("field violations").field_violations;
        let violation = violations.iter().find(|v| v.field == field).expect("the path field is named");
        assert!(violation.description.contains("upload the file"), "{}", violation.description);
        // Nothing of the file, nor even its name, comes back.
        let everything = format!("{} {violations:?}", refused.message());
        for leak in ["PATH=", "/proc", "/dev/zero", "fifo", &secret_path] {
            assert!(!everything.contains(leak), "{leak} in {everything}");
        }
        assert!(!everything.contains('\0'), "{named}: {everything}");
    }
    // The FIFO never had a reader: opening it to write without blocking finds none.
    #[cfg(target_os = "linux")]
    {
        use std::os::unix::fs::OpenOptionsExt;
        const O_NONBLOCK: i32 = 0o4000;
        const ENXIO: i32 = 6;
        let writer = std::fs::OpenOptions::new().write(true).custom_flags(O_NONBLOCK).open(&fifo);
        assert_eq!(writer.unwrap_err().raw_os_error(), Some(ENXIO), "nothing holds the FIFO open");
    }
}

#[tokio::test]
async fn uploaded_candles_are_checked_kept_by_their_hash_and_recognised_again() {
    let data = tempfile::tempdir().unwrap();
    let daemon = Daemon::start(&data).await;
    let mut client = daemon.backtests().await;
    let store = data.path().join("candles");

    // A bad file is refused at upload with its line and rule, never its text, and not kept.
    let bad = b"open_time_ms,open,high,low,close,volume\n1619049600000,1,2,1,2,5\n1619049660000,s3cr3t,2,1,1,0\n";
    let refused = upload_candles(&mut client, bad, 16).await.unwrap_err();
    assert_eq!(refused.code(), Code::InvalidArgument);
    let violations = refused.get_details_bad_request().unwrap().field_violations;
    let found: Vec<(&str, &str)> = violations.iter().map(|v| (v.field.as_str(), v.description.as_str())).collect();
    assert_eq!(found, [("data", "line 3: open is not a number")]);
    assert!(!refused.message().contains("s3cr3t"), "{}", refused.message());
    assert_eq!(std::fs::read_dir(&store).unwrap().count(), 0, "a refused file is not kept");

    // A good one is kept under its SHA-256, with a summary.
    let bundled = repo_root().join("server/mexc-sim/data/binance_BTCUSDT_1m.csv");
    let bytes = std::fs::read(&bundled).unwrap();
    let id = hex::encode(Sha256::digest(&bytes));
    let first = upload_candles(&mut client, &bytes, 256 << 10).await.unwrap();
    let summary = (first.data_id.as_str(), first.candles, first.first_candle_at.as_str(), first.already_held);
    assert_eq!(summary, (id.as_str(), 42_913, "2021-04-20T20:42:00.000Z", false));
    assert_eq!(first.size, u64::try_from(bytes.len()).unwrap());
    assert_eq!(std::fs::read(store.join(format!("{id}.candles"))).unwrap(), bytes);
    // The same content again, cut differently: the same id, recognised as held.
    let again = upload_candles(&mut client, &bytes, 1 << 20).await.unwrap();
    assert_eq!((again.data_id.as_str(), again.already_held), (id.as_str(), true));
    assert_eq!(std::fs::read_dir(&store).unwrap().count(), 1);
    // A client can ask first; an id is 64 hex digits and nothing else.
    let has = |data_id: String| {
        let mut client = client.clone();
        async move { client.has_candles(pb::HasCandlesRequest { data_id }).await.map(|r| r.into_inner().held) }
    };
    assert!(has(id.clone()).await.unwrap());
    assert!(!has(hex::encode(Sha256::digest(b"other"))).await.unwrap());
    let refused = has("../tradingbot.db".to_owned()).await.unwrap_err();
    assert_eq!(refused.code(), Code::InvalidArgument);
    assert_eq!(refused.get_details_bad_request().unwrap().field_violations[0].field, "data_id");
    // A backtest naming an id the daemon lacks is told to upload.
    let unknown = pb::RunBacktestRequest {
        strategy: "mean_reversion".to_owned(),
        trading_pair: "BTC/USDT".to_owned(),
        data_id: hex::encode(Sha256::digest(b"other")),
        ..pb::RunBacktestRequest::default()
    };
    let refused = client.run_backtest(unknown).await.expect_err("refused");
    assert!(refused.message().contains("data_id: no uploaded candles with this id"), "{}", refused.message());

    // tradingctl does not send what the daemon holds, even from another path...
    let copy = data.path().join("copy.csv");
    std::fs::copy(&bundled, &copy).unwrap();
    let copy = copy.display().to_string();
    let day = ["--from", "2021-04-22", "--to", "2021-04-23"];
    let run = |file: &str| {
        let args = ["--json", "backtest", "--strategy", "mean_reversion", "--pair", "BTC/USDT", "--data", file];
        ctl(&daemon.url, &[&args[..], &day[..]].concat())
    };
    let out = run(&copy);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(out.stderr.contains(&format!("--data {copy}: the daemon already holds it (id {id})")), "{}", out.stderr);
    let report: Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(report["candles"], 1_440);
    // ...sends what it lacks...
    let small = data.path().join("small.csv");
    std::fs::write(&small, "open_time_ms,open,high,low,close,volume\n1619049600000,1,2,1,2,5\n").unwrap();
    let small = small.display().to_string();
    let out = run(&small);
    assert!(out.stderr.contains(&format!("--data {small}: uploaded, 1 candles")), "{}", out.stderr);
    // ...and names the file and the line of a bad one, without its text.
    let broken = data.path().join("broken.csv");
    std::fs::write(&broken, bad).unwrap();
    let broken = broken.display().to_string();
    let out = run(&broken);
    assert_eq!(out.code, 1, "{}", out.stdout);
    assert!(out.stderr.contains(&format!("--data {broken}: line 3: open is not a number")), "{}", out.stderr);
    assert!(!out.stderr.contains("s3cr3t"), "{}", out.stderr);
}

#[tokio::test]
async fn an_upload_past_the_cap_is_refused_at_the_cap() {
    let sim = Sim::start().await;
    let config = sim.config_dir(DEMO_SECRET);
    let data = tempfile::tempdir().unwrap();
    let flags = ["--max-upload-bytes", "1048576"];
    let daemon = Daemon::start_with_flags(config.path(), data.path(), ANY_PORT, &flags).await;
    let mut client = daemon.backtests().await;
    // An endless upload, like /dev/zero: the daemon must stop it at the cap, not wait for an end.
    let endless = futures::stream::repeat_with(|| pb::CandleChunk { data: vec![b'0'; 64 << 10] });
    let answer = tokio::time::timeout(Duration::from_secs(60), client.upload_candles(endless)).await;
    let refused = answer.expect("refused while still receiving").unwrap_err();
    assert_eq!(refused.code(), Code::ResourceExhausted, "{refused:?}");
    assert!(
        refused.message().contains("larger than the upload limit of 1 MiB (1048576 bytes)"),
        "{}",
        refused.message()
    );
    assert_eq!(std::fs::read_dir(data.path().join("candles")).unwrap().count(), 0);
    // tradingctl says which file; the bundled file is over 2 MiB.
    let bundled = repo_root().join("server/mexc-sim/data/binance_BTCUSDT_1m.csv").display().to_string();
    let out = ctl(&daemon.url, &["backtest", "--strategy", "mean_reversion", "--pair", "BTC/USDT", "--data", &bundled]);
    assert_eq!(out.code, 1, "{}", out.stdout);
    assert!(
        out.stderr.contains(&format!("--data {bundled}: the file is larger than the upload limit")),
        "{}",
        out.stderr
    );
    // Within the cap is fine.
    let small = b"open_time_ms,open,high,low,close,volume\n60000,1,2,1,2,5\n";
    assert_eq!(upload_candles(&mut client, small, 1 << 20).await.unwrap().candles, 1);
}

/// The engine's triangular arbitrage on the bundled BTC/USDT, ETH/BTC and ETH/USDT candles
/// with the default parameters, 0.1 % fees, a 1,000 USDT budget and the simulator's rules.
fn engine_on_the_triangle() -> engine::backtest::Report {
    use domain::{
        money::{Qty, Quote},
        strategy::{RawParam, StrategyDefaults, StrategyId, validate_params},
        symbol::SymbolRules,
    };
    use engine::backtest::arbitrage::{self, MarketData};
    let rules = |pair: &str, price_scale, qty_scale, min_notional| SymbolRules {
        pair: pair.parse().unwrap(),
        price_scale,
        qty_scale,
        min_qty: Qty::new(Decimal::new(1, qty_scale)),
        min_notional: Quote::new(min_notional),
    };
    let bundled = |symbol: &str| {
        let path = repo_root().join(format!("server/mexc-sim/data/binance_{symbol}_1m.csv"));
        candles::parse(&std::fs::read(path).unwrap()).unwrap()
    };
    let (btc, eth_btc, eth) = (bundled("BTCUSDT"), bundled("ETHBTC"), bundled("ETHUSDT"));
    let markets = [
        MarketData { rules: rules("BTC/USDT", 2, 6, Decimal::ONE), candles: &btc },
        MarketData { rules: rules("ETH/BTC", 6, 4, Decimal::new(1, 4)), candles: &eth_btc },
        MarketData { rules: rules("ETH/USDT", 2, 5, Decimal::ONE), candles: &eth },
    ];
    let given: std::collections::BTreeMap<String, RawParam> = std::collections::BTreeMap::new();
    let params = validate_params(StrategyId::Arbitrage, &given, &StrategyDefaults::new()).unwrap();
    let params = engine::strategy::arbitrage::ArbitrageParams::from_params(&params).unwrap();
    let settings = engine::backtest::Settings { fee_rate: Decimal::new(1, 3), candle_ms: 60_000, equity_curve: false };
    arbitrage::triangular(&markets, Quote::new(Decimal::from(1_000)), false, &params, &settings, |_| {})
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
    // The same run as the engine's on this triangle, made here on the same candles: only the
    // crash of 19 May opens gaps past the default 0.2 % edge at 0.1 % per leg.
    assert_eq!(report["candles"], 42_913);
    let expected = engine_on_the_triangle();
    assert!(!expected.trades.is_empty());
    assert_reports_the_engines_run(&report, &expected);
    let legs: Vec<&str> = (0..3).map(|i| report["trades"][i]["trading_pair"].as_str().unwrap()).collect();
    assert_eq!(legs, ["BTC/USDT", "ETH/BTC", "ETH/USDT"]);
    assert!(report["trades"][0]["reason"].as_str().unwrap().starts_with("arbitrage leg 1 of 3"));

    // Every problem of the request, by field.
    let other = format!("LTC/USDT={btc}");
    let out = run(&["--market-data", &other, "--stop-loss-percent", "5"]);
    assert_eq!(out.code, 1, "{}", out.stdout);
    for expected in [
        "market_data_ids.LTC/USDT: not a market this arbitrage trades; expected: BTC/USDT, ETH/BTC",
        "market_data_ids: needs the uploaded candles of BTC/USDT",
        "market_data_ids: needs the uploaded candles of ETH/BTC",
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
    let daemon = Daemon::start_with(config.path(), data.path(), ANY_PORT).await;
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
