//! Trading pairs in the unified `BASE/QUOTE` form.

use std::{fmt, str::FromStr, sync::Arc};

/// Quote assets recognised when a pair is given in the venue form without a separator
/// (`BTCUSDT`), longest first so that `FDUSD` is not read as `FD` + `USD`.
const KNOWN_QUOTES: &[&str] = &["FDUSD", "USDT", "USDC", "USDE", "TUSD", "USD1", "EUR", "BTC", "ETH", "BRL", "TRY"];

/// A spot trading pair such as BTC/USDT. Cheap to clone (every order names its pair): the
/// asset symbols are shared, not copied.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Pair {
    base: Arc<str>,
    quote: Arc<str>,
}

impl Pair {
    /// The asset bought and sold (BTC in BTC/USDT).
    #[must_use]
    pub fn base(&self) -> &str {
        &self.base
    }

    /// The asset prices and budgets are counted in (USDT in BTC/USDT).
    #[must_use]
    pub fn quote(&self) -> &str {
        &self.quote
    }

    /// The venue form without separator, `BTCUSDT`.
    #[must_use]
    pub fn symbol(&self) -> String {
        format!("{}{}", self.base, self.quote)
    }
}

fn check_asset(asset: &str) -> Result<Arc<str>, String> {
    let upper = asset.trim().to_ascii_uppercase();
    if upper.is_empty() || upper.len() > 20 || !upper.chars().all(|c| c.is_ascii_alphanumeric()) {
        return Err(format!("'{asset}' is not an asset symbol (1 to 20 letters or digits)"));
    }
    Ok(upper.into())
}

impl FromStr for Pair {
    type Err = String;

    /// Accepts `BTC/USDT` (any case) or the venue form `BTCUSDT` for a known quote asset.
    fn from_str(text: &str) -> Result<Self, String> {
        let expected = "expected BASE/QUOTE such as BTC/USDT, or the venue form BTCUSDT";
        if let Some((base, quote)) = text.split_once('/') {
            let base = check_asset(base).map_err(|e| format!("{e}; {expected}"))?;
            let quote = check_asset(quote).map_err(|e| format!("{e}; {expected}"))?;
            if base == quote {
                return Err(format!("'{text}' has the same base and quote asset; {expected}"));
            }
            return Ok(Self { base, quote });
        }
        let upper = check_asset(text).map_err(|_| format!("'{text}' is not a trading pair; {expected}"))?;
        KNOWN_QUOTES
            .iter()
            .find_map(|quote| {
                upper
                    .strip_suffix(quote)
                    .filter(|base| !base.is_empty())
                    .map(|base| Self { base: base.into(), quote: (*quote).into() })
            })
            .ok_or_else(|| format!("'{text}' is not a trading pair with a known quote asset; {expected}"))
    }
}

impl fmt::Display for Pair {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.base, self.quote)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_unified_and_venue_forms() {
        let unified: Pair = "btc/usdt".parse().unwrap();
        assert_eq!(unified.to_string(), "BTC/USDT");
        assert_eq!(unified.symbol(), "BTCUSDT");
        let venue: Pair = "ETHBTC".parse().unwrap();
        assert_eq!((venue.base(), venue.quote()), ("ETH", "BTC"));
        assert_eq!("SOLUSDC".parse::<Pair>().unwrap().to_string(), "SOL/USDC");
    }

    #[test]
    fn refuses_malformed_pairs() {
        for bad in ["", "BTC/", "/USDT", "BTC/BTC", "USDT", "BTC-USDT", "BTCXYZ"] {
            assert!(bad.parse::<Pair>().is_err(), "{bad} should be refused");
        }
    }
}
