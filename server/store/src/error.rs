//! The store's error type.

/// What can go wrong reading or writing the database.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// SQLite or the pool failed.
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    /// The database file could not be created or its permissions set.
    #[error("cannot make the database file {path} private: {source}")]
    Permissions {
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// Migrations could not be applied.
    #[error("database migration failed: {0}")]
    Migration(#[from] sqlx::migrate::MigrateError),
    /// A stored value does not decode: the file was edited by hand or is damaged.
    #[error("corrupt value in {table}.{column}: {reason}")]
    Corrupt {
        /// Table read.
        table: &'static str,
        /// Column read.
        column: &'static str,
        /// What did not decode.
        reason: String,
    },
    /// No row with the id asked for.
    #[error("{what} {id} not found")]
    NotFound {
        /// Kind of record.
        what: &'static str,
        /// Id asked for.
        id: i64,
    },
}
