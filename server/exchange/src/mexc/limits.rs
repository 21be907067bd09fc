//! Client-side rate limiting for one venue account, and the gate that stops every request
//! while the venue has asked us to back off (HTTP 429/418 with `Retry-After`).
//!
//! Requests spend weight from a token bucket (`weight_per_second`); reads also spend from a
//! bucket of [`READ_SHARE`] of it, so they can never take the whole budget: order actions, a
//! kill's cancels first, always find their share free. Order creates and cancels spend from a
//! separate order-action bucket, where a waiting cancel always goes before a waiting create:
//! getting out of the market matters more than getting in. No wait is longer than `max_wait`:
//! a request that would wait longer fails as rate limited, without being sent.

use std::{
    num::NonZeroU32,
    sync::{
        Mutex,
        atomic::{AtomicUsize, Ordering},
    },
    time::Duration,
};

use governor::{
    DefaultDirectRateLimiter, Quota, RateLimiter,
    clock::{Clock, DefaultClock},
};
use tokio::{sync::Notify, time::Instant};

use crate::error::Error;

/// The share of the weight budget reads may spend, in percent; the rest is kept for orders.
pub(crate) const READ_SHARE: u32 = 80;

/// Limits of one venue account (configurable per account).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimits {
    /// Request weight per second over all endpoints.
    pub weight_per_second: u32,
    /// Order creates and cancels per second.
    pub order_actions_per_second: u32,
    /// Longest wait for a back-off to pass before a request fails instead.
    pub max_wait: Duration,
}

impl Default for RateLimits {
    /// MEXC's documented limits with margin: 20 weight/s, 12 order actions/s.
    fn default() -> Self {
        Self { weight_per_second: 20, order_actions_per_second: 12, max_wait: Duration::from_secs(30) }
    }
}

/// What kind of request is being sent; decides limits and retries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Action {
    /// A read of this weight; safe to repeat.
    Read(u32),
    /// An order cancel; safe to repeat, and goes first among order actions.
    Cancel,
    /// An order create; never repeated blindly.
    Create,
}

/// Why the venue told us to back off.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum BackOff {
    RateLimited,
    Banned,
}

/// Rate limiter plus back-off gate of one account.
#[derive(Debug)]
pub(crate) struct Limiter {
    weight: DefaultDirectRateLimiter,
    /// Reads' own share of the weight.
    reads: DefaultDirectRateLimiter,
    reads_capacity: u32,
    orders: DefaultDirectRateLimiter,
    cancels_waiting: AtomicUsize,
    /// Wakes creates waiting behind cancels.
    released: Notify,
    clock: DefaultClock,
    backoff: Mutex<Option<(Instant, BackOff)>>,
    max_wait: Duration,
}

fn nonzero(value: u32) -> NonZeroU32 {
    NonZeroU32::new(value).unwrap_or(NonZeroU32::MIN)
}

impl Limiter {
    /// A limiter enforcing `limits`.
    pub(crate) fn new(limits: RateLimits) -> Self {
        let reads_capacity = (limits.weight_per_second * READ_SHARE / 100).max(1);
        Self {
            weight: RateLimiter::direct(Quota::per_second(nonzero(limits.weight_per_second))),
            reads: RateLimiter::direct(Quota::per_second(nonzero(reads_capacity))),
            reads_capacity,
            orders: RateLimiter::direct(Quota::per_second(nonzero(limits.order_actions_per_second))),
            cancels_waiting: AtomicUsize::new(0),
            released: Notify::new(),
            clock: DefaultClock::default(),
            backoff: Mutex::new(None),
            max_wait: limits.max_wait,
        }
    }

    /// Records the venue's request to wait `retry_after`.
    pub(crate) fn back_off(&self, retry_after: Duration, banned: bool) {
        let until = Instant::now() + retry_after;
        let kind = if banned { BackOff::Banned } else { BackOff::RateLimited };
        let mut guard = self.backoff.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if guard.is_none_or(|(current, _)| current < until) {
            *guard = Some((until, kind));
        }
        tracing::warn!(?retry_after, banned, "venue asked to back off; no request until it passes");
    }

    /// Takes an order-action token. A create never takes one while a cancel waits: it re-checks
    /// each time a token could be free, so a cancel queued later still goes first.
    async fn order_action(&self, cancel: bool) {
        if cancel {
            self.cancels_waiting.fetch_add(1, Ordering::SeqCst);
        }
        loop {
            // Registered before the check, so a release between the two is not missed.
            let released = self.released.notified();
            tokio::pin!(released);
            released.as_mut().enable();
            if !cancel && self.cancels_waiting.load(Ordering::SeqCst) > 0 {
                released.await;
                continue;
            }
            match self.orders.check() {
                Ok(()) => break,
                Err(not_until) => {
                    let wait = not_until.wait_time_from(self.clock.now());
                    tokio::select! {
                        () = tokio::time::sleep(wait) => {}
                        () = released => {}
                    }
                }
            }
        }
        if cancel {
            self.cancels_waiting.fetch_sub(1, Ordering::SeqCst);
            self.released.notify_waiters();
        }
    }

    /// Waits until a request of this kind may be sent: the back-off has passed and the
    /// buckets have room. Fails at once when the back-off is longer than `max_wait`, and when
    /// the buckets have no room within it.
    pub(crate) async fn admit(&self, action: Action) -> Result<(), Error> {
        let started = Instant::now();
        let waited = tokio::time::timeout(self.max_wait, self.wait_for_room(action)).await;
        match waited {
            Ok(result) => result,
            Err(_) => {
                tracing::warn!(?action, waited = ?started.elapsed(), "the request budget has no room; not sent");
                Err(Error::RateLimited { retry_after: Duration::from_secs(1) })
            }
        }
    }

    async fn wait_for_room(&self, action: Action) -> Result<(), Error> {
        let pending = *self.backoff.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some((until, kind)) = pending {
            let remaining = until.saturating_duration_since(Instant::now());
            if remaining > self.max_wait {
                return Err(match kind {
                    BackOff::RateLimited => Error::RateLimited { retry_after: remaining },
                    BackOff::Banned => Error::Banned { retry_after: remaining },
                });
            }
            tokio::time::sleep_until(until).await;
        }
        match action {
            Action::Read(weight) => {
                // A weight above the bucket's size waits for a full bucket.
                let weight = nonzero(weight.min(self.reads_capacity));
                self.reads.until_n_ready(weight).await.unwrap_or(());
                self.weight.until_n_ready(weight).await.unwrap_or(());
            }
            Action::Cancel | Action::Create => {
                self.order_action(action == Action::Cancel).await;
                self.weight.until_ready().await;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;

    #[tokio::test]
    async fn a_waiting_cancel_goes_before_a_waiting_create() {
        let limiter = Arc::new(Limiter::new(RateLimits {
            weight_per_second: 1000,
            order_actions_per_second: 2,
            max_wait: Duration::from_secs(5),
        }));
        // Spend the order-action burst so that both below have to wait.
        limiter.admit(Action::Create).await.unwrap();
        limiter.admit(Action::Create).await.unwrap();
        let order = Arc::new(Mutex::new(Vec::new()));
        let create = tokio::spawn({
            let (limiter, order) = (Arc::clone(&limiter), Arc::clone(&order));
            async move {
                limiter.admit(Action::Create).await.unwrap();
                order.lock().unwrap().push("create");
            }
        });
        // The test runtime has one thread: yielding lets the create run until it waits for a
        // token (half a second away), whatever the machine's speed, so the cancel below is
        // queued after it. A fixed sleep would only make that likely.
        for _ in 0..3 {
            tokio::task::yield_now().await;
        }
        assert!(!create.is_finished(), "the create must be waiting for a token");
        let cancel = tokio::spawn({
            let (limiter, order) = (Arc::clone(&limiter), Arc::clone(&order));
            async move {
                limiter.admit(Action::Cancel).await.unwrap();
                order.lock().unwrap().push("cancel");
            }
        });
        create.await.unwrap();
        cancel.await.unwrap();
        assert_eq!(*order.lock().unwrap(), ["cancel", "create"]);
    }

    #[tokio::test]
    async fn reads_cannot_take_the_share_kept_for_cancels() {
        use futures::FutureExt;
        let limiter = Limiter::new(RateLimits {
            weight_per_second: 10,
            order_actions_per_second: 10,
            max_wait: Duration::from_secs(5),
        });
        // Reads spend their whole share at once (a page hammering venue checks, say).
        let mut admitted = 0;
        while limiter.admit(Action::Read(1)).now_or_never().is_some() {
            admitted += 1;
        }
        assert_eq!(admitted, 8, "reads get their share and no more");
        // A kill's cancel still goes at once.
        assert!(matches!(limiter.admit(Action::Cancel).now_or_never(), Some(Ok(()))), "the cancel did not wait");
    }

    #[tokio::test]
    async fn no_request_waits_longer_than_the_limit_for_room() {
        let limiter = Limiter::new(RateLimits {
            weight_per_second: 1,
            order_actions_per_second: 1,
            max_wait: Duration::from_millis(50),
        });
        limiter.admit(Action::Read(1)).await.unwrap();
        // The bucket refills in a second; the limit is far shorter: refused, not queued.
        assert!(matches!(limiter.admit(Action::Read(1)).await, Err(Error::RateLimited { .. })));
    }

    #[tokio::test]
    async fn a_back_off_longer_than_the_limit_fails_at_once() {
        let limiter = Limiter::new(RateLimits { max_wait: Duration::from_secs(1), ..RateLimits::default() });
        limiter.back_off(Duration::from_secs(120), true);
        assert!(matches!(limiter.admit(Action::Read(1)).await, Err(Error::Banned { .. })));
    }
}
