//! Browser-facing protections of a server without login (see DESIGN.md, Security).
//!
//! * `Host` must name an allowed host: defeats DNS rebinding (a foreign domain resolving to
//!   127.0.0.1).
//! * State-changing requests and WebSocket upgrades with a foreign `Origin` are refused:
//!   defeats cross-site requests from pages the user happens to visit.
//! * Mutations must be `application/json`: forms cannot send that without a CORS preflight,
//!   which this server never grants (it sends no CORS headers at all). The one exception is
//!   the candle upload ([`UPLOAD_PATH`]), whose body is a file's raw bytes and must be
//!   `application/octet-stream`: no more a "simple" type than JSON, so a cross-site page
//!   cannot send it without the same preflight either (and its `Origin` is checked as for any
//!   mutation).

use std::sync::Arc;

use axum::{
    extract::{Request, State},
    http::{Method, StatusCode, header},
    middleware::Next,
    response::{IntoResponse, Response},
};

use crate::error::ApiError;

/// Host names (without port) the gateway answers to.
#[derive(Debug, Clone)]
pub struct AllowedHosts(Arc<Vec<String>>);

impl AllowedHosts {
    /// Loopback names plus `extra` (for example a LAN name chosen on purpose).
    #[must_use]
    pub fn new(extra: &[String]) -> Self {
        let mut hosts: Vec<String> = ["localhost", "127.0.0.1", "[::1]"].iter().map(|h| (*h).to_owned()).collect();
        hosts.extend(extra.iter().map(|h| h.to_ascii_lowercase()));
        Self(Arc::new(hosts))
    }

    /// Whether `authority` (`host` or `host:port`) names an allowed host.
    fn allows(&self, authority: &str) -> bool {
        let authority = authority.to_ascii_lowercase();
        let host = match authority.rsplit_once(':') {
            // An IPv6 literal without port ends with ']'; keep it whole.
            Some((host, port)) if !port.contains(']') && port.chars().all(|c| c.is_ascii_digit()) => host,
            _ => authority.as_str(),
        };
        self.0.iter().any(|allowed| allowed == host)
    }
}

/// The one route taking raw bytes (a candle file) instead of JSON.
pub(crate) const UPLOAD_PATH: &str = "/api/backtests/candles";

/// Whether the `Content-Type` header names `media` (parameters aside).
fn is_media(headers: &axum::http::HeaderMap, media: &str) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|c| c.to_str().ok())
        .is_some_and(|c| c.split(';').next().is_some_and(|m| m.trim().eq_ignore_ascii_case(media)))
}

fn is_mutation(method: &Method) -> bool {
    matches!(*method, Method::POST | Method::PUT | Method::PATCH | Method::DELETE)
}

/// Applies the three checks above before any handler runs.
pub(crate) async fn protect(State(hosts): State<AllowedHosts>, request: Request, next: Next) -> Response {
    let headers = request.headers();
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok()).unwrap_or_default();
    if !hosts.allows(host) {
        return ApiError::new(StatusCode::FORBIDDEN, "forbidden_host", format!("host '{host}' is not allowed"))
            .into_response();
    }
    let upgrade = headers.contains_key(header::UPGRADE);
    if (is_mutation(request.method()) || upgrade)
        && let Some(origin) = headers.get(header::ORIGIN).and_then(|o| o.to_str().ok())
    {
        let authority = origin.split_once("://").map_or(origin, |(_, rest)| rest);
        if !hosts.allows(authority) {
            return ApiError::new(
                StatusCode::FORBIDDEN,
                "forbidden_origin",
                format!("origin '{origin}' is not allowed"),
            )
            .into_response();
        }
    }
    let has_body = matches!(*request.method(), Method::POST | Method::PUT | Method::PATCH);
    let (media, advice) = if request.uri().path() == UPLOAD_PATH {
        (
            "application/octet-stream",
            "send the candle file's bytes as the body with Content-Type: application/octet-stream",
        )
    } else {
        ("application/json", "send the request body as JSON with Content-Type: application/json (an empty body is {})")
    };
    if has_body && !is_media(headers, media) {
        return ApiError::new(StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type", advice).into_response();
    }
    next.run(request).await
}
