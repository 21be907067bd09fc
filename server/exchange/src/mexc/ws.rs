//! MEXC WebSocket streams: JSON control frames, binary protobuf pushes.
//!
//! One task per stream keeps a connection alive: it pings, detects silent stalls, reconnects
//! with jittered backoff, resubscribes, reconnects proactively before the venue's 24 h cut,
//! and after every reconnect fills the gap from REST (public trades) or tells the consumer
//! to reconcile (account streams). The task ends when the consumer drops its receiver.

use std::{
    collections::{BTreeSet, VecDeque},
    sync::Arc,
    time::Duration,
};

use domain::{
    money::{Price, Qty, Quote},
    pair::Pair,
    time::Timestamp,
};
use futures::{SinkExt, StreamExt};
use prost::Message as _;
use rand::Rng;
use rust_decimal::Decimal;
use tokio::{sync::mpsc, time::Instant};
use tokio_tungstenite::tungstenite::Message;

use super::Mexc;
use crate::{
    Exchange,
    error::{Error, Result, VenueError},
    types::{
        AccountEvent, AccountTrade, Balance, BookTop, Candle, Level, MarketEvent, OrderUpdate, PublicTrade, Side,
        VenueOrderStatus,
    },
};

/// Generated from `proto/mexc_push_v3.proto`.
#[allow(missing_docs, unreachable_pub, clippy::all, clippy::pedantic)]
mod push {
    include!(concat!(env!("OUT_DIR"), "/mexc.push.v3.rs"));
}

/// Timing of stream connections.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StreamSettings {
    /// Interval of our PINGs.
    pub ping_interval: Duration,
    /// Silence after which the connection is presumed dead and replaced.
    pub stall_timeout: Duration,
    /// Age at which a connection is replaced before the venue cuts it (24 h).
    pub max_lifetime: Duration,
    /// First reconnect delay; doubles (with jitter) up to `max_backoff`.
    pub min_backoff: Duration,
    /// Longest reconnect delay.
    pub max_backoff: Duration,
}

impl Default for StreamSettings {
    fn default() -> Self {
        Self {
            ping_interval: Duration::from_secs(20),
            stall_timeout: Duration::from_secs(45),
            max_lifetime: Duration::from_secs(23 * 3600),
            min_backoff: Duration::from_millis(200),
            max_backoff: Duration::from_secs(30),
        }
    }
}

/// Why a connection ended.
enum Ended {
    /// The consumer dropped its receiver: stop for good.
    ConsumerGone,
    /// Reconnect, for the reason given.
    Reconnect(String),
}

fn dec(text: &str) -> Decimal {
    text.parse().unwrap_or_default()
}

/// A price pushed as text: positive, or why not (a zero must never pass for a price).
fn price(text: &str, what: &str) -> std::result::Result<Price, String> {
    match text.parse::<Decimal>() {
        Ok(value) if value > Decimal::ZERO => Ok(Price::new(value)),
        Ok(value) => Err(format!("{what} {value} is not a price")),
        Err(_) => Err(format!("{what} {text:?} cannot be read")),
    }
}

/// A market event, or a `Dropped` event saying why the push could not be one.
fn or_dropped(event: std::result::Result<MarketEvent, String>) -> MarketEvent {
    event.unwrap_or_else(|reason| MarketEvent::Dropped { reason })
}

/// Remembers recently delivered trades, to drop duplicates after a backfill. A trade is known
/// by its venue id when it has one, and always by its fingerprint (time, price, quantity):
/// REST may omit ids that the stream carried.
#[derive(Default)]
struct Seen {
    order: VecDeque<(Option<String>, String)>,
    ids: BTreeSet<String>,
    fingerprints: BTreeSet<String>,
    last_time: Option<Timestamp>,
}

impl Seen {
    const CAPACITY: usize = 10_000;

    fn fingerprint(trade: &PublicTrade) -> String {
        format!("{}|{}|{}", trade.time.millis(), trade.price, trade.qty)
    }

    /// Records the trade; false when it was already delivered.
    fn insert(&mut self, trade: &PublicTrade) -> bool {
        let fingerprint = Self::fingerprint(trade);
        let known = match &trade.id {
            Some(id) => self.ids.contains(id),
            None => self.fingerprints.contains(&fingerprint),
        };
        if known {
            return false;
        }
        if let Some(id) = &trade.id {
            self.ids.insert(id.clone());
        }
        self.fingerprints.insert(fingerprint.clone());
        self.order.push_back((trade.id.clone(), fingerprint));
        if self.order.len() > Self::CAPACITY
            && let Some((id, fingerprint)) = self.order.pop_front()
        {
            if let Some(id) = id {
                self.ids.remove(&id);
            }
            self.fingerprints.remove(&fingerprint);
        }
        self.last_time = Some(self.last_time.map_or(trade.time, |t| t.max(trade.time)));
        true
    }
}

fn side_of(trade_type: i32) -> Side {
    if trade_type == 2 { Side::Sell } else { Side::Buy }
}

fn market_events(wrapper: push::PushDataV3ApiWrapper) -> Vec<MarketEvent> {
    use push::push_data_v3_api_wrapper::Body;
    match wrapper.body {
        Some(Body::PublicAggreDeals(deals)) => deals
            .deals
            .into_iter()
            .map(|d| {
                or_dropped(price(&d.price, "trade price").map(|price| {
                    MarketEvent::Trade(PublicTrade {
                        id: (!d.trade_id.is_empty()).then_some(d.trade_id),
                        price,
                        qty: Qty::new(dec(&d.quantity)),
                        taker_side: side_of(d.trade_type),
                        time: Timestamp::from_millis(d.time),
                    })
                }))
            })
            .collect(),
        Some(Body::PublicSpotKline(k)) => vec![or_dropped(candle_event(&k))],
        Some(Body::PublicAggreBookTicker(t)) => vec![or_dropped(book_top_event(&t))],
        _ => Vec::new(),
    }
}

fn candle_event(k: &push::PublicSpotKlineV3Api) -> std::result::Result<MarketEvent, String> {
    Ok(MarketEvent::Candle(Candle {
        // The venue sends kline windows in seconds.
        open_time: Timestamp::from_millis(k.window_start * 1000),
        open: price(&k.opening_price, "candle open")?,
        high: price(&k.highest_price, "candle high")?,
        low: price(&k.lowest_price, "candle low")?,
        close: price(&k.closing_price, "candle close")?,
        volume: Qty::new(dec(&k.volume)),
    }))
}

fn book_top_event(t: &push::PublicAggreBookTickerV3Api) -> std::result::Result<MarketEvent, String> {
    Ok(MarketEvent::BookTop(BookTop {
        bid: Level { price: price(&t.bid_price, "best bid")?, qty: Qty::new(dec(&t.bid_quantity)) },
        ask: Level { price: price(&t.ask_price, "best ask")?, qty: Qty::new(dec(&t.ask_quantity)) },
    }))
}

fn order_status(status: i32) -> VenueOrderStatus {
    match status {
        2 => VenueOrderStatus::Filled,
        3 => VenueOrderStatus::PartiallyFilled,
        4 => VenueOrderStatus::Cancelled,
        5 => VenueOrderStatus::PartiallyCancelled,
        _ => VenueOrderStatus::New,
    }
}

/// A quantity or amount pushed as text: present, readable and not negative.
fn amount(text: &str, what: &str) -> std::result::Result<Decimal, String> {
    match text.parse::<Decimal>() {
        Ok(value) if value >= Decimal::ZERO => Ok(value),
        Ok(value) => Err(format!("{what} {value} is negative")),
        Err(_) => Err(format!("{what} {text:?} cannot be read")),
    }
}

fn order_update(o: push::PrivateOrdersV3Api) -> std::result::Result<OrderUpdate, String> {
    Ok(OrderUpdate {
        executed_qty: Qty::new(amount(&o.cumulative_quantity, "cumulative quantity")?),
        cumulative_quote: Quote::new(amount(&o.cumulative_amount, "cumulative amount")?),
        status: order_status(o.status),
        client_order_id: (!o.client_id.is_empty()).then_some(o.client_id),
        venue_id: o.id,
    })
}

fn fill(symbol: &str, d: push::PrivateDealsV3Api) -> std::result::Result<AccountTrade, String> {
    let pair = symbol.parse::<Pair>().map_err(|_| format!("symbol {symbol:?} cannot be read"))?;
    let side = match d.trade_type {
        1 => Side::Buy,
        2 => Side::Sell,
        other => return Err(format!("trade type {other} is neither a buy nor a sell")),
    };
    Ok(AccountTrade {
        price: price(&d.price, "fill price")?,
        qty: Qty::new(amount(&d.quantity, "fill quantity")?),
        quote_qty: Quote::new(amount(&d.amount, "fill amount")?),
        fee: Qty::new(amount(&d.fee_amount, "fee")?),
        trade_id: d.trade_id,
        order_id: d.order_id,
        client_order_id: (!d.client_order_id.is_empty()).then_some(d.client_order_id),
        pair,
        side,
        fee_asset: d.fee_currency,
        is_maker: d.is_maker,
        time: Timestamp::from_millis(d.time),
    })
}

fn account_events(wrapper: push::PushDataV3ApiWrapper) -> Vec<AccountEvent> {
    use push::push_data_v3_api_wrapper::Body;
    let symbol = wrapper.symbol.unwrap_or_default();
    match wrapper.body {
        // An update or a fill that cannot be read whole is never guessed at (a zero executed
        // quantity would end an order early, a zero amount book a free fill): the consumer is
        // asked to reconcile from REST instead.
        Some(Body::PrivateOrders(o)) => match order_update(o) {
            Ok(update) => vec![AccountEvent::Order(update)],
            Err(reason) => {
                tracing::warn!(%symbol, %reason, "unreadable order push; reconcile from REST");
                vec![AccountEvent::Reconnected]
            }
        },
        Some(Body::PrivateDeals(d)) => match fill(&symbol, d) {
            Ok(trade) => vec![AccountEvent::Fill(trade)],
            Err(reason) => {
                tracing::warn!(%symbol, %reason, "unreadable fill push; reconcile from REST");
                vec![AccountEvent::Reconnected]
            }
        },
        Some(Body::PrivateAccount(a)) => vec![AccountEvent::Balance(Balance {
            asset: a.vcoin_name,
            free: Qty::new(dec(&a.balance_amount)),
            locked: Qty::new(dec(&a.frozen_amount)),
        })],
        _ => Vec::new(),
    }
}

/// A subscribed connection, with the pushes that came before the venue's acknowledgement.
struct Subscribed {
    socket: tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>,
    early: Vec<push::PushDataV3ApiWrapper>,
    connected: Instant,
}

/// Connects and subscribes to `channels`, waiting (at most the stall timeout) for the venue to
/// acknowledge: once this returns, every later event is pushed, so a REST backfill read now
/// leaves no gap.
async fn subscribe(url: &str, channels: &[String], settings: StreamSettings) -> std::result::Result<Subscribed, Ended> {
    let (mut socket, _) = match tokio_tungstenite::connect_async(url).await {
        Ok(pair) => pair,
        Err(e) => return Err(Ended::Reconnect(format!("connect failed: {e}"))),
    };
    let connected = Instant::now();
    let subscribe = serde_json::json!({ "method": "SUBSCRIPTION", "params": channels }).to_string();
    if let Err(e) = socket.send(Message::Text(subscribe.into())).await {
        return Err(Ended::Reconnect(format!("subscribe failed: {e}")));
    }
    let mut early = Vec::new();
    let deadline = connected + settings.stall_timeout;
    loop {
        match tokio::time::timeout_at(deadline, socket.next()).await {
            Err(_) => return Err(Ended::Reconnect("the subscription was never acknowledged".to_owned())),
            Ok(Some(Ok(Message::Text(text)))) => {
                let reply: serde_json::Value = serde_json::from_str(&text).unwrap_or_default();
                if reply["code"].as_i64().is_some_and(|c| c != 0) {
                    tracing::warn!(reply = %text, "venue refused a stream request");
                }
                return Ok(Subscribed { socket, early, connected });
            }
            Ok(Some(Ok(Message::Binary(bytes)))) => {
                if let Ok(wrapper) = push::PushDataV3ApiWrapper::decode(bytes.as_ref()) {
                    early.push(wrapper);
                }
            }
            Ok(Some(Ok(Message::Close(frame)))) => {
                return Err(Ended::Reconnect(format!("closed by the venue: {frame:?}")));
            }
            Ok(Some(Ok(_))) => {}
            Ok(Some(Err(e))) => return Err(Ended::Reconnect(format!("read failed: {e}"))),
            Ok(None) => return Err(Ended::Reconnect("connection ended".to_owned())),
        }
    }
}

/// Relays a subscribed connection's pushes until it ends. `deliver` gets each push and
/// returns false once the consumer is gone.
async fn relay(
    subscribed: Subscribed,
    settings: StreamSettings,
    mut deliver: impl FnMut(push::PushDataV3ApiWrapper) -> bool,
) -> Ended {
    let Subscribed { mut socket, early, connected } = subscribed;
    for wrapper in early {
        if !deliver(wrapper) {
            return Ended::ConsumerGone;
        }
    }
    let mut last_message = Instant::now();
    let mut ping = tokio::time::interval(settings.ping_interval);
    loop {
        tokio::select! {
            message = socket.next() => match message {
                Some(Ok(Message::Binary(bytes))) => {
                    last_message = Instant::now();
                    match push::PushDataV3ApiWrapper::decode(bytes.as_ref()) {
                        Ok(wrapper) => if !deliver(wrapper) { return Ended::ConsumerGone },
                        Err(e) => tracing::warn!(error = %e, "undecodable push frame skipped"),
                    }
                }
                Some(Ok(Message::Text(text))) => {
                    last_message = Instant::now();
                    let reply: serde_json::Value = serde_json::from_str(&text).unwrap_or_default();
                    if reply["code"].as_i64().is_some_and(|c| c != 0) {
                        tracing::warn!(reply = %text, "venue refused a stream request");
                    }
                }
                Some(Ok(Message::Close(frame))) => return Ended::Reconnect(format!("closed by the venue: {frame:?}")),
                Some(Ok(_)) => last_message = Instant::now(),
                Some(Err(e)) => return Ended::Reconnect(format!("read failed: {e}")),
                None => return Ended::Reconnect("connection ended".to_owned()),
            },
            _ = ping.tick() => {
                let ping = serde_json::json!({ "method": "PING" }).to_string();
                if let Err(e) = socket.send(Message::Text(ping.into())).await {
                    return Ended::Reconnect(format!("ping failed: {e}"));
                }
            }
            () = tokio::time::sleep_until(last_message + settings.stall_timeout) => {
                return Ended::Reconnect(format!("silent for {:?}", settings.stall_timeout));
            }
            () = tokio::time::sleep_until(connected + settings.max_lifetime) => {
                return Ended::Reconnect("replacing the connection before the venue's 24 h cut".to_owned());
            }
        }
    }
}

/// Sleeps the next reconnect delay: exponential from `min_backoff`, jittered, capped.
async fn backoff(settings: StreamSettings, attempt: u32) {
    let base = settings.min_backoff.saturating_mul(2u32.saturating_pow(attempt.min(16))).min(settings.max_backoff);
    let jitter = rand::rng().random_range(0.5..1.0);
    tokio::time::sleep(base.mul_f64(jitter)).await;
}

/// Streams trades, one-minute candles and the book top of `pair`.
pub(super) fn market(mexc: Arc<Mexc>, pair: Pair) -> mpsc::Receiver<MarketEvent> {
    let (tx, rx) = mpsc::channel(4096);
    tokio::spawn(async move {
        let symbol = pair.symbol();
        let channels = vec![
            format!("spot@public.aggre.deals.v3.api.pb@100ms@{symbol}"),
            format!("spot@public.kline.v3.api.pb@{symbol}@Min1"),
            format!("spot@public.aggre.bookTicker.v3.api.pb@100ms@{symbol}"),
        ];
        let mut seen = Seen::default();
        let mut attempt = 0;
        let mut reconnecting = false;
        loop {
            let ended = match subscribe(&mexc.ws_url, &channels, mexc.streams).await {
                Err(ended) => ended,
                Ok(subscribed) => {
                    if reconnecting {
                        // Subscribed: what was missed is on REST now, and the rest will be pushed.
                        let backfilled = backfill(&mexc, &pair, &mut seen, &tx).await;
                        if tx.send(MarketEvent::Reconnected { backfilled }).await.is_err() {
                            return;
                        }
                    }
                    relay(subscribed, mexc.streams, |wrapper| {
                        attempt = 0;
                        market_events(wrapper).into_iter().all(|event| {
                            if let MarketEvent::Trade(trade) = &event
                                && !seen.insert(trade)
                            {
                                return true;
                            }
                            tx.try_send(event).is_ok() || !tx.is_closed()
                        })
                    })
                    .await
                }
            };
            match ended {
                Ended::ConsumerGone => return,
                Ended::Reconnect(reason) => tracing::warn!(%symbol, %reason, "market stream reconnecting"),
            }
            if tx.is_closed() {
                return;
            }
            reconnecting = true;
            backoff(mexc.streams, attempt).await;
            attempt += 1;
        }
    });
    rx
}

/// Delivers the trades missed since the last one seen, from REST.
async fn backfill(mexc: &Mexc, pair: &Pair, seen: &mut Seen, tx: &mpsc::Sender<MarketEvent>) -> usize {
    let Some(since) = seen.last_time else { return 0 };
    let trades = match mexc.recent_trades(pair, 1000).await {
        Ok(trades) => trades,
        Err(e) => {
            tracing::warn!(error = %e, "trade backfill failed; the gap stays open");
            return 0;
        }
    };
    let mut count = 0;
    for trade in trades.into_iter().filter(|t| t.time >= since) {
        if seen.insert(&trade) && tx.send(MarketEvent::Trade(trade)).await.is_ok() {
            count += 1;
        }
    }
    count
}

/// Streams the account's order updates, fills and balances through a listen key. The channel
/// is unbounded: an order update or a fill is never dropped for want of room (the market
/// stream, which only needs the latest price, may drop).
pub(super) fn account(mexc: Arc<Mexc>) -> Result<mpsc::UnboundedReceiver<AccountEvent>> {
    if !mexc.has_credentials {
        return Err(Error::Auth(VenueError {
            http_status: 0,
            code: 0,
            message: "an API key is needed for the account stream".to_owned(),
        }));
    }
    let (tx, rx) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        let channels = vec![
            "spot@private.orders.v3.api.pb".to_owned(),
            "spot@private.deals.v3.api.pb".to_owned(),
            "spot@private.account.v3.api.pb".to_owned(),
        ];
        let mut attempt = 0;
        let mut reconnecting = false;
        loop {
            let key = match mexc.listen_key().await {
                Ok(key) => key,
                Err(e) => {
                    if tx.is_closed() {
                        return;
                    }
                    tracing::warn!(error = %e, "cannot get a listen key; retrying");
                    backoff(mexc.streams, attempt).await;
                    attempt += 1;
                    continue;
                }
            };
            let url = format!("{}?listenKey={key}", mexc.ws_url);
            let keepalive = mexc.keep_listen_key_alive(key);
            let streamed = async {
                let subscribed = subscribe(&url, &channels, mexc.streams).await?;
                // Subscribed: a reconciliation from REST now leaves no gap.
                if reconnecting && tx.send(AccountEvent::Reconnected).is_err() {
                    return Err(Ended::ConsumerGone);
                }
                Ok(relay(subscribed, mexc.streams, |wrapper| {
                    attempt = 0;
                    account_events(wrapper).into_iter().all(|e| tx.send(e).is_ok())
                })
                .await)
            };
            let ended = tokio::select! {
                ended = streamed => ended.unwrap_or_else(|ended| ended),
                () = keepalive => Ended::Reconnect("listen key expired".to_owned()),
            };
            match ended {
                Ended::ConsumerGone => return,
                Ended::Reconnect(reason) => tracing::warn!(%reason, "account stream reconnecting"),
            }
            if tx.is_closed() {
                return;
            }
            reconnecting = true;
            backoff(mexc.streams, attempt).await;
            attempt += 1;
        }
    });
    Ok(rx)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn trade(id: Option<&str>, time: i64, price: &str) -> PublicTrade {
        PublicTrade {
            id: id.map(str::to_owned),
            price: Price::new(price.parse().unwrap()),
            qty: Qty::new(Decimal::ONE),
            taker_side: Side::Buy,
            time: Timestamp::from_millis(time),
        }
    }

    /// The recorded pushes (JSON renderings of decoded frames), re-encoded with our schema.
    fn recorded(name: &str) -> push::PushDataV3ApiWrapper {
        use push::push_data_v3_api_wrapper::Body;
        let all: serde_json::Value =
            serde_json::from_str(include_str!("../../test_data/mexc/ws_decoded_pushes.json")).unwrap();
        let v = &all[name];
        let t = |x: &serde_json::Value| x.as_str().unwrap_or_default().to_owned();
        let n = |x: &serde_json::Value| x.as_i64().unwrap_or_default();
        let body = if let Some(d) = v.get("publicAggreDeals") {
            Body::PublicAggreDeals(push::PublicAggreDealsV3Api {
                deals: d["deals"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|i| push::PublicAggreDealsV3ApiItem {
                        price: t(&i["price"]),
                        quantity: t(&i["quantity"]),
                        trade_type: i32::try_from(n(&i["tradeType"])).unwrap(),
                        time: n(&i["time"]),
                        trade_id: t(&i["tradeId"]),
                    })
                    .collect(),
                event_type: t(&d["eventType"]),
            })
        } else if let Some(k) = v.get("publicSpotKline") {
            Body::PublicSpotKline(push::PublicSpotKlineV3Api {
                interval: t(&k["interval"]),
                window_start: n(&k["windowStart"]),
                opening_price: t(&k["openingPrice"]),
                closing_price: t(&k["closingPrice"]),
                highest_price: t(&k["highestPrice"]),
                lowest_price: t(&k["lowestPrice"]),
                volume: t(&k["volume"]),
                amount: t(&k["amount"]),
                window_end: n(&k["windowEnd"]),
            })
        } else if let Some(b) = v.get("publicAggreBookTicker") {
            Body::PublicAggreBookTicker(push::PublicAggreBookTickerV3Api {
                bid_price: t(&b["bidPrice"]),
                bid_quantity: t(&b["bidQuantity"]),
                ask_price: t(&b["askPrice"]),
                ask_quantity: t(&b["askQuantity"]),
                ..Default::default()
            })
        } else if let Some(d) = v.get("privateDeals") {
            Body::PrivateDeals(push::PrivateDealsV3Api {
                price: t(&d["price"]),
                quantity: t(&d["quantity"]),
                amount: t(&d["amount"]),
                trade_type: i32::try_from(n(&d["tradeType"])).unwrap(),
                trade_id: t(&d["tradeId"]),
                order_id: t(&d["orderId"]),
                fee_amount: t(&d["feeAmount"]),
                fee_currency: t(&d["feeCurrency"]),
                time: n(&d["time"]),
                ..Default::default()
            })
        } else {
            let o = &v["privateOrders"];
            Body::PrivateOrders(push::PrivateOrdersV3Api {
                id: t(&o["id"]),
                cumulative_quantity: t(&o["cumulativeQuantity"]),
                cumulative_amount: t(&o["cumulativeAmount"]),
                status: i32::try_from(n(&o["status"])).unwrap(),
                ..Default::default()
            })
        };
        let wrapper = push::PushDataV3ApiWrapper {
            channel: t(&v["channel"]),
            symbol: v["symbol"].as_str().map(str::to_owned),
            body: Some(body),
            ..Default::default()
        };
        // Through the wire format and back, as a frame arrives.
        push::PushDataV3ApiWrapper::decode(wrapper.encode_to_vec().as_slice()).unwrap()
    }

    #[test]
    fn recorded_public_pushes_decode() {
        let trade = market_events(recorded("aggre_deals"));
        assert!(
            matches!(&trade[0], MarketEvent::Trade(t) if t.taker_side == Side::Sell && t.price.to_string() == "93220")
        );
        let candle = market_events(recorded("kline"));
        assert!(matches!(&candle[0], MarketEvent::Candle(c) if c.open_time.millis() == 1_754_737_920_000));
        let top = market_events(recorded("aggre_book_ticker"));
        assert!(matches!(&top[0], MarketEvent::BookTop(b) if b.bid.price < b.ask.price));
    }

    #[test]
    fn pushes_without_a_usable_price_are_dropped_not_zeroed() {
        use push::push_data_v3_api_wrapper::Body;
        let deal = |price: &str| push::PublicAggreDealsV3ApiItem {
            price: price.to_owned(),
            quantity: "0.5".to_owned(),
            trade_type: 1,
            time: 1,
            ..Default::default()
        };
        let deals = push::PublicAggreDealsV3Api {
            deals: vec![deal("93220.5"), deal(""), deal("0"), deal("-1"), deal("n/a")],
            ..Default::default()
        };
        let events = market_events(push::PushDataV3ApiWrapper {
            body: Some(Body::PublicAggreDeals(deals)),
            ..Default::default()
        });
        assert!(matches!(&events[0], MarketEvent::Trade(t) if t.price.to_string() == "93220.5"));
        assert_eq!(events.iter().filter(|e| matches!(e, MarketEvent::Dropped { .. })).count(), 4, "{events:?}");
        let top = market_events(push::PushDataV3ApiWrapper {
            body: Some(Body::PublicAggreBookTicker(push::PublicAggreBookTickerV3Api {
                bid_price: "0".to_owned(),
                ask_price: "93221".to_owned(),
                ..Default::default()
            })),
            ..Default::default()
        });
        assert!(matches!(&top[..], [MarketEvent::Dropped { reason }] if reason.contains("best bid")), "{top:?}");
    }

    #[test]
    fn an_unreadable_fill_or_order_push_asks_for_a_reconciliation_never_a_guess() {
        use push::push_data_v3_api_wrapper::Body;
        let good = push::PrivateDealsV3Api {
            price: "93220.5".to_owned(),
            quantity: "0.01".to_owned(),
            amount: "932.205".to_owned(),
            trade_type: 1,
            trade_id: "t1".to_owned(),
            order_id: "o1".to_owned(),
            fee_amount: "0.00001".to_owned(),
            fee_currency: "BTC".to_owned(),
            time: 1,
            ..Default::default()
        };
        let push = |body: Body| push::PushDataV3ApiWrapper {
            symbol: Some("BTCUSDT".to_owned()),
            body: Some(body),
            ..Default::default()
        };
        assert!(matches!(&account_events(push(Body::PrivateDeals(good.clone())))[..], [AccountEvent::Fill(_)]));
        let broken = [
            push::PrivateDealsV3Api { price: String::new(), ..good.clone() },
            push::PrivateDealsV3Api { amount: String::new(), ..good.clone() },
            push::PrivateDealsV3Api { quantity: "n/a".to_owned(), ..good.clone() },
            push::PrivateDealsV3Api { trade_type: 0, ..good.clone() },
        ];
        for deal in broken {
            assert_eq!(account_events(push(Body::PrivateDeals(deal))), [AccountEvent::Reconnected]);
        }
        let order = push::PrivateOrdersV3Api {
            id: "o1".to_owned(),
            status: 2,
            cumulative_quantity: String::new(),
            cumulative_amount: "10".to_owned(),
            ..Default::default()
        };
        assert_eq!(
            account_events(push(Body::PrivateOrders(order))),
            [AccountEvent::Reconnected],
            "never filled with 0"
        );
    }

    #[test]
    fn recorded_private_pushes_decode() {
        let fill = account_events(recorded("private_deals"));
        assert!(
            matches!(&fill[0], AccountEvent::Fill(f) if f.pair.to_string() == "MX/USDT" && f.order_id == "C02__505979017439002624115")
        );
        let order = account_events(recorded("private_orders"));
        assert!(matches!(&order[0], AccountEvent::Order(o) if o.venue_id == "C02__505979017439002624115"));
    }

    #[test]
    fn duplicates_are_dropped_by_id_or_by_fingerprint() {
        let mut seen = Seen::default();
        assert!(seen.insert(&trade(Some("7"), 1, "100")));
        assert!(!seen.insert(&trade(Some("7"), 1, "100")), "same id");
        assert!(!seen.insert(&trade(None, 1, "100")), "REST copy without id");
        assert!(seen.insert(&trade(Some("8"), 1, "100")), "a different trade with the same numbers");
        assert!(seen.insert(&trade(None, 2, "101")));
        assert_eq!(seen.last_time, Some(Timestamp::from_millis(2)));
    }
}
