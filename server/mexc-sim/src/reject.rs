//! The venue's error answers: `{"code": .., "msg": ..}` with an HTTP status.

use axum::{
    Json,
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use serde_json::json;

/// A refused request, in MEXC's error shape.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Reject {
    pub(crate) status: StatusCode,
    pub(crate) code: i64,
    pub(crate) msg: String,
    /// `Retry-After` seconds (429/418).
    pub(crate) retry_after: Option<u64>,
}

impl Reject {
    /// HTTP 400 with a venue code.
    pub(crate) fn bad(code: i64, msg: impl Into<String>) -> Self {
        Self { status: StatusCode::BAD_REQUEST, code, msg: msg.into(), retry_after: None }
    }

    /// 33333: a parameter is wrong.
    pub(crate) fn param(msg: impl Into<String>) -> Self {
        Self::bad(33333, msg)
    }

    /// -2013: the order does not exist (queries).
    pub(crate) fn no_such_order() -> Self {
        Self::bad(-2013, "Order does not exist.")
    }

    /// -2011: unknown order (cancels).
    pub(crate) fn unknown_order() -> Self {
        Self::bad(-2011, "Unknown order sent.")
    }

    /// 10007: a bad or unknown symbol.
    pub(crate) fn bad_symbol() -> Self {
        Self::bad(10007, "bad symbol")
    }

    /// An HTTP error whose code is the status itself (5xx, 429, 418).
    pub(crate) fn http(status: StatusCode, msg: &str) -> Self {
        Self { status, code: i64::from(status.as_u16()), msg: msg.to_owned(), retry_after: None }
    }
}

impl IntoResponse for Reject {
    fn into_response(self) -> Response {
        let body = if self.code == -2013 {
            json!({"msg": self.msg, "code": self.code, "_extend": null})
        } else {
            json!({"code": self.code, "msg": self.msg})
        };
        let mut response = (self.status, Json(body)).into_response();
        if let Some(seconds) = self.retry_after {
            response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        response
    }
}
