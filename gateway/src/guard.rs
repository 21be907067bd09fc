//! Browser-facing protections of a server without login (see DESIGN.md, Security).
//!
//! * `Host` must name an allowed host: defeats DNS rebinding (a foreign domain resolving to
//!   127.0.0.1).
//! * State-changing requests and WebSocket upgrades with a foreign `Origin` are refused:
//!   defeats cross-site requests from pages the user happens to visit.
//! * Mutations must be `application/json`: forms cannot send that without a CORS preflight,
//!   which this server never grants (it sends no CORS headers at all).

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
    let needs_json = matches!(*request.method(), Method::POST | Method::PUT | Method::PATCH);
    let is_json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|c| c.to_str().ok())
        .is_some_and(|c| c.split(';').next().is_some_and(|m| m.trim().eq_ignore_ascii_case("application/json")));
    if needs_json && !is_json {
        return ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "send the request body as JSON with Content-Type: application/json (an empty body is {})",
        )
        .into_response();
    }
    next.run(request).await
}
