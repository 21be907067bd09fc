//! The runtime's own guarantees, against a real SQLite file and (for the hub) the local venue
//! over loopback.
// Test code: a failed unwrap is a failed test with its location.
#![allow(clippy::unwrap_used)]

use std::{
    path::{Path, PathBuf},
    sync::Arc,
    time::Duration,
};

use domain::{
    bot::{BotConfigInput, BotStatus},
    pair::Pair,
};
use exchange::{
    Exchange,
    mexc::{Mexc, MexcConfig},
};
use mexc_sim::{DEMO_API_KEY, DEMO_API_SECRET, SimConfig, SimHandle, Simulator};
use store::{StatusChange, Store};

use super::{Runtime, RuntimeSettings, hub::MarketHub};
use crate::{bots::Bots, clock, config::Config, events::EventBus, notify::Notifier, venues::Venues};

pub(crate) fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

pub(super) async fn poll_until<T>(what: &str, mut check: impl AsyncFnMut() -> Option<T>) -> T {
    for _ in 0..400 {
        if let Some(value) = check().await {
            return value;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("timed out waiting for {what}");
}

/// A venue address nothing answers on, which fails fast: port 1 is privileged, so no test or
/// user process listens there, and loopback refuses the connection at once.
const CLOSED_REST: &str = "http://127.0.0.1:1";
/// The WebSocket twin of [`CLOSED_REST`].
const CLOSED_WS: &str = "ws://127.0.0.1:1/ws";

/// A simulator replaying the bundled data, and the venues of the shipped configuration with
/// its `sim` account pointed at it.
pub(crate) async fn venues_on_a_sim() -> (SimHandle, Venues) {
    let sim = Simulator::start(
        SimConfig::demo(&repo().join("server/mexc-sim/data")),
        tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap(),
    )
    .await;
    let mut config = Config::load(&repo().join("config")).unwrap();
    let account = config.exchanges.accounts.get_mut("sim").unwrap();
    (account.rest_url, account.ws_url) = (sim.rest_url(), sim.ws_url());
    (sim, Venues::new(&config.exchanges).unwrap())
}

/// The bot service and runtime of a daemon whose database and logs are in `dir`, trading on the
/// shipped configuration's venue account, or on `sim` when given (and reading its external data
/// stand-ins every 100 ms). Without `sim` the account points at [`CLOSED_REST`], not the shipped
/// `127.0.0.1:9090`, where a simulator a developer runs (`scripts/start`) would answer.
pub(crate) async fn daemon(dir: &Path, sim: Option<&SimHandle>) -> (Store, Runtime, Bots) {
    daemon_on(dir, sim.map(|sim| vec![("sim", sim)]).unwrap_or_default()).await
}

/// [`daemon`] with venue accounts on simulators: `sim` (the shipped account, the first one's
/// external data read) and any other name, configured like it.
pub(crate) async fn daemon_on(dir: &Path, accounts: Vec<(&str, &SimHandle)>) -> (Store, Runtime, Bots) {
    let store = Store::open(&dir.join("t.db")).await.unwrap();
    let mut config = Config::load(&repo().join("config")).unwrap();
    let sim_account = config.exchanges.accounts.get_mut("sim").unwrap();
    (sim_account.rest_url, sim_account.ws_url) = (CLOSED_REST.to_owned(), CLOSED_WS.to_owned());
    let shipped = sim_account.clone();
    for (name, sim) in &accounts {
        let account = config.exchanges.accounts.entry((*name).to_owned()).or_insert_with(|| shipped.clone());
        (account.rest_url, account.ws_url) = (sim.rest_url(), sim.ws_url());
    }
    let sim = accounts.first().map(|(_, sim)| *sim);
    let venues = Venues::new(&config.exchanges).unwrap();
    let settings = RuntimeSettings {
        logs_dir: dir.join("logs"),
        notifier: Notifier::off(),
        strategy_defaults: config.validation_context().strategy_defaults,
        feeds: sim.map(|sim| external_data(&sim.rest_url())).unwrap_or_default(),
    };
    let runtime = Runtime::new(store.clone(), EventBus::default(), venues, settings);
    let bots = Bots::new(store.clone(), EventBus::default(), config.validation_context(), runtime.clone());
    (store, runtime, bots)
}

/// Both external data stand-ins of the simulator at `base`, read every 100 ms.
fn external_data(base: &str) -> feeds::Settings {
    feeds::Settings {
        poll_every: Duration::from_millis(100),
        sources: vec![
            feeds::Source::FearGreed { base_url: format!("{base}/alternative") },
            feeds::Source::CoinGeckoTrending { base_url: format!("{base}/coingecko/api/v3"), api_key: String::new() },
        ],
    }
}

#[tokio::test]
async fn an_event_filler_enters_on_extreme_fear_exits_on_extreme_greed_and_enters_on_a_trending_listing() {
    // A frozen market: no candle closes, so no spike, only the external data moves the bot.
    let mut config = SimConfig::demo(&repo().join("server/mexc-sim/data"));
    config.speed = 0.0;
    let sim = Simulator::start(config, tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap()).await;
    let dir = tempfile::tempdir().unwrap();
    let (store, runtime, bots) = daemon(dir.path(), Some(&sim)).await;
    let input = BotConfigInput {
        name: Some("events".to_owned()),
        trading_pair: Some("BTC/USDT".to_owned()),
        strategy: Some("event_filler".to_owned()),
        strategy_params: Some([("react_to_feeds".to_owned(), domain::strategy::RawParam::Bool(true))].into()),
        budget: Some("100".to_owned()),
        is_dry_run: Some(true),
        ..BotConfigInput::default()
    };
    let bot = bots.create(&input).await.unwrap();
    bots.command(bot.id, engine::bot::Command::Start, "test").await.unwrap();
    // The first readings a bot sees only set where things stand, and when its task has seen
    // them is not observable: the readings alternate between a calm and a moving one until the
    // bot acts on a change.
    let act_on = async |calm: mexc_sim::External, moving: mexc_sim::External, count: usize| {
        for round in 0..80 {
            sim.set_external(if round % 2 == 0 { calm.clone() } else { moving.clone() });
            tokio::time::sleep(Duration::from_millis(250)).await;
            let mut orders = store.orders(bot.id, true, Some(domain::order::OrderStatus::Filled), 10).await.unwrap();
            if orders.len() >= count {
                orders.reverse();
                return orders;
            }
        }
        panic!("the bot never acted on {moving:?}");
    };
    let external = |fear_greed: u8, trending: &[&str]| mexc_sim::External {
        fear_greed,
        trending: trending.iter().map(|s| (*s).to_owned()).collect(),
    };

    let orders = act_on(external(50, &["SOL"]), external(12, &["SOL"]), 1).await;
    assert_eq!(orders[0].order_type, domain::order::OrderType::MarketBuy);
    assert_eq!(
        orders[0].decision.summary,
        "extreme fear: the Fear & Greed index is at 12 (Extreme Fear; enter at 20 or lower)"
    );

    let orders = act_on(external(50, &["SOL"]), external(85, &["SOL"]), 2).await;
    assert_eq!(orders[1].order_type, domain::order::OrderType::MarketSell);
    assert!(orders[1].decision.summary.starts_with("extreme greed: the Fear & Greed index is at 85"), "{orders:?}");

    let orders = act_on(external(50, &["SOL"]), external(50, &["SOL", "BTC"]), 3).await;
    assert_eq!(orders[2].decision.summary, "trending: BTC entered the trending coins at #2");
    runtime.shutdown(false).await;
}

#[tokio::test]
async fn a_panicking_bot_task_pauses_that_bot_with_an_alert_and_spares_the_others() {
    let dir = tempfile::tempdir().unwrap();
    let (store, runtime, bots) = daemon(dir.path(), None).await;
    let input = |name: &str| BotConfigInput {
        name: Some(name.to_owned()),
        trading_pair: Some("BTC/USDT".to_owned()),
        strategy: Some("dca_accumulator".to_owned()),
        budget: Some("100".to_owned()),
        ..BotConfigInput::default()
    };
    let (faulty, healthy) =
        (bots.create(&input("faulty")).await.unwrap(), bots.create(&input("healthy")).await.unwrap());
    let changes: Vec<StatusChange> = [faulty.id, healthy.id]
        .into_iter()
        .map(|id| StatusChange {
            id,
            from: BotStatus::Created,
            to: BotStatus::Running,
            kill: false,
            reason: "test".into(),
        })
        .collect();
    store.change_status(&changes, clock::now()).await.unwrap();

    let inner = Arc::clone(&runtime.inner);
    for id in [faulty.id, healthy.id] {
        inner.tasks.lock().unwrap().insert(id, tokio::sync::mpsc::unbounded_channel().0);
    }
    inner.supervise(faulty.id, async { panic!("a bug in one bot") });
    inner.supervise(healthy.id, inner.shutdown.clone().cancelled_owned());

    let alert = poll_until("the alert", async || {
        store.alerts(Some(faulty.id), 10).await.unwrap().into_iter().find(|a| a.kind.as_str() == "bot_error")
    })
    .await;
    assert!(alert.message.contains("failed unexpectedly"), "{alert:?}");
    assert_eq!(store.bot(faulty.id).await.unwrap().status, BotStatus::Paused);
    assert_eq!(store.bot(healthy.id).await.unwrap().status, BotStatus::Running);
    assert_eq!(runtime.active(), vec![healthy.id], "the healthy bot keeps its task");
    runtime.shutdown(false).await;
}

async fn venue() -> (SimHandle, Arc<dyn Exchange>) {
    let mut config = SimConfig::demo(&repo().join("server/mexc-sim/data"));
    config.speed = 600.0;
    let sim = Simulator::start(config, tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap()).await;
    let adapter = Mexc::new(&MexcConfig::new(&sim.rest_url(), &sim.ws_url(), DEMO_API_KEY, DEMO_API_SECRET)).unwrap();
    (sim, Arc::new(adapter))
}

#[tokio::test]
async fn bots_on_one_pair_share_one_feed_which_stops_when_the_last_leaves() {
    let (_sim, venue) = venue().await;
    let hub = MarketHub::new(
        tokio_util::task::TaskTracker::new(),
        tokio_util::sync::CancellationToken::new(),
        tokio::sync::mpsc::unbounded_channel().0,
    );
    let btc: Pair = "BTC/USDT".parse().unwrap();
    let mut first = hub.subscribe("sim", &venue, &btc).trades;
    let mut second = hub.subscribe("sim", &venue, &btc).trades;
    let mut eth = hub.subscribe("sim", &venue, &"ETH/USDT".parse().unwrap()).trades;
    assert_eq!(hub.feed_count(), 2, "one feed per pair, however many bots follow it");
    for receiver in [&mut first, &mut second, &mut eth] {
        receiver.changed().await.unwrap();
        assert!(receiver.borrow().is_some_and(|t| t.price.value() > rust_decimal::Decimal::ZERO));
    }
    drop((first, second));
    poll_until("the unused feed to stop", async || (hub.feed_count() == 1).then_some(())).await;
}

#[tokio::test]
async fn zero_prices_from_the_venue_never_reach_a_bot_and_raise_one_alert() {
    let (sim, venue) = venue().await;
    let (alerts, mut alerted) = tokio::sync::mpsc::unbounded_channel();
    let hub = MarketHub::new(tokio_util::task::TaskTracker::new(), tokio_util::sync::CancellationToken::new(), alerts);
    let btc: Pair = "BTC/USDT".parse().unwrap();
    let mut trades = hub.subscribe("sim", &venue, &btc).trades;
    trades.changed().await.unwrap();
    assert!(trades.borrow_and_update().is_some());
    sim.set_faults(mexc_sim::Faults { ws_zero_prices: true, ..mexc_sim::Faults::default() });
    let message = tokio::time::timeout(Duration::from_secs(10), alerted.recv()).await.unwrap().unwrap();
    assert!(message.contains("BTC/USDT") && message.contains("dropped"), "{message}");
    // Many zero prints later, the bots still see the last real price, and one alert was raised.
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(trades.borrow().is_some_and(|t| t.price.value() > rust_decimal::Decimal::ZERO));
    assert!(alerted.try_recv().is_err(), "one alert per spell");
    sim.set_faults(mexc_sim::Faults::default());
    trades.changed().await.unwrap();
    assert!(trades.borrow().unwrap().price.value() > rust_decimal::Decimal::ZERO);
}

#[tokio::test]
async fn closed_candles_are_published_once_the_next_one_opens() {
    let (_sim, venue) = venue().await;
    let hub = MarketHub::new(
        tokio_util::task::TaskTracker::new(),
        tokio_util::sync::CancellationToken::new(),
        tokio::sync::mpsc::unbounded_channel().0,
    );
    // The feed lives while its trades are followed too, as a bot task does.
    let mut market = hub.subscribe("sim", &venue, &"BTC/USDT".parse().unwrap());
    // At 600x a simulated minute passes every 100 ms.
    market.candles.changed().await.unwrap();
    let first = (*market.candles.borrow_and_update()).unwrap();
    market.candles.changed().await.unwrap();
    let second = (*market.candles.borrow_and_update()).unwrap();
    assert!(second.open_time > first.open_time, "{first:?} then {second:?}");
    assert!(first.low <= first.close && first.close <= first.high);
}

#[tokio::test]
async fn paper_fills_at_one_moment_share_one_book_request() {
    let (sim, venue) = venue().await;
    let hub = MarketHub::new(
        tokio_util::task::TaskTracker::new(),
        tokio_util::sync::CancellationToken::new(),
        tokio::sync::mpsc::unbounded_channel().0,
    );
    let btc: Pair = "BTC/USDT".parse().unwrap();
    let before = sim.request_count();
    let first = hub.book("sim", &venue, &btc).await.unwrap();
    let second = hub.book("sim", &venue, &btc).await.unwrap();
    assert_eq!(sim.request_count() - before, 1, "the second bot reads the same snapshot");
    assert!(Arc::ptr_eq(&first, &second) && !first.asks.is_empty());
}

#[tokio::test]
async fn twenty_live_bots_on_one_account_stay_well_within_its_request_budget() {
    use domain::strategy::RawParam;

    // A frozen market: every bot's ladder rests unchanged.
    let mut config = SimConfig::demo(&repo().join("server/mexc-sim/data"));
    config.speed = 0.0;
    let sim = Simulator::start(config.clone(), tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap()).await;
    // The external data stand-ins are read from another simulator: only the venue is counted.
    let feeds = Simulator::start(config, tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap()).await;
    let dir = tempfile::tempdir().unwrap();
    let (store, runtime, bots) = daemon_on(dir.path(), vec![("feeds", &feeds), ("sim", &sim)]).await;
    let number = |value: &str| RawParam::Number(value.to_owned());
    let grid = [
        ("grid_count", number("5")),
        ("range_mode", RawParam::Text("fixed".to_owned())),
        ("range_percent", number("5")),
        ("order_quote_amount", number("10")),
    ];
    let mut ids = Vec::new();
    for n in 0..20 {
        let input = BotConfigInput {
            name: Some(format!("ladder {n}")),
            trading_pair: Some("BTC/USDT".to_owned()),
            strategy: Some("adaptive_grid".to_owned()),
            strategy_params: Some(grid.iter().map(|(k, v)| ((*k).to_owned(), v.clone())).collect()),
            budget: Some("25".to_owned()),
            is_dry_run: Some(false),
            ..BotConfigInput::default()
        };
        let bot = bots.create(&input).await.unwrap();
        bots.command(bot.id, engine::bot::Command::Start, "test").await.unwrap();
        ids.push(bot.id);
    }
    // Every bot lays its two resting buys.
    for id in &ids {
        poll_until("the ladders", async || {
            let open = store.open_orders(*id, false).await.unwrap();
            (open.len() == 2 && open.iter().all(|o| o.status == domain::order::OrderStatus::Open)).then_some(())
        })
        .await;
    }
    // Settled: the venue hears only the account's shared reconciliation.
    tokio::time::sleep(Duration::from_secs(5)).await;
    let before = sim.request_count();
    tokio::time::sleep(Duration::from_secs(10)).await;
    let spent = sim.request_count() - before;
    // The account allows 20 weight a second: 200 in these ten seconds. Polling on their own,
    // these bots spent all their limiter let through (about 70 requests); sharing, the account
    // spends a listing or two (and a late first read of an order on a loaded machine).
    assert!(spent <= 20, "{spent} requests in 10 s for 40 resting orders of 20 bots");
    // A kill still goes out at once and ends every order.
    bots.command(ids[0], engine::bot::Command::Kill, "test").await.unwrap();
    poll_until("the kill's cancels", async || store.open_orders(ids[0], false).await.unwrap().is_empty().then_some(()))
        .await;
    runtime.shutdown(false).await;
}

/// A live executor on `venue` whose account feed is the stream of the simulator's demo account.
fn live_executor(venue: &Arc<dyn Exchange>, pair: &Pair) -> (super::executor::Live, Arc<tokio::sync::Notify>) {
    let accounts = super::account::AccountHub::new(
        tokio_util::task::TaskTracker::new(),
        tokio_util::sync::CancellationToken::new(),
    );
    let wake = Arc::new(tokio::sync::Notify::new());
    let inbox = accounts.join("sim", venue, pair.clone(), Arc::clone(&wake));
    (super::executor::Live::new(Arc::clone(venue), pair.clone(), inbox), wake)
}

fn resting_buy(seq: u64, pair: &Pair, price: rust_decimal::Decimal) -> engine::intent::OrderIntent {
    use engine::intent::{Decision, IntentKind, IntentSize, OrderIntent};
    OrderIntent {
        client_order_id: domain::order::client_order_id("tb", domain::bot::BotId(9), seq),
        pair: pair.clone(),
        side: domain::order::Side::Buy,
        kind: IntentKind::Limit(domain::money::Price::new(price.round_dp(2))),
        size: IntentSize::Base(domain::money::Qty::new(rust_decimal::Decimal::new(1, 3))),
        decision: Decision::default(),
    }
}

#[tokio::test]
async fn resting_orders_cost_no_request_and_the_stream_tells_what_becomes_of_them() {
    use rust_decimal::Decimal;

    let (sim, venue) = venue().await;
    let btc: Pair = "BTC/USDT".parse().unwrap();
    let price = venue.ticker(&btc).await.unwrap().last.value();
    let (mut live, wake) = live_executor(&venue, &btc);
    // Give the account stream a moment to subscribe.
    tokio::time::sleep(Duration::from_millis(500)).await;
    // Four buys far below the market: they rest.
    for (seq, percent) in (1..=4).zip([50, 55, 60, 65]) {
        live.place(&resting_buy(seq, &btc, price * Decimal::new(percent, 2)), clock::now()).await;
    }
    // Each is read once after the push grace, then rests on the feed alone.
    let later = domain::time::Timestamp::from_millis(clock::now().millis() + 5_000);
    assert!(live.poll(later).await.is_empty());
    assert_eq!(live.next_read(later), None, "nothing left to read while they rest");
    let before = sim.request_count();
    assert!(live.poll(later).await.is_empty());
    assert_eq!(sim.request_count(), before, "resting orders cost no request");

    // One is cancelled on the venue behind the bot's back: the stream says so.
    let gone = domain::order::client_order_id("tb", domain::bot::BotId(9), 2);
    venue.cancel_order(&btc, &exchange::types::OrderRef::Client(gone.clone())).await.unwrap();
    tokio::time::timeout(Duration::from_secs(5), wake.notified()).await.expect("the feed rings the bot");
    let before = sim.request_count();
    let reports = live.poll(later).await;
    assert_eq!(sim.request_count(), before, "learnt from the stream, not by asking");
    assert!(
        matches!(&reports[..], [super::executor::Report::Status { client_order_id, event: domain::order::OrderEvent::CancelConfirmed, .. }] if *client_order_id == gone),
        "{reports:?}"
    );
}

#[tokio::test]
async fn a_cancel_the_venue_answers_not_found_is_sent_again_until_the_order_ends() {
    use rust_decimal::Decimal;

    let (sim, venue) = venue().await;
    let btc: Pair = "BTC/USDT".parse().unwrap();
    let price = venue.ticker(&btc).await.unwrap().last.value();
    let (mut live, _wake) = live_executor(&venue, &btc);
    // For a while after its creation the venue does not know the order.
    sim.set_faults(mexc_sim::Faults { order_not_found_lag_ms: 2_000, ..mexc_sim::Faults::default() });
    let intent = resting_buy(1, &btc, price / Decimal::TWO);
    let placed = live.place(&intent, clock::now()).await;
    assert!(
        matches!(&placed[..], [super::executor::Report::Status { event: domain::order::OrderEvent::Accepted, .. }]),
        "{placed:?}"
    );
    // Killed at once: the venue answers "unknown order" (its lag).
    let cancelled = venue.cancel_order(&btc, &exchange::types::OrderRef::Client("tb-9-000001".into())).await;
    assert!(matches!(cancelled, Err(exchange::Error::NotFound(_))), "the lag: {cancelled:?}");
    live.cancel(&intent.client_order_id, clock::now()).await;
    let mut ended = Vec::new();
    poll_until("the cancel to take", async || {
        tokio::time::sleep(Duration::from_millis(200)).await;
        ended.extend(live.poll(clock::now()).await);
        (!live.is_following()).then_some(())
    })
    .await;
    assert!(
        ended.iter().any(|r| matches!(
            r,
            super::executor::Report::Status { event: domain::order::OrderEvent::CancelConfirmed, .. }
        )),
        "{ended:?}"
    );
    let order = venue.order(&btc, &exchange::types::OrderRef::Client(intent.client_order_id.clone())).await.unwrap();
    assert_eq!(order.status, exchange::types::VenueOrderStatus::Cancelled, "nothing rests after the kill");
}

#[tokio::test]
async fn an_order_the_venue_cannot_tell_about_for_a_minute_is_reported_once() {
    use domain::time::Timestamp;
    use rust_decimal::Decimal;

    let (sim, venue) = venue().await;
    let btc: Pair = "BTC/USDT".parse().unwrap();
    let price = venue.ticker(&btc).await.unwrap().last.value();
    let (mut live, _wake) = live_executor(&venue, &btc);
    let intent = resting_buy(1, &btc, price / Decimal::TWO);
    let id = intent.client_order_id.clone();
    let start = clock::now();
    // Every request fails from the create on: its outcome is unknown, and every read fails.
    sim.set_faults(mexc_sim::Faults { error_5xx_rate: 1.0, ..mexc_sim::Faults::default() });
    live.place(&intent, start).await;
    let at = |seconds: i64| Timestamp::from_millis(start.millis() + seconds * 1000);
    assert!(live.poll(at(1)).await.is_empty(), "a failing read is retried quietly at first");
    let reports = live.poll(at(62)).await;
    assert!(
        matches!(&reports[..], [super::executor::Report::Unreadable { client_order_id, .. }] if *client_order_id == id),
        "{reports:?}"
    );
    assert!(live.poll(at(90)).await.is_empty(), "reported once per spell");
    assert!(live.is_following(), "the order is still followed");
    assert!(live.next_read(at(90)).is_some(), "and still read, backing off");
}
