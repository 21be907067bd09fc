//! External market data as bots see it: the crypto Fear & Greed index and the coins trending
//! on CoinGecko, read from the configured sources by the `feeds` crate.

use crate::time::Timestamp;

/// A reading of the crypto Fear & Greed index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FearGreed {
    /// 0 (extreme fear) to 100 (extreme greed).
    pub value: u8,
    /// The source's words for it ("Extreme Fear", "Neutral", ...).
    pub classification: String,
    /// The day it was published for.
    pub at: Timestamp,
}

/// A coin on a trending list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrendingCoin {
    /// Its ticker, upper case (`ETH`).
    pub symbol: String,
    /// Its name.
    pub name: String,
    /// Its place on the list, from 1.
    pub rank: u32,
}

/// The latest external data: what each source last said (a source that fails keeps its last
/// good reading).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ExternalData {
    /// The Fear & Greed index, once read.
    pub fear_greed: Option<FearGreed>,
    /// The coins trending, once read.
    pub trending: Option<Vec<TrendingCoin>>,
}

impl ExternalData {
    /// The place of `symbol` on the trending list, if it is on it.
    #[must_use]
    pub fn trending_rank(&self, symbol: &str) -> Option<u32> {
        self.trending.as_ref()?.iter().find(|coin| coin.symbol.eq_ignore_ascii_case(symbol)).map(|coin| coin.rank)
    }
}
