//! Test support: an isolated, migrated database per test, on SQLite and, when configured, on
//! PostgreSQL, plus small builders for the rows most tests need.
//!
//! A test that must hold on every backend takes the database as its parameter, and
//! [`backends!`] generates it once per backend, as `name::sqlite` and `name::postgres`:
//!
//! ```no_run
//! use ferry_testkit::{TestDb, backends};
//!
//! backends!(a_user_is_created);
//! fn a_user_is_created(db: TestDb) {
//!     let alice = ferry_testkit::user(db.store(), "alice");
//!     // ... assertions that must hold on every backend
//! }
//! # fn main() {}
//! ```
//!
//! PostgreSQL is used when `FERRY_TEST_POSTGRES_URL` is set (for example
//! `postgres://postgres@127.0.0.1:5432/postgres`). Each `TestDb` then gets a schema of its own
//! on that server, so tests run in parallel without seeing each other's rows, and the schema
//! is dropped when the `TestDb` is; the first one of a process also drops the schemas that
//! killed runs left. `FERRY_TEST_BACKEND=sqlite` or `=postgres` restricts the tests generated
//! per backend (and [`TestDb::all`]) to one backend, for a test run per backend; a case of the
//! other backend returns at once.
//!
//! [`TestDb::on_s3`] moves a test's content store to a fresh prefix of the S3-compatible server
//! at `FERRY_TEST_S3_ENDPOINT` (`./scripts/test` starts one: `s3s-fs`, which checks every
//! signature), with the keys in `FERRY_TEST_S3_ACCESS_KEY` and `FERRY_TEST_S3_SECRET_KEY`.

mod builders;
pub mod logs;

use std::path::Path;
use std::sync::Once;
use std::time::{Duration, SystemTime};

use ferry_domain::ids::Username;
use ferry_domain::model::{Project, User};
use ferry_store::scratch::ScratchSchema;
use ferry_store::{ContentStore, Store, redact_url, users};
use tempfile::TempDir;

pub use builders::{FileBuilder, JobBuilder, MemberBuilder, ProjectBuilder, folder};
pub use ferry_store::Backend;

/// The environment variable naming the PostgreSQL server for tests.
pub const POSTGRES_URL_VAR: &str = "FERRY_TEST_POSTGRES_URL";

/// The environment variable that restricts the tests generated per backend (and [`TestDb::all`])
/// to `sqlite` or `postgres`.
pub const BACKEND_VAR: &str = "FERRY_TEST_BACKEND";

/// The environment variables naming the S3 server for tests, and its keys.
pub const S3_ENDPOINT_VAR: &str = "FERRY_TEST_S3_ENDPOINT";
pub const S3_ACCESS_KEY_VAR: &str = "FERRY_TEST_S3_ACCESS_KEY";
pub const S3_SECRET_KEY_VAR: &str = "FERRY_TEST_S3_SECRET_KEY";

/// The bucket tests use on that server.
pub const S3_BUCKET: &str = "ferry-test";

/// The settings of the test S3 server (see [`ferry_store::content_s3::S3Content::open`]).
///
/// # Panics
/// If `FERRY_TEST_S3_ENDPOINT` is unset: S3 tests need the server `./scripts/test` starts.
pub fn s3_settings() -> Vec<(String, String)> {
    let var = |name: &str| {
        std::env::var(name).unwrap_or_else(|_| {
            panic!("{name} is unset: run ./scripts/test, which starts an S3 server for the tests")
        })
    };
    vec![
        ("aws_endpoint_url".to_owned(), var(S3_ENDPOINT_VAR)),
        ("aws_access_key_id".to_owned(), var(S3_ACCESS_KEY_VAR)),
        ("aws_secret_access_key".to_owned(), var(S3_SECRET_KEY_VAR)),
        ("aws_region".to_owned(), "us-east-1".to_owned()),
        ("aws_allow_http".to_owned(), "true".to_owned()),
    ]
}

/// How old a test schema must be for [`TestDb::postgres`] to take it for a leftover of a killed
/// run: far longer than any test lives.
const LEFTOVER_AGE: Duration = Duration::from_secs(2 * 60 * 60);

/// The prefix of the test schemas.
const SCHEMA_PREFIX: &str = "test";

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
        static SWEEP: Once = Once::new();
        SWEEP.call_once(|| sweep_leftover_schemas(&server));
        let schema = ScratchSchema::create(&server, SCHEMA_PREFIX).unwrap_or_else(|e| {
            panic!("{POSTGRES_URL_VAR} is set, but no test schema could be made: {e}")
        });
        let dir = tempfile::tempdir().expect("create a temporary directory");
        Some(TestDb::open(schema.url().to_owned(), dir, Some(schema)))
    }

    /// The database of `backend` for a test generated per backend (see [`backends!`]); `None`
    /// when this run does not test `backend`.
    ///
    /// # Panics
    /// If `FERRY_TEST_BACKEND=postgres` but `FERRY_TEST_POSTGRES_URL` is unset.
    pub fn on(backend: Backend) -> Option<TestDb> {
        if !tested(backend) {
            return None;
        }
        match backend {
            Backend::Sqlite => Some(TestDb::sqlite()),
            Backend::Postgres => {
                let db = TestDb::postgres();
                assert!(
                    db.is_some() || selected_backend().is_none(),
                    "{BACKEND_VAR}=postgres needs {POSTGRES_URL_VAR}"
                );
                db
            }
        }
    }

    /// A database of every backend this run tests.
    pub fn all() -> Vec<TestDb> {
        [Backend::Sqlite, Backend::Postgres]
            .into_iter()
            .filter_map(TestDb::on)
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

    /// The same database, its content in the test S3 server under a prefix of its own.
    ///
    /// # Panics
    /// Without the server (see [`s3_settings`]).
    pub fn on_s3(self) -> TestDb {
        let url = format!("s3://{S3_BUCKET}/test-{}", uuid::Uuid::new_v4().simple());
        let content = ContentStore::s3(&self._dir.path().join("data"), &url, &s3_settings())
            .unwrap_or_else(|e| panic!("open the test S3 content store {url}: {e}"));
        TestDb {
            store: self.store.clone().with_content(content),
            ..self
        }
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

/// The backend `FERRY_TEST_BACKEND` names; `None` when unset (every backend).
///
/// # Panics
/// If it names no backend.
fn selected_backend() -> Option<Backend> {
    let name = std::env::var(BACKEND_VAR)
        .ok()
        .filter(|name| !name.is_empty())?;
    match name.as_str() {
        "sqlite" => Some(Backend::Sqlite),
        "postgres" => Some(Backend::Postgres),
        other => panic!("{BACKEND_VAR} must be sqlite or postgres, not {other:?}"),
    }
}

fn tested(backend: Backend) -> bool {
    selected_backend().is_none_or(|selected| selected == backend)
}

/// The PostgreSQL server of this run, for a test of the server itself; `None` when this run
/// does not test PostgreSQL.
pub fn postgres_server() -> Option<String> {
    let server = std::env::var(POSTGRES_URL_VAR)
        .ok()
        .filter(|url| !url.is_empty());
    tested(Backend::Postgres).then_some(server).flatten()
}

/// Generates the test `name` once per backend, as `name::sqlite` and `name::postgres`: each
/// calls the function `name` with that backend's [`TestDb`] (or anything `From<TestDb>`, such
/// as a test context over it), and returns at once when this run does not test that backend
/// (see [`TestDb::on`]). Async tests name their test attribute:
/// `backends!(#[actix_web::test] async name);`.
#[macro_export]
macro_rules! backends {
    ($name:ident) => {
        mod $name {
            #[test]
            fn sqlite() {
                if let Some(db) = $crate::TestDb::on($crate::Backend::Sqlite) {
                    super::$name(db.into());
                }
            }

            #[test]
            fn postgres() {
                if let Some(db) = $crate::TestDb::on($crate::Backend::Postgres) {
                    super::$name(db.into());
                }
            }
        }
    };
    (#[$test:meta] async $name:ident) => {
        mod $name {
            #[$test]
            async fn sqlite() {
                if let Some(db) = $crate::TestDb::on($crate::Backend::Sqlite) {
                    super::$name(db.into()).await;
                }
            }

            #[$test]
            async fn postgres() {
                if let Some(db) = $crate::TestDb::on($crate::Backend::Postgres) {
                    super::$name(db.into()).await;
                }
            }
        }
    };
}

/// Drops the test schemas that runs killed before they could drop them; once per process, on
/// its first PostgreSQL `TestDb`. A failure is reported and the run goes on: leftovers cost
/// disk, not correctness.
fn sweep_leftover_schemas(server: &str) {
    let cutoff = SystemTime::now() - LEFTOVER_AGE;
    if let Err(e) = ScratchSchema::sweep(server, SCHEMA_PREFIX, cutoff) {
        eprintln!("could not sweep the leftover test schemas: {e}");
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

/// Creates a project named `name`, owned by `owner` and billed to their personal group (see
/// [`ProjectBuilder`] for more).
///
/// # Panics
/// On any error: it is for tests.
pub fn project(store: &Store, owner: &User, name: &str) -> Project {
    ProjectBuilder::new(owner, name).create(store)
}
