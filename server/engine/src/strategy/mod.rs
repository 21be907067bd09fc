//! Strategies: market state in, desired trades out. They never see the wallet's internals or
//! an executor; risk approval stands between what they want and what is sent.

pub mod dca;

use domain::money::{Qty, Quote};

/// What a strategy wants, before sizing and risk approval.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Desire {
    /// Buy at the market for this quote amount.
    Buy {
        /// Quote to spend.
        quote: Quote,
        /// Why, in words, for the decision record.
        reason: String,
    },
    /// Sell this quantity at the market.
    Sell {
        /// Base quantity.
        qty: Qty,
        /// Why, in words, for the decision record.
        reason: String,
    },
}
