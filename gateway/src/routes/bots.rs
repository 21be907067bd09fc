//! `/api/bots…` and `/api/kill-all`.

use axum::{Json, extract::State, http::StatusCode};
use serde::Deserialize;
use serde_json::Value;
use tradingbot_proto::{
    json,
    v1::{self as pb, bot_service_client::BotServiceClient},
};

use crate::{
    AppState, body,
    error::ApiResult,
    extract::{Json as Body, Path, Query},
};

fn client(state: AppState) -> BotServiceClient<crate::Daemon> {
    BotServiceClient::new(state.daemon)
}

/// `?status=` of `GET /api/bots`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ListQuery {
    status: Option<String>,
}

fn bot_status(name: Option<&str>) -> ApiResult<pb::BotStatus> {
    match name {
        None => Ok(pb::BotStatus::Unspecified),
        Some(name) => pb::BotStatus::from_str_name(&format!("BOT_STATUS_{}", name.to_ascii_uppercase()))
            .filter(|s| *s != pb::BotStatus::Unspecified)
            .ok_or_else(|| {
                crate::error::ApiError::invalid(vec![(
                    "status".to_owned(),
                    format!("unknown status '{name}'; expected created, running, paused or stopped"),
                )])
            }),
    }
}

pub(crate) async fn list(State(s): State<AppState>, Query(q): Query<ListQuery>) -> ApiResult<Json<Value>> {
    let request = pb::ListBotsRequest { status: bot_status(q.status.as_deref())?.into() };
    let bots = client(s).list_bots(request).await?.into_inner();
    Ok(Json(Value::Array(bots.bots.iter().map(json::bot).collect())))
}

pub(crate) async fn create(State(s): State<AppState>, Body(b): Body<Value>) -> ApiResult<(StatusCode, Json<Value>)> {
    let request = pb::CreateBotRequest { config: Some(body::bot_config(&b)?) };
    let bot = client(s).create_bot(request).await?.into_inner();
    Ok((StatusCode::CREATED, Json(json::bot(&bot))))
}

pub(crate) async fn get(State(s): State<AppState>, Path(id): Path<i64>) -> ApiResult<Json<Value>> {
    Ok(Json(json::bot(&client(s).get_bot(pb::GetBotRequest { id }).await?.into_inner())))
}

pub(crate) async fn update(
    State(s): State<AppState>,
    Path(id): Path<i64>,
    Body(b): Body<Value>,
) -> ApiResult<Json<Value>> {
    let request = pb::UpdateBotRequest { id, config: Some(body::bot_config(&b)?) };
    Ok(Json(json::bot(&client(s).update_bot(request).await?.into_inner())))
}

pub(crate) async fn delete(State(s): State<AppState>, Path(id): Path<i64>) -> ApiResult<StatusCode> {
    client(s).delete_bot(pb::DeleteBotRequest { id }).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub(crate) async fn start(State(s): State<AppState>, Path(id): Path<i64>) -> ApiResult<Json<Value>> {
    Ok(Json(json::bot(&client(s).start_bot(pb::StartBotRequest { id }).await?.into_inner())))
}

pub(crate) async fn pause(State(s): State<AppState>, Path(id): Path<i64>) -> ApiResult<Json<Value>> {
    Ok(Json(json::bot(&client(s).pause_bot(pb::PauseBotRequest { id }).await?.into_inner())))
}

pub(crate) async fn stop(
    State(s): State<AppState>,
    Path(id): Path<i64>,
    Body(b): Body<Value>,
) -> ApiResult<Json<Value>> {
    let request = pb::StopBotRequest { id, cancel_pending: body::cancel_pending(&b)? };
    Ok(Json(json::bot(&client(s).stop_bot(request).await?.into_inner())))
}

pub(crate) async fn kill(
    State(s): State<AppState>,
    Path(id): Path<i64>,
    Body(b): Body<Value>,
) -> ApiResult<Json<Value>> {
    let request = pb::KillBotRequest { id, reason: body::reason(&b)? };
    Ok(Json(json::bot(&client(s).kill_bot(request).await?.into_inner())))
}

pub(crate) async fn signal(
    State(s): State<AppState>,
    Path(id): Path<i64>,
    Body(b): Body<Value>,
) -> ApiResult<Json<Value>> {
    let (side, note) = body::signal(&b)?;
    client(s).send_signal(pb::SendSignalRequest { bot_id: id, side: side.clone(), note }).await?;
    Ok(Json(serde_json::json!({ "bot_id": id, "signal": side })))
}

pub(crate) async fn kill_all(State(s): State<AppState>, Body(b): Body<Value>) -> ApiResult<Json<Value>> {
    let killed = client(s).kill_all(pb::KillAllRequest { reason: body::reason(&b)? }).await?.into_inner();
    let bots: Vec<Value> = killed.bots.iter().map(json::bot).collect();
    Ok(Json(serde_json::json!({ "killed": bots.len(), "bots": bots })))
}

pub(crate) async fn go_live(State(s): State<AppState>, Path(id): Path<i64>) -> ApiResult<Json<Value>> {
    Ok(Json(json::bot(&client(s).go_live(pb::GoLiveRequest { id }).await?.into_inner())))
}

pub(crate) async fn copy(
    State(s): State<AppState>,
    Path(id): Path<i64>,
    Body(b): Body<Value>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let request = pb::CopyBotRequest { id, overrides: Some(body::bot_config(&b)?) };
    Ok((StatusCode::CREATED, Json(json::bot(&client(s).copy_bot(request).await?.into_inner()))))
}

/// `?status=&limit=&simulated=` of `GET /api/bots/{id}/orders`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct OrdersQuery {
    status: Option<String>,
    limit: Option<u32>,
    simulated: Option<bool>,
}

pub(crate) async fn orders(
    State(s): State<AppState>,
    Path(id): Path<i64>,
    Query(q): Query<OrdersQuery>,
) -> ApiResult<Json<Value>> {
    let status = match q.status.as_deref() {
        None => pb::OrderStatus::Unspecified,
        Some(name) => pb::OrderStatus::from_str_name(&format!("ORDER_STATUS_{}", name.to_ascii_uppercase()))
            .filter(|s| *s != pb::OrderStatus::Unspecified)
            .ok_or_else(|| {
                crate::error::ApiError::invalid(vec![(
                    "status".to_owned(),
                    format!("unknown order status '{name}'; expected pending, open, partially_filled, filled, cancelled, failed, unknown or expired"),
                )])
            })?,
    };
    let request = pb::ListOrdersRequest {
        bot_id: id,
        status: status.into(),
        limit: q.limit.unwrap_or(0),
        simulated: q.simulated,
    };
    let orders = client(s).list_orders(request).await?.into_inner();
    Ok(Json(Value::Array(orders.orders.iter().map(json::order).collect())))
}

pub(crate) async fn positions(State(s): State<AppState>, Path(id): Path<i64>) -> ApiResult<Json<Value>> {
    let positions = client(s).list_positions(pb::ListPositionsRequest { bot_id: id }).await?.into_inner();
    Ok(Json(Value::Array(positions.positions.iter().map(json::position).collect())))
}
