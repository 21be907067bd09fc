//! Decoding of stored text columns into domain types, with errors that name the column.

use std::str::FromStr;

use sqlx::{Row, sqlite::SqliteRow};

use crate::Error;

/// Reads column `column` of `table` and parses it with `T::from_str`.
pub(crate) fn parse<T: FromStr<Err = String>>(
    row: &SqliteRow,
    table: &'static str,
    column: &'static str,
) -> Result<T, Error> {
    let text: String = row.try_get(column)?;
    text.parse().map_err(|reason| Error::Corrupt { table, column, reason })
}

/// Like [`parse`] for a nullable column.
pub(crate) fn parse_opt<T: FromStr<Err = String>>(
    row: &SqliteRow,
    table: &'static str,
    column: &'static str,
) -> Result<Option<T>, Error> {
    let text: Option<String> = row.try_get(column)?;
    text.map(|t| t.parse().map_err(|reason| Error::Corrupt { table, column, reason })).transpose()
}
