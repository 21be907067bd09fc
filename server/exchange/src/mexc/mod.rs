//! MEXC spot v3: the [`Mexc`] adapter implementing [`Exchange`](crate::Exchange).
//!
//! Orders are checked against the symbol's rules (precision, minimum quantity and notional,
//! API trading allowed, order type enabled) before anything is sent. A create whose answer is
//! lost (timeout, 5xx) is resolved by its client order id, allowing for the venue's "order
//! does not exist" lag right after creation; it is never sent again.

mod http;
mod limits;
pub mod sign;
mod wire;
mod ws;

use std::{collections::BTreeMap, sync::Arc, time::Duration};

use async_trait::async_trait;
use domain::{
    money::{Qty, Quote},
    pair::Pair,
    time::Timestamp,
};
use reqwest::Method;
use tokio::sync::{RwLock, mpsc};

use self::{
    http::{Endpoint, Rest},
    limits::Action,
};
pub use self::{limits::RateLimits, ws::StreamSettings};
use crate::{
    Exchange,
    error::{Error, Result},
    types::{
        AccountEvent, AccountTrade, Balance, Candle, Interval, MarketEvent, NewOrder, OrderBook, OrderKind, OrderRef,
        OrderSize, PublicTrade, Side, SymbolInfo, Ticker, VenueOrder, VenueOrderStatus,
    },
};

/// Settings of one MEXC account (its `Debug` shows no credential).
#[derive(Clone)]
pub struct MexcConfig {
    /// REST base URL (`https://api.mexc.com`, or the local simulator).
    pub rest_url: String,
    /// WebSocket URL (`wss://wbs-api.mexc.com/ws`, or the local simulator).
    pub ws_url: String,
    /// API key; empty for market data only.
    pub api_key: String,
    /// API secret; empty for market data only.
    pub api_secret: String,
    /// Validity of a signed request in milliseconds (at most 60000).
    pub recv_window_ms: u32,
    /// Client-side limits.
    pub limits: RateLimits,
    /// Timeout of one HTTP request.
    pub request_timeout: Duration,
    /// How long a lost create is looked for by client order id before its outcome is
    /// reported unknown (covers the venue's "order does not exist" lag).
    pub resolve_window: Duration,
    /// Stream connection timing.
    pub streams: StreamSettings,
}

impl std::fmt::Debug for MexcConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MexcConfig")
            .field("rest_url", &self.rest_url)
            .field("ws_url", &self.ws_url)
            .field("has_api_key", &!self.api_key.is_empty())
            .field("recv_window_ms", &self.recv_window_ms)
            .field("limits", &self.limits)
            .field("request_timeout", &self.request_timeout)
            .field("resolve_window", &self.resolve_window)
            .field("streams", &self.streams)
            .finish_non_exhaustive()
    }
}

impl MexcConfig {
    /// Defaults for an account at `rest_url` / `ws_url` with the given credentials.
    #[must_use]
    pub fn new(rest_url: &str, ws_url: &str, api_key: &str, api_secret: &str) -> Self {
        Self {
            rest_url: rest_url.trim_end_matches('/').to_owned(),
            ws_url: ws_url.to_owned(),
            api_key: api_key.to_owned(),
            api_secret: api_secret.to_owned(),
            recv_window_ms: 5000,
            limits: RateLimits::default(),
            request_timeout: Duration::from_secs(10),
            resolve_window: Duration::from_secs(5),
            streams: StreamSettings::default(),
        }
    }
}

/// A MEXC spot account.
#[derive(Debug)]
pub struct Mexc {
    rest: Rest,
    ws_url: String,
    streams: StreamSettings,
    has_credentials: bool,
    resolve_window: Duration,
    /// Symbol rules by venue symbol, loaded on first use and refreshed on a miss.
    symbols: RwLock<BTreeMap<String, SymbolInfo>>,
}

/// The wire name of an interval (`60m`, not `1h`).
const fn interval_name(interval: Interval) -> &'static str {
    match interval {
        Interval::M1 => "1m",
        Interval::M5 => "5m",
        Interval::M15 => "15m",
        Interval::M30 => "30m",
        Interval::H1 => "60m",
        Interval::H4 => "4h",
        Interval::D1 => "1d",
    }
}

fn order_params(pair: &Pair, order: &OrderRef) -> Vec<(&'static str, String)> {
    let id = match order {
        OrderRef::Venue(id) => ("orderId", id.clone()),
        OrderRef::Client(id) => ("origClientOrderId", id.clone()),
    };
    vec![("symbol", pair.symbol()), id]
}

impl Mexc {
    /// An adapter for the account in `config`.
    ///
    /// # Errors
    /// [`Error::VenueUnavailable`] when the HTTP client cannot be built.
    pub fn new(config: &MexcConfig) -> Result<Self> {
        let endpoint = Endpoint {
            base_url: config.rest_url.clone(),
            api_key: config.api_key.clone(),
            api_secret: config.api_secret.clone(),
            recv_window_ms: config.recv_window_ms,
            timeout: config.request_timeout,
        };
        Ok(Self {
            rest: Rest::new(endpoint, config.limits)?,
            ws_url: config.ws_url.clone(),
            streams: config.streams,
            has_credentials: !config.api_key.is_empty(),
            resolve_window: config.resolve_window,
            symbols: RwLock::new(BTreeMap::new()),
        })
    }

    /// A new listen key for the account stream.
    async fn listen_key(&self) -> Result<String> {
        let body = self.rest.signed(&Method::POST, "/api/v3/userDataStream", &[], Action::Read(1)).await?;
        body["listenKey"]
            .as_str()
            .map(str::to_owned)
            .ok_or_else(|| Error::Decode("userDataStream: no listenKey".into()))
    }

    /// Extends `key` every 30 minutes (it lives 60); returns when an extension fails.
    async fn keep_listen_key_alive(&self, key: String) {
        let mut interval = tokio::time::interval(Duration::from_secs(30 * 60));
        interval.tick().await;
        loop {
            interval.tick().await;
            let params = [("listenKey", key.clone())];
            if let Err(e) = self.rest.signed(&Method::PUT, "/api/v3/userDataStream", &params, Action::Read(1)).await {
                tracing::warn!(error = %e, "listen key could not be extended");
                return;
            }
        }
    }

    /// The symbol's rules, loading them on first use or when the symbol is unknown.
    async fn symbol(&self, pair: &Pair) -> Result<SymbolInfo> {
        let symbol = pair.symbol();
        if let Some(info) = self.symbols.read().await.get(&symbol) {
            return Ok(info.clone());
        }
        self.symbols().await?;
        self.symbols.read().await.get(&symbol).cloned().ok_or_else(|| Error::SymbolNotTradable {
            symbol,
            reason: "the venue does not list this symbol".to_owned(),
        })
    }

    /// Rounds and checks an order against the symbol's rules; returns the request params.
    async fn prepare(&self, order: &NewOrder) -> Result<Vec<(&'static str, String)>> {
        let info = self.symbol(&order.pair).await?;
        if !info.api_trading_allowed {
            return Err(Error::SymbolNotTradable {
                symbol: info.symbol,
                reason: "the venue does not allow API trading of it".to_owned(),
            });
        }
        if !info.order_kinds.contains(&order.kind) {
            return Err(Error::OrderTypeDisabled { symbol: info.symbol, kind: wire::kind_name(order.kind).to_owned() });
        }
        let rules = &info.rules;
        let buying = order.side == Side::Buy;
        let mut params = vec![
            ("symbol", info.symbol.clone()),
            ("side", if buying { "BUY" } else { "SELL" }.to_owned()),
            ("type", wire::kind_name(order.kind).to_owned()),
        ];
        let invalid = |e: domain::symbol::RuleViolation| Error::InvalidOrder(e.to_string());
        match (order.kind, order.size) {
            (OrderKind::Market, OrderSize::Quote(quote)) if buying => {
                let quote = rules.round_quote_down(quote);
                rules.check_notional(quote).map_err(invalid)?;
                params.push(("quoteOrderQty", quote.to_string()));
            }
            (OrderKind::Market, OrderSize::Base(qty)) => {
                let qty = rules.round_qty_down(qty);
                let reference = self.ticker(&order.pair).await?;
                let price = if buying { reference.ask } else { reference.bid };
                rules.check_qty(qty, price).map_err(invalid)?;
                params.push(("quantity", qty.to_string()));
            }
            (OrderKind::Limit | OrderKind::LimitMaker, OrderSize::Base(qty)) => {
                let price = order.price.ok_or_else(|| Error::InvalidOrder("a limit order needs a price".to_owned()))?;
                let price = rules.round_price(price, buying);
                let qty = rules.round_qty_down(qty);
                rules.check_qty(qty, price).map_err(invalid)?;
                params.push(("quantity", qty.to_string()));
                params.push(("price", price.to_string()));
            }
            _ => return Err(Error::InvalidOrder("only market buys can be sized by quote amount".to_owned())),
        }
        params.push(("newClientOrderId", order.client_order_id.clone()));
        Ok(params)
    }

    /// Looks for an order by client id until it shows up or the resolve window passes.
    ///
    /// Only the venue's answer to the create itself can say an order was not placed: whatever
    /// becomes of the lookups (not found, rate limited, refused, unreachable), an order not
    /// found here is [`Error::UnknownOutcome`], for the caller to keep resolving.
    async fn resolve(&self, order: &NewOrder, cause: &Error) -> Result<VenueOrder> {
        let deadline = tokio::time::Instant::now() + self.resolve_window;
        let reference = OrderRef::Client(order.client_order_id.clone());
        let mut delay = Duration::from_millis(100);
        loop {
            let lookup = match self.order(&order.pair, &reference).await {
                Ok(found) => {
                    tracing::info!(client_order_id = %order.client_order_id, "lost create resolved: the order exists");
                    return Ok(found);
                }
                // Right after a create the venue may not know the order yet: keep looking.
                Err(error @ (Error::NotFound(_) | Error::VenueUnavailable(_) | Error::Unreachable(_))) => error,
                // The lookup itself is refused (rate limit, ban, keys): nothing more can be
                // learnt now, and the create's fate is still open.
                Err(error) => {
                    return Err(Error::UnknownOutcome {
                        client_order_id: order.client_order_id.clone(),
                        cause: format!("{cause}; looking it up failed: {error}"),
                    });
                }
            };
            if tokio::time::Instant::now() + delay > deadline {
                return Err(Error::UnknownOutcome {
                    client_order_id: order.client_order_id.clone(),
                    cause: format!("{cause}; last lookup: {lookup}"),
                });
            }
            tokio::time::sleep(delay).await;
            delay = (delay * 2).min(Duration::from_secs(1));
        }
    }
}

/// Fills per `myTrades` page (the venue's maximum).
const MY_TRADES_PAGE: usize = 100;

impl Mexc {
    /// Every fill on `pair` (of one order, when given) from `since` on, oldest first: the venue
    /// has no trade-id cursor, so pages follow each other by time, the last page's latest
    /// millisecond starting the next, duplicates dropped by trade id.
    ///
    /// # Errors
    /// [`Error::Decode`] when more fills than a page holds share one millisecond (time cannot
    /// page past them); the account stream still delivers them.
    async fn trades_since(&self, pair: &Pair, order_id: Option<&str>, since: Timestamp) -> Result<Vec<AccountTrade>> {
        let mut trades: Vec<AccountTrade> = Vec::new();
        let mut seen = std::collections::BTreeSet::new();
        let mut cursor = since;
        loop {
            let mut params = vec![
                ("symbol", pair.symbol()),
                ("startTime", cursor.millis().to_string()),
                ("limit", MY_TRADES_PAGE.to_string()),
            ];
            if let Some(id) = order_id {
                params.push(("orderId", id.to_owned()));
            }
            let body = self.rest.signed(&Method::GET, "/api/v3/myTrades", &params, Action::Read(10)).await?;
            let page = wire::account_trades(&body, pair)?;
            let full = page.len() >= MY_TRADES_PAGE;
            let latest = page.iter().map(|t| t.time).max();
            trades.extend(page.into_iter().filter(|t| seen.insert(t.trade_id.clone())));
            match latest {
                Some(latest) if full && latest > cursor => cursor = latest,
                Some(_) if full => {
                    return Err(Error::Decode(format!(
                        "more than {MY_TRADES_PAGE} fills at {} ms; they cannot be paged by time",
                        cursor.millis()
                    )));
                }
                _ => break,
            }
        }
        trades.sort_by_key(|t| t.time);
        Ok(trades)
    }
}

#[async_trait]
impl Exchange for Mexc {
    async fn sync_clock(&self) -> Result<i64> {
        self.rest.sync_clock().await
    }

    async fn symbols(&self) -> Result<Vec<SymbolInfo>> {
        let api = self.rest.public("/api/v3/defaultSymbols", &[], 1).await?;
        let info = self.rest.public("/api/v3/exchangeInfo", &[], 10).await?;
        let symbols = wire::symbols(&info, &wire::default_symbols(&api)?)?;
        // Every fresh listing refreshes the rules used to check orders.
        *self.symbols.write().await = symbols.iter().map(|s| (s.symbol.clone(), s.clone())).collect();
        Ok(symbols)
    }

    async fn ticker(&self, pair: &Pair) -> Result<Ticker> {
        let params = [("symbol", pair.symbol())];
        let book = self.rest.public("/api/v3/ticker/bookTicker", &params, 1).await?;
        let price = self.rest.public("/api/v3/ticker/price", &params, 1).await?;
        wire::ticker(pair, &book, &price)
    }

    async fn order_book(&self, pair: &Pair, depth: u32) -> Result<OrderBook> {
        let params = [("symbol", pair.symbol()), ("limit", depth.clamp(1, 5000).to_string())];
        wire::order_book(&self.rest.public("/api/v3/depth", &params, 1).await?)
    }

    async fn candles(
        &self,
        pair: &Pair,
        interval: Interval,
        from: Option<Timestamp>,
        limit: u32,
    ) -> Result<Vec<Candle>> {
        let mut params = vec![
            ("symbol", pair.symbol()),
            ("interval", interval_name(interval).to_owned()),
            ("limit", limit.clamp(1, 500).to_string()),
        ];
        if let Some(from) = from {
            params.push(("startTime", from.millis().to_string()));
        }
        wire::candles(&self.rest.public("/api/v3/klines", &params, 1).await?)
    }

    async fn recent_trades(&self, pair: &Pair, limit: u32) -> Result<Vec<PublicTrade>> {
        let params = [("symbol", pair.symbol()), ("limit", limit.clamp(1, 1000).to_string())];
        wire::public_trades(&self.rest.public("/api/v3/trades", &params, 5).await?)
    }

    async fn balances(&self) -> Result<Vec<Balance>> {
        wire::balances(&self.rest.signed(&Method::GET, "/api/v3/account", &[], Action::Read(10)).await?)
    }

    async fn place_order(&self, order: &NewOrder) -> Result<VenueOrder> {
        let params = self.prepare(order).await?;
        let answer = self.rest.signed(&Method::POST, "/api/v3/order", &params, Action::Create).await;
        let acked = answer.and_then(|ack| {
            let venue_id = ack["orderId"]
                .as_str()
                .map(str::to_owned)
                .or_else(|| ack["orderId"].as_i64().map(|n| n.to_string()))
                .ok_or_else(|| Error::Decode("order ack without orderId".to_owned()))?;
            Ok((ack, venue_id))
        });
        match acked {
            Ok((ack, venue_id)) => Ok(VenueOrder {
                venue_id,
                client_order_id: Some(order.client_order_id.clone()),
                pair: order.pair.clone(),
                side: order.side,
                kind: order.kind,
                price: order.price,
                orig_qty: match order.size {
                    OrderSize::Base(qty) => Some(qty),
                    OrderSize::Quote(_) => None,
                },
                executed_qty: Qty::ZERO,
                cumulative_quote: Quote::ZERO,
                status: VenueOrderStatus::New,
                created_at: Timestamp::from_millis(ack["transactTime"].as_i64().unwrap_or_default()),
            }),
            // The request may have reached the venue (or did, and its answer is unreadable):
            // find out by client id, never resend.
            Err(cause @ (Error::VenueUnavailable(_) | Error::Decode(_))) => self.resolve(order, &cause).await,
            Err(other) => Err(other),
        }
    }

    async fn cancel_order(&self, pair: &Pair, order: &OrderRef) -> Result<VenueOrder> {
        let body =
            self.rest.signed(&Method::DELETE, "/api/v3/order", &order_params(pair, order), Action::Cancel).await?;
        wire::order(&body, pair)
    }

    async fn order(&self, pair: &Pair, order: &OrderRef) -> Result<VenueOrder> {
        let body = self.rest.signed(&Method::GET, "/api/v3/order", &order_params(pair, order), Action::Read(2)).await?;
        wire::order(&body, pair)
    }

    async fn open_orders(&self, pair: &Pair) -> Result<Vec<VenueOrder>> {
        let params = [("symbol", pair.symbol())];
        wire::orders(&self.rest.signed(&Method::GET, "/api/v3/openOrders", &params, Action::Read(3)).await?, pair)
    }

    async fn order_history(&self, pair: &Pair, from: Option<Timestamp>) -> Result<Vec<VenueOrder>> {
        let mut params = vec![("symbol", pair.symbol())];
        if let Some(from) = from {
            params.push(("startTime", from.millis().to_string()));
        }
        wire::orders(&self.rest.signed(&Method::GET, "/api/v3/allOrders", &params, Action::Read(10)).await?, pair)
    }

    async fn account_trades(&self, pair: &Pair, from: Option<Timestamp>) -> Result<Vec<AccountTrade>> {
        match from {
            Some(from) => self.trades_since(pair, None, from).await,
            // The venue's default: its latest page.
            None => {
                let params = [("symbol", pair.symbol()), ("limit", MY_TRADES_PAGE.to_string())];
                let body = self.rest.signed(&Method::GET, "/api/v3/myTrades", &params, Action::Read(10)).await?;
                wire::account_trades(&body, pair)
            }
        }
    }

    async fn order_trades(&self, pair: &Pair, venue_order_id: &str, since: Timestamp) -> Result<Vec<AccountTrade>> {
        self.trades_since(pair, Some(venue_order_id), since).await
    }

    fn market_stream(self: Arc<Self>, pair: &Pair) -> mpsc::Receiver<MarketEvent> {
        ws::market(self, pair.clone())
    }

    fn account_stream(self: Arc<Self>) -> Result<mpsc::UnboundedReceiver<AccountEvent>> {
        ws::account(self)
    }
}

#[cfg(test)]
mod tests {
    use domain::{money::Price, symbol::SymbolRules};
    use rust_decimal_macros::dec;

    use super::*;

    /// An adapter whose rule cache holds one symbol, so `prepare` needs no venue.
    async fn with_symbol(api_trading_allowed: bool, order_kinds: Vec<OrderKind>) -> Mexc {
        let mexc = Mexc::new(&MexcConfig::new("http://127.0.0.1:9", "ws://127.0.0.1:9/ws", "", "")).unwrap();
        let pair: Pair = "BTC/USDT".parse().unwrap();
        let info = SymbolInfo {
            symbol: pair.symbol(),
            rules: SymbolRules {
                pair,
                price_scale: 2,
                qty_scale: 6,
                min_qty: Qty::new(dec!(0.000001)),
                min_notional: Quote::new(dec!(1)),
            },
            api_trading_allowed,
            order_kinds,
            maker_fee: dec!(0),
            taker_fee: dec!(0.0002),
        };
        mexc.symbols.write().await.insert(info.symbol.clone(), info);
        mexc
    }

    fn limit_buy(price: &str, qty: &str) -> NewOrder {
        NewOrder {
            pair: "BTC/USDT".parse().unwrap(),
            side: Side::Buy,
            kind: OrderKind::Limit,
            price: Some(Price::new(price.parse().unwrap())),
            size: OrderSize::Base(Qty::new(qty.parse().unwrap())),
            client_order_id: "t-1".into(),
        }
    }

    #[test]
    fn no_debug_output_shows_a_credential() {
        let config = MexcConfig::new("http://127.0.0.1:9", "ws://127.0.0.1:9/ws", "the-key-123", "the-secret-456");
        let mexc = Mexc::new(&config).unwrap();
        for shown in [format!("{config:?}"), format!("{mexc:?}")] {
            assert!(!shown.contains("the-key-123") && !shown.contains("the-secret-456"), "{shown}");
            assert!(shown.contains("127.0.0.1:9"), "the rest is shown: {shown}");
        }
    }

    #[tokio::test]
    async fn symbols_closed_to_the_api_and_disabled_order_types_are_refused_up_front() {
        let closed = with_symbol(false, vec![OrderKind::Limit]).await;
        assert!(matches!(closed.prepare(&limit_buy("100", "1")).await, Err(Error::SymbolNotTradable { .. })));
        let no_limit = with_symbol(true, vec![OrderKind::Market]).await;
        let err = no_limit.prepare(&limit_buy("100", "1")).await.unwrap_err();
        assert_eq!(err.to_string(), "BTCUSDT does not accept LIMIT orders");
    }

    #[tokio::test]
    async fn orders_are_rounded_to_the_symbol_precision_in_the_safe_direction() {
        let mexc = with_symbol(true, vec![OrderKind::Limit]).await;
        let params = mexc.prepare(&limit_buy("43210.559", "0.0012349")).await.unwrap();
        let get = |key: &str| params.iter().find(|(k, _)| *k == key).map(|(_, v)| v.as_str());
        assert_eq!(get("price"), Some("43210.55"));
        assert_eq!(get("quantity"), Some("0.001234"));
        assert_eq!(get("newClientOrderId"), Some("t-1"));
    }
}
