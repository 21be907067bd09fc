//! The gateway's REST and WebSocket API in front of a live daemon.

use std::time::Duration;

use futures::StreamExt;
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;

use crate::helpers::{Daemon, Gateway};

async fn post(url: &str, body: Value) -> reqwest::Response {
    reqwest::Client::new().post(url).json(&body).send().await.unwrap()
}

#[tokio::test]
async fn bots_are_managed_over_rest_with_spec_field_names() {
    let data = tempfile::tempdir().unwrap();
    let daemon = Daemon::start(&data).await;
    let gateway = Gateway::start(&daemon.url, None).await;
    let api = format!("{}/api", gateway.url);

    let created = post(
        &format!("{api}/bots"),
        json!({"trading_pair": "BTCUSDT", "strategy": "mean_reversion", "budget": "1000.25", "stop_loss_percent": 3}),
    )
    .await;
    assert_eq!(created.status(), 201);
    let bot: Value = created.json().await.unwrap();
    assert_eq!(bot["trading_pair"], "BTC/USDT");
    assert_eq!(bot["budget"], "1000.25");
    assert_eq!(bot["stop_loss_percent"], "3");
    assert_eq!(bot["status"], "created");
    assert_eq!(bot["running_time_hours"], Value::Null);
    let id = bot["id"].as_i64().unwrap();

    let started: Value = post(&format!("{api}/bots/{id}/start"), json!({})).await.json().await.unwrap();
    assert_eq!(started["status"], "running");
    let list: Value = reqwest::get(format!("{api}/bots")).await.unwrap().json().await.unwrap();
    assert_eq!(list.as_array().unwrap().len(), 1);

    let edit =
        reqwest::Client::new().put(format!("{api}/bots/{id}")).json(&json!({"budget": "5"})).send().await.unwrap();
    assert_eq!(edit.status(), 409);
    let body: Value = edit.json().await.unwrap();
    assert_eq!(body["error"]["code"], "conflict");

    let stop = post(&format!("{api}/bots/{id}/stop"), json!({"cancel_pending": false})).await;
    assert_eq!(stop.json::<Value>().await.unwrap()["status"], "stopped");
    let delete = reqwest::Client::new().delete(format!("{api}/bots/{id}")).send().await.unwrap();
    assert_eq!(delete.status(), 204);
    assert_eq!(reqwest::get(format!("{api}/bots/{id}")).await.unwrap().status(), 404);

    let stats: Value = reqwest::get(format!("{api}/stats")).await.unwrap().json().await.unwrap();
    assert_eq!(stats["bots_total"], 0);
    let pnl: Value = reqwest::get(format!("{api}/pnl")).await.unwrap().json().await.unwrap();
    assert!(pnl.is_array());
    let kill_all: Value = post(&format!("{api}/kill-all"), json!({})).await.json().await.unwrap();
    assert_eq!(kill_all["killed"], 0);
}

#[tokio::test]
async fn bad_payloads_get_4xx_with_field_errors() {
    let data = tempfile::tempdir().unwrap();
    let daemon = Daemon::start(&data).await;
    let gateway = Gateway::start(&daemon.url, None).await;
    let bots = format!("{}/api/bots", gateway.url);

    let invalid = post(
        &bots,
        json!({"trading_pair": "BTC/USDT", "strategy": "twap", "budget": "-1", "strategy_params": {"slices": 0}}),
    )
    .await;
    assert_eq!(invalid.status(), 400);
    let body: Value = invalid.json().await.unwrap();
    assert_eq!(body["error"]["code"], "invalid_argument");
    let fields: Vec<&str> =
        body["error"]["violations"].as_array().unwrap().iter().map(|v| v["field"].as_str().unwrap()).collect();
    assert_eq!(fields, ["strategy_params.target_amount", "strategy_params.slices", "budget"]);
    assert_eq!(body["error"]["field"], "strategy_params.target_amount");

    let wrong_types = post(&bots, json!({"budget": true, "colour": "red"})).await;
    assert_eq!(wrong_types.status(), 400);
    let body: Value = wrong_types.json().await.unwrap();
    assert_eq!(body["error"]["violations"].as_array().unwrap().len(), 2);

    let malformed = reqwest::Client::new()
        .post(&bots)
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(malformed.status(), 400);
    assert_eq!(malformed.json::<Value>().await.unwrap()["error"]["field"], "body");

    let form = reqwest::Client::new().post(&bots).body("a=b").send().await.unwrap();
    assert_eq!(form.status(), 415);
    let stop = post(&format!("{bots}/1/stop"), json!({})).await;
    assert_eq!(stop.status(), 400, "stop must say whether to cancel pending orders");
    assert_eq!(reqwest::get(format!("{bots}/x")).await.unwrap().status(), 400);
    assert_eq!(reqwest::get(format!("{}/api/nope", gateway.url)).await.unwrap().status(), 404);

    let created: Value = post(&bots, json!({"trading_pair": "BTC/USDT", "strategy": "event_filler", "budget": "50"}))
        .await
        .json()
        .await
        .unwrap();
    let signal = format!("{bots}/{}/signal", created["id"]);
    let idle = post(&signal, json!({"side": "buy", "note": "x"})).await;
    assert_eq!(idle.status(), 409, "signals go to running bots only");
    let bad = post(&signal, json!({"side": "hold"})).await;
    assert_eq!(bad.status(), 400);
    assert_eq!(bad.json::<Value>().await.unwrap()["error"]["field"], "side");
}

#[tokio::test]
async fn foreign_hosts_and_origins_are_refused() {
    let data = tempfile::tempdir().unwrap();
    let daemon = Daemon::start(&data).await;
    let gateway = Gateway::start(&daemon.url, None).await;
    let client = reqwest::Client::new();
    let rebinding =
        client.get(format!("{}/api/bots", gateway.url)).header("host", "attacker.example:8080").send().await.unwrap();
    assert_eq!(rebinding.status(), 403);
    let cross_site = client
        .post(format!("{}/api/kill-all", gateway.url))
        .header("origin", "https://attacker.example")
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(cross_site.status(), 403);
    assert!(cross_site.headers().get("access-control-allow-origin").is_none());
    let same_site = client
        .post(format!("{}/api/kill-all", gateway.url))
        .header("origin", gateway.url.as_str())
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(same_site.status(), 200);
}

#[tokio::test]
async fn websocket_relays_live_bot_events() {
    let data = tempfile::tempdir().unwrap();
    let daemon = Daemon::start(&data).await;
    let gateway = Gateway::start(&daemon.url, None).await;
    let ws_url = format!("{}/ws", gateway.url.replacen("http", "ws", 1));
    let (mut socket, _) = tokio_tungstenite::connect_async(ws_url).await.unwrap();
    // The subscription is set up right after the upgrade, at a moment the client cannot see:
    // instead of sleeping a guessed while, a bot is created until one's event comes through
    // (each attempt waits 2 s for it; 20 attempts bound the whole).
    let mut created = Vec::new();
    let mut event = None;
    for _ in 0..20 {
        let bot: Value = post(&format!("{}/api/bots", gateway.url), json!({"trading_pair": "LTC/USDT", "strategy": "twap", "budget": "10", "strategy_params": {"target_amount": "1"}}))
            .await
            .json()
            .await
            .unwrap();
        created.push(bot["id"].clone());
        if let Ok(message) = tokio::time::timeout(Duration::from_secs(2), socket.next()).await {
            event = Some(message.unwrap().unwrap());
            break;
        }
    }
    let message = event.expect("no event of 20 created bots reached the socket");
    let Message::Text(text) = message else { panic!("expected a text frame, got {message:?}") };
    let event: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(event["type"], "bot");
    assert!(created.contains(&event["bot"]["id"]), "{event} is of none of the bots created: {created:?}");
    assert_eq!(event["bot"]["trading_pair"], "LTC/USDT");
}

#[tokio::test]
async fn serves_the_web_ui_with_client_side_routes() {
    let web = tempfile::tempdir().unwrap();
    std::fs::write(web.path().join("index.html"), "<!doctype html><title>tradingbot</title>").unwrap();
    let data = tempfile::tempdir().unwrap();
    let daemon = Daemon::start(&data).await;
    let gateway = Gateway::start(&daemon.url, Some(web.path())).await;
    for path in ["/", "/bots", "/reports"] {
        let page = reqwest::get(format!("{}{path}", gateway.url)).await.unwrap();
        assert_eq!(page.status(), 200, "{path}");
        assert!(page.text().await.unwrap().contains("<title>tradingbot</title>"));
    }
}

#[tokio::test]
async fn candles_are_uploaded_through_the_gateway_and_backtested_by_id() {
    // A daemon whose upload limit (4 MiB) is below the gateway's, so that both show.
    let sim = crate::helpers::Sim::start().await;
    let config = sim.config_dir(crate::helpers::DEMO_SECRET);
    let data = tempfile::tempdir().unwrap();
    let flags = ["--max-upload-bytes", "4194304"];
    let daemon = Daemon::start_with_flags(config.path(), data.path(), crate::helpers::ANY_PORT, &flags).await;
    let gateway = Gateway::start(&daemon.url, None).await;
    let uploads = format!("{}/api/backtests/candles", gateway.url);
    let client = reqwest::Client::new();
    let send = |body: Vec<u8>, content_type: &'static str| {
        client.post(&uploads).header("content-type", content_type).body(body).send()
    };

    // The body is the file itself, as bytes; JSON (or a form) is refused here.
    let csv = std::fs::read(crate::helpers::repo_root().join("server/mexc-sim/data/binance_BTCUSDT_1m.csv")).unwrap();
    // (Small bodies: a refusal before the body is read closes the connection under a large one.)
    let head = csv[..200].to_vec();
    assert_eq!(send(head.clone(), "application/json").await.unwrap().status(), 415);
    assert_eq!(send(head.clone(), "text/plain").await.unwrap().status(), 415);
    let cross_site = client
        .post(&uploads)
        .header("content-type", "application/octet-stream")
        .header("origin", "https://attacker.example")
        .body(head)
        .send()
        .await
        .unwrap();
    assert_eq!(cross_site.status(), 403);

    // A bad file: its line and rule, not its text.
    let bad = b"open_time_ms,open,high,low,close,volume\n1619049600000,1,2,1,2,5\n1619049660000,1,2,s3cr3t,1,0\n";
    let refused = send(bad.to_vec(), "application/octet-stream").await.unwrap();
    assert_eq!(refused.status(), 400);
    let body: Value = refused.json().await.unwrap();
    assert_eq!(body["error"]["violations"], json!([{"field": "data", "description": "line 3: low is not a number"}]));
    assert!(!body.to_string().contains("s3cr3t"), "{body}");

    // A good one, then the same again.
    let created = send(csv.clone(), "application/octet-stream").await.unwrap();
    assert_eq!(created.status(), 201);
    let upload: Value = created.json().await.unwrap();
    assert_eq!((upload["candles"].as_u64(), upload["already_held"].as_bool()), (Some(42_913), Some(false)));
    let id = upload["data_id"].as_str().unwrap().to_owned();
    let again = send(csv.clone(), "application/octet-stream").await.unwrap();
    assert_eq!(again.status(), 200);
    assert_eq!(again.json::<Value>().await.unwrap()["data_id"], id.as_str());
    let held: Value = reqwest::get(format!("{uploads}/{id}")).await.unwrap().json().await.unwrap();
    assert_eq!(held, json!({"data_id": id, "held": true}));

    // Past the daemon's limit: 413, stating it.
    let oversized = send(vec![b'0'; 5 << 20], "application/octet-stream").await.unwrap();
    assert_eq!(oversized.status(), 413);
    let body: Value = oversized.json().await.unwrap();
    assert!(body["error"]["message"].as_str().unwrap().contains("upload limit of 4 MiB"), "{body}");

    // The backtest names the id; a path is refused with the way to go instead.
    let backtests = format!("{}/api/backtests", gateway.url);
    let day = json!({
        "strategy": "mean_reversion", "trading_pair": "BTC/USDT", "fee": "0.001", "data_id": id,
        "from": "2021-04-22", "to": "2021-04-23"
    });
    let report = post(&backtests, day).await;
    assert_eq!(report.status(), 200);
    let report: Value = report.json().await.unwrap();
    assert_eq!(
        (report["candles"].as_u64(), report["first_candle_at"].as_str()),
        (Some(1_440), Some("2021-04-22T00:00:00.000Z"))
    );
    let by_path = post(
        &backtests,
        json!({"strategy": "mean_reversion", "trading_pair": "BTC/USDT", "data_path": "/proc/self/environ"}),
    )
    .await;
    assert_eq!(by_path.status(), 400);
    let body: Value = by_path.json().await.unwrap();
    assert_eq!(body["error"]["field"], "data_path");
    assert!(body.to_string().contains("upload the file"), "{body}");
    assert!(!body.to_string().contains("PATH="), "{body}");
}
