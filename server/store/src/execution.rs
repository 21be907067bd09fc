//! Writes of the execution path: write-ahead order rows, order updates and idempotent fills.
//!
//! **Invariant (DESIGN 4):** an order row (status pending, client order id) is committed, with
//! the bot's next order sequence, before the order may be sent.
//! **Invariant (DESIGN 5):** a fill is stored once per venue trade id (per bot for simulated
//! fills); storing it again changes nothing and says so.

use domain::{
    bot::BotId,
    money::{Price, Qty, Quote},
    order::{DecisionRecord, OrderStatus, OrderType, Side},
    pair::Pair,
    time::Timestamp,
};

use sqlx::Row;

use crate::{
    Error, Store,
    codec::{parse, parse_opt},
};

/// A new order, written before it is sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewOrderRow {
    /// Owning bot.
    pub bot: BotId,
    /// Deterministic client order id.
    pub client_order_id: String,
    /// The bot's order sequence after this order (persisted with it).
    pub next_seq: u64,
    /// Market or limit, buy or sell.
    pub order_type: OrderType,
    /// The venue account it is sent to.
    pub exchange: String,
    /// Pair traded.
    pub pair: Pair,
    /// Base quantity (none for a market buy by quote).
    pub amount: Option<Qty>,
    /// Limit price.
    pub price: Option<Price>,
    /// Quote amount of a market buy.
    pub quote_amount: Option<Quote>,
    /// Strategy that decided it.
    pub strategy: String,
    /// Why it was placed.
    pub decision: DecisionRecord,
    /// Dry-run order (kept in `simulated_orders`).
    pub simulated: bool,
}

/// A change of an order's state on the venue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderUpdateRow {
    /// New status.
    pub status: OrderStatus,
    /// Venue id, once known.
    pub exchange_order_id: Option<String>,
    /// Executed base quantity so far.
    pub filled_amount: Qty,
    /// Average execution price so far.
    pub average_price: Option<Price>,
    /// Fees so far, and their asset.
    pub fees: Qty,
    /// Asset of the fees.
    pub fee_asset: Option<String>,
    /// Venue error or local reason, for failures.
    pub error: Option<String>,
}

/// One execution.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FillRow {
    /// Owning bot.
    pub bot: BotId,
    /// The order's client id.
    pub client_order_id: String,
    /// Venue account name.
    pub exchange: String,
    /// Venue trade id (synthetic for simulated fills), the idempotency key.
    pub venue_trade_id: String,
    /// Buy or sell.
    pub side: Side,
    /// Pair.
    pub pair: Pair,
    /// Execution price.
    pub price: Price,
    /// Base quantity.
    pub qty: Qty,
    /// Quote value.
    pub quote: Quote,
    /// Fee.
    pub fee: Qty,
    /// Fee asset.
    pub fee_asset: String,
    /// Sells: average cost of what was sold.
    pub cost_basis: Option<Price>,
    /// Sells: realised result net of fees.
    pub realized_pnl: Option<Quote>,
    /// When it executed.
    pub at: Timestamp,
    /// Dry-run fill (kept in `simulated_fills`).
    pub simulated: bool,
}

fn tables(simulated: bool) -> (&'static str, &'static str) {
    if simulated { ("simulated_orders", "simulated_fills") } else { ("orders", "fills") }
}

/// A stored fill, as needed to rebuild a bot's wallet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredFill {
    /// The order's client id.
    pub client_order_id: String,
    /// Buy or sell.
    pub side: Side,
    /// The venue account it executed on.
    pub exchange: String,
    /// Its pair.
    pub pair: Pair,
    /// Base quantity.
    pub qty: Qty,
    /// Quote value.
    pub quote: Quote,
    /// Fee.
    pub fee: Qty,
    /// Fee asset.
    pub fee_asset: String,
    /// When it executed.
    pub at: Timestamp,
    /// Realised P&L of a sale's fill.
    pub realized: Option<Quote>,
}

impl Store {
    /// A bot's fills, oldest first: the facts its wallet is rebuilt from after a restart.
    ///
    /// # Errors
    /// [`Error::Database`] or [`Error::Corrupt`].
    pub async fn bot_fills(&self, bot: BotId, simulated: bool) -> Result<Vec<StoredFill>, Error> {
        let (orders, fills) = tables(simulated);
        let rows = sqlx::query(&format!(
            "SELECT o.client_order_id, f.side, f.exchange, f.trading_pair, f.quantity, f.quote_quantity, f.fee, f.fee_asset, f.filled_at, f.realized_pnl
             FROM {fills} f JOIN {orders} o ON o.id = f.order_id WHERE f.bot_id = ? ORDER BY f.filled_at, f.id"
        ))
        .bind(bot.0)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                Ok(StoredFill {
                    client_order_id: row.try_get("client_order_id")?,
                    side: parse(row, fills, "side")?,
                    exchange: row.try_get("exchange")?,
                    pair: parse(row, fills, "trading_pair")?,
                    qty: parse(row, fills, "quantity")?,
                    quote: parse(row, fills, "quote_quantity")?,
                    fee: parse(row, fills, "fee")?,
                    fee_asset: row.try_get("fee_asset")?,
                    at: Timestamp::from_millis(row.try_get("filled_at")?),
                    realized: parse_opt(row, fills, "realized_pnl")?,
                })
            })
            .collect()
    }

    /// The sequence number of the bot's next order.
    ///
    /// # Errors
    /// [`Error::NotFound`] when there is no such bot.
    pub async fn next_order_seq(&self, bot: BotId) -> Result<u64, Error> {
        let seq: Option<i64> = sqlx::query_scalar("SELECT next_order_seq FROM bots WHERE id = ?")
            .bind(bot.0)
            .fetch_optional(&self.pool)
            .await?;
        let seq = seq.ok_or(Error::NotFound { what: "bot", id: bot.0 })?;
        u64::try_from(seq).map_err(|_| Error::Corrupt {
            table: "bots",
            column: "next_order_seq",
            reason: seq.to_string(),
        })
    }

    /// This database's prefix of client order ids, drawn once when the database was created.
    ///
    /// # Errors
    /// [`Error::Database`] when it cannot be read.
    pub async fn order_prefix(&self) -> Result<String, Error> {
        Ok(sqlx::query_scalar("SELECT order_prefix FROM instance WHERE id = 1").fetch_one(&self.pool).await?)
    }

    /// Writes a pending order and the bot's next order sequence in one transaction; only once
    /// this returns may the order be sent.
    ///
    /// # Errors
    /// [`Error::Database`], for example a reused client order id.
    pub async fn insert_order(&self, order: &NewOrderRow, now: Timestamp) -> Result<i64, Error> {
        let (orders, _) = tables(order.simulated);
        let decision = serde_json::to_string(&order.decision).map_err(|e| Error::Corrupt {
            table: orders,
            column: "decision",
            reason: e.to_string(),
        })?;
        let mut tx = self.pool.begin().await?;
        let id: i64 = sqlx::query_scalar(&format!(
            "INSERT INTO {orders} (bot_id, client_order_id, order_type, exchange, trading_pair, amount, price,
                quote_amount, status, strategy_used, is_simulated, decision, created_at, updated_at)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'pending', ?, ?, ?, ?, ?) RETURNING id"
        ))
        .bind(order.bot.0)
        .bind(&order.client_order_id)
        .bind(order.order_type.as_str())
        .bind(&order.exchange)
        .bind(order.pair.to_string())
        .bind(order.amount.map(|v| v.to_string()))
        .bind(order.price.map(|v| v.to_string()))
        .bind(order.quote_amount.map(|v| v.to_string()))
        .bind(&order.strategy)
        .bind(order.simulated)
        .bind(decision)
        .bind(now.millis())
        .bind(now.millis())
        .fetch_one(&mut *tx)
        .await?;
        sqlx::query("UPDATE bots SET next_order_seq = ?, updated_at = ? WHERE id = ?")
            .bind(i64::try_from(order.next_seq).unwrap_or(i64::MAX))
            .bind(now.millis())
            .bind(order.bot.0)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(id)
    }

    /// Records an order's new state.
    ///
    /// # Errors
    /// [`Error::NotFound`] when the bot has no such order.
    pub async fn update_order(
        &self,
        bot: BotId,
        client_order_id: &str,
        simulated: bool,
        update: &OrderUpdateRow,
        now: Timestamp,
    ) -> Result<(), Error> {
        let (orders, _) = tables(simulated);
        let filled_at = (update.status == OrderStatus::Filled).then_some(now.millis());
        let done = sqlx::query(&format!(
            "UPDATE {orders} SET status = ?, exchange_order_id = COALESCE(?, exchange_order_id), filled_amount = ?,
                average_price = ?, fees = ?, fee_asset = COALESCE(?, fee_asset), error = COALESCE(?, error),
                updated_at = ?, filled_at = COALESCE(?, filled_at)
             WHERE bot_id = ? AND client_order_id = ?"
        ))
        .bind(update.status.as_str())
        .bind(update.exchange_order_id.as_deref())
        .bind(update.filled_amount.to_string())
        .bind(update.average_price.map(|p| p.to_string()))
        .bind(update.fees.to_string())
        .bind(update.fee_asset.as_deref())
        .bind(update.error.as_deref())
        .bind(now.millis())
        .bind(filled_at)
        .bind(bot.0)
        .bind(client_order_id)
        .execute(&self.pool)
        .await?;
        if done.rows_affected() == 0 {
            return Err(Error::NotFound { what: "order of bot", id: bot.0 });
        }
        Ok(())
    }

    /// Stores a fill unless its trade id is already stored; returns whether it was new.
    ///
    /// # Errors
    /// [`Error::NotFound`] when the order is unknown, [`Error::Database`] otherwise.
    pub async fn record_fill(&self, fill: &FillRow) -> Result<bool, Error> {
        let (orders, fills) = tables(fill.simulated);
        let order_id: Option<i64> =
            sqlx::query_scalar(&format!("SELECT id FROM {orders} WHERE bot_id = ? AND client_order_id = ?"))
                .bind(fill.bot.0)
                .bind(&fill.client_order_id)
                .fetch_optional(&self.pool)
                .await?;
        let order_id = order_id.ok_or(Error::NotFound { what: "order of bot", id: fill.bot.0 })?;
        let done = sqlx::query(&format!(
            "INSERT INTO {fills} (bot_id, order_id, exchange, venue_trade_id, side, trading_pair, price, quantity,
                quote_quantity, fee, fee_asset, cost_basis, realized_pnl, filled_at)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING"
        ))
        .bind(fill.bot.0)
        .bind(order_id)
        .bind(&fill.exchange)
        .bind(&fill.venue_trade_id)
        .bind(fill.side.as_str())
        .bind(fill.pair.to_string())
        .bind(fill.price.to_string())
        .bind(fill.qty.to_string())
        .bind(fill.quote.to_string())
        .bind(fill.fee.to_string())
        .bind(&fill.fee_asset)
        .bind(fill.cost_basis.map(|v| v.to_string()))
        .bind(fill.realized_pnl.map(|v| v.to_string()))
        .bind(fill.at.millis())
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }
}

#[cfg(test)]
mod tests {
    use rust_decimal_macros::dec;

    use super::*;
    use crate::tests::{bot, open};

    fn new_order(bot: BotId, id: &str, simulated: bool) -> NewOrderRow {
        NewOrderRow {
            bot,
            client_order_id: id.into(),
            next_seq: 2,
            order_type: OrderType::MarketBuy,
            exchange: "sim".into(),
            pair: "BTC/USDT".parse().unwrap(),
            amount: None,
            price: None,
            quote_amount: Some(Quote::new(dec!(10))),
            strategy: "dca_accumulator".into(),
            decision: DecisionRecord { summary: "regular buy".into(), ..DecisionRecord::default() },
            simulated,
        }
    }

    fn fill(bot: BotId, trade: &str, simulated: bool) -> FillRow {
        FillRow {
            bot,
            client_order_id: "tb-1-000001".into(),
            exchange: "sim".into(),
            venue_trade_id: trade.into(),
            side: Side::Buy,
            pair: "BTC/USDT".parse().unwrap(),
            price: Price::new(dec!(100)),
            qty: Qty::new(dec!(0.1)),
            quote: Quote::new(dec!(10)),
            fee: Qty::new(dec!(0.0001)),
            fee_asset: "BTC".into(),
            cost_basis: None,
            realized_pnl: None,
            at: Timestamp::from_millis(5),
            simulated,
        }
    }

    #[tokio::test]
    async fn the_pending_row_and_the_sequence_are_written_before_sending() {
        let (_dir, store) = open().await;
        let b = bot(&store, false).await;
        store.insert_order(&new_order(b.id, "tb-1-000001", false), Timestamp::from_millis(1)).await.unwrap();
        let orders = store.orders(b.id, false, None, 10).await.unwrap();
        assert_eq!((orders[0].status, orders[0].client_order_id.as_str()), (OrderStatus::Pending, "tb-1-000001"));
        assert_eq!(orders[0].decision.summary, "regular buy");
        assert!(
            store.insert_order(&new_order(b.id, "tb-1-000001", false), Timestamp::from_millis(2)).await.is_err(),
            "client ids are unique"
        );
    }

    #[tokio::test]
    async fn two_bots_trading_with_each_other_keep_both_sides_of_the_trade() {
        let (_dir, store) = open().await;
        let (buyer, seller) = (bot(&store, false).await, bot(&store, false).await);
        store.insert_order(&new_order(buyer.id, "tb-1-000001", false), Timestamp::from_millis(1)).await.unwrap();
        store.insert_order(&new_order(seller.id, "tb-2-000001", false), Timestamp::from_millis(1)).await.unwrap();
        let buy = fill(buyer.id, "T-42", false);
        let sell =
            FillRow { client_order_id: "tb-2-000001".into(), side: Side::Sell, ..fill(seller.id, "T-42", false) };
        assert!(store.record_fill(&buy).await.unwrap());
        assert!(store.record_fill(&sell).await.unwrap(), "the other side of the same venue trade is its own fill");
        assert!(!store.record_fill(&sell).await.unwrap(), "each side is still stored once");
        assert_eq!(store.bot_fills(buyer.id, false).await.unwrap().len(), 1);
        assert_eq!(store.bot_fills(seller.id, false).await.unwrap().len(), 1);
    }

    #[tokio::test]
    async fn each_database_draws_its_own_order_prefix_and_keeps_it() {
        let (dir, store) = open().await;
        let prefix = store.order_prefix().await.unwrap();
        assert!(prefix.len() == 10 && prefix.starts_with("tb") && prefix.chars().all(|c| c.is_ascii_alphanumeric()));
        store.close().await;
        let reopened = Store::open(&dir.path().join("t.db")).await.unwrap();
        assert_eq!(reopened.order_prefix().await.unwrap(), prefix, "kept across restarts");
        let (_other_dir, fresh) = open().await;
        assert_ne!(fresh.order_prefix().await.unwrap(), prefix, "a fresh database names its orders anew");
    }

    #[tokio::test]
    async fn fills_are_idempotent_per_trade_id_and_orders_track_them() {
        let (_dir, store) = open().await;
        let b = bot(&store, true).await;
        store.insert_order(&new_order(b.id, "tb-1-000001", true), Timestamp::from_millis(1)).await.unwrap();
        assert!(store.record_fill(&fill(b.id, "t1", true)).await.unwrap());
        assert!(!store.record_fill(&fill(b.id, "t1", true)).await.unwrap(), "the same trade twice is stored once");
        let update = OrderUpdateRow {
            status: OrderStatus::Filled,
            exchange_order_id: Some("SIM-1".into()),
            filled_amount: Qty::new(dec!(0.1)),
            average_price: Some(Price::new(dec!(100))),
            fees: Qty::new(dec!(0.0001)),
            fee_asset: Some("BTC".into()),
            error: None,
        };
        store.update_order(b.id, "tb-1-000001", true, &update, Timestamp::from_millis(6)).await.unwrap();
        let order = &store.orders(b.id, true, None, 10).await.unwrap()[0];
        assert_eq!(order.status, OrderStatus::Filled);
        assert_eq!(order.filled_at, Some(Timestamp::from_millis(6)));
        let fees = store.fee_report(&crate::ReportFilter { simulated: true, ..Default::default() }).await.unwrap();
        assert_eq!((fees[0].fills, fees[0].total.to_string()), (1, "0.0001".to_owned()));

        // What a restart rebuilds the bot from.
        let fills = store.bot_fills(b.id, true).await.unwrap();
        assert_eq!(fills.len(), 1);
        assert_eq!((fills[0].side, fills[0].qty, fills[0].fee_asset.as_str()), (Side::Buy, Qty::new(dec!(0.1)), "BTC"));
        assert!(store.bot_fills(b.id, false).await.unwrap().is_empty(), "live and simulated fills never mix");
        assert_eq!(store.next_order_seq(b.id).await.unwrap(), 2);
    }

    #[tokio::test]
    async fn open_orders_are_listed_for_reconciliation_until_they_end() {
        let (_dir, store) = open().await;
        let (live, paper) = (bot(&store, false).await, bot(&store, true).await);
        store.insert_order(&new_order(live.id, "tb-1-000001", false), Timestamp::from_millis(1)).await.unwrap();
        store.insert_order(&new_order(paper.id, "tb-2-000001", true), Timestamp::from_millis(1)).await.unwrap();
        assert_eq!(store.bots_with_open_orders().await.unwrap(), vec![live.id, paper.id]);
        assert_eq!(store.open_orders(live.id, false).await.unwrap()[0].client_order_id, "tb-1-000001");
        assert!(store.open_orders(live.id, true).await.unwrap().is_empty(), "live and simulated never mix");

        let update = OrderUpdateRow {
            status: OrderStatus::Cancelled,
            exchange_order_id: None,
            filled_amount: Qty::ZERO,
            average_price: None,
            fees: Qty::ZERO,
            fee_asset: None,
            error: None,
        };
        store.update_order(live.id, "tb-1-000001", false, &update, Timestamp::from_millis(2)).await.unwrap();
        assert!(store.open_orders(live.id, false).await.unwrap().is_empty());
        assert_eq!(store.order(live.id, false, "tb-1-000001").await.unwrap().status, OrderStatus::Cancelled);
        assert_eq!(store.bots_with_open_orders().await.unwrap(), vec![paper.id]);
    }

    #[tokio::test]
    async fn a_mark_updates_the_position_and_the_bot_together() {
        let (_dir, store) = open().await;
        let b = bot(&store, false).await;
        let position = crate::PositionRow {
            bot: b.id,
            pair: "BTC/USDT".parse().unwrap(),
            entry_price: Price::new(dec!(100)),
            current_price: Price::new(dec!(110)),
            amount: Qty::new(dec!(0.1)),
            unrealized_pnl: Quote::new(dec!(1)),
        };
        let risk = crate::RiskMemoryRow { peak: dec!(105), day: Some((4, dec!(100))), week: None };
        let mark =
            crate::MarkRow { position, current_balance: Quote::new(dec!(101)), total_pnl: Quote::new(dec!(1)), risk };
        assert_eq!(store.risk_memory(b.id).await.unwrap(), None, "nothing before the first mark");
        store.record_mark(&mark, Timestamp::from_millis(3)).await.unwrap();
        let mut later = mark.clone();
        later.position.current_price = Price::new(dec!(90));
        later.position.unrealized_pnl = Quote::new(dec!(-1));
        store.record_mark(&later, Timestamp::from_millis(4)).await.unwrap();
        let positions = store.positions(b.id).await.unwrap();
        assert_eq!(positions.len(), 1, "one row per bot and pair");
        assert_eq!(
            (positions[0].current_price, positions[0].unrealized_pnl),
            (Price::new(dec!(90)), Quote::new(dec!(-1)))
        );
        assert_eq!(store.risk_memory(b.id).await.unwrap(), Some(risk), "the risk stops' memory survives");
        let stored = store.bot(b.id).await.unwrap();
        assert_eq!((stored.current_balance, stored.total_pnl), (Quote::new(dec!(101)), Quote::new(dec!(1))));
        let mut gone = later;
        gone.position.bot = BotId(999);
        assert!(store.record_mark(&gone, Timestamp::from_millis(5)).await.is_err(), "no mark for a missing bot");
        assert!(store.positions(BotId(999)).await.unwrap().is_empty(), "nothing half-written");
    }

    #[tokio::test]
    async fn alerts_are_recorded_per_bot_or_global() {
        let (_dir, store) = open().await;
        let b = bot(&store, false).await;
        let kind = domain::alert::AlertKind::KillSwitch;
        store.insert_alert(Some(b.id), kind, "bot killed", Timestamp::from_millis(1)).await.unwrap();
        store.insert_alert(None, kind, "global kill", Timestamp::from_millis(2)).await.unwrap();
        assert_eq!(store.alerts(Some(b.id), 10).await.unwrap()[0].message, "bot killed");
        assert_eq!(store.alerts(None, 10).await.unwrap().len(), 2);
    }

    #[tokio::test]
    async fn a_rotation_changes_the_strategy_and_is_recorded_with_its_reason() {
        use domain::strategy::{StrategyId, StrategyParams};
        let (_dir, store) = open().await;
        let b = bot(&store, false).await;
        let from = b.config.strategy;
        let rotated = store
            .record_rotation(
                b.id,
                from,
                StrategyId::MeanReversion,
                &StrategyParams::new(),
                "3 losses",
                Timestamp::from_millis(9),
            )
            .await
            .unwrap();
        assert_eq!(rotated.config.strategy, StrategyId::MeanReversion);
        let rotations = store.rotations(b.id).await.unwrap();
        assert_eq!(
            rotations,
            vec![(from, StrategyId::MeanReversion, "3 losses".to_owned(), Timestamp::from_millis(9))]
        );
        store
            .record_switch(b.id, StrategyId::MeanReversion, StrategyId::EventFiller, "auto", Timestamp::from_millis(10))
            .await
            .unwrap();
        assert_eq!(store.rotations(b.id).await.unwrap().len(), 2);
        assert_eq!(
            store.bot(b.id).await.unwrap().config.strategy,
            StrategyId::MeanReversion,
            "a switch keeps the configuration"
        );
        let none = StrategyParams::new();
        let missing = store.record_rotation(BotId(999), from, from, &none, "x", Timestamp::from_millis(9)).await;
        assert!(missing.is_err(), "no rotation of a missing bot");
    }
}
