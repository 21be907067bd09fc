//! The crate's error type: what can stop a simulator from starting.

use std::path::PathBuf;

/// Why a simulator could not start.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A candles file could not be read or parsed.
    #[error("candles file {path}: {reason}")]
    Candles {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// The configuration cannot run (no symbols, bad speed, duplicate API key, ...).
    #[error("invalid simulator configuration: {0}")]
    Config(String),
    /// The listener's address could not be read.
    #[error("listener: {0}")]
    Io(#[from] std::io::Error),
}
