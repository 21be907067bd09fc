//! The adapter's error type: every venue failure classified, with the venue's own code and
//! message kept for the person reading the alert.

use std::{fmt, time::Duration};

/// A venue's error code and message, verbatim.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VenueError {
    /// HTTP status of the answer (0 when none arrived).
    pub http_status: u16,
    /// Venue error code (0 when the body had none).
    pub code: i64,
    /// Venue message.
    pub message: String,
}

impl fmt::Display for VenueError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "venue code {}: {} (HTTP {})", self.code, self.message, self.http_status)
    }
}

/// What went wrong talking to a venue.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// Key, signature, permission or IP allow-list problem. Not retried.
    #[error("authentication failed: {0}")]
    Auth(VenueError),
    /// The request's timestamp was outside the venue's window; the clock is re-synced.
    #[error("request timestamp rejected: {0}")]
    Timestamp(VenueError),
    /// Not enough balance (or position) on the venue account.
    #[error("insufficient funds: {0}")]
    InsufficientFunds(VenueError),
    /// The order breaks a quantity, price or notional rule (checked locally or by the venue).
    #[error("invalid order: {0}")]
    InvalidOrder(String),
    /// The order (or symbol) does not exist, or does not exist yet.
    #[error("not found: {0}")]
    NotFound(VenueError),
    /// Too many requests (HTTP 429): nothing is sent to the venue until `retry_after` passes.
    #[error("rate limited by the venue; retry after {retry_after:?}")]
    RateLimited {
        /// How long the venue asked us to wait.
        retry_after: Duration,
    },
    /// IP banned after repeated 429s (HTTP 418): nothing is sent until `retry_after` passes.
    #[error("banned by the venue; retry after {retry_after:?}")]
    Banned {
        /// How long the ban lasts.
        retry_after: Duration,
    },
    /// The venue or the network failed after the request may have been sent (5xx, timeout,
    /// broken connection): for an order create, its outcome is unknown.
    #[error("venue unavailable: {0}")]
    VenueUnavailable(String),
    /// The venue could not be reached at all; the request was certainly not received.
    #[error("venue unreachable: {0}")]
    Unreachable(String),
    /// An order create whose fate could not be established: it may or may not exist. Nothing
    /// else may be sent for the bot until it is resolved by its client order id.
    #[error("outcome of order {client_order_id} unknown: {cause}")]
    UnknownOutcome {
        /// The order's client id, the key to resolve it.
        client_order_id: String,
        /// What happened to the request.
        cause: String,
    },
    /// The venue does not allow API trading of this symbol.
    #[error("{symbol} cannot be traded through the API: {reason}")]
    SymbolNotTradable {
        /// Venue symbol.
        symbol: String,
        /// Why.
        reason: String,
    },
    /// The venue disables this order type for the symbol.
    #[error("{symbol} does not accept {kind} orders")]
    OrderTypeDisabled {
        /// Venue symbol.
        symbol: String,
        /// Order type refused.
        kind: String,
    },
    /// Any other refusal by the venue.
    #[error("rejected: {0}")]
    Rejected(VenueError),
    /// The venue's answer could not be understood.
    #[error("cannot decode the venue's answer: {0}")]
    Decode(String),
}

impl Error {
    /// Whether repeating the same request may succeed. Only safe-to-repeat requests (reads,
    /// cancels) are ever retried; an order create never is.
    #[must_use]
    pub const fn is_retryable(&self) -> bool {
        matches!(self, Self::VenueUnavailable(_) | Self::Unreachable(_) | Self::RateLimited { .. } | Self::Timestamp(_))
    }
}

/// Results of venue calls.
pub type Result<T> = std::result::Result<T, Error>;
