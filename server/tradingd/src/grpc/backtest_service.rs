//! `tradingbot.v1.BacktestService`: backtests run in the daemon, streamed back.

use std::pin::Pin;

use domain::{time::Timestamp, validation::Violations};
use engine::backtest::Report;
use futures::Stream;
use rust_decimal::Decimal;
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;
use tonic::{Request, Response, Status};
use tradingbot_proto::v1::{self as pb, backtest_service_server::BacktestService};

use super::{convert, status};
use crate::backtests::{BacktestError, BacktestRequest, Backtests};

/// Serves `RunBacktest`.
#[derive(Debug)]
pub(crate) struct BacktestApi {
    pub(crate) backtests: Backtests,
}

fn request(r: pb::RunBacktestRequest) -> Result<BacktestRequest, Violations> {
    let mut violations = Violations::default();
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
        data_path: r.data_path,
        compound: r.compound,
        candle_minutes: r.candle_minutes,
        exchange: r.exchange,
        equity_curve: r.equity_curve,
        from,
        to,
        stops,
        market_data: r.market_data_paths.into_iter().collect(),
    })
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

    async fn run_backtest(
        &self,
        request: Request<pb::RunBacktestRequest>,
    ) -> Result<Response<Self::RunBacktestStream>, Status> {
        let request = self::request(request.into_inner()).map_err(|v| status::invalid(&v))?;
        let job = self.backtests.prepare(&request).await.map_err(|e| match e {
            BacktestError::Invalid(v) => status::invalid(&v),
            BacktestError::Unavailable(message) => Status::failed_precondition(message),
        })?;
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
