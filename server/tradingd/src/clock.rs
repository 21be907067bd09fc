//! The daemon's one source of "now": the domain never reads a clock itself.

use std::time::{SystemTime, UNIX_EPOCH};

use domain::time::Timestamp;

/// The current wall-clock time.
pub(crate) fn now() -> Timestamp {
    let millis = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis());
    Timestamp::from_millis(i64::try_from(millis).unwrap_or(i64::MAX))
}
