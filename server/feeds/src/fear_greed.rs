//! alternative.me's Fear & Greed index: `GET {base}/fng/?limit=1`. Every value is a string;
//! the newest reading comes first; `metadata.error` is a string on failure.

use domain::{feed::FearGreed, time::Timestamp};

use crate::{
    FeedError,
    http::{self, explanation},
};

/// The newest reading of an answer.
///
/// # Errors
/// [`FeedError::Refused`] when the answer carries an error, [`FeedError::Unreadable`] when it
/// has no valid reading.
pub fn parse_fear_greed(body: &[u8]) -> Result<FearGreed, FeedError> {
    let answer = http::json(body)?;
    if answer["metadata"]["error"].is_string() {
        return Err(FeedError::Refused { status: 200, message: explanation(body) });
    }
    let newest = &answer["data"][0];
    let text = |field: &str| match &newest[field] {
        serde_json::Value::String(text) => Some(text.clone()),
        serde_json::Value::Number(number) => Some(number.to_string()),
        _ => None,
    };
    let value = text("value")
        .and_then(|v| v.trim().parse::<u8>().ok())
        .filter(|v| *v <= 100)
        .ok_or_else(|| FeedError::Unreadable(format!("no index value from 0 to 100 in {newest}")))?;
    let seconds = text("timestamp")
        .and_then(|t| t.trim().parse::<i64>().ok())
        .ok_or_else(|| FeedError::Unreadable(format!("no timestamp in {newest}")))?;
    let classification = text("value_classification").unwrap_or_default();
    Ok(FearGreed { value, classification, at: Timestamp::from_millis(seconds.saturating_mul(1000)) })
}

/// Reads the index from `base_url`.
pub(crate) async fn read(http: &reqwest::Client, base_url: &str) -> Result<FearGreed, FeedError> {
    parse_fear_greed(&http::get(http, &format!("{base_url}/fng/?limit=1"), &[]).await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_recorded_answer_gives_its_newest_reading() {
        let body = include_bytes!("../../mexc-sim/data/external/alternative_me_fng.json");
        let reading = parse_fear_greed(body).unwrap();
        assert_eq!(reading.value, 47);
        assert_eq!(reading.classification, "Neutral");
        assert_eq!(reading.at, Timestamp::from_millis(1_777_248_000_000));
    }

    #[test]
    fn errors_and_malformed_answers_are_told_apart() {
        let refused = br#"{"name":"Fear and Greed Index","data":[],"metadata":{"error":"Invalid limit"}}"#;
        assert_eq!(parse_fear_greed(refused), Err(FeedError::Refused { status: 200, message: "Invalid limit".into() }));
        let out_of_range = br#"{"data":[{"value":"130","timestamp":"1"}],"metadata":{"error":null}}"#;
        assert!(matches!(parse_fear_greed(out_of_range), Err(FeedError::Unreadable(_))));
        assert!(matches!(parse_fear_greed(b"<html>"), Err(FeedError::Unreadable(_))));
    }
}
