//! Test support: an isolated, migrated database per test, on SQLite and, when configured, on
//! PostgreSQL, plus small builders for the rows most tests need.
//!
//! ```no_run
//! use ferry_testkit::TestDb;
//! for db in TestDb::all() {
//!     let alice = ferry_testkit::user(db.store(), "alice");
//!     // ... assertions that must hold on every backend
//! }
//! ```
//!
//! PostgreSQL is used when `FERRY_TEST_POSTGRES_URL` is set (for example
//! `postgres://postgres@127.0.0.1:5432/postgres`). Each `TestDb` then gets a schema of its own
//! on that server, so tests run in parallel without seeing each other's rows, and the schema
//! is dropped when the `TestDb` is. `FERRY_TEST_BACKEND=sqlite` or `=postgres` restricts
//! [`TestDb::all`] to one backend, for a test run per backend.

use std::path::Path;

use ferry_domain::ids::Username;
use ferry_domain::model::{Project, User};
use ferry_store::scratch::ScratchSchema;
use ferry_store::{Backend, Store, billing, projects, redact_url, users};
use tempfile::TempDir;

/// The environment variable naming the PostgreSQL server for tests.
pub const POSTGRES_URL_VAR: &str = "FERRY_TEST_POSTGRES_URL";

/// The environment variable that restricts [`TestDb::all`] to `sqlite` or `postgres`.
pub const BACKEND_VAR: &str = "FERRY_TEST_BACKEND";

/// Connections per test store: enough for the concurrency tests, few enough for many parallel
/// tests on one PostgreSQL server.
const POOL_SIZE: u32 = 8;

/// A fresh, migrated database and content store, removed on drop.
#[derive(Debug)]
pub struct TestDb {
    store: Store,
    url: String,
    /// Holds the SQLite file (if any) and the content store; deleted on drop.
    _dir: TempDir,
    /// On PostgreSQL, the test's own schema, dropped with it (after the store: fields drop in
    /// order).
    _pg_schema: Option<ScratchSchema>,
}

impl TestDb {
    /// A SQLite database in a new temporary directory.
    pub fn sqlite() -> TestDb {
        let dir = tempfile::tempdir().expect("create a temporary directory");
        let url = format!("sqlite://{}", dir.path().join("ferry.db").display());
        TestDb::open(url, dir, None)
    }

    /// A new schema on the server named by `FERRY_TEST_POSTGRES_URL`; `None` if it is unset.
    ///
    /// # Panics
    /// If the variable is set but the server cannot be reached: a run that asked for
    /// PostgreSQL must not quietly test SQLite only.
    pub fn postgres() -> Option<TestDb> {
        let server = std::env::var(POSTGRES_URL_VAR)
            .ok()
            .filter(|url| !url.is_empty())?;
        let schema = ScratchSchema::create(&server, "test").unwrap_or_else(|e| {
            panic!("{POSTGRES_URL_VAR} is set, but no test schema could be made: {e}")
        });
        let dir = tempfile::tempdir().expect("create a temporary directory");
        Some(TestDb::open(schema.url().to_owned(), dir, Some(schema)))
    }

    /// SQLite, and PostgreSQL too when configured: run each repository test on every one.
    pub fn all() -> Vec<TestDb> {
        std::iter::once(TestDb::sqlite())
            .chain(TestDb::postgres())
            .collect()
    }

    fn open(url: String, dir: TempDir, pg_schema: Option<ScratchSchema>) -> TestDb {
        let store = Store::open(&url, &dir.path().join("data"), POOL_SIZE)
            .unwrap_or_else(|e| panic!("open the test store at {}: {e}", redact_url(&url)));
        // Built before migrating, so that the schema is dropped even if migrating panics.
        let db = TestDb {
            store,
            url,
            _dir: dir,
            _pg_schema: pg_schema,
        };
        db.store.migrate().expect("migrate the test database");
        db
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    /// The database URL, for a `ferry` process spawned by a test.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The content store's directory.
    pub fn data_dir(&self) -> &Path {
        self.store.content().root()
    }

    pub fn backend(&self) -> Backend {
        self.store.backend()
    }
}

/// Creates the user `username` (named after it, with an example.com e-mail).
///
/// # Panics
/// On any error: it is for tests.
pub fn user(store: &Store, username: &str) -> User {
    let username = Username::parse(username).expect("a valid username");
    let mut conn = store.conn().expect("a connection");
    let email = format!("{username}@example.com");
    users::create(&mut conn, &username, username.as_str(), Some(&email)).expect("create a user")
}

/// Creates a project named `name`, owned by `owner` and billed to their personal group.
///
/// # Panics
/// On any error: it is for tests.
pub fn project(store: &Store, owner: &User, name: &str) -> Project {
    let mut conn = store.conn().expect("a connection");
    let billing_group = billing::personal(&mut conn, owner.id).expect("the owner's billing group");
    projects::create(&mut conn, owner, name, "", billing_group.id).expect("create a project")
}
