//! The MEXC adapter against the local venue over real loopback HTTP and WebSocket, with the
//! venue's faults injected. No mocks: the simulator speaks the venue's protocol.
// Test code: a failed unwrap is a failed test with its location.
#![allow(clippy::unwrap_used)]

use std::{
    collections::BTreeMap,
    path::PathBuf,
    sync::Arc,
    time::{Duration, Instant},
};

use domain::{
    money::{Price, Qty, Quote},
    pair::Pair,
    time::Timestamp,
};
use exchange::{
    Error, Exchange,
    mexc::{Mexc, MexcConfig, StreamSettings},
    types::{MarketEvent, NewOrder, OrderKind, OrderRef, OrderSize, Side, VenueOrderStatus},
};
use mexc_sim::{DEMO_API_KEY, DEMO_API_SECRET, Faults, RateLimitFault, SimConfig, SimHandle, Simulator};
use rust_decimal_macros::dec;

fn data_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../mexc-sim/data")
}

async fn sim() -> SimHandle {
    let mut config = SimConfig::demo(&data_dir());
    config.speed = 600.0;
    Simulator::start(config, tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap()).await
}

fn adapter(sim: &SimHandle) -> Arc<Mexc> {
    let mut config = MexcConfig::new(&sim.rest_url(), &sim.ws_url(), DEMO_API_KEY, DEMO_API_SECRET);
    config.request_timeout = Duration::from_secs(2);
    config.streams = StreamSettings {
        stall_timeout: Duration::from_secs(2),
        min_backoff: Duration::from_millis(50),
        max_backoff: Duration::from_millis(500),
        ..StreamSettings::default()
    };
    Arc::new(Mexc::new(&config).unwrap())
}

fn btc() -> Pair {
    "BTC/USDT".parse().unwrap()
}

fn limit(side: Side, price: Price, qty: &str, id: &str) -> NewOrder {
    NewOrder {
        pair: btc(),
        side,
        kind: OrderKind::Limit,
        price: Some(price),
        size: OrderSize::Base(Qty::new(qty.parse().unwrap())),
        client_order_id: id.to_owned(),
    }
}

#[tokio::test]
async fn market_data_and_symbol_rules() {
    let sim = sim().await;
    let mexc = adapter(&sim);
    let symbols = mexc.symbols().await.unwrap();
    let info = symbols.iter().find(|s| s.symbol == "BTCUSDT").expect("BTCUSDT listed");
    assert!(info.api_trading_allowed);
    assert!(info.rules.min_notional.value() > dec!(0));
    let ticker = mexc.ticker(&btc()).await.unwrap();
    assert!(ticker.bid < ticker.ask && ticker.last.value() > dec!(1000));
    let book = mexc.order_book(&btc(), 5).await.unwrap();
    assert!(!book.bids.is_empty() && book.bids[0].price < book.asks[0].price);
    let candles = mexc.candles(&btc(), exchange::types::Interval::M1, None, 10).await.unwrap();
    assert!(!candles.is_empty() && candles.iter().all(|c| c.low <= c.high));
    assert!(!mexc.recent_trades(&btc(), 20).await.unwrap().is_empty());
    let balances = mexc.balances().await.unwrap();
    assert_eq!(balances.iter().find(|b| b.asset == "USDT").unwrap().free.value(), dec!(100000));
}

#[tokio::test]
async fn orders_rest_fill_and_cancel() {
    let sim = sim().await;
    let mexc = adapter(&sim);
    let ticker = mexc.ticker(&btc()).await.unwrap();
    let below = Price::new((ticker.bid.value() * dec!(0.9)).round_dp(2));
    let resting = mexc.place_order(&limit(Side::Buy, below, "0.001", "it-rest-1")).await.unwrap();
    let open = mexc.open_orders(&btc()).await.unwrap();
    assert!(open.iter().any(|o| o.venue_id == resting.venue_id));
    let by_client = mexc.order(&btc(), &OrderRef::Client("it-rest-1".into())).await.unwrap();
    assert_eq!(by_client.venue_id, resting.venue_id);
    let cancelled = mexc.cancel_order(&btc(), &OrderRef::Venue(resting.venue_id.clone())).await.unwrap();
    assert_eq!(cancelled.status, VenueOrderStatus::Cancelled);

    let market = NewOrder {
        pair: btc(),
        side: Side::Buy,
        kind: OrderKind::Market,
        price: None,
        size: OrderSize::Quote(Quote::new(dec!(50))),
        client_order_id: "it-market-1".into(),
    };
    let bought = mexc.place_order(&market).await.unwrap();
    let filled = mexc.order(&btc(), &OrderRef::Venue(bought.venue_id.clone())).await.unwrap();
    assert_eq!(filled.status, VenueOrderStatus::Filled);
    let trades = mexc.account_trades(&btc(), None).await.unwrap();
    assert!(trades.iter().any(|t| t.order_id == bought.venue_id && t.side == Side::Buy));
    let own = mexc.order_trades(&btc(), &bought.venue_id, Timestamp::from_millis(0)).await.unwrap();
    assert!(!own.is_empty() && own.iter().all(|t| t.order_id == bought.venue_id), "only that order's fills");
    let executed: rust_decimal::Decimal = own.iter().map(|t| t.qty.value()).sum();
    assert_eq!(executed, filled.executed_qty.value());
    let history = mexc.order_history(&btc(), None).await.unwrap();
    for id in [&resting.venue_id, &bought.venue_id] {
        assert!(history.iter().any(|o| &o.venue_id == id), "{id} missing from the order history");
    }
}

#[tokio::test]
async fn venue_refusals_are_classified() {
    let sim = sim().await;
    let mexc = adapter(&sim);
    let too_big = NewOrder {
        pair: btc(),
        side: Side::Buy,
        kind: OrderKind::Market,
        price: None,
        size: OrderSize::Quote(Quote::new(dec!(150000))),
        client_order_id: "it-too-big".into(),
    };
    let err = mexc.place_order(&too_big).await.unwrap_err();
    assert!(matches!(err, Error::InsufficientFunds(ref v) if v.code != 0), "{err}");
    let missing = mexc.order(&btc(), &OrderRef::Client("never-placed".into())).await.unwrap_err();
    assert!(matches!(missing, Error::NotFound(_)), "{missing}");
}

#[tokio::test]
async fn a_create_lost_to_a_5xx_is_reported_unknown_and_never_resent() {
    let sim = sim().await;
    let mut config = MexcConfig::new(&sim.rest_url(), &sim.ws_url(), DEMO_API_KEY, DEMO_API_SECRET);
    config.resolve_window = Duration::from_millis(800);
    let mexc = Mexc::new(&config).unwrap();
    let ticker = mexc.ticker(&btc()).await.unwrap();
    let below = Price::new((ticker.bid.value() * dec!(0.8)).round_dp(2));
    mexc.symbols().await.unwrap();
    mexc.balances().await.unwrap();
    sim.set_faults(Faults { error_5xx_rate: 1.0, ..Faults::default() });
    let err = mexc.place_order(&limit(Side::Buy, below, "0.001", "it-5xx")).await.unwrap_err();
    sim.set_faults(Faults::default());
    assert!(matches!(&err, Error::UnknownOutcome { client_order_id, .. } if client_order_id == "it-5xx"), "{err}");
    let open = mexc.open_orders(&btc()).await.unwrap();
    assert!(open.iter().all(|o| o.client_order_id.as_deref() != Some("it-5xx")), "the venue never ran the create");
}

#[tokio::test]
async fn a_lost_create_whose_lookups_are_refused_is_unknown_not_rejected() {
    let sim = sim().await;
    let mexc = adapter(&sim);
    let ticker = mexc.ticker(&btc()).await.unwrap();
    let below = Price::new((ticker.bid.value() * dec!(0.8)).round_dp(2));
    mexc.symbols().await.unwrap();
    mexc.balances().await.unwrap();
    // The create goes through and its answer is lost; the venue then refuses every lookup
    // for two minutes (longer than the adapter waits out a back-off).
    sim.set_faults(Faults {
        lose_create_response_rate: 1.0,
        rate_limit: Some(RateLimitFault { max_requests: 1, window_ms: 60_000, retry_after_secs: 120, status: 429 }),
        ..Faults::default()
    });
    let err = mexc.place_order(&limit(Side::Buy, below, "0.001", "it-lost-429")).await.unwrap_err();
    sim.set_faults(Faults::default());
    assert!(
        matches!(&err, Error::UnknownOutcome { client_order_id, cause } if client_order_id == "it-lost-429" && cause.contains("rate limited")),
        "a create the venue never answered is unknown, whatever the lookups said: {err}"
    );
    // Rightly so: the order rests on the venue (checked by a fresh client, this one backs off).
    let fresh = adapter(&sim);
    let resting = fresh.order(&btc(), &OrderRef::Client("it-lost-429".into())).await.unwrap();
    assert_eq!(resting.status, VenueOrderStatus::New);
}

#[tokio::test]
async fn an_order_with_hundreds_of_fills_is_read_whole() {
    let sim = sim().await;
    let mexc = adapter(&sim);
    mexc.symbols().await.unwrap();
    sim.set_faults(Faults { split_fills: 250, ..Faults::default() });
    let market = NewOrder {
        pair: btc(),
        side: Side::Buy,
        kind: OrderKind::Market,
        price: None,
        size: OrderSize::Quote(Quote::new(dec!(2000))),
        client_order_id: "it-many-fills".into(),
    };
    let bought = mexc.place_order(&market).await.unwrap();
    sim.set_faults(Faults::default());
    let order = mexc.order(&btc(), &OrderRef::Venue(bought.venue_id.clone())).await.unwrap();
    assert_eq!(order.status, VenueOrderStatus::Filled);
    let fills = mexc.order_trades(&btc(), &bought.venue_id, Timestamp::from_millis(0)).await.unwrap();
    assert!(fills.len() > 200, "every page read: {} fills", fills.len());
    let ids: std::collections::BTreeSet<_> = fills.iter().map(|t| &t.trade_id).collect();
    assert_eq!(ids.len(), fills.len(), "no fill twice across pages");
    let executed: rust_decimal::Decimal = fills.iter().map(|t| t.qty.value()).sum();
    assert_eq!(executed, order.executed_qty.value(), "the fills add up to what the order executed");
    assert!(fills.windows(2).all(|w| w[0].time <= w[1].time), "oldest first");
}

#[tokio::test]
async fn account_stream_delivers_order_updates_fills_and_balances() {
    let sim = sim().await;
    let mexc = adapter(&sim);
    let mut events = Arc::clone(&mexc).account_stream().unwrap();
    // When the stream has subscribed is not observable: orders are placed until one's fill
    // comes through (each waits up to 5 s; ten bound the whole), instead of a guessed sleep.
    let mut placed = Vec::new();
    let (mut fill, mut update, mut balance) = (None, false, false);
    'placing: for i in 0..10 {
        let order = NewOrder {
            pair: btc(),
            side: Side::Buy,
            kind: OrderKind::Market,
            price: None,
            size: OrderSize::Quote(Quote::new(dec!(25))),
            client_order_id: format!("it-stream-{i}"),
        };
        placed.push(mexc.place_order(&order).await.unwrap().venue_id);
        loop {
            let Ok(event) = tokio::time::timeout(Duration::from_secs(5), events.recv()).await else {
                continue 'placing;
            };
            match event.unwrap() {
                exchange::types::AccountEvent::Fill(t) => {
                    assert!(placed.contains(&t.order_id), "a fill of an order never placed: {t:?}");
                    fill = Some(t.order_id);
                }
                exchange::types::AccountEvent::Order(o) => update |= placed.contains(&o.venue_id),
                exchange::types::AccountEvent::Balance(_) => balance = true,
                exchange::types::AccountEvent::Reconnected => {}
            }
            if fill.is_some() && update && balance {
                break 'placing;
            }
        }
    }
    assert!(fill.is_some() && update && balance, "fill {fill:?}, order update {update}, balance {balance}");
}

#[tokio::test]
async fn orders_breaking_the_rules_are_refused_before_sending() {
    let sim = sim().await;
    let mexc = adapter(&sim);
    mexc.symbols().await.unwrap();
    let before = sim.request_count();
    let tiny = limit(Side::Buy, Price::new(dec!(10000)), "0.00001", "it-tiny");
    let err = mexc.place_order(&tiny).await.unwrap_err();
    assert!(matches!(&err, Error::InvalidOrder(m) if m.contains("minimum order value")), "{err}");
    assert_eq!(sim.request_count(), before, "nothing was sent");
}

#[tokio::test]
async fn errors_never_carry_a_signed_url() {
    let sim = sim().await;
    let mut config = MexcConfig::new(&sim.rest_url(), &sim.ws_url(), DEMO_API_KEY, DEMO_API_SECRET);
    config.request_timeout = Duration::from_millis(100);
    let mexc = Mexc::new(&config).unwrap();
    mexc.sync_clock().await.unwrap();
    sim.set_faults(Faults { latency_ms: 400, ..Faults::default() });
    let timed_out = mexc.balances().await.unwrap_err();
    sim.set_faults(Faults::default());
    let unreachable =
        Mexc::new(&MexcConfig::new("http://127.0.0.1:1", "ws://127.0.0.1:1/ws", DEMO_API_KEY, DEMO_API_SECRET))
            .unwrap()
            .order_book(&btc(), 5)
            .await
            .unwrap_err();
    for err in [timed_out, unreachable] {
        let text = err.to_string();
        assert!(text.contains("/api/v3/"), "the error names the endpoint: {text}");
        assert!(!text.contains("signature") && !text.contains("timestamp=") && !text.contains(DEMO_API_KEY), "{text}");
    }
}

#[tokio::test]
async fn a_wrong_secret_is_an_auth_error() {
    let sim = sim().await;
    let config = MexcConfig::new(&sim.rest_url(), &sim.ws_url(), DEMO_API_KEY, "not-the-secret");
    let mexc = Mexc::new(&config).unwrap();
    assert!(matches!(mexc.balances().await, Err(Error::Auth(_))));
}

#[tokio::test]
async fn lost_create_responses_never_duplicate_orders() {
    let sim = sim().await;
    let mexc = adapter(&sim);
    let ticker = mexc.ticker(&btc()).await.unwrap();
    let below = Price::new((ticker.bid.value() * dec!(0.8)).round_dp(2));
    sim.set_faults(Faults { lose_create_response_rate: 0.1, order_not_found_lag_ms: 300, ..Faults::default() });
    let mut outcomes = BTreeMap::new();
    for i in 0..40 {
        let id = format!("it-lost-{i}");
        let result = mexc.place_order(&limit(Side::Buy, below, "0.001", &id)).await;
        outcomes.insert(id, result.map(|o| o.venue_id));
    }
    sim.set_faults(Faults::default());
    let open = mexc.open_orders(&btc()).await.unwrap();
    for (id, outcome) in &outcomes {
        let copies: Vec<_> = open.iter().filter(|o| o.client_order_id.as_deref() == Some(id.as_str())).collect();
        assert_eq!(copies.len(), 1, "{id}: exactly one order on the venue, got {}", copies.len());
        let venue_id = outcome.as_ref().unwrap_or_else(|e| panic!("{id} unresolved: {e}"));
        assert_eq!(&copies[0].venue_id, venue_id, "{id} resolved to the order the venue holds");
    }
}

#[tokio::test]
async fn retry_after_is_obeyed() {
    let sim = sim().await;
    let mexc = adapter(&sim);
    mexc.ticker(&btc()).await.unwrap();
    // What one ticker costs in requests, unfaulted.
    let start = sim.request_count();
    mexc.ticker(&btc()).await.unwrap();
    let per_ticker = sim.request_count() - start;
    sim.set_faults(Faults {
        rate_limit: Some(RateLimitFault { max_requests: 0, window_ms: 1000, retry_after_secs: 2, status: 429 }),
        ..Faults::default()
    });
    let before = sim.request_count();
    let err = mexc.order_book(&btc(), 5).await;
    let answered = Instant::now();
    sim.set_faults(Faults::default());
    let after_429 = sim.request_count();
    // Every request is refused: the venue's 429 is what the caller gets, with its Retry-After,
    // and it was the venue's answer to a request actually sent, not a refusal of our own.
    match &err {
        Err(Error::RateLimited { retry_after }) => assert_eq!(*retry_after, Duration::from_secs(2), "{err:?}"),
        other => panic!("a 100 % rate limit answered {other:?}"),
    }
    assert!(after_429 > before, "the 429 came from the venue: no request reached it");
    // The next call waits out the back-off and then sends what a ticker sends, once. Only a lower
    // bound on its time is asserted (a slow machine makes it longer, never shorter): the 2 s
    // started at the last 429, just before `answered`, so an adapter that ignored it would
    // answer in milliseconds.
    let ticker = mexc.ticker(&btc()).await;
    assert!(ticker.is_ok(), "the call succeeds once the back-off has passed: {ticker:?}");
    let waited = answered.elapsed();
    assert!(waited >= Duration::from_millis(1500), "a request was sent {waited:?} into a 2 s Retry-After");
    assert_eq!(sim.request_count(), after_429 + per_ticker, "the ticker's requests once the back-off passed, no more");
}

#[tokio::test]
async fn a_clock_two_seconds_ahead_is_corrected() {
    let sim = sim().await;
    let mexc = adapter(&sim);
    mexc.balances().await.unwrap();
    // The venue's clock falls 2 s behind ours: our stamps now look 2 s in the future.
    sim.set_faults(Faults { clock_skew_ms: -2000, ..Faults::default() });
    assert!(mexc.balances().await.is_ok(), "accepted after re-sync");
    assert!(mexc.sync_clock().await.unwrap() <= -1500);
}

#[tokio::test]
async fn market_stream_reconnects_and_backfills_without_gaps() {
    let sim = sim().await;
    let mexc = adapter(&sim);
    let mut events = Arc::clone(&mexc).market_stream(&btc());
    sim.set_faults(Faults { ws_drop_after_messages: Some(20), ..Faults::default() });
    let mut received = BTreeMap::new();
    let mut after_reconnect = 0;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while after_reconnect < 40 {
        assert!(tokio::time::Instant::now() < deadline, "stream stalled after {} trades", received.len());
        match tokio::time::timeout(Duration::from_secs(10), events.recv()).await.unwrap().unwrap() {
            MarketEvent::Trade(trade) => {
                let id = trade.id.clone().expect("the venue sends trade ids");
                assert!(received.insert(id, trade.time).is_none(), "a trade was delivered twice");
                if after_reconnect > 0 {
                    after_reconnect += 1;
                }
            }
            MarketEvent::Reconnected { .. } => {
                sim.set_faults(Faults::default());
                after_reconnect = 1;
            }
            _ => {}
        }
    }
    // Every trade the venue printed while we watched, drop included, reached us.
    let (first, last) = (*received.values().min().unwrap(), *received.values().max().unwrap());
    let truth = mexc.recent_trades(&btc(), 1000).await.unwrap();
    let watched: Vec<_> = truth.iter().filter(|t| t.time >= first && t.time <= last).collect();
    assert!(watched.len() > 20, "the comparison window holds {} trades", watched.len());
    let missing: Vec<_> = watched.iter().filter(|t| !received.contains_key(t.id.as_ref().unwrap())).collect();
    assert!(missing.is_empty(), "{} trades missed across the reconnect: {missing:?}", missing.len());
}

#[tokio::test]
async fn a_silent_stream_and_an_old_connection_are_replaced() {
    let sim = sim().await;
    let mexc = adapter(&sim);
    let mut events = Arc::clone(&mexc).market_stream(&btc());
    // Wait for data, then let the venue go silent without closing the socket.
    loop {
        if let MarketEvent::Trade(_) =
            tokio::time::timeout(Duration::from_secs(10), events.recv()).await.unwrap().unwrap()
        {
            break;
        }
    }
    // Silent for longer than the stall timeout (2 s here): the adapter gives up on the
    // connection; it is back once the venue talks again.
    sim.set_faults(Faults { ws_stall: true, ..Faults::default() });
    tokio::time::sleep(Duration::from_secs(3)).await;
    sim.set_faults(Faults::default());
    loop {
        match tokio::time::timeout(Duration::from_secs(15), events.recv()).await.unwrap().unwrap() {
            MarketEvent::Reconnected { .. } => break,
            _ => continue,
        }
    }

    // A connection older than its lifetime is replaced before the venue's 24 h cut.
    let mut config = MexcConfig::new(&sim.rest_url(), &sim.ws_url(), DEMO_API_KEY, DEMO_API_SECRET);
    config.streams = StreamSettings {
        max_lifetime: Duration::from_secs(1),
        min_backoff: Duration::from_millis(10),
        ..StreamSettings::default()
    };
    let short_lived = Arc::new(Mexc::new(&config).unwrap());
    let mut events = short_lived.market_stream(&btc());
    loop {
        match tokio::time::timeout(Duration::from_secs(15), events.recv()).await.unwrap().unwrap() {
            MarketEvent::Reconnected { .. } => break,
            _ => continue,
        }
    }
}
