//! `/api/config/*` and `/api/alerts`.

use axum::{Json, extract::State};
use serde::Deserialize;
use serde_json::Value;
use tradingbot_proto::{
    json,
    v1::{
        self as pb, alert_service_client::AlertServiceClient, config_service_client::ConfigServiceClient,
        exchange_service_client::ExchangeServiceClient,
    },
};

use crate::{
    AppState,
    error::ApiResult,
    extract::{Path, Query},
};

fn client(state: AppState) -> ConfigServiceClient<crate::Daemon> {
    ConfigServiceClient::new(state.daemon)
}

pub(crate) async fn strategies(State(s): State<AppState>) -> ApiResult<Json<Value>> {
    Ok(Json(json::strategies(&client(s).list_strategies(pb::ListStrategiesRequest {}).await?.into_inner())))
}

/// `?exchange=` of `GET /api/config/pairs`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct PairsQuery {
    #[serde(default)]
    exchange: String,
}

pub(crate) async fn pairs(State(s): State<AppState>, Query(q): Query<PairsQuery>) -> ApiResult<Json<Value>> {
    let request = pb::ListPairsRequest { exchange: q.exchange };
    Ok(Json(json::pairs(&client(s).list_pairs(request).await?.into_inner())))
}

pub(crate) async fn settings(State(s): State<AppState>) -> ApiResult<Json<Value>> {
    Ok(Json(json::settings(&client(s).get_settings(pb::GetSettingsRequest {}).await?.into_inner())))
}

/// `?bot_id=&limit=` of `GET /api/alerts`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct AlertsQuery {
    bot_id: Option<i64>,
    limit: Option<u32>,
}

pub(crate) async fn alerts(State(s): State<AppState>, Query(q): Query<AlertsQuery>) -> ApiResult<Json<Value>> {
    let request = pb::ListAlertsRequest { bot_id: q.bot_id.unwrap_or(0), limit: q.limit.unwrap_or(0) };
    let alerts = AlertServiceClient::new(s.daemon).list_alerts(request).await?.into_inner();
    Ok(Json(Value::Array(alerts.alerts.iter().map(json::alert).collect())))
}

/// `GET /api/exchanges/{name}/check`: read-only connectivity check of a venue account.
pub(crate) async fn check_exchange(State(s): State<AppState>, Path(name): Path<String>) -> ApiResult<Json<Value>> {
    let request = pb::CheckExchangeRequest { exchange: name };
    let check = ExchangeServiceClient::new(s.daemon).check_exchange(request).await?.into_inner();
    Ok(Json(json::exchange_check(&check)))
}
