use mexc_sim::Faults;
use reqwest::{Method, StatusCode};
use rust_decimal::Decimal;
use rust_decimal_macros::dec;

use crate::helpers::{assert_code, config, dec, spawn};

#[tokio::test]
async fn a_market_buy_walks_the_book_and_pays_the_taker_fee_in_the_base_asset() {
    let sim = spawn(config()).await;
    let book = sim.book("BTCUSDT").await;
    let asks: Vec<(Decimal, Decimal)> =
        book["asks"].as_array().unwrap().iter().map(|l| (dec(&l[0]), dec(&l[1]))).collect();
    // Enough to eat the first two levels and part of the third.
    let qty = asks[0].1 + asks[1].1 + dec!(0.000001);
    let ack = sim.order(&format!("symbol=BTCUSDT&side=BUY&type=MARKET&quantity={qty}")).await;
    assert_eq!(ack["orderListId"], -1);
    assert!(ack["orderId"].is_string() && ack["transactTime"].is_i64());
    let order = sim.query("BTCUSDT", &ack["orderId"]).await;
    assert_eq!(order["status"], "FILLED");
    assert_eq!(dec(&order["executedQty"]), qty);
    let expected_cost = asks[0].0 * asks[0].1 + asks[1].0 * asks[1].1 + asks[2].0 * dec!(0.000001);
    assert_eq!(dec(&order["cummulativeQuoteQty"]), expected_cost, "slippage: three levels");

    let (_, fills) = sim.signed(Method::GET, "/api/v3/myTrades", "symbol=BTCUSDT").await;
    let fills = fills.as_array().unwrap();
    assert_eq!(fills.len(), 3);
    assert!(fills.iter().all(|f| f["commissionAsset"] == "BTC" && f["isMaker"] == false && f["isBuyer"] == true));
    let fee: Decimal = fills.iter().map(|f| dec(&f["commission"])).sum();
    assert!(fee > Decimal::ZERO);
    assert_eq!(sim.balance("BTC").await, (dec!(2) + qty - fee, dec!(0)));
    assert_eq!(sim.balance("USDT").await, (dec!(100000) - expected_cost, dec!(0)));
    // What was taken is gone from the book until the tape moves on.
    let after = sim.book("BTCUSDT").await;
    assert_eq!(dec(&after["asks"][0][0]), asks[2].0);
    sim.handle.shutdown().await;
}

#[tokio::test]
async fn market_orders_by_quote_amount_spend_at_most_that_amount() {
    let sim = spawn(config()).await;
    let ack = sim.order("symbol=BTCUSDT&side=BUY&type=MARKET&quoteOrderQty=1000").await;
    let order = sim.query("BTCUSDT", &ack["orderId"]).await;
    assert_eq!((order["status"].as_str(), order["origQuoteOrderQty"].as_str()), (Some("FILLED"), Some("1000")));
    let spent = dec(&order["cummulativeQuoteQty"]);
    assert!(spent <= dec!(1000) && spent > dec!(999), "{spent}");
    let sell = sim.order("symbol=BTCUSDT&side=SELL&type=MARKET&quoteOrderQty=500").await;
    let sold = sim.query("BTCUSDT", &sell["orderId"]).await;
    assert_eq!(sold["status"], "FILLED");
    let (_, fills) = sim
        .signed(
            Method::GET,
            "/api/v3/myTrades",
            &format!("symbol=BTCUSDT&orderId={}", sell["orderId"].as_str().unwrap()),
        )
        .await;
    assert!(fills.as_array().unwrap().iter().all(|f| f["commissionAsset"] == "USDT"));
    sim.handle.shutdown().await;
}

#[tokio::test]
async fn a_limit_order_rests_then_fills_as_maker_when_the_tape_trades_through() {
    let sim = spawn(config()).await;
    let (_, price) = sim.get("/api/v3/ticker/price?symbol=BTCUSDT").await;
    let last = dec(&price["price"]);
    // The replay's next minutes trade above this price (checked below by the fill).
    let limit = (last * dec!(0.999)).round_dp(2);
    let ack = sim
        .order(&format!("symbol=BTCUSDT&side=BUY&type=LIMIT&quantity=0.01&price={limit}&newClientOrderId=rest-1"))
        .await;
    let order = sim.query("BTCUSDT", &ack["orderId"]).await;
    assert_eq!((order["status"].as_str(), order["timeInForce"].as_str()), (Some("NEW"), Some("GTC")));
    assert_eq!(sim.balance("USDT").await, (dec!(100000) - limit * dec!(0.01), limit * dec!(0.01)));
    let (_, open) = sim.signed(Method::GET, "/api/v3/openOrders", "symbol=BTCUSDT").await;
    assert_eq!(open.as_array().unwrap().len(), 1);

    // Walk the tape forward until it trades below the limit.
    let mut filled = false;
    for _ in 0..600 {
        sim.handle.advance(60_000);
        if sim.query("BTCUSDT", &ack["orderId"]).await["status"] == "FILLED" {
            filled = true;
            break;
        }
    }
    assert!(filled, "BTC went below {limit} within 10 h of the recorded month");
    let (_, fills) = sim.signed(Method::GET, "/api/v3/myTrades", "symbol=BTCUSDT").await;
    let fill = &fills[0];
    assert_eq!((fill["isMaker"].as_bool(), dec(&fill["price"])), (Some(true), limit));
    assert_eq!(fill["clientOrderId"], "rest-1");
    assert_eq!(sim.balance("USDT").await, (dec!(100000) - limit * dec!(0.01), dec!(0)));
    assert_eq!(sim.balance("BTC").await.0, dec!(2.01), "maker fee is zero");
    let (_, all) = sim.signed(Method::GET, "/api/v3/allOrders", "symbol=BTCUSDT").await;
    assert_eq!(all[0]["status"], "FILLED");
    sim.handle.shutdown().await;
}

#[tokio::test]
async fn cancel_answers_canceled_and_releases_the_balance() {
    let sim = spawn(config()).await;
    let ack = sim.order("symbol=BTCUSDT&side=SELL&type=LIMIT&quantity=0.5&price=999999&newClientOrderId=c1").await;
    assert_eq!(sim.balance("BTC").await, (dec!(1.5), dec!(0.5)));
    let (status, cancelled) = sim.signed(Method::DELETE, "/api/v3/order", "symbol=BTCUSDT&origClientOrderId=c1").await;
    assert_eq!(status, StatusCode::OK, "{cancelled}");
    assert_eq!((cancelled["status"].as_str(), cancelled["origClientOrderId"].as_str()), (Some("CANCELED"), Some("c1")));
    assert_eq!(cancelled["orderId"], ack["orderId"]);
    assert_eq!(sim.balance("BTC").await, (dec!(2), dec!(0)));
    assert_code(&sim.signed(Method::DELETE, "/api/v3/order", "symbol=BTCUSDT&origClientOrderId=c1").await, -2011);
    assert_code(&sim.signed(Method::DELETE, "/api/v3/order", "symbol=BTCUSDT").await, 700004);
    assert_code(&sim.signed(Method::GET, "/api/v3/order", "symbol=BTCUSDT&orderId=C02__nope").await, -2013);

    sim.order("symbol=BTCUSDT&side=BUY&type=LIMIT&quantity=0.001&price=1000").await;
    sim.order("symbol=ETHBTC&side=BUY&type=LIMIT&quantity=1&price=0.01").await;
    let (_, all) = sim.signed(Method::DELETE, "/api/v3/openOrders", "symbol=BTCUSDT,ETHBTC").await;
    assert_eq!(all.as_array().unwrap().len(), 2);
    assert_eq!(sim.balance("USDT").await, (dec!(100000), dec!(0)));
    sim.handle.shutdown().await;
}

#[tokio::test]
async fn orders_are_validated_against_the_symbol_rules_and_the_balance() {
    let sim = spawn(config()).await;
    let place = |q: &'static str| sim.signed(Method::POST, "/api/v3/order", q);
    assert_code(&place("symbol=BTCUSDT&side=BUY&type=LIMIT&quantity=0.00001&price=20000").await, 30002);
    assert_code(&place("symbol=BTCUSDT&side=BUY&type=LIMIT&quantity=0.0000001&price=20000").await, 33333);
    assert_code(&place("symbol=BTCUSDT&side=BUY&type=LIMIT&quantity=0.001&price=20000.001").await, 33333);
    assert_code(&place("symbol=BTCUSDT&side=BUY&type=LIMIT&quantity=10&price=20000").await, 10101);
    assert_code(&place("symbol=BTCUSDT&side=SELL&type=LIMIT&quantity=3&price=20000").await, 30004);
    assert_code(&place("symbol=BTCUSDT&side=BUY&type=LIMIT&quantity=1").await, 33333);
    assert_code(&place("symbol=BTCUSDT&side=BUY&type=STOP&quantity=1&price=1").await, 33333);
    assert_code(&place("symbol=DOGEUSDT&side=BUY&type=MARKET&quantity=1").await, 10007);
    sim.order("symbol=BTCUSDT&side=BUY&type=LIMIT&quantity=0.001&price=20000&newClientOrderId=dup").await;
    let duplicate = place("symbol=BTCUSDT&side=BUY&type=LIMIT&quantity=0.001&price=20000&newClientOrderId=dup").await;
    assert!(duplicate.0.is_client_error() && duplicate.1["code"].is_i64(), "{duplicate:?}");

    assert_eq!(place("symbol=BTCUSDT&side=BUY&type=LIMIT&quantity=0.001&price=20000").await.0, StatusCode::OK);
    let (status, tested) = sim
        .signed(Method::POST, "/api/v3/order/test", "symbol=BTCUSDT&side=BUY&type=LIMIT&quantity=0.001&price=20000")
        .await;
    assert_eq!((status, tested), (StatusCode::OK, serde_json::json!({})));
    assert_code(
        &sim.signed(Method::POST, "/api/v3/order/test", "symbol=BTCUSDT&side=BUY&type=LIMIT&quantity=9&price=20000")
            .await,
        10101,
    );
    let (_, open) = sim.signed(Method::GET, "/api/v3/openOrders", "").await;
    assert_eq!(open.as_array().unwrap().len(), 2, "order/test places nothing");
    sim.handle.shutdown().await;
}

#[tokio::test]
async fn ioc_fok_and_limit_maker_follow_their_rules() {
    let sim = spawn(config()).await;
    let book = sim.book("BTCUSDT").await;
    let (ask, ask_qty) = (dec(&book["asks"][0][0]), dec(&book["asks"][0][1]));
    let bid = dec(&book["bids"][0][0]);
    let big = ask_qty + dec!(0.1);
    let ioc = sim.order(&format!("symbol=BTCUSDT&side=BUY&type=IMMEDIATE_OR_CANCEL&quantity={big}&price={ask}")).await;
    let ioc = sim.query("BTCUSDT", &ioc["orderId"]).await;
    assert_eq!((ioc["status"].as_str(), dec(&ioc["executedQty"])), (Some("PARTIALLY_CANCELED"), ask_qty));
    let fok = sim.order(&format!("symbol=BTCUSDT&side=BUY&type=FILL_OR_KILL&quantity={big}&price={ask}")).await;
    let fok = sim.query("BTCUSDT", &fok["orderId"]).await;
    assert_eq!((fok["status"].as_str(), dec(&fok["executedQty"])), (Some("CANCELED"), dec!(0)));
    let maker = sim.order(&format!("symbol=BTCUSDT&side=SELL&type=LIMIT_MAKER&quantity=0.01&price={bid}")).await;
    assert_eq!(sim.query("BTCUSDT", &maker["orderId"]).await["status"], "CANCELED");
    let resting =
        sim.order(&format!("symbol=BTCUSDT&side=SELL&type=LIMIT_MAKER&quantity=0.01&price={}", ask + dec!(100))).await;
    assert_eq!(sim.query("BTCUSDT", &resting["orderId"]).await["status"], "NEW");
    assert_eq!(sim.balance("BTC").await.1, dec!(0.01));
    sim.handle.shutdown().await;
}

#[tokio::test]
async fn with_the_partial_fill_fault_fills_come_in_parts_and_a_cancel_is_partial() {
    let mut c = config();
    c.faults = Faults { partial_fill: true, ..Faults::default() };
    let sim = spawn(c).await;
    let ack = sim.order("symbol=BTCUSDT&side=BUY&type=MARKET&quantity=0.3").await;
    let first = sim.query("BTCUSDT", &ack["orderId"]).await;
    assert_eq!((first["status"].as_str(), dec(&first["executedQty"])), (Some("PARTIALLY_FILLED"), dec!(0.1)));
    sim.handle.advance(1000);
    sim.handle.advance(1000);
    let done = sim.query("BTCUSDT", &ack["orderId"]).await;
    assert_eq!((done["status"].as_str(), dec(&done["executedQty"])), (Some("FILLED"), dec!(0.3)));
    let (_, fills) = sim.signed(Method::GET, "/api/v3/myTrades", "symbol=BTCUSDT").await;
    assert!(fills.as_array().unwrap().len() >= 3);

    let (_, top) = sim.get("/api/v3/ticker/bookTicker?symbol=BTCUSDT").await;
    let limit = dec(&top["askPrice"]) + dec!(50);
    let limit_ack = sim.order(&format!("symbol=BTCUSDT&side=BUY&type=LIMIT&quantity=0.03&price={limit}")).await;
    assert_eq!(dec(&sim.query("BTCUSDT", &limit_ack["orderId"]).await["executedQty"]), dec!(0.01));
    let (_, cancelled) = sim
        .signed(
            Method::DELETE,
            "/api/v3/order",
            &format!("symbol=BTCUSDT&orderId={}", limit_ack["orderId"].as_str().unwrap()),
        )
        .await;
    assert_eq!(cancelled["status"], "PARTIALLY_CANCELED");
    assert_eq!(sim.balance("USDT").await.1, dec!(0), "nothing stays locked");
    sim.handle.shutdown().await;
}

#[tokio::test]
async fn batch_orders_answer_each_order_on_its_own() {
    let sim = spawn(config()).await;
    let book = sim.book("BTCUSDT").await;
    let below = (dec(&book["bids"][0][0]) * dec!(0.9)).round_dp(2);
    let batch = format!(
        r#"[{{"symbol":"BTCUSDT","side":"BUY","type":"LIMIT","quantity":"0.001","price":"{below}","newClientOrderId":"b-1"}},{{"symbol":"BTCUSDT","side":"BUY","type":"LIMIT","quantity":"0.000001","price":"{below}","newClientOrderId":"b-2"}}]"#
    );
    let query =
        format!("batchOrders={}", percent_encoding::utf8_percent_encode(&batch, percent_encoding::NON_ALPHANUMERIC));
    let (status, answers) = sim.signed(Method::POST, "/api/v3/batchOrders", &query).await;
    assert_eq!(status, StatusCode::OK, "{answers}");
    assert!(answers[0]["orderId"].is_string() && answers[0]["newClientOrderId"] == "b-1");
    assert_eq!(answers[1]["code"], 30002, "the too-small order is refused on its own: {answers}");
    assert_eq!(answers[1]["newClientOrderId"], "b-2");
    let mixed = r#"[{"symbol":"BTCUSDT","side":"BUY","type":"MARKET","quantity":"0.001"},{"symbol":"ETHUSDT","side":"BUY","type":"MARKET","quantity":"0.01"}]"#;
    let query =
        format!("batchOrders={}", percent_encoding::utf8_percent_encode(mixed, percent_encoding::NON_ALPHANUMERIC));
    let refused = sim.signed(Method::POST, "/api/v3/batchOrders", &query).await;
    assert_code(&refused, 33333);
    sim.handle.shutdown().await;
}
