//! MEXC's JSON bodies and their conversion into venue-neutral types. Private to the adapter.
//!
//! MEXC sends decimals as strings, times as numbers or strings, precisions as integers or
//! strings; every reader here accepts each form the venue is known to use.

use std::str::FromStr;

use domain::{
    money::{Price, Qty, Quote},
    pair::Pair,
    symbol::SymbolRules,
    time::Timestamp,
};
use rust_decimal::Decimal;
use serde::Deserialize;
use serde_json::Value;

use crate::{
    error::Error,
    types::{
        AccountTrade, Balance, Candle, Level, OrderBook, OrderKind, PublicTrade, Side, SymbolInfo, Ticker, VenueOrder,
        VenueOrderStatus,
    },
};

fn decode_error(what: &str, detail: impl std::fmt::Display) -> Error {
    Error::Decode(format!("{what}: {detail}"))
}

/// A decimal sent as a string or a number.
fn decimal(value: &Value, what: &str) -> Result<Decimal, Error> {
    match value {
        Value::String(s) if s.is_empty() => Ok(Decimal::ZERO),
        Value::String(s) => {
            Decimal::from_str(s).or_else(|_| Decimal::from_scientific(s)).map_err(|e| decode_error(what, e))
        }
        Value::Number(n) => Decimal::from_str(&n.to_string()).map_err(|e| decode_error(what, e)),
        Value::Null => Ok(Decimal::ZERO),
        other => Err(decode_error(what, format!("unexpected {other}"))),
    }
}

/// A price sent as a string or a number: it must be there and positive (an empty, missing or
/// zero price is an unreadable answer, never a price of zero).
fn price(value: &Value, what: &str) -> Result<Price, Error> {
    match value {
        Value::Null => Err(decode_error(what, "missing")),
        Value::String(s) if s.is_empty() => Err(decode_error(what, "empty")),
        _ => match decimal(value, what)? {
            positive if positive > Decimal::ZERO => Ok(Price::new(positive)),
            other => Err(decode_error(what, format!("{other} is not a price"))),
        },
    }
}

/// A quantity or amount of one of our own fills: present and not negative (a missing one is an
/// unreadable answer, never zero).
fn amount(value: &Value, what: &str) -> Result<Decimal, Error> {
    match value {
        Value::Null => Err(decode_error(what, "missing")),
        Value::String(s) if s.is_empty() => Err(decode_error(what, "empty")),
        _ => match decimal(value, what)? {
            amount if amount >= Decimal::ZERO => Ok(amount),
            other => Err(decode_error(what, format!("{other} is negative"))),
        },
    }
}

/// An integer sent as a number or a string.
fn integer(value: &Value, what: &str) -> Result<i64, Error> {
    match value {
        Value::Number(n) => n.as_i64().ok_or_else(|| decode_error(what, n)),
        Value::String(s) => s.parse().map_err(|e| decode_error(what, e)),
        other => Err(decode_error(what, format!("unexpected {other}"))),
    }
}

fn text(value: &Value) -> Option<String> {
    match value {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn side(value: &Value) -> Result<Side, Error> {
    match value.as_str() {
        Some("BUY") => Ok(Side::Buy),
        Some("SELL") => Ok(Side::Sell),
        other => Err(decode_error("side", format!("{other:?}"))),
    }
}

/// The wire name of an order type.
pub(crate) const fn kind_name(kind: OrderKind) -> &'static str {
    match kind {
        OrderKind::Market => "MARKET",
        OrderKind::Limit => "LIMIT",
        OrderKind::LimitMaker => "LIMIT_MAKER",
    }
}

fn kind(value: &Value) -> Option<OrderKind> {
    match value.as_str()? {
        "MARKET" => Some(OrderKind::Market),
        "LIMIT" | "IMMEDIATE_OR_CANCEL" | "FILL_OR_KILL" => Some(OrderKind::Limit),
        "LIMIT_MAKER" => Some(OrderKind::LimitMaker),
        _ => None,
    }
}

/// Decimal places implied by a step such as "0.000001" (6).
fn scale_of_step(step: Decimal) -> u32 {
    step.normalize().scale()
}

/// `/api/v3/exchangeInfo` symbols; `api_symbols` is `/api/v3/defaultSymbols` (the symbols
/// the venue allows for API trading).
pub(crate) fn symbols(body: &Value, api_symbols: &[String]) -> Result<Vec<SymbolInfo>, Error> {
    let list = body["symbols"].as_array().ok_or_else(|| decode_error("exchangeInfo", "no symbols"))?;
    let mut out = Vec::with_capacity(list.len());
    for s in list {
        let symbol = s["symbol"].as_str().ok_or_else(|| decode_error("exchangeInfo", "symbol without name"))?;
        let (Some(base), Some(quote)) = (s["baseAsset"].as_str(), s["quoteAsset"].as_str()) else { continue };
        let Ok(pair) = format!("{base}/{quote}").parse::<Pair>() else { continue };
        let min_qty = decimal(&s["baseSizePrecision"], "baseSizePrecision")?;
        let qty_scale = u32::try_from(integer(&s["baseAssetPrecision"], "baseAssetPrecision")?)
            .unwrap_or_else(|_| scale_of_step(min_qty));
        let price_scale = u32::try_from(integer(&s["quotePrecision"], "quotePrecision")?).unwrap_or(8);
        let status_online = matches!(s["status"].as_str(), Some("1" | "ENABLED"));
        let order_kinds = s["orderTypes"].as_array().map(|k| k.iter().filter_map(kind).collect()).unwrap_or_default();
        out.push(SymbolInfo {
            symbol: symbol.to_owned(),
            rules: SymbolRules {
                pair,
                price_scale,
                qty_scale,
                min_qty: Qty::new(min_qty),
                min_notional: Quote::new(decimal(&s["quoteAmountPrecision"], "quoteAmountPrecision")?.normalize()),
            },
            api_trading_allowed: status_online && api_symbols.iter().any(|a| a == symbol),
            order_kinds,
            maker_fee: decimal(&s["makerCommission"], "makerCommission")?,
            taker_fee: decimal(&s["takerCommission"], "takerCommission")?,
        });
    }
    Ok(out)
}

/// `/api/v3/defaultSymbols`: `{"code":200,"data":[...]}`.
pub(crate) fn default_symbols(body: &Value) -> Result<Vec<String>, Error> {
    body["data"]
        .as_array()
        .map(|list| list.iter().filter_map(|s| s.as_str().map(str::to_owned)).collect())
        .ok_or_else(|| decode_error("defaultSymbols", "no data list"))
}

/// `/api/v3/ticker/bookTicker` and `/api/v3/ticker/price` for one symbol.
pub(crate) fn ticker(pair: &Pair, book: &Value, price: &Value) -> Result<Ticker, Error> {
    Ok(Ticker {
        pair: pair.clone(),
        last: self::price(&price["price"], "price")?,
        bid: self::price(&book["bidPrice"], "bidPrice")?,
        ask: self::price(&book["askPrice"], "askPrice")?,
    })
}

fn levels(value: &Value, what: &str) -> Result<Vec<Level>, Error> {
    value
        .as_array()
        .ok_or_else(|| decode_error(what, "not a list"))?
        .iter()
        .map(|level| Ok(Level { price: price(&level[0], what)?, qty: Qty::new(decimal(&level[1], what)?) }))
        .collect()
}

/// `/api/v3/depth`.
pub(crate) fn order_book(body: &Value) -> Result<OrderBook, Error> {
    Ok(OrderBook {
        bids: levels(&body["bids"], "bids")?,
        asks: levels(&body["asks"], "asks")?,
        version: u64::try_from(integer(&body["lastUpdateId"], "lastUpdateId")?).unwrap_or_default(),
    })
}

/// `/api/v3/klines` rows: `[open_time, open, high, low, close, volume, close_time, quote_volume]`
/// (the quote volume is not kept).
pub(crate) fn candles(body: &Value) -> Result<Vec<Candle>, Error> {
    body.as_array()
        .ok_or_else(|| decode_error("klines", "not a list"))?
        .iter()
        .map(|row| {
            Ok(Candle {
                open_time: Timestamp::from_millis(integer(&row[0], "kline open time")?),
                open: price(&row[1], "open")?,
                high: price(&row[2], "high")?,
                low: price(&row[3], "low")?,
                close: price(&row[4], "close")?,
                volume: Qty::new(decimal(&row[5], "volume")?),
            })
        })
        .collect()
}

/// `/api/v3/trades`.
pub(crate) fn public_trades(body: &Value) -> Result<Vec<PublicTrade>, Error> {
    let mut trades: Vec<PublicTrade> = body
        .as_array()
        .ok_or_else(|| decode_error("trades", "not a list"))?
        .iter()
        .map(|t| {
            Ok(PublicTrade {
                id: text(&t["id"]),
                price: price(&t["price"], "price")?,
                qty: Qty::new(decimal(&t["qty"], "qty")?),
                // isBuyerMaker: the buyer rested, so the taker sold.
                taker_side: if t["isBuyerMaker"].as_bool().unwrap_or(false) { Side::Sell } else { Side::Buy },
                time: Timestamp::from_millis(integer(&t["time"], "time")?),
            })
        })
        .collect::<Result<_, Error>>()?;
    trades.sort_by_key(|t| t.time);
    Ok(trades)
}

/// `/api/v3/account` balances.
pub(crate) fn balances(body: &Value) -> Result<Vec<Balance>, Error> {
    body["balances"]
        .as_array()
        .ok_or_else(|| decode_error("account", "no balances"))?
        .iter()
        .map(|b| {
            Ok(Balance {
                asset: b["asset"].as_str().unwrap_or_default().to_owned(),
                free: Qty::new(decimal(&b["free"], "free")?),
                locked: Qty::new(decimal(&b["locked"], "locked")?),
            })
        })
        .collect()
}

fn status(value: &Value) -> Result<VenueOrderStatus, Error> {
    Ok(match value.as_str() {
        Some("NEW") => VenueOrderStatus::New,
        Some("PARTIALLY_FILLED") => VenueOrderStatus::PartiallyFilled,
        Some("FILLED") => VenueOrderStatus::Filled,
        Some("CANCELED") => VenueOrderStatus::Cancelled,
        Some("PARTIALLY_CANCELED") => VenueOrderStatus::PartiallyCancelled,
        Some("REJECTED" | "EXPIRED") => VenueOrderStatus::Rejected,
        other => return Err(decode_error("order status", format!("{other:?}"))),
    })
}

/// An order object (GET/DELETE order, openOrders, allOrders).
pub(crate) fn order(body: &Value, pair: &Pair) -> Result<VenueOrder, Error> {
    let orig_qty = decimal(&body["origQty"], "origQty")?;
    let price = decimal(&body["price"], "price")?;
    Ok(VenueOrder {
        venue_id: text(&body["orderId"]).ok_or_else(|| decode_error("order", "no orderId"))?,
        client_order_id: text(&body["clientOrderId"]),
        pair: pair.clone(),
        side: side(&body["side"])?,
        kind: kind(&body["type"]).ok_or_else(|| decode_error("order type", &body["type"]))?,
        price: (price > Decimal::ZERO).then_some(Price::new(price)),
        orig_qty: (orig_qty > Decimal::ZERO).then_some(Qty::new(orig_qty)),
        // What it executed decides when it has ended with all its fills: never guessed as zero.
        executed_qty: Qty::new(amount(&body["executedQty"], "executedQty")?),
        cumulative_quote: Quote::new(amount(&body["cummulativeQuoteQty"], "cummulativeQuoteQty")?),
        status: status(&body["status"])?,
        created_at: Timestamp::from_millis(integer(&body["time"], "time").unwrap_or_default()),
    })
}

/// A list of order objects.
pub(crate) fn orders(body: &Value, pair: &Pair) -> Result<Vec<VenueOrder>, Error> {
    body.as_array().ok_or_else(|| decode_error("orders", "not a list"))?.iter().map(|o| order(o, pair)).collect()
}

/// `/api/v3/myTrades`.
pub(crate) fn account_trades(body: &Value, pair: &Pair) -> Result<Vec<AccountTrade>, Error> {
    body.as_array()
        .ok_or_else(|| decode_error("myTrades", "not a list"))?
        .iter()
        .map(|t| {
            Ok(AccountTrade {
                trade_id: text(&t["id"]).ok_or_else(|| decode_error("myTrades", "no id"))?,
                order_id: text(&t["orderId"]).ok_or_else(|| decode_error("myTrades", "no orderId"))?,
                client_order_id: text(&t["clientOrderId"]),
                pair: pair.clone(),
                side: match t["isBuyer"].as_bool() {
                    Some(true) => Side::Buy,
                    Some(false) => Side::Sell,
                    None => return Err(decode_error("myTrades", "no isBuyer")),
                },
                price: price(&t["price"], "price")?,
                qty: Qty::new(amount(&t["qty"], "qty")?),
                quote_qty: Quote::new(amount(&t["quoteQty"], "quoteQty")?),
                fee: Qty::new(amount(&t["commission"], "commission")?),
                fee_asset: t["commissionAsset"].as_str().unwrap_or_default().to_owned(),
                is_maker: t["isMaker"].as_bool().unwrap_or(false),
                time: Timestamp::from_millis(integer(&t["time"], "time")?),
            })
        })
        .collect()
}

/// The venue's error body `{"code": .., "msg": ..}`.
#[derive(Debug, Deserialize)]
pub(crate) struct ErrorBody {
    /// Venue error code.
    pub(crate) code: Value,
    /// Venue message.
    #[serde(default)]
    pub(crate) msg: Option<String>,
}

impl ErrorBody {
    /// The code as a number (MEXC sends numbers; be lenient with strings).
    pub(crate) fn code(&self) -> i64 {
        integer(&self.code, "code").unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A recorded example body (copied from shared/data/mexc/examples, envelope kept).
    fn example(name: &str) -> Value {
        let path = format!("{}/test_data/mexc/{name}.json", env!("CARGO_MANIFEST_DIR"));
        let file: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        file.get("response").cloned().unwrap_or(file)
    }

    fn btc() -> Pair {
        "BTC/USDT".parse().unwrap()
    }

    #[test]
    fn a_missing_empty_or_zero_price_is_unreadable_never_zero() {
        let book = serde_json::json!({"bidPrice": "93220.1", "askPrice": "93220.2"});
        for last in [serde_json::json!({}), serde_json::json!({"price": ""}), serde_json::json!({"price": "0"})] {
            let err = ticker(&btc(), &book, &last).unwrap_err();
            assert!(matches!(&err, Error::Decode(m) if m.starts_with("price")), "{err}");
        }
        assert!(ticker(&btc(), &book, &serde_json::json!({"price": "93220.15"})).is_ok());
        let trades = serde_json::json!([{"id": "1", "price": "0", "qty": "1", "time": 1}]);
        assert!(public_trades(&trades).is_err());
        let klines = serde_json::json!([[0, "1", "2", "", "1.5", "10"]]);
        assert!(candles(&klines).is_err());
        let fill = |field: &str, value: serde_json::Value| {
            let mut trade = serde_json::json!({"id": "1", "orderId": "o", "isBuyer": true, "price": "100",
                "qty": "0.1", "quoteQty": "10", "commission": "0.0001", "commissionAsset": "BTC", "time": 1});
            trade[field] = value;
            account_trades(&serde_json::json!([trade]), &btc())
        };
        assert!(fill("time", serde_json::json!(1)).is_ok());
        for (field, value) in [("qty", ""), ("quoteQty", ""), ("price", "0"), ("commission", "-1")] {
            assert!(fill(field, serde_json::json!(value)).is_err(), "{field} {value:?} is not read as a number");
        }
        assert!(fill("isBuyer", serde_json::Value::Null).is_err(), "a fill of no side is never a sale");
        let mut filled = example("order_query");
        assert!(order(&filled, &btc()).is_ok());
        filled["executedQty"] = serde_json::json!("");
        assert!(order(&filled, &btc()).is_err(), "an order whose execution is unreadable never ends early");
    }

    #[test]
    fn parses_exchange_info_with_string_precisions() {
        let symbols = symbols(&example("exchangeInfo"), &["BTCUSDT".to_owned()]).unwrap();
        let btc = symbols.iter().find(|s| s.symbol == "BTCUSDT").unwrap();
        assert_eq!((btc.rules.qty_scale, btc.rules.price_scale), (6, 2));
        assert_eq!(btc.rules.min_qty.to_string(), "0.000001");
        assert_eq!(btc.rules.min_notional.to_string(), "1");
        assert!(btc.api_trading_allowed);
        assert_eq!(btc.order_kinds, [OrderKind::Limit, OrderKind::Market, OrderKind::LimitMaker]);
        assert!(!symbols.iter().find(|s| s.symbol == "SOLUSDT").unwrap().api_trading_allowed);
    }

    #[test]
    fn parses_recorded_market_data() {
        let book = order_book(&example("depth_BTCUSDT")).unwrap();
        assert!(!book.bids.is_empty() && !book.asks.is_empty());
        assert!(book.bids[0].price < book.asks[0].price);
        let candles = candles(&example("klines_BTCUSDT_60m")).unwrap();
        assert!(!candles.is_empty());
        assert!(candles[0].low <= candles[0].high);
        let t = ticker(&btc(), &example("bookTicker"), &example("ticker_price")[0]).unwrap();
        assert!(t.bid <= t.ask);
        assert!(!public_trades(&example("trades_doc_example")).unwrap().is_empty());
    }

    #[test]
    fn parses_recorded_account_data() {
        assert!(!balances(&example("account")).unwrap().is_empty());
        let order = order(&example("order_query"), &btc()).unwrap();
        assert!(!order.venue_id.is_empty());
        let cancelled = super::order(&example("order_cancel"), &btc()).unwrap();
        assert_eq!(cancelled.status, VenueOrderStatus::Cancelled);
        let trades = account_trades(&example("myTrades"), &btc()).unwrap();
        assert!(!trades.is_empty() && !trades[0].trade_id.is_empty());
    }
}
