use mexc_sim::DEMO_API_SECRET;
use reqwest::{Method, StatusCode};
use rust_decimal_macros::dec;

use crate::helpers::{assert_code, config, now_ms, spawn};

#[tokio::test]
async fn signed_requests_are_checked_like_the_venue_does() {
    let sim = spawn(config()).await;
    let (status, account) = sim.signed(Method::GET, "/api/v3/account", "").await;
    assert_eq!(status, StatusCode::OK, "{account}");
    assert_eq!((account["accountType"].as_str(), account["canTrade"].as_bool()), (Some("SPOT"), Some(true)));
    assert_eq!(sim.balance("USDT").await, (dec!(100000), dec!(0)));
    assert_eq!(sim.balance("BTC").await, (dec!(2), dec!(0)));

    let ts = now_ms();
    let good = format!("timestamp={ts}");
    assert_code(&sim.raw(Method::GET, "/api/v3/account", &good, "", "wrong secret").await, 700002);
    assert_code(
        &sim.raw(Method::GET, "/api/v3/account", &format!("timestamp={}", ts - 6000), "", DEMO_API_SECRET).await,
        700003,
    );
    assert_code(
        &sim.raw(Method::GET, "/api/v3/account", &format!("timestamp={}", ts + 2000), "", DEMO_API_SECRET).await,
        700003,
    );
    let wide = format!("recvWindow=60000&timestamp={}", ts - 30_000);
    assert_eq!(sim.raw(Method::GET, "/api/v3/account", &wide, "", DEMO_API_SECRET).await.0, StatusCode::OK);
    let too_wide = format!("recvWindow=70000&timestamp={ts}");
    assert_code(&sim.raw(Method::GET, "/api/v3/account", &too_wide, "", DEMO_API_SECRET).await, 700005);

    let url = format!("{}/api/v3/account?{good}&signature=00", sim.handle.rest_url());
    let no_key = sim.http.get(&url).send().await.unwrap();
    assert_eq!(no_key.json::<serde_json::Value>().await.unwrap()["code"], 400);
    let bad_key = sim.http.get(&url).header("X-MEXC-APIKEY", "mx0nobody").send().await.unwrap();
    assert_eq!(bad_key.json::<serde_json::Value>().await.unwrap()["code"], 700001);

    // POST without the JSON content type.
    let query = format!("symbol=BTCUSDT&side=BUY&type=MARKET&quoteOrderQty=10&timestamp={}", now_ms());
    let sig = crate::helpers::sign(DEMO_API_SECRET, &query);
    let url = format!("{}/api/v3/order?{query}&signature={sig}", sim.handle.rest_url());
    let response = sim.http.post(&url).header("X-MEXC-APIKEY", mexc_sim::DEMO_API_KEY).send().await.unwrap();
    assert_eq!(response.json::<serde_json::Value>().await.unwrap()["code"], 700013);
    sim.handle.shutdown().await;
}

#[tokio::test]
async fn parameters_may_come_in_a_json_body_signed_after_the_query() {
    let sim = spawn(config()).await;
    let query = format!("recvWindow=5000&timestamp={}", now_ms());
    let body = r#"{"symbol":"BTCUSDT","side":"BUY","type":"LIMIT","quantity":"0.001","price":"20000","newClientOrderId":"bot-42"}"#;
    let (status, order) = sim.raw(Method::POST, "/api/v3/order", &query, body, DEMO_API_SECRET).await;
    assert_eq!(status, StatusCode::OK, "{order}");
    assert_eq!((order["type"].as_str(), order["origQty"].as_str()), (Some("LIMIT"), Some("0.001")));
    let (_, found) = sim.signed(Method::GET, "/api/v3/order", "symbol=BTCUSDT&origClientOrderId=bot-42").await;
    assert_eq!(found["orderId"], order["orderId"]);
    sim.handle.shutdown().await;
}

#[tokio::test]
async fn fees_currencies_and_listen_keys() {
    let sim = spawn(config()).await;
    let (_, fee) = sim.signed(Method::GET, "/api/v3/tradeFee", "symbol=BTCUSDT").await;
    assert_eq!((fee["code"].as_i64(), fee["data"]["takerCommission"].as_f64()), (Some(0), Some(0.0002)));
    let (_, coins) = sim.signed(Method::GET, "/api/v3/capital/config/getall", "").await;
    let coins: Vec<&str> = coins.as_array().unwrap().iter().map(|c| c["coin"].as_str().unwrap()).collect();
    assert_eq!(coins, vec!["BTC", "USDT", "ETH"]);

    let (status, created) = sim.signed(Method::POST, "/api/v3/userDataStream", "").await;
    assert_eq!(status, StatusCode::OK);
    let key = created["listenKey"].as_str().unwrap().to_owned();
    assert_eq!(key.len(), 64);
    let (_, listed) = sim.signed(Method::GET, "/api/v3/userDataStream", "").await;
    assert_eq!(listed["listenKey"], serde_json::json!([key]));
    let (status, kept) = sim.signed(Method::PUT, "/api/v3/userDataStream", &format!("listenKey={key}")).await;
    assert_eq!((status, kept["listenKey"].as_str()), (StatusCode::OK, Some(key.as_str())));
    assert_eq!(
        sim.signed(Method::DELETE, "/api/v3/userDataStream", &format!("listenKey={key}")).await.0,
        StatusCode::OK
    );
    assert_code(&sim.signed(Method::PUT, "/api/v3/userDataStream", &format!("listenKey={key}")).await, 730002);
    sim.handle.shutdown().await;
}
