//! Secrets (API keys, passwords) that must never be printed.

use std::fmt;

/// A secret value. `Debug` and `Display` print a mask, so a secret cannot reach a log line,
/// an API response or an email by accident; [`Secret::expose`] is the one way in.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct Secret(String);

/// What is shown instead of a secret.
const MASK: &str = "********";

impl Secret {
    /// Wraps a secret.
    #[must_use]
    pub fn new(value: String) -> Self {
        Self(value)
    }

    /// The secret itself, for signing requests or logging in to a server.
    #[must_use]
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Whether a value is set.
    #[must_use]
    pub fn is_set(&self) -> bool {
        !self.0.is_empty()
    }

    /// The mask when set, else an empty string: what the Settings page shows.
    #[must_use]
    pub fn masked(&self) -> &'static str {
        if self.is_set() { MASK } else { "" }
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.masked())
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.masked())
    }
}
