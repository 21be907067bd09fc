//! The one mapping from gRPC statuses (and request errors) to HTTP error responses.
//!
//! Body: `{"error": {"code", "message", "field"?, "violations"?}}`. Server-side failures hide
//! their detail from the caller and log it instead.

use axum::{
    Json,
    http::StatusCode,
    response::{IntoResponse, Response},
};
use serde_json::{Value, json};
use tonic::Code;
use tonic_types::StatusExt;

/// An error answer of the REST API.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    code: &'static str,
    message: String,
    violations: Vec<(String, String)>,
}

impl ApiError {
    /// 400 for one or more invalid fields, each `(field, description)`.
    #[must_use]
    pub fn invalid(violations: Vec<(String, String)>) -> Self {
        let message = violations.iter().map(|(f, d)| format!("{f}: {d}")).collect::<Vec<_>>().join("; ");
        Self {
            status: StatusCode::BAD_REQUEST,
            code: "invalid_argument",
            message: format!("invalid request: {message}"),
            violations,
        }
    }

    /// An error with its own status, code and message.
    #[must_use]
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self { status, code, message: message.into(), violations: Vec::new() }
    }
}

impl From<tonic::Status> for ApiError {
    fn from(status: tonic::Status) -> Self {
        let violations: Vec<(String, String)> = status
            .get_details_bad_request()
            .map(|bad| bad.field_violations.into_iter().map(|v| (v.field, v.description)).collect())
            .unwrap_or_default();
        let (http, code) = match status.code() {
            Code::InvalidArgument | Code::OutOfRange => (StatusCode::BAD_REQUEST, "invalid_argument"),
            Code::NotFound => (StatusCode::NOT_FOUND, "not_found"),
            Code::FailedPrecondition | Code::AlreadyExists | Code::Aborted => (StatusCode::CONFLICT, "conflict"),
            Code::Unimplemented => (StatusCode::NOT_IMPLEMENTED, "not_implemented"),
            // The daemon's only use: an upload past its size limit.
            Code::ResourceExhausted => (StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large"),
            Code::Unavailable => (StatusCode::SERVICE_UNAVAILABLE, "daemon_unavailable"),
            Code::DeadlineExceeded => (StatusCode::GATEWAY_TIMEOUT, "timeout"),
            // The daemon refused the gateway itself (its token or host), not the browser.
            Code::Unauthenticated | Code::PermissionDenied => (StatusCode::BAD_GATEWAY, "daemon_refused_gateway"),
            _ => (StatusCode::INTERNAL_SERVER_ERROR, "internal"),
        };
        let message = match http {
            StatusCode::SERVICE_UNAVAILABLE => "the trading daemon is not reachable; is tradingd running?".to_owned(),
            StatusCode::BAD_GATEWAY => {
                tracing::error!(code = ?status.code(), message = status.message(), "the daemon refused the gateway");
                format!(
                    "the trading daemon refused the gateway ({}); start the gateway with the daemon's token \
                     (TRADINGD_TOKEN or --token-file) and --daemon naming an allowed host",
                    status.message()
                )
            }
            StatusCode::INTERNAL_SERVER_ERROR => {
                tracing::error!(code = ?status.code(), message = status.message(), "daemon call failed");
                "internal error; see the gateway and daemon logs".to_owned()
            }
            _ => status.message().to_owned(),
        };
        Self { status: http, code, message, violations }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut error = json!({ "code": self.code, "message": self.message });
        if let Some((field, _)) = self.violations.first() {
            error["field"] = Value::String(field.clone());
            error["violations"] =
                self.violations.iter().map(|(f, d)| json!({ "field": f, "description": d })).collect();
        }
        (self.status, Json(json!({ "error": error }))).into_response()
    }
}

/// What every handler returns.
pub type ApiResult<T> = Result<T, ApiError>;
