//! Bots trading end to end: the daemon's runtime against `mexc-sim` over loopback, with the
//! replayed real market data. Dry run and live, lifecycle commands, kill switches, restarts
//! and crashes, and a venue that is gone at start.

use std::time::Duration;

use rust_decimal::Decimal;
use tonic::transport::Channel;
use tradingbot_proto::v1::{
    self as pb, alert_service_client::AlertServiceClient, bot_service_client::BotServiceClient,
    event_service_client::EventServiceClient,
};

use crate::helpers::{ANY_PORT, DEMO_SECRET, Daemon, Sim, eventually};

/// How long a bot may take to act on something (placing, cancelling, reconciling).
const PATIENCE: Duration = Duration::from_secs(30);

/// A DCA bot (buys 10 USDT every hour from a 100 USDT budget) on `pair`.
async fn dca_bot(daemon: &Daemon, name: &str, pair: &str, dry_run: bool) -> pb::Bot {
    let config = pb::BotConfig {
        name: Some(name.to_owned()),
        trading_pair: Some(pair.to_owned()),
        strategy: Some("dca_accumulator".to_owned()),
        budget: Some("100".to_owned()),
        is_dry_run: Some(dry_run),
        ..pb::BotConfig::default()
    };
    daemon.bots().await.create_bot(pb::CreateBotRequest { config: Some(config) }).await.unwrap().into_inner()
}

async fn orders(bots: &mut BotServiceClient<Channel>, bot: i64, simulated: bool) -> Vec<pb::Order> {
    let request = pb::ListOrdersRequest { bot_id: bot, simulated: Some(simulated), ..pb::ListOrdersRequest::default() };
    bots.list_orders(request).await.unwrap().into_inner().orders
}

/// Waits until the bot has an order in `status`, and returns the bot's orders.
async fn until_order(daemon: &Daemon, bot: i64, simulated: bool, status: pb::OrderStatus) -> Vec<pb::Order> {
    let bots = daemon.bots().await;
    eventually(&format!("an order of bot {bot} {status:?}"), PATIENCE, || {
        let mut bots = bots.clone();
        async move {
            let all = orders(&mut bots, bot, simulated).await;
            all.iter().any(|o| o.status() == status).then_some(all)
        }
    })
    .await
}

async fn position(bots: &BotServiceClient<Channel>, bot: i64) -> Option<pb::Position> {
    let listed = bots.clone().list_positions(pb::ListPositionsRequest { bot_id: bot }).await.ok()?.into_inner();
    listed.positions.into_iter().next()
}

async fn alerts(daemon: &Daemon, bot: i64) -> Vec<pb::Alert> {
    let mut client = AlertServiceClient::new(daemon.channel().await);
    client.list_alerts(pb::ListAlertsRequest { bot_id: bot, limit: 100 }).await.unwrap().into_inner().alerts
}

async fn status(daemon: &Daemon, bot: i64) -> pb::Bot {
    daemon.bots().await.get_bot(pb::GetBotRequest { id: bot }).await.unwrap().into_inner()
}

/// Strategy parameters as the API takes them.
fn params(pairs: &[(&str, &str)]) -> prost_types::Struct {
    let value = |v: &str| prost_types::Value { kind: Some(prost_types::value::Kind::StringValue(v.to_owned())) };
    prost_types::Struct { fields: pairs.iter().map(|(k, v)| ((*k).to_owned(), value(v))).collect() }
}

/// A started grid bot on BTC/USDT: five levels `range_percent` either side of the price,
/// 10 USDT a level.
async fn started_grid(daemon: &Daemon, range_percent: &str, budget: &str, dry_run: bool) -> pb::Bot {
    let grid =
        [("grid_count", "5"), ("range_mode", "fixed"), ("range_percent", range_percent), ("order_quote_amount", "10")];
    let config = pb::BotConfig {
        name: Some("ladder".into()),
        trading_pair: Some("BTC/USDT".into()),
        strategy: Some("adaptive_grid".into()),
        strategy_params: Some(params(&grid)),
        budget: Some(budget.to_owned()),
        is_dry_run: Some(dry_run),
        ..pb::BotConfig::default()
    };
    let mut bots = daemon.bots().await;
    let bot = bots.create_bot(pb::CreateBotRequest { config: Some(config) }).await.unwrap().into_inner();
    bots.start_bot(pb::StartBotRequest { id: bot.id }).await.unwrap();
    bot
}

#[tokio::test]
async fn a_dry_run_dca_bot_buys_on_real_data_then_pauses_goes_live_and_is_killed() {
    let data = tempfile::tempdir().unwrap();
    let daemon = Daemon::start(&data).await;
    let bot = dca_bot(&daemon, "paper", "BTC/USDT", true).await;
    let mut watch = EventServiceClient::new(daemon.channel().await);
    let mut events = watch.watch_events(pb::WatchEventsRequest { bot_id: bot.id }).await.unwrap().into_inner();
    let mut bots = daemon.bots().await;
    bots.start_bot(pb::StartBotRequest { id: bot.id }).await.unwrap();

    let placed = until_order(&daemon, bot.id, true, pb::OrderStatus::Filled).await;
    assert_eq!(placed.len(), 1, "one buy per interval: {placed:?}");
    let order = &placed[0];
    // The database's own prefix, then the bot and its sequence.
    let (prefix, rest) = order.client_order_id.split_once('-').unwrap();
    assert!(prefix.starts_with("tb") && prefix.len() == 10, "{prefix}");
    assert_eq!(rest, format!("{}-000001", bot.id));
    assert!(order.is_simulated && order.exchange_order_id.is_empty());
    assert_eq!(order.quote_amount, "10");
    assert_eq!(order.fee_asset, "BTC", "a buy pays its fee in what it receives");
    let decision = order.decision.as_ref().unwrap();
    assert_eq!((decision.budget_before.as_str(), decision.budget_after.as_str()), ("100", "90"));
    assert!(!decision.summary.is_empty() && decision.signals.contains_key("price"), "{decision:?}");
    assert!(decision.checks.iter().any(|c| c.name == "virtual_wallet" && c.passed), "{decision:?}");
    assert!(orders(&mut bots, bot.id, false).await.is_empty(), "a dry run sends nothing to the venue");

    let held = eventually("the position", PATIENCE, || position(&bots, bot.id)).await;
    assert_eq!(held.trading_pair, "BTC/USDT");
    assert!(!held.current_price.is_empty() && held.amount != "0");
    // Orders, positions and P&L marks are published as they change.
    let mut seen = std::collections::BTreeSet::new();
    while seen.len() < 3 {
        let event = tokio::time::timeout(PATIENCE, events.message()).await.unwrap().unwrap().unwrap();
        match event.kind {
            Some(pb::event::Kind::Order(order)) if order.status() == pb::OrderStatus::Filled => seen.insert("order"),
            Some(pb::event::Kind::Position(_)) => seen.insert("position"),
            Some(pb::event::Kind::Pnl(_)) => seen.insert("pnl"),
            _ => false,
        };
    }
    let log = std::fs::read_to_string(data.path().join(format!("logs/{}/orders.log", bot.id))).unwrap();
    assert!(log.contains(&format!("{prefix}-{}-000001 placed: BTC/USDT buy", bot.id)), "{log}");
    assert!(log.contains("-> filled"), "{log}");

    // Paused, stopped, then promoted: history stays simulated, new orders go to the venue.
    let paused = bots.pause_bot(pb::PauseBotRequest { id: bot.id }).await.unwrap().into_inner();
    assert_eq!(paused.status(), pb::BotStatus::Paused);
    let stopped = bots.stop_bot(pb::StopBotRequest { id: bot.id, cancel_pending: true }).await.unwrap().into_inner();
    assert_eq!(stopped.status(), pb::BotStatus::Stopped);
    assert_eq!(orders(&mut bots, bot.id, true).await.len(), 1, "nothing placed while paused or stopped");
    // Its pair is part of its history now: moving it would sell holdings it never bought there.
    let moved = pb::BotConfig { trading_pair: Some("ETH/USDT".into()), ..pb::BotConfig::default() };
    let refused = bots.update_bot(pb::UpdateBotRequest { id: bot.id, config: Some(moved) }).await.unwrap_err();
    assert_eq!(refused.code(), tonic::Code::FailedPrecondition);
    assert!(refused.message().contains("copy it to trade elsewhere"), "{}", refused.message());
    let live = bots.go_live(pb::GoLiveRequest { id: bot.id }).await.unwrap().into_inner();
    assert!(!live.is_dry_run);
    bots.start_bot(pb::StartBotRequest { id: bot.id }).await.unwrap();
    let live_orders = until_order(&daemon, bot.id, false, pb::OrderStatus::Filled).await;
    assert_eq!(live_orders.len(), 1);
    assert_eq!(live_orders[0].client_order_id, format!("{prefix}-{}-000002", bot.id), "ids never repeat");
    assert!(!live_orders[0].exchange_order_id.is_empty());
    assert_eq!(orders(&mut bots, bot.id, true).await.len(), 1, "the dry-run history is kept");

    let killed = bots.kill_bot(pb::KillBotRequest { id: bot.id, reason: "test".into() }).await.unwrap().into_inner();
    assert!(killed.killed);
    let kill_alert = eventually("the kill alert", PATIENCE, || async {
        alerts(&daemon, bot.id).await.into_iter().find(|a| a.alert_type == "kill_switch")
    })
    .await;
    assert!(kill_alert.message.contains("holdings kept"), "{kill_alert:?}");
}

#[tokio::test]
async fn a_dry_run_mean_reversion_bot_decides_on_closed_candles_of_the_live_feed() {
    let data = tempfile::tempdir().unwrap();
    let daemon = Daemon::start(&data).await;
    // Two-bar bands half a deviation wide: the first falling minute is an entry.
    let config = pb::BotConfig {
        name: Some("bands".into()),
        trading_pair: Some("BTC/USDT".into()),
        strategy: Some("mean_reversion".into()),
        strategy_params: Some(params(&[("period", "2"), ("std_dev", "0.5")])),
        budget: Some("100".into()),
        is_dry_run: Some(true),
        ..pb::BotConfig::default()
    };
    let mut bots = daemon.bots().await;
    let bot = bots.create_bot(pb::CreateBotRequest { config: Some(config) }).await.unwrap().into_inner();
    bots.start_bot(pb::StartBotRequest { id: bot.id }).await.unwrap();
    let placed = until_order(&daemon, bot.id, true, pb::OrderStatus::Filled).await;
    let decision = placed.last().unwrap().decision.as_ref().unwrap();
    assert!(decision.summary.starts_with("entry: close"), "{decision:?}");
    assert!(decision.signals.contains_key("middle_band") && decision.signals.contains_key("z_score"), "{decision:?}");
}

#[tokio::test]
async fn a_stop_loss_sells_the_position_and_pauses_the_bot_with_an_alert() {
    let data = tempfile::tempdir().unwrap();
    let daemon = Daemon::start(&data).await;
    // A one-cent stop: the fee alone puts a fresh position there, so it trips at the first tick down.
    let config = pb::BotConfig {
        name: Some("tight stop".into()),
        trading_pair: Some("BTC/USDT".into()),
        strategy: Some("dca_accumulator".into()),
        budget: Some("100".into()),
        stop_loss_absolute: Some("0.01".into()),
        is_dry_run: Some(false),
        ..pb::BotConfig::default()
    };
    let mut bots = daemon.bots().await;
    let bot = bots.create_bot(pb::CreateBotRequest { config: Some(config) }).await.unwrap().into_inner();
    bots.start_bot(pb::StartBotRequest { id: bot.id }).await.unwrap();
    let alert = eventually("the stop-loss alert", PATIENCE, || async {
        alerts(&daemon, bot.id).await.into_iter().find(|a| a.alert_type == "loss_limit")
    })
    .await;
    assert!(alert.message.contains("stop loss: the position is down"), "{alert:?}");
    until_order(&daemon, bot.id, false, pb::OrderStatus::Filled).await;
    let sold = eventually("the sale", PATIENCE, || {
        let mut bots = bots.clone();
        async move {
            let all = orders(&mut bots, bot.id, false).await;
            (all.len() == 2 && all.iter().all(|o| o.status() == pb::OrderStatus::Filled)).then_some(all)
        }
    })
    .await;
    // Newest first: the sale, then the buy it sells. The sale is the whole position: what the
    // buy filled less a fee taken in BTC, rounded down to the 0.000001 step, and never more.
    let (sale, buy) = (&sold[0], &sold[1]);
    assert_eq!((sale.order_type.as_str(), buy.order_type.as_str()), ("market_sell", "market_buy"), "{sold:?}");
    let amount = |s: &str| s.parse::<Decimal>().unwrap_or_else(|e| panic!("{s:?}: {e}"));
    let bought = amount(&buy.filled_amount) - if buy.fee_asset == "BTC" { amount(&buy.fees) } else { Decimal::ZERO };
    let sold_qty = amount(&sale.filled_amount);
    assert!(sold_qty > Decimal::ZERO && sold_qty <= bought, "sold {sold_qty} of {bought} held: {sold:?}");
    assert!(bought - sold_qty < Decimal::new(1, 6), "the stop sells the whole position: {sold_qty} of {bought}");
    // Sticky: paused until a person starts it.
    eventually("the pause", PATIENCE, || async {
        (status(&daemon, bot.id).await.status() == pb::BotStatus::Paused).then_some(())
    })
    .await;
    let all = orders(&mut bots, bot.id, false).await;
    assert_eq!(all[0].order_type, "market_sell", "newest first: the stop-loss sale");
}

#[tokio::test]
async fn an_event_filler_bot_enters_and_exits_on_signals_pushed_through_the_api() {
    let data = tempfile::tempdir().unwrap();
    let daemon = Daemon::start(&data).await;
    let config = pb::BotConfig {
        name: Some("listener".into()),
        trading_pair: Some("BTC/USDT".into()),
        strategy: Some("event_filler".into()),
        budget: Some("100".into()),
        is_dry_run: Some(true),
        ..pb::BotConfig::default()
    };
    let mut bots = daemon.bots().await;
    let bot = bots.create_bot(pb::CreateBotRequest { config: Some(config) }).await.unwrap().into_inner();
    let id = bot.id.to_string();
    let refused = crate::helpers::ctl(&daemon.url, &["signal", &id, "--side", "buy"]);
    assert_eq!(refused.code, 1);
    assert!(refused.stderr.contains("is not running"), "{}", refused.stderr);

    bots.start_bot(pb::StartBotRequest { id: bot.id }).await.unwrap();
    // A signal that arrives before the first price waits for it.
    let sent = crate::helpers::ctl(&daemon.url, &["signal", &id, "--side", "buy", "--note", "new listing"]);
    assert_eq!(sent.code, 0, "{}", sent.stderr);
    let bought = until_order(&daemon, bot.id, true, pb::OrderStatus::Filled).await;
    assert_eq!(bought[0].decision.as_ref().unwrap().summary, "signal: new listing");
    crate::helpers::ctl(&daemon.url, &["signal", &id, "--side", "sell", "--note", "done"]);
    eventually("the exit", PATIENCE, || {
        let mut bots = bots.clone();
        async move {
            let all = orders(&mut bots, bot.id, true).await;
            (all.len() == 2 && all[0].order_type == "market_sell").then_some(())
        }
    })
    .await;
}

#[tokio::test]
async fn a_live_bot_resumes_after_a_restart_without_a_duplicate_order() {
    let sim = Sim::start().await;
    let config = sim.config_dir(DEMO_SECRET);
    let data = tempfile::tempdir().unwrap();
    let daemon = Daemon::start_with(config.path(), data.path(), ANY_PORT).await;
    let bot = dca_bot(&daemon, "live", "BTC/USDT", false).await;
    let neighbour = dca_bot(&daemon, "neighbour", "BTC/USDT", false).await;
    let mut bots = daemon.bots().await;
    for id in [bot.id, neighbour.id] {
        bots.start_bot(pb::StartBotRequest { id }).await.unwrap();
    }
    let before = until_order(&daemon, bot.id, false, pb::OrderStatus::Filled).await;
    assert_eq!(before.len(), 1);
    assert!(before[0].filled_amount != "0" && !before[0].average_price.is_empty(), "{:?}", before[0]);
    until_order(&daemon, neighbour.id, false, pb::OrderStatus::Filled).await;
    // Two bots on one pair and one account: each position is exactly the bot's own fills.
    for id in [bot.id, neighbour.id] {
        let order = orders(&mut bots, id, false).await.remove(0);
        let decimal = |text: &str| text.parse::<Decimal>().unwrap();
        assert_eq!(order.fee_asset, "BTC", "a buy pays its fee in what it receives");
        let own = decimal(&order.filled_amount) - decimal(&order.fees);
        let held = eventually("the position", PATIENCE, || position(&bots, id)).await;
        assert_eq!(decimal(&held.amount), own, "bot {id} holds its own fills only");
    }
    let marked = position(&bots, bot.id).await.unwrap();

    let daemon = daemon.restart().await;
    assert_eq!(status(&daemon, bot.id).await.status(), pb::BotStatus::Running);
    // A resumed bot marks its position at the first price it sees; by then it has decided.
    let bots = daemon.bots().await;
    eventually("the resumed bot to mark its position", PATIENCE, || async {
        position(&bots, bot.id).await.filter(|p| p.updated_at > marked.updated_at)
    })
    .await;
    let mut bots = daemon.bots().await;
    let after = orders(&mut bots, bot.id, false).await;
    assert_eq!(after.len(), 1, "the interval has not elapsed, so nothing new: {after:?}");
    assert_eq!(after[0].exchange_order_id, before[0].exchange_order_id);

    // The live bot pauses, stops and is killed; its holdings stay.
    let paused = bots.pause_bot(pb::PauseBotRequest { id: bot.id }).await.unwrap().into_inner();
    assert_eq!(paused.status(), pb::BotStatus::Paused);
    let stopped = bots.stop_bot(pb::StopBotRequest { id: bot.id, cancel_pending: false }).await.unwrap().into_inner();
    assert_eq!(stopped.status(), pb::BotStatus::Stopped);
    let killed = bots.kill_bot(pb::KillBotRequest { id: bot.id, reason: "test".into() }).await.unwrap().into_inner();
    assert!(killed.killed);
    assert_eq!(orders(&mut bots, bot.id, false).await.len(), 1, "a kill places nothing, sells nothing");
    assert!(position(&bots, bot.id).await.is_some_and(|p| p.amount != "0"));
}

#[tokio::test]
async fn a_crash_while_a_create_is_unanswered_is_resolved_by_client_id_after_restart() {
    let sim = Sim::start().await;
    let config = sim.config_dir(DEMO_SECRET);
    let data = tempfile::tempdir().unwrap();
    let daemon = Daemon::start_with(config.path(), data.path(), ANY_PORT).await;
    sim.set_faults(serde_json::json!({ "lose_create_response_rate": 1.0 })).await;
    let bot = dca_bot(&daemon, "lost answer", "BTC/USDT", false).await;
    daemon.bots().await.start_bot(pb::StartBotRequest { id: bot.id }).await.unwrap();
    // Written ahead, sent, and the answer hangs: the venue has it, the daemon does not know.
    until_order(&daemon, bot.id, false, pb::OrderStatus::Pending).await;
    sim.set_faults(serde_json::json!({})).await;
    let daemon = daemon.crash_and_restart().await;

    let resolved = until_order(&daemon, bot.id, false, pb::OrderStatus::Filled).await;
    assert_eq!(resolved.len(), 1, "reconciled, not resent: {resolved:?}");
    let (prefix, rest) = resolved[0].client_order_id.split_once('-').unwrap();
    assert!(prefix.starts_with("tb") && prefix.len() == 10, "{prefix}");
    assert_eq!(rest, format!("{}-000001", bot.id));
    assert!(!resolved[0].exchange_order_id.is_empty());
    assert_eq!(status(&daemon, bot.id).await.status(), pb::BotStatus::Running);
}

#[tokio::test]
async fn a_global_kill_cancels_every_open_order_and_keeps_the_holdings() {
    let sim = frozen_sim().await;
    let config = sim.config_dir(DEMO_SECRET);
    let data = tempfile::tempdir().unwrap();
    let daemon = Daemon::start_with(config.path(), data.path(), ANY_PORT).await;
    let mut ids = Vec::new();
    for pair in ["BTC/USDT", "ETH/USDT"] {
        let bot = dca_bot(&daemon, pair, pair, false).await;
        daemon.bots().await.start_bot(pb::StartBotRequest { id: bot.id }).await.unwrap();
        ids.push(bot.id);
    }
    for id in &ids {
        until_order(&daemon, *id, false, pb::OrderStatus::PartiallyFilled).await;
    }

    let mut bots = daemon.bots().await;
    let killed = bots.kill_all(pb::KillAllRequest { reason: "test".into() }).await.unwrap().into_inner();
    assert_eq!(killed.bots.len(), 2);
    for id in &ids {
        let done = until_order(&daemon, *id, false, pb::OrderStatus::Cancelled).await;
        assert_eq!(done.len(), 1, "no order after the kill: {done:?}");
        assert!(done[0].filled_amount != "0", "the part filled before the kill stays filled");
        let held = position(&bots, *id).await.unwrap();
        assert!(held.amount != "0", "holdings are never sold by a kill");
    }
    let global = alerts(&daemon, 0).await;
    assert!(global.iter().any(|a| a.alert_type == "kill_switch" && a.message.contains("global")), "{global:?}");
}

/// Waits until the bot has exactly `count` orders in `status`, and returns them.
async fn until_orders(daemon: &Daemon, bot: i64, count: usize, status: pb::OrderStatus) -> Vec<pb::Order> {
    let bots = daemon.bots().await;
    eventually(&format!("{count} orders of bot {bot} {status:?}"), PATIENCE, || {
        let mut bots = bots.clone();
        async move {
            let all = orders(&mut bots, bot, false).await;
            (all.iter().filter(|o| o.status() == status).count() == count).then_some(all)
        }
    })
    .await
}

#[tokio::test]
async fn a_live_grid_rests_its_ladder_keeps_it_across_a_restart_holds_its_strategy_and_a_kill_cancels_it() {
    let sim = Sim::start_at_speed("0").await;
    let config = sim.config_dir(DEMO_SECRET);
    let data = tempfile::tempdir().unwrap();
    let daemon = Daemon::start_with(config.path(), data.path(), ANY_PORT).await;
    // 5 % either side of the price, 25 USDT: two buys fit.
    let bot = started_grid(&daemon, "5", "25", false).await;
    let ladder = until_orders(&daemon, bot.id, 2, pb::OrderStatus::Open).await;
    assert_eq!(ladder.len(), 2, "two resting buys and nothing else: {ladder:?}");
    let prices: Vec<Decimal> = ladder.iter().map(|o| o.price.parse().unwrap()).collect();
    assert!(ladder.iter().all(|o| o.order_type == "limit_buy"), "{ladder:?}");
    assert!(prices[0] != prices[1], "one order per level: {prices:?}");
    assert!(ladder.iter().all(|o| o.decision.as_ref().unwrap().summary.starts_with("grid buy at level")));

    // After a restart the ladder is reconciled and followed, not laid a second time.
    let daemon = daemon.restart().await;
    assert_eq!(status(&daemon, bot.id).await.status(), pb::BotStatus::Running);
    tokio::time::sleep(Duration::from_secs(3)).await;
    let after = until_orders(&daemon, bot.id, 2, pb::OrderStatus::Open).await;
    assert_eq!(after.len(), 2, "no order added after the restart: {after:?}");

    // Stopped with its ladder kept, it cannot become another strategy that would wait on it.
    let mut bots = daemon.bots().await;
    bots.stop_bot(pb::StopBotRequest { id: bot.id, cancel_pending: false }).await.unwrap();
    let to_dca = pb::BotConfig {
        strategy: Some("dca_accumulator".into()),
        strategy_params: Some(prost_types::Struct::default()),
        ..pb::BotConfig::default()
    };
    let refused = bots.update_bot(pb::UpdateBotRequest { id: bot.id, config: Some(to_dca) }).await.unwrap_err();
    assert!(refused.message().contains("stop it with cancel before changing its strategy"), "{}", refused.message());

    bots.kill_bot(pb::KillBotRequest { id: bot.id, reason: "test".into() }).await.unwrap();
    let done = until_orders(&daemon, bot.id, 2, pb::OrderStatus::Cancelled).await;
    assert_eq!(done.len(), 2, "{done:?}");
}

#[tokio::test]
async fn a_dry_run_grid_buys_at_a_level_and_offers_it_one_level_up_on_real_data() {
    let sim = Sim::start_at_speed("600").await;
    let config = sim.config_dir(DEMO_SECRET);
    let data = tempfile::tempdir().unwrap();
    let daemon = Daemon::start_with(config.path(), data.path(), ANY_PORT).await;
    // 0.5 % either side of the price: levels a quarter percent apart.
    let bot = started_grid(&daemon, "0.5", "50", true).await;
    let mut bots = daemon.bots().await;
    let offered = eventually("a grid sale offered after a filled grid buy", PATIENCE, || {
        let mut bots = bots.clone();
        async move {
            let all = orders(&mut bots, bot.id, true).await;
            let bought = all.iter().any(|o| o.order_type == "limit_buy" && o.status() == pb::OrderStatus::Filled);
            let offered = all.iter().find(|o| o.order_type == "limit_sell")?;
            bought.then(|| offered.clone())
        }
    })
    .await;
    let summary = &offered.decision.as_ref().unwrap().summary;
    assert!(summary.starts_with("grid sell at level"), "{summary}");
    let all = orders(&mut bots, bot.id, true).await;
    let bought: Decimal = all
        .iter()
        .filter(|o| o.order_type == "limit_buy" && o.status() == pb::OrderStatus::Filled)
        .map(|o| o.price.parse::<Decimal>().unwrap())
        .min()
        .unwrap();
    assert!(offered.price.parse::<Decimal>().unwrap() > bought, "offered above a level bought: {offered:?}");
}

#[tokio::test]
async fn an_arbitrage_bot_with_an_unknown_second_venue_or_risk_stops_is_refused_with_the_reasons() {
    let data = tempfile::tempdir().unwrap();
    let daemon = Daemon::start(&data).await;
    let config = pb::BotConfig {
        name: Some("two venues".into()),
        trading_pair: Some("ETH/USDT".into()),
        strategy: Some("arbitrage".into()),
        strategy_params: Some(params(&[("mode", "cross_exchange"), ("second_exchange", "backup")])),
        budget: Some("100".into()),
        drawdown_limit_percent: Some("10".into()),
        ..pb::BotConfig::default()
    };
    let mut bots = daemon.bots().await;
    let refused = bots.create_bot(pb::CreateBotRequest { config: Some(config) }).await.unwrap_err();
    assert_eq!(refused.code(), tonic::Code::InvalidArgument, "{refused:?}");
    assert!(
        refused.message().contains(
            "strategy_params.second_exchange: no venue account named \"backup\" in exchanges.yaml; one of: sim"
        ),
        "{}",
        refused.message()
    );
    assert!(
        refused.message().contains("drawdown_limit_percent: risk stops do not apply to arbitrage"),
        "every problem is listed: {}",
        refused.message()
    );
    let listed = bots.list_bots(pb::ListBotsRequest::default()).await.unwrap().into_inner();
    assert!(listed.bots.is_empty(), "nothing was created: {listed:?}");
}

/// A frozen market with split taker fills: each market buy takes a third, then rests.
async fn frozen_sim() -> Sim {
    let sim = Sim::start_at_speed("0").await;
    sim.set_faults(serde_json::json!({ "partial_fill": true })).await;
    sim
}

#[tokio::test]
async fn stop_cancels_pending_orders_only_when_asked_and_a_kept_order_is_still_followed() {
    let sim = frozen_sim().await;
    let config = sim.config_dir(DEMO_SECRET);
    let data = tempfile::tempdir().unwrap();
    let daemon = Daemon::start_with(config.path(), data.path(), ANY_PORT).await;
    let (cancelling, keeping) =
        (dca_bot(&daemon, "cancels", "BTC/USDT", false).await, dca_bot(&daemon, "keeps", "ETH/USDT", false).await);
    let mut bots = daemon.bots().await;
    for bot in [&cancelling, &keeping] {
        bots.start_bot(pb::StartBotRequest { id: bot.id }).await.unwrap();
        until_order(&daemon, bot.id, false, pb::OrderStatus::PartiallyFilled).await;
    }
    bots.stop_bot(pb::StopBotRequest { id: cancelling.id, cancel_pending: true }).await.unwrap();
    bots.stop_bot(pb::StopBotRequest { id: keeping.id, cancel_pending: false }).await.unwrap();
    until_order(&daemon, cancelling.id, false, pb::OrderStatus::Cancelled).await;
    let kept = orders(&mut bots, keeping.id, false).await;
    assert_eq!(kept[0].status(), pb::OrderStatus::PartiallyFilled, "a kept order stays on the venue");
    assert_eq!(status(&daemon, keeping.id).await.status(), pb::BotStatus::Stopped);

    let refused = bots.delete_bot(pb::DeleteBotRequest { id: keeping.id }).await.unwrap_err();
    assert!(refused.message().contains("has open orders"), "{}", refused.message());

    // The stopped bot still follows its kept order: a kill now cancels it.
    bots.kill_bot(pb::KillBotRequest { id: keeping.id, reason: "test".into() }).await.unwrap();
    until_order(&daemon, keeping.id, false, pb::OrderStatus::Cancelled).await;
}

#[tokio::test]
async fn shutdown_can_cancel_open_orders_and_the_bots_resume_afterwards() {
    let sim = frozen_sim().await;
    let config = sim.config_dir(DEMO_SECRET);
    let data = tempfile::tempdir().unwrap();
    let daemon = Daemon::start_with_flags(config.path(), data.path(), ANY_PORT, &["--cancel-on-shutdown"]).await;
    let port = daemon.port();
    let bot = dca_bot(&daemon, "tidy", "ETH/USDT", false).await;
    daemon.bots().await.start_bot(pb::StartBotRequest { id: bot.id }).await.unwrap();
    until_order(&daemon, bot.id, false, pb::OrderStatus::PartiallyFilled).await;
    assert_eq!(daemon.terminate().await, 0);

    let daemon = Daemon::start_with(config.path(), data.path(), port).await;
    let mut bots = daemon.bots().await;
    let after = orders(&mut bots, bot.id, false).await;
    assert_eq!(after.len(), 1);
    assert_eq!(after[0].status(), pb::OrderStatus::Cancelled, "cancelled and recorded before the exit");
    assert_eq!(status(&daemon, bot.id).await.status(), pb::BotStatus::Running, "shutdown is not a stop");
}

#[tokio::test]
async fn a_bot_whose_venue_is_gone_at_start_is_paused_with_an_alert() {
    let sim = Sim::start().await;
    let config = sim.config_dir(DEMO_SECRET);
    let data = tempfile::tempdir().unwrap();
    let daemon = Daemon::start_with(config.path(), data.path(), ANY_PORT).await;
    let port = daemon.port();
    let bot = dca_bot(&daemon, "orphan", "BTC/USDT", false).await;
    daemon.bots().await.start_bot(pb::StartBotRequest { id: bot.id }).await.unwrap();
    until_order(&daemon, bot.id, false, pb::OrderStatus::Filled).await;
    assert_eq!(daemon.terminate().await, 0);
    drop(sim);

    let daemon = Daemon::start_with(config.path(), data.path(), port).await;
    let alert = eventually("the reconciliation alert", PATIENCE, || async {
        alerts(&daemon, bot.id).await.into_iter().find(|a| a.alert_type == "reconciliation_failure")
    })
    .await;
    assert!(alert.message.contains("cannot reconcile"), "{alert:?}");
    assert_eq!(status(&daemon, bot.id).await.status(), pb::BotStatus::Paused);
    let mut bots = daemon.bots().await;
    assert_eq!(orders(&mut bots, bot.id, false).await.len(), 1, "nothing is placed to fix it");
}
