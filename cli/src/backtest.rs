//! `tradingctl backtest`: uploads the candle files it is given to the daemon (skipping those
//! the daemon already holds), runs a backtest there with a progress bar, then prints the
//! report (a summary and the trades, or `--json`) and optionally writes the equity curve.
//!
//! The daemon never opens a path it is told: this client reads the user's files and streams
//! their bytes; a file is known by the SHA-256 of its bytes, so one the daemon already holds is
//! not sent again.

use std::{
    collections::BTreeMap,
    io::Read,
    path::Path,
    sync::{Arc, Mutex},
};

use indicatif::{ProgressBar, ProgressStyle};
use prost_types::{Struct, Value, value::Kind};
use serde_json::Value as Json;
use sha2::{Digest, Sha256};
use tokio::io::AsyncReadExt;
use tonic::{Code, Status};
use tonic_types::{ErrorDetails, FieldViolation, StatusExt};
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

/// Bytes per upload message: well under gRPC's 4 MiB message limit.
const CHUNK: usize = 1 << 20;

type Client = BacktestServiceClient<Daemon>;

/// The id the daemon gives a file: the lowercase hex SHA-256 of its bytes, read in chunks.
fn file_id(path: &Path) -> std::io::Result<String> {
    let mut file = std::fs::File::open(path)?;
    let mut hasher = Sha256::new();
    let mut buffer = vec![0; CHUNK];
    loop {
        let read = file.read(&mut buffer)?;
        if read == 0 {
            return Ok(hex::encode(hasher.finalize()));
        }
        hasher.update(&buffer[..read]);
    }
}

/// The daemon's refusal of an upload, told about the file: each violation of its content
/// (field `data`) is named after the flag and the file instead.
fn about_file(status: &Status, named: &str) -> Failure {
    match status.get_details_bad_request() {
        Some(bad) if !bad.field_violations.is_empty() => {
            let violations: Vec<FieldViolation> = bad
                .field_violations
                .into_iter()
                .map(|v| {
                    let field = if v.field == "data" { named.to_owned() } else { format!("{named}: {}", v.field) };
                    FieldViolation::new(field, v.description)
                })
                .collect();
            let details = ErrorDetails::with_bad_request(violations);
            Failure::Rejected(Status::with_error_details(status.code(), status.message(), details))
        }
        _ if status.code() == Code::Unavailable => Failure::from(status.clone()),
        _ => Failure::Rejected(Status::new(status.code(), format!("{named}: {}", status.message()))),
    }
}

/// Makes sure the daemon holds the file at `path` and returns its id: asks first, and sends
/// the bytes only when the daemon lacks them. Says on stderr which it was.
/// `named` is how messages call the file (its flag and path).
async fn upload(client: &mut Client, named: &str, path: &Path) -> Result<String, Failure> {
    let cannot_read = |e: &std::io::Error| Failure::Usage(format!("{named}: cannot read the file: {e}"));
    let id = {
        let path = path.to_path_buf();
        tokio::task::spawn_blocking(move || file_id(&path))
            .await
            .map_err(|e| Failure::Usage(format!("{named}: {e}")))?
            .map_err(|e| cannot_read(&e))?
    };
    let held = client.has_candles(pb::HasCandlesRequest { data_id: id.clone() }).await?.into_inner().held;
    if held {
        eprintln!("{named}: the daemon already holds it (id {id}); not sent again");
        return Ok(id);
    }
    let file = tokio::fs::File::open(path).await.map_err(|e| cannot_read(&e))?;
    // A read error ends the stream early; it is kept here and reported instead of the answer.
    let failed: Arc<Mutex<Option<std::io::Error>>> = Arc::default();
    let seen = Arc::clone(&failed);
    let chunks = futures::stream::unfold(Some(file), move |file| {
        let seen = Arc::clone(&seen);
        async move {
            let mut file = file?;
            let mut data = vec![0; CHUNK];
            let mut filled = 0;
            while filled < CHUNK {
                match file.read(&mut data[filled..]).await {
                    Ok(0) => break,
                    Ok(read) => filled += read,
                    Err(e) => {
                        *seen.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = Some(e);
                        return None;
                    }
                }
            }
            data.truncate(filled);
            (filled > 0).then(|| (pb::CandleChunk { data }, Some(file)))
        }
    });
    let answer = client.upload_candles(chunks).await;
    if let Some(e) = failed.lock().unwrap_or_else(std::sync::PoisonError::into_inner).take() {
        return Err(cannot_read(&e));
    }
    let summary = answer.map_err(|status| about_file(&status, named))?.into_inner();
    if summary.data_id != id {
        return Err(Failure::Usage(format!("{named}: the file changed while it was being sent; try again")));
    }
    eprintln!(
        "{named}: uploaded, {} candles from {} to {} (id {id})",
        summary.candles, summary.first_candle_at, summary.last_candle_at
    );
    Ok(id)
}

/// Uploads the request's files (as needed) and builds the request naming them by id.
async fn request(client: &mut Client, args: &BacktestArgs) -> Result<pb::RunBacktestRequest, Failure> {
    let data_id = match &args.data {
        Some(path) => upload(client, &format!("--data {}", path.display()), path).await?,
        None => String::new(),
    };
    let mut market_data_ids = BTreeMap::new();
    for (key, path) in &args.market_data {
        let id = upload(client, &format!("--market-data {key}={path}"), Path::new(path)).await?;
        market_data_ids.insert(key.clone(), id);
    }
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
        data_id,
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
        market_data_ids: market_data_ids.into_iter().collect(),
        ..pb::RunBacktestRequest::default()
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
    let mut client = BacktestServiceClient::new(channel);
    let request = request(&mut client, &args).await?;
    let mut stream = client.run_backtest(request).await?.into_inner();
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_files_id_is_the_sha256_of_its_bytes_read_in_chunks() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("candles.csv");
        std::fs::write(&path, b"").unwrap();
        assert_eq!(file_id(&path).unwrap(), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
        // Larger than one chunk, so the hash spans reads.
        let bytes: Vec<u8> = (0..u32::try_from(CHUNK).unwrap() + 10).map(|i| (i % 251) as u8).collect();
        std::fs::write(&path, &bytes).unwrap();
        assert_eq!(file_id(&path).unwrap(), hex::encode(Sha256::digest(&bytes)));
    }

    #[test]
    fn a_refused_upload_names_the_flag_and_the_file() {
        let details = ErrorDetails::with_bad_request(vec![FieldViolation::new("data", "line 3: open is not a number")]);
        let status = Status::with_error_details(Code::InvalidArgument, "invalid request", details);
        let shown = about_file(&status, "--data bad.csv").to_string();
        assert_eq!(shown, "invalid request (InvalidArgument)\n  --data bad.csv: line 3: open is not a number");
        let too_large = about_file(&Status::resource_exhausted("the file is larger than the upload limit"), "--data x");
        assert_eq!(too_large.to_string(), "--data x: the file is larger than the upload limit (ResourceExhausted)");
    }
}
