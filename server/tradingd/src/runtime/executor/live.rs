//! The live executor: the only code that sends orders to a venue.
//!
//! It follows every order it placed (or took over after a restart) until the order is finished,
//! from what the account's feed pushes (order updates and fills from the venue's user-data
//! stream, and the feed's shared listings of open orders), reading an order from REST only when
//! something is unresolved: an order whose create went unanswered, a cancel not yet confirmed,
//! an order that left the open listing, or fills missing from an order the venue says ended.
//! Those reads back off (half a second, doubling to eight). It reports an order's end only once
//! every fill of it has been reported, so the bot never frees budget that a late fill still uses.

use std::{
    collections::{BTreeMap, BTreeSet},
    sync::Arc,
    time::Duration,
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
    types::{self, AccountTrade, NewOrder, OrderKind, OrderRef, OrderSize, VenueOrder, VenueOrderStatus},
};

use super::{Execution, ReconcileError, Report};
use crate::runtime::account::{Inbox, Notice};

/// How long after its creation "order does not exist" is believed (the venue's lag).
const NOT_FOUND_AFTER_MS: i64 = 10_000;
/// How far before an order's creation its fills are looked for (clocks differ).
const TRADES_MARGIN_MS: i64 = 60_000;
/// How long the venue may fail to say what became of an order, or to confirm a cancel, before
/// a person is told (the order is still followed, and the cancel still sent).
const ALERT_AFTER_MS: i64 = 60_000;
/// The first REST read of an unresolved order, and the longest wait between two.
const FIRST_READ_MS: i64 = 500;
const LONGEST_READ_MS: i64 = 8_000;
/// How long a freshly sent order, or one the venue says ended with fills missing, waits for
/// the account stream's pushes before REST is asked.
const PUSH_GRACE_MS: i64 = 2_000;

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
    /// The venue's last word: its status and the quantity it says executed.
    venue: Option<(VenueOrderStatus, Qty)>,
    /// A cancel has been asked for and the venue has not shown the order ended yet: it is sent
    /// again at every read until it has.
    cancel_wanted: bool,
    /// When the order is next read from REST (none: the feed's pushes and listings suffice).
    due: Option<Timestamp>,
    /// Reads (or cancels) in a row that did not settle it, for the back-off.
    attempts: u32,
    /// Since when reading it has failed without a break, and whether that was reported.
    unreadable: Option<(Timestamp, bool)>,
    /// Since when a cancel has gone unconfirmed, and whether that was reported.
    uncancelled: Option<(Timestamp, bool)>,
}

impl Followed {
    fn new(venue_id: Option<String>, created_at: Timestamp, due: Option<Timestamp>) -> Self {
        Self {
            venue_id,
            created_at,
            seen: BTreeSet::new(),
            executed: Qty::ZERO,
            venue: None,
            cancel_wanted: false,
            due,
            attempts: 0,
            unreadable: None,
            uncancelled: None,
        }
    }

    /// Reads it again after the back-off of its attempts so far.
    fn back_off(&mut self, now: Timestamp) {
        let wait = FIRST_READ_MS.saturating_mul(1 << self.attempts.min(4)).min(LONGEST_READ_MS);
        self.attempts += 1;
        self.due = Some(later(now, wait));
    }

    /// Whether it is settled enough to rest on pushes alone: acknowledged, no cancel pending,
    /// and the venue's word (if any) says it is still open.
    fn resting(&self) -> bool {
        self.venue_id.is_some()
            && !self.cancel_wanted
            && self.venue.is_none_or(|(status, _)| final_event(status).is_none())
    }
}

fn later(now: Timestamp, ms: i64) -> Timestamp {
    Timestamp::from_millis(now.millis() + ms)
}

/// Sends and follows a bot's orders on one venue account.
pub(crate) struct Live {
    venue: Arc<dyn Exchange>,
    pair: Pair,
    /// What the account's feed pushes and lists for this executor.
    inbox: Inbox,
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
    /// An executor for `pair` on `venue`, hearing of its orders through `inbox`.
    pub(crate) fn new(venue: Arc<dyn Exchange>, pair: Pair, inbox: Inbox) -> Self {
        Self { venue, pair, inbox, following: BTreeMap::new() }
    }

    /// Whether any order is still followed.
    pub(crate) fn is_following(&self) -> bool {
        !self.following.is_empty()
    }

    /// How long until an order is due for a REST read (none while every followed order rests
    /// on the feed's pushes and listings).
    pub(crate) fn next_read(&self, now: Timestamp) -> Option<Duration> {
        let due = self.following.values().filter_map(|f| f.due).min()?;
        Some(Duration::from_millis(u64::try_from(due.millis() - now.millis()).unwrap_or(0)))
    }

    fn follow(&mut self, client_order_id: &str, venue_id: Option<String>, created_at: Timestamp, due: Timestamp) {
        self.inbox.follow(client_order_id);
        if let Some(venue_id) = &venue_id {
            self.inbox.know_venue_id(venue_id);
        }
        self.following.insert(client_order_id.to_owned(), Followed::new(venue_id, created_at, Some(due)));
    }

    fn unfollow(&mut self, client_order_id: &str) {
        if let Some(followed) = self.following.remove(client_order_id) {
            self.inbox.unfollow(client_order_id, followed.venue_id.as_deref());
        }
    }

    /// Sends the order once; a lost answer is reported as an unknown outcome and resolved by
    /// following the order by its client id, never by sending it again.
    pub(crate) async fn place(&mut self, intent: &OrderIntent, now: Timestamp) -> Vec<Report> {
        let id = intent.client_order_id.as_str();
        // Followed before it is sent: the stream may push its fills before the venue answers.
        self.follow(id, None, now, later(now, PUSH_GRACE_MS));
        match self.venue.place_order(&new_order(intent)).await {
            Ok(order) => {
                let mut reports = Vec::new();
                self.acknowledge(id, &order.venue_id, &mut reports);
                reports.extend(self.drain(now));
                reports
            }
            Err(error) if certainly_not_placed(&error) => {
                tracing::warn!(order = id, %error, "order refused");
                self.unfollow(id);
                vec![Report::refused(id, OrderEvent::Rejected, error.to_string())]
            }
            Err(error) => {
                tracing::warn!(order = id, %error, "order outcome unknown; resolving it by its client id");
                if let Some(followed) = self.following.get_mut(id) {
                    followed.due = Some(later(now, FIRST_READ_MS));
                }
                let mut reports = vec![Report::refused(id, OrderEvent::OutcomeUnknown, error.to_string())];
                // Pushes may already have told what became of it.
                reports.extend(self.drain(now));
                reports
            }
        }
    }

    /// Records the venue's id of an order, reporting its acceptance the first time.
    fn acknowledge(&mut self, id: &str, venue_id: &str, reports: &mut Vec<Report>) {
        let Some(followed) = self.following.get_mut(id) else { return };
        if followed.venue_id.is_none() {
            followed.venue_id = Some(venue_id.to_owned());
            self.inbox.know_venue_id(venue_id);
            reports.push(Report::Status {
                client_order_id: id.to_owned(),
                event: OrderEvent::Accepted,
                venue_id: Some(venue_id.to_owned()),
                error: None,
            });
        }
    }

    /// Asks the venue to cancel; the order's end is reported once the venue shows it. The cancel
    /// is sent again at every read until then: a venue that does not know the order yet (its
    /// lag) may list it a moment later.
    pub(crate) async fn cancel(&mut self, client_order_id: &str, now: Timestamp) -> Vec<Report> {
        let Some(followed) = self.following.get_mut(client_order_id) else { return Vec::new() };
        followed.cancel_wanted = true;
        followed.uncancelled.get_or_insert((now, false));
        followed.attempts = 0;
        followed.due = Some(later(now, FIRST_READ_MS));
        let mut reports = self.try_cancel(client_order_id, now).await;
        reports.extend(self.drain(now));
        reports
    }

    async fn try_cancel(&mut self, client_order_id: &str, now: Timestamp) -> Vec<Report> {
        let result =
            self.venue.cancel_order(&self.pair, &OrderRef::Client(client_order_id.to_owned())).await.map(|_| ());
        let Some(followed) = self.following.get_mut(client_order_id) else { return Vec::new() };
        match result {
            Ok(()) => {
                // The venue took the cancel; the next read (or push) shows the order's end.
                followed.cancel_wanted = false;
                followed.uncancelled = None;
                return Vec::new();
            }
            // Not found: already ended, never placed, or not known to the venue yet. A read
            // tells which; until then the cancel stands.
            Err(Error::NotFound(_)) => {}
            Err(error) => tracing::warn!(order = client_order_id, %error, "cancel failed; sending it again"),
        }
        let Some((since, reported)) = followed.uncancelled.as_mut() else { return Vec::new() };
        if !*reported && now.millis() - since.millis() >= ALERT_AFTER_MS {
            *reported = true;
            return vec![Report::CancelUnconfirmed {
                client_order_id: client_order_id.to_owned(),
                error: "the venue has not confirmed the order ended".to_owned(),
            }];
        }
        Vec::new()
    }

    /// Takes in what the account's feed pushed and listed, then reads from REST the orders due.
    pub(crate) async fn poll(&mut self, now: Timestamp) -> Vec<Report> {
        let mut reports = self.drain(now);
        let due: Vec<String> =
            self.following.iter().filter(|(_, f)| f.due.is_some_and(|d| d <= now)).map(|(id, _)| id.clone()).collect();
        for id in due {
            if self.following.get(&id).is_some_and(|f| f.cancel_wanted) {
                reports.extend(self.try_cancel(&id, now).await);
            }
            match self.follow_one(&id, now).await {
                Ok(more) => {
                    if let Some(followed) = self.following.get_mut(&id) {
                        followed.unreadable = None;
                        if followed.resting() {
                            followed.due = None;
                            followed.attempts = 0;
                        } else {
                            followed.back_off(now);
                        }
                    }
                    reports.extend(more);
                }
                Err(error) => {
                    tracing::warn!(order = %id, %error, "cannot read the order's state; retrying");
                    let Some(followed) = self.following.get_mut(&id) else { continue };
                    followed.back_off(now);
                    let (since, reported) = followed.unreadable.get_or_insert((now, false));
                    if !*reported && now.millis() - since.millis() >= ALERT_AFTER_MS {
                        *reported = true;
                        reports.push(Report::Unreadable { client_order_id: id.clone(), error: error.to_string() });
                    }
                }
            }
        }
        reports
    }

    /// Books what the feed pushed and listed: fills and order states, then the end of every
    /// order whose fills are all in.
    fn drain(&mut self, now: Timestamp) -> Vec<Report> {
        let mut reports = Vec::new();
        for notice in self.inbox.drain() {
            match notice {
                Notice::Fill(trade) => {
                    let Some(id) = self.owner(trade.client_order_id.as_deref(), &trade.order_id) else { continue };
                    let venue_id = trade.order_id.clone();
                    self.acknowledge(&id, &venue_id, &mut reports);
                    reports.extend(self.book_fills(&id, vec![trade]));
                }
                Notice::Order(update) => {
                    let Some(id) = self.owner(update.client_order_id.as_deref(), &update.venue_id) else { continue };
                    self.acknowledge(&id, &update.venue_id, &mut reports);
                    if let Some(followed) = self.following.get_mut(&id) {
                        followed.venue = Some((update.status, update.executed_qty));
                    }
                }
                Notice::Listing(open) => self.compare(&open, now),
            }
        }
        let ended: Vec<String> = self.following.keys().cloned().collect();
        for id in ended {
            reports.extend(self.settle(&id, now));
        }
        reports
    }

    /// The followed order an event names.
    fn owner(&self, client_order_id: Option<&str>, venue_id: &str) -> Option<String> {
        if let Some(id) = client_order_id.filter(|id| self.following.contains_key(*id)) {
            return Some(id.to_owned());
        }
        self.following.iter().find(|(_, f)| f.venue_id.as_deref() == Some(venue_id)).map(|(id, _)| id.clone())
    }

    /// Marks for a read every acknowledged order the listing of open orders does not show as
    /// resting unchanged: it ended, or filled beyond what was reported.
    fn compare(&mut self, open: &[VenueOrder], now: Timestamp) {
        for (id, followed) in &mut self.following {
            if followed.venue_id.is_none() {
                continue;
            }
            let listed = open.iter().find(|o| o.client_order_id.as_deref() == Some(id.as_str()));
            let unchanged = listed.is_some_and(|o| o.executed_qty.value() <= followed.executed.value());
            if !unchanged && followed.due.is_none_or(|d| d > now) {
                followed.due = Some(now);
            }
        }
    }

    /// Reports the end of an order the venue says ended once all its fills are in; an order
    /// ended with fills missing waits for their pushes, then is read.
    fn settle(&mut self, id: &str, now: Timestamp) -> Option<Report> {
        let followed = self.following.get_mut(id)?;
        let (status, executed) = followed.venue?;
        let event = final_event(status)?;
        if followed.executed >= executed {
            self.unfollow(id);
            return Some(Report::status(id, event));
        }
        if followed.due.is_none() {
            followed.due = Some(later(now, PUSH_GRACE_MS));
        }
        None
    }

    /// Reads one order and its fills; reports its acceptance, new fills, then its end once all
    /// are in.
    async fn follow_one(&mut self, id: &str, now: Timestamp) -> Result<Vec<Report>, Error> {
        let Some(followed) = self.following.get(id) else { return Ok(Vec::new()) };
        let created_at = followed.created_at;
        let mut reports = Vec::new();
        let order = match self.venue.order(&self.pair, &OrderRef::Client(id.to_owned())).await {
            Ok(order) => order,
            Err(Error::NotFound(_)) if followed.venue_id.is_none() => {
                if now.millis() - created_at.millis() >= NOT_FOUND_AFTER_MS {
                    self.unfollow(id);
                    reports.push(Report::status(id, OrderEvent::NotFound));
                }
                return Ok(reports);
            }
            Err(error) => return Err(error),
        };
        self.acknowledge(id, &order.venue_id, &mut reports);
        if let Some(followed) = self.following.get_mut(id) {
            followed.venue = Some((order.status, order.executed_qty));
        }
        reports.extend(self.new_fills(id, &order).await?);
        if let Some(end) = self.settle(id, now) {
            reports.push(end);
        } else if final_event(order.status).is_some() {
            tracing::info!(order = id, "order finished; waiting for the venue to list all its fills");
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
        let trades = trades.into_iter().filter(|t| t.order_id == order.venue_id).collect();
        Ok(self.book_fills(id, trades))
    }

    /// Reports the fills of order `id` not reported before (pushed and listed fills overlap).
    fn book_fills(&mut self, id: &str, trades: Vec<AccountTrade>) -> Vec<Report> {
        let Some(followed) = self.following.get_mut(id) else { return Vec::new() };
        let mut reports = Vec::new();
        for trade in trades {
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
        reports
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
            self.follow(id, order.exchange_order_id.clone(), order.created_at, now);
            let more = self
                .follow_one(id, now)
                .await
                .map_err(|e| ReconcileError { client_order_id: id.to_owned(), reason: e.to_string() })?;
            if let Some(followed) = self.following.get_mut(id) {
                followed.due = (!followed.resting()).then(|| later(now, FIRST_READ_MS));
            }
            reports.extend(more);
        }
        Ok(reports)
    }
}
