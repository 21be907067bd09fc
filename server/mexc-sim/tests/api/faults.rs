use std::time::{Duration, Instant};

use mexc_sim::{Faults, RateLimitFault};
use reqwest::{Method, StatusCode};

use crate::helpers::{config, now_ms, spawn};

#[tokio::test]
async fn latency_and_5xx_are_injected_and_switchable_at_run_time() {
    let sim = spawn(config()).await;
    sim.handle.set_faults(Faults { latency_ms: 300, ..Faults::default() });
    let started = Instant::now();
    assert_eq!(sim.get("/api/v3/ping").await.0, StatusCode::OK);
    assert!(started.elapsed() >= Duration::from_millis(300));

    sim.handle.set_faults(Faults { error_5xx_rate: 1.0, ..Faults::default() });
    let (status, body) = sim
        .signed(Method::POST, "/api/v3/order", "symbol=BTCUSDT&side=BUY&type=LIMIT&quantity=0.001&price=20000")
        .await;
    assert!(status.is_server_error(), "{status}");
    assert_eq!(body["code"].as_u64(), Some(u64::from(status.as_u16())));
    sim.handle.set_faults(Faults::default());
    let (_, open) = sim.signed(Method::GET, "/api/v3/openOrders", "symbol=BTCUSDT").await;
    assert_eq!(open, serde_json::json!([]), "a 5xx before execution placed nothing");
    sim.handle.shutdown().await;
}

#[tokio::test]
async fn a_lost_create_response_leaves_the_order_in_place() {
    let sim = spawn(config()).await;
    sim.handle.set_faults(Faults { lose_create_response_rate: 1.0, ..Faults::default() });
    let query = format!(
        "symbol=BTCUSDT&side=BUY&type=LIMIT&quantity=0.001&price=20000&newClientOrderId=lost-1&timestamp={}",
        now_ms()
    );
    let signature = crate::helpers::sign(mexc_sim::DEMO_API_SECRET, &query);
    let result = sim
        .http
        .post(format!("{}/api/v3/order?{query}&signature={signature}", sim.handle.rest_url()))
        .header("X-MEXC-APIKEY", mexc_sim::DEMO_API_KEY)
        .header("Content-Type", "application/json")
        .timeout(Duration::from_millis(500))
        .send()
        .await;
    assert!(result.is_err_and(|e| e.is_timeout()));
    sim.handle.set_faults(Faults::default());
    let (status, order) = sim.signed(Method::GET, "/api/v3/order", "symbol=BTCUSDT&origClientOrderId=lost-1").await;
    assert_eq!((status, order["status"].as_str()), (StatusCode::OK, Some("NEW")));
    sim.handle.shutdown().await;
}

#[tokio::test]
async fn orders_are_not_found_for_a_while_after_creation() {
    let mut c = config();
    // A lag long enough that the lookup right after the create falls inside it even on a
    // loaded machine; the order is then awaited with a bound rather than after a fixed sleep.
    c.faults = Faults { order_not_found_lag_ms: 3_000, ..Faults::default() };
    let sim = spawn(c).await;
    let created = Instant::now();
    let ack = sim.order("symbol=BTCUSDT&side=BUY&type=LIMIT&quantity=0.001&price=20000").await;
    let id = ack["orderId"].as_str().unwrap();
    let (deadline, mut hidden) = (Instant::now() + Duration::from_secs(30), 0);
    loop {
        let (status, body) = sim.signed(Method::GET, "/api/v3/order", &format!("symbol=BTCUSDT&orderId={id}")).await;
        if status == StatusCode::OK {
            assert_eq!(body["status"], "NEW");
            break;
        }
        // Until then, the venue's own "does not exist" answer, and nothing else.
        assert_eq!((status, body["code"].as_i64()), (StatusCode::BAD_REQUEST, Some(-2013)), "{body}");
        assert!(body.as_object().unwrap().contains_key("_extend"));
        hidden += 1;
        assert!(Instant::now() < deadline, "the order never appeared after its lag");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(hidden > 0, "the first lookup, right after the create, already found the order");
    // It was hidden for the lag, not less: the sim measures from its own create, after `created`.
    assert!(created.elapsed() >= Duration::from_millis(3_000), "found before its lag ran out");
    sim.handle.shutdown().await;
}

#[tokio::test]
async fn the_rate_limit_answers_429_with_retry_after_and_counts_requests() {
    let sim = spawn(config()).await;
    let rule = RateLimitFault { max_requests: 3, window_ms: 10_000, retry_after_secs: 1, status: 429 };
    sim.handle.set_faults(Faults { rate_limit: Some(rule.clone()), ..Faults::default() });
    let before = sim.handle.request_count();
    for _ in 0..3 {
        assert_eq!(sim.get("/api/v3/ping").await.0, StatusCode::OK);
    }
    let response = sim.http.get(format!("{}/api/v3/ping", sim.handle.rest_url())).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(response.headers()["retry-after"], "1");
    assert_eq!(sim.handle.request_count() - before, 4);
    tokio::time::sleep(Duration::from_millis(1050)).await;
    assert_eq!(sim.get("/api/v3/ping").await.0, StatusCode::OK);

    sim.handle.set_faults(Faults {
        rate_limit: Some(RateLimitFault { max_requests: 0, status: 418, ..rule }),
        ..Faults::default()
    });
    assert_eq!(sim.get("/api/v3/ping").await.0, StatusCode::IM_A_TEAPOT);
    sim.handle.shutdown().await;
}

#[tokio::test]
async fn clock_skew_shifts_the_server_clock_and_the_timestamp_check() {
    let sim = spawn(config()).await;
    sim.handle.set_faults(Faults { clock_skew_ms: 20_000, ..Faults::default() });
    let (_, time) = sim.get("/api/v3/time").await;
    assert!((time["serverTime"].as_i64().unwrap() - now_ms() - 20_000).abs() < 2000);
    let (_, refused) = sim.signed(Method::GET, "/api/v3/account", "").await;
    assert_eq!(refused["code"], 700003, "a client on the wall clock is now 20 s behind");
    sim.handle.shutdown().await;
}

#[tokio::test]
async fn the_admin_endpoint_reads_and_replaces_the_faults() {
    let sim = spawn(config()).await;
    let url = format!("{}/admin/faults", sim.handle.rest_url());
    let faults = Faults { latency_ms: 5, ws_stall: true, ..Faults::default() };
    let response = sim.http.post(&url).json(&faults).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let read: Faults = sim.http.get(&url).send().await.unwrap().json().await.unwrap();
    assert_eq!(read, faults);
    let bad =
        sim.http.post(&url).header("Content-Type", "application/json").body(r#"{"nope":1}"#).send().await.unwrap();
    assert!(bad.status().is_client_error());
    sim.handle.shutdown().await;
}
