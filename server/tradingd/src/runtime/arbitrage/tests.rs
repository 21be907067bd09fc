//! The arbitrage task against a real SQLite file and the local venue over loopback. The venue's
//! three markets follow random walks from prices out of line by a fifth (BTC at 50,000 USDT,
//! ETH at 0.05 BTC but at 3,000 USDT), so buying BTC, buying ETH with it and selling the ETH
//! for USDT returns about 20 % over fees, and every cycle the bot finds goes that way round.
// Test code: a failed unwrap is a failed test with its location.
#![allow(clippy::unwrap_used)]

use domain::{
    bot::{Bot, BotConfigInput, BotId, BotStatus},
    money::{Price, Qty, Quote},
    order::{OrderStatus, OrderType, Side},
    pair::Pair,
    strategy::RawParam,
    time::Timestamp,
};
use engine::{
    bot::Command,
    intent::{Decision, Reason},
};
use mexc_sim::{MarketSource, SimConfig, SimHandle, Simulator};
use rust_decimal::Decimal;
use rust_decimal_macros::dec;
use store::{FillRow, NewOrderRow, ReportFilter, StatusChange, Store};

use crate::{
    bots::Bots,
    clock,
    runtime::tests::{daemon, daemon_on, poll_until, repo},
};

async fn triangle_venue() -> SimHandle {
    triangle_venue_with(|_| {}).await
}

/// The triangle venue, with `change` made to its configuration.
async fn triangle_venue_with(change: impl FnOnce(&mut SimConfig)) -> SimHandle {
    let mut config = SimConfig::demo(&repo().join("server/mexc-sim/data"));
    let symbols = [("BTCUSDT", dec!(50000)), ("ETHBTC", dec!(0.05)), ("ETHUSDT", dec!(3000))];
    config.market = MarketSource::RandomWalk { symbols: symbols.map(|(s, p)| (s.to_owned(), p)).to_vec() };
    change(&mut config);
    Simulator::start(config, tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap()).await
}

/// A triangle bot on ETH/USDT through BTC with 100 USDT, at most 20 a cycle.
async fn create(bots: &Bots, dry_run: bool) -> Bot {
    create_with(bots, BotConfigInput { is_dry_run: Some(dry_run), ..BotConfigInput::default() }).await
}

/// The triangle bot, with `more` settings.
async fn create_with(bots: &Bots, more: BotConfigInput) -> Bot {
    let input = BotConfigInput {
        name: Some("triangle".into()),
        trading_pair: Some("ETH/USDT".into()),
        strategy: Some("arbitrage".into()),
        strategy_params: Some([("max_trade_quote".to_owned(), RawParam::Number("20".into()))].into()),
        budget: Some("100".into()),
        ..more
    };
    bots.create(&input).await.unwrap()
}

/// The bot's orders, oldest first, once at least `count` have filled.
async fn filled(store: &Store, bot: BotId, simulated: bool, count: usize) -> Vec<domain::order::Order> {
    poll_until("the cycles' orders to fill", async || {
        let mut orders = store.orders(bot, simulated, None, 100).await.unwrap();
        orders.reverse();
        (orders.iter().filter(|o| o.status == OrderStatus::Filled).count() >= count).then_some(orders)
    })
    .await
}

fn legs(orders: &[domain::order::Order]) -> Vec<(String, OrderType)> {
    orders.iter().map(|o| (o.pair.to_string(), o.order_type)).collect()
}

/// BTC bought for USDT, ETH bought with the BTC, the ETH sold for USDT.
fn cycle() -> Vec<(String, OrderType)> {
    vec![
        ("BTC/USDT".to_owned(), OrderType::MarketBuy),
        ("ETH/BTC".to_owned(), OrderType::MarketBuy),
        ("ETH/USDT".to_owned(), OrderType::MarketSell),
    ]
}

/// A triangle bot started on the triangle venue, once its first cycle has filled.
struct Running {
    sim: SimHandle,
    dir: tempfile::TempDir,
    store: Store,
    runtime: crate::runtime::Runtime,
    bots: Bots,
    bot: Bot,
    orders: Vec<domain::order::Order>,
}

async fn first_cycle(dry_run: bool) -> Running {
    let sim = triangle_venue().await;
    let dir = tempfile::tempdir().unwrap();
    let (store, runtime, bots) = daemon(dir.path(), Some(&sim)).await;
    let bot = create(&bots, dry_run).await;
    bots.command(bot.id, Command::Start, "test").await.unwrap();
    let orders = filled(&store, bot.id, dry_run, 3).await;
    assert_eq!(legs(&orders[..3]), cycle(), "{orders:?}");
    Running { sim, dir, store, runtime, bots, bot, orders }
}

#[tokio::test]
async fn a_dry_run_triangle_trades_whole_cycles_and_a_restart_rebuilds_its_books() {
    let Running { sim, dir, store, runtime, bot, orders, bots: _ } = first_cycle(true).await;
    assert!(orders[..3].iter().all(|o| o.status == OrderStatus::Filled), "{orders:?}");
    let spend = orders[0].quote_amount.unwrap().value();
    assert!(spend > dec!(19) && spend <= dec!(20), "the first leg spends at most 20 USDT: {spend}");

    // The closing sale realised the cycle's gain; the mark values the wallet against the budget.
    let report = ReportFilter { bot: Some(bot.id), simulated: true, ..ReportFilter::default() };
    let (_, total) = store.pnl_report(&report, store::PnlGrouping::Bot).await.unwrap();
    assert!(total.trades >= 1 && total.realized_pnl.value() > dec!(2), "{total:?}");
    let marked = poll_until("the P&L mark", async || {
        let row = store.bot(bot.id).await.unwrap();
        (row.total_pnl.value() > Decimal::ZERO).then_some(row)
    })
    .await;
    assert!(marked.current_balance.value() > dec!(102), "{marked:?}");
    let fiscal = std::fs::read_to_string(dir.path().join(format!("logs/{}/fiscal.csv", bot.id))).unwrap();
    assert!(fiscal.lines().nth(1).is_some_and(|sale| sale.contains(",ETH,")), "{fiscal}");

    // A restart replays the fills: the bot goes on from the balances they left, uninterrupted.
    runtime.shutdown(false).await;
    let before = store.orders(bot.id, true, None, 100).await.unwrap().len();
    let balance = store.bot(bot.id).await.unwrap().current_balance;
    let (store, runtime, _) = daemon(dir.path(), Some(&sim)).await;
    runtime.resume().await.unwrap();
    let after = filled(&store, bot.id, true, before + 3).await;
    assert_eq!(legs(&after[before..before + 3]), cycle());
    let alerts = store.alerts(Some(bot.id), 10).await.unwrap();
    assert!(alerts.is_empty(), "{alerts:?}");
    // It went on from what it had: its value grows past the value before the restart.
    let row = poll_until("the mark of the cycle after the restart", async || {
        let row = store.bot(bot.id).await.unwrap();
        (row.current_balance > balance).then_some(row)
    })
    .await;
    assert_eq!(row.status, BotStatus::Running);
    runtime.shutdown(false).await;
}

/// The client order id the daemon of `store` gives the `seq`-th order of `bot`.
async fn order_id(store: &Store, bot: BotId, seq: u64) -> String {
    domain::order::client_order_id(&store.order_prefix().await.unwrap(), bot, seq)
}

/// Writes an order of `bot` as the task would have before sending it.
async fn written(store: &Store, bot: BotId, seq: u64, (pair, order_type): (&str, OrderType), size: Decimal) {
    let buy = order_type == OrderType::MarketBuy;
    let row = NewOrderRow {
        bot,
        client_order_id: order_id(store, bot, seq).await,
        next_seq: seq + 1,
        order_type,
        exchange: "sim".into(),
        pair: pair.parse().unwrap(),
        amount: (!buy).then(|| Qty::new(size)),
        price: None,
        quote_amount: buy.then(|| Quote::new(size)),
        strategy: "arbitrage".into(),
        decision: Decision { summary: Reason::Text("leg".into()), ..Decision::default() }.record(),
        simulated: true,
    };
    store.insert_order(&row, clock::now()).await.unwrap();
}

/// Records that a person started `bot` at `at` (while no daemon ran).
async fn started(store: &Store, bot: BotId, at: Timestamp) {
    let start =
        StatusChange { id: bot, from: BotStatus::Created, to: BotStatus::Running, kill: false, reason: "test".into() };
    store.change_status(&[start], at).await.unwrap();
}

/// The state of leg 1 once filled.
fn filled_update() -> store::OrderUpdateRow {
    store::OrderUpdateRow {
        status: OrderStatus::Filled,
        exchange_order_id: None,
        filled_amount: Qty::new(dec!(0.0004)),
        average_price: Some(Price::new(dec!(50000))),
        fees: Qty::new(dec!(0.0000001)),
        fee_asset: Some("BTC".into()),
        error: None,
    }
}

#[tokio::test]
async fn a_restart_that_cut_a_cycle_short_pauses_the_bot_with_what_it_holds() {
    let sim = triangle_venue().await;
    let dir = tempfile::tempdir().unwrap();
    let (store, runtime, bots) = daemon(dir.path(), Some(&sim)).await;
    let bot = create(&bots, true).await;
    runtime.shutdown(false).await;
    // The daemon had started the bot, bought 0.0004 BTC (less its fee) for 20 USDT, and written
    // the second leg, then stopped before sending it.
    started(&store, bot.id, clock::now()).await;
    written(&store, bot.id, 1, ("BTC/USDT", OrderType::MarketBuy), dec!(20)).await;
    let fill = FillRow {
        bot: bot.id,
        client_order_id: order_id(&store, bot.id, 1).await,
        exchange: "sim".into(),
        venue_trade_id: "paper-1".into(),
        side: Side::Buy,
        pair: "BTC/USDT".parse::<Pair>().unwrap(),
        price: Price::new(dec!(50000)),
        qty: Qty::new(dec!(0.0004)),
        quote: Quote::new(dec!(20)),
        fee: Qty::new(dec!(0.0000001)),
        fee_asset: "BTC".into(),
        cost_basis: None,
        realized_pnl: None,
        at: Timestamp::from_millis(clock::now().millis() + 1_000),
        simulated: true,
    };
    store.record_fill(&fill).await.unwrap();
    store.update_order(bot.id, &fill.client_order_id, true, &filled_update(), clock::now()).await.unwrap();
    written(&store, bot.id, 2, ("ETH/BTC", OrderType::MarketBuy), dec!(0.0003999)).await;

    let (store, runtime, _) = daemon(dir.path(), Some(&sim)).await;
    runtime.resume().await.unwrap();
    let alert =
        poll_until("the alert", async || store.alerts(Some(bot.id), 10).await.unwrap().into_iter().next()).await;
    assert!(alert.message.contains("interrupted an arbitrage cycle"), "{alert:?}");
    assert!(alert.message.contains("80 USDT, 0.0003999 BTC, 0 ETH"), "{alert:?}");
    assert_eq!(store.bot(bot.id).await.unwrap().status, BotStatus::Paused);
    // The alert comes first, then what reconciling found is recorded.
    let second = order_id(&store, bot.id, 2).await;
    poll_until("the leg never sent to be settled", async || {
        let order = store.order(bot.id, true, &second).await.unwrap();
        (order.status == OrderStatus::Failed).then_some(())
    })
    .await;
    // Paused, it sends nothing (the prices would make a cycle worth it).
    tokio::time::sleep(std::time::Duration::from_millis(1_500)).await;
    assert_eq!(store.orders(bot.id, true, None, 100).await.unwrap().len(), 2);
    runtime.shutdown(false).await;
}

#[tokio::test]
async fn a_bot_whose_running_time_is_over_is_stopped_before_it_trades() {
    let sim = triangle_venue().await;
    let dir = tempfile::tempdir().unwrap();
    let (store, runtime, bots) = daemon(dir.path(), Some(&sim)).await;
    let more = BotConfigInput { running_time_hours: Some(1), is_dry_run: Some(true), ..BotConfigInput::default() };
    let bot = create_with(&bots, more).await;
    // Started two hours ago, before a restart.
    let two_hours_ago = Timestamp::from_millis(clock::now().millis() - 7_200_000);
    started(&store, bot.id, two_hours_ago).await;
    runtime.resume().await.unwrap();
    let stopped = poll_until("the stop", async || {
        let history = store.status_history(bot.id).await.unwrap();
        history.into_iter().find(|(_, to, _, _)| *to == BotStatus::Stopped)
    })
    .await;
    assert_eq!(stopped.2, "the running time elapsed");
    poll_until("the task to finish", async || runtime.active().is_empty().then_some(())).await;
    assert!(store.orders(bot.id, true, None, 100).await.unwrap().is_empty(), "it traded nothing");
    runtime.shutdown(false).await;
}

#[tokio::test]
async fn a_live_triangle_trades_on_the_venue_and_a_kill_leaves_nothing_open() {
    // The venue and the database's directory live to the end of the test.
    let Running { sim: _sim, dir: _dir, store, runtime, bots, bot, orders } = first_cycle(false).await;
    assert!(orders[..3].iter().all(|o| o.exchange_order_id.is_some()), "placed on the venue: {orders:?}");
    let (_, total) = store
        .pnl_report(&ReportFilter { bot: Some(bot.id), ..ReportFilter::default() }, store::PnlGrouping::Bot)
        .await
        .unwrap();
    assert!(total.realized_pnl.value() > dec!(2), "{total:?}");

    bots.command(bot.id, Command::Kill, "test").await.unwrap();
    poll_until("the task to finish", async || runtime.active().is_empty().then_some(())).await;
    assert_eq!(store.bot(bot.id).await.unwrap().status, BotStatus::Stopped);
    assert!(store.open_orders(bot.id, false).await.unwrap().is_empty());
    let placed = store.orders(bot.id, false, None, 100).await.unwrap().len();
    tokio::time::sleep(std::time::Duration::from_millis(1_500)).await;
    assert_eq!(store.orders(bot.id, false, None, 100).await.unwrap().len(), placed, "killed: nothing more");
    runtime.shutdown(false).await;
}

/// A venue whose only market is ETH/USDT, from `price`.
async fn eth_venue(price: Decimal) -> SimHandle {
    let mut config = SimConfig::demo(&repo().join("server/mexc-sim/data"));
    config.market = MarketSource::RandomWalk { symbols: vec![("ETHUSDT".to_owned(), price)] };
    Simulator::start(config, tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap()).await
}

/// Whose order went where: (account, side).
fn routes(orders: &[domain::order::Order]) -> Vec<(Option<&str>, OrderType)> {
    orders.iter().map(|o| (o.exchange.as_deref(), o.order_type)).collect()
}

#[tokio::test]
async fn across_venues_each_stocks_its_inventory_then_cycles_buy_where_cheap_and_sell_where_dear() {
    // ETH at 3,000 USDT on the bot's venue and 3,100 on the second: about 3 % apart.
    let (cheap, dear) = (eth_venue(dec!(3000)).await, eth_venue(dec!(3100)).await);
    let dir = tempfile::tempdir().unwrap();
    let (store, runtime, bots) = daemon_on(dir.path(), vec![("sim", &cheap), ("backup", &dear)]).await;
    let params = [
        ("mode", RawParam::Text("cross_exchange".into())),
        ("second_exchange", RawParam::Text("backup".into())),
        ("max_trade_quote", RawParam::Number("20".into())),
    ];
    let input = BotConfigInput {
        name: Some("two venues".into()),
        trading_pair: Some("ETH/USDT".into()),
        strategy: Some("arbitrage".into()),
        strategy_params: Some(params.map(|(k, v)| (k.to_owned(), v)).into()),
        budget: Some("1000".into()),
        is_dry_run: Some(false),
        ..BotConfigInput::default()
    };
    let bot = bots.create(&input).await.unwrap();
    bots.command(bot.id, Command::Start, "test").await.unwrap();
    let orders = filled(&store, bot.id, false, 4).await;
    assert_eq!(
        routes(&orders[..4]),
        [
            (Some("sim"), OrderType::MarketBuy),
            (Some("backup"), OrderType::MarketBuy),
            (Some("sim"), OrderType::MarketBuy),
            (Some("backup"), OrderType::MarketSell),
        ]
    );
    assert!(orders[..2].iter().all(|o| o.decision.summary.starts_with("arbitrage inventory")), "{orders:?}");
    let stocked = orders[0].quote_amount.unwrap().value();
    assert!(stocked > dec!(240) && stocked <= dec!(250), "half of the venue's 500 USDT: {stocked}");
    assert!(orders[2].decision.summary.starts_with("arbitrage leg 1 of 2"), "{orders:?}");
    let (_, total) = store
        .pnl_report(&ReportFilter { bot: Some(bot.id), ..ReportFilter::default() }, store::PnlGrouping::Bot)
        .await
        .unwrap();
    // Against the average cost of the ETH held on both venues (half bought at each price).
    assert!(total.trades >= 1 && total.realized_pnl.value() > dec!(0.2), "{total:?}");

    // A restart rebuilds both venues' books from the fills: no second inventory purchase, and
    // every order still goes to its own venue.
    runtime.shutdown(false).await;
    let before = store.orders(bot.id, false, None, 100).await.unwrap().len();
    let (store, runtime, _) = daemon_on(dir.path(), vec![("sim", &cheap), ("backup", &dear)]).await;
    runtime.resume().await.unwrap();
    let after = filled(&store, bot.id, false, before + 2).await;
    let next = routes(&after[before..before + 2]);
    assert_eq!(next, [(Some("sim"), OrderType::MarketBuy), (Some("backup"), OrderType::MarketSell)]);
    assert!(after[before].decision.summary.starts_with("arbitrage leg 1 of 2"), "{after:?}");
    assert!(store.alerts(Some(bot.id), 10).await.unwrap().is_empty());
    runtime.shutdown(false).await;
}

#[tokio::test]
async fn a_leg_a_restart_left_open_on_the_venue_is_taken_over_and_cancelled_by_a_kill_made_meanwhile() {
    // A frozen market whose market orders fill a third and then rest: the first leg stays open.
    let sim = triangle_venue_with(|config| {
        config.speed = 0.0;
        config.faults.partial_fill = true;
    })
    .await;
    let dir = tempfile::tempdir().unwrap();
    let (store, runtime, bots) = daemon(dir.path(), Some(&sim)).await;
    let bot = create(&bots, false).await;
    bots.command(bot.id, Command::Start, "test").await.unwrap();
    let first = order_id(&store, bot.id, 1).await;
    poll_until("the first leg to fill in part", async || {
        let order = store.order(bot.id, false, &first).await.ok()?;
        (order.status == OrderStatus::PartiallyFilled).then_some(())
    })
    .await;
    runtime.shutdown(false).await;

    // While no daemon runs, a person kills the bot (as the bot service records it).
    let kill = StatusChange {
        id: bot.id,
        from: BotStatus::Running,
        to: BotStatus::Stopped,
        kill: true,
        reason: "test".into(),
    };
    store.change_status(&[kill], clock::now()).await.unwrap();
    let (store, runtime, _) = daemon(dir.path(), Some(&sim)).await;
    runtime.resume().await.unwrap();
    let ended = poll_until("the open leg to be cancelled", async || {
        let order = store.order(bot.id, false, &first).await.unwrap();
        (order.status == OrderStatus::Cancelled).then_some(order)
    })
    .await;
    assert!(ended.filled_amount.value() > Decimal::ZERO, "its part fill is kept: {ended:?}");
    assert!(!store.bot_fills(bot.id, false).await.unwrap().is_empty());
    poll_until("the task to finish", async || runtime.active().is_empty().then_some(())).await;
    assert_eq!(store.orders(bot.id, false, None, 100).await.unwrap().len(), 1, "killed: no further leg");
    runtime.shutdown(false).await;
}
