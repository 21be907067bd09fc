//! The bot repository against a real SQLite file.
// Test code: a failed unwrap is a failed test with its location.
#![allow(clippy::unwrap_used)]

use domain::{
    bot::{BotConfig, BotConfigInput, BotId, BotStatus, ValidationContext},
    time::Timestamp,
};
use proptest::prelude::*;
use store::{BotFilter, Error, StatusChange, Store};

fn ctx() -> ValidationContext {
    ValidationContext { exchanges: vec!["sim".into()], default_exchange: "sim".into(), ..ValidationContext::default() }
}

fn config(budget: &str) -> BotConfig {
    let input = BotConfigInput {
        trading_pair: Some("ETH/USDT".into()),
        strategy: Some("mean_reversion".into()),
        budget: Some(budget.into()),
        stop_loss_percent: Some("2.5".into()),
        daily_loss_limit: Some("0.000000001".into()),
        running_time_hours: Some(72),
        ..BotConfigInput::default()
    };
    BotConfig::create(&input, &ctx()).unwrap()
}

async fn open() -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("tradingbot.db")).await.unwrap();
    (dir, store)
}

fn change(id: BotId, from: BotStatus, to: BotStatus, kill: bool) -> StatusChange {
    StatusChange { id, from, to, kill, reason: "test".into() }
}

#[tokio::test]
async fn bots_round_trip_exactly_and_survive_reopening() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tradingbot.db");
    let store = Store::open(&path).await.unwrap();
    let created = store.insert_bot(&config("1234.56789"), Timestamp::from_millis(1_000)).await.unwrap();
    assert_eq!(created.status, BotStatus::Created);
    assert_eq!(created.current_balance.to_string(), "1234.56789");
    store.close().await;

    let reopened = Store::open(&path).await.unwrap();
    let loaded = reopened.bot(created.id).await.unwrap();
    assert_eq!(loaded, created);
    assert_eq!(loaded.config, config("1234.56789"));
}

#[tokio::test]
async fn status_changes_are_guarded_and_recorded() {
    let (_dir, store) = open().await;
    let bot = store.insert_bot(&config("100"), Timestamp::from_millis(1)).await.unwrap();
    let started = store
        .change_status(&[change(bot.id, BotStatus::Created, BotStatus::Running, false)], Timestamp::from_millis(2))
        .await
        .unwrap();
    assert_eq!(started[0].status, BotStatus::Running);
    assert_eq!(started[0].started_at, Some(Timestamp::from_millis(2)));

    // A change computed from a stale status is refused and leaves no trace.
    let stale = store
        .change_status(&[change(bot.id, BotStatus::Created, BotStatus::Stopped, false)], Timestamp::from_millis(3))
        .await;
    assert!(matches!(stale, Err(Error::NotFound { .. })));

    let killed = store
        .change_status(&[change(bot.id, BotStatus::Running, BotStatus::Stopped, true)], Timestamp::from_millis(4))
        .await
        .unwrap();
    assert_eq!(killed[0].killed_at, Some(Timestamp::from_millis(4)));
    let restarted = store
        .change_status(&[change(bot.id, BotStatus::Stopped, BotStatus::Running, false)], Timestamp::from_millis(5))
        .await
        .unwrap();
    assert_eq!(restarted[0].killed_at, None, "a person's start re-arms a killed bot");

    let history = store.status_history(bot.id).await.unwrap();
    let steps: Vec<_> = history.iter().map(|(from, to, _, at)| (*from, *to, at.millis())).collect();
    assert_eq!(
        steps,
        [
            (BotStatus::Created, BotStatus::Running, 2),
            (BotStatus::Running, BotStatus::Stopped, 4),
            (BotStatus::Stopped, BotStatus::Running, 5)
        ]
    );
}

#[tokio::test]
async fn a_batch_of_changes_lands_whole_or_not_at_all() {
    let (_dir, store) = open().await;
    let a = store.insert_bot(&config("10"), Timestamp::from_millis(1)).await.unwrap();
    let b = store.insert_bot(&config("20"), Timestamp::from_millis(1)).await.unwrap();
    let batch = [
        change(a.id, BotStatus::Created, BotStatus::Stopped, true),
        change(b.id, BotStatus::Running, BotStatus::Stopped, true), // stale: b is created
    ];
    assert!(store.change_status(&batch, Timestamp::from_millis(2)).await.is_err());
    assert_eq!(store.bot(a.id).await.unwrap().status, BotStatus::Created);
}

#[tokio::test]
async fn updates_require_the_expected_status_and_deletes_keep_running_bots() {
    let (_dir, store) = open().await;
    let bot = store.insert_bot(&config("100"), Timestamp::from_millis(1)).await.unwrap();
    let updated =
        store.update_bot_config(bot.id, BotStatus::Created, &config("250"), Timestamp::from_millis(2)).await.unwrap();
    assert_eq!(updated.config.budget.to_string(), "250");
    assert!(
        store.update_bot_config(bot.id, BotStatus::Paused, &config("300"), Timestamp::from_millis(3)).await.is_err()
    );

    store
        .change_status(&[change(bot.id, BotStatus::Created, BotStatus::Running, false)], Timestamp::from_millis(4))
        .await
        .unwrap();
    assert!(store.delete_bot(bot.id, Timestamp::from_millis(5)).await.is_err(), "a running bot is not deleted");
    store
        .change_status(&[change(bot.id, BotStatus::Running, BotStatus::Stopped, false)], Timestamp::from_millis(6))
        .await
        .unwrap();
    store.delete_bot(bot.id, Timestamp::from_millis(7)).await.unwrap();
    assert!(matches!(store.bot(bot.id).await, Err(Error::NotFound { .. })));
    assert!(store.bots(BotFilter::default()).await.unwrap().is_empty());
}

#[tokio::test]
async fn lists_filter_by_status_newest_first() {
    let (_dir, store) = open().await;
    let first = store.insert_bot(&config("1"), Timestamp::from_millis(1)).await.unwrap();
    let second = store.insert_bot(&config("2"), Timestamp::from_millis(2)).await.unwrap();
    store
        .change_status(&[change(second.id, BotStatus::Created, BotStatus::Running, false)], Timestamp::from_millis(3))
        .await
        .unwrap();
    let all: Vec<BotId> = store.bots(BotFilter::default()).await.unwrap().iter().map(|b| b.id).collect();
    assert_eq!(all, [second.id, first.id]);
    let running = store.bots(BotFilter { status: Some(BotStatus::Running) }).await.unwrap();
    assert_eq!(running.len(), 1);
    assert_eq!(running[0].id, second.id);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    /// Any budget the domain accepts is stored and read back to the last digit.
    #[test]
    fn budgets_round_trip_exactly(mantissa in 1i64..1_000_000_000_000, scale in 0u32..=12) {
        let budget = rust_decimal::Decimal::new(mantissa, scale);
        prop_assume!(budget <= domain::bot::MAX_BUDGET);
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        runtime.block_on(async {
            let (_dir, store) = open().await;
            let bot = store.insert_bot(&config(&budget.to_string()), Timestamp::from_millis(1)).await.unwrap();
            let loaded = store.bot(bot.id).await.unwrap();
            assert_eq!(loaded.config.budget.value(), budget);
            assert_eq!(loaded.current_balance.value(), budget);
        });
    }
}
