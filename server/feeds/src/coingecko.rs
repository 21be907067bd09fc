//! CoinGecko's trending coins: `GET {base}/search/trending`. A Demo key goes in
//! `x-cg-demo-api-key`, a Pro key (on the `pro-api` host) in `x-cg-pro-api-key`; errors carry
//! `status.error_code` and `status.error_message`.

use domain::feed::TrendingCoin;

use crate::{
    FeedError,
    http::{self, explanation},
};

/// The trending coins of an answer, first first (entries without a ticker are skipped).
///
/// # Errors
/// [`FeedError::Refused`] when the answer carries an error, [`FeedError::Unreadable`] when it
/// has no list of coins.
pub fn parse_trending(body: &[u8]) -> Result<Vec<TrendingCoin>, FeedError> {
    let answer = http::json(body)?;
    if let Some(code) = answer["status"]["error_code"].as_u64() {
        let status = u16::try_from(code).unwrap_or(u16::MAX);
        return Err(FeedError::Refused { status, message: explanation(body) });
    }
    let coins = answer["coins"].as_array().ok_or_else(|| FeedError::Unreadable("no list of coins".to_owned()))?;
    let named = coins.iter().filter_map(|coin| {
        let item = &coin["item"];
        let symbol = item["symbol"].as_str().map(str::trim).filter(|s| !s.is_empty())?;
        Some((symbol.to_ascii_uppercase(), item["name"].as_str().unwrap_or(symbol).to_owned()))
    });
    Ok((1..).zip(named).map(|(rank, (symbol, name))| TrendingCoin { symbol, name, rank }).collect())
}

/// Reads the trending coins from `base_url`, with `api_key` if one is set.
pub(crate) async fn read(
    http: &reqwest::Client,
    base_url: &str,
    api_key: &str,
) -> Result<Vec<TrendingCoin>, FeedError> {
    let header = if base_url.contains("pro-api.") { "x-cg-pro-api-key" } else { "x-cg-demo-api-key" };
    let headers: &[(&str, &str)] = if api_key.is_empty() { &[] } else { &[(header, api_key)] };
    parse_trending(&http::get(http, &format!("{base_url}/search/trending"), headers).await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_recorded_answer_lists_its_coins_in_order() {
        let body = include_bytes!("../../mexc-sim/data/external/coingecko_search_trending.json");
        let coins = parse_trending(body).unwrap();
        assert_eq!(coins, vec![TrendingCoin { symbol: "CAH".into(), name: "Moon Tropica".into(), rank: 1 }]);
    }

    #[test]
    fn an_error_answer_is_refused_with_its_message() {
        let limited = br#"{"status":{"error_code":10011,"error_message":"change your root URL"}}"#;
        assert_eq!(
            parse_trending(limited),
            Err(FeedError::Refused { status: 10011, message: "change your root URL".into() })
        );
        assert!(matches!(parse_trending(br#"{"nfts":[]}"#), Err(FeedError::Unreadable(_))));
    }
}
