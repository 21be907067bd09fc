//! Spawning simulators on free loopback ports and talking to them like a client does.

use std::path::{Path, PathBuf};

use hmac::{Hmac, Mac};
use mexc_sim::{DEMO_API_KEY, DEMO_API_SECRET, MarketSource, SimConfig, SimHandle, Simulator};
use reqwest::{Method, StatusCode};
use rust_decimal::Decimal;
use serde_json::Value;
use sha2::Sha256;

pub fn data_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("data")
}

/// The demo account, the BTCUSDT and ETHBTC replays, a frozen market clock.
pub fn config() -> SimConfig {
    let mut config = SimConfig::demo(&data_dir());
    config.speed = 0.0;
    config.market = MarketSource::Replay(vec![
        ("BTCUSDT".into(), data_dir().join("binance_BTCUSDT_1m.csv")),
        ("ETHBTC".into(), data_dir().join("binance_ETHBTC_1m.csv")),
    ]);
    config
}

pub struct Sim {
    pub handle: SimHandle,
    pub http: reqwest::Client,
}

pub async fn spawn(config: SimConfig) -> Sim {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let handle = Simulator::start(config, listener).await;
    Sim { handle, http: reqwest::Client::new() }
}

pub fn now_ms() -> i64 {
    i64::try_from(std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis()).unwrap()
}

pub fn sign(secret: &str, message: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(message.as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

pub fn dec(v: &Value) -> Decimal {
    v.as_str().unwrap_or_else(|| panic!("not a decimal string: {v}")).parse().unwrap()
}

impl Sim {
    pub async fn get(&self, path_and_query: &str) -> (StatusCode, Value) {
        let response = self.http.get(format!("{}{path_and_query}", self.handle.rest_url())).send().await.unwrap();
        let status = response.status();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    /// A signed request as ccxt sends it: everything in the query string, empty JSON-typed body.
    pub async fn signed(&self, method: Method, path: &str, query: &str) -> (StatusCode, Value) {
        let sep = if query.is_empty() { "" } else { "&" };
        let query = format!("{query}{sep}timestamp={}&recvWindow=5000", now_ms());
        self.raw(method, path, &query, "", DEMO_API_SECRET).await
    }

    /// A request signed over `query` + `body` with `secret`.
    pub async fn raw(&self, method: Method, path: &str, query: &str, body: &str, secret: &str) -> (StatusCode, Value) {
        let signature = sign(secret, &format!("{query}{body}"));
        let url = format!("{}{path}?{query}&signature={signature}", self.handle.rest_url());
        let mut request = self.http.request(method.clone(), url).header("X-MEXC-APIKEY", DEMO_API_KEY);
        if method != Method::GET {
            request = request.header("Content-Type", "application/json");
        }
        let response = request.body(body.to_owned()).send().await.unwrap();
        let status = response.status();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    pub async fn order(&self, query: &str) -> Value {
        let (status, body) = self.signed(Method::POST, "/api/v3/order", query).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        body
    }

    pub async fn query(&self, symbol: &str, order_id: &Value) -> Value {
        let id = order_id.as_str().unwrap();
        let (status, body) = self.signed(Method::GET, "/api/v3/order", &format!("symbol={symbol}&orderId={id}")).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        body
    }

    pub async fn balance(&self, asset: &str) -> (Decimal, Decimal) {
        let (_, account) = self.signed(Method::GET, "/api/v3/account", "").await;
        let balances = account["balances"].as_array().unwrap();
        balances
            .iter()
            .find(|b| b["asset"] == asset)
            .map_or((Decimal::ZERO, Decimal::ZERO), |b| (dec(&b["free"]), dec(&b["locked"])))
    }

    pub async fn book(&self, symbol: &str) -> Value {
        self.get(&format!("/api/v3/depth?symbol={symbol}&limit=20")).await.1
    }
}

pub fn assert_code(result: &(StatusCode, Value), code: i64) {
    assert_eq!(result.1["code"], code, "{:?}", result);
    assert!(result.0.is_client_error(), "{:?}", result);
}
