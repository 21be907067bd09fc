//! `tradingbot.v1.ReportService`: statistics and accounting reports over gRPC.

use domain::{bot::BotId, bot::BotStatus, pair::Pair, strategy::StrategyId, validation::Violations};
use store::{PnlGrouping, PnlRow, ReportFilter, Store};
use tonic::{Request, Response, Status};
use tradingbot_proto::v1::{self as pb, report_service_server::ReportService};

use super::{
    convert,
    status::{internal, invalid},
};
use crate::clock;

/// Serves `ReportService` straight from the store's report queries.
#[derive(Debug)]
pub(crate) struct ReportApi {
    pub(crate) store: Store,
}

/// The time range of a request, each end validated under `<field>.from` / `<field>.to`.
fn range(
    violations: &mut Violations,
    field: &str,
    range: Option<&pb::TimeRange>,
) -> (Option<domain::time::Timestamp>, Option<domain::time::Timestamp>) {
    let Some(range) = range else { return (None, None) };
    let from = violations.check(&format!("{field}.from"), convert::parse_timestamp(&range.from)).flatten();
    let to = violations.check(&format!("{field}.to"), convert::parse_timestamp(&range.to)).flatten();
    (from, to)
}

fn filter(filter: Option<pb::ReportFilter>) -> Result<ReportFilter, Status> {
    let f = filter.unwrap_or_default();
    let mut v = Violations::default();
    let pair =
        if f.trading_pair.is_empty() { None } else { v.check("filter.trading_pair", f.trading_pair.parse::<Pair>()) };
    let strategy =
        if f.strategy.is_empty() { None } else { v.check("filter.strategy", f.strategy.parse::<StrategyId>()) };
    let (from, to) = range(&mut v, "filter.range", f.range.as_ref());
    let filter = ReportFilter {
        bot: (f.bot_id != 0).then_some(BotId(f.bot_id)),
        pair,
        strategy,
        from,
        to,
        simulated: f.simulated,
    };
    v.into_result(filter).map_err(|v| invalid(&v))
}

fn pnl_row(row: &PnlRow) -> pb::PnlRow {
    pb::PnlRow {
        key: row.key.clone(),
        realized_pnl: row.realized_pnl.to_string(),
        fees: row.fees.to_string(),
        trades: row.trades,
        wins: row.wins,
        losses: row.losses,
        win_rate_percent: row.win_rate.map(|p| p.to_string()).unwrap_or_default(),
        average_win: convert::quote(row.average_win),
        average_loss: convert::quote(row.average_loss),
    }
}

#[tonic::async_trait]
impl ReportService for ReportApi {
    async fn get_stats(&self, _request: Request<pb::GetStatsRequest>) -> Result<Response<pb::Stats>, Status> {
        let stats = self.store.stats(clock::now()).await.map_err(|e| internal(&e))?;
        let count = |status| stats.bots_by_status.get(&status).copied().unwrap_or(0);
        Ok(Response::new(pb::Stats {
            total_pnl: stats.total_pnl.to_string(),
            bots_total: stats.bots_by_status.values().sum(),
            bots_created: count(BotStatus::Created),
            bots_running: count(BotStatus::Running),
            bots_paused: count(BotStatus::Paused),
            bots_stopped: count(BotStatus::Stopped),
            open_orders: stats.open_orders,
            trades_24h: stats.trades_24h,
            volume_24h: stats.volume_24h.to_string(),
            dry_run_pnl: stats.dry_run_pnl.to_string(),
        }))
    }

    async fn get_pnl_series(
        &self,
        request: Request<pb::GetPnlSeriesRequest>,
    ) -> Result<Response<pb::PnlSeries>, Status> {
        let request = request.into_inner();
        let mut v = Violations::default();
        let (from, to) = range(&mut v, "range", request.range.as_ref());
        v.into_result(()).map_err(|v| invalid(&v))?;
        let bot = (request.bot_id != 0).then_some(BotId(request.bot_id));
        let points = self.store.pnl_series(bot, from, to).await.map_err(|e| internal(&e))?;
        Ok(Response::new(pb::PnlSeries {
            points: points
                .iter()
                .map(|p| pb::PnlPoint { at: convert::timestamp(p.at), total_pnl: p.total_pnl.to_string() })
                .collect(),
        }))
    }

    async fn get_pnl_report(
        &self,
        request: Request<pb::GetPnlReportRequest>,
    ) -> Result<Response<pb::PnlReport>, Status> {
        let request = request.into_inner();
        let grouping = match request.group_by() {
            pb::PnlGrouping::Unspecified | pb::PnlGrouping::Bot => PnlGrouping::Bot,
            pb::PnlGrouping::Pair => PnlGrouping::Pair,
            pb::PnlGrouping::Strategy => PnlGrouping::Strategy,
            pb::PnlGrouping::Day => PnlGrouping::Day,
            pb::PnlGrouping::Week => PnlGrouping::Week,
            pb::PnlGrouping::Month => PnlGrouping::Month,
        };
        let (rows, total) =
            self.store.pnl_report(&filter(request.filter)?, grouping).await.map_err(|e| internal(&e))?;
        Ok(Response::new(pb::PnlReport { rows: rows.iter().map(pnl_row).collect(), total: Some(pnl_row(&total)) }))
    }

    async fn get_tax_report(
        &self,
        request: Request<pb::GetTaxReportRequest>,
    ) -> Result<Response<pb::TaxReport>, Status> {
        let rows = self.store.tax_report(&filter(request.into_inner().filter)?).await.map_err(|e| internal(&e))?;
        let total: domain::money::Quote = rows.iter().map(|r| r.gain).sum();
        Ok(Response::new(pb::TaxReport {
            rows: rows
                .iter()
                .map(|r| pb::TaxRow {
                    date: convert::timestamp(r.date),
                    token: r.token.clone(),
                    amount: r.amount.to_string(),
                    buy_price: r.buy_price.normalize().to_string(),
                    sale_price: r.sale_price.normalize().to_string(),
                    gain: r.gain.to_string(),
                    bot_id: r.bot.0,
                })
                .collect(),
            total_gain: total.to_string(),
        }))
    }

    async fn get_fee_report(
        &self,
        request: Request<pb::GetFeeReportRequest>,
    ) -> Result<Response<pb::FeeReport>, Status> {
        let rows = self.store.fee_report(&filter(request.into_inner().filter)?).await.map_err(|e| internal(&e))?;
        Ok(Response::new(pb::FeeReport {
            rows: rows
                .iter()
                .map(|r| pb::FeeRow { asset: r.asset.clone(), total: r.total.to_string(), fills: r.fills })
                .collect(),
        }))
    }
}
