//! The alert log.

use domain::{alert::Alert, bot::BotId, time::Timestamp};
use sqlx::Row;

use crate::{Error, MAX_LIST_LIMIT, Store, codec::parse};

impl Store {
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
