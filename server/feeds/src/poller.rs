//! Polling the enabled sources into one snapshot.

use std::time::Duration;

use domain::feed::ExternalData;
use tokio::sync::watch;
use tokio_util::{sync::CancellationToken, task::TaskTracker};

use crate::{FeedError, coingecko, fear_greed, http};

/// A source to poll. Its `Debug` masks the API key.
#[derive(Clone, PartialEq, Eq)]
pub enum Source {
    /// alternative.me's Fear & Greed index.
    FearGreed {
        /// Base URL of its API.
        base_url: String,
    },
    /// CoinGecko's trending coins.
    CoinGeckoTrending {
        /// Base URL of its API.
        base_url: String,
        /// API key (empty for none).
        api_key: String,
    },
}

impl std::fmt::Debug for Source {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::FearGreed { base_url } => f.debug_struct("FearGreed").field("base_url", base_url).finish(),
            Self::CoinGeckoTrending { base_url, api_key } => {
                let key = if api_key.is_empty() { "" } else { "********" };
                f.debug_struct("CoinGeckoTrending").field("base_url", base_url).field("api_key", &key).finish()
            }
        }
    }
}

impl Source {
    /// Its name in logs and `data_sources.yaml`.
    const fn name(&self) -> &'static str {
        match self {
            Self::FearGreed { .. } => "fear_greed",
            Self::CoinGeckoTrending { .. } => "coingecko",
        }
    }

    /// Reads it once and stores the reading in `data`.
    async fn read(&self, client: &reqwest::Client, data: &watch::Sender<ExternalData>) -> Result<(), FeedError> {
        match self {
            Self::FearGreed { base_url } => {
                let reading = Some(fear_greed::read(client, base_url).await?);
                data.send_if_modified(|d| replace(&mut d.fear_greed, reading));
            }
            Self::CoinGeckoTrending { base_url, api_key } => {
                let coins = Some(coingecko::read(client, base_url, api_key).await?);
                data.send_if_modified(|d| replace(&mut d.trending, coins));
            }
        }
        Ok(())
    }
}

/// Puts `value` in `slot`; whether that changed it.
fn replace<T: PartialEq>(slot: &mut T, value: T) -> bool {
    let changed = *slot != value;
    *slot = value;
    changed
}

/// What to poll, and how often (by default: nothing).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Settings {
    /// Time between two polls of a source.
    pub poll_every: Duration,
    /// The enabled sources.
    pub sources: Vec<Source>,
}

/// The pollers of the external sources.
#[derive(Debug)]
pub struct Feeds;

impl Feeds {
    /// Polls every source of `settings` on `tracker` until `shutdown`; the receiver sees each
    /// snapshot that differs from the last, and stays open until `shutdown` even with no source
    /// to poll. A source that fails keeps its last good reading; the failure is logged when it
    /// begins and when it ends.
    #[must_use]
    pub fn start(
        settings: Settings,
        tracker: &TaskTracker,
        shutdown: &CancellationToken,
    ) -> watch::Receiver<ExternalData> {
        let (sender, receiver) = watch::channel(ExternalData::default());
        match http::client() {
            Ok(client) => {
                for source in settings.sources {
                    let (client, sender, shutdown) = (client.clone(), sender.clone(), shutdown.clone());
                    tracker.spawn(poll(source, settings.poll_every, client, sender, shutdown));
                }
            }
            Err(error) => tracing::error!(%error, "external data disabled"),
        }
        // Bot tasks wait on the channel: it must not close before the daemon stops.
        let shutdown = shutdown.clone();
        tracker.spawn(async move {
            shutdown.cancelled().await;
            drop(sender);
        });
        receiver
    }
}

async fn poll(
    source: Source,
    every: Duration,
    client: reqwest::Client,
    data: watch::Sender<ExternalData>,
    shutdown: CancellationToken,
) {
    let name = source.name();
    tracing::info!(source = name, every_s = every.as_secs(), "external data source polled");
    let mut failing = false;
    loop {
        match source.read(&client, &data).await {
            Ok(()) if failing => {
                failing = false;
                tracing::info!(source = name, "external data source answers again");
            }
            Ok(()) => {}
            Err(error) if !failing => {
                failing = true;
                tracing::warn!(source = name, %error, "external data source failed; its last reading is kept");
            }
            Err(error) => tracing::debug!(source = name, %error, "external data source still failing"),
        }
        tokio::select! {
            () = shutdown.cancelled() => return,
            () = tokio::time::sleep(every) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_source_and_the_settings_never_print_the_api_key() {
        let key = "CG-very-secret-demo-key";
        let settings = Settings {
            poll_every: Duration::from_secs(60),
            sources: vec![Source::CoinGeckoTrending { base_url: "http://127.0.0.1:1".into(), api_key: key.into() }],
        };
        let shown = format!("{settings:?} {settings:#?}");
        assert!(!shown.contains(key), "{shown}");
        assert!(shown.contains("********") && shown.contains("http://127.0.0.1:1"), "{shown}");
    }
}
