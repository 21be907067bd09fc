//! Browser-facing protections of a server without login (see DESIGN.md, Security), on every
//! request, the UI's files included. The rules are the `boundary` crate's, as in `tradingd`.
//!
//! * `Host` must name an allowed host: defeats DNS rebinding (a foreign domain resolving to
//!   127.0.0.1).
//! * A request carrying a foreign `Origin` (scheme, host and port compared exactly) is
//!   refused: defeats cross-site requests from pages the user happens to visit.
//! * Mutations must be `application/json`: forms cannot send that without a CORS preflight,
//!   which this server never grants (it sends no CORS headers at all). The one exception is
//!   the candle upload ([`UPLOAD_PATH`]), whose body is a file's raw bytes and must be
//!   `application/octet-stream`: no more a "simple" type than JSON, so a cross-site page
//!   cannot send it without the same preflight either (and its `Origin` is checked as for any
//!   mutation).
//! * With a token, every request must carry it, as `Authorization: Bearer <token>` or as the
//!   cookie that one visit to `/auth?token=<token>` sets (`HttpOnly`, `SameSite=Strict`): the
//!   browser's way, since the UI has no login page.
//! * Every answer forbids framing (`X-Frame-Options`, CSP `frame-ancestors`) and MIME sniffing,
//!   and the CSP lets the UI load only its own scripts and talk only to its own origin.

use std::sync::Arc;

use axum::{
    extract::{Request, State},
    http::{HeaderMap, HeaderValue, Method, StatusCode, header},
    middleware::Next,
    response::{IntoResponse, Response},
};
use boundary::{AllowedHosts, AuthError, Token};

use crate::error::ApiError;

/// Path of the token exchange.
const AUTH_PATH: &str = "/auth";

/// Name of the cookie carrying the token.
const COOKIE: &str = "tradingbot_token";

/// The Content Security Policy of every answer: the UI's own scripts, styles (inline styles
/// too: charts set them), images and fonts; requests and the WebSocket to its own origin only;
/// never in a frame.
const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; \
                   font-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; \
                   form-action 'self'; frame-ancestors 'none'";

/// Who may use the gateway.
#[derive(Debug, Clone)]
pub struct Access(Arc<Rules>);

#[derive(Debug)]
struct Rules {
    hosts: AllowedHosts,
    token: Option<Token>,
}

impl Access {
    /// Clients naming one of `hosts`, and with `token`, only those presenting it.
    #[must_use]
    pub fn new(hosts: AllowedHosts, token: Option<Token>) -> Self {
        Self(Arc::new(Rules { hosts, token }))
    }
}

/// The header in which browsers say which site a request comes from.
const SEC_FETCH_SITE: &str = "sec-fetch-site";

/// The one route taking raw bytes (a candle file) instead of JSON.
pub(crate) const UPLOAD_PATH: &str = "/api/backtests/candles";

/// Whether the `Content-Type` header names `media` (parameters aside).
fn is_media(headers: &axum::http::HeaderMap, media: &str) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|c| c.to_str().ok())
        .is_some_and(|c| c.split(';').next().is_some_and(|m| m.trim().eq_ignore_ascii_case(media)))
}

/// Applies the checks above before any handler runs.
pub(crate) async fn protect(State(access): State<Access>, request: Request, next: Next) -> Response {
    let headers = request.headers();
    if let Err(refusal) = boundary::check_request(&access.0.hosts, headers, request.uri()) {
        let code = match refusal {
            boundary::Refusal::ForeignOrigin { .. } => "forbidden_origin",
            _ => "forbidden_host",
        };
        return ApiError::new(StatusCode::FORBIDDEN, code, refusal.to_string()).into_response();
    }
    // A page elsewhere can make the browser fetch an API address without an `Origin` (an
    // image, say); the browser still says where the request comes from. Every API call costs
    // the daemon, and some the venue's request budget: none from another site.
    if request.uri().path().starts_with("/api/")
        && headers.get(SEC_FETCH_SITE).is_some_and(|site| site.as_bytes().eq_ignore_ascii_case(b"cross-site"))
    {
        return ApiError::new(StatusCode::FORBIDDEN, "forbidden_origin", "a page of another site may not call the API")
            .into_response();
    }
    if let Some(token) = &access.0.token {
        if request.uri().path() == AUTH_PATH {
            return exchange(token, request.method(), request.uri().query());
        }
        if let Err(e) = authenticate(token, headers) {
            return unauthenticated(e);
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

/// Checks the `Authorization` header, or without one the token cookie.
fn authenticate(token: &Token, headers: &HeaderMap) -> Result<(), AuthError> {
    if let Some(value) = headers.get(header::AUTHORIZATION) {
        return token.check_authorization(Some(value.as_bytes()));
    }
    let mut cookie = None;
    for value in headers.get_all(header::COOKIE) {
        let Ok(text) = value.to_str() else { continue };
        for pair in text.split(';') {
            if let Some((name, value)) = pair.trim().split_once('=')
                && name == COOKIE
            {
                cookie = Some(value.to_owned());
            }
        }
    }
    match cookie {
        Some(value) if token.matches(value.as_bytes()) => Ok(()),
        Some(_) => Err(AuthError::Wrong),
        None => Err(AuthError::Missing),
    }
}

fn unauthenticated(error: AuthError) -> Response {
    let message = match error {
        AuthError::Missing => format!(
            "this gateway requires its token: open {AUTH_PATH}?token=<token> once in this browser (it sets a cookie), \
             or send the header `Authorization: Bearer <token>`"
        ),
        other => other.to_string(),
    };
    let mut response = ApiError::new(StatusCode::UNAUTHORIZED, "unauthenticated", message).into_response();
    response.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
    response
}

/// `GET /auth?token=<token>`: the right token gets the cookie and a redirect to the UI.
fn exchange(token: &Token, method: &Method, query: Option<&str>) -> Response {
    if *method != Method::GET {
        return ApiError::new(StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed", "use GET /auth?token=<token>")
            .into_response();
    }
    let given = query.and_then(|q| q.split('&').find_map(|pair| pair.strip_prefix("token="))).map(percent_decode);
    let Some(given) = given else { return unauthenticated(AuthError::Missing) };
    if !token.matches(given.as_bytes()) {
        return unauthenticated(AuthError::Wrong);
    }
    // The token holds only characters a cookie carries as they are (see `boundary::Token`).
    let cookie = format!("{COOKIE}={}; HttpOnly; SameSite=Strict; Path=/", token.expose());
    let mut response = (StatusCode::SEE_OTHER, [(header::LOCATION, "/")]).into_response();
    let headers = response.headers_mut();
    if let Ok(mut value) = HeaderValue::from_str(&cookie) {
        value.set_sensitive(true);
        headers.insert(header::SET_COOKIE, value);
    }
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// Decodes `%XX` escapes (a `+` stays a `+`: tokens may hold it); a broken escape is kept.
fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes.get(i + 1..i + 3).and_then(|h| std::str::from_utf8(h).ok());
        match (bytes[i], hex.and_then(|h| u8::from_str_radix(h, 16).ok())) {
            (b'%', Some(byte)) => {
                out.push(byte);
                i += 3;
            }
            (byte, _) => {
                out.push(byte);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Adds the anti-framing, anti-sniffing and content-security headers to every answer.
pub(crate) async fn harden(mut response: Response) -> Response {
    let headers = response.headers_mut();
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(CSP));
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percent_escapes_are_decoded_and_plus_is_kept() {
        assert_eq!(percent_decode("ab%2Bc+d%3D%zz%4"), "ab+c+d=%zz%4");
    }

    #[test]
    fn the_header_wins_over_the_cookie_and_a_wrong_cookie_is_refused() {
        let token = Token::new("gateway-test-token-0123", "test").unwrap();
        let mut headers = HeaderMap::new();
        assert_eq!(authenticate(&token, &headers), Err(AuthError::Missing));
        headers.insert(header::COOKIE, HeaderValue::from_static("a=b; tradingbot_token=gateway-test-token-0123"));
        assert_eq!(authenticate(&token, &headers), Ok(()));
        headers.insert(header::AUTHORIZATION, HeaderValue::from_static("Bearer nope-nope-nope-nope"));
        assert_eq!(authenticate(&token, &headers), Err(AuthError::Wrong));
        headers.remove(header::AUTHORIZATION);
        headers.insert(header::COOKIE, HeaderValue::from_static("tradingbot_token=gateway-test-token-0124"));
        assert_eq!(authenticate(&token, &headers), Err(AuthError::Wrong));
    }
}
