//! The market-data hub: one venue subscription per (account, pair), shared by every bot on it,
//! and one order-book snapshot per pair shared by the paper fills of every dry-run bot on it.
//!
//! Each feed keeps only the latest trade: a bot that is busy for a moment sees the newest
//! price when it looks again rather than a backlog of stale ones. The venue adapter reconnects,
//! resubscribes and backfills missed trades; the hub only fans out.

use std::{
    collections::BTreeMap,
    sync::{Arc, Mutex, PoisonError},
    time::{Duration, Instant},
};

use domain::{
    candle::Candle,
    money::{Price, Qty},
    pair::Pair,
};
use exchange::{
    Exchange,
    types::{MarketEvent, OrderBook},
};
use tokio::sync::{mpsc, watch};
use tokio_util::{sync::CancellationToken, task::TaskTracker};

use super::screen::{Dropped, PriceScreen};
use crate::fresh::Fresh;

/// The latest trade of a pair.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct LastTrade {
    /// Its price.
    pub(crate) price: Price,
    /// Its base quantity (zero for the opening ticker price).
    pub(crate) qty: Qty,
    /// When the hub received it.
    pub(crate) received: Instant,
}

/// What a feed publishes: the latest trade, and the latest closed one-minute candle.
#[derive(Debug, Clone)]
struct Senders {
    trades: watch::Sender<Option<LastTrade>>,
    candles: watch::Sender<Option<Candle>>,
}

/// A bot's view of a feed.
#[derive(Debug)]
pub(crate) struct Subscription {
    /// The latest trade.
    pub(crate) trades: watch::Receiver<Option<LastTrade>>,
    /// The latest closed one-minute candle.
    pub(crate) candles: watch::Receiver<Option<Candle>>,
    /// For a subscription to nothing: the senders, kept so the receivers wait quietly.
    _idle: Option<Senders>,
}

impl Subscription {
    /// A subscription that never delivers anything (the bot's venue account is gone).
    pub(crate) fn idle() -> Self {
        let (trades, trade_receiver) = watch::channel(None);
        let (candles, candle_receiver) = watch::channel(None);
        Self { trades: trade_receiver, candles: candle_receiver, _idle: Some(Senders { trades, candles }) }
    }
}

type Feeds = Arc<Mutex<BTreeMap<(String, Pair), Senders>>>;

/// How long a book snapshot serves paper fills before it is fetched again.
const BOOK_MAX_AGE: Duration = Duration::from_secs(1);
/// Levels a side in a book snapshot.
const BOOK_DEPTH: u32 = 100;

/// Shares market streams and book snapshots among bots.
#[derive(Debug, Clone)]
pub(crate) struct MarketHub {
    feeds: Feeds,
    /// Each (account, pair)'s last book snapshot.
    books: Arc<Fresh<Arc<OrderBook>>>,
    tracker: TaskTracker,
    shutdown: CancellationToken,
    /// Where feeds tell of prices they dropped (the first of each spell), for an alert.
    alerts: mpsc::UnboundedSender<String>,
}

impl MarketHub {
    /// A hub whose feeds run on `tracker` until `shutdown`, telling `alerts` of the prices
    /// they drop.
    pub(crate) fn new(
        tracker: TaskTracker,
        shutdown: CancellationToken,
        alerts: mpsc::UnboundedSender<String>,
    ) -> Self {
        Self { feeds: Arc::default(), books: Arc::new(Fresh::new(BOOK_MAX_AGE)), tracker, shutdown, alerts }
    }

    /// The order book of `pair` on `account`, at most [`BOOK_MAX_AGE`] old: bots ordering at
    /// the same moment share one venue request.
    ///
    /// # Errors
    /// The venue's error when a fresh snapshot is needed and cannot be fetched.
    pub(crate) async fn book(
        &self,
        account: &str,
        venue: &Arc<dyn Exchange>,
        pair: &Pair,
    ) -> Result<Arc<OrderBook>, exchange::Error> {
        let key = format!("{account} {pair}");
        self.books.get(&key, async || Ok(Arc::new(venue.order_book(pair, BOOK_DEPTH).await?))).await
    }

    /// The latest trades and closed candles of `pair` on `account`, starting the feed if no
    /// bot follows it yet.
    pub(crate) fn subscribe(&self, account: &str, venue: &Arc<dyn Exchange>, pair: &Pair) -> Subscription {
        let key = (account.to_owned(), pair.clone());
        let mut feeds = self.feeds.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(senders) = feeds.get(&key) {
            // A bot joining a running feed starts from the latest trade, not the next one.
            let mut trades = senders.trades.subscribe();
            trades.mark_changed();
            return Subscription { trades, candles: senders.candles.subscribe(), _idle: None };
        }
        let (trades, trade_receiver) = watch::channel(None);
        let (candles, candle_receiver) = watch::channel(None);
        let senders = Senders { trades, candles };
        feeds.insert(key.clone(), senders.clone());
        let feed = Feed {
            key,
            venue: Arc::clone(venue),
            senders,
            feeds: Arc::clone(&self.feeds),
            screen: PriceScreen::default(),
            alerts: self.alerts.clone(),
        };
        self.tracker.spawn(feed.run(self.shutdown.clone()));
        Subscription { trades: trade_receiver, candles: candle_receiver, _idle: None }
    }

    /// How many feeds are running (one per followed account and pair).
    pub(crate) fn feed_count(&self) -> usize {
        self.feeds.lock().unwrap_or_else(PoisonError::into_inner).len()
    }
}

/// One pair's subscription.
struct Feed {
    key: (String, Pair),
    venue: Arc<dyn Exchange>,
    senders: Senders,
    feeds: Feeds,
    /// What bots are never shown.
    screen: PriceScreen,
    alerts: mpsc::UnboundedSender<String>,
}

impl Feed {
    /// Shows `price` to the bots unless the screen drops it.
    fn publish(&mut self, price: Price, qty: Qty) {
        match self.screen.check(price, Instant::now()) {
            Ok(()) => {
                self.senders.trades.send_replace(Some(LastTrade { price, qty, received: Instant::now() }));
            }
            Err(dropped) => self.tell(&dropped),
        }
    }

    /// Logs a dropped print; the first of a spell is told for an alert.
    fn tell(&self, dropped: &Dropped) {
        let (account, pair) = &self.key;
        let (reason, count) = (&dropped.reason, self.screen.dropped());
        tracing::warn!(account, %pair, dropped = count, %reason, "market price dropped");
        if dropped.alert {
            let _ = self.alerts.send(format!(
                "market data of {pair} on {account}: a price was dropped ({reason}); bots never see such prices \
                 ({count} dropped so far)"
            ));
        }
    }

    async fn run(mut self, shutdown: CancellationToken) {
        let (account, pair) = self.key.clone();
        tracing::info!(account, %pair, "market feed started");
        // The ticker gives bots a price before the first trade arrives.
        match self.venue.ticker(&pair).await {
            Ok(ticker) => self.publish(ticker.last, Qty::ZERO),
            Err(e) => tracing::warn!(account, %pair, error = %e, "no opening price; waiting for trades"),
        }
        let mut stream = Arc::clone(&self.venue).market_stream(&pair);
        // The candle being formed; it closed when one with a later open time arrives.
        let mut forming: Option<Candle> = None;
        loop {
            tokio::select! {
                () = shutdown.cancelled() => break,
                () = self.senders.trades.closed() => {
                    if self.retire_if_unused() {
                        return;
                    }
                }
                event = stream.recv() => match event {
                    Some(MarketEvent::Trade(trade)) => self.publish(trade.price, trade.qty),
                    Some(MarketEvent::Dropped { reason }) => {
                        let dropped = self.screen.drop(reason, Instant::now());
                        self.tell(&dropped);
                    }
                    Some(MarketEvent::Reconnected { backfilled }) => {
                        tracing::info!(account, %pair, backfilled, "market feed reconnected");
                    }
                    Some(MarketEvent::Candle(update)) => {
                        if let Some(previous) = forming.as_ref().filter(|f| update.open_time > f.open_time) {
                            self.senders.candles.send_replace(Some(*previous));
                        }
                        if forming.as_ref().is_none_or(|f| update.open_time >= f.open_time) {
                            forming = Some(update);
                        }
                    }
                    Some(MarketEvent::BookTop(_)) => {}
                    None => break,
                },
            }
        }
        self.feeds.lock().unwrap_or_else(PoisonError::into_inner).remove(&self.key);
    }

    /// Removes the feed when no bot follows it any more; a bot that subscribed meanwhile (under
    /// the same lock) keeps it alive.
    fn retire_if_unused(&self) -> bool {
        let mut feeds = self.feeds.lock().unwrap_or_else(PoisonError::into_inner);
        if !self.senders.trades.is_closed() {
            return false;
        }
        feeds.remove(&self.key);
        tracing::info!(account = %self.key.0, pair = %self.key.1, "market feed stopped: no bot follows it");
        true
    }
}
