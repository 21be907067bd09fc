//! `data_sources.yaml`: external market data (CoinGecko, CoinMarketCap, Fear & Greed).

use std::collections::BTreeMap;

use domain::money::{DecimalRange, Percent};
use rust_decimal::Decimal;
use serde_json::json;
use serde_yaml::Value;

use super::{reader::Reader, secret::Secret};

/// One external source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DataSource {
    /// Whether it is polled.
    pub enabled: bool,
    /// Lower numbers win; sources of equal priority are averaged.
    pub priority: u32,
    /// Base URL of its API (a local stand-in in the demo).
    pub base_url: String,
    /// API key, if the source needs one.
    pub api_key: Secret,
}

/// External data settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DataSourcesConfig {
    /// Time between polls of each source.
    pub poll_interval_seconds: u32,
    /// Sources by name.
    pub sources: BTreeMap<String, DataSource>,
    /// Whether extreme conditions pause bots.
    pub crash_detection_enabled: bool,
    /// Price drop within the window counted as a crash.
    pub crash_drop_percent: Percent,
    /// Window of the crash measurement.
    pub crash_window_minutes: u32,
}

/// Sources the daemon knows how to read, with their public base URLs.
const KNOWN_SOURCES: [(&str, &str); 3] = [
    ("coingecko", "https://api.coingecko.com/api/v3"),
    ("coinmarketcap", "https://pro-api.coinmarketcap.com"),
    ("fear_greed", "https://api.alternative.me"),
];

fn read_source(reader: &mut Reader, path: &str, value: &Value, default_url: &str) -> Option<DataSource> {
    let mut map = reader.map(path, value)?;
    let enabled = reader.boolean(&mut map, "enabled", false);
    let priority = u32::try_from(reader.integer(&mut map, "priority", 1, 100, 1)).unwrap_or(1);
    let base_url = reader.string(&mut map, "base_url", false, "a URL starting with http:// or https://");
    let base_url = match base_url {
        Some(url) if url.starts_with("http://") || url.starts_with("https://") => url.trim_end_matches('/').to_owned(),
        Some(url) => {
            reader.problem(
                &Reader::path(&map, "base_url"),
                format!("'{url}' is not an HTTP URL"),
                "a URL starting with http:// or https://",
            );
            default_url.to_owned()
        }
        None => default_url.to_owned(),
    };
    let api_key = reader.secret(&mut map, "api_key");
    reader.finish(&map);
    Some(DataSource { enabled, priority, base_url, api_key })
}

impl DataSourcesConfig {
    pub(super) fn read(reader: &mut Reader, value: &Value) -> Option<Self> {
        let mut top = reader.map("", value)?;
        let poll_interval_seconds =
            u32::try_from(reader.integer(&mut top, "poll_interval_seconds", 10, 86_400, 300)).unwrap_or(300);
        let mut sources = BTreeMap::new();
        if let Some(value) = reader.get(&mut top, "sources")
            && let Some(mut map) = reader.map("sources", value)
        {
            for (name, default_url) in KNOWN_SOURCES {
                if let Some(entry) = reader.get(&mut map, name) {
                    let path = Reader::path(&map, name);
                    if let Some(source) = read_source(reader, &path, entry, default_url) {
                        sources.insert(name.to_owned(), source);
                    }
                }
            }
            reader.finish(&map);
        }
        let (mut crash_detection_enabled, mut crash_drop_percent, mut crash_window_minutes) = (true, Decimal::TEN, 60);
        if let Some(value) = reader.get(&mut top, "crash_detection")
            && let Some(mut map) = reader.map("crash_detection", value)
        {
            crash_detection_enabled = reader.boolean(&mut map, "enabled", true);
            let range = DecimalRange::above(Decimal::ZERO, Decimal::ONE_HUNDRED);
            crash_drop_percent = reader.decimal(&mut map, "drop_percent", range, Decimal::TEN);
            crash_window_minutes =
                u32::try_from(reader.integer(&mut map, "window_minutes", 1, 10_080, 60)).unwrap_or(60);
            reader.finish(&map);
        }
        reader.finish(&top);
        Some(Self {
            poll_interval_seconds,
            sources,
            crash_detection_enabled,
            crash_drop_percent: Percent::new(crash_drop_percent),
            crash_window_minutes,
        })
    }

    /// What the external data pollers read: the enabled sources the daemon can read
    /// (CoinMarketCap is not read yet; enabling it is logged and changes nothing).
    #[must_use]
    pub fn feeds(&self) -> feeds::Settings {
        let mut sources = Vec::new();
        for (name, source) in self.sources.iter().filter(|(_, s)| s.enabled) {
            let base_url = source.base_url.clone();
            match name.as_str() {
                "fear_greed" => sources.push(feeds::Source::FearGreed { base_url }),
                "coingecko" => {
                    let api_key = source.api_key.expose().to_owned();
                    sources.push(feeds::Source::CoinGeckoTrending { base_url, api_key });
                }
                other => tracing::warn!(source = other, "this external data source is not read yet; ignored"),
            }
        }
        feeds::Settings { poll_every: std::time::Duration::from_secs(self.poll_interval_seconds.into()), sources }
    }

    pub(super) fn redacted(&self) -> serde_json::Value {
        let sources: serde_json::Map<String, serde_json::Value> = self
            .sources
            .iter()
            .map(|(name, s)| {
                let source = json!({
                    "enabled": s.enabled,
                    "priority": s.priority,
                    "base_url": s.base_url,
                    "api_key": s.api_key.masked(),
                });
                (name.clone(), source)
            })
            .collect();
        json!({
            "poll_interval_seconds": self.poll_interval_seconds,
            "sources": sources,
            "crash_detection": {
                "enabled": self.crash_detection_enabled,
                "drop_percent": self.crash_drop_percent.to_string(),
                "window_minutes": self.crash_window_minutes,
            },
        })
    }
}
