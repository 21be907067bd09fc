//! Bots: configuration, lifecycle status and its history.

use std::collections::BTreeMap;

use domain::{
    bot::{Bot, BotConfig, BotId, BotStatus, RiskLimits, RunningTime},
    money::{Percent, Quote},
    strategy::{RawParam, StrategyDefaults, StrategyId, StrategyParams, validate_params},
    time::Timestamp,
};
use sqlx::{
    Row, Sqlite,
    query::Query,
    sqlite::{SqliteArguments, SqliteRow},
};

use crate::{
    Error, Store,
    codec::{parse, parse_opt},
};

/// A recorded change of a bot: `(from, to, reason, at)`.
pub type Transition<T> = (T, T, String, Timestamp);

/// Which bots to list.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BotFilter {
    /// Only bots in this status.
    pub status: Option<BotStatus>,
}

/// A lifecycle change to record atomically with its history row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusChange {
    /// Bot changed.
    pub id: BotId,
    /// Status the caller saw; the change is refused if the bot moved on meanwhile.
    pub from: BotStatus,
    /// New status.
    pub to: BotStatus,
    /// Whether this is a kill (sets `killed_at`); a start clears `killed_at`.
    pub kill: bool,
    /// Who or what asked, and why; kept in the history.
    pub reason: String,
}

const TABLE: &str = "bots";

fn opt_text<T: ToString>(value: Option<T>) -> Option<String> {
    value.map(|v| v.to_string())
}

fn decode(row: &SqliteRow) -> Result<Bot, Error> {
    let strategy: StrategyId = parse(row, TABLE, "strategy")?;
    let params_json: String = row.try_get("strategy_params")?;
    let raw: BTreeMap<String, RawParam> = serde_json::from_str(&params_json).map_err(|e| Error::Corrupt {
        table: TABLE,
        column: "strategy_params",
        reason: e.to_string(),
    })?;
    let strategy_params = validate_params(strategy, &raw, &StrategyDefaults::new()).map_err(|e| Error::Corrupt {
        table: TABLE,
        column: "strategy_params",
        reason: e.to_string(),
    })?;
    let hours: Option<u32> = row.try_get("running_time_hours")?;
    let timestamp = |column: &str| -> Result<Option<Timestamp>, Error> {
        Ok(row.try_get::<Option<i64>, _>(column)?.map(Timestamp::from_millis))
    };
    let config = BotConfig {
        name: row.try_get("name")?,
        pair: parse(row, TABLE, "trading_pair")?,
        exchange: row.try_get("exchange")?,
        strategy,
        strategy_params,
        budget: parse(row, TABLE, "budget")?,
        compound_enabled: row.try_get("compound_enabled")?,
        running_time: hours.map_or(RunningTime::Forever, RunningTime::Hours),
        risk: RiskLimits {
            stop_loss_percent: parse_opt::<Percent>(row, TABLE, "stop_loss_percent")?,
            stop_loss_absolute: parse_opt::<Quote>(row, TABLE, "stop_loss_absolute")?,
            drawdown_limit_percent: parse_opt::<Percent>(row, TABLE, "drawdown_limit_percent")?,
            drawdown_limit_absolute: parse_opt::<Quote>(row, TABLE, "drawdown_limit_absolute")?,
            daily_loss_limit: parse_opt::<Quote>(row, TABLE, "daily_loss_limit")?,
            weekly_loss_limit: parse_opt::<Quote>(row, TABLE, "weekly_loss_limit")?,
            max_strategy_rotations: row.try_get("max_strategy_rotations")?,
            consecutive_loss_limit: row.try_get("consecutive_loss_limit")?,
        },
        is_dry_run: row.try_get("is_dry_run")?,
    };
    Ok(Bot {
        id: BotId(row.try_get("id")?),
        config,
        status: parse(row, TABLE, "status")?,
        killed_at: timestamp("killed_at")?,
        current_balance: parse(row, TABLE, "current_balance")?,
        total_pnl: parse(row, TABLE, "total_pnl")?,
        created_at: Timestamp::from_millis(row.try_get("created_at")?),
        updated_at: Timestamp::from_millis(row.try_get("updated_at")?),
        started_at: timestamp("started_at")?,
        paused_at: timestamp("paused_at")?,
        stopped_at: timestamp("stopped_at")?,
    })
}

/// Binds the configuration columns, in the order `insert_bot` and `update_bot_config` list
/// them: name through is_dry_run.
fn bind_config<'q>(
    query: Query<'q, Sqlite, SqliteArguments<'q>>,
    config: &BotConfig,
) -> Query<'q, Sqlite, SqliteArguments<'q>> {
    let r = &config.risk;
    query
        .bind(config.name.clone())
        .bind(config.pair.to_string())
        .bind(config.exchange.clone())
        .bind(config.strategy.as_str())
        .bind(params_json(config))
        .bind(config.budget.to_string())
        .bind(config.compound_enabled)
        .bind(config.running_time.hours())
        .bind(opt_text(r.stop_loss_percent))
        .bind(opt_text(r.stop_loss_absolute))
        .bind(opt_text(r.drawdown_limit_percent))
        .bind(opt_text(r.drawdown_limit_absolute))
        .bind(opt_text(r.daily_loss_limit))
        .bind(opt_text(r.weekly_loss_limit))
        .bind(r.max_strategy_rotations)
        .bind(r.consecutive_loss_limit)
        .bind(config.is_dry_run)
}

fn params_json(config: &BotConfig) -> String {
    // A BTreeMap of ParamValue always serialises.
    serde_json::to_string(&config.strategy_params).unwrap_or_else(|_| "{}".to_owned())
}

/// Adds a `strategy_rotations` row within `tx`.
async fn insert_rotation(
    tx: &mut sqlx::Transaction<'_, Sqlite>,
    id: BotId,
    (from, to): (StrategyId, StrategyId),
    reason: &str,
    now: Timestamp,
) -> Result<(), Error> {
    sqlx::query("INSERT INTO strategy_rotations (bot_id, from_strategy, to_strategy, reason, created_at) VALUES (?, ?, ?, ?, ?)")
        .bind(id.0)
        .bind(from.as_str())
        .bind(to.as_str())
        .bind(reason)
        .bind(now.millis())
        .execute(&mut **tx)
        .await?;
    Ok(())
}

impl Store {
    /// Stores a new bot in status `created`, its wallet balance equal to its budget.
    ///
    /// # Errors
    /// [`Error::Database`] when the insert fails.
    pub async fn insert_bot(&self, config: &BotConfig, now: Timestamp) -> Result<Bot, Error> {
        let id: i64 = bind_config(
            sqlx::query(
                "INSERT INTO bots (name, trading_pair, exchange, strategy, strategy_params, budget, compound_enabled,
                running_time_hours, stop_loss_percent, stop_loss_absolute, drawdown_limit_percent,
                drawdown_limit_absolute, daily_loss_limit, weekly_loss_limit, max_strategy_rotations,
                consecutive_loss_limit, is_dry_run, status, current_balance, total_pnl, created_at, updated_at)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'created', ?, '0', ?, ?)
             RETURNING id",
            ),
            config,
        )
        .bind(config.budget.to_string())
        .bind(now.millis())
        .bind(now.millis())
        .fetch_one(&self.pool)
        .await?
        .try_get("id")?;
        self.bot(BotId(id)).await
    }

    /// One bot that has not been deleted.
    ///
    /// # Errors
    /// [`Error::NotFound`] when there is no such bot.
    pub async fn bot(&self, id: BotId) -> Result<Bot, Error> {
        let row = sqlx::query("SELECT * FROM bots WHERE id = ? AND deleted_at IS NULL")
            .bind(id.0)
            .fetch_optional(&self.pool)
            .await?
            .ok_or(Error::NotFound { what: "bot", id: id.0 })?;
        decode(&row)
    }

    /// Bots that have not been deleted, newest first.
    ///
    /// # Errors
    /// [`Error::Database`] or [`Error::Corrupt`].
    pub async fn bots(&self, filter: BotFilter) -> Result<Vec<Bot>, Error> {
        let rows =
            sqlx::query("SELECT * FROM bots WHERE deleted_at IS NULL AND (?1 IS NULL OR status = ?1) ORDER BY id DESC")
                .bind(filter.status.map(BotStatus::as_str))
                .fetch_all(&self.pool)
                .await?;
        rows.iter().map(decode).collect()
    }

    /// Replaces a bot's configuration, provided it is still in status `expected`.
    ///
    /// # Errors
    /// [`Error::NotFound`] when the bot does not exist or is no longer in status `expected`.
    pub async fn update_bot_config(
        &self,
        id: BotId,
        expected: BotStatus,
        config: &BotConfig,
        now: Timestamp,
    ) -> Result<Bot, Error> {
        let done = bind_config(
            sqlx::query(
                "UPDATE bots SET name = ?, trading_pair = ?, exchange = ?, strategy = ?, strategy_params = ?,
                budget = ?, compound_enabled = ?, running_time_hours = ?, stop_loss_percent = ?,
                stop_loss_absolute = ?, drawdown_limit_percent = ?, drawdown_limit_absolute = ?,
                daily_loss_limit = ?, weekly_loss_limit = ?, max_strategy_rotations = ?,
                consecutive_loss_limit = ?, is_dry_run = ?, updated_at = ?
             WHERE id = ? AND status = ? AND deleted_at IS NULL",
            ),
            config,
        )
        .bind(now.millis())
        .bind(id.0)
        .bind(expected.as_str())
        .execute(&self.pool)
        .await?;
        if done.rows_affected() == 0 {
            return Err(Error::NotFound { what: "bot", id: id.0 });
        }
        self.bot(id).await
    }

    /// Applies lifecycle changes in one transaction, each with its history row; either all
    /// land or none does.
    ///
    /// # Errors
    /// [`Error::NotFound`] when a bot does not exist or is no longer in its `from` status.
    pub async fn change_status(&self, changes: &[StatusChange], now: Timestamp) -> Result<Vec<Bot>, Error> {
        let mut tx = self.pool.begin().await?;
        for change in changes {
            let at = now.millis();
            let done = sqlx::query(
                "UPDATE bots SET status = ?1, updated_at = ?2,
                    started_at = CASE WHEN ?1 = 'running' THEN ?2 ELSE started_at END,
                    paused_at = CASE WHEN ?1 = 'paused' THEN ?2 ELSE paused_at END,
                    stopped_at = CASE WHEN ?1 = 'stopped' THEN ?2 ELSE stopped_at END,
                    killed_at = CASE WHEN ?3 THEN ?2 WHEN ?1 = 'running' THEN NULL ELSE killed_at END
                 WHERE id = ?4 AND status = ?5 AND deleted_at IS NULL",
            )
            .bind(change.to.as_str())
            .bind(at)
            .bind(change.kill)
            .bind(change.id.0)
            .bind(change.from.as_str())
            .execute(&mut *tx)
            .await?;
            if done.rows_affected() == 0 {
                return Err(Error::NotFound { what: "bot", id: change.id.0 });
            }
            sqlx::query(
                "INSERT INTO bot_status_history (bot_id, from_status, to_status, reason, created_at)
                 VALUES (?, ?, ?, ?, ?)",
            )
            .bind(change.id.0)
            .bind(change.from.as_str())
            .bind(change.to.as_str())
            .bind(&change.reason)
            .bind(at)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        let mut bots = Vec::with_capacity(changes.len());
        for change in changes {
            bots.push(self.bot(change.id).await?);
        }
        Ok(bots)
    }

    /// Records a strategy rotation in one transaction: the bot's new strategy and parameters,
    /// and the `strategy_rotations` row with its reason.
    ///
    /// # Errors
    /// [`Error::NotFound`] when there is no such bot.
    pub async fn record_rotation(
        &self,
        id: BotId,
        from: StrategyId,
        to: StrategyId,
        params: &StrategyParams,
        reason: &str,
        now: Timestamp,
    ) -> Result<Bot, Error> {
        let params = serde_json::to_string(params).unwrap_or_else(|_| "{}".to_owned());
        let mut tx = self.pool.begin().await?;
        let done = sqlx::query(
            "UPDATE bots SET strategy = ?, strategy_params = ?, updated_at = ? WHERE id = ? AND deleted_at IS NULL",
        )
        .bind(to.as_str())
        .bind(params)
        .bind(now.millis())
        .bind(id.0)
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() == 0 {
            return Err(Error::NotFound { what: "bot", id: id.0 });
        }
        insert_rotation(&mut tx, id, (from, to), reason, now).await?;
        tx.commit().await?;
        self.bot(id).await
    }

    /// Records a switch of the strategy an Auto Mode bot runs (its configuration stays Auto).
    ///
    /// # Errors
    /// [`Error::Database`], for example for a bot that does not exist.
    pub async fn record_switch(
        &self,
        id: BotId,
        from: StrategyId,
        to: StrategyId,
        reason: &str,
        now: Timestamp,
    ) -> Result<(), Error> {
        let mut tx = self.pool.begin().await?;
        insert_rotation(&mut tx, id, (from, to), reason, now).await?;
        tx.commit().await?;
        Ok(())
    }

    /// A bot's strategy rotations and Auto Mode switches, oldest first: `(from, to, reason, at)`.
    ///
    /// # Errors
    /// [`Error::Database`] or [`Error::Corrupt`].
    pub async fn rotations(&self, id: BotId) -> Result<Vec<Transition<StrategyId>>, Error> {
        self.transitions(id, "strategy_rotations", ["from_strategy", "to_strategy"]).await
    }

    /// Rows `(from, to, reason, created_at)` of a bot's history table, oldest first.
    async fn transitions<T: std::str::FromStr<Err = String>>(
        &self,
        id: BotId,
        table: &'static str,
        [from, to]: [&'static str; 2],
    ) -> Result<Vec<Transition<T>>, Error> {
        let sql = format!("SELECT {from}, {to}, reason, created_at FROM {table} WHERE bot_id = ? ORDER BY id");
        let rows = sqlx::query(&sql).bind(id.0).fetch_all(&self.pool).await?;
        rows.iter()
            .map(|row| {
                Ok((
                    parse(row, table, from)?,
                    parse(row, table, to)?,
                    row.try_get("reason")?,
                    Timestamp::from_millis(row.try_get("created_at")?),
                ))
            })
            .collect()
    }

    /// Marks a bot deleted unless it is running. Its orders, fills and history stay.
    ///
    /// # Errors
    /// [`Error::NotFound`] when the bot does not exist or is running.
    pub async fn delete_bot(&self, id: BotId, now: Timestamp) -> Result<(), Error> {
        let done = sqlx::query(
            "UPDATE bots SET deleted_at = ?, updated_at = ? WHERE id = ? AND status != 'running' AND deleted_at IS NULL",
        )
        .bind(now.millis())
        .bind(now.millis())
        .bind(id.0)
        .execute(&self.pool)
        .await?;
        if done.rows_affected() == 0 {
            return Err(Error::NotFound { what: "bot", id: id.0 });
        }
        Ok(())
    }

    /// The lifecycle history of a bot, oldest first: `(from, to, reason, at)`.
    ///
    /// # Errors
    /// [`Error::Database`] or [`Error::Corrupt`].
    pub async fn status_history(&self, id: BotId) -> Result<Vec<Transition<BotStatus>>, Error> {
        self.transitions(id, "bot_status_history", ["from_status", "to_status"]).await
    }
}
