//! Candles: the bars strategies and backtests read.

use crate::{
    money::{Price, Qty},
    time::Timestamp,
};

/// One bar of market data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Candle {
    /// When the bar opened.
    pub open_time: Timestamp,
    /// First price.
    pub open: Price,
    /// Highest price.
    pub high: Price,
    /// Lowest price.
    pub low: Price,
    /// Last price.
    pub close: Price,
    /// Base volume traded.
    pub volume: Qty,
}
