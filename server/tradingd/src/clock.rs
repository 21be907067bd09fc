//! The daemon's one source of "now": the domain never reads a clock itself.

use std::time::{SystemTime, UNIX_EPOCH};

use domain::time::Timestamp;
use time::{OffsetDateTime, format_description::BorrowedFormatItem, macros::format_description};

const RFC3339_MILLIS: &[BorrowedFormatItem<'static>] =
    format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z");

/// The current wall-clock time.
pub(crate) fn now() -> Timestamp {
    let millis = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis());
    Timestamp::from_millis(i64::try_from(millis).unwrap_or(i64::MAX))
}

/// Formats an instant as RFC 3339 UTC with milliseconds.
pub(crate) fn rfc3339(at: Timestamp) -> String {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(at.millis()) * 1_000_000)
        .ok()
        .and_then(|t| t.format(RFC3339_MILLIS).ok())
        .unwrap_or_default()
}
