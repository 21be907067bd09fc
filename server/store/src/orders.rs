//! Orders and positions of a bot, as the API lists them.

use domain::{
    bot::BotId,
    money::{Price, Qty, Quote},
    order::{DecisionRecord, Order, OrderStatus, Position},
    pair::Pair,
    time::Timestamp,
};
use rust_decimal::Decimal;
use sqlx::{Row, sqlite::SqliteRow};

use crate::{
    Error, MAX_LIST_LIMIT, Store,
    codec::{parse, parse_opt},
};

/// A bot's position as the runtime computes it from the bot's own fills.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PositionRow {
    /// The bot.
    pub bot: BotId,
    /// The pair held.
    pub pair: Pair,
    /// Average cost of the holdings.
    pub entry_price: Price,
    /// The last market price.
    pub current_price: Price,
    /// Base quantity held (zero once sold out).
    pub amount: Qty,
    /// Value at the current price less cost.
    pub unrealized_pnl: Quote,
}

/// A P&L mark of a bot: its position, its wallet figures, and what its risk stops remember.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MarkRow {
    /// The position.
    pub position: PositionRow,
    /// Budget plus total P&L.
    pub current_balance: Quote,
    /// Realised plus unrealised P&L.
    pub total_pnl: Quote,
    /// The risk stops' memory.
    pub risk: RiskMemoryRow,
}

/// What a bot's risk stops remember: the equity peak and the equity at the start of the
/// current day and week (with their numbers).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RiskMemoryRow {
    /// Equity peak.
    pub peak: Decimal,
    /// Day number and the equity when it began.
    pub day: Option<(i64, Decimal)>,
    /// Week number and the equity when it began.
    pub week: Option<(i64, Decimal)>,
}

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
        exchange: row.try_get("exchange")?,
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

    /// A bot's orders that may still change (pending, open, partially filled, unknown), oldest
    /// first: what a restart reconciles with the venue.
    ///
    /// # Errors
    /// [`Error::Database`] or [`Error::Corrupt`].
    pub async fn open_orders(&self, bot: BotId, simulated: bool) -> Result<Vec<Order>, Error> {
        let table = if simulated { "simulated_orders" } else { "orders" };
        let sql = format!(
            "SELECT * FROM {table} WHERE bot_id = ? AND status IN ('pending', 'open', 'partially_filled', 'unknown')
             ORDER BY id"
        );
        let rows = sqlx::query(&sql).bind(bot.0).fetch_all(&self.pool).await?;
        rows.iter().map(|row| decode_order(row, table)).collect()
    }

    /// One order of a bot by its client order id.
    ///
    /// # Errors
    /// [`Error::NotFound`] when the bot has no such order.
    pub async fn order(&self, bot: BotId, simulated: bool, client_order_id: &str) -> Result<Order, Error> {
        let table = if simulated { "simulated_orders" } else { "orders" };
        let row = sqlx::query(&format!("SELECT * FROM {table} WHERE bot_id = ? AND client_order_id = ?"))
            .bind(bot.0)
            .bind(client_order_id)
            .fetch_optional(&self.pool)
            .await?
            .ok_or(Error::NotFound { what: "order of bot", id: bot.0 })?;
        decode_order(&row, table)
    }

    /// Whether the bot has traded: a fill, or an order that may still change, live or simulated.
    /// Such a bot's pair, venue account and mode are part of its history.
    ///
    /// # Errors
    /// [`Error::Database`].
    pub async fn has_trading_history(&self, bot: BotId) -> Result<bool, Error> {
        let traded: bool = sqlx::query_scalar(
            "SELECT EXISTS (SELECT 1 FROM fills WHERE bot_id = ?1) OR EXISTS (SELECT 1 FROM simulated_fills WHERE bot_id = ?1)
                OR EXISTS (SELECT 1 FROM orders WHERE bot_id = ?1 AND status IN ('pending', 'open', 'partially_filled', 'unknown'))
                OR EXISTS (SELECT 1 FROM simulated_orders WHERE bot_id = ?1 AND status IN ('pending', 'open', 'partially_filled', 'unknown'))",
        )
        .bind(bot.0)
        .fetch_one(&self.pool)
        .await?;
        Ok(traded)
    }

    /// Bots (not deleted) with live or simulated orders that may still change: they need
    /// following even when not running.
    ///
    /// # Errors
    /// [`Error::Database`].
    pub async fn bots_with_open_orders(&self) -> Result<Vec<BotId>, Error> {
        let ids: Vec<i64> = sqlx::query_scalar(
            "SELECT DISTINCT o.bot_id FROM (SELECT bot_id, status FROM orders UNION ALL SELECT bot_id, status FROM simulated_orders) o
             JOIN bots b ON b.id = o.bot_id
             WHERE b.deleted_at IS NULL AND o.status IN ('pending', 'open', 'partially_filled', 'unknown')
             ORDER BY o.bot_id",
        )
        .fetch_all(&self.pool)
        .await?;
        Ok(ids.into_iter().map(BotId).collect())
    }

    /// Records a P&L mark in one transaction: the bot's position in its pair (replacing the
    /// previous figures), its wallet value (budget plus total P&L) and its total P&L.
    ///
    /// # Errors
    /// [`Error::NotFound`] when there is no such bot, [`Error::Database`] otherwise.
    pub async fn record_mark(&self, mark: &MarkRow, now: Timestamp) -> Result<Position, Error> {
        let position = &mark.position;
        let mut tx = self.pool.begin().await?;
        let risk = &mark.risk;
        let done = sqlx::query(
            "UPDATE bots SET current_balance = ?, total_pnl = ?, updated_at = ?, risk_equity_peak = ?, risk_day = ?,
                risk_day_start = ?, risk_week = ?, risk_week_start = ?
             WHERE id = ?",
        )
        .bind(mark.current_balance.to_string())
        .bind(mark.total_pnl.to_string())
        .bind(now.millis())
        .bind(risk.peak.to_string())
        .bind(risk.day.map(|d| d.0))
        .bind(risk.day.map(|d| d.1.to_string()))
        .bind(risk.week.map(|w| w.0))
        .bind(risk.week.map(|w| w.1.to_string()))
        .bind(position.bot.0)
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() == 0 {
            return Err(Error::NotFound { what: "bot", id: position.bot.0 });
        }
        let row = sqlx::query(
            "INSERT INTO positions (bot_id, trading_pair, entry_price, current_price, amount, unrealized_pnl, created_at, updated_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?7)
             ON CONFLICT (bot_id, trading_pair) DO UPDATE SET entry_price = ?3, current_price = ?4, amount = ?5,
                unrealized_pnl = ?6, updated_at = ?7
             RETURNING id, created_at",
        )
        .bind(position.bot.0)
        .bind(position.pair.to_string())
        .bind(position.entry_price.to_string())
        .bind(position.current_price.to_string())
        .bind(position.amount.to_string())
        .bind(position.unrealized_pnl.to_string())
        .bind(now.millis())
        .fetch_one(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(Position {
            id: row.try_get("id")?,
            bot_id: position.bot,
            pair: position.pair.clone(),
            entry_price: position.entry_price,
            current_price: position.current_price,
            amount: position.amount,
            unrealized_pnl: position.unrealized_pnl,
            created_at: Timestamp::from_millis(row.try_get("created_at")?),
            updated_at: now,
        })
    }

    /// What a bot's risk stops remembered at its last mark (none before its first).
    ///
    /// # Errors
    /// [`Error::Database`] or [`Error::Corrupt`].
    pub async fn risk_memory(&self, bot: BotId) -> Result<Option<RiskMemoryRow>, Error> {
        let row = sqlx::query(
            "SELECT risk_equity_peak, risk_day, risk_day_start, risk_week, risk_week_start FROM bots WHERE id = ?",
        )
        .bind(bot.0)
        .fetch_optional(&self.pool)
        .await?;
        let Some(row) = row else { return Ok(None) };
        let table = "bots";
        let Some(peak) = parse_opt::<Quote>(&row, table, "risk_equity_peak")?.map(Quote::value) else {
            return Ok(None);
        };
        let period = |index: &'static str, start: &'static str| -> Result<Option<(i64, Decimal)>, Error> {
            let index: Option<i64> = row.try_get(index)?;
            Ok(index.zip(parse_opt::<Quote>(&row, table, start)?.map(Quote::value)))
        };
        Ok(Some(RiskMemoryRow {
            peak,
            day: period("risk_day", "risk_day_start")?,
            week: period("risk_week", "risk_week_start")?,
        }))
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
