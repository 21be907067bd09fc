//! `/api/stats`, `/api/pnl` and `/api/reports/*`.

use axum::{
    Json,
    extract::State,
    http::header,
    response::{IntoResponse, Response},
};
use serde::Deserialize;
use serde_json::Value;
use tradingbot_proto::{
    json,
    v1::{self as pb, report_service_client::ReportServiceClient},
};

use crate::{
    AppState,
    error::{ApiError, ApiResult},
    extract::Query,
};

fn client(state: AppState) -> ReportServiceClient<crate::Daemon> {
    ReportServiceClient::new(state.daemon)
}

pub(crate) async fn stats(State(s): State<AppState>) -> ApiResult<Json<Value>> {
    Ok(Json(json::stats(&client(s).get_stats(pb::GetStatsRequest {}).await?.into_inner())))
}

/// `?bot_id=&from=&to=` of `GET /api/pnl`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct SeriesQuery {
    bot_id: Option<i64>,
    #[serde(default)]
    from: String,
    #[serde(default)]
    to: String,
}

pub(crate) async fn pnl_series(State(s): State<AppState>, Query(q): Query<SeriesQuery>) -> ApiResult<Json<Value>> {
    let request = pb::GetPnlSeriesRequest {
        bot_id: q.bot_id.unwrap_or(0),
        range: Some(pb::TimeRange { from: q.from, to: q.to }),
    };
    Ok(Json(json::pnl_series(&client(s).get_pnl_series(request).await?.into_inner())))
}

/// Report filters and options as query parameters.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ReportQuery {
    bot_id: Option<i64>,
    #[serde(default)]
    trading_pair: String,
    #[serde(default)]
    strategy: String,
    #[serde(default)]
    from: String,
    #[serde(default)]
    to: String,
    #[serde(default)]
    simulated: bool,
    /// P&L report only: bot, pair, strategy, day, week or month.
    group_by: Option<String>,
    /// Tax report only: `csv` for a download.
    format: Option<String>,
}

impl ReportQuery {
    fn filter(&self) -> pb::ReportFilter {
        pb::ReportFilter {
            bot_id: self.bot_id.unwrap_or(0),
            trading_pair: self.trading_pair.clone(),
            strategy: self.strategy.clone(),
            range: Some(pb::TimeRange { from: self.from.clone(), to: self.to.clone() }),
            simulated: self.simulated,
        }
    }
}

pub(crate) async fn pnl(State(s): State<AppState>, Query(q): Query<ReportQuery>) -> ApiResult<Json<Value>> {
    let group_by = match q.group_by.as_deref() {
        None => pb::PnlGrouping::Bot,
        Some(name) => pb::PnlGrouping::from_str_name(&format!("PNL_GROUPING_{}", name.to_ascii_uppercase()))
            .filter(|g| *g != pb::PnlGrouping::Unspecified)
            .ok_or_else(|| {
                ApiError::invalid(vec![(
                    "group_by".to_owned(),
                    format!("unknown grouping '{name}'; expected bot, pair, strategy, day, week or month"),
                )])
            })?,
    };
    let request = pb::GetPnlReportRequest { filter: Some(q.filter()), group_by: group_by.into() };
    Ok(Json(json::pnl_report(&client(s).get_pnl_report(request).await?.into_inner())))
}

pub(crate) async fn tax(State(s): State<AppState>, Query(q): Query<ReportQuery>) -> ApiResult<Response> {
    let report = client(s).get_tax_report(pb::GetTaxReportRequest { filter: Some(q.filter()) }).await?.into_inner();
    match q.format.as_deref() {
        None | Some("json") => Ok(Json(json::tax_report(&report)).into_response()),
        Some("csv") => {
            let mut csv = String::from("date,token,amount,buy_price,sale_price,gain,bot_id\n");
            for r in &report.rows {
                csv.push_str(&format!(
                    "{},{},{},{},{},{},{}\n",
                    r.date, r.token, r.amount, r.buy_price, r.sale_price, r.gain, r.bot_id
                ));
            }
            let headers = [
                (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
                (header::CONTENT_DISPOSITION, "attachment; filename=\"tradingbot-tax.csv\""),
            ];
            Ok((headers, csv).into_response())
        }
        Some(other) => Err(ApiError::invalid(vec![(
            "format".to_owned(),
            format!("unknown format '{other}'; expected json or csv"),
        )])),
    }
}

pub(crate) async fn fees(State(s): State<AppState>, Query(q): Query<ReportQuery>) -> ApiResult<Json<Value>> {
    let report = client(s).get_fee_report(pb::GetFeeReportRequest { filter: Some(q.filter()) }).await?.into_inner();
    Ok(Json(json::fee_report(&report)))
}
