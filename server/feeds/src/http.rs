//! One GET to a source, its failures classified.

use std::time::Duration;

use serde_json::Value;

use crate::FeedError;

/// How long a source may take to answer.
const TIMEOUT: Duration = Duration::from_secs(15);

/// The HTTP client of every source.
pub(crate) fn client() -> Result<reqwest::Client, FeedError> {
    reqwest::Client::builder()
        .timeout(TIMEOUT)
        .user_agent(concat!("tradingbot/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| FeedError::Unreachable(format!("cannot build the HTTP client: {e}")))
}

/// GETs `url` with `headers`; the body of a successful answer.
pub(crate) async fn get(http: &reqwest::Client, url: &str, headers: &[(&str, &str)]) -> Result<Vec<u8>, FeedError> {
    let mut request = http.get(url);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let response = request.send().await.map_err(|e| FeedError::Unreachable(e.to_string()))?;
    let status = response.status().as_u16();
    let body = response.bytes().await.map_err(|e| FeedError::Unreachable(e.to_string()))?;
    match status {
        200..=299 => Ok(body.to_vec()),
        429 => Err(FeedError::RateLimited(status)),
        _ => Err(FeedError::Refused { status, message: explanation(&body) }),
    }
}

/// What an error answer says: CoinGecko's `status.error_message`, alternative.me's
/// `metadata.error`, or the start of the body.
pub(crate) fn explanation(body: &[u8]) -> String {
    let parsed: Option<Value> = serde_json::from_slice(body).ok();
    let said = parsed.as_ref().and_then(|v| {
        v["status"]["error_message"].as_str().or_else(|| v["metadata"]["error"].as_str()).map(str::to_owned)
    });
    said.unwrap_or_else(|| String::from_utf8_lossy(&body[..body.len().min(200)]).into_owned())
}

/// A JSON answer.
pub(crate) fn json(body: &[u8]) -> Result<Value, FeedError> {
    serde_json::from_slice(body).map_err(|e| FeedError::Unreadable(format!("not JSON: {e}")))
}
