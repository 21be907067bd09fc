//! REST fault injection: request counting, rate limiting (429/418 with `Retry-After`), latency
//! and 5xx answers, applied before a request reaches its handler.

use std::{
    collections::VecDeque,
    sync::{Arc, PoisonError},
    time::{Duration, Instant},
};

use axum::{
    extract::{Request, State},
    http::StatusCode,
    middleware::Next,
    response::{IntoResponse, Response},
};
use rand::Rng;

use crate::{config::RateLimitFault, reject::Reject, server::Shared};

/// The rate-limit fault's memory: recent requests and the current penalty.
#[derive(Debug, Default)]
pub(crate) struct Limiter {
    recent: VecDeque<Instant>,
    blocked_until: Option<Instant>,
}

impl Limiter {
    /// Admits a request at `now`, or refuses it with the seconds left before a retry.
    fn admit(&mut self, rule: &RateLimitFault, now: Instant) -> Result<(), u64> {
        if let Some(until) = self.blocked_until.filter(|u| *u > now) {
            return Err((until - now).as_millis().div_ceil(1000).try_into().unwrap_or(u64::MAX));
        }
        let window = Duration::from_millis(rule.window_ms);
        while self.recent.front().is_some_and(|t| now.duration_since(*t) >= window) {
            self.recent.pop_front();
        }
        if self.recent.len() >= rule.max_requests as usize {
            self.blocked_until = Some(now + Duration::from_secs(rule.retry_after_secs));
            self.recent.clear();
            return Err(rule.retry_after_secs);
        }
        self.recent.push_back(now);
        Ok(())
    }
}

/// True with probability `rate` (clamped to 0..=1), from the seeded fault generator.
pub(crate) fn roll(shared: &Shared, rate: f64) -> bool {
    if rate.is_nan() || rate <= 0.0 {
        return false;
    }
    shared.fault_rng.lock().unwrap_or_else(PoisonError::into_inner).random_bool(rate.min(1.0))
}

/// Counts the request, then applies the rate limit, the latency and the 5xx faults.
pub(crate) async fn middleware(State(shared): State<Arc<Shared>>, request: Request, next: Next) -> Response {
    shared.requests.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    let faults = shared.faults();
    if let Some(rule) = &faults.rate_limit {
        let verdict = shared.limiter.lock().unwrap_or_else(PoisonError::into_inner).admit(rule, Instant::now());
        if let Err(retry_after) = verdict {
            let status = StatusCode::from_u16(rule.status).unwrap_or(StatusCode::TOO_MANY_REQUESTS);
            let msg = if status == StatusCode::IM_A_TEAPOT { "IP banned" } else { "Too Many Requests" };
            return Reject { retry_after: Some(retry_after), ..Reject::http(status, msg) }.into_response();
        }
    } else {
        shared.limiter.lock().unwrap_or_else(PoisonError::into_inner).blocked_until = None;
    }
    if faults.latency_ms > 0 {
        tokio::time::sleep(Duration::from_millis(faults.latency_ms)).await;
    }
    if roll(&shared, faults.error_5xx_rate) {
        let status =
            if roll(&shared, 0.5) { StatusCode::SERVICE_UNAVAILABLE } else { StatusCode::INTERNAL_SERVER_ERROR };
        return Reject::http(status, "Internal error").into_response();
    }
    next.run(request).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_limiter_refuses_until_retry_after_has_passed() {
        let rule = RateLimitFault { max_requests: 2, window_ms: 1000, retry_after_secs: 3, status: 429 };
        let mut limiter = Limiter::default();
        let t0 = Instant::now();
        assert_eq!(limiter.admit(&rule, t0), Ok(()));
        assert_eq!(limiter.admit(&rule, t0), Ok(()));
        assert_eq!(limiter.admit(&rule, t0), Err(3));
        assert_eq!(limiter.admit(&rule, t0 + Duration::from_millis(1500)), Err(2));
        assert_eq!(limiter.admit(&rule, t0 + Duration::from_secs(3)), Ok(()));
    }
}
