//! `exchanges.yaml`: the venue accounts bots trade on, by name.

use std::collections::BTreeMap;

use serde_json::json;
use serde_yaml::Value;

use super::{
    reader::{Map, Reader},
    secret::Secret,
};

/// Venue implementations the daemon can talk to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VenueKind {
    /// MEXC spot v3 (the real venue or the local `mexc-sim`).
    Mexc,
}

/// One venue account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExchangeAccount {
    /// Which protocol the venue speaks.
    pub kind: VenueKind,
    /// REST base URL, e.g. `https://api.mexc.com`.
    pub rest_url: String,
    /// WebSocket URL, e.g. `wss://wbs-api.mexc.com/ws`.
    pub ws_url: String,
    /// API key; may be empty for market data only (dry run).
    pub api_key: Secret,
    /// API secret; may be empty for market data only (dry run).
    pub api_secret: Secret,
    /// How long a signed request stays valid, in milliseconds.
    pub recv_window_ms: u32,
    /// Request weight per second the daemon allows itself on this account.
    pub weight_per_second: u32,
    /// Order creates and cancels per second.
    pub order_actions_per_second: u32,
}

/// All venue accounts and the default one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExchangesConfig {
    /// Account used by bots that name none.
    pub default: String,
    /// Accounts by name.
    pub accounts: BTreeMap<String, ExchangeAccount>,
}

fn url(reader: &mut Reader, map: &mut Map<'_>, key: &str, schemes: &[&str]) -> Option<String> {
    let expected = format!("a URL starting with {}", schemes.join(" or "));
    let value = reader.string(map, key, true, &expected)?;
    if schemes.iter().any(|s| value.starts_with(s) && value.len() > s.len()) {
        Some(value.trim_end_matches('/').to_owned())
    } else {
        reader.problem(&Reader::path(map, key), format!("'{value}' is not such a URL"), expected);
        None
    }
}

fn read_account(reader: &mut Reader, path: &str, value: &Value) -> Option<ExchangeAccount> {
    let mut map = reader.map(path, value)?;
    let kind = match reader.string(&mut map, "kind", true, "mexc").as_deref() {
        Some("mexc") => Some(VenueKind::Mexc),
        Some(other) => {
            reader.problem(&Reader::path(&map, "kind"), format!("unknown venue kind '{other}'"), "mexc");
            None
        }
        None => None,
    };
    let rest_url = url(reader, &mut map, "rest_url", &["http://", "https://"]);
    let ws_url = url(reader, &mut map, "ws_url", &["ws://", "wss://"]);
    let api_key = reader.secret(&mut map, "api_key");
    let api_secret = reader.secret(&mut map, "api_secret");
    if api_key.is_set() != api_secret.is_set() {
        reader.problem(
            &Reader::path(&map, "api_secret"),
            "only one of api_key and api_secret is set",
            "both or neither",
        );
    }
    let recv_window_ms = u32::try_from(reader.integer(&mut map, "recv_window_ms", 1, 60_000, 5_000)).unwrap_or(5_000);
    let (mut weight_per_second, mut order_actions_per_second) = (20, 12);
    if let Some(value) = reader.get(&mut map, "rate_limits")
        && let Some(mut limits) = reader.map(&Reader::path(&map, "rate_limits"), value)
    {
        weight_per_second = u32::try_from(reader.integer(&mut limits, "weight_per_second", 1, 500, 20)).unwrap_or(20);
        order_actions_per_second =
            u32::try_from(reader.integer(&mut limits, "order_actions_per_second", 1, 100, 12)).unwrap_or(12);
        reader.finish(&limits);
    }
    reader.finish(&map);
    Some(ExchangeAccount {
        kind: kind?,
        rest_url: rest_url?,
        ws_url: ws_url?,
        api_key,
        api_secret,
        recv_window_ms,
        weight_per_second,
        order_actions_per_second,
    })
}

impl ExchangesConfig {
    pub(super) fn read(reader: &mut Reader, value: &Value) -> Option<Self> {
        let mut top = reader.map("", value)?;
        let default = reader.string(&mut top, "default", true, "the name of one of the venues");
        let mut accounts = BTreeMap::new();
        if let Some(venues) = reader.require(&mut top, "venues", "a mapping of account names to venue settings")
            && let Some(mut venues) = reader.map("venues", venues)
        {
            let names = venues.keys();
            for name in names {
                let path = Reader::path(&venues, &name);
                let valid_name =
                    !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
                if !valid_name {
                    reader.problem(
                        &path,
                        format!("'{name}' is not a usable account name"),
                        "letters, digits, '-' or '_'",
                    );
                }
                let Some(entry) = reader.get(&mut venues, &name) else {
                    reader.problem(&path, "no settings", "a mapping with kind, rest_url, ws_url, api_key, api_secret");
                    continue;
                };
                if let Some(account) = read_account(reader, &path, entry) {
                    accounts.insert(name, account);
                }
            }
            if venues.keys().is_empty() {
                reader.problem("venues", "no venue configured", "at least one venue account");
            }
            reader.finish(&venues);
        }
        if let Some(name) = &default
            && !accounts.contains_key(name)
            && !accounts.is_empty()
        {
            let known: Vec<&str> = accounts.keys().map(String::as_str).collect();
            reader.problem(
                "default",
                format!("'{name}' is not a configured venue"),
                format!("one of: {}", known.join(", ")),
            );
        }
        reader.finish(&top);
        Some(Self { default: default?, accounts })
    }

    pub(super) fn redacted(&self) -> serde_json::Value {
        let venues: serde_json::Map<String, serde_json::Value> = self
            .accounts
            .iter()
            .map(|(name, a)| {
                let kind = match a.kind {
                    VenueKind::Mexc => "mexc",
                };
                let account = json!({
                    "kind": kind,
                    "rest_url": a.rest_url,
                    "ws_url": a.ws_url,
                    "api_key": a.api_key.masked(),
                    "api_secret": a.api_secret.masked(),
                    "recv_window_ms": a.recv_window_ms,
                    "rate_limits": {
                        "weight_per_second": a.weight_per_second,
                        "order_actions_per_second": a.order_actions_per_second,
                    },
                });
                (name.clone(), account)
            })
            .collect();
        json!({ "default": self.default, "venues": venues })
    }
}
