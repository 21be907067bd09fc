//! `tradingctl backtest`: runs a backtest in the daemon with a progress bar, then prints the
//! report (a summary and the trades, or `--json`) and optionally writes the equity curve.

use indicatif::{ProgressBar, ProgressStyle};
use prost_types::{Struct, Value, value::Kind};
use serde_json::Value as Json;
use tradingbot_proto::{
    json,
    v1::{self as pb, backtest_service_client::BacktestServiceClient},
};

use crate::{
    args::BacktestArgs,
    client::{Daemon, Failure},
    render,
};

/// Trades the table lists unless all are asked for.
const TRADES_SHOWN: usize = 20;

fn request(args: &BacktestArgs) -> Result<pb::RunBacktestRequest, Failure> {
    // The daemon reads the file, possibly from another working directory.
    let absolute = |flag: &str, path: &std::path::Path| {
        std::path::absolute(path)
            .map(|p| p.display().to_string())
            .map_err(|e| Failure::Usage(format!("{flag} {}: {e}", path.display())))
    };
    let data = args.data.as_deref().map(|path| absolute("--data", path)).transpose()?.unwrap_or_default();
    let market_data_paths = args
        .market_data
        .iter()
        .map(|(key, path)| Ok((key.clone(), absolute("--market-data", std::path::Path::new(path))?)))
        .collect::<Result<_, Failure>>()?;
    let stop = |value: &Option<String>| value.clone().unwrap_or_default();
    let s = &args.stops;
    let fields =
        args.params.iter().map(|(k, v)| (k.clone(), Value { kind: Some(Kind::StringValue(v.clone())) })).collect();
    Ok(pb::RunBacktestRequest {
        strategy: args.strategy.clone(),
        trading_pair: args.pair.clone(),
        strategy_params: Some(Struct { fields }),
        budget: args.budget.clone().unwrap_or_default(),
        fee: args.fee.clone().unwrap_or_default(),
        data_path: data,
        compound: args.compound,
        candle_minutes: args.candle_minutes,
        exchange: args.exchange.clone().unwrap_or_default(),
        equity_curve: args.equity_csv.is_some(),
        from: args.from.clone().unwrap_or_default(),
        to: args.to.clone().unwrap_or_default(),
        stop_loss_percent: stop(&s.stop_loss_percent),
        stop_loss_absolute: stop(&s.stop_loss_absolute),
        drawdown_limit_percent: stop(&s.drawdown_limit_percent),
        drawdown_limit_absolute: stop(&s.drawdown_limit_absolute),
        daily_loss_limit: stop(&s.daily_loss_limit),
        weekly_loss_limit: stop(&s.weekly_loss_limit),
        market_data_paths,
    })
}

fn write_equity(path: &std::path::Path, report: &pb::BacktestReport) -> Result<(), Failure> {
    let failed = |e: &dyn std::fmt::Display| Failure::Usage(format!("cannot write {}: {e}", path.display()));
    let mut writer = csv::Writer::from_path(path).map_err(|e| failed(&e))?;
    writer.write_record(["at", "equity"]).map_err(|e| failed(&e))?;
    for point in &report.equity {
        writer.write_record([&point.at, &point.equity]).map_err(|e| failed(&e))?;
    }
    writer.flush().map_err(|e| failed(&e))
}

fn summary(report: &Json) -> String {
    let keys = [
        "candles",
        "first_candle_at",
        "last_candle_at",
        "budget",
        "fee_rate",
        "trade_count",
        "wins",
        "losses",
        "win_rate",
        "average_win",
        "average_loss",
        "fees",
        "realized_pnl",
        "total_pnl",
        "final_equity",
        "max_drawdown",
        "max_drawdown_percent",
        "exposure_percent",
    ];
    let rows = keys.iter().map(|k| vec![(*k).to_owned(), render::cell(&report[*k])]);
    render::table(&["RESULT", "VALUE"], rows)
}

fn trades(report: &Json, all: bool) -> String {
    let listed = report["trades"].as_array().map_or(0, Vec::len);
    let shown: Vec<Json> = report["trades"]
        .as_array()
        .into_iter()
        .flatten()
        .take(if all { usize::MAX } else { TRADES_SHOWN })
        .cloned()
        .collect();
    let fields = ["at", "trading_pair", "side", "price", "amount", "fee", "realized_pnl", "reason"];
    let table = render::table(
        &["AT", "PAIR", "SIDE", "PRICE", "AMOUNT", "FEE", "REALISED", "WHY"],
        render::rows(&Json::Array(shown.clone()), &fields),
    );
    if shown.len() < listed {
        format!("{table}\n{} more trades: add --all-trades or --json", listed - shown.len())
    } else {
        table
    }
}

/// Runs the backtest and prints its report.
pub(crate) async fn run(channel: Daemon, args: BacktestArgs, json_output: bool) -> Result<(), Failure> {
    let mut stream = BacktestServiceClient::new(channel).run_backtest(request(&args)?).await?.into_inner();
    let bar = ProgressBar::new(0);
    bar.set_style(
        ProgressStyle::with_template("{bar:40} {pos}/{len} candles ({per_sec}, {eta} left)")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let mut report = None;
    while let Some(update) = stream.message().await? {
        match update.kind {
            Some(pb::backtest_update::Kind::Progress(p)) => {
                bar.set_length(p.candles_total);
                bar.set_position(p.candles_done);
            }
            Some(pb::backtest_update::Kind::Report(r)) => report = Some(r),
            None => {}
        }
    }
    bar.finish_and_clear();
    let report = report.ok_or_else(|| Failure::Usage("the daemon ended the backtest without a report".to_owned()))?;
    if let Some(path) = &args.equity_csv {
        write_equity(path, &report)?;
    }
    let mut value = json::backtest_report(&report);
    if json_output {
        println!("{}", serde_json::to_string_pretty(&value).unwrap_or_default());
    } else {
        if let Some(object) = value.as_object_mut() {
            object.remove("equity");
        }
        println!("{}\n{}", summary(&value), trades(&value, args.all_trades));
        if let Some(path) = &args.equity_csv {
            println!("equity curve written to {}", path.display());
        }
    }
    Ok(())
}
