use std::time::Duration;

use futures::{SinkExt, StreamExt};
use mexc_sim::Faults;
use prost::Message as _;
use reqwest::Method;
use serde_json::{Value, json};
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream, connect_async, tungstenite::Message};

use crate::helpers::{Sim, config, spawn};

#[allow(clippy::all, clippy::pedantic)]
mod pb {
    include!(concat!(env!("OUT_DIR"), "/mexc.push.v3.rs"));
}

type Socket = WebSocketStream<MaybeTlsStream<tokio::net::TcpStream>>;

async fn connect(url: &str) -> Socket {
    connect_async(url).await.unwrap().0
}

async fn send(socket: &mut Socket, value: Value) {
    socket.send(Message::text(value.to_string())).await.unwrap();
}

/// The next JSON control frame.
async fn next_json(socket: &mut Socket) -> Value {
    loop {
        match tokio::time::timeout(Duration::from_secs(5), socket.next()).await.unwrap().unwrap().unwrap() {
            Message::Text(text) => return serde_json::from_str(&text).unwrap(),
            _ => continue,
        }
    }
}

#[tokio::test]
async fn public_channels_push_protobuf_deals_klines_book_tickers_and_depth() {
    let sim = spawn(config()).await;
    let mut socket = connect(&sim.handle.ws_url()).await;
    send(&mut socket, json!({"method": "PING"})).await;
    assert_eq!(next_json(&mut socket).await, json!({"id": 0, "code": 0, "msg": "PONG"}));
    send(&mut socket, json!({"method": "ping"})).await;
    assert_eq!(next_json(&mut socket).await["msg"], "PONG");
    let deals = "spot@public.aggre.deals.v3.api.pb@100ms@BTCUSDT";
    let kline = "spot@public.kline.v3.api.pb@BTCUSDT@Min1";
    let ticker = "spot@public.aggre.bookTicker.v3.api.pb@100ms@BTCUSDT";
    let depth = "spot@public.limit.depth.v3.api.pb@BTCUSDT@5";
    send(&mut socket, json!({"method": "SUBSCRIPTION", "params": [deals]})).await;
    assert_eq!(next_json(&mut socket).await, json!({"id": 0, "code": 0, "msg": deals}));
    send(&mut socket, json!({"method": "SUBSCRIPTION", "params": [kline, ticker, depth]})).await;
    assert_eq!(next_json(&mut socket).await["msg"], format!("{kline},{ticker},{depth}"));
    send(&mut socket, json!({"method": "SUBSCRIPTION", "params": ["spot@public.nope@BTCUSDT"]})).await;
    assert!(next_json(&mut socket).await["msg"].as_str().unwrap().starts_with("Not Subscribed successfully"));

    sim.handle.advance(30_000);
    // One tick pushes on all four channels, in any order.
    let mut pushes = std::collections::BTreeMap::new();
    while pushes.len() < 4 {
        let message = tokio::time::timeout(Duration::from_secs(5), socket.next()).await.unwrap().unwrap().unwrap();
        if let Message::Binary(bytes) = message {
            let push = pb::PushDataV3ApiWrapper::decode(bytes).unwrap();
            assert_eq!(push.symbol.as_deref(), Some("BTCUSDT"));
            pushes.insert(push.channel.clone(), push.body.unwrap());
        }
    }
    let Some(pb::push_data_v3_api_wrapper::Body::PublicAggreDeals(d)) = pushes.remove(deals) else { panic!() };
    assert!(!d.deals.is_empty() && d.deals.iter().all(|x| !x.trade_id.is_empty() && [1, 2].contains(&x.trade_type)));
    assert_eq!(d.event_type, "spot@public.aggre.deals.v3.api.pb@100ms");
    let Some(pb::push_data_v3_api_wrapper::Body::PublicSpotKline(k)) = pushes.remove(kline) else { panic!() };
    assert_eq!((k.interval.as_str(), k.window_end - k.window_start), ("Min1", 60));
    assert!(k.window_start < 10_000_000_000, "seconds, not milliseconds");
    let Some(pb::push_data_v3_api_wrapper::Body::PublicAggreBookTicker(t)) = pushes.remove(ticker) else { panic!() };
    assert!(t.bid_price.parse::<f64>().unwrap() < t.ask_price.parse::<f64>().unwrap());
    let Some(pb::push_data_v3_api_wrapper::Body::PublicLimitDepths(book)) = pushes.remove(depth) else { panic!() };
    assert_eq!((book.bids.len(), book.asks.len()), (5, 5));
    assert!(book.bids[0].price.parse::<f64>().unwrap() < book.asks[0].price.parse::<f64>().unwrap());

    send(&mut socket, json!({"method": "UNSUBSCRIPTION", "params": [deals]})).await;
    assert_eq!(next_json(&mut socket).await["msg"], deals);
    sim.handle.shutdown().await;
}

async fn listen_key(sim: &Sim) -> String {
    sim.signed(Method::POST, "/api/v3/userDataStream", "").await.1["listenKey"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn private_channels_push_orders_deals_and_balances() {
    let sim = spawn(config()).await;
    let key = listen_key(&sim).await;
    assert!(connect_async(format!("{}?listenKey=nope", sim.handle.ws_url())).await.is_err());
    let mut socket = connect(&format!("{}?listenKey={key}", sim.handle.ws_url())).await;
    let channels = ["spot@private.orders.v3.api.pb", "spot@private.deals.v3.api.pb", "spot@private.account.v3.api.pb"];
    send(&mut socket, json!({"method": "SUBSCRIPTION", "params": channels})).await;
    assert_eq!(next_json(&mut socket).await["msg"], channels.join(","));

    let ack = sim.order("symbol=BTCUSDT&side=BUY&type=MARKET&quoteOrderQty=100&newClientOrderId=ws-1").await;
    let mut statuses = Vec::new();
    let (mut deal, mut account) = (None, None);
    while statuses.last() != Some(&2) || deal.is_none() || account.is_none() {
        let message = tokio::time::timeout(Duration::from_secs(5), socket.next()).await.unwrap().unwrap().unwrap();
        let Message::Binary(bytes) = message else { continue };
        match pb::PushDataV3ApiWrapper::decode(bytes).unwrap().body {
            Some(pb::push_data_v3_api_wrapper::Body::PrivateOrders(o)) => {
                assert_eq!(
                    (o.id.as_str(), o.client_id.as_str(), o.order_type),
                    (ack["orderId"].as_str().unwrap(), "ws-1", 5)
                );
                statuses.push(o.status);
            }
            Some(pb::push_data_v3_api_wrapper::Body::PrivateDeals(d)) => deal = Some(d),
            Some(pb::push_data_v3_api_wrapper::Body::PrivateAccount(a)) => account = Some(a),
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(statuses.first(), Some(&1));
    let deal = deal.unwrap();
    assert_eq!((deal.trade_type, deal.is_maker, deal.fee_currency.as_str()), (1, false, "BTC"));
    assert_eq!(deal.order_id, ack["orderId"].as_str().unwrap());
    assert!(["USDT", "BTC"].contains(&account.unwrap().vcoin_name.as_str()));
    sim.handle.shutdown().await;
}

#[tokio::test]
async fn the_drop_fault_closes_the_connection_after_n_messages() {
    let sim = spawn(config()).await;
    sim.handle.set_faults(Faults { ws_drop_after_messages: Some(2), ..Faults::default() });
    let mut socket = connect(&sim.handle.ws_url()).await;
    for _ in 0..3 {
        send(&mut socket, json!({"method": "PING"})).await;
    }
    assert_eq!(next_json(&mut socket).await["msg"], "PONG");
    assert_eq!(next_json(&mut socket).await["msg"], "PONG");
    let end = tokio::time::timeout(Duration::from_secs(5), socket.next()).await.unwrap();
    assert!(matches!(end, None | Some(Err(_))), "dropped without a close frame: {end:?}");
    sim.handle.shutdown().await;
}

#[tokio::test]
async fn the_stall_fault_keeps_the_connection_open_and_silent() {
    let sim = spawn(config()).await;
    let mut socket = connect(&sim.handle.ws_url()).await;
    send(&mut socket, json!({"method": "SUBSCRIPTION", "params": ["spot@public.aggre.deals.v3.api.pb@100ms@BTCUSDT"]}))
        .await;
    next_json(&mut socket).await;
    sim.handle.set_faults(Faults { ws_stall: true, ..Faults::default() });
    send(&mut socket, json!({"method": "PING"})).await;
    sim.handle.advance(60_000);
    assert!(tokio::time::timeout(Duration::from_millis(700), socket.next()).await.is_err(), "nothing arrives");
    sim.handle.set_faults(Faults::default());
    send(&mut socket, json!({"method": "PING"})).await;
    assert_eq!(next_json(&mut socket).await["msg"], "PONG");
    sim.handle.shutdown().await;
}
