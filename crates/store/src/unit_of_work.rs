//! The unit of work: how everything that reads or writes the database gets its connection.
//!
//! [`Store::write`] is the one place a transaction begins. Its inputs are its parameters: the
//! work, and the `Idempotency-Key` claim of the request it serves, if any, which it marks applied
//! in the same transaction (see [`crate::idempotency`]). Repository functions that write several
//! rows wrap them in [`atomic`]: a savepoint inside a unit of work, a transaction of their own
//! outside one (a test, a tool).

use diesel::connection::{AnsiTransactionManager, TransactionManager};
use diesel::prelude::*;

use crate::db::{DbConnection, Store};
use crate::error::StoreError;
use crate::idempotency::{self, Applying};

impl Store {
    /// Runs `work` on one pooled connection, in no transaction: for reads, each statement
    /// seeing what was committed when it ran. Blocking: call it from blocking code.
    pub fn read<T, E>(&self, work: impl FnOnce(&mut DbConnection) -> Result<T, E>) -> Result<T, E>
    where
        E: From<StoreError>,
    {
        work(&mut *self.conn()?)
    }

    /// Runs `work` in one transaction on one pooled connection, which commits if `work`
    /// succeeds and rolls back if it fails. Under a keyed request's `claim` the transaction
    /// also marks the key applied before it commits, so the request's writes and that mark
    /// commit together or not at all; a claim taken over meanwhile fails it with
    /// [`StoreError::ClaimTakenOver`] and nothing is written. Blocking.
    ///
    /// On SQLite the transaction starts with `BEGIN IMMEDIATE`, taking the write lock before
    /// the first read: a deferred transaction that reads first can fail with SQLITE_BUSY when
    /// it then writes, since another writer may have committed in between. SQLite's own wait
    /// for that lock is a busy handler that sleeps and retries, which is unfair: a job worker
    /// that commits a chunk and begins the next at once can keep an HTTP writer waiting for
    /// seconds. So this store's writers also queue, first come first served, on
    /// [`Store::writers`] before `BEGIN IMMEDIATE`.
    ///
    /// On PostgreSQL it is a plain transaction; work that must serialise writers on a row
    /// locks that row (`SELECT ... FOR UPDATE`).
    pub fn write<T, E>(
        &self,
        claim: Option<&Applying>,
        work: impl FnOnce(&mut DbConnection) -> Result<T, E>,
    ) -> Result<T, E>
    where
        E: From<StoreError>,
    {
        self.in_write_transaction(|conn| {
            let done = work(conn).and_then(|value| {
                if let Some(claim) = claim {
                    idempotency::mark_applied(conn, claim)?;
                }
                Ok(value)
            });
            finish(conn, done.map_err(Failed::Work)).map_err(|failed| match failed {
                Failed::Work(e) => e,
                Failed::Finish(e) => StoreError::from(e).into(),
            })
        })
    }

    /// Runs `work` as [`Store::write`] runs it (the same transaction, lock and queue), then
    /// rolls it back whatever it did: a dry run's answer is exactly the real run's, and nothing
    /// is written. It marks no claim: nothing was applied. Blocking.
    pub fn rehearse<T, E>(
        &self,
        work: impl FnOnce(&mut DbConnection) -> Result<T, E>,
    ) -> Result<T, E>
    where
        E: From<StoreError>,
    {
        self.in_write_transaction(|conn| {
            let done = work(conn);
            <DbConnection as Connection>::TransactionManager::rollback_transaction(conn)
                .map_err(StoreError::from)?;
            done
        })
    }

    /// Checks a connection out, takes its turn among the writers (SQLite) and begins the write
    /// transaction that `run` ends.
    fn in_write_transaction<T, E>(
        &self,
        run: impl FnOnce(&mut DbConnection) -> Result<T, E>,
    ) -> Result<T, E>
    where
        E: From<StoreError>,
    {
        let mut pooled = self.conn()?;
        let conn = &mut *pooled;
        let _turn = matches!(conn, DbConnection::Sqlite(_)).then(|| self.writers.lock());
        begin(conn).map_err(StoreError::from)?;
        run(conn)
    }
}

/// Why a unit of work, or an atomic piece of one, failed: its work, or its transaction.
enum Failed<E> {
    Work(E),
    Finish(diesel::result::Error),
}

impl<E> From<diesel::result::Error> for Failed<E> {
    fn from(e: diesel::result::Error) -> Self {
        Failed::Finish(e)
    }
}

/// Runs `work` atomically wherever it is called: in a savepoint inside a transaction (a unit of
/// work), otherwise in a transaction of its own that on SQLite takes the write lock first
/// (`BEGIN IMMEDIATE`, see [`Store::write`]), so that reading then writing cannot fail halfway
/// with SQLITE_BUSY. It marks no claim and joins no queue: that is the unit of work's.
pub(crate) fn atomic<T, E>(
    conn: &mut DbConnection,
    work: impl FnOnce(&mut DbConnection) -> Result<T, E>,
) -> Result<T, E>
where
    E: From<diesel::result::Error>,
{
    let depth = match conn {
        DbConnection::Sqlite(sqlite) => {
            AnsiTransactionManager::transaction_manager_status_mut(sqlite).transaction_depth()?
        }
        DbConnection::Pg(pg) => {
            AnsiTransactionManager::transaction_manager_status_mut(pg).transaction_depth()?
        }
    };
    if depth.is_some() || matches!(conn, DbConnection::Pg(_)) {
        return conn.transaction(work);
    }
    begin(conn)?;
    let done = work(conn);
    finish(conn, done)
}

/// Commits if `done` succeeded, rolls back if not.
fn finish<T, E>(conn: &mut DbConnection, done: Result<T, E>) -> Result<T, E>
where
    E: From<diesel::result::Error>,
{
    match done {
        Ok(value) => {
            <DbConnection as Connection>::TransactionManager::commit_transaction(conn)?;
            Ok(value)
        }
        Err(e) => {
            // A failed rollback leaves the connection marked broken, so the pool drops it;
            // the caller learns more from the original error.
            if let Err(rollback) =
                <DbConnection as Connection>::TransactionManager::rollback_transaction(conn)
            {
                tracing::warn!(error = %rollback, "rollback failed");
            }
            Err(e)
        }
    }
}

/// Opens the unit of work's transaction: `BEGIN IMMEDIATE` on SQLite (see [`Store::write`]).
fn begin(conn: &mut DbConnection) -> QueryResult<()> {
    match conn {
        // From here on the multi-connection's transaction manager forwards to the SQLite one,
        // which counts the transaction opened here.
        DbConnection::Sqlite(sqlite) => {
            AnsiTransactionManager::begin_transaction_sql(sqlite, "BEGIN IMMEDIATE")
        }
        DbConnection::Pg(_) => {
            <DbConnection as Connection>::TransactionManager::begin_transaction(conn)
        }
    }
}

/// [`atomic`] for work outside the store (the use cases), whose errors know no Diesel: a
/// failure to open, commit or roll back the transaction is a [`StoreError`].
pub fn atomically<T, E: From<StoreError>>(
    conn: &mut DbConnection,
    work: impl FnOnce(&mut DbConnection) -> Result<T, E>,
) -> Result<T, E> {
    atomic(conn, |conn| work(conn).map_err(Failed::Work)).map_err(|failed| match failed {
        Failed::Work(e) => e,
        Failed::Finish(e) => StoreError::from(e).into(),
    })
}
