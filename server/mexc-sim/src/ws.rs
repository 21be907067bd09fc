//! The WebSocket at `/ws`: JSON control frames (SUBSCRIPTION, UNSUBSCRIPTION, PING) and binary
//! protobuf `PushDataV3ApiWrapper` pushes; private channels need `?listenKey=`.
//! The WebSocket faults (drop after N messages, silent stall) are applied here.

use std::{
    collections::{BTreeMap, BTreeSet},
    sync::Arc,
};

use axum::{
    extract::{
        Query, State,
        ws::{Message, WebSocket, WebSocketUpgrade},
    },
    http::StatusCode,
    response::{IntoResponse, Response},
};
use prost::Message as _;
use serde_json::{Value, json};
use tokio::sync::broadcast::error::RecvError;

use crate::{
    market::{Level, MINUTE, Trade},
    pb::{self, push_data_v3_api_wrapper::Body},
    server::Shared,
    venue::{Event, Venue},
};

const DEALS: &str = "spot@public.aggre.deals.v3.api.pb";
const KLINE: &str = "spot@public.kline.v3.api.pb";
const BOOK_TICKER: &str = "spot@public.aggre.bookTicker.v3.api.pb";
const LIMIT_DEPTH: &str = "spot@public.limit.depth.v3.api.pb";
const PRIVATE: [&str; 3] =
    ["spot@private.orders.v3.api.pb", "spot@private.deals.v3.api.pb", "spot@private.account.v3.api.pb"];

/// A public channel a connection subscribed to.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Public {
    /// `deals@<rate>@SYM`: the rate as given (`100ms`, `10ms`).
    Deals { symbol: usize, rate: String },
    /// `kline@SYM@<Min1..Day1>`.
    Kline { symbol: usize, name: String, interval: i64 },
    /// `bookTicker@<rate>@SYM`.
    BookTicker { symbol: usize, rate: String },
    /// `limit.depth@SYM@<5|10|20>`: the top levels, a snapshot per update.
    LimitDepth { symbol: usize, levels: usize },
}

/// Parses a public channel name against the venue's symbols.
fn parse_public(venue: &Venue, channel: &str) -> Option<Public> {
    let parts: Vec<&str> = channel.split('@').collect();
    let [spot, stream, a, b] = parts.as_slice() else { return None };
    if *spot != "spot" {
        return None;
    }
    let rate_ok = |r: &str| r == "100ms" || r == "10ms";
    match format!("spot@{stream}").as_str() {
        DEALS if rate_ok(a) => Some(Public::Deals { symbol: venue.symbol(b).ok()?, rate: (*a).to_owned() }),
        BOOK_TICKER if rate_ok(a) => Some(Public::BookTicker { symbol: venue.symbol(b).ok()?, rate: (*a).to_owned() }),
        LIMIT_DEPTH => {
            let levels = match *b {
                "5" => 5,
                "10" => 10,
                "20" => 20,
                _ => return None,
            };
            Some(Public::LimitDepth { symbol: venue.symbol(a).ok()?, levels })
        }
        KLINE => {
            let minutes = match *b {
                "Min1" => 1,
                "Min5" => 5,
                "Min15" => 15,
                "Min30" => 30,
                "Min60" => 60,
                "Hour4" => 240,
                "Day1" => 1440,
                _ => return None,
            };
            Some(Public::Kline { symbol: venue.symbol(a).ok()?, name: (*b).to_owned(), interval: minutes * MINUTE })
        }
        _ => None,
    }
}

/// Accepts the upgrade; a `listenKey` must be valid.
pub(crate) async fn upgrade(
    State(shared): State<Arc<Shared>>,
    Query(query): Query<BTreeMap<String, String>>,
    ws: WebSocketUpgrade,
) -> Response {
    let account = match query.get("listenKey") {
        Some(key) => match shared.venue().listen_key_account(key, shared.server_time()) {
            Some(account) => Some(account),
            None => return (StatusCode::UNAUTHORIZED, "invalid listenKey").into_response(),
        },
        None => None,
    };
    ws.on_upgrade(move |socket| Connection::new(shared, account).run(socket))
}

/// One client connection.
struct Connection {
    shared: Arc<Shared>,
    account: Option<usize>,
    public: BTreeMap<String, Public>,
    private: BTreeSet<String>,
    last_top: BTreeMap<usize, (Level, Level)>,
    sent: u64,
}

/// Whether the connection goes on after a send.
enum Flow {
    Continue,
    Drop,
}

impl Connection {
    fn new(shared: Arc<Shared>, account: Option<usize>) -> Self {
        Self { shared, account, public: BTreeMap::new(), private: BTreeSet::new(), last_top: BTreeMap::new(), sent: 0 }
    }

    async fn run(mut self, mut socket: WebSocket) {
        let mut events = self.shared.events.subscribe();
        let mut shutdown = self.shared.shutdown.subscribe();
        loop {
            let outgoing = tokio::select! {
                _ = shutdown.changed() => return,
                incoming = socket.recv() => match incoming {
                    Some(Ok(Message::Text(text))) => self.control(text.as_str()).into_iter().map(Message::from).collect(),
                    Some(Ok(Message::Close(_)) | Err(_)) | None => return,
                    Some(Ok(_)) => Vec::new(),
                },
                event = events.recv() => match event {
                    Ok(event) => self.pushes(&event).into_iter().map(|p| Message::Binary(p.encode_to_vec().into())).collect(),
                    Err(RecvError::Lagged(_)) => Vec::new(),
                    Err(RecvError::Closed) => return,
                },
            };
            for message in outgoing {
                if let Flow::Drop = self.send(&mut socket, message).await {
                    // Dropping the socket closes the TCP connection without a close frame.
                    return;
                }
            }
        }
    }

    /// Sends unless stalled; asks to drop the connection once the drop fault's count is reached.
    async fn send(&mut self, socket: &mut WebSocket, message: Message) -> Flow {
        let faults = self.shared.faults();
        if faults.ws_stall {
            return Flow::Continue;
        }
        if socket.send(message).await.is_err() {
            return Flow::Drop;
        }
        self.sent += 1;
        match faults.ws_drop_after_messages {
            Some(limit) if self.sent >= limit => Flow::Drop,
            _ => Flow::Continue,
        }
    }

    /// Answers a JSON control frame.
    fn control(&mut self, text: &str) -> Option<String> {
        let request: Value = serde_json::from_str(text).ok()?;
        let id = request.get("id").cloned().unwrap_or(json!(0));
        let params: Vec<String> = request
            .get("params")
            .and_then(Value::as_array)
            .map(|list| list.iter().filter_map(Value::as_str).map(str::to_owned).collect())
            .unwrap_or_default();
        let answer = |msg: String| Some(json!({"id": id, "code": 0, "msg": msg}).to_string());
        match request.get("method").and_then(Value::as_str).map(str::to_ascii_uppercase).as_deref() {
            Some("PING") => answer("PONG".to_owned()),
            Some("SUBSCRIPTION") => {
                let venue = self.shared.venue();
                let mut refused = Vec::new();
                for channel in &params {
                    if PRIVATE.contains(&channel.as_str()) && self.account.is_some() {
                        self.private.insert(channel.clone());
                    } else if let Some(public) = parse_public(&venue, channel) {
                        self.public.insert(channel.clone(), public);
                    } else {
                        refused.push(channel.clone());
                    }
                }
                if refused.is_empty() {
                    answer(params.join(","))
                } else {
                    answer(format!("Not Subscribed successfully! [{}].  Reason： Blocked! ", refused.join(",")))
                }
            }
            Some("UNSUBSCRIPTION") => {
                for channel in &params {
                    self.public.remove(channel);
                    self.private.remove(channel);
                }
                answer(params.join(","))
            }
            _ => Some(json!({"id": id, "code": 0, "msg": "Invalid method"}).to_string()),
        }
    }

    /// The pushes an event produces for this connection's subscriptions.
    fn pushes(&mut self, event: &Event) -> Vec<pb::PushDataV3ApiWrapper> {
        match event {
            Event::Private { account, push } => {
                if Some(*account) == self.account && self.private.contains(&push.channel) {
                    vec![(**push).clone()]
                } else {
                    Vec::new()
                }
            }
            Event::Market { symbol, trades, top, now } => {
                let zero_prices = self.shared.faults().ws_zero_prices;
                let venue = self.shared.venue();
                let mut out = Vec::new();
                for (channel, public) in &self.public {
                    let body = match public {
                        Public::Deals { symbol: s, rate } if s == symbol && !trades.is_empty() => {
                            Body::PublicAggreDeals(deals(trades, rate, zero_prices))
                        }
                        Public::Kline { symbol: s, name, interval } if s == symbol && !trades.is_empty() => {
                            let bucket = now.div_euclid(*interval) * interval;
                            let Some(bar) = venue.klines(*s, *interval, bucket, bucket + interval, *now).pop() else {
                                continue;
                            };
                            let dp = venue.spec(*s).quote_precision;
                            let amount = bar.quote_volume(dp);
                            Body::PublicSpotKline(pb::PublicSpotKlineV3Api {
                                interval: name.clone(),
                                window_start: bar.open_time / 1000,
                                opening_price: bar.open.normalize().to_string(),
                                closing_price: bar.close.normalize().to_string(),
                                highest_price: bar.high.normalize().to_string(),
                                lowest_price: bar.low.normalize().to_string(),
                                volume: bar.volume.normalize().to_string(),
                                amount: amount.normalize().to_string(),
                                window_end: (bar.open_time + interval) / 1000,
                            })
                        }
                        Public::BookTicker { symbol: s, .. } if s == symbol => {
                            let Some(top) = top else { continue };
                            if self.last_top.get(s) == Some(top) {
                                continue;
                            }
                            self.last_top.insert(*s, *top);
                            let ((bid, bid_qty), (ask, ask_qty)) = top;
                            Body::PublicAggreBookTicker(pb::PublicAggreBookTickerV3Api {
                                bid_price: bid.normalize().to_string(),
                                bid_quantity: bid_qty.normalize().to_string(),
                                ask_price: ask.normalize().to_string(),
                                ask_quantity: ask_qty.normalize().to_string(),
                                version: venue.markets[*s].version.to_string(),
                                last_order_create_time: 0,
                            })
                        }
                        Public::LimitDepth { symbol: s, levels } if s == symbol && !trades.is_empty() => {
                            let market = &venue.markets[*s];
                            let (bids, asks) = market.book();
                            let side = |levels_of: Vec<(rust_decimal::Decimal, rust_decimal::Decimal)>| {
                                levels_of
                                    .into_iter()
                                    .take(*levels)
                                    .map(|(price, qty)| pb::PublicAggreDepthV3ApiItem {
                                        price: price.normalize().to_string(),
                                        quantity: qty.normalize().to_string(),
                                    })
                                    .collect()
                            };
                            Body::PublicLimitDepths(pb::PublicLimitDepthsV3Api {
                                asks: side(asks),
                                bids: side(bids),
                                event_type: LIMIT_DEPTH.to_owned(),
                                version: market.version.to_string(),
                                last_order_create_time: 0,
                            })
                        }
                        _ => continue,
                    };
                    out.push(pb::PushDataV3ApiWrapper {
                        channel: channel.clone(),
                        symbol: Some(venue.spec(*symbol).symbol.clone()),
                        send_time: Some(*now),
                        create_time: Some(*now),
                        body: Some(body),
                        ..Default::default()
                    });
                }
                out
            }
        }
    }
}

/// The deals push of `trades`; with `zero_prices` (a fault) every price says "0".
fn deals(trades: &[Trade], rate: &str, zero_prices: bool) -> pb::PublicAggreDealsV3Api {
    pb::PublicAggreDealsV3Api {
        deals: trades
            .iter()
            .map(|t| pb::PublicAggreDealsV3ApiItem {
                price: if zero_prices { "0".to_owned() } else { t.price.normalize().to_string() },
                quantity: t.qty.normalize().to_string(),
                trade_type: if t.buyer_is_taker { 1 } else { 2 },
                time: t.time,
                trade_id: t.id.to_string(),
            })
            .collect(),
        event_type: format!("{DEALS}@{rate}"),
    }
}
