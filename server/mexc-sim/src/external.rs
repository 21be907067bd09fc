//! Local stand-ins of the external market-data APIs the daemon reads, answering in their shapes
//! from recorded payloads so the whole product runs offline: alternative.me's Fear & Greed index
//! (`GET /alternative/fng/`) and CoinGecko's trending coins
//! (`GET /coingecko/api/v3/search/trending`). What they say is set at run time through
//! `SimHandle::set_external` or the loopback-only `POST /admin/external`.

use std::{net::SocketAddr, sync::Arc};

use axum::{
    Json, Router,
    extract::{ConnectInfo, State},
    routing::get,
};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::{reject::Reject, server::Shared};

/// The recorded Fear & Greed answer the stand-in starts from.
const FEAR_GREED: &str = include_str!("../data/external/alternative_me_fng.json");
/// The recorded trending answer the stand-in starts from.
const TRENDING: &str = include_str!("../data/external/coingecko_search_trending.json");

/// What the external stand-ins say.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct External {
    /// The Fear & Greed index, 0 to 100.
    pub fear_greed: u8,
    /// Tickers of the trending coins, first first.
    pub trending: Vec<String>,
}

impl Default for External {
    /// What the recorded payloads say.
    fn default() -> Self {
        let recorded: Value = serde_json::from_str(FEAR_GREED).unwrap_or_default();
        let fear_greed = recorded["data"][0]["value"].as_str().and_then(|v| v.parse().ok()).unwrap_or(50);
        let recorded: Value = serde_json::from_str(TRENDING).unwrap_or_default();
        let trending = recorded["coins"]
            .as_array()
            .map(|coins| coins.iter().filter_map(|c| c["item"]["symbol"].as_str().map(str::to_owned)).collect())
            .unwrap_or_default();
        Self { fear_greed, trending }
    }
}

/// alternative.me's words for a reading.
fn classification(value: u8) -> &'static str {
    match value {
        0..=24 => "Extreme Fear",
        25..=46 => "Fear",
        47..=54 => "Neutral",
        55..=74 => "Greed",
        _ => "Extreme Greed",
    }
}

/// The routes of the stand-ins, under the same fault injection as the venue's API.
pub(crate) fn routes() -> Router<Arc<Shared>> {
    Router::new().route("/alternative/fng/", get(fear_greed)).route("/coingecko/api/v3/search/trending", get(trending))
}

/// The loopback-only admin route.
pub(crate) fn admin() -> Router<Arc<Shared>> {
    Router::new().route("/admin/external", get(get_external).post(put_external))
}

/// The recorded answer with today's reading first (as strings, as alternative.me sends them).
async fn fear_greed(State(shared): State<Arc<Shared>>) -> Json<Value> {
    let value = shared.external().fear_greed;
    let mut answer: Value = serde_json::from_str(FEAR_GREED).unwrap_or_default();
    let day = shared.server_time() / 86_400_000 * 86_400;
    if let Some(today) = answer["data"].get_mut(0) {
        today["value"] = Value::String(value.to_string());
        today["value_classification"] = Value::String(classification(value).to_owned());
        today["timestamp"] = Value::String(day.to_string());
    }
    Json(answer)
}

/// The recorded answer with one coin per trending ticker, each shaped like the recorded coin.
async fn trending(State(shared): State<Arc<Shared>>) -> Json<Value> {
    let symbols = shared.external().trending;
    let mut answer: Value = serde_json::from_str(TRENDING).unwrap_or_default();
    let template = answer["coins"][0].clone();
    let coins = symbols
        .iter()
        .enumerate()
        .map(|(score, symbol)| {
            let mut coin = template.clone();
            let item = &mut coin["item"];
            item["id"] = Value::String(symbol.to_ascii_lowercase());
            item["name"] = Value::String(symbol.clone());
            item["symbol"] = Value::String(symbol.clone());
            item["slug"] = Value::String(symbol.to_ascii_lowercase());
            item["score"] = Value::from(score);
            coin
        })
        .collect();
    answer["coins"] = Value::Array(coins);
    Json(answer)
}

async fn get_external(
    State(shared): State<Arc<Shared>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
) -> Result<Json<External>, Reject> {
    crate::rest::loopback_only(peer)?;
    Ok(Json(shared.external()))
}

async fn put_external(
    State(shared): State<Arc<Shared>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Json(external): Json<External>,
) -> Result<Json<External>, Reject> {
    crate::rest::loopback_only(peer)?;
    if external.fear_greed > 100 {
        return Err(Reject::param("fear_greed must be between 0 and 100"));
    }
    shared.set_external(external.clone());
    tracing::info!(?external, "external data changed");
    Ok(Json(external))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_stand_ins_start_from_the_recorded_payloads_and_classify_like_alternative_me() {
        assert_eq!(External::default(), External { fear_greed: 47, trending: vec!["CAH".into()] });
        assert_eq!(
            [0, 24, 25, 50, 74, 75, 100].map(classification),
            ["Extreme Fear", "Extreme Fear", "Fear", "Neutral", "Greed", "Extreme Greed", "Extreme Greed"]
        );
    }
}
