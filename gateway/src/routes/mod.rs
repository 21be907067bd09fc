//! Route table of the REST API (paths as in the spec).

mod backtests;
mod bots;
mod config;
mod reports;
mod ws;

use std::path::PathBuf;

use axum::{
    Json, Router,
    extract::State,
    http::StatusCode,
    response::IntoResponse,
    routing::{get, post},
};
use serde_json::json;
use tonic::Code;
use tonic_health::pb::{HealthCheckRequest, health_check_response::ServingStatus, health_client::HealthClient};
use tower_http::services::{ServeDir, ServeFile};

use crate::{AppState, guard};

pub(crate) fn router(state: AppState, web: Option<PathBuf>) -> Router {
    let api = Router::new()
        .route("/api/health", get(health))
        .route("/api/bots", get(bots::list).post(bots::create))
        .route("/api/bots/{id}", get(bots::get).put(bots::update).delete(bots::delete))
        .route("/api/bots/{id}/start", post(bots::start))
        .route("/api/bots/{id}/pause", post(bots::pause))
        .route("/api/bots/{id}/stop", post(bots::stop))
        .route("/api/bots/{id}/kill", post(bots::kill))
        .route("/api/bots/{id}/signal", post(bots::signal))
        .route("/api/bots/{id}/go-live", post(bots::go_live))
        .route("/api/bots/{id}/copy", post(bots::copy))
        .route("/api/bots/{id}/orders", get(bots::orders))
        .route("/api/bots/{id}/positions", get(bots::positions))
        .route("/api/kill-all", post(bots::kill_all))
        .route("/api/backtests", post(backtests::run))
        .route(guard::UPLOAD_PATH, post(backtests::upload))
        .route("/api/backtests/candles/{id}", get(backtests::has))
        .route("/api/stats", get(reports::stats))
        .route("/api/pnl", get(reports::pnl_series))
        .route("/api/reports/pnl", get(reports::pnl))
        .route("/api/reports/tax", get(reports::tax))
        .route("/api/reports/fees", get(reports::fees))
        .route("/api/config/strategies", get(config::strategies))
        .route("/api/config/pairs", get(config::pairs))
        .route("/api/config/settings", get(config::settings))
        .route("/api/alerts", get(config::alerts))
        .route("/api/exchanges/{name}/check", get(config::check_exchange))
        .route("/api/{*rest}", get(not_found).post(not_found).put(not_found).delete(not_found))
        .route("/ws", get(ws::upgrade))
        .with_state(state);
    match web {
        Some(dir) => {
            // Client-side routes (/bots, /reports, …) fall back to the single page.
            let index = ServeFile::new(dir.join("index.html"));
            api.fallback_service(ServeDir::new(dir).fallback(index))
        }
        None => api.fallback(|| async {
            (StatusCode::NOT_FOUND, "The web UI is not built: run `npm ci && npm run build` in web/, then start the gateway with --web web/dist.")
        }),
    }
}

/// `GET /api/health`: the gateway is up; reports whether the daemon answers its health check
/// (502 when the daemon refuses the gateway: its token or its host).
async fn health(State(state): State<AppState>) -> impl IntoResponse {
    let check = HealthClient::new(state.daemon).check(HealthCheckRequest { service: String::new() }).await;
    match check.map(|r| r.into_inner().status()) {
        Ok(ServingStatus::Serving) => (StatusCode::OK, Json(json!({ "status": "ok", "daemon": "serving" }))),
        Ok(other) => (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({ "status": "degraded", "daemon": other.as_str_name().to_ascii_lowercase() })),
        ),
        Err(status) if matches!(status.code(), Code::Unauthenticated | Code::PermissionDenied) => (
            StatusCode::BAD_GATEWAY,
            Json(json!({ "status": "degraded", "daemon": "refuses_gateway", "message": status.message() })),
        ),
        Err(_) => (StatusCode::SERVICE_UNAVAILABLE, Json(json!({ "status": "degraded", "daemon": "unreachable" }))),
    }
}

async fn not_found() -> crate::error::ApiError {
    crate::error::ApiError::new(StatusCode::NOT_FOUND, "not_found", "no such API endpoint")
}
