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
    Io(#[source] std::io::Error),
    #[error("migration failed: {0}")]
    Migration(String),
    /// The `Idempotency-Key` claim a unit of work ran under was taken over by a retry (its
    /// lease lapsed): the retry runs the request, so this one wrote nothing.
    #[error("the Idempotency-Key claim was taken over")]
    ClaimTakenOver,
}

impl From<DieselError> for StoreError {
    fn from(e: DieselError) -> Self {
        match e {
            DieselError::NotFound => StoreError::NotFound,
            DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, info) => {
                StoreError::Conflict(info.message().to_owned())
            }
            DieselError::DatabaseError(
                DatabaseErrorKind::ClosedConnection | DatabaseErrorKind::UnableToSendCommand,
                info,
            ) => StoreError::Unavailable(info.message().to_owned()),
            DieselError::DatabaseError(DatabaseErrorKind::Unknown, info)
                if is_outage_message(info.message()) =>
            {
                StoreError::Unavailable(info.message().to_owned())
            }
            // The commit failed and so did the rollback: the commit's cause decides.
            DieselError::RollbackErrorOnCommit { commit_error, .. } => {
                StoreError::from(*commit_error)
            }
            // Left behind by a rollback that could not be sent: the connection is gone.
            DieselError::BrokenTransactionManager => {
                StoreError::Unavailable("the connection broke inside a transaction".to_owned())
            }
            other => StoreError::Db(other),
        }
    }
}

/// Driver messages that mean "the database cannot serve now, try later" rather than "this
/// statement is wrong". Diesel reports them as `Unknown`, so the message is all there is.
fn is_outage_message(message: &str) -> bool {
    const OUTAGES: [&str; 9] = [
        // SQLITE_BUSY / SQLITE_LOCKED once busy_timeout has run out.
        "database is locked",
        "database table is locked",
        // SQLITE_READONLY: the file or its directory lost write permission.
        "attempt to write a readonly database",
        // SQLITE_IOERR, SQLITE_FULL, SQLITE_CANTOPEN: the disk under the file.
        "disk I/O error",
        "database or disk is full",
        "unable to open database file",
        // PostgreSQL shutting down or restarting (57P01..57P03), or out of connection slots.
        "terminating connection",
        "the database system is",
        "too many clients",
    ];
    OUTAGES.iter().any(|outage| message.contains(outage))
}

/// Content that cannot be written for want of space (or a file system gone read-only), or an
/// object store out of reach, is an outage, worth retrying; any other I/O failure is a fault.
impl From<std::io::Error> for StoreError {
    fn from(e: std::io::Error) -> Self {
        use std::io::ErrorKind;
        match e.kind() {
            ErrorKind::StorageFull | ErrorKind::QuotaExceeded | ErrorKind::ReadOnlyFilesystem => {
                StoreError::Unavailable(format!("the content store cannot be written: {e}"))
            }
            // An object store out of reach.
            ErrorKind::ConnectionRefused
            | ErrorKind::ConnectionReset
            | ErrorKind::ConnectionAborted
            | ErrorKind::NotConnected
            | ErrorKind::TimedOut => {
                StoreError::Unavailable(format!("the content store cannot be reached: {e}"))
            }
            _ => StoreError::Io(e),
        }
    }
}

impl From<r2d2::Error> for StoreError {
    fn from(e: r2d2::Error) -> Self {
        StoreError::Unavailable(e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use diesel::connection::SimpleConnection;
    use diesel::{Connection, SqliteConnection};

    fn unknown(message: &str) -> DieselError {
        DieselError::DatabaseError(DatabaseErrorKind::Unknown, Box::new(message.to_owned()))
    }

    fn is_unavailable(e: DieselError) -> bool {
        matches!(StoreError::from(e), StoreError::Unavailable(_))
    }

    #[test]
    fn a_full_content_store_is_unavailable() {
        for errno in [
            28,  /* ENOSPC */
            122, /* EDQUOT */
            30,  /* EROFS */
        ] {
            let e = std::io::Error::from_raw_os_error(errno);
            assert!(
                matches!(StoreError::from(e), StoreError::Unavailable(_)),
                "{errno}"
            );
        }
        let unreachable = std::io::Error::from(std::io::ErrorKind::ConnectionRefused);
        assert!(matches!(
            StoreError::from(unreachable),
            StoreError::Unavailable(_)
        ));
        let missing = std::io::Error::from(std::io::ErrorKind::NotFound);
        assert!(matches!(StoreError::from(missing), StoreError::Io(_)));
    }

    #[test]
    fn outages_are_unavailable() {
        for message in [
            "database is locked",
            "attempt to write a readonly database",
            "disk I/O error",
            "terminating connection due to administrator command",
            "FATAL:  the database system is shutting down",
            "sorry, too many clients already",
        ] {
            assert!(is_unavailable(unknown(message)), "{message}");
        }
        let closed = DieselError::DatabaseError(
            DatabaseErrorKind::ClosedConnection,
            Box::new("server closed the connection unexpectedly".to_owned()),
        );
        assert!(is_unavailable(closed));
        let unsent = DieselError::DatabaseError(
            DatabaseErrorKind::UnableToSendCommand,
            Box::new("no connection to the server".to_owned()),
        );
        assert!(is_unavailable(unsent));
        assert!(is_unavailable(DieselError::BrokenTransactionManager));
        assert!(is_unavailable(DieselError::RollbackErrorOnCommit {
            rollback_error: Box::new(DieselError::BrokenTransactionManager),
            commit_error: Box::new(unknown("database is locked")),
        }));
    }

    #[test]
    fn bugs_and_bad_statements_are_not_outages() {
        assert!(!is_unavailable(unknown("no such table: x")));
        assert!(!is_unavailable(unknown("syntax error at or near \"x\"")));
        assert!(matches!(
            StoreError::from(DieselError::NotFound),
            StoreError::NotFound
        ));
        let unique = DieselError::DatabaseError(
            DatabaseErrorKind::UniqueViolation,
            Box::new("duplicate key".to_owned()),
        );
        assert!(matches!(StoreError::from(unique), StoreError::Conflict(_)));
    }

    /// The real driver's words, not a copy of them: a write on a read-only SQLite file.
    #[test]
    fn a_write_to_a_read_only_sqlite_file_is_unavailable() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ro.db");
        let mut rw = SqliteConnection::establish(path.to_str().unwrap()).unwrap();
        rw.batch_execute("CREATE TABLE t (x INTEGER)").unwrap();
        let mut ro =
            SqliteConnection::establish(&format!("file:{}?mode=ro", path.display())).unwrap();
        let error = ro.batch_execute("INSERT INTO t VALUES (1)").unwrap_err();
        assert!(is_unavailable(error));
    }

    /// SQLITE_BUSY from the real driver: another connection holds an exclusive lock.
    #[test]
    fn a_locked_sqlite_file_is_unavailable() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("locked.db");
        let path = path.to_str().unwrap();
        let mut holder = SqliteConnection::establish(path).unwrap();
        holder
            .batch_execute("CREATE TABLE t (x INTEGER); BEGIN EXCLUSIVE")
            .unwrap();
        let mut writer = SqliteConnection::establish(path).unwrap();
        writer.batch_execute("PRAGMA busy_timeout = 0").unwrap();
        let error = writer
            .batch_execute("INSERT INTO t VALUES (1)")
            .unwrap_err();
        assert!(is_unavailable(error));
    }
}
