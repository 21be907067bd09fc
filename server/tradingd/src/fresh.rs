//! [`Fresh`]: the last answer per key, kept for a while. Callers asking for one key at once
//! share one fetch, and a slow fetch of one key never holds up another.

use std::{
    collections::BTreeMap,
    sync::{Arc, Mutex, PoisonError},
    time::{Duration, Instant},
};

/// One key's last answer and when it was fetched.
type Slot<T> = Arc<tokio::sync::Mutex<Option<(Instant, T)>>>;

/// Answers per key, each fetched again once older than `max_age`.
#[derive(Debug)]
pub(crate) struct Fresh<T> {
    max_age: Duration,
    slots: Mutex<BTreeMap<String, Slot<T>>>,
}

impl<T: Clone> Fresh<T> {
    /// Answers kept for `max_age`.
    pub(crate) const fn new(max_age: Duration) -> Self {
        Self { max_age, slots: Mutex::new(BTreeMap::new()) }
    }

    /// The answer for `key`: the kept one while it is fresh, else what `fetch` returns (kept
    /// only when it succeeds).
    ///
    /// # Errors
    /// `fetch`'s error, when a fresh answer was needed and could not be had.
    pub(crate) async fn get<E>(&self, key: &str, fetch: impl AsyncFnOnce() -> Result<T, E>) -> Result<T, E> {
        let slot = {
            let mut slots = self.slots.lock().unwrap_or_else(PoisonError::into_inner);
            Arc::clone(slots.entry(key.to_owned()).or_default())
        };
        let mut kept = slot.lock().await;
        if let Some((at, value)) = kept.as_ref()
            && at.elapsed() < self.max_age
        {
            return Ok(value.clone());
        }
        let value = fetch().await?;
        *kept = Some((Instant::now(), value.clone()));
        Ok(value)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicU32, Ordering};

    use super::*;

    #[tokio::test]
    async fn an_answer_is_kept_per_key_and_a_failure_is_not() {
        let fresh = Fresh::new(Duration::from_secs(60));
        let fetches = AtomicU32::new(0);
        let fetch = async || -> Result<u32, ()> { Ok(fetches.fetch_add(1, Ordering::SeqCst)) };
        assert_eq!(fresh.get("a", fetch).await, Ok(0));
        assert_eq!(fresh.get("a", fetch).await, Ok(0), "kept");
        assert_eq!(fresh.get("b", fetch).await, Ok(1), "another key is fetched on its own");
        assert_eq!(fresh.get("c", async || Err::<u32, _>("down")).await, Err("down"));
        assert_eq!(fresh.get("c", fetch).await, Ok(2), "a failure is not kept");
        let stale = Fresh::new(Duration::ZERO);
        stale.get("a", fetch).await.unwrap();
        assert_eq!(stale.get("a", fetch).await, Ok(4), "an old answer is fetched again");
    }
}
