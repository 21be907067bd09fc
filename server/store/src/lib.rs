//! tradingbot's SQLite store: the one place that reads and writes the database.
//!
//! Owns the connection pool (WAL, `synchronous=FULL`, foreign keys, busy timeout), the
//! embedded migrations of `migrations/`, and one repository module per concern. Every state
//! change is a single transaction. Money is stored as TEXT and read back exactly.
//!
//! **Architecture Invariant:** only `tradingd` uses this crate, so SQLite has one writer.
//! **Architecture Invariant:** nothing here decides business rules; callers validate first.

mod alerts;
mod bots;
mod codec;
mod error;
mod execution;
mod orders;
mod reports;

use std::{path::Path, time::Duration};

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous};

pub use crate::{
    bots::{BotFilter, StatusChange, Transition},
    error::Error,
    execution::{FillRow, NewOrderRow, OrderUpdateRow, StoredFill},
    orders::{MarkRow, PositionRow, RiskMemoryRow},
    reports::{FeeRow, PnlGrouping, PnlPoint, PnlRow, ReportFilter, Stats, TaxRow},
};

/// Most rows one listing (orders, alerts) returns.
pub const MAX_LIST_LIMIT: u32 = 1000;

/// Handle to the database; cheap to clone.
#[derive(Debug, Clone)]
pub struct Store {
    pool: SqlitePool,
}

impl Store {
    /// Opens (creating if needed) the database file at `path` and applies pending migrations.
    ///
    /// # Errors
    /// [`Error::Database`] when the file cannot be opened, [`Error::Migration`] when the
    /// schema cannot be brought up to date.
    pub async fn open(path: &Path) -> Result<Self, Error> {
        let options = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(10));
        let pool = SqlitePoolOptions::new().max_connections(4).connect_with(options).await?;
        sqlx::migrate!("../../migrations").run(&pool).await?;
        Ok(Self { pool })
    }

    /// Closes every connection, waiting for running statements to finish.
    pub async fn close(&self) {
        self.pool.close().await;
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use domain::{
        bot::{Bot, BotConfig, BotConfigInput, ValidationContext},
        time::Timestamp,
    };
    use sqlx::Row;

    use super::Store;

    /// A fresh store in a temporary directory (kept alive by the returned guard).
    pub(crate) async fn open() -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("t.db")).await.unwrap();
        (dir, store)
    }

    /// Inserts a BTC/USDT bot.
    pub(crate) async fn bot(store: &Store, dry_run: bool) -> Bot {
        let ctx =
            ValidationContext { exchanges: vec!["sim".into()], default_exchange: "sim".into(), ..Default::default() };
        let input = BotConfigInput {
            trading_pair: Some("BTC/USDT".into()),
            strategy: Some("dca_accumulator".into()),
            budget: Some("1000".into()),
            is_dry_run: Some(dry_run),
            ..BotConfigInput::default()
        };
        store.insert_bot(&BotConfig::create(&input, &ctx).unwrap(), Timestamp::from_millis(0)).await.unwrap()
    }

    #[tokio::test]
    async fn connections_are_durable_and_checked() {
        let (_dir, store) = open().await;
        let mut conn = store.pool.acquire().await.unwrap();
        let mode: String = sqlx::query("PRAGMA journal_mode").fetch_one(&mut *conn).await.unwrap().get(0);
        let sync: i64 = sqlx::query("PRAGMA synchronous").fetch_one(&mut *conn).await.unwrap().get(0);
        let fks: i64 = sqlx::query("PRAGMA foreign_keys").fetch_one(&mut *conn).await.unwrap().get(0);
        assert_eq!((mode.as_str(), sync, fks), ("wal", 2, 1), "WAL, synchronous=FULL, foreign keys on");
        let orphan =
            sqlx::query("INSERT INTO alerts_log (bot_id, alert_type, message, created_at) VALUES (999, 'x', 'y', 0)")
                .execute(&mut *conn)
                .await;
        assert!(orphan.is_err(), "foreign keys are enforced");
    }
}
