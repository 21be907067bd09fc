//! The MEXC REST transport: signing, server-time offset, rate limits, error classification,
//! and retries of requests that are safe to repeat.

use std::{
    sync::atomic::{AtomicBool, AtomicI64, Ordering},
    time::{Duration, SystemTime, UNIX_EPOCH},
};

use backon::{ExponentialBuilder, Retryable};
use reqwest::{Method, StatusCode, header::HeaderMap};
use serde_json::Value;

use super::{
    limits::{Action, Limiter, RateLimits},
    sign::{query_string, signed_query},
    wire::ErrorBody,
};
use crate::error::{Error, VenueError};

/// Retry-After when the venue sends none: 10 s after a 429, 120 s after a 418.
const DEFAULT_RETRY_AFTER_429: Duration = Duration::from_secs(10);
const DEFAULT_RETRY_AFTER_418: Duration = Duration::from_secs(120);

/// Credentials and endpoints of one account (its `Debug` shows no credential).
#[derive(Clone)]
pub(crate) struct Endpoint {
    pub(crate) base_url: String,
    pub(crate) api_key: String,
    pub(crate) api_secret: String,
    pub(crate) recv_window_ms: u32,
    pub(crate) timeout: Duration,
}

impl std::fmt::Debug for Endpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Endpoint")
            .field("base_url", &self.base_url)
            .field("recv_window_ms", &self.recv_window_ms)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

/// One account's REST client.
#[derive(Debug)]
pub(crate) struct Rest {
    http: reqwest::Client,
    endpoint: Endpoint,
    limiter: Limiter,
    /// Server time minus local time, in milliseconds.
    clock_offset_ms: AtomicI64,
    clock_synced: AtomicBool,
}

fn local_millis() -> i64 {
    let millis = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis());
    i64::try_from(millis).unwrap_or(i64::MAX)
}

fn retry_after(headers: &HeaderMap, default: Duration) -> Duration {
    headers
        .get(reqwest::header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok())
        .map_or(default, Duration::from_secs)
}

/// Maps a venue error code to its class.
fn classify(venue: VenueError) -> Error {
    match venue.code {
        400 | 401 | 403 | 602 | 700_001 | 700_002 | 700_006 | 700_007 | 70_011 => Error::Auth(venue),
        700_003 => Error::Timestamp(venue),
        10_101 | 30_004 | 30_005 => Error::InsufficientFunds(venue),
        30_002 | 30_003 | 30_087 => Error::InvalidOrder(venue.to_string()),
        -2011 | -2013 => Error::NotFound(venue),
        10_007 | 30_014 | 30_021 | 730_001 => Error::NotFound(venue),
        _ if venue.http_status >= 500 => Error::VenueUnavailable(venue.to_string()),
        _ => Error::Rejected(venue),
    }
}

impl Rest {
    pub(crate) fn new(endpoint: Endpoint, limits: RateLimits) -> Result<Self, Error> {
        let http = reqwest::Client::builder()
            .timeout(endpoint.timeout)
            .build()
            .map_err(|e| Error::VenueUnavailable(format!("cannot build the HTTP client: {e}")))?;
        Ok(Self {
            http,
            endpoint,
            limiter: Limiter::new(limits),
            clock_offset_ms: AtomicI64::new(0),
            clock_synced: AtomicBool::new(false),
        })
    }

    /// The measured server-minus-local clock offset in milliseconds.
    pub(crate) fn clock_offset_ms(&self) -> i64 {
        self.clock_offset_ms.load(Ordering::Relaxed)
    }

    /// Measures the server-time offset from `/api/v3/time`, halving the round trip.
    pub(crate) async fn sync_clock(&self) -> Result<i64, Error> {
        let sent = local_millis();
        let body = self.send_once(&Method::GET, "/api/v3/time", &[], false, Action::Read(1)).await?;
        let received = local_millis();
        let server = body["serverTime"].as_i64().ok_or_else(|| Error::Decode("time: no serverTime".into()))?;
        let offset = server - (sent + received) / 2;
        self.clock_offset_ms.store(offset, Ordering::Relaxed);
        self.clock_synced.store(true, Ordering::Relaxed);
        tracing::debug!(offset_ms = offset, "server clock offset measured");
        Ok(offset)
    }

    /// A public GET, retried with jittered backoff on retryable errors.
    pub(crate) async fn public(&self, path: &str, params: &[(&str, String)], weight: u32) -> Result<Value, Error> {
        self.with_retries(&Method::GET, path, params, false, Action::Read(weight)).await
    }

    /// A signed request. Reads and cancels are retried; creates are sent exactly once.
    pub(crate) async fn signed(
        &self,
        method: &Method,
        path: &str,
        params: &[(&str, String)],
        action: Action,
    ) -> Result<Value, Error> {
        if !self.clock_synced.load(Ordering::Relaxed) {
            self.sync_clock().await?;
        }
        match action {
            Action::Create => {
                let result = self.send_once(method, path, params, true, action).await;
                if let Err(Error::Timestamp(_)) = &result {
                    // Refused, so not placed; re-measure so the caller's next decision can go out.
                    self.sync_clock().await?;
                }
                result
            }
            Action::Read(_) | Action::Cancel => self.with_retries(method, path, params, true, action).await,
        }
    }

    async fn with_retries(
        &self,
        method: &Method,
        path: &str,
        params: &[(&str, String)],
        signed: bool,
        action: Action,
    ) -> Result<Value, Error> {
        let attempt = || async {
            let result = self.send_once(method, path, params, signed, action).await;
            if let Err(Error::Timestamp(_)) = &result {
                // Our clock drifted from the venue's: measure again before the retry.
                self.sync_clock().await?;
            }
            result
        };
        attempt
            .retry(
                ExponentialBuilder::default()
                    .with_min_delay(Duration::from_millis(100))
                    .with_max_times(4)
                    .with_jitter(),
            )
            .sleep(tokio::time::sleep)
            .when(Error::is_retryable)
            .await
    }

    /// Sends one request through the limiter and classifies the answer.
    async fn send_once(
        &self,
        method: &Method,
        path: &str,
        params: &[(&str, String)],
        signed: bool,
        action: Action,
    ) -> Result<Value, Error> {
        self.limiter.admit(action).await?;
        let query = if signed {
            let timestamp = local_millis() + self.clock_offset_ms();
            signed_query(&self.endpoint.api_secret, params, self.endpoint.recv_window_ms, timestamp)
        } else {
            query_string(params)
        };
        let url = if query.is_empty() {
            format!("{}{path}", self.endpoint.base_url)
        } else {
            format!("{}{path}?{query}", self.endpoint.base_url)
        };
        let mut request = self.http.request(method.clone(), url);
        if signed {
            request = request.header("X-MEXC-APIKEY", &self.endpoint.api_key);
        }
        if *method != Method::GET {
            request = request.header(reqwest::header::CONTENT_TYPE, "application/json");
        }
        // The URL of a signed request carries its signature: never in an error's text.
        let response = request.send().await.map_err(|e| {
            let e = e.without_url();
            if e.is_connect() {
                Error::Unreachable(format!("{path}: {e}"))
            } else {
                Error::VenueUnavailable(format!("{path}: request failed: {e}"))
            }
        })?;
        let status = response.status();
        let headers = response.headers().clone();
        let text = response
            .text()
            .await
            .map_err(|e| Error::VenueUnavailable(format!("{path}: reading the answer: {}", e.without_url())))?;
        match status {
            StatusCode::TOO_MANY_REQUESTS => {
                let wait = retry_after(&headers, DEFAULT_RETRY_AFTER_429);
                self.limiter.back_off(wait, false);
                Err(Error::RateLimited { retry_after: wait })
            }
            StatusCode::IM_A_TEAPOT => {
                let wait = retry_after(&headers, DEFAULT_RETRY_AFTER_418);
                self.limiter.back_off(wait, true);
                Err(Error::Banned { retry_after: wait })
            }
            s if s.is_success() => serde_json::from_str(&text).map_err(|e| Error::Decode(format!("{path}: {e}"))),
            s => {
                let body: Option<ErrorBody> = serde_json::from_str(&text).ok();
                let venue = VenueError {
                    http_status: s.as_u16(),
                    code: body.as_ref().map_or(0, ErrorBody::code),
                    message: body.and_then(|b| b.msg).unwrap_or_else(|| text.chars().take(200).collect()),
                };
                Err(classify(venue))
            }
        }
    }
}
