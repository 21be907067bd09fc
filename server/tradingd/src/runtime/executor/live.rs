//! The live executor: the only code that sends orders to a venue.
//!
//! It follows every order it placed (or took over after a restart) by polling the venue for the
//! order and its fills until the order is finished, and reports an order's end only once every
//! fill of it has been reported, so the bot never frees budget that a late fill still uses.

use std::{
    collections::{BTreeMap, BTreeSet},
    sync::Arc,
};

use domain::{
    money::Qty,
    order::{Order, OrderEvent, OrderStatus, Side},
    pair::Pair,
    time::Timestamp,
};
use engine::intent::{IntentKind, IntentSize, OrderIntent};
use exchange::{
    Error, Exchange,
    types::{self, NewOrder, OrderKind, OrderRef, OrderSize, VenueOrder, VenueOrderStatus},
};

use super::{Execution, ReconcileError, Report};

/// How long after its creation "order does not exist" is believed (the venue's lag).
const NOT_FOUND_AFTER_MS: i64 = 10_000;
/// How far before an order's creation its fills are looked for (clocks differ).
const TRADES_MARGIN_MS: i64 = 60_000;
/// How long the venue may fail to say what became of an order before a person is told (the
/// order is still followed; the bot waits for it meanwhile).
const UNREADABLE_ALERT_AFTER_MS: i64 = 60_000;

/// An order being followed.
#[derive(Debug)]
struct Followed {
    /// The venue's id, once known.
    venue_id: Option<String>,
    /// When it was created (ours).
    created_at: Timestamp,
    /// Fills already reported.
    seen: BTreeSet<String>,
    /// Base quantity of the fills reported.
    executed: Qty,
    /// A cancel still has to reach the venue.
    cancel_wanted: bool,
    /// Since when reading it has failed without a break, and whether that was reported.
    unreadable: Option<(Timestamp, bool)>,
}

/// Sends and follows a bot's orders on one venue account.
pub(crate) struct Live {
    venue: Arc<dyn Exchange>,
    pair: Pair,
    following: BTreeMap<String, Followed>,
}

fn new_order(intent: &OrderIntent) -> NewOrder {
    let (kind, price) = match intent.kind {
        IntentKind::Market => (OrderKind::Market, None),
        IntentKind::Limit(price) => (OrderKind::Limit, Some(price)),
    };
    NewOrder {
        pair: intent.pair.clone(),
        side: if intent.side == Side::Buy { types::Side::Buy } else { types::Side::Sell },
        kind,
        price,
        size: match intent.size {
            IntentSize::Quote(quote) => OrderSize::Quote(quote),
            IntentSize::Base(qty) => OrderSize::Base(qty),
        },
        client_order_id: intent.client_order_id.clone(),
    }
}

/// Whether a failed create certainly did not reach the order book.
const fn certainly_not_placed(error: &Error) -> bool {
    matches!(
        error,
        Error::Auth(_)
            | Error::Timestamp(_)
            | Error::InsufficientFunds(_)
            | Error::InvalidOrder(_)
            | Error::RateLimited { .. }
            | Error::Banned { .. }
            | Error::Unreachable(_)
            | Error::SymbolNotTradable { .. }
            | Error::OrderTypeDisabled { .. }
            | Error::Rejected(_)
    )
}

/// The event that ends an order in `status`, if it has ended.
const fn final_event(status: VenueOrderStatus) -> Option<OrderEvent> {
    match status {
        VenueOrderStatus::New | VenueOrderStatus::PartiallyFilled => None,
        VenueOrderStatus::Filled => Some(OrderEvent::Filled),
        VenueOrderStatus::Cancelled | VenueOrderStatus::PartiallyCancelled => Some(OrderEvent::CancelConfirmed),
        VenueOrderStatus::Rejected => Some(OrderEvent::Expired),
    }
}

impl Live {
    /// An executor for `pair` on `venue`.
    pub(crate) fn new(venue: Arc<dyn Exchange>, pair: Pair) -> Self {
        Self { venue, pair, following: BTreeMap::new() }
    }

    /// Whether any order is still followed.
    pub(crate) fn is_following(&self) -> bool {
        !self.following.is_empty()
    }

    fn follow(&mut self, client_order_id: &str, venue_id: Option<String>, created_at: Timestamp) {
        self.following.insert(
            client_order_id.to_owned(),
            Followed {
                venue_id,
                created_at,
                seen: BTreeSet::new(),
                executed: Qty::ZERO,
                cancel_wanted: false,
                unreadable: None,
            },
        );
    }

    /// Sends the order once; a lost answer is reported as an unknown outcome and resolved by
    /// following the order by its client id, never by sending it again.
    pub(crate) async fn place(&mut self, intent: &OrderIntent, now: Timestamp) -> Vec<Report> {
        let id = intent.client_order_id.as_str();
        match self.venue.place_order(&new_order(intent)).await {
            Ok(order) => {
                self.follow(id, Some(order.venue_id.clone()), now);
                let mut reports = vec![Report::Status {
                    client_order_id: id.to_owned(),
                    event: OrderEvent::Accepted,
                    venue_id: Some(order.venue_id),
                    error: None,
                }];
                reports.extend(self.follow_one(id, now).await.unwrap_or_else(|e| {
                    tracing::warn!(order = id, error = %e, "order placed; its state will be polled again");
                    Vec::new()
                }));
                reports
            }
            Err(error) if certainly_not_placed(&error) => {
                tracing::warn!(order = id, %error, "order refused");
                vec![Report::refused(id, OrderEvent::Rejected, error.to_string())]
            }
            Err(error) => {
                tracing::warn!(order = id, %error, "order outcome unknown; resolving it by its client id");
                self.follow(id, None, now);
                vec![Report::refused(id, OrderEvent::OutcomeUnknown, error.to_string())]
            }
        }
    }

    /// Asks the venue to cancel; the order's end is reported once the venue shows it.
    pub(crate) async fn cancel(&mut self, client_order_id: &str, now: Timestamp) -> Vec<Report> {
        let Some(followed) = self.following.get_mut(client_order_id) else { return Vec::new() };
        followed.cancel_wanted = true;
        self.try_cancel(client_order_id).await;
        self.follow_one(client_order_id, now).await.unwrap_or_else(|e| {
            tracing::warn!(order = client_order_id, error = %e, "cancel sent; the order will be polled again");
            Vec::new()
        })
    }

    async fn try_cancel(&mut self, client_order_id: &str) {
        let result =
            self.venue.cancel_order(&self.pair, &OrderRef::Client(client_order_id.to_owned())).await.map(|_| ());
        match result {
            // Not found: already finished (or never placed); following the order tells which.
            Ok(()) | Err(Error::NotFound(_)) => {
                if let Some(followed) = self.following.get_mut(client_order_id) {
                    followed.cancel_wanted = false;
                }
            }
            Err(error) => tracing::warn!(order = client_order_id, %error, "cancel failed; retrying at the next poll"),
        }
    }

    /// Polls every followed order, retrying cancels that have not reached the venue.
    /// Several orders resting (a grid's) are first looked up in one listing of the pair's open
    /// orders: those resting unchanged cost no further request.
    pub(crate) async fn follow_all(&mut self, now: Timestamp) -> Vec<Report> {
        let ids: Vec<String> = self.following.keys().cloned().collect();
        let resting = if ids.len() > 1 { self.resting_unchanged().await } else { BTreeSet::new() };
        let mut reports = Vec::new();
        for id in ids {
            if resting.contains(&id) {
                continue;
            }
            if self.following.get(&id).is_some_and(|f| f.cancel_wanted) {
                self.try_cancel(&id).await;
            }
            match self.follow_one(&id, now).await {
                Ok(more) => {
                    if let Some(followed) = self.following.get_mut(&id) {
                        followed.unreadable = None;
                    }
                    reports.extend(more);
                }
                Err(error) => {
                    tracing::warn!(order = %id, %error, "cannot read the order's state; retrying");
                    let Some(followed) = self.following.get_mut(&id) else { continue };
                    let (since, reported) = followed.unreadable.get_or_insert((now, false));
                    if !*reported && now.millis() - since.millis() >= UNREADABLE_ALERT_AFTER_MS {
                        *reported = true;
                        reports.push(Report::Unreadable { client_order_id: id.clone(), error: error.to_string() });
                    }
                }
            }
        }
        reports
    }

    /// The followed orders the venue lists as open with no fill beyond those reported, no
    /// cancel pending and their acknowledgement known (none when the listing fails: each
    /// order is then read on its own).
    async fn resting_unchanged(&self) -> BTreeSet<String> {
        let open = match self.venue.open_orders(&self.pair).await {
            Ok(open) => open,
            Err(error) => {
                tracing::warn!(%error, "cannot list the open orders; reading each order");
                return BTreeSet::new();
            }
        };
        open.into_iter()
            .filter_map(|order| {
                let id = order.client_order_id?;
                let followed = self.following.get(&id)?;
                let unchanged = followed.venue_id.is_some()
                    && !followed.cancel_wanted
                    && order.executed_qty.value() <= followed.executed.value();
                unchanged.then_some(id)
            })
            .collect()
    }

    /// Reads one order and its fills; reports new fills, then its end once all are in.
    async fn follow_one(&mut self, id: &str, now: Timestamp) -> Result<Vec<Report>, Error> {
        let Some(followed) = self.following.get(id) else { return Ok(Vec::new()) };
        let created_at = followed.created_at;
        let mut reports = Vec::new();
        let order = match self.venue.order(&self.pair, &OrderRef::Client(id.to_owned())).await {
            Ok(order) => order,
            Err(Error::NotFound(_)) if followed.venue_id.is_none() => {
                if now.millis() - created_at.millis() >= NOT_FOUND_AFTER_MS {
                    self.following.remove(id);
                    reports.push(Report::status(id, OrderEvent::NotFound));
                }
                return Ok(reports);
            }
            Err(error) => return Err(error),
        };
        if followed.venue_id.is_none() {
            reports.push(Report::Status {
                client_order_id: id.to_owned(),
                event: OrderEvent::Accepted,
                venue_id: Some(order.venue_id.clone()),
                error: None,
            });
        }
        reports.extend(self.new_fills(id, &order).await?);
        let Some(followed) = self.following.get_mut(id) else { return Ok(reports) };
        followed.venue_id = Some(order.venue_id.clone());
        if let Some(event) = final_event(order.status) {
            if followed.executed >= order.executed_qty {
                self.following.remove(id);
                reports.push(Report::status(id, event));
            } else {
                tracing::info!(order = id, "order finished; waiting for the venue to list all its fills");
            }
        }
        Ok(reports)
    }

    async fn new_fills(&mut self, id: &str, order: &VenueOrder) -> Result<Vec<Report>, Error> {
        let followed = self.following.get(id);
        if order.executed_qty.value() <= followed.map_or(Qty::ZERO, |f| f.executed).value() {
            return Ok(Vec::new());
        }
        // The venue's clock may differ from ours: read from a minute before either says the
        // order began.
        let venue_began = (order.created_at.millis() > 0).then_some(order.created_at);
        let began = match (followed.map(|f| f.created_at), venue_began) {
            (Some(ours), Some(theirs)) => ours.min(theirs),
            (Some(at), None) | (None, Some(at)) => at,
            (None, None) => Timestamp::from_millis(TRADES_MARGIN_MS),
        };
        let since = Timestamp::from_millis((began.millis() - TRADES_MARGIN_MS).max(0));
        let trades = self.venue.order_trades(&self.pair, &order.venue_id, since).await?;
        let Some(followed) = self.following.get_mut(id) else { return Ok(Vec::new()) };
        let mut reports = Vec::new();
        for trade in trades.into_iter().filter(|t| t.order_id == order.venue_id) {
            if !followed.seen.insert(trade.trade_id.clone()) {
                continue;
            }
            followed.executed = Qty::new(followed.executed.value() + trade.qty.value());
            reports.push(Report::Fill {
                client_order_id: id.to_owned(),
                execution: Execution {
                    trade_id: trade.trade_id,
                    price: trade.price,
                    qty: trade.qty,
                    quote: trade.quote_qty,
                    fee: trade.fee.value(),
                    fee_asset: trade.fee_asset,
                    at: trade.time,
                },
            });
        }
        Ok(reports)
    }

    /// Takes over the orders the database lists as open: an order written but never
    /// acknowledged becomes unknown and is resolved by its client id.
    pub(crate) async fn reconcile(&mut self, open: &[Order], now: Timestamp) -> Result<Vec<Report>, ReconcileError> {
        let mut reports = Vec::new();
        for order in open {
            let id = order.client_order_id.as_str();
            if order.status == OrderStatus::Pending {
                reports.push(Report::status(id, OrderEvent::OutcomeUnknown));
            }
            // Every listed fill is reported again; the store keeps one row per trade id, so
            // only the ones missed before the restart reach the bot.
            self.follow(id, order.exchange_order_id.clone(), order.created_at);
            let more = self
                .follow_one(id, now)
                .await
                .map_err(|e| ReconcileError { client_order_id: id.to_owned(), reason: e.to_string() })?;
            reports.extend(more);
        }
        Ok(reports)
    }
}
