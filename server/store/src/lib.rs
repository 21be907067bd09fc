//! tradingbot's SQLite store: the one place that reads and writes the database.
//!
//! Owns the connection pool (WAL, `synchronous=FULL`, foreign keys, busy timeout), the
//! embedded migrations of `migrations/`, and one repository module per concern. Every state
//! change is a single transaction. Money is stored as TEXT and read back exactly.
//! The database file is readable by its owner only (`0600`), and so are its `-wal` and
//! `-shm` files, which SQLite creates with the database's permissions.
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
        make_private(path).map_err(|source| Error::Permissions { path: path.display().to_string(), source })?;
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

/// Creates the database file empty (which SQLite takes for a new database) with mode `0600`
/// when missing, so it is never readable by others even for a moment, and takes group and
/// others' access from an existing one and its `-wal` and `-shm` files. SQLite gives the
/// files it creates beside the database the database's own permissions.
#[cfg(unix)]
fn make_private(path: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
    std::fs::OpenOptions::new().create(true).append(true).mode(0o600).open(path)?;
    for suffix in ["", "-wal", "-shm"] {
        let mut name = path.as_os_str().to_owned();
        name.push(suffix);
        let file = Path::new(&name);
        if file.exists() {
            std::fs::set_permissions(file, std::fs::Permissions::from_mode(0o600))?;
        }
    }
    Ok(())
}

/// Permissions are left to the system off Unix.
#[cfg(not(unix))]
fn make_private(_path: &Path) -> std::io::Result<()> {
    Ok(())
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

    #[cfg(unix)]
    #[tokio::test]
    async fn the_database_and_its_wal_files_are_readable_by_their_owner_only() {
        use std::os::unix::fs::PermissionsExt;
        let mode = |path: &std::path::Path| std::fs::metadata(path).unwrap().permissions().mode() & 0o777;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.db");
        let store = Store::open(&path).await.unwrap();
        bot(&store, true).await;
        for file in ["t.db", "t.db-wal", "t.db-shm"] {
            assert_eq!(mode(&dir.path().join(file)), 0o600, "{file}");
        }
        store.close().await;
        // A database made readable by others (by an older version, or by hand) is closed again.
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        let store = Store::open(&path).await.unwrap();
        assert_eq!(mode(&path), 0o600);
        assert_eq!(store.bots(crate::BotFilter::default()).await.unwrap().len(), 1, "the data is kept");
    }
}
