//! The configured venue accounts as live adapters, by name, and what they list of their symbols
//! (read at most every [`SYMBOLS_MAX_AGE`]: a listing costs a second of the account's request
//! budget, and nobody, not a page hammering the API, may spend it again and again).

use std::{collections::BTreeMap, sync::Arc, time::Duration};

use exchange::{
    Exchange,
    mexc::{Mexc, MexcConfig, RateLimits},
    types::SymbolInfo,
};

/// How long a venue's symbol listing is used before it is read again.
pub const SYMBOLS_MAX_AGE: Duration = Duration::from_secs(600);

use crate::{
    config::{ExchangeAccount, ExchangesConfig, VenueKind},
    fresh::Fresh,
};

/// One adapter per account in `exchanges.yaml`.
#[derive(Clone)]
pub struct Venues {
    default: String,
    accounts: BTreeMap<String, (Arc<dyn Exchange>, String)>,
    symbols: Arc<Fresh<Arc<Vec<SymbolInfo>>>>,
}

impl std::fmt::Debug for Venues {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Venues").field("default", &self.default).field("accounts", &self.accounts.keys()).finish()
    }
}

fn adapter(account: &ExchangeAccount) -> Result<Arc<dyn Exchange>, exchange::Error> {
    match account.kind {
        VenueKind::Mexc => {
            let mut config = MexcConfig::new(
                &account.rest_url,
                &account.ws_url,
                account.api_key.expose(),
                account.api_secret.expose(),
            );
            config.recv_window_ms = account.recv_window_ms;
            config.limits = RateLimits {
                weight_per_second: account.weight_per_second,
                order_actions_per_second: account.order_actions_per_second,
                max_wait: Duration::from_secs(30),
            };
            Ok(Arc::new(Mexc::new(&config)?))
        }
    }
}

impl Venues {
    /// Builds an adapter for every configured account (no network traffic yet).
    ///
    /// # Errors
    /// When an adapter cannot be constructed.
    pub fn new(config: &ExchangesConfig) -> Result<Self, exchange::Error> {
        let accounts = config
            .accounts
            .iter()
            .map(|(name, account)| Ok((name.clone(), (adapter(account)?, account.rest_url.clone()))))
            .collect::<Result<_, exchange::Error>>()?;
        Ok(Self { default: config.default.clone(), accounts, symbols: Arc::new(Fresh::new(SYMBOLS_MAX_AGE)) })
    }

    /// The symbols of account `name` (the default one for an empty name) with their rules and
    /// fees, read from the venue at most every [`SYMBOLS_MAX_AGE`]; callers asking at once share
    /// one read.
    ///
    /// # Errors
    /// [`exchange::Error::NotFound`] for an unknown account; the venue's error when a fresh
    /// listing is needed and cannot be read.
    pub async fn symbols(&self, name: &str) -> Result<Arc<Vec<SymbolInfo>>, exchange::Error> {
        let Some((name, venue, _)) = self.get(name) else {
            return Err(exchange::Error::NotFound(exchange::VenueError {
                http_status: 0,
                code: 0,
                message: format!("no venue account named {name:?}"),
            }));
        };
        self.symbols.get(name, async || Ok(Arc::new(venue.symbols().await?))).await
    }

    /// The account called `name` (the default one for an empty name), with its REST URL.
    #[must_use]
    pub fn get(&self, name: &str) -> Option<(&str, Arc<dyn Exchange>, &str)> {
        let name = if name.is_empty() { self.default.as_str() } else { name };
        self.accounts.get_key_value(name).map(|(n, (venue, url))| (n.as_str(), Arc::clone(venue), url.as_str()))
    }

    /// Names of the configured accounts.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.accounts.keys().map(String::as_str)
    }
}

#[cfg(test)]
mod tests {
    use crate::runtime::tests::venues_on_a_sim;

    #[tokio::test]
    async fn the_symbol_listing_is_read_once_however_often_it_is_asked_for() {
        let (sim, venues) = venues_on_a_sim().await;
        let first = venues.symbols("sim").await.unwrap();
        let after_first = sim.request_count();
        for _ in 0..20 {
            venues.symbols("").await.unwrap();
        }
        assert_eq!(sim.request_count(), after_first, "the listing is kept, not read again");
        assert!(first.iter().any(|s| s.symbol == "BTCUSDT"));
        assert!(matches!(venues.symbols("nope").await, Err(exchange::Error::NotFound(_))));
    }
}
