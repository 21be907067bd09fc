//! The simulator's two clocks: the market clock (replay time, `speed` times faster than the wall
//! clock, plus manual steps) and the server clock (wall clock plus the skew fault).

use std::{
    sync::atomic::{AtomicI64, Ordering},
    time::{Duration, Instant, SystemTime, UNIX_EPOCH},
};

const MINUTE_MS: i64 = 60_000;

/// The market clock.
#[derive(Debug)]
pub(crate) struct Clock {
    started: Instant,
    start_ms: i64,
    speed: f64,
    manual_ms: AtomicI64,
}

impl Clock {
    /// Starts at the beginning of the wall clock's current minute, a bar boundary, so that the
    /// market played is the same for a seed whatever second the simulator starts in; `speed`
    /// must be finite and non-negative.
    pub(crate) fn new(speed: f64) -> Self {
        let start_ms = wall_ms().div_euclid(MINUTE_MS) * MINUTE_MS;
        Self { started: Instant::now(), start_ms, speed, manual_ms: AtomicI64::new(0) }
    }

    /// The market time now (epoch ms).
    pub(crate) fn now(&self) -> i64 {
        let scaled = self.started.elapsed().mul_f64(self.speed);
        self.start_ms + millis(scaled) + self.manual_ms.load(Ordering::SeqCst)
    }

    /// Moves the market clock forward by `ms`.
    pub(crate) fn advance(&self, ms: u64) {
        self.manual_ms.fetch_add(i64::try_from(ms).unwrap_or(i64::MAX), Ordering::SeqCst);
    }
}

/// The wall clock (epoch ms).
pub(crate) fn wall_ms() -> i64 {
    millis(SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default())
}

fn millis(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}
