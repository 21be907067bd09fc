//! The REST API: MEXC spot v3 public and signed endpoints, and the loopback-only admin endpoint.
//!
//! Signed requests are checked like the venue does: `X-MEXC-APIKEY`, JSON content type on
//! POST/PUT/DELETE, `recvWindow` ≤ 60000, the timestamp window, and the HMAC-SHA256 of the raw
//! query string followed by the raw body (without the `signature` pair), exactly as received.

use std::{
    collections::{BTreeMap, BTreeSet},
    net::SocketAddr,
    sync::Arc,
    time::Duration,
};

use axum::{
    Json, Router,
    body::Bytes,
    extract::{ConnectInfo, FromRequest, Request, State},
    http::{HeaderMap, Method, StatusCode, Uri, header},
    middleware,
    response::{IntoResponse, Response},
    routing::{get, post},
};
use hmac::{Hmac, Mac};
use rust_decimal::{Decimal, prelude::ToPrimitive};
use serde_json::{Value, json};
use sha2::Sha256;

use crate::{
    config::Faults,
    external, faults,
    market::MINUTE,
    reject::Reject,
    server::Shared,
    venue::{Kind, MyTrade, NewOrder, Order, Side, Venue},
    ws,
};

/// How long a create whose response is "lost" hangs before its 504.
const LOST_RESPONSE_HANG: Duration = Duration::from_secs(10);
/// Default and maximum `recvWindow`.
const RECV_WINDOW_DEFAULT: i64 = 5000;
const RECV_WINDOW_MAX: i64 = 60_000;

type ApiResult = Result<Json<Value>, Reject>;
type AppState = State<Arc<Shared>>;

/// The whole HTTP surface.
pub(crate) fn router(shared: Arc<Shared>) -> Router {
    let api = Router::new()
        .route("/api/v3/ping", get(ping))
        .route("/api/v3/time", get(time))
        .route("/api/v3/exchangeInfo", get(exchange_info))
        .route("/api/v3/defaultSymbols", get(default_symbols))
        .route("/api/v3/depth", get(depth))
        .route("/api/v3/trades", get(trades))
        .route("/api/v3/aggTrades", get(agg_trades))
        .route("/api/v3/klines", get(klines))
        .route("/api/v3/avgPrice", get(avg_price))
        .route("/api/v3/ticker/24hr", get(ticker_24hr))
        .route("/api/v3/ticker/price", get(ticker_price))
        .route("/api/v3/ticker/bookTicker", get(book_ticker))
        .route("/api/v3/account", get(account))
        .route("/api/v3/order", post(create_order).get(query_order).delete(cancel_order))
        .route("/api/v3/order/test", post(test_order))
        .route("/api/v3/batchOrders", post(batch_orders))
        .route("/api/v3/openOrders", get(open_orders).delete(cancel_open_orders))
        .route("/api/v3/allOrders", get(all_orders))
        .route("/api/v3/myTrades", get(my_trades))
        .route("/api/v3/tradeFee", get(trade_fee))
        .route(
            "/api/v3/userDataStream",
            post(listen_key_create).put(listen_key_keep).delete(listen_key_close).get(listen_key_list),
        )
        .route("/api/v3/capital/config/getall", get(currencies))
        .route("/api/v1/contract/detail", get(contract_detail))
        .merge(external::routes())
        .layer(middleware::from_fn_with_state(shared.clone(), faults::middleware));
    Router::new()
        .merge(api)
        .merge(external::admin())
        .route("/admin/faults", get(get_faults).post(put_faults))
        .route("/ws", get(ws::upgrade))
        .with_state(shared)
}

// ----- requests -----

/// A request as received: what signing and parameter parsing need.
pub(crate) struct Req {
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
}

impl<S: Send + Sync> FromRequest<S> for Req {
    type Rejection = Reject;

    async fn from_request(req: Request, _state: &S) -> Result<Self, Self::Rejection> {
        let (parts, body) = req.into_parts();
        let body = axum::body::to_bytes(body, 1 << 20).await.map_err(|_| Reject::param("request body too large"))?;
        Ok(Self { method: parts.method, uri: parts.uri, headers: parts.headers, body })
    }
}

/// Request parameters: body values overridden by query values.
pub(crate) struct Params(BTreeMap<String, String>);

impl Params {
    fn parse(query: &str, body: &str, json_body: bool) -> Result<Self, Reject> {
        let mut map = BTreeMap::new();
        if json_body && body.trim_start().starts_with('{') {
            let object: serde_json::Map<String, Value> =
                serde_json::from_str(body).map_err(|e| Reject::param(format!("invalid JSON body: {e}")))?;
            for (k, v) in object {
                let text = match v {
                    Value::String(s) => s,
                    other => other.to_string(),
                };
                map.insert(k, text);
            }
        } else {
            map.extend(pairs(body));
        }
        map.extend(pairs(query));
        Ok(Self(map))
    }

    fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).map(String::as_str).filter(|v| !v.is_empty())
    }

    fn required(&self, key: &str) -> Result<&str, Reject> {
        self.get(key).ok_or_else(|| {
            Reject::param(format!("Mandatory parameter '{key}' was not sent, was empty/null, or malformed."))
        })
    }

    fn decimal(&self, key: &str) -> Result<Option<Decimal>, Reject> {
        self.get(key)
            .map(|v| v.parse::<Decimal>().map_err(|_| Reject::param(format!("parameter '{key}' is not a number"))))
            .transpose()
    }

    fn int(&self, key: &str) -> Result<Option<i64>, Reject> {
        self.get(key)
            .map(|v| v.parse::<i64>().map_err(|_| Reject::param(format!("parameter '{key}' is not an integer"))))
            .transpose()
    }

    /// `limit` with a default and a maximum (larger values are clamped, like the venue does).
    fn limit(&self, default: i64, max: i64) -> Result<usize, Reject> {
        let limit = self.int("limit")?.unwrap_or(default).clamp(1, max);
        Ok(usize::try_from(limit).unwrap_or(1))
    }
}

/// `k=v&k=v` pairs, percent-decoded (`+` as space).
fn pairs(text: &str) -> impl Iterator<Item = (String, String)> + '_ {
    text.split('&').filter(|p| !p.is_empty()).map(|p| {
        let (k, v) = p.split_once('=').unwrap_or((p, ""));
        (decode(k), decode(v))
    })
}

fn decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 3 <= bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).ok();
                match hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                    Some(b) => {
                        out.push(b);
                        i += 2;
                    }
                    None => out.push(b'%'),
                }
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Removes the `signature=` pair from `text`; returns the rest (bytes untouched) and the value.
fn strip_signature(text: &str) -> (String, Option<String>) {
    let mut signature = None;
    let rest: Vec<&str> = text
        .split('&')
        .filter(|p| match p.strip_prefix("signature=") {
            Some(sig) => {
                signature = Some(sig.to_owned());
                false
            }
            None => true,
        })
        .collect();
    (rest.join("&"), signature)
}

/// Lowercase hex HMAC-SHA256 of `message` under `secret`.
pub(crate) fn sign(secret: &str, message: &str) -> String {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(secret.as_bytes())
        .unwrap_or_else(|_| unreachable!("HMAC takes any key length"));
    mac.update(message.as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

impl Req {
    fn content_type_json(&self) -> bool {
        self.headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.trim().to_ascii_lowercase().starts_with("application/json"))
    }

    fn body_text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// Parameters of a public request.
    fn public(&self) -> Result<Params, Reject> {
        Params::parse(self.uri.query().unwrap_or(""), &self.body_text(), self.content_type_json())
    }

    /// Authenticates a signed request: its account and parameters.
    fn signed(&self, shared: &Shared) -> Result<(usize, Params), Reject> {
        if self.method != Method::GET && !self.content_type_json() {
            return Err(Reject::bad(700013, "Invalid content Type."));
        }
        let key = self.headers.get("x-mexc-apikey").and_then(|v| v.to_str().ok()).filter(|k| !k.is_empty());
        let key = key.ok_or_else(|| Reject::bad(400, "api key required"))?;
        let (account, secret) = {
            let venue = shared.venue();
            let (account, secret) =
                venue.account_by_key(key).ok_or_else(|| Reject::bad(700001, "API-key format invalid."))?;
            (account, secret.to_owned())
        };
        let body = self.body_text();
        let (query, query_signature) = strip_signature(self.uri.query().unwrap_or(""));
        let json_body = self.content_type_json() && body.trim_start().starts_with('{');
        let (body, signature) = match query_signature {
            Some(sig) => (body, Some(sig)),
            None if !json_body => strip_signature(&body),
            None => (body, None),
        };
        let signature = signature.ok_or_else(|| Reject::bad(602, "Signature verification failed"))?;
        let params = Params::parse(&query, &body, json_body)?;
        let recv_window = params.int("recvWindow")?.unwrap_or(RECV_WINDOW_DEFAULT);
        if recv_window > RECV_WINDOW_MAX {
            return Err(Reject::bad(700005, "recvWindow must less than 60000"));
        }
        let outside = || Reject::bad(700003, "Timestamp for this request is outside of the recvWindow.");
        let timestamp = params.int("timestamp")?.ok_or_else(outside)?;
        let server_time = shared.server_time();
        if !(timestamp < server_time + 1000 && server_time - timestamp <= recv_window) {
            return Err(outside());
        }
        if sign(&secret, &format!("{query}{body}")) != signature.to_ascii_lowercase() {
            return Err(Reject::bad(700002, "Signature for this request is not valid."));
        }
        Ok((account, params))
    }
}

// ----- rendering -----

fn s(d: Decimal) -> String {
    d.normalize().to_string()
}

fn order_json(venue: &Venue, o: &Order) -> Value {
    let time_in_force = match o.kind {
        Kind::Market => Value::Null,
        Kind::ImmediateOrCancel => json!("IOC"),
        Kind::FillOrKill => json!("FOK"),
        Kind::Limit | Kind::LimitMaker => json!("GTC"),
    };
    json!({
        "symbol": venue.spec(o.symbol).symbol,
        "orderId": o.id,
        "orderListId": -1,
        "clientOrderId": if o.client_id.is_empty() { Value::Null } else { json!(o.client_id) },
        "price": s(o.price),
        "origQty": s(o.qty),
        "executedQty": s(o.executed),
        "cummulativeQuoteQty": s(o.cum_quote),
        "status": o.status.as_str(),
        "timeInForce": time_in_force,
        "type": o.kind.as_str(),
        "side": o.side.as_str(),
        "stopPrice": null,
        "icebergQty": null,
        "time": o.time,
        "updateTime": o.update_time,
        "isWorking": true,
        "origQuoteOrderQty": s(o.quote_qty),
    })
}

fn cancel_json(venue: &Venue, o: &Order, new_client_id: Option<&str>) -> Value {
    let mut value = order_json(venue, o);
    value["origClientOrderId"] = value["clientOrderId"].clone();
    if let Some(id) = new_client_id {
        value["clientOrderId"] = json!(id);
    }
    value
}

fn my_trade_json(venue: &Venue, t: &MyTrade) -> Value {
    let o = &venue.orders[t.order];
    json!({
        "symbol": venue.spec(o.symbol).symbol,
        "id": t.id,
        "orderId": o.id,
        "orderListId": -1,
        "price": s(t.price),
        "qty": s(t.qty),
        "quoteQty": s(t.quote),
        "commission": s(t.commission),
        "commissionAsset": t.commission_asset,
        "time": t.time,
        "isBuyer": o.side == Side::Buy,
        "isMaker": t.is_maker,
        "isBestMatch": true,
        "isSelfTrade": false,
        "clientOrderId": if o.client_id.is_empty() { Value::Null } else { json!(o.client_id) },
    })
}

/// The symbols a request names (`symbol`, or `symbols` as `A,B` or `["A","B"]`), or all.
fn symbols_of(venue: &Venue, params: &Params) -> Result<Vec<usize>, Reject> {
    let list = match (params.get("symbol"), params.get("symbols")) {
        (Some(one), _) => vec![one.to_owned()],
        (None, Some(many)) => many
            .trim_matches(|c| c == '[' || c == ']')
            .split(',')
            .map(|x| x.trim().trim_matches('"').to_owned())
            .filter(|x| !x.is_empty())
            .collect(),
        (None, None) => return Ok((0..venue.markets.len()).collect()),
    };
    list.iter().map(|sym| venue.symbol(sym)).collect()
}

/// One object for `symbol=`, an array otherwise.
fn one_or_all(params: &Params, mut items: Vec<Value>) -> Value {
    if params.get("symbol").is_some() && items.len() == 1 { items.remove(0) } else { Value::Array(items) }
}

// ----- public endpoints -----

async fn ping() -> Json<Value> {
    Json(json!({}))
}

async fn time(State(shared): AppState) -> Json<Value> {
    Json(json!({"serverTime": shared.server_time()}))
}

async fn exchange_info(State(shared): AppState, req: Req) -> ApiResult {
    let params = req.public()?;
    let venue = shared.venue();
    let symbols = symbols_of(&venue, &params)?
        .into_iter()
        .map(|i| {
            let spec = venue.spec(i);
            json!({
                "symbol": spec.symbol,
                "status": "1",
                "baseAsset": spec.base,
                "baseAssetPrecision": spec.base_precision,
                "quoteAsset": spec.quote,
                "quotePrecision": spec.quote_precision,
                "quoteAssetPrecision": spec.quote_precision,
                "baseCommissionPrecision": spec.base_precision,
                "quoteCommissionPrecision": spec.quote_precision,
                "orderTypes": ["LIMIT", "MARKET", "LIMIT_MAKER"],
                "isSpotTradingAllowed": true,
                "isMarginTradingAllowed": false,
                "quoteAmountPrecision": s(spec.min_notional),
                "baseSizePrecision": s(spec.step()),
                "permissions": ["SPOT"],
                "filters": [],
                "maxQuoteAmount": s(spec.max_notional),
                "makerCommission": s(crate::symbols::MAKER_FEE),
                "takerCommission": s(crate::symbols::TAKER_FEE),
                "quoteAmountPrecisionMarket": s(spec.min_notional),
                "maxQuoteAmountMarket": s(spec.max_notional_market),
                "fullName": spec.full_name,
                "tradeSideType": "1",
            })
        })
        .collect::<Vec<_>>();
    Ok(Json(json!({
        "timezone": "CST",
        "serverTime": shared.server_time(),
        "rateLimits": [],
        "exchangeFilters": [],
        "symbols": symbols,
    })))
}

/// The futures contract list clients such as ccxt read while loading markets: this is a spot
/// venue, so it lists none.
async fn contract_detail() -> Json<Value> {
    Json(json!({"success": true, "code": 0, "data": []}))
}

async fn default_symbols(State(shared): AppState) -> Json<Value> {
    let venue = shared.venue();
    let symbols: Vec<&str> = venue.markets.iter().map(|m| m.series.spec.symbol.as_str()).collect();
    Json(json!({"code": 200, "data": symbols, "msg": null}))
}

async fn depth(State(shared): AppState, req: Req) -> ApiResult {
    let params = req.public()?;
    let limit = params.limit(100, 5000)?;
    let venue = shared.venue();
    let market = &venue.markets[venue.symbol(params.required("symbol")?)?];
    let (bids, asks) = market.book();
    let levels = |side: Vec<(Decimal, Decimal)>| -> Vec<[String; 2]> {
        side.into_iter().take(limit).map(|(p, q)| [s(p), s(q)]).collect()
    };
    Ok(Json(json!({
        "lastUpdateId": market.version,
        "bids": levels(bids),
        "asks": levels(asks),
        "timestamp": shared.server_time(),
    })))
}

async fn trades(State(shared): AppState, req: Req) -> ApiResult {
    let params = req.public()?;
    let limit = params.limit(500, 1000)?;
    let venue = shared.venue();
    let market = &venue.markets[venue.symbol(params.required("symbol")?)?];
    let skip = market.recent.len().saturating_sub(limit);
    let list: Vec<Value> = market
        .recent
        .iter()
        .skip(skip)
        .map(|t| {
            // The real venue sends null here; the simulator sends its trade ids so that tests
            // can prove a stream's REST backfill misses no trade.
            json!({
                "id": t.id.to_string(),
                "price": s(t.price),
                "qty": s(t.qty),
                "quoteQty": s(t.price * t.qty),
                "time": t.time,
                "isBuyerMaker": !t.buyer_is_taker,
                "isBestMatch": true,
            })
        })
        .collect();
    Ok(Json(Value::Array(list)))
}

async fn agg_trades(State(shared): AppState, req: Req) -> ApiResult {
    let params = req.public()?;
    let limit = params.limit(500, 1000)?;
    let (start, end) = (params.int("startTime")?, params.int("endTime")?);
    let venue = shared.venue();
    let market = &venue.markets[venue.symbol(params.required("symbol")?)?];
    let selected: Vec<Value> = market
        .recent
        .iter()
        .filter(|t| start.is_none_or(|s| t.time >= s) && end.is_none_or(|e| t.time <= e))
        .map(|t| json!({"a": null, "f": null, "l": null, "p": s(t.price), "q": s(t.qty), "T": t.time, "m": !t.buyer_is_taker, "M": true}))
        .collect();
    let skip = if start.is_some() { 0 } else { selected.len().saturating_sub(limit) };
    Ok(Json(Value::Array(selected.into_iter().skip(skip).take(limit).collect())))
}

/// A REST kline interval in milliseconds.
fn interval_ms(name: &str) -> Option<i64> {
    Some(match name {
        "1m" => MINUTE,
        "5m" => 5 * MINUTE,
        "15m" => 15 * MINUTE,
        "30m" => 30 * MINUTE,
        "60m" => 60 * MINUTE,
        "4h" => 240 * MINUTE,
        "1d" => 1440 * MINUTE,
        _ => return None,
    })
}

async fn klines(State(shared): AppState, req: Req) -> ApiResult {
    let params = req.public()?;
    let interval = interval_ms(params.required("interval")?).ok_or_else(|| Reject::param("Invalid interval."))?;
    let limit = params.limit(500, 500)?;
    let (start, end) = (params.int("startTime")?, params.int("endTime")?);
    let venue = shared.venue();
    let symbol = venue.symbol(params.required("symbol")?)?;
    let now = shared.clock.now();
    let to = end.map_or(now + 1, |e| e + 1);
    let count = i64::try_from(limit).unwrap_or(500);
    let mut bars = match start {
        Some(from) => venue.klines(symbol, interval, from, to, now),
        None => venue.klines(symbol, interval, to.div_euclid(interval) * interval - (count - 1) * interval, to, now),
    };
    if start.is_some() {
        bars.truncate(limit);
    } else {
        bars.drain(..bars.len().saturating_sub(limit));
    }
    let dp = venue.spec(symbol).quote_precision;
    let rows: Vec<Value> = bars
        .iter()
        .map(|b| {
            json!([
                b.open_time,
                s(b.open),
                s(b.high),
                s(b.low),
                s(b.close),
                s(b.volume),
                b.open_time + interval,
                s(b.quote_volume(dp))
            ])
        })
        .collect();
    Ok(Json(Value::Array(rows)))
}

async fn avg_price(State(shared): AppState, req: Req) -> ApiResult {
    let params = req.public()?;
    let venue = shared.venue();
    let symbol = venue.symbol(params.required("symbol")?)?;
    let now = shared.clock.now();
    let bars = venue.klines(symbol, MINUTE, now - 5 * MINUTE, now + 1, now);
    let sum: Decimal = bars.iter().map(|b| b.close).sum();
    let price = if bars.is_empty() { venue.markets[symbol].last_price() } else { sum / Decimal::from(bars.len()) };
    Ok(Json(json!({"mins": 5, "price": s(price.round_dp(venue.spec(symbol).quote_precision))})))
}

async fn ticker_24hr(State(shared): AppState, req: Req) -> ApiResult {
    let params = req.public()?;
    let venue = shared.venue();
    let now = shared.clock.now();
    let items = symbols_of(&venue, &params)?
        .into_iter()
        .map(|i| {
            let market = &venue.markets[i];
            let dp = market.series.spec.quote_precision;
            let bars = venue.klines(i, MINUTE, now - 1440 * MINUTE, now + 1, now);
            let last = market.last_price();
            let open = bars.first().map_or(last, |b| b.open);
            let (mut high, mut low, mut volume, mut quote) = (last, last, Decimal::ZERO, Decimal::ZERO);
            for b in &bars {
                high = high.max(b.high);
                low = low.min(b.low);
                volume += b.volume;
                quote += b.quote_volume(dp);
            }
            let ((bid, bid_qty), (ask, ask_qty)) = market.top().unwrap_or_default();
            json!({
                "symbol": market.series.spec.symbol,
                "priceChange": s(last - open),
                "priceChangePercent": s(((last - open) / open).round_dp(4)),
                "prevClosePrice": s(open),
                "lastPrice": s(last),
                "bidPrice": s(bid),
                "bidQty": s(bid_qty),
                "askPrice": s(ask),
                "askQty": s(ask_qty),
                "openPrice": s(open),
                "highPrice": s(high),
                "lowPrice": s(low),
                "volume": s(volume),
                "quoteVolume": s(quote),
                "openTime": now - 1440 * MINUTE,
                "closeTime": now,
                "count": null,
            })
        })
        .collect();
    Ok(Json(one_or_all(&params, items)))
}

async fn ticker_price(State(shared): AppState, req: Req) -> ApiResult {
    let params = req.public()?;
    let venue = shared.venue();
    let items = symbols_of(&venue, &params)?
        .into_iter()
        .map(|i| json!({"symbol": venue.spec(i).symbol, "price": s(venue.markets[i].last_price())}))
        .collect();
    Ok(Json(one_or_all(&params, items)))
}

async fn book_ticker(State(shared): AppState, req: Req) -> ApiResult {
    let params = req.public()?;
    let venue = shared.venue();
    let items = symbols_of(&venue, &params)?
        .into_iter()
        .map(|i| {
            let ((bid, bid_qty), (ask, ask_qty)) = venue.markets[i].top().unwrap_or_default();
            json!({"symbol": venue.spec(i).symbol, "bidPrice": s(bid), "bidQty": s(bid_qty), "askPrice": s(ask), "askQty": s(ask_qty)})
        })
        .collect();
    Ok(Json(one_or_all(&params, items)))
}

// ----- signed endpoints -----

async fn account(State(shared): AppState, req: Req) -> ApiResult {
    let (account, _) = req.signed(&shared)?;
    let venue = shared.venue();
    let balances: Vec<Value> = venue
        .balances(account)
        .iter()
        .filter(|(_, b)| !b.free.is_zero() || !b.locked.is_zero())
        .map(|(asset, b)| json!({"asset": asset, "free": s(b.free), "locked": s(b.locked)}))
        .collect();
    Ok(Json(json!({
        "canTrade": true,
        "canWithdraw": true,
        "canDeposit": true,
        "updateTime": null,
        "accountType": "SPOT",
        "balances": balances,
        "permissions": ["SPOT"],
    })))
}

/// The order a create request describes.
fn new_order(venue: &Venue, params: &Params) -> Result<NewOrder, Reject> {
    let symbol = venue.symbol(params.required("symbol")?)?;
    let side = match params.required("side")? {
        "BUY" => Side::Buy,
        "SELL" => Side::Sell,
        other => return Err(Reject::param(format!("invalid side {other}"))),
    };
    let kind = match params.required("type")? {
        "LIMIT" => Kind::Limit,
        "MARKET" => Kind::Market,
        "LIMIT_MAKER" => Kind::LimitMaker,
        "IMMEDIATE_OR_CANCEL" => Kind::ImmediateOrCancel,
        "FILL_OR_KILL" => Kind::FillOrKill,
        other => return Err(Reject::param(format!("invalid type {other}"))),
    };
    Ok(NewOrder {
        symbol,
        side,
        kind,
        quantity: params.decimal("quantity")?,
        quote_quantity: params.decimal("quoteOrderQty")?,
        // A market order's price is ignored (ccxt sends one with quoteOrderQty).
        price: if kind == Kind::Market { None } else { params.decimal("price")? },
        client_id: params.get("newClientOrderId").map(str::to_owned),
    })
}

async fn create_order(State(shared): AppState, req: Req) -> Result<Response, Reject> {
    let (account, params) = req.signed(&shared)?;
    let ack = {
        let mut venue = shared.venue();
        let order = new_order(&venue, &params)?;
        venue.apply_faults(&shared.faults());
        let index = venue.place(account, order, shared.server_time(), false)?.unwrap_or_default();
        let o = &venue.orders[index];
        json!({
            "symbol": venue.spec(o.symbol).symbol,
            "orderId": o.id,
            "orderListId": -1,
            "price": s(o.price),
            "origQty": s(o.qty),
            "type": o.kind.as_str(),
            "side": o.side.as_str(),
            "transactTime": o.time,
        })
    };
    if faults::roll(&shared, shared.faults().lose_create_response_rate) {
        tokio::time::sleep(LOST_RESPONSE_HANG).await;
        return Ok(Reject::http(StatusCode::GATEWAY_TIMEOUT, "Gateway Timeout").into_response());
    }
    Ok(Json(ack).into_response())
}

/// Most orders one `batchOrders` request may carry.
const MAX_BATCH: usize = 20;

/// `POST /api/v3/batchOrders`: up to 20 orders of one symbol, each answered on its own (an
/// order id, or the venue's code and message).
async fn batch_orders(State(shared): AppState, req: Req) -> ApiResult {
    let (account, params) = req.signed(&shared)?;
    let items: Vec<serde_json::Map<String, Value>> = serde_json::from_str(params.required("batchOrders")?)
        .map_err(|e| Reject::param(format!("batchOrders is not a JSON list of orders: {e}")))?;
    if items.is_empty() || items.len() > MAX_BATCH {
        return Err(Reject::param(format!("batchOrders must hold 1 to {MAX_BATCH} orders")));
    }
    let symbols: BTreeSet<String> =
        items.iter().map(|i| i.get("symbol").map(ToString::to_string).unwrap_or_default()).collect();
    if symbols.len() != 1 {
        return Err(Reject::param("all orders of a batch must be for the same symbol"));
    }
    let mut venue = shared.venue();
    venue.apply_faults(&shared.faults());
    let now = shared.server_time();
    let answers = items
        .into_iter()
        .map(|item| {
            let fields = item.into_iter().map(|(k, v)| {
                let text = match v {
                    Value::String(s) => s,
                    other => other.to_string(),
                };
                (k, text)
            });
            let params = Params(fields.collect());
            let client_id = params.get("newClientOrderId").map(str::to_owned);
            let placed = new_order(&venue, &params).and_then(|order| venue.place(account, order, now, false));
            match placed {
                Ok(index) => {
                    let o = &venue.orders[index.unwrap_or_default()];
                    let mut answer = json!({"symbol": venue.spec(o.symbol).symbol, "orderId": o.id, "orderListId": -1});
                    if let Some(id) = client_id {
                        answer["newClientOrderId"] = json!(id);
                    }
                    answer
                }
                Err(reject) => json!({"newClientOrderId": client_id, "code": reject.code, "msg": reject.msg}),
            }
        })
        .collect();
    Ok(Json(Value::Array(answers)))
}

async fn test_order(State(shared): AppState, req: Req) -> ApiResult {
    let (account, params) = req.signed(&shared)?;
    let mut venue = shared.venue();
    let order = new_order(&venue, &params)?;
    venue.place(account, order, shared.server_time(), true)?;
    Ok(Json(json!({})))
}

/// The order a query or cancel names (`orderId` or `origClientOrderId`).
fn named_order(venue: &Venue, account: usize, params: &Params) -> Result<Option<usize>, Reject> {
    let symbol = venue.symbol(params.required("symbol")?)?;
    let (id, client_id) = (params.get("orderId"), params.get("origClientOrderId"));
    if id.is_none() && client_id.is_none() {
        return Err(Reject::bad(
            700004,
            "Param 'origClientOrderId' or 'orderId' must be sent, but both were empty/null!",
        ));
    }
    Ok(venue.find(account, symbol, id, client_id))
}

async fn query_order(State(shared): AppState, req: Req) -> ApiResult {
    let (account, params) = req.signed(&shared)?;
    let lag = Duration::from_millis(shared.faults().order_not_found_lag_ms);
    let venue = shared.venue();
    let o = named_order(&venue, account, &params)?.ok_or_else(Reject::no_such_order)?;
    let order = &venue.orders[o];
    if order.created.elapsed() < lag {
        return Err(Reject::no_such_order());
    }
    Ok(Json(order_json(&venue, order)))
}

async fn cancel_order(State(shared): AppState, req: Req) -> ApiResult {
    let (account, params) = req.signed(&shared)?;
    let now = shared.server_time();
    let lag = Duration::from_millis(shared.faults().order_not_found_lag_ms);
    let mut venue = shared.venue();
    let o = named_order(&venue, account, &params)?.ok_or_else(Reject::unknown_order)?;
    // Right after its creation the venue may not know the order yet, for a cancel too.
    if !venue.orders[o].status.is_open() || venue.orders[o].created.elapsed() < lag {
        return Err(Reject::unknown_order());
    }
    venue.cancel(o, now);
    Ok(Json(cancel_json(&venue, &venue.orders[o], params.get("newClientOrderId"))))
}

async fn open_orders(State(shared): AppState, req: Req) -> ApiResult {
    let (account, params) = req.signed(&shared)?;
    let venue = shared.venue();
    let symbol = params.get("symbol").map(|sym| venue.symbol(sym)).transpose()?;
    let list = venue.open_orders(account, symbol).into_iter().map(|o| order_json(&venue, &venue.orders[o])).collect();
    Ok(Json(Value::Array(list)))
}

async fn cancel_open_orders(State(shared): AppState, req: Req) -> ApiResult {
    let (account, params) = req.signed(&shared)?;
    let now = shared.server_time();
    let mut venue = shared.venue();
    let symbols: Vec<usize> =
        params.required("symbol")?.split(',').take(5).map(|sym| venue.symbol(sym.trim())).collect::<Result<_, _>>()?;
    let mut cancelled = Vec::new();
    for symbol in symbols {
        for o in venue.open_orders(account, Some(symbol)) {
            venue.cancel(o, now);
            cancelled.push(cancel_json(&venue, &venue.orders[o], None));
        }
    }
    Ok(Json(Value::Array(cancelled)))
}

async fn all_orders(State(shared): AppState, req: Req) -> ApiResult {
    let (account, params) = req.signed(&shared)?;
    let limit = params.limit(500, 1000)?;
    let now = shared.server_time();
    let end = params.int("endTime")?.unwrap_or(now);
    let start = params.int("startTime")?.unwrap_or(end - 24 * 60 * MINUTE);
    let venue = shared.venue();
    let symbol = venue.symbol(params.required("symbol")?)?;
    let list: Vec<Value> = venue
        .orders
        .iter()
        .filter(|o| o.account == account && o.symbol == symbol && o.time >= start && o.time <= end)
        .map(|o| order_json(&venue, o))
        .collect();
    let skip = list.len().saturating_sub(limit);
    Ok(Json(Value::Array(list.into_iter().skip(skip).collect())))
}

async fn my_trades(State(shared): AppState, req: Req) -> ApiResult {
    let (account, params) = req.signed(&shared)?;
    let limit = params.limit(100, 100)?;
    let (start, end) = (params.int("startTime")?, params.int("endTime")?);
    let venue = shared.venue();
    let symbol = venue.symbol(params.required("symbol")?)?;
    let order_id = params.get("orderId");
    let list: Vec<Value> = venue
        .trades
        .iter()
        .filter(|t| {
            let o = &venue.orders[t.order];
            t.account == account
                && o.symbol == symbol
                && order_id.is_none_or(|id| o.id == id)
                && start.is_none_or(|s| t.time >= s)
                && end.is_none_or(|e| t.time <= e)
        })
        .map(|t| my_trade_json(&venue, t))
        .collect();
    let skip = if start.is_some() { 0 } else { list.len().saturating_sub(limit) };
    Ok(Json(Value::Array(list.into_iter().skip(skip).take(limit).collect())))
}

async fn trade_fee(State(shared): AppState, req: Req) -> ApiResult {
    let (_, params) = req.signed(&shared)?;
    shared.venue().symbol(params.required("symbol")?)?;
    // The venue answers JSON numbers here (a protocol requirement, not money arithmetic).
    let number = |d: Decimal| d.to_f64().map_or(Value::Null, Value::from);
    Ok(Json(json!({
        "data": {"makerCommission": number(crate::symbols::MAKER_FEE), "takerCommission": number(crate::symbols::TAKER_FEE)},
        "code": 0,
        "msg": "success",
        "timestamp": shared.server_time(),
    })))
}

async fn listen_key_create(State(shared): AppState, req: Req) -> ApiResult {
    let (account, _) = req.signed(&shared)?;
    let now = shared.server_time();
    Ok(Json(json!({"listenKey": shared.venue().new_listen_key(account, now)})))
}

async fn listen_key_touch(shared: &Shared, req: &Req, keep: bool) -> ApiResult {
    let (account, params) = req.signed(shared)?;
    let key = params.required("listenKey")?;
    if !shared.venue().touch_listen_key(account, key, shared.server_time(), keep) {
        return Err(Reject::bad(730002, "Your input param is invalid."));
    }
    Ok(Json(json!({"listenKey": key})))
}

async fn listen_key_keep(State(shared): AppState, req: Req) -> ApiResult {
    listen_key_touch(&shared, &req, true).await
}

async fn listen_key_close(State(shared): AppState, req: Req) -> ApiResult {
    listen_key_touch(&shared, &req, false).await
}

async fn listen_key_list(State(shared): AppState, req: Req) -> ApiResult {
    let (account, _) = req.signed(&shared)?;
    let now = shared.server_time();
    Ok(Json(json!({"listenKey": shared.venue().listen_keys(account, now)})))
}

async fn currencies(State(shared): AppState, req: Req) -> ApiResult {
    req.signed(&shared)?;
    let venue = shared.venue();
    let mut assets: Vec<(&str, &str)> = Vec::new();
    for m in &venue.markets {
        let spec = &m.series.spec;
        for (asset, name) in [(spec.base.as_str(), spec.full_name.as_str()), (spec.quote.as_str(), spec.quote.as_str())]
        {
            if !assets.iter().any(|(a, _)| *a == asset) {
                assets.push((asset, name));
            }
        }
    }
    let list: Vec<Value> = assets
        .into_iter()
        .map(|(coin, name)| {
            json!({
                "coin": coin,
                "name": name,
                "networkList": [{
                    "coin": coin,
                    "depositDesc": null,
                    "depositEnable": true,
                    "minConfirm": 1,
                    "name": name,
                    "network": coin,
                    "netWork": coin,
                    "withdrawEnable": true,
                    "withdrawFee": "0",
                    "withdrawIntegerMultiple": null,
                    "withdrawMax": "1000000",
                    "withdrawMin": "0.001",
                    "sameAddress": false,
                    "contract": "",
                    "withdrawTips": null,
                    "depositTips": null,
                }],
            })
        })
        .collect();
    Ok(Json(Value::Array(list)))
}

// ----- admin -----

pub(crate) fn loopback_only(peer: SocketAddr) -> Result<(), Reject> {
    if peer.ip().is_loopback() { Ok(()) } else { Err(Reject::http(StatusCode::FORBIDDEN, "Access Denied")) }
}

async fn get_faults(
    State(shared): AppState,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
) -> Result<Json<Faults>, Reject> {
    loopback_only(peer)?;
    Ok(Json(shared.faults()))
}

async fn put_faults(
    State(shared): AppState,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Json(faults): Json<Faults>,
) -> Result<Json<Faults>, Reject> {
    loopback_only(peer)?;
    shared.set_faults(faults.clone());
    tracing::info!(?faults, "faults changed");
    Ok(Json(faults))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_signing_vectors_hold() {
        let file: Value = serde_json::from_str(include_str!("../test_data/signing_vectors.json")).unwrap();
        let vectors = file["vectors"].as_array().unwrap();
        assert_eq!(vectors.len(), 8);
        for v in vectors {
            let text = |k: &str| v[k].as_str().unwrap().to_owned();
            let to_sign = format!("{}{}", text("query_string"), text("body"));
            assert_eq!(to_sign, text("string_to_sign"), "{}", text("name"));
            assert_eq!(sign(&text("secret"), &to_sign), text("expected_signature"), "{}", text("name"));
        }
    }

    #[test]
    fn the_signature_pair_is_removed_and_the_rest_kept_byte_for_byte() {
        let (rest, sig) = strip_signature("a=%2C1&timestamp=5&signature=abc");
        assert_eq!((rest.as_str(), sig.as_deref()), ("a=%2C1&timestamp=5", Some("abc")));
        assert_eq!(decode("grid%231%20buy%2F2+x"), "grid#1 buy/2 x");
        assert_eq!(decode("100%"), "100%");
    }
}
