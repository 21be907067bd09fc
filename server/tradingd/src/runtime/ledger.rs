//! One bot's order records, shared by the single-pair and the arbitrage bot tasks: every order
//! is written to the database before it is sent, and every fill and state change the executor
//! reports is stored, logged to the bot's journal and published.

use std::{collections::BTreeMap, sync::Arc};

use domain::{
    alert::AlertKind,
    bot::BotId,
    event::{Event, EventKind},
    money::{Price, Qty, Quote},
    order::{OrderEvent, OrderStatus, OrderType, Side},
    pair::Pair,
    time::Timestamp,
};
use engine::{
    bot::{FillReport, Input},
    intent::{IntentKind, IntentSize, OrderIntent},
    risk::Approved,
};
use rust_decimal::Decimal;
use store::{FillRow, NewOrderRow, OrderUpdateRow};

use super::{
    Inner,
    executor::{Execution, Report},
    journal::{Journal, Sale},
};
use crate::clock;

/// Decimal places of the figures derived by division that are stored: averages, cost bases,
/// realised results, P&L marks (the database reads back at most 18).
pub(crate) const STORED_DP: u32 = 12;

/// The fills so far of one open order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Progress {
    side: Side,
    pub(crate) qty: Qty,
    pub(crate) quote: Quote,
    fees: Decimal,
    fee_asset: Option<String>,
}

impl Progress {
    /// No fill yet.
    pub(crate) const fn new(side: Side) -> Self {
        Self { side, qty: Qty::ZERO, quote: Quote::ZERO, fees: Decimal::ZERO, fee_asset: None }
    }

    /// Adds one fill.
    pub(crate) fn add(&mut self, qty: Qty, quote: Quote, fee: Decimal, fee_asset: &str) {
        self.qty = Qty::new(self.qty.value() + qty.value());
        self.quote = Quote::new(self.quote.value() + quote.value());
        self.fees += fee;
        self.fee_asset = Some(fee_asset.to_owned());
    }

    fn update(&self, status: OrderStatus, venue_id: Option<String>, error: Option<String>) -> OrderUpdateRow {
        let average = (!self.qty.value().is_zero())
            .then(|| Price::new((self.quote.value() / self.qty.value()).round_dp(STORED_DP)));
        OrderUpdateRow {
            status,
            exchange_order_id: venue_id,
            filled_amount: self.qty,
            average_price: average,
            fees: Qty::new(self.fees),
            fee_asset: self.fee_asset.clone(),
            error,
        }
    }
}

fn order_type(intent: &OrderIntent) -> OrderType {
    match (intent.side, intent.kind) {
        (Side::Buy, IntentKind::Market) => OrderType::MarketBuy,
        (Side::Sell, IntentKind::Market) => OrderType::MarketSell,
        (Side::Buy, IntentKind::Limit(_)) => OrderType::LimitBuy,
        (Side::Sell, IntentKind::Limit(_)) => OrderType::LimitSell,
    }
}

/// How a bot books a fill of one of its orders: the account and pair it executed on, what the
/// bot is told, and, for a sale, the average cost of what it sold, per unit, and its realised
/// result (stored to [`STORED_DP`] places).
pub(crate) struct Booking<'a> {
    /// The venue account it executed on.
    pub(crate) account: &'a str,
    /// Its pair.
    pub(crate) pair: &'a Pair,
    /// The fill as the bot books it.
    pub(crate) fill: FillReport,
    /// The sale it makes, if any.
    pub(crate) sale: Option<(Price, Quote)>,
}

/// A bot's orders as the database, its journal and the event bus know them.
pub(crate) struct Ledger {
    inner: Arc<Inner>,
    bot: BotId,
    simulated: bool,
    /// The bot's log files.
    pub(crate) journal: Journal,
    /// Fills so far of every open order.
    progress: BTreeMap<String, Progress>,
    /// A report could not be stored: the task records nothing more and ends, leaving the
    /// bot's orders open in the database for the next start to reconcile.
    pub(crate) broken: bool,
}

impl Ledger {
    /// The ledger of `bot` (dry run when `simulated`), following open orders with `progress`.
    pub(crate) fn new(inner: Arc<Inner>, bot: BotId, simulated: bool, progress: BTreeMap<String, Progress>) -> Self {
        let journal = Journal::new(&inner.logs_dir, bot);
        Self { inner, bot, simulated, journal, progress, broken: false }
    }

    /// The side of an order being followed.
    fn side(&self, client_order_id: &str) -> Option<Side> {
        self.progress.get(client_order_id).map(|p| p.side)
    }

    /// Writes an approved order before it is sent to `account` (`next_seq` is the bot's
    /// sequence after it); when it cannot be written, the refusal to hand the bot instead of
    /// sending it.
    pub(crate) async fn write_ahead(
        &mut self,
        order: &Approved<OrderIntent>,
        (strategy, account): (&str, &str),
        next_seq: u64,
        now: Timestamp,
    ) -> Result<(), Report> {
        let intent = order.get();
        let id = intent.client_order_id.clone();
        let row = NewOrderRow {
            bot: self.bot,
            client_order_id: id.clone(),
            next_seq,
            order_type: order_type(intent),
            exchange: account.to_owned(),
            pair: intent.pair.clone(),
            amount: match intent.size {
                IntentSize::Base(qty) => Some(qty),
                IntentSize::Quote(_) => None,
            },
            price: match intent.kind {
                IntentKind::Limit(price) => Some(price),
                IntentKind::Market => None,
            },
            quote_amount: match intent.size {
                IntentSize::Quote(quote) => Some(quote),
                IntentSize::Base(_) => None,
            },
            strategy: strategy.to_owned(),
            decision: intent.decision.record(),
            simulated: self.simulated,
        };
        if let Err(error) = self.inner.store.insert_order(&row, now).await {
            let message = format!("order {id} not sent: it could not be written first: {error}");
            self.inner.alert(Some(self.bot), AlertKind::BotError, &message).await;
            return Err(Report::refused(&id, OrderEvent::Rejected, message));
        }
        self.progress.insert(id.clone(), Progress::new(intent.side));
        let d = &intent.decision;
        let line = format!(
            "{id} placed: {} {} {:?} {:?} ({}; budget {} -> {})",
            intent.pair, intent.side, intent.kind, intent.size, d.summary, d.budget_before, d.budget_after
        );
        self.journal.audit(now, &line).await;
        self.publish_order(&id).await;
        self.inner.stats.order();
        Ok(())
    }

    /// Stores a report; returns what the bot must be told: nothing once the ledger is broken,
    /// for a fill already stored, or for a fill of an order `book` does not book (none the bot
    /// follows). When the report cannot be stored, the ledger is broken from then on and the
    /// error says why (the bot must then stop: it cannot hear of what its record does not show).
    pub(crate) async fn record<'b>(
        &mut self,
        report: Report,
        book: impl FnOnce(&str, Side, &Execution) -> Option<Booking<'b>>,
    ) -> Result<Option<Input>, String> {
        if self.broken {
            return Ok(None);
        }
        match report {
            Report::Fill { client_order_id: id, execution } => {
                let Some(booking) = self.side(&id).and_then(|side| Some((side, book(&id, side, &execution)?))) else {
                    tracing::warn!(bot = %self.bot, order = %id, "fill of an order the bot does not follow; ignored");
                    return Ok(None);
                };
                let (side, Booking { account, pair, fill, sale }) = booking;
                let recorded = self.record_fill(&id, side, (account, pair), &execution, sale).await?;
                let event = OrderEvent::PartiallyFilled;
                Ok(recorded.then_some(Input::Order { client_order_id: id, event, fill: Some(fill) }))
            }
            Report::Unreadable { client_order_id, error } => {
                self.unreadable(&client_order_id, &error).await;
                Ok(None)
            }
            Report::CancelUnconfirmed { client_order_id, error } => {
                let message = format!(
                    "bot {}: the cancel of order {client_order_id} has not been confirmed for a minute ({error}); \
                     it keeps being sent until the venue shows the order ended",
                    self.bot
                );
                self.journal.audit(clock::now(), &message).await;
                self.inner.alert(Some(self.bot), AlertKind::BotError, &message).await;
                Ok(None)
            }
            Report::Status { client_order_id, event, venue_id, error } => {
                self.record_order_event(&client_order_id, event, venue_id, error).await?;
                Ok(Some(Input::Order { client_order_id, event, fill: None }))
            }
        }
    }

    /// Stores a fill of an order being followed: `Ok(false)` when it was stored before.
    async fn record_fill(
        &mut self,
        id: &str,
        side: Side,
        (account, pair): (&str, &Pair),
        execution: &Execution,
        sale: Option<(Price, Quote)>,
    ) -> Result<bool, String> {
        let row = FillRow {
            bot: self.bot,
            client_order_id: id.to_owned(),
            exchange: account.to_owned(),
            venue_trade_id: execution.trade_id.clone(),
            side,
            pair: pair.clone(),
            price: execution.price,
            qty: execution.qty,
            quote: execution.quote,
            fee: Qty::new(execution.fee),
            fee_asset: execution.fee_asset.clone(),
            cost_basis: sale.map(|(basis, _)| Price::new(basis.value().round_dp(STORED_DP))),
            realized_pnl: sale.map(|(_, gain)| Quote::new(gain.value().round_dp(STORED_DP))),
            at: execution.at,
            simulated: self.simulated,
        };
        match self.inner.store.record_fill(&row).await {
            Ok(true) => {}
            Ok(false) => return Ok(false),
            Err(error) => {
                self.broken = true;
                return Err(format!("fill {} of order {id} could not be stored: {error}", row.venue_trade_id));
            }
        }
        if let Some(p) = self.progress.get_mut(id) {
            p.add(row.qty, row.quote, row.fee.value(), &row.fee_asset);
        }
        let line = format!(
            "{id} fill {}: {} {} {} at {} (fee {} {})",
            row.venue_trade_id, row.side, row.qty, row.pair, row.price, row.fee, row.fee_asset
        );
        self.journal.audit(row.at, &line).await;
        if let (Some(buy_price), Some(gain)) = (row.cost_basis, row.realized_pnl) {
            let sale = Sale {
                at: row.at,
                token: pair.base().to_owned(),
                amount: row.qty,
                buy_price,
                sale_price: row.price,
                gain,
            };
            self.journal.sale(&sale).await;
        }
        self.record_order_event(id, OrderEvent::PartiallyFilled, None, None).await?;
        Ok(true)
    }

    /// Stores an order's new state per the lifecycle table. An event the table refuses leaves
    /// the row as it is; the bot, told the same event, pauses with an alert.
    async fn record_order_event(
        &mut self,
        id: &str,
        event: OrderEvent,
        venue_id: Option<String>,
        error: Option<String>,
    ) -> Result<(), String> {
        let store = &self.inner.store;
        let stored = match store.order(self.bot, self.simulated, id).await {
            Ok(order) => match order.status.transition(event) {
                Ok(next) => {
                    let progress = self.progress.get(id).cloned().unwrap_or_else(|| Progress::new(Side::Buy));
                    let update = progress.update(next, venue_id, error.clone());
                    store
                        .update_order(self.bot, id, self.simulated, &update, clock::now())
                        .await
                        .map(|_| (order.status, next))
                }
                Err(_) => return Ok(()),
            },
            Err(e) => Err(e),
        };
        let (current, next) = stored.map_err(|e| {
            self.broken = true;
            format!("the state of order {id} ({event:?}) could not be stored: {e}")
        })?;
        if !next.is_open() {
            self.progress.remove(id);
        }
        if event != OrderEvent::PartiallyFilled {
            let why = error.map(|e| format!(": {e}")).unwrap_or_default();
            self.journal.audit(clock::now(), &format!("{id} {current} -> {next} ({event:?}){why}")).await;
        }
        self.publish_order(id).await;
        Ok(())
    }

    /// Logs and raises the alert of an order the venue has not told about for a while.
    async fn unreadable(&self, client_order_id: &str, error: &str) {
        let message = format!(
            "bot {}: the venue has not said what became of order {client_order_id} for a minute ({error}); \
             the bot waits for it and keeps asking",
            self.bot
        );
        self.journal.audit(clock::now(), &message).await;
        self.inner.alert(Some(self.bot), AlertKind::BotError, &message).await;
    }

    async fn publish_order(&self, id: &str) {
        if let Ok(order) = self.inner.store.order(self.bot, self.simulated, id).await {
            self.inner.events.publish(Event { at: order.updated_at, kind: EventKind::OrderChanged(Box::new(order)) });
        }
    }
}

#[cfg(test)]
mod tests {
    use rust_decimal_macros::dec;

    use super::*;

    #[test]
    fn an_average_that_does_not_end_is_stored_to_the_stored_precision() {
        let mut progress = Progress::new(Side::Buy);
        progress.add(Qty::new(dec!(0.0003)), Quote::new(dec!(1)), Decimal::ZERO, "BTC");
        let average = progress.update(OrderStatus::Filled, None, None).average_price.unwrap();
        assert_eq!(average, Price::new(dec!(3333.333333333333)));
        assert!(average.to_string().parse::<Price>().is_ok(), "the database reads it back");
    }
}
