//! The application's boundary through `app` and `oneshot`; no daemon is needed, since every
//! request here is answered before a handler calls it.

use axum::{
    body::Body,
    http::{Request, StatusCode},
};
use boundary::{AllowedHosts, Token};
use tower::ServiceExt;

use super::*;

const TOKEN: &str = "oneshot-token-0123456789";

fn router(token: bool, web: Option<PathBuf>) -> Router {
    let channel = Channel::from_static("http://127.0.0.1:1").connect_lazy();
    let token = token.then(|| Token::new(TOKEN, "test").unwrap());
    let daemon = InterceptedService::new(channel, BearerInterceptor::new(token.as_ref()));
    let hosts = AllowedHosts::new("127.0.0.1:8080".parse().unwrap(), &[]).unwrap();
    app(AppState { daemon }, Access::new(hosts, token), web)
}

fn get(uri: &str, headers: &[(&str, &str)]) -> Request<Body> {
    let mut builder = Request::get(uri).header("host", "127.0.0.1:8080");
    for (name, value) in headers {
        builder = builder.header(*name, *value);
    }
    builder.body(Body::empty()).unwrap()
}

#[tokio::test]
async fn another_sites_page_cannot_make_a_browser_call_the_api() {
    let status = async |uri: &str, site: &str| {
        router(false, None).oneshot(get(uri, &[("sec-fetch-site", site)])).await.unwrap().status()
    };
    // An image or a link on another site costs the venue nothing.
    assert_eq!(status("/api/exchanges/sim/check", "cross-site").await, StatusCode::FORBIDDEN);
    assert_eq!(status("/api/config/pairs", "Cross-Site").await, StatusCode::FORBIDDEN);
    // The UI's own calls, and a person typing the address, go through (to the daemon, here
    // absent: 503).
    for site in ["same-origin", "none"] {
        assert_eq!(status("/api/config/pairs", site).await, StatusCode::SERVICE_UNAVAILABLE, "{site}");
    }
    // A link from elsewhere still opens the UI.
    assert_ne!(status("/", "cross-site").await, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn every_answer_forbids_framing_and_sniffing() {
    let web = tempfile::tempdir().unwrap();
    std::fs::write(web.path().join("index.html"), "<!doctype html>").unwrap();
    let requests = [
        get("/", &[]),
        get("/bots", &[]),
        get("/api/bots", &[("host", "evil.example")]),
        get("/api/bots", &[("origin", "http://127.0.0.1:9999")]),
    ];
    for request in requests {
        let uri = request.uri().clone();
        let response = router(false, Some(web.path().to_path_buf())).oneshot(request).await.unwrap();
        let headers = response.headers();
        assert_eq!(headers["x-frame-options"], "DENY", "{uri}");
        assert_eq!(headers["x-content-type-options"], "nosniff", "{uri}");
        assert!(headers["content-security-policy"].to_str().unwrap().contains("frame-ancestors 'none'"), "{uri}");
        assert!(headers.get("access-control-allow-origin").is_none(), "{uri}");
    }
}

#[tokio::test]
async fn with_a_token_only_its_bearers_and_cookie_holders_pass() {
    let web = tempfile::tempdir().unwrap();
    std::fs::write(web.path().join("index.html"), "<!doctype html>").unwrap();
    let status = |request: Request<Body>| async {
        let web = Some(web.path().to_path_buf());
        router(true, web).oneshot(request).await.unwrap().status()
    };
    assert_eq!(status(get("/", &[])).await, StatusCode::UNAUTHORIZED, "the UI's files too");
    let bearer = format!("Bearer {TOKEN}");
    assert_eq!(status(get("/", &[("authorization", &bearer)])).await, StatusCode::OK);
    let cookie = format!("tradingbot_token={TOKEN}");
    assert_eq!(status(get("/", &[("cookie", &cookie)])).await, StatusCode::OK);
    assert_eq!(status(get("/auth", &[])).await, StatusCode::UNAUTHORIZED);
    assert_eq!(status(get(&format!("/auth?token={TOKEN}"), &[])).await, StatusCode::SEE_OTHER);
    // Host and Origin come first: a rebinding page learns nothing, even about the token.
    assert_eq!(status(get("/", &[("host", "evil.example"), ("authorization", &bearer)])).await, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn without_a_token_the_exchange_path_is_nothing_special() {
    let response = router(false, None).oneshot(get("/auth?token=x", &[])).await.unwrap();
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    assert!(response.headers().get("set-cookie").is_none());
}
