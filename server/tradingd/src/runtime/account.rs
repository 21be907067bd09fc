//! Own orders and fills: one private user-data stream per venue account, fanned out to the live
//! executors of that account's bots, and one shared, slow REST reconciliation per account as
//! the safety net.
//!
//! Bots never poll the venue for orders that rest unchanged: the stream tells them of every
//! order update and fill, and every [`RECONCILE_EVERY`] (and at once after the stream
//! reconnected) the feed lists the open orders of each pair that has orders followed, one
//! request per pair however many bots trade it, and hands the listing to those bots, which read
//! only the orders the listing says changed. So the account's request budget does not grow
//! with the number of bots, and cancels keep their share of it.
//!
//! Events are routed by client order id (and by venue order id once known); an event for an
//! order no executor follows (the owner's own manual trading, say) is ignored.

use std::{
    collections::{BTreeMap, BTreeSet},
    sync::{Arc, Mutex, PoisonError},
    time::Duration,
};

use domain::pair::Pair;
use exchange::{
    Exchange,
    types::{AccountEvent, AccountTrade, OrderUpdate, VenueOrder},
};
use tokio::sync::{Notify, mpsc};
use tokio_util::{sync::CancellationToken, task::TaskTracker};

/// How often each pair with followed orders is listed from REST.
pub(crate) const RECONCILE_EVERY: Duration = Duration::from_secs(10);

/// What an executor learns from its account's feed.
#[derive(Debug, Clone)]
pub(crate) enum Notice {
    /// One of its orders changed (pushed).
    Order(OrderUpdate),
    /// One of its orders filled (pushed).
    Fill(AccountTrade),
    /// The open orders of its pair, as REST listed them just now.
    Listing(Arc<Vec<VenueOrder>>),
}

/// One executor's place in its account's routes.
struct Member {
    pair: Pair,
    notices: mpsc::UnboundedSender<Notice>,
    /// Rung when a notice is queued, so the bot's task reads its inbox.
    wake: Arc<Notify>,
    /// Orders it follows, by client id.
    followed: BTreeSet<String>,
}

/// Which executor follows which order.
#[derive(Default)]
struct Routes {
    members: BTreeMap<u64, Member>,
    by_client: BTreeMap<String, u64>,
    by_venue: BTreeMap<String, u64>,
    next: u64,
}

impl Routes {
    fn deliver(&self, member: u64, notice: Notice) {
        if let Some(member) = self.members.get(&member)
            && member.notices.send(notice).is_ok()
        {
            member.wake.notify_one();
        }
    }

    fn owner(&self, client_order_id: Option<&str>, venue_id: &str) -> Option<u64> {
        client_order_id.and_then(|id| self.by_client.get(id)).or_else(|| self.by_venue.get(venue_id)).copied()
    }

    /// Routes a pushed event to the executor following its order.
    fn route(&self, event: AccountEvent) {
        match event {
            AccountEvent::Order(update) => {
                if let Some(member) = self.owner(update.client_order_id.as_deref(), &update.venue_id) {
                    self.deliver(member, Notice::Order(update));
                }
            }
            AccountEvent::Fill(trade) => {
                if let Some(member) = self.owner(trade.client_order_id.as_deref(), &trade.order_id) {
                    self.deliver(member, Notice::Fill(trade));
                }
            }
            AccountEvent::Balance(_) | AccountEvent::Reconnected => {}
        }
    }

    /// The pairs with orders followed.
    fn pairs(&self) -> BTreeSet<Pair> {
        self.members.values().filter(|m| !m.followed.is_empty()).map(|m| m.pair.clone()).collect()
    }
}

/// One account's stream and reconciliation.
struct AccountFeed {
    name: String,
    venue: Arc<dyn Exchange>,
    routes: Mutex<Routes>,
}

impl AccountFeed {
    fn routes(&self) -> std::sync::MutexGuard<'_, Routes> {
        self.routes.lock().unwrap_or_else(PoisonError::into_inner)
    }

    async fn run(self: Arc<Self>, shutdown: CancellationToken) {
        let mut stream = match Arc::clone(&self.venue).account_stream() {
            Ok(stream) => Some(stream),
            Err(error) => {
                tracing::warn!(account = %self.name, %error, "no account stream; orders are followed by REST alone");
                None
            }
        };
        let mut every = tokio::time::interval(RECONCILE_EVERY);
        every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                () = shutdown.cancelled() => return,
                event = async { stream.as_mut()?.recv().await }, if stream.is_some() => match event {
                    Some(AccountEvent::Reconnected) => {
                        tracing::info!(account = %self.name, "account stream reconnected; reconciling from REST");
                        self.reconcile().await;
                    }
                    Some(event) => self.routes().route(event),
                    None => {
                        tracing::warn!(account = %self.name, "account stream ended; orders are followed by REST alone");
                        stream = None;
                    }
                },
                _ = every.tick() => self.reconcile().await,
            }
        }
    }

    /// Lists the open orders of every pair with orders followed and hands each listing to the
    /// executors on that pair.
    async fn reconcile(&self) {
        let pairs = self.routes().pairs();
        for pair in pairs {
            match self.venue.open_orders(&pair).await {
                Ok(open) => {
                    let open = Arc::new(open);
                    let routes = self.routes();
                    for (key, member) in &routes.members {
                        if member.pair == pair && !member.followed.is_empty() {
                            routes.deliver(*key, Notice::Listing(Arc::clone(&open)));
                        }
                    }
                }
                Err(error) => tracing::warn!(account = %self.name, %pair, %error, "cannot list the open orders"),
            }
        }
    }
}

/// The account feeds, one per venue account with live orders.
#[derive(Clone)]
pub(crate) struct AccountHub {
    feeds: Arc<Mutex<BTreeMap<String, Arc<AccountFeed>>>>,
    tracker: TaskTracker,
    shutdown: CancellationToken,
}

impl AccountHub {
    /// A hub whose feeds run on `tracker` until `shutdown`.
    pub(crate) fn new(tracker: TaskTracker, shutdown: CancellationToken) -> Self {
        Self { feeds: Arc::default(), tracker, shutdown }
    }

    /// An inbox for one live executor trading `pair` on `account`; `wake` rings whenever a
    /// notice is queued in it. The account's feed starts with its first inbox.
    pub(crate) fn join(&self, account: &str, venue: &Arc<dyn Exchange>, pair: Pair, wake: Arc<Notify>) -> Inbox {
        let feed = {
            let mut feeds = self.feeds.lock().unwrap_or_else(PoisonError::into_inner);
            Arc::clone(feeds.entry(account.to_owned()).or_insert_with(|| {
                let feed = Arc::new(AccountFeed {
                    name: account.to_owned(),
                    venue: Arc::clone(venue),
                    routes: Mutex::default(),
                });
                self.tracker.spawn(Arc::clone(&feed).run(self.shutdown.clone()));
                feed
            }))
        };
        let (sender, notices) = mpsc::unbounded_channel();
        let key = {
            let mut routes = feed.routes();
            routes.next += 1;
            let key = routes.next;
            routes.members.insert(key, Member { pair, notices: sender, wake, followed: BTreeSet::new() });
            key
        };
        Inbox { feed, key, notices }
    }
}

/// What one live executor hears from its account's feed.
pub(crate) struct Inbox {
    feed: Arc<AccountFeed>,
    key: u64,
    notices: mpsc::UnboundedReceiver<Notice>,
}

impl Inbox {
    /// Routes the order's events here from now on (before it is sent: its first pushes may
    /// come before the venue's answer).
    pub(crate) fn follow(&self, client_order_id: &str) {
        let mut routes = self.feed.routes();
        routes.by_client.insert(client_order_id.to_owned(), self.key);
        if let Some(member) = routes.members.get_mut(&self.key) {
            member.followed.insert(client_order_id.to_owned());
        }
    }

    /// Routes events naming the order only by the venue's id here too.
    pub(crate) fn know_venue_id(&self, venue_id: &str) {
        self.feed.routes().by_venue.insert(venue_id.to_owned(), self.key);
    }

    /// Stops routing the order's events here (it ended).
    pub(crate) fn unfollow(&self, client_order_id: &str, venue_id: Option<&str>) {
        let mut routes = self.feed.routes();
        routes.by_client.remove(client_order_id);
        if let Some(venue_id) = venue_id {
            routes.by_venue.remove(venue_id);
        }
        if let Some(member) = routes.members.get_mut(&self.key) {
            member.followed.remove(client_order_id);
        }
    }

    /// Every notice queued since the last call, oldest first.
    pub(crate) fn drain(&mut self) -> Vec<Notice> {
        let mut notices = Vec::new();
        while let Ok(notice) = self.notices.try_recv() {
            notices.push(notice);
        }
        notices
    }
}

impl Drop for Inbox {
    fn drop(&mut self) {
        let mut routes = self.feed.routes();
        if let Some(member) = routes.members.remove(&self.key) {
            for id in &member.followed {
                routes.by_client.remove(id);
            }
        }
        let key = self.key;
        routes.by_venue.retain(|_, owner| *owner != key);
    }
}
