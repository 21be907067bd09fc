//! External market data: the crypto Fear & Greed index (alternative.me) and the coins trending
//! on CoinGecko, read from the sources enabled in `data_sources.yaml` and published as one
//! [`domain::feed::ExternalData`] snapshot that every bot task follows.
//!
//! Each source is polled on its own schedule; a source that fails keeps its last good reading
//! (the failure is logged with its cause: unreachable, refused, rate limited, or an answer that
//! cannot be read) and is asked again at its next poll. Answers are parsed defensively and
//! converted once, here, into domain types.
//!
//! Not read yet: CoinMarketCap, prices and market caps, and crash detection.

mod coingecko;
mod fear_greed;
mod http;
mod poller;

pub use self::{
    coingecko::parse_trending,
    fear_greed::parse_fear_greed,
    poller::{Feeds, Settings, Source},
};

/// Why a source gave no reading.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FeedError {
    /// The request did not get an answer.
    #[error("cannot reach it: {0}")]
    Unreachable(String),
    /// The source refused the request for sending too many.
    #[error("rate limited (HTTP {0})")]
    RateLimited(u16),
    /// The source answered with an error.
    #[error("refused (HTTP {status}): {message}")]
    Refused {
        /// HTTP status.
        status: u16,
        /// The source's explanation.
        message: String,
    },
    /// The answer is not what the source documents.
    #[error("unreadable answer: {0}")]
    Unreadable(String),
}
