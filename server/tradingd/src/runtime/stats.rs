//! How well the bots keep up with the market: the delay from a trade's arrival at the hub to
//! the end of each bot's decision on it (including writing and sending an order it leads to),
//! and how many events and orders there were. Logged every minute and at shutdown.

use std::{
    sync::{
        Mutex, PoisonError,
        atomic::{AtomicU64, Ordering},
    },
    time::Duration,
};

use hdrhistogram::Histogram;

/// Largest delay recorded exactly (longer ones count as this): one minute, in microseconds.
const MAX_MICROS: u64 = 60_000_000;

/// Event-to-decision delays and counts, shared by every bot task.
#[derive(Debug)]
pub(crate) struct LoadStats {
    delays: Mutex<Histogram<u64>>,
    orders: AtomicU64,
}

impl Default for LoadStats {
    fn default() -> Self {
        let histogram = Histogram::new_with_bounds(1, MAX_MICROS, 3).expect("constant bounds are valid");
        Self { delays: Mutex::new(histogram), orders: AtomicU64::new(0) }
    }
}

impl LoadStats {
    /// Records one market event's delay from arrival to decision.
    pub(crate) fn event(&self, delay: Duration) {
        let micros = u64::try_from(delay.as_micros()).unwrap_or(MAX_MICROS).clamp(1, MAX_MICROS);
        self.delays.lock().unwrap_or_else(PoisonError::into_inner).saturating_record(micros);
    }

    /// Counts an order sent (or filled on paper).
    pub(crate) fn order(&self) {
        self.orders.fetch_add(1, Ordering::Relaxed);
    }

    /// One line for the log: counts and delay percentiles since the start.
    pub(crate) fn summary(&self) -> String {
        let delays = self.delays.lock().unwrap_or_else(PoisonError::into_inner);
        format!(
            "market events handled {}, orders {}, event-to-decision p50 {} µs, p99 {} µs, max {} µs",
            delays.len(),
            self.orders.load(Ordering::Relaxed),
            delays.value_at_quantile(0.5),
            delays.value_at_quantile(0.99),
            delays.max(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_summary_reports_counts_and_percentiles() {
        let stats = LoadStats::default();
        for micros in 1..=100 {
            stats.event(Duration::from_micros(micros));
        }
        stats.order();
        let summary = stats.summary();
        assert!(
            summary.starts_with("market events handled 100, orders 1, event-to-decision p50 50 µs, p99 99 µs"),
            "{summary}"
        );
    }
}
