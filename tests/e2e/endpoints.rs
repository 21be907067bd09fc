//! Every REST endpoint over HTTP, with the real gateway in front of the real daemon (on the
//! local venue): what each answers when asked right, and how it refuses when asked wrong.

use std::time::Duration;

use futures::StreamExt;
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;

use crate::helpers::{Daemon, Gateway, eventually};

/// A REST client of one gateway.
struct Api {
    base: String,
    http: reqwest::Client,
}

impl Api {
    fn new(gateway: &Gateway) -> Self {
        Self { base: format!("{}/api", gateway.url), http: reqwest::Client::new() }
    }

    async fn get(&self, path: &str) -> (u16, Value) {
        let response = self.http.get(format!("{}{path}", self.base)).send().await.unwrap();
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    async fn send(&self, method: reqwest::Method, path: &str, body: Value) -> (u16, Value) {
        let response = self.http.request(method, format!("{}{path}", self.base)).json(&body).send().await.unwrap();
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    async fn post(&self, path: &str, body: Value) -> (u16, Value) {
        self.send(reqwest::Method::POST, path, body).await
    }

    /// Creates a dry-run bot and returns its id.
    async fn bot(&self, body: Value) -> i64 {
        let (status, bot) = self.post("/bots", body).await;
        assert_eq!(status, 201, "{bot}");
        bot["id"].as_i64().unwrap()
    }
}

/// The field a refusal names.
fn fields(error: &Value) -> Vec<String> {
    error["error"]["violations"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|d| d["field"].as_str().map(str::to_owned))
        .collect()
}

fn dca() -> Value {
    json!({"name": "rest dca", "trading_pair": "BTC/USDT", "strategy": "dca_accumulator", "budget": "100",
           "strategy_params": {"quote_amount": "10", "interval_minutes": 60}})
}

#[tokio::test]
async fn one_bot_is_read_edited_copied_promoted_and_killed_over_rest() {
    let data = tempfile::tempdir().unwrap();
    let daemon = Daemon::start(&data).await;
    let gateway = Gateway::start(&daemon.url, None).await;
    let api = Api::new(&gateway);
    let id = api.bot(dca()).await;

    // Single-bot GET and PUT.
    let (status, bot) = api.get(&format!("/bots/{id}")).await;
    assert_eq!((status, bot["name"].as_str()), (200, Some("rest dca")));
    assert_eq!(api.get("/bots/999").await.0, 404);
    assert_eq!(api.get("/bots/abc").await.0, 400, "an id is a number");
    let (status, edited) = api.send(reqwest::Method::PUT, &format!("/bots/{id}"), json!({"budget": "150.5"})).await;
    assert_eq!((status, edited["budget"].as_str()), (200, Some("150.5")), "{edited}");
    let (status, refused) = api.send(reqwest::Method::PUT, &format!("/bots/{id}"), json!({"budget": "-3"})).await;
    assert_eq!(status, 400, "{refused}");
    assert_eq!(fields(&refused), ["budget"], "{refused}");
    assert_eq!(api.send(reqwest::Method::PUT, "/bots/999", json!({"budget": "5"})).await.0, 404);

    // Copy: a new bot with the same configuration and the changes asked for.
    let (status, copy) = api.post(&format!("/bots/{id}/copy"), json!({"name": "the copy"})).await;
    assert_eq!(status, 201, "{copy}");
    assert_ne!(copy["id"].as_i64().unwrap(), id);
    assert_eq!((copy["name"].as_str(), copy["budget"].as_str()), (Some("the copy"), Some("150.5")));
    assert_eq!(copy["status"], "created");
    assert_eq!(api.post("/bots/999/copy", json!({})).await.0, 404);

    // Orders and positions of a bot that has not traded; a wrong filter is refused by name.
    let (status, orders) = api.get(&format!("/bots/{id}/orders")).await;
    assert_eq!((status, orders), (200, json!([])));
    let (status, refused) = api.get(&format!("/bots/{id}/orders?status=sideways")).await;
    assert_eq!(status, 400);
    assert_eq!(fields(&refused), ["status"], "{refused}");
    assert_eq!(api.get(&format!("/bots/{id}/orders?limt=5")).await.0, 400, "unknown query keys are refused");
    assert_eq!(api.get(&format!("/bots/{id}/positions")).await, (200, json!([])));

    // Go live: a dry-run bot becomes live; a live one cannot be promoted again.
    let (status, live) = api.post(&format!("/bots/{id}/go-live"), json!({})).await;
    assert_eq!((status, live["is_dry_run"].as_bool()), (200, Some(false)), "{live}");
    let (status, again) = api.post(&format!("/bots/{id}/go-live"), json!({})).await;
    assert!(status == 409 || status == 400, "{status} {again}");
    assert_eq!(api.post("/bots/999/go-live", json!({})).await.0, 404);

    // Kill: the bot is killed with its reason, and the alert log says so.
    let (status, killed) = api.post(&format!("/bots/{id}/kill"), json!({"reason": "rest test"})).await;
    assert_eq!(status, 200, "{killed}");
    assert_eq!(killed["killed"], true, "{killed}");
    assert_eq!(api.post("/bots/999/kill", json!({})).await.0, 404);
    let alerts = eventually("the kill's alert", Duration::from_secs(10), || async {
        let (_, alerts) = api.get(&format!("/alerts?bot_id={id}")).await;
        alerts.as_array().filter(|a| a.iter().any(|x| x["alert_type"] == "kill_switch")).cloned()
    })
    .await;
    assert!(alerts.iter().all(|a| a["bot_id"] == id), "filtered by bot: {alerts:?}");
    assert_eq!(api.get("/alerts?limit=many").await.0, 400, "a limit is a number");
    let (status, one) = api.get("/alerts?limit=1").await;
    assert_eq!((status, one.as_array().map(Vec::len)), (200, Some(1)), "{one}");
}

#[tokio::test]
async fn signals_reach_a_running_event_filler_and_are_refused_elsewhere() {
    let data = tempfile::tempdir().unwrap();
    let daemon = Daemon::start(&data).await;
    let gateway = Gateway::start(&daemon.url, None).await;
    let api = Api::new(&gateway);
    let filler = api
        .bot(json!({"trading_pair": "BTC/USDT", "strategy": "event_filler", "budget": "100",
                    "strategy_params": {"order_quote_amount": "10"}}))
        .await;
    let (status, refused) = api.post(&format!("/bots/{filler}/signal"), json!({"side": "buy"})).await;
    assert!((400..500).contains(&status), "a bot that does not run takes no signal: {status} {refused}");
    assert_eq!(api.post(&format!("/bots/{filler}/start"), json!({})).await.0, 200);
    let (status, sent) = api.post(&format!("/bots/{filler}/signal"), json!({"side": "buy", "note": "news"})).await;
    assert_eq!((status, sent["signal"].as_str()), (200, Some("buy")), "{sent}");
    let (status, refused) = api.post(&format!("/bots/{filler}/signal"), json!({"side": "hold"})).await;
    assert_eq!(status, 400, "{refused}");
    assert_eq!(fields(&refused), ["side"], "{refused}");
    // The signal was acted on: a dry-run buy fills.
    let orders = eventually("the signal's buy", Duration::from_secs(20), || async {
        let (_, orders) = api.get(&format!("/bots/{filler}/orders?status=filled")).await;
        orders.as_array().filter(|o| !o.is_empty()).cloned()
    })
    .await;
    assert_eq!(orders[0]["order_type"], "market_buy", "{orders:?}");
}

#[tokio::test]
async fn configuration_venue_and_report_endpoints_answer_and_refuse_precisely() {
    let data = tempfile::tempdir().unwrap();
    let daemon = Daemon::start(&data).await;
    let gateway = Gateway::start(&daemon.url, None).await;
    let api = Api::new(&gateway);

    let (status, strategies) = api.get("/config/strategies").await;
    assert_eq!(status, 200);
    let dca = strategies.as_array().unwrap().iter().find(|s| s["id"] == "dca_accumulator").expect("DCA listed");
    let params = dca["params"].as_array().unwrap();
    let quote = params.iter().find(|p| p["name"] == "quote_amount").expect("its amount is a parameter");
    assert_eq!((quote["kind"].as_str(), quote["default"].as_str()), (Some("decimal"), Some("10")), "{quote}");
    let (status, pairs) = api.get("/config/pairs").await;
    assert_eq!(status, 200);
    assert!(pairs.as_array().unwrap().iter().any(|p| p["pair"] == "BTC/USDT"), "{pairs}");
    assert_eq!(api.get("/config/pairs?exchange=nowhere").await.0, 404);
    let (status, settings) = api.get("/config/settings").await;
    assert_eq!(status, 200);
    let shown = settings.to_string();
    assert!(!shown.contains(crate::helpers::DEMO_SECRET), "secrets are masked: {shown}");

    let (status, check) = api.get("/exchanges/sim/check").await;
    assert_eq!(status, 200, "{check}");
    assert_eq!((check["reachable"].as_bool(), check["keys_valid"].as_bool()), (Some(true), Some(true)), "{check}");
    assert_eq!(api.get("/exchanges/nowhere/check").await.0, 404);

    // Reports over a bot that traded (a dry-run DCA buys at once).
    let id = api.bot(dca_now()).await;
    assert_eq!(api.post(&format!("/bots/{id}/start"), json!({})).await.0, 200);
    eventually("a fill", Duration::from_secs(20), || async {
        let (_, orders) = api.get(&format!("/bots/{id}/orders?status=filled")).await;
        orders.as_array().filter(|o| !o.is_empty()).cloned()
    })
    .await;
    let (status, fees) = api.get(&format!("/reports/fees?bot_id={id}&simulated=true")).await;
    assert_eq!(status, 200, "{fees}");
    assert!(fees.to_string().contains("BTC"), "a buy's fee is charged in BTC: {fees}");
    let (status, pnl) = api.get("/reports/pnl?group_by=bot&simulated=true").await;
    assert_eq!(status, 200, "{pnl}");
    assert_eq!(api.get("/reports/pnl?group_by=planet").await.0, 400);
    let (status, tax) = api.get("/reports/tax").await;
    assert_eq!(status, 200, "{tax}");
    assert_eq!(api.get("/reports/tax?format=xml").await.0, 400);
    let csv = reqwest::get(format!("{}/reports/tax?format=csv", api.base)).await.unwrap();
    assert_eq!(csv.status(), 200);
    assert!(csv.headers()["content-type"].to_str().unwrap().starts_with("text/csv"));
    assert!(csv.headers()["content-disposition"].to_str().unwrap().contains("attachment"));
    let text = csv.text().await.unwrap();
    assert!(text.starts_with("date,token,amount,buy_price,sale_price,gain,bot_id\n"), "{text}");
    assert_eq!(api.get("/reports/fees?from=yesterday").await.0, 400, "a date that is not one");
}

fn dca_now() -> Value {
    json!({"trading_pair": "BTC/USDT", "strategy": "dca_accumulator", "budget": "100",
           "strategy_params": {"quote_amount": "10", "interval_minutes": 60}})
}

#[tokio::test]
async fn health_says_503_when_the_daemon_is_gone() {
    let data = tempfile::tempdir().unwrap();
    let daemon = Daemon::start(&data).await;
    let gateway = Gateway::start(&daemon.url, None).await;
    let api = Api::new(&gateway);
    assert_eq!(api.get("/health").await.0, 200);
    daemon.terminate().await;
    let (status, health) = eventually("the degraded health", Duration::from_secs(10), || async {
        let answer = api.get("/health").await;
        (answer.0 != 200).then_some(answer)
    })
    .await;
    assert_eq!(status, 503, "{health}");
}

#[tokio::test]
async fn the_websocket_filtered_by_bot_relays_only_that_bots_events() {
    let data = tempfile::tempdir().unwrap();
    let daemon = Daemon::start(&data).await;
    let gateway = Gateway::start(&daemon.url, None).await;
    let api = Api::new(&gateway);
    let watched = api.bot(dca()).await;
    let other = api.bot(dca()).await;
    let ws_url = format!("{}/ws?bot_id={watched}", gateway.url.replacen("http", "ws", 1));
    let (mut socket, _) = tokio_tungstenite::connect_async(ws_url).await.unwrap();
    // The other bot changes first, then the watched one: only the latter comes through.
    for (id, action) in [(other, "pause"), (watched, "pause")] {
        assert_eq!(api.post(&format!("/bots/{id}/start"), json!({})).await.0, 200);
        assert_eq!(api.post(&format!("/bots/{id}/{action}"), json!({})).await.0, 200);
    }
    let mut seen = Vec::new();
    while !seen.iter().any(|e: &Value| e["bot"]["status"] == "paused") {
        let message = tokio::time::timeout(Duration::from_secs(10), socket.next()).await.unwrap().unwrap().unwrap();
        if let Message::Text(text) = message {
            seen.push(serde_json::from_str(&text).unwrap());
        }
    }
    // An event names its bot as the bot itself, or by `bot_id` in what it carries.
    let about = |event: &Value| {
        let kind = event["type"].as_str().unwrap_or_default();
        event["bot"]["id"].as_i64().or_else(|| event[kind]["bot_id"].as_i64()).or_else(|| event["bot_id"].as_i64())
    };
    for event in &seen {
        assert_eq!(about(event), Some(watched), "only the watched bot's events: {event}");
    }
    assert!(seen.iter().any(|e| e["bot"]["status"] == "paused"), "{seen:?}");
}
