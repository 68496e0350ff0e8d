//! Connections, the pool and migrations, for SQLite and PostgreSQL alike (the unit of work that
//! writes is in [`crate::unit_of_work`]).
//!
//! The backend is chosen at run time from the URL scheme only: SQLite accepts any string as a
//! file name, so guessing would turn a mistyped PostgreSQL URL into a new, empty database.

use std::fmt;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::r2d2::{self, ManageConnection, Pool, PooledConnection, R2D2Connection};
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};

use crate::content::ContentStore;
use crate::error::StoreError;

/// Runs the same Diesel statement on the concrete connection, for what the MultiConnection's
/// common subset lacks (multi-row INSERT, `ON CONFLICT`): the two-arm match, written once.
/// Private to the store, as the tables are.
macro_rules! each_backend {
    ($conn:expr, |$c:ident| $statement:expr) => {
        match $conn {
            $crate::DbConnection::Pg($c) => $statement,
            $crate::DbConnection::Sqlite($c) => $statement,
        }
    };
}
pub(crate) use each_backend;

/// One connection to either backend. Portable Diesel queries run on it as they are; code that
/// needs one backend's SQL matches on the variant.
#[derive(diesel::MultiConnection)]
pub enum DbConnection {
    Pg(PgConnection),
    Sqlite(SqliteConnection),
}

impl fmt::Debug for DbConnection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            DbConnection::Pg(_) => "DbConnection::Pg",
            DbConnection::Sqlite(_) => "DbConnection::Sqlite",
        })
    }
}

const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("../../migrations/sqlite");
const POSTGRES_MIGRATIONS: EmbeddedMigrations = embed_migrations!("../../migrations/postgres");

/// How long to wait for a connection: to open one, or to check one out of a full pool.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// Run on every new SQLite connection. WAL lets readers run beside the one writer;
/// busy_timeout makes a writer wait for the lock instead of failing at once.
const SQLITE_SETUP: &str = "PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 10000; \
                            PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;";

/// Run on every new PostgreSQL connection. Diesel keeps prepared statements, and after five
/// runs PostgreSQL may switch one to a generic plan, blind to its parameters: for our
/// `= ANY($1)` lookups with 1 to 1,000 values it chose plans that took seconds on a large
/// `placements` table (docs/performance.md). A custom plan per execution costs far less.
const POSTGRES_SETUP: &str = "SET plan_cache_mode = force_custom_plan";

/// Key of the PostgreSQL advisory lock that serialises migrations: several servers may start
/// at once against one database. Any constant works; this one is "ferry" in ASCII.
const MIGRATION_LOCK_KEY: i64 = 0x66_65_72_72_79;

/// Shown as `sqlite` or `postgres` in logs and status pages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, strum::Display, strum::IntoStaticStr)]
#[strum(serialize_all = "lowercase")]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    pub fn name(self) -> &'static str {
        self.into()
    }

    /// `sqlite://PATH` (`sqlite://ferry.db` is relative, `sqlite:///srv/ferry.db` absolute),
    /// `postgres://...` or `postgresql://...`. Anything else is refused.
    pub fn from_url(url: &str) -> Result<Backend, StoreError> {
        if url.starts_with("sqlite://") {
            Ok(Backend::Sqlite)
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Ok(Backend::Postgres)
        } else {
            Err(StoreError::Invalid(format!(
                "unsupported database URL '{}': expected sqlite://PATH or postgres://...",
                redact_url(url)
            )))
        }
    }
}

/// The URL with its password replaced by `***`, for messages and logs. Covers the password of
/// the user info (`postgres://u:secret@host`) and a `password=` query parameter.
pub fn redact_url(url: &str) -> String {
    let (before_query, query) = match url.split_once('?') {
        Some((head, query)) => (head, Some(query)),
        None => (url, None),
    };
    let mut out = match before_query.split_once("://") {
        Some((scheme, rest)) => {
            let authority_end = rest.find('/').unwrap_or(rest.len());
            let (authority, path) = rest.split_at(authority_end);
            let authority = match authority.rsplit_once('@') {
                Some((user_info, host)) => match user_info.split_once(':') {
                    Some((user, _password)) => format!("{user}:***@{host}"),
                    None => authority.to_owned(),
                },
                None => authority.to_owned(),
            };
            format!("{scheme}://{authority}{path}")
        }
        None => before_query.to_owned(),
    };
    if let Some(query) = query {
        let params: Vec<&str> = query
            .split('&')
            .map(|param| {
                if param.starts_with("password=") {
                    "password=***"
                } else {
                    param
                }
            })
            .collect();
        out.push('?');
        out.push_str(&params.join("&"));
    }
    out
}

/// Opens connections of the backend named by the URL. Its `Debug` redacts the password.
pub struct DbManager {
    backend: Backend,
    /// The URL as given, for messages (always through `redact_url`).
    url: String,
    /// What is handed to the driver: the SQLite file path, or the PostgreSQL URL with a
    /// connect timeout added.
    target: String,
}

impl DbManager {
    pub fn new(url: &str) -> Result<DbManager, StoreError> {
        let backend = Backend::from_url(url)?;
        let target = match backend {
            Backend::Sqlite => sqlite_path(url)?,
            Backend::Postgres => with_connect_timeout(url),
        };
        Ok(DbManager {
            backend,
            url: url.to_owned(),
            target,
        })
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }
}

impl fmt::Debug for DbManager {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DbManager")
            .field("backend", &self.backend)
            .field("url", &redact_url(&self.url))
            .finish()
    }
}

/// The file path of a `sqlite://` URL. Its directory must exist: creating it would hide a
/// mistyped path.
fn sqlite_path(url: &str) -> Result<String, StoreError> {
    let path = url.strip_prefix("sqlite://").unwrap_or_default();
    if path.is_empty() {
        return Err(StoreError::Invalid(
            "sqlite:// URL without a file path".to_owned(),
        ));
    }
    let dir = match Path::new(path).parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    if !dir.is_dir() {
        return Err(StoreError::Invalid(format!(
            "directory '{}' of the SQLite database does not exist",
            dir.display()
        )));
    }
    Ok(path.to_owned())
}

/// Adds libpq's `connect_timeout` unless the URL sets one, so that an unreachable server
/// fails in seconds rather than at the TCP timeout.
fn with_connect_timeout(url: &str) -> String {
    if url.contains("connect_timeout=") {
        return url.to_owned();
    }
    let separator = if url.contains('?') { '&' } else { '?' };
    format!(
        "{url}{separator}connect_timeout={}",
        CONNECT_TIMEOUT.as_secs()
    )
}

impl ManageConnection for DbManager {
    type Connection = DbConnection;
    type Error = r2d2::Error;

    fn connect(&self) -> Result<DbConnection, r2d2::Error> {
        let mut conn = match self.backend {
            Backend::Postgres => {
                let mut conn = PgConnection::establish(&self.target)?;
                conn.batch_execute(POSTGRES_SETUP)
                    .map_err(r2d2::Error::QueryError)?;
                DbConnection::Pg(conn)
            }
            Backend::Sqlite => {
                let mut conn = SqliteConnection::establish(&self.target)?;
                conn.batch_execute(SQLITE_SETUP)
                    .map_err(r2d2::Error::QueryError)?;
                DbConnection::Sqlite(conn)
            }
        };
        conn.set_instrumentation(crate::slow_queries::SlowQueries::default());
        Ok(conn)
    }

    fn is_valid(&self, conn: &mut DbConnection) -> Result<(), r2d2::Error> {
        conn.ping().map_err(r2d2::Error::QueryError)
    }

    fn has_broken(&self, conn: &mut DbConnection) -> bool {
        conn.is_broken()
    }
}

/// Sends r2d2's connection errors to `tracing` (its default handler uses `log`).
#[derive(Debug)]
struct TracingErrorHandler;

impl r2d2::HandleError<r2d2::Error> for TracingErrorHandler {
    fn handle_error(&self, error: r2d2::Error) {
        tracing::warn!(%error, "database connection error");
    }
}

/// The store: a connection pool over one backend, the queue of its SQLite writers, and the
/// content store for file bytes. Cheap to clone; clones share the pool and the queue.
#[derive(Clone, Debug)]
pub struct Store {
    pool: Pool<DbManager>,
    backend: Backend,
    /// SQLite's writers of this store, first come first served (see [`Store::write`]).
    pub(crate) writers: Arc<parking_lot::FairMutex<()>>,
    content: Arc<ContentStore>,
}

impl Store {
    /// Builds the pool and opens one connection first, so that a bad URL or an unreachable
    /// server fails here, within seconds, with the driver's reason. Does not migrate.
    pub fn open(database_url: &str, data_dir: &Path, pool_size: u32) -> Result<Store, StoreError> {
        if pool_size == 0 {
            return Err(StoreError::Invalid(
                "the pool size must be at least 1".to_owned(),
            ));
        }
        let manager = DbManager::new(database_url)?;
        let backend = manager.backend();
        // r2d2 would retry a refused connection until its timeout and then report only that
        // it timed out; one direct attempt gives the real cause at once.
        manager.connect().map_err(|e| {
            StoreError::Unavailable(format!(
                "cannot connect to {}: {e}",
                redact_url(database_url)
            ))
        })?;
        let pool = Pool::builder()
            .max_size(pool_size)
            // Open connections on demand: building does not wait for a full pool.
            .min_idle(Some(0))
            .connection_timeout(CONNECT_TIMEOUT)
            .error_handler(Box::new(TracingErrorHandler))
            .build(manager)?;
        let content = ContentStore::new(data_dir)?;
        Ok(Store {
            pool,
            backend,
            writers: Arc::new(parking_lot::FairMutex::new(())),
            content: Arc::new(content),
        })
    }

    /// Applies the pending migrations and returns their names (`2026-11-24-000001_initial`),
    /// none if the schema is up to date. Safe to run from several processes at once.
    pub fn migrate(&self) -> Result<Vec<String>, StoreError> {
        let mut conn = self.conn()?;
        match &mut *conn {
            DbConnection::Pg(conn) => conn.transaction(|conn| {
                diesel::sql_query("SELECT pg_advisory_xact_lock($1)")
                    .bind::<diesel::sql_types::BigInt, _>(MIGRATION_LOCK_KEY)
                    .execute(conn)?;
                apply_pending(conn, POSTGRES_MIGRATIONS)
            }),
            // BEGIN IMMEDIATE takes the write lock before reading what is applied.
            DbConnection::Sqlite(conn) => {
                conn.immediate_transaction(|conn| apply_pending(conn, SQLITE_MIGRATIONS))
            }
        }
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Checks a connection out of the pool, waiting up to a few seconds for a free one.
    /// Blocking: call it from blocking code (`web::block`), never on an async worker.
    pub fn conn(&self) -> Result<PooledConnection<DbManager>, StoreError> {
        Ok(self.pool.get()?)
    }

    /// Runs a trivial query on a pooled connection.
    pub fn ping(&self) -> Result<(), StoreError> {
        Ok(self.conn()?.ping()?)
    }

    pub fn content(&self) -> &ContentStore {
        &self.content
    }

    /// The same store over another content store (an S3 one: [`ContentStore::s3`]).
    pub fn with_content(self, content: ContentStore) -> Store {
        Store {
            content: Arc::new(content),
            ..self
        }
    }
}

fn apply_pending<DB: diesel::backend::Backend>(
    harness: &mut impl MigrationHarness<DB>,
    source: EmbeddedMigrations,
) -> Result<Vec<String>, StoreError> {
    let migration_error =
        |e: Box<dyn std::error::Error + Send + Sync>| StoreError::Migration(e.to_string());
    let pending = harness
        .pending_migrations(source)
        .map_err(migration_error)?;
    let mut applied = Vec::with_capacity(pending.len());
    for migration in pending {
        harness
            .run_migration(&*migration)
            .map_err(migration_error)?;
        applied.push(migration.name().to_string());
    }
    Ok(applied)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backends_are_named_in_lowercase() {
        assert_eq!(Backend::Sqlite.to_string(), "sqlite");
        assert_eq!(Backend::Postgres.name(), "postgres");
    }

    #[test]
    fn sqlite_urls_name_relative_and_absolute_files() {
        assert_eq!(sqlite_path("sqlite://ferry.db").unwrap(), "ferry.db");
        let dir = std::env::temp_dir();
        let absolute = format!("{}/x.db", dir.display());
        assert_eq!(
            sqlite_path(&format!("sqlite://{absolute}")).unwrap(),
            absolute
        );
        assert!(matches!(
            sqlite_path("sqlite://"),
            Err(StoreError::Invalid(_))
        ));
        assert!(matches!(
            sqlite_path("sqlite:///no/such/dir/x.db"),
            Err(StoreError::Invalid(_))
        ));
    }

    #[test]
    fn postgres_urls_get_a_connect_timeout_unless_they_have_one() {
        assert_eq!(
            with_connect_timeout("postgres://h/db"),
            "postgres://h/db?connect_timeout=5"
        );
        assert_eq!(
            with_connect_timeout("postgres://h/db?sslmode=disable"),
            "postgres://h/db?sslmode=disable&connect_timeout=5"
        );
        assert_eq!(
            with_connect_timeout("postgres://h/db?connect_timeout=1"),
            "postgres://h/db?connect_timeout=1"
        );
    }

    #[test]
    fn urls_are_printed_without_passwords() {
        assert_eq!(
            redact_url("postgres://u:secret@h:5432/db"),
            "postgres://u:***@h:5432/db"
        );
        assert_eq!(
            redact_url("postgres://u@h/db?password=secret&x=1"),
            "postgres://u@h/db?password=***&x=1"
        );
        assert_eq!(
            redact_url("postgres://u:p%40ss@h/db"),
            "postgres://u:***@h/db"
        );
        assert_eq!(redact_url("sqlite://ferry.db"), "sqlite://ferry.db");
        assert_eq!(redact_url("no scheme"), "no scheme");
    }

    #[test]
    fn the_manager_debug_output_hides_the_password() {
        let manager = DbManager::new("postgres://u:secret@h/db").unwrap();
        assert!(!format!("{manager:?}").contains("secret"));
    }
}
