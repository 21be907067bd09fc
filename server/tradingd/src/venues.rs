//! The configured venue accounts as live adapters, by name.

use std::{collections::BTreeMap, sync::Arc, time::Duration};

use exchange::{
    Exchange,
    mexc::{Mexc, MexcConfig, RateLimits},
};

use crate::config::{ExchangeAccount, ExchangesConfig, VenueKind};

/// One adapter per account in `exchanges.yaml`.
#[derive(Clone)]
pub struct Venues {
    default: String,
    accounts: BTreeMap<String, (Arc<dyn Exchange>, String)>,
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
        Ok(Self { default: config.default.clone(), accounts })
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
