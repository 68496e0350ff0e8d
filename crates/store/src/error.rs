//! The store's error type, and the mapping of Diesel's and r2d2's errors onto it.
//!
//! Messages never carry a token secret or a database password: secrets never reach a query as
//! text, and URLs are printed through [`crate::db::redact_url`].

use diesel::result::{DatabaseErrorKind, Error as DieselError};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("not found")]
    NotFound,
    /// A uniqueness rule was broken (a username, a slug, a path...).
    #[error("conflict: {0}")]
    Conflict(String),
    /// Bad configuration: an unsupported database URL, a missing directory, a zero pool size.
    #[error("invalid configuration: {0}")]
    Invalid(String),
    /// The database cannot be reached or is busy: worth retrying later.
    #[error("database unavailable: {0}")]
    Unavailable(String),
    /// A stored value does not parse back into its domain type: the database was changed
    /// behind Ferry's back, or a migration is missing.
    #[error("corrupt stored data: {0}")]
    Corrupt(String),
    #[error("database error: {0}")]
    Db(#[source] DieselError),
    #[error("i/o error: {0}")]
    Io(#[from] std::io::Error),
    #[error("migration failed: {0}")]
    Migration(String),
}

impl From<DieselError> for StoreError {
    fn from(e: DieselError) -> Self {
        match e {
            DieselError::NotFound => StoreError::NotFound,
            DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, info) => {
                StoreError::Conflict(info.message().to_owned())
            }
            DieselError::DatabaseError(DatabaseErrorKind::ClosedConnection, info) => {
                StoreError::Unavailable(info.message().to_owned())
            }
            // SQLITE_BUSY once busy_timeout has run out: another writer held the lock too long.
            DieselError::DatabaseError(DatabaseErrorKind::Unknown, info)
                if info.message() == "database is locked" =>
            {
                StoreError::Unavailable(info.message().to_owned())
            }
            other => StoreError::Db(other),
        }
    }
}

impl From<r2d2::Error> for StoreError {
    fn from(e: r2d2::Error) -> Self {
        StoreError::Unavailable(e.to_string())
    }
}
