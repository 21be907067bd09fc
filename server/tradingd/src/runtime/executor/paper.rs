//! The paper executor: dry-run orders filled by the paper-fill model on the venue's real
//! market data. Market orders walk the current order book; limit orders rest until the market
//! trades through their price. Fees come from the venue's symbol info.

use std::{collections::BTreeMap, sync::Arc};

use domain::{
    money::{Price, Qty},
    order::{Order, OrderEvent, OrderStatus, OrderType, Side},
    time::Timestamp,
};
use engine::{
    intent::{IntentKind, IntentSize, OrderIntent},
    paper::{self, BookLevel, PaperFill},
};
use exchange::{Exchange, types::SymbolInfo};

use super::{Execution, Report};
use crate::runtime::{
    hub::{LastTrade, MarketHub},
    ledger::Progress,
};

/// A limit order waiting for the market.
#[derive(Debug)]
struct Resting {
    side: Side,
    limit: Price,
    remaining: Qty,
    /// Base quantity filled so far: names the next fill uniquely, across restarts too.
    filled: Qty,
}

/// Where a paper executor reads order books: the hub's shared snapshots of one account.
pub(crate) struct BookSource {
    /// The hub.
    pub(crate) hub: MarketHub,
    /// The venue account's name.
    pub(crate) account: String,
    /// Its adapter.
    pub(crate) venue: Arc<dyn Exchange>,
}

/// Fills a dry-run bot's orders.
pub(crate) struct Paper {
    books: BookSource,
    symbol: SymbolInfo,
    resting: BTreeMap<String, Resting>,
}

impl Paper {
    /// A paper executor for the pair described by `symbol`, reading books from `books`.
    pub(crate) fn new(books: BookSource, symbol: SymbolInfo) -> Self {
        Self { books, symbol, resting: BTreeMap::new() }
    }

    fn execution(&self, id: &str, filled_before: Qty, side: Side, fill: &PaperFill, now: Timestamp) -> Report {
        let pair = &self.symbol.rules.pair;
        // The fee is charged in what the order receives: base for a buy, quote for a sell.
        let fee_asset = if side == Side::Buy { pair.base() } else { pair.quote() };
        Report::Fill {
            client_order_id: id.to_owned(),
            execution: Execution {
                trade_id: format!("paper-{id}-{filled_before}"),
                price: fill.average_price().unwrap_or(Price::ZERO),
                qty: fill.qty,
                quote: fill.quote,
                fee: fill.fee,
                fee_asset: fee_asset.to_owned(),
                at: now,
            },
        }
    }

    /// Fills a market order against the current book, or rests a limit order.
    pub(crate) async fn place(&mut self, intent: &OrderIntent, now: Timestamp) -> Vec<Report> {
        let id = intent.client_order_id.as_str();
        let rules = &self.symbol.rules;
        match (intent.kind, intent.size) {
            (IntentKind::Limit(limit), IntentSize::Base(qty)) => {
                self.resting
                    .insert(id.to_owned(), Resting { side: intent.side, limit, remaining: qty, filled: Qty::ZERO });
                vec![Report::status(id, OrderEvent::Accepted)]
            }
            (IntentKind::Limit(_), IntentSize::Quote(_)) => {
                vec![Report::refused(id, OrderEvent::Rejected, "a limit order is sized in base quantity".to_owned())]
            }
            (IntentKind::Market, size) => {
                let source = &self.books;
                let book = match source.hub.book(&source.account, &source.venue, &rules.pair).await {
                    Ok(book) => book,
                    Err(error) => {
                        return vec![Report::refused(id, OrderEvent::Rejected, format!("no order book: {error}"))];
                    }
                };
                let levels =
                    |side: &[exchange::types::Level]| side.iter().map(|l| (l.price, l.qty)).collect::<Vec<BookLevel>>();
                let fill = match size {
                    IntentSize::Quote(quote) => {
                        paper::market_buy(&levels(&book.asks), quote, self.symbol.taker_fee, rules)
                    }
                    IntentSize::Base(qty) if intent.side == Side::Sell => {
                        paper::market_sell(&levels(&book.bids), qty, self.symbol.taker_fee, rules)
                    }
                    IntentSize::Base(_) => None,
                };
                match fill {
                    Some(fill) => vec![
                        self.execution(id, Qty::ZERO, intent.side, &fill, now),
                        Report::status(id, OrderEvent::Filled),
                    ],
                    None => vec![Report::refused(id, OrderEvent::Rejected, "the book cannot fill it".to_owned())],
                }
            }
        }
    }

    /// Cancels a resting order.
    pub(crate) fn cancel(&mut self, client_order_id: &str) -> Vec<Report> {
        match self.resting.remove(client_order_id) {
            Some(_) => vec![Report::status(client_order_id, OrderEvent::CancelConfirmed)],
            None => Vec::new(),
        }
    }

    /// Fills resting orders the latest trade went through.
    pub(crate) fn on_trade(&mut self, trade: LastTrade, now: Timestamp) -> Vec<Report> {
        let mut reports = Vec::new();
        let mut done = Vec::new();
        let ids: Vec<String> = self.resting.keys().cloned().collect();
        for id in ids {
            let Some(order) = self.resting.get_mut(&id) else { continue };
            let buying = order.side == Side::Buy;
            let Some(fill) =
                paper::limit_fill(buying, order.limit, order.remaining, trade.price, trade.qty, self.symbol.maker_fee)
            else {
                continue;
            };
            let filled_before = order.filled;
            order.remaining = Qty::new(order.remaining.value() - fill.qty.value());
            order.filled = Qty::new(order.filled.value() + fill.qty.value());
            let (side, finished) = (order.side, order.remaining.value().is_zero());
            reports.push(self.execution(&id, filled_before, side, &fill, now));
            if finished {
                done.push(id.clone());
                reports.push(Report::status(&id, OrderEvent::Filled));
            }
        }
        for id in done {
            self.resting.remove(&id);
        }
        reports
    }

    /// After a restart: limit orders rest again with what their stored fills left; a market
    /// order whose paper fill was stored is filled, one that never filled (the daemon stopped
    /// in between) failed.
    pub(crate) fn reconcile(&mut self, open: &[Order], progress: &BTreeMap<String, Progress>) -> Vec<Report> {
        let mut reports = Vec::new();
        for order in open {
            let id = order.client_order_id.as_str();
            let filled = progress.get(id).map_or(Qty::ZERO, |p| p.qty);
            let side = if matches!(order.order_type, OrderType::LimitBuy | OrderType::MarketBuy) {
                Side::Buy
            } else {
                Side::Sell
            };
            match (order.order_type, order.price, order.amount) {
                (OrderType::LimitBuy | OrderType::LimitSell, Some(limit), Some(amount)) => {
                    let remaining = Qty::new(amount.value() - filled.value());
                    self.resting.insert(id.to_owned(), Resting { side, limit, remaining, filled });
                    if order.status == OrderStatus::Pending {
                        reports.push(Report::status(id, OrderEvent::Accepted));
                    }
                }
                _ if filled.value() > rust_decimal::Decimal::ZERO => {
                    reports.push(Report::status(id, OrderEvent::Filled));
                }
                _ => reports.push(Report::refused(
                    id,
                    OrderEvent::Rejected,
                    "the daemon stopped before the simulated fill".to_owned(),
                )),
            }
        }
        reports
    }
}
