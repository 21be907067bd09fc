//! Orders and positions of a bot, as the API lists them.

use domain::{
    bot::BotId,
    order::{DecisionRecord, Order, OrderStatus, Position},
    time::Timestamp,
};
use sqlx::{Row, sqlite::SqliteRow};

use crate::{
    Error, MAX_LIST_LIMIT, Store,
    codec::{parse, parse_opt},
};

fn decode_order(row: &SqliteRow, table: &'static str) -> Result<Order, Error> {
    let decision: String = row.try_get("decision")?;
    let decision: DecisionRecord = serde_json::from_str(&decision).map_err(|e| Error::Corrupt {
        table,
        column: "decision",
        reason: e.to_string(),
    })?;
    Ok(Order {
        id: row.try_get("id")?,
        bot_id: BotId(row.try_get("bot_id")?),
        client_order_id: row.try_get("client_order_id")?,
        exchange_order_id: row.try_get("exchange_order_id")?,
        order_type: parse(row, table, "order_type")?,
        pair: parse(row, table, "trading_pair")?,
        amount: parse_opt(row, table, "amount")?,
        price: parse_opt(row, table, "price")?,
        quote_amount: parse_opt(row, table, "quote_amount")?,
        filled_amount: parse(row, table, "filled_amount")?,
        average_price: parse_opt(row, table, "average_price")?,
        fees: parse(row, table, "fees")?,
        fee_asset: row.try_get("fee_asset")?,
        status: parse(row, table, "status")?,
        strategy_used: row.try_get("strategy_used")?,
        running_balance_after: parse_opt(row, table, "running_balance_after")?,
        is_simulated: row.try_get("is_simulated")?,
        decision,
        error: row.try_get("error")?,
        created_at: Timestamp::from_millis(row.try_get("created_at")?),
        updated_at: Timestamp::from_millis(row.try_get("updated_at")?),
        filled_at: row.try_get::<Option<i64>, _>("filled_at")?.map(Timestamp::from_millis),
    })
}

impl Store {
    /// A bot's orders, newest first: its simulated orders when `simulated`, else its live ones.
    /// `limit` is capped at [`MAX_LIST_LIMIT`].
    ///
    /// # Errors
    /// [`Error::Database`] or [`Error::Corrupt`].
    pub async fn orders(
        &self,
        bot: BotId,
        simulated: bool,
        status: Option<OrderStatus>,
        limit: u32,
    ) -> Result<Vec<Order>, Error> {
        let table = if simulated { "simulated_orders" } else { "orders" };
        let sql = format!(
            "SELECT * FROM {table} WHERE bot_id = ?1 AND (?2 IS NULL OR status = ?2) ORDER BY id DESC LIMIT ?3"
        );
        let rows = sqlx::query(&sql)
            .bind(bot.0)
            .bind(status.map(OrderStatus::as_str))
            .bind(limit.min(MAX_LIST_LIMIT))
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(|row| decode_order(row, table)).collect()
    }

    /// A bot's non-empty positions.
    ///
    /// # Errors
    /// [`Error::Database`] or [`Error::Corrupt`].
    pub async fn positions(&self, bot: BotId) -> Result<Vec<Position>, Error> {
        let rows = sqlx::query("SELECT * FROM positions WHERE bot_id = ? ORDER BY trading_pair")
            .bind(bot.0)
            .fetch_all(&self.pool)
            .await?;
        let table = "positions";
        let mut positions = Vec::with_capacity(rows.len());
        for row in &rows {
            let position = Position {
                id: row.try_get("id")?,
                bot_id: bot,
                pair: parse(row, table, "trading_pair")?,
                entry_price: parse(row, table, "entry_price")?,
                current_price: parse(row, table, "current_price")?,
                amount: parse(row, table, "amount")?,
                unrealized_pnl: parse(row, table, "unrealized_pnl")?,
                created_at: Timestamp::from_millis(row.try_get("created_at")?),
                updated_at: Timestamp::from_millis(row.try_get("updated_at")?),
            };
            if !position.amount.value().is_zero() {
                positions.push(position);
            }
        }
        Ok(positions)
    }
}
