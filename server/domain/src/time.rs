//! Time as the domain sees it: an instant handed in by the caller, never read from a clock.

use serde::{Deserialize, Serialize};

/// An instant in UTC as milliseconds since the Unix epoch.
///
/// The domain never reads the clock: whoever drives it passes `now` in, which keeps every
/// decision reproducible in tests and backtests.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Timestamp(i64);

impl Timestamp {
    /// The instant `millis` milliseconds after the Unix epoch.
    #[must_use]
    pub const fn from_millis(millis: i64) -> Self {
        Self(millis)
    }

    /// Milliseconds since the Unix epoch.
    #[must_use]
    pub const fn millis(self) -> i64 {
        self.0
    }
}
