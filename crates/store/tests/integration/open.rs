use std::time::{Duration, Instant};

use ferry_store::{Backend, Store, StoreError};
use ferry_testkit::backends;

fn open_error(url: &str, data_dir: &std::path::Path) -> StoreError {
    Store::open(url, data_dir, 2).expect_err(url)
}

#[test]
fn unknown_schemes_are_refused_without_creating_a_file() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    for url in [
        "mysql://root@localhost/ferry",
        "ferry.db",
        "file:ferry.db",
        "sqlite:ferry.db",
        "",
    ] {
        assert!(
            matches!(open_error(url, &data), StoreError::Invalid(_)),
            "{url}"
        );
    }
    assert!(!std::path::Path::new("ferry.db").exists());
    assert!(!data.exists(), "nothing is created for a refused URL");
}

#[test]
fn a_sqlite_file_in_a_missing_directory_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("no-such-dir");
    let url = format!("sqlite://{}/ferry.db", missing.display());
    let error = open_error(&url, &dir.path().join("data"));
    assert!(matches!(error, StoreError::Invalid(_)), "{error}");
    assert!(!missing.exists());
}

#[test]
fn a_sqlite_store_opens_its_file_and_content_directories() {
    let dir = tempfile::tempdir().unwrap();
    let absolute = dir.path().join("abs.db");
    let store = Store::open(&format!("sqlite://{}", absolute.display()), dir.path(), 2).unwrap();
    assert_eq!(store.backend(), Backend::Sqlite);
    store.ping().unwrap();
    assert!(absolute.exists());
    assert!(dir.path().join("tmp").is_dir() && dir.path().join("sha256").is_dir());
}

#[test]
fn an_unreachable_postgres_fails_fast_without_showing_the_password() {
    let dir = tempfile::tempdir().unwrap();
    let started = Instant::now();
    let error = open_error("postgres://postgres:hunter2@127.0.0.1:1/x", dir.path());
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "took {:?}",
        started.elapsed()
    );
    assert!(matches!(error, StoreError::Unavailable(_)), "{error}");
    let message = format!("{error} {error:?}");
    assert!(!message.contains("hunter2"), "{message}");
    assert!(
        message.contains("127.0.0.1"),
        "the message names the server: {message}"
    );
}

#[test]
fn a_zero_pool_size_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}/f.db", dir.path().display());
    assert!(matches!(
        Store::open(&url, dir.path(), 0),
        Err(StoreError::Invalid(_))
    ));
}

#[derive(diesel::QueryableByName)]
struct Setting {
    #[diesel(sql_type = diesel::sql_types::Text)]
    value: String,
}

backends!(pooled_connections_get_their_backends_setup);
/// Every pooled connection gets its backend's setup: on PostgreSQL a plan per execution (cached
/// statements on generic plans took seconds for `= ANY($1)` lookups, docs/performance.md), on
/// SQLite foreign keys and WAL.
fn pooled_connections_get_their_backends_setup(db: ferry_testkit::TestDb) {
    use diesel::RunQueryDsl;
    let mut conn = db.store().conn().unwrap();
    let settings: Vec<String> = match &mut *conn {
        ferry_store::DbConnection::Pg(c) => {
            diesel::sql_query("SELECT current_setting('plan_cache_mode') AS value")
                .load::<Setting>(c)
                .unwrap()
        }
        ferry_store::DbConnection::Sqlite(c) => diesel::sql_query(
            "SELECT CAST(foreign_keys AS TEXT) AS value FROM pragma_foreign_keys \
             UNION ALL SELECT journal_mode FROM pragma_journal_mode",
        )
        .load::<Setting>(c)
        .unwrap(),
    }
    .into_iter()
    .map(|s| s.value)
    .collect();
    let expected: &[&str] = match db.store().backend() {
        Backend::Postgres => &["force_custom_plan"],
        Backend::Sqlite => &["1", "wal"],
    };
    assert_eq!(settings, expected);
}

/// The bundled SQLite gives each connection a page cache of its own: built with
/// `SQLITE_ENABLE_MEMORY_MANAGEMENT` (libsqlite3-sys's default), all connections of the process
/// shared one, and after a large clone listProjects re-read its pages on every probe
/// (docs/performance.md, item 10). `.cargo/config.toml` builds it without the option.
#[test]
fn sqlite_connections_keep_page_caches_of_their_own() {
    use diesel::RunQueryDsl;
    let db = ferry_testkit::TestDb::sqlite();
    let mut conn = db.store().conn().unwrap();
    let ferry_store::DbConnection::Sqlite(c) = &mut *conn else {
        panic!("a SQLite store opens SQLite connections");
    };
    let options: Vec<String> =
        diesel::sql_query("SELECT compile_options AS value FROM pragma_compile_options")
            .load::<Setting>(c)
            .unwrap()
            .into_iter()
            .map(|s| s.value)
            .collect();
    assert!(
        options.iter().any(|o| o.starts_with("THREADSAFE")),
        "{options:?}"
    );
    assert!(
        !options.iter().any(|o| o == "ENABLE_MEMORY_MANAGEMENT"),
        "{options:?}"
    );
}
