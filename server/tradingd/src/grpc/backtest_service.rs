//! `tradingbot.v1.BacktestService`: candle files uploaded into the daemon's store, and
//! backtests run in the daemon over them, streamed back.

use std::{pin::Pin, time::Duration};

use domain::{time::Timestamp, validation::Violations};
use engine::backtest::Report;
use futures::Stream;
use rust_decimal::Decimal;
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;
use tonic::{Request, Response, Status, Streaming};
use tradingbot_proto::v1::{self as pb, backtest_service_server::BacktestService};

use super::{convert, status};
use crate::{
    backtests::{BacktestRequest, Backtests},
    candle_store::{CandleId, Summary},
};

/// How long an upload may go without a chunk before it is abandoned (uploads go one at a
/// time, so a stalled one would hold up the next).
const UPLOAD_IDLE: Duration = Duration::from_secs(60);

/// Why a request naming a path is refused.
const NO_PATHS: &str = "the daemon never opens a path a caller names: upload the file (BacktestService.UploadCandles; \
                        tradingctl backtest --data FILE and POST /api/backtests/candles do) and pass its id";

/// Serves `UploadCandles`, `HasCandles` and `RunBacktest`.
#[derive(Debug)]
pub(crate) struct BacktestApi {
    pub(crate) backtests: Backtests,
}

fn request(r: pb::RunBacktestRequest) -> Result<BacktestRequest, Violations> {
    let mut violations = Violations::default();
    // Refused before anything else is looked at: nothing in the daemon opens these.
    if !r.data_path.is_empty() {
        violations.add("data_path", format!("{NO_PATHS} as data_id"));
    }
    if !r.market_data_paths.is_empty() {
        violations.add("market_data_paths", format!("{NO_PATHS} in market_data_ids"));
    }
    let params = r.strategy_params.map(|s| convert::raw_params(&s, &mut violations)).unwrap_or_default();
    let from = violations.check("from", convert::parse_timestamp(&r.from)).flatten();
    let to = violations.check("to", convert::parse_timestamp(&r.to)).flatten();
    let text = |t: String| (!t.trim().is_empty()).then_some(t);
    let stops = [
        text(r.stop_loss_percent),
        text(r.stop_loss_absolute),
        text(r.drawdown_limit_percent),
        text(r.drawdown_limit_absolute),
        text(r.daily_loss_limit),
        text(r.weekly_loss_limit),
    ];
    violations.into_result(BacktestRequest {
        strategy: r.strategy,
        pair: r.trading_pair,
        params,
        budget: r.budget,
        fee: r.fee,
        data_id: r.data_id,
        compound: r.compound,
        candle_minutes: r.candle_minutes,
        exchange: r.exchange,
        equity_curve: r.equity_curve,
        from,
        to,
        stops,
        market_data: r.market_data_ids.into_iter().collect(),
    })
}

fn upload(s: &Summary) -> pb::CandleUpload {
    pb::CandleUpload {
        data_id: s.id.to_string(),
        candles: s.candles,
        first_candle_at: convert::timestamp(s.first),
        last_candle_at: convert::timestamp(s.last),
        size: s.size,
        already_held: s.already_held,
    }
}

fn report(r: &Report, first: Timestamp, last: Timestamp, budget: Decimal, fee_rate: Decimal) -> pb::BacktestReport {
    let trades = r
        .trades
        .iter()
        .map(|t| pb::BacktestTrade {
            at: convert::timestamp(t.at),
            side: t.side.as_str().to_owned(),
            price: t.price.to_string(),
            amount: t.qty.to_string(),
            quote_amount: t.quote.value().normalize().to_string(),
            fee: t.fee.value().round_dp(8).normalize().to_string(),
            realized_pnl: t.realized.map(|q| q.value().round_dp(8).normalize().to_string()).unwrap_or_default(),
            reason: t.reason.to_string(),
            trading_pair: t.pair.as_ref().map(ToString::to_string).unwrap_or_default(),
        })
        .collect();
    let money = |d: Decimal| d.round_dp(8).normalize().to_string();
    pb::BacktestReport {
        candles: u64::try_from(r.candles).unwrap_or(u64::MAX),
        first_candle_at: convert::timestamp(first),
        last_candle_at: convert::timestamp(last),
        trades,
        fees: money(r.fees.value()),
        realized_pnl: money(r.realized_pnl.value()),
        total_pnl: money(r.total_pnl.value()),
        final_equity: money(r.final_equity.value()),
        wins: u32::try_from(r.wins).unwrap_or(u32::MAX),
        losses: u32::try_from(r.losses).unwrap_or(u32::MAX),
        win_rate: r.win_rate_percent().map(|p| money(p.value())).unwrap_or_default(),
        average_win: money(r.average_win.value()),
        average_loss: money(r.average_loss.value()),
        max_drawdown: money(r.max_drawdown.value()),
        max_drawdown_percent: money(r.max_drawdown_percent.value()),
        exposure_percent: money(r.exposure_percent.value()),
        budget: budget.normalize().to_string(),
        fee_rate: fee_rate.normalize().to_string(),
        equity: r
            .equity
            .iter()
            .map(|(at, equity)| pb::EquityPoint { at: convert::timestamp(*at), equity: money(equity.value()) })
            .collect(),
    }
}

type UpdateStream = Pin<Box<dyn Stream<Item = Result<pb::BacktestUpdate, Status>> + Send>>;

#[tonic::async_trait]
impl BacktestService for BacktestApi {
    type RunBacktestStream = UpdateStream;

    async fn upload_candles(
        &self,
        request: Request<Streaming<pb::CandleChunk>>,
    ) -> Result<Response<pb::CandleUpload>, Status> {
        let mut chunks = request.into_inner();
        let store = self.backtests.candles();
        let mut upload = store.begin().await?;
        loop {
            let next = tokio::time::timeout(UPLOAD_IDLE, chunks.message()).await.map_err(|_| {
                Status::deadline_exceeded(format!("no data for {} s; the upload is abandoned", UPLOAD_IDLE.as_secs()))
            })?;
            let Some(chunk) = next? else { break };
            // Checked before the chunk is kept: the cap is never exceeded in memory.
            upload.push(&chunk.data)?;
        }
        let summary = store.finish(upload).await?;
        tracing::info!(id = %summary.id, size = summary.size, candles = summary.candles, already_held = summary.already_held, "candles uploaded");
        Ok(Response::new(self::upload(&summary)))
    }

    async fn has_candles(
        &self,
        request: Request<pb::HasCandlesRequest>,
    ) -> Result<Response<pb::HasCandlesResponse>, Status> {
        let mut violations = Violations::default();
        let id = violations
            .check("data_id", request.into_inner().data_id.trim().parse::<CandleId>().map_err(|e| e.to_string()));
        let Some(id) = id else { return Err(status::invalid(&violations)) };
        let held = self.backtests.candles().holds(id).await?;
        Ok(Response::new(pb::HasCandlesResponse { held }))
    }

    async fn run_backtest(
        &self,
        request: Request<pb::RunBacktestRequest>,
    ) -> Result<Response<Self::RunBacktestStream>, Status> {
        let request = self::request(request.into_inner()).map_err(|v| status::invalid(&v))?;
        let job = self.backtests.prepare(&request).await?;
        let (first, last) = match (job.candles().first(), job.candles().last()) {
            (Some(f), Some(l)) => (f.open_time, l.open_time),
            _ => return Err(Status::invalid_argument("the candle file holds no candles")),
        };
        let (budget, fee_rate) = job.terms();
        let (updates, stream) = mpsc::channel(16);
        let (progress, mut progress_rx) = mpsc::channel::<(u64, u64)>(4);
        let worker = tokio::task::spawn_blocking(move || job.run(&progress));
        tokio::spawn(async move {
            while let Some((done, total)) = progress_rx.recv().await {
                let update = pb::backtest_update::Kind::Progress(pb::BacktestProgress {
                    candles_done: done,
                    candles_total: total,
                });
                // A client that went away does not stop the run; its updates are dropped.
                let _ = updates.send(Ok(pb::BacktestUpdate { kind: Some(update) })).await;
            }
            let last_message = match worker.await {
                Ok(result) => {
                    let kind =
                        pb::backtest_update::Kind::Report(report(&result, first, last, budget.value(), fee_rate));
                    Ok(pb::BacktestUpdate { kind: Some(kind) })
                }
                Err(e) => Err(status::internal(&e)),
            };
            let _ = updates.send(last_message).await;
        });
        Ok(Response::new(Box::pin(ReceiverStream::new(stream))))
    }
}
