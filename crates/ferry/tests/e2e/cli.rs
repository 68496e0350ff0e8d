//! The admin commands and start-up failures.

use crate::support::{create_user, ferry, ferry_in, said, stderr, stdout};
use ferry_testkit::TestDb;
use ferry_testkit::backends;

fn assert_one_line_setup_error(output: &std::process::Output, expect: &str) {
    assert_eq!(output.status.code(), Some(2), "stderr: {}", stderr(output));
    let said = said(output);
    assert_eq!(said.len(), 1, "one line expected, got: {said:?}");
    assert!(said[0].contains(expect), "expected {expect:?} in {said:?}");
}

backends!(user_create_prints_a_token_and_nothing_else);
fn user_create_prints_a_token_and_nothing_else(db: TestDb) {
    let token = create_user(db.url(), db.data_dir(), "alice");
    assert_eq!(token.len(), 32, "token: {token:?}");
    assert!(token.chars().all(|c| c.is_ascii_hexdigit()));
    let again = ferry(db.url(), db.data_dir(), &["user", "create", "alice"]);
    assert_eq!(again.status.code(), Some(1));
    assert!(stdout(&again).is_empty());
    assert!(stderr(&again).contains("already exists"));
}

backends!(tokens_are_created_listed_and_revoked_without_showing_secrets);
fn tokens_are_created_listed_and_revoked_without_showing_secrets(db: TestDb) {
    let first = create_user(db.url(), db.data_dir(), "bob");
    let created = ferry(
        db.url(),
        db.data_dir(),
        &[
            "token",
            "create",
            "bob",
            "--label",
            "laptop",
            "--expires-in",
            "30",
        ],
    );
    assert!(created.status.success(), "{}", stderr(&created));
    let second = stdout(&created).trim().to_owned();
    assert_eq!(second.len(), 32);
    assert_ne!(first, second);

    let listed = ferry(db.url(), db.data_dir(), &["token", "list", "bob"]);
    let listing = stdout(&listed);
    assert!(listing.contains("laptop"), "{listing}");
    assert!(!listing.contains(&first) && !listing.contains(&second));
    assert_eq!(listing.matches("active").count(), 2, "{listing}");

    let id = listing
        .lines()
        .find(|l| l.contains("laptop"))
        .and_then(|l| l.split_whitespace().next())
        .expect("token id")
        .to_owned();
    let revoked = ferry(db.url(), db.data_dir(), &["token", "revoke", "bob", &id]);
    assert!(revoked.status.success(), "{}", stderr(&revoked));
    let listing = stdout(&ferry(db.url(), db.data_dir(), &["token", "list", "bob"]));
    assert_eq!(listing.matches("revoked").count(), 1, "{listing}");

    let unknown = ferry(
        db.url(),
        db.data_dir(),
        &["token", "revoke", "bob", "999999"],
    );
    assert_eq!(unknown.status.code(), Some(1));
}

backends!(administrators_are_made_at_creation_or_later_and_can_be_unmade);
fn administrators_are_made_at_creation_or_later_and_can_be_unmade(db: TestDb) {
    let is_admin = |name: &str| {
        let mut conn = db.store().conn().unwrap();
        let username = ferry_domain::ids::Username::parse(name).unwrap();
        ferry_store::users::find_by_username(&mut conn, &username)
            .unwrap()
            .unwrap()
            .is_admin
    };
    let root = ferry(
        db.url(),
        db.data_dir(),
        &["user", "create", "root", "--admin"],
    );
    assert!(root.status.success(), "{}", stderr(&root));
    assert_eq!(stdout(&root).trim().len(), 32);
    assert!(is_admin("root"));
    create_user(db.url(), db.data_dir(), "alice");
    assert!(!is_admin("alice"));

    let made = ferry(db.url(), db.data_dir(), &["user", "admin", "alice"]);
    assert_eq!(stdout(&made).trim(), "alice is an administrator");
    assert!(is_admin("alice"));
    let unmade = ferry(
        db.url(),
        db.data_dir(),
        &["user", "admin", "alice", "--revoke"],
    );
    assert_eq!(
        stdout(&unmade).trim(),
        "alice is no longer an administrator"
    );
    assert!(!is_admin("alice"));
    let nobody = ferry(db.url(), db.data_dir(), &["user", "admin", "nobody"]);
    assert_eq!(nobody.status.code(), Some(1));
    assert!(stderr(&nobody).contains("no user named nobody"));
}

#[test]
fn migrate_prints_what_it_applied_then_nothing_pending() {
    let dir = tempfile::tempdir().expect("tempdir");
    let url = format!("sqlite://{}", dir.path().join("m.db").display());
    let first = ferry(&url, dir.path(), &["migrate"]);
    assert!(first.status.success(), "{}", stderr(&first));
    assert!(stdout(&first).starts_with("applied "), "{}", stdout(&first));
    let second = ferry(&url, dir.path(), &["migrate"]);
    assert_eq!(stdout(&second).trim(), "no pending migrations");
}

#[test]
fn an_unknown_scheme_is_a_one_line_error_and_creates_no_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    for url in ["mysql://x.db", "ferry.db", "sqlite:/x.db", "postgres//oops"] {
        let output = ferry_in(dir.path(), url, &data, &["migrate"]);
        assert_one_line_setup_error(&output, "database");
    }
    let left: Vec<_> = std::fs::read_dir(dir.path()).expect("read_dir").collect();
    assert!(left.is_empty(), "files were created: {left:?}");
}

#[test]
fn an_unreachable_postgres_is_a_one_line_error() {
    let dir = tempfile::tempdir().expect("tempdir");
    let output = ferry(
        "postgres://postgres:secret-password@127.0.0.1:1/ferry",
        dir.path(),
        &["serve", "--bind", "127.0.0.1:0"],
    );
    assert_one_line_setup_error(&output, "database");
    assert!(!stderr(&output).contains("secret-password"));
}

#[test]
fn a_bad_flag_is_a_one_line_error() {
    let dir = tempfile::tempdir().expect("tempdir");
    let output = ferry("sqlite://x.db", dir.path(), &["serve", "--no-such-flag"]);
    assert_one_line_setup_error(&output, "--no-such-flag");
    let bad_bind = ferry(
        &format!("sqlite://{}", dir.path().join("b.db").display()),
        dir.path(),
        &["serve", "--bind", "not-an-address"],
    );
    assert_one_line_setup_error(&bad_bind, "not-an-address");
}

backends!(load_keeps_the_data_steady_only_when_asked);
/// `ferry load` on its own fresh database (a temporary SQLite file, or a new schema on the
/// server of `FERRY_TEST_POSTGRES_URL`): without `--steady` the copies stay in the destination,
/// with it every client deletes what it copied and the run ends with the destination empty.
fn load_keeps_the_data_steady_only_when_asked(db: TestDb) {
    let url = match db.backend() {
        ferry_store::Backend::Sqlite => db.url().to_owned(),
        ferry_store::Backend::Postgres => {
            std::env::var(ferry_testkit::POSTGRES_URL_VAR).expect("the PostgreSQL server")
        }
    };
    let load = |steady: &[&str]| {
        let mut args = vec!["load", "--connections", "4", "--duration-secs", "2"];
        args.extend(steady);
        args.extend(["--database-url", &url]);
        let output = ferry(db.url(), db.data_dir(), &args);
        assert!(output.status.success(), "{args:?}: {}", stderr(&output));
        stdout(&output)
    };
    let growing = load(&[]);
    assert!(growing.contains(" errors 0 "), "{growing}");
    assert!(
        !growing.contains("destination project: 0 files"),
        "{growing}"
    );
    let steady = load(&["--steady"]);
    assert!(steady.contains(" errors 0 "), "{steady}");
    assert!(
        steady.contains("destination project: 0 files at the end"),
        "{steady}"
    );
}
