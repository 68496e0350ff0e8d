//! Helpers shared by the row conversions: times, JSON columns, and parse failures.

use std::fmt::Display;

use chrono::{DateTime, NaiveDateTime, SubsecRound, Utc};
use serde::de::DeserializeOwned;

use crate::error::StoreError;

/// The current time as stored. Microseconds are what PostgreSQL keeps, so both backends
/// return exactly the value written.
pub(crate) fn now() -> NaiveDateTime {
    to_db_time(Utc::now())
}

/// A time as stored: UTC, to the microsecond.
pub(crate) fn to_db_time(t: DateTime<Utc>) -> NaiveDateTime {
    t.naive_utc().trunc_subsecs(6)
}

pub(crate) fn from_db_time(t: NaiveDateTime) -> DateTime<Utc> {
    t.and_utc()
}

/// A stored value that does not parse: names the table and row so that it can be found.
pub(crate) fn corrupt(table: &str, id: impl Display, error: impl Display) -> StoreError {
    StoreError::Corrupt(format!("{table} row {id}: {error}"))
}

/// Parses a JSON column.
pub(crate) fn from_json<T: DeserializeOwned>(
    table: &str,
    id: i64,
    text: &str,
) -> Result<T, StoreError> {
    serde_json::from_str(text).map_err(|e| corrupt(table, id, e))
}

/// A JSON column's value for new rows that have no entries yet.
pub(crate) const EMPTY_JSON_OBJECT: &str = "{}";
pub(crate) const EMPTY_JSON_ARRAY: &str = "[]";

/// Escapes the `LIKE` wildcards `%` and `_`, and the escape character itself, with `\`: use
/// with `.escape('\\')`.
pub(crate) fn escape_like(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}
