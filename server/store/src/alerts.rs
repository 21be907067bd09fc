//! The alert log.

use domain::{
    alert::{Alert, AlertKind},
    bot::BotId,
    time::Timestamp,
};
use sqlx::Row;

use crate::{Error, MAX_LIST_LIMIT, Store, codec::parse};

impl Store {
    /// Records an alert (`bot` is `None` for a global one).
    ///
    /// # Errors
    /// [`Error::Database`].
    pub async fn insert_alert(
        &self,
        bot: Option<BotId>,
        kind: AlertKind,
        message: &str,
        now: Timestamp,
    ) -> Result<Alert, Error> {
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO alerts_log (bot_id, alert_type, message, created_at) VALUES (?, ?, ?, ?) RETURNING id",
        )
        .bind(bot.map(|b| b.0))
        .bind(kind.as_str())
        .bind(message)
        .bind(now.millis())
        .fetch_one(&self.pool)
        .await?;
        Ok(Alert { id, bot_id: bot, kind, message: message.to_owned(), email_sent: false, created_at: now })
    }

    /// Records that an alert's email went out.
    ///
    /// # Errors
    /// [`Error::NotFound`] when there is no such alert.
    pub async fn mark_alert_emailed(&self, id: i64) -> Result<(), Error> {
        let done =
            sqlx::query("UPDATE alerts_log SET email_sent = 1 WHERE id = ?").bind(id).execute(&self.pool).await?;
        if done.rows_affected() == 0 {
            return Err(Error::NotFound { what: "alert", id });
        }
        Ok(())
    }

    /// Alerts, newest first: one bot's (`Some`) or all (`None`). `limit` is capped at
    /// [`MAX_LIST_LIMIT`].
    ///
    /// # Errors
    /// [`Error::Database`] or [`Error::Corrupt`].
    pub async fn alerts(&self, bot: Option<BotId>, limit: u32) -> Result<Vec<Alert>, Error> {
        let rows = sqlx::query(
            "SELECT * FROM alerts_log WHERE (?1 IS NULL OR bot_id = ?1) ORDER BY created_at DESC, id DESC LIMIT ?2",
        )
        .bind(bot.map(|b| b.0))
        .bind(limit.min(MAX_LIST_LIMIT))
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                Ok(Alert {
                    id: row.try_get("id")?,
                    bot_id: row.try_get::<Option<i64>, _>("bot_id")?.map(BotId),
                    kind: parse(row, "alerts_log", "alert_type")?,
                    message: row.try_get("message")?,
                    email_sent: row.try_get("email_sent")?,
                    created_at: Timestamp::from_millis(row.try_get("created_at")?),
                })
            })
            .collect()
    }
}
