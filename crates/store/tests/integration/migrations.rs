use diesel::migration::MigrationSource;
use diesel::prelude::*;
use diesel::sql_types::Text;
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};
use ferry_store::{Backend, DbConnection};
use ferry_testkit::TestDb;
use ferry_testkit::backends;

const SQLITE: EmbeddedMigrations = embed_migrations!("../../migrations/sqlite");
const POSTGRES: EmbeddedMigrations = embed_migrations!("../../migrations/postgres");

#[derive(QueryableByName)]
struct Name {
    #[diesel(sql_type = Text)]
    name: String,
}

/// Tables, indexes and sequences of the current database or schema, leaving out Diesel's
/// own bookkeeping.
fn relations(conn: &mut DbConnection) -> Vec<String> {
    let names = match conn {
        DbConnection::Sqlite(c) => diesel::sql_query(
            "SELECT name FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' \
             AND name NOT LIKE '\\_\\_diesel%' ESCAPE '\\' ORDER BY name",
        )
        .load::<Name>(c),
        DbConnection::Pg(c) => diesel::sql_query(
            "SELECT relname::text AS name FROM pg_class \
             WHERE relnamespace = current_schema()::regnamespace \
             AND relname NOT LIKE '\\_\\_diesel%' ORDER BY relname",
        )
        .load::<Name>(c),
    };
    names
        .expect("list relations")
        .into_iter()
        .map(|n| n.name)
        .collect()
}

backends!(down_drops_everything_and_up_reports_each_migration_once);
fn down_drops_everything_and_up_reports_each_migration_once(db: TestDb) {
    let mut conn = db.store().conn().unwrap();
    assert!(
        relations(&mut conn).contains(&"placements".to_owned()),
        "{:?}",
        db.backend()
    );
    match &mut *conn {
        DbConnection::Sqlite(c) => c.revert_all_migrations(SQLITE).map(|_| ()),
        DbConnection::Pg(c) => c.revert_all_migrations(POSTGRES).map(|_| ()),
    }
    .unwrap();
    assert_eq!(
        relations(&mut conn),
        Vec::<String>::new(),
        "{:?}",
        db.backend()
    );
    drop(conn);

    let source = match db.backend() {
        Backend::Sqlite => SQLITE,
        Backend::Postgres => POSTGRES,
    };
    // Listing names does not depend on the backend type parameter.
    let every_migration: Vec<String> =
        MigrationSource::<diesel::sqlite::Sqlite>::migrations(&source)
            .unwrap()
            .iter()
            .map(|m| m.name().to_string())
            .collect();
    assert_eq!(every_migration[0], "2026-11-24-000001_initial");
    assert_eq!(db.store().migrate().unwrap(), every_migration);
    assert_eq!(db.store().migrate().unwrap(), Vec::<String>::new());
    ferry_testkit::user(db.store(), "alice");
}

#[test]
fn both_dialects_create_the_same_tables() {
    let tables = |db: &TestDb| {
        let mut conn = db.store().conn().unwrap();
        let mut names = relations(&mut conn);
        // Index names are dialect-specific (implicit ones especially); tables are not.
        names.retain(|n| !n.contains("_key") && !n.contains("pkey") && !n.contains("_seq"));
        names
    };
    // Both backends whatever FERRY_TEST_BACKEND says: the point is to compare them.
    let all: Vec<TestDb> = std::iter::once(TestDb::sqlite())
        .chain(TestDb::postgres())
        .collect();
    let expected = tables(&all[0]);
    for table in [
        "users",
        "tokens",
        "projects",
        "folders",
        "objects",
        "placements",
        "jobs",
    ] {
        assert!(
            expected.contains(&table.to_owned()),
            "{table} missing in {expected:?}"
        );
    }
    for db in &all[1..] {
        assert_eq!(tables(db), expected);
    }
}

#[derive(QueryableByName)]
struct Numbered {
    #[diesel(sql_type = Text)]
    name: String,
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::BigInt>)]
    name_number: Option<i64>,
}

backends!(name_numbers_are_backfilled_as_the_code_computes_them);
/// Migration 000008 gives the placements already there the `name_number` the code would give
/// them (`ferry_domain::naming::name_number`), saturated numbers and non-numbers included.
fn name_numbers_are_backfilled_as_the_code_computes_them(db: TestDb) {
    let alice = ferry_testkit::user(db.store(), "alice");
    let project = ferry_testkit::project(db.store(), &alice, "Numbers");
    let content = db.store().content().put_bytes(b"n").unwrap();
    let names = [
        "a.txt",
        "3_a.txt",
        "01_a.txt",
        "12_",
        "99999999999999999999_a.txt",
        "7_1_b",
    ];
    let mut conn = db.store().conn().unwrap();
    let root = ferry_store::projects::root_folder(&mut conn, project.id).unwrap();
    let files: Vec<_> = names
        .iter()
        .map(|n| {
            (
                ferry_domain::name::FileName::parse(*n).unwrap(),
                content.clone(),
            )
        })
        .collect();
    ferry_store::files::create_closed_files(&mut conn, alice.id, project.id, &root, &files)
        .unwrap();
    revert_through(&mut conn, "000008");
    drop(conn);
    assert_eq!(
        db.store().migrate().unwrap()[0],
        "2026-11-24-000008_name_number"
    );
    let mut conn = db.store().conn().unwrap();
    let query = "SELECT name, name_number FROM placements ORDER BY name";
    let stored = match &mut *conn {
        DbConnection::Sqlite(c) => diesel::sql_query(query).load::<Numbered>(c),
        DbConnection::Pg(c) => diesel::sql_query(query).load::<Numbered>(c),
    }
    .unwrap();
    assert_eq!(stored.len(), names.len());
    for row in stored {
        assert_eq!(
            row.name_number,
            ferry_domain::naming::name_number(&row.name),
            "{}",
            row.name
        );
    }
}

/// Reverts the migrations from the last one back to migration `number` (its suffix, as
/// "000008"), included.
fn revert_through(conn: &mut DbConnection, number: &str) {
    loop {
        let reverted = match conn {
            DbConnection::Sqlite(c) => c.revert_last_migration(SQLITE),
            DbConnection::Pg(c) => c.revert_last_migration(POSTGRES),
        }
        .unwrap()
        .to_string();
        if reverted.replace('-', "").ends_with(number) {
            break;
        }
    }
}

#[derive(QueryableByName, Debug, PartialEq)]
struct MemberProject {
    #[diesel(sql_type = Text)]
    kept: String,
    #[diesel(sql_type = Text)]
    project: String,
}

backends!(member_project_ids_are_backfilled_from_the_projects);
/// Migration 000011 gives the memberships already there their project's DNAnexus id.
fn member_project_ids_are_backfilled_from_the_projects(db: TestDb) {
    let alice = ferry_testkit::user(db.store(), "alice");
    let bob = ferry_testkit::user(db.store(), "bob");
    ferry_testkit::project(db.store(), &alice, "First");
    let second = ferry_testkit::project(db.store(), &bob, "Second");
    let mut conn = db.store().conn().unwrap();
    ferry_store::members::add(
        &mut conn,
        second.id,
        alice.id,
        ferry_domain::permission::Permissions::owner(),
    )
    .unwrap();
    revert_through(&mut conn, "000011");
    drop(conn);
    assert_eq!(
        db.store().migrate().unwrap()[0],
        "2026-11-24-000011_member_project_dx_id"
    );
    let mut conn = db.store().conn().unwrap();
    let query = "SELECT m.project_dx_id AS kept, p.dx_id AS project \
                 FROM project_members m JOIN projects p ON p.id = m.project_id";
    let stored = match &mut *conn {
        DbConnection::Sqlite(c) => diesel::sql_query(query).load::<MemberProject>(c),
        DbConnection::Pg(c) => diesel::sql_query(query).load::<MemberProject>(c),
    }
    .unwrap();
    assert_eq!(stored.len(), 3);
    for row in stored {
        assert!(row.project.starts_with("project-"), "{row:?}");
        assert_eq!(row.kept, row.project);
    }
}

backends!(failed_items_keep_their_refusal_across_migration_18);
/// Migration 000018 turns each failed item's recorded SBG error (status, code, message) into
/// the refusal it stood for, the detail of a name or an attempt count included.
fn failed_items_keep_their_refusal_across_migration_18(db: TestDb) {
    use ferry_domain::copy::CopyRefusal;
    use ferry_store::jobs::{ItemOutcome, ItemStatus};

    let alice = ferry_testkit::user(db.store(), "alice");
    let project = ferry_testkit::project(db.store(), &alice, "Refusals");
    // (SBG code, message as recorded, the refusal it stands for)
    let recorded = [
        (
            3001,
            "Not enough privileges to write to the destination project.",
            CopyRefusal::DestinationNotWritable,
        ),
        (
            3002,
            "Requested project or member does not exist.",
            CopyRefusal::ProjectNotFound,
        ),
        (
            5002,
            "Requested file does not exist.",
            CopyRefusal::SourceNotFound,
        ),
        (
            5014,
            "Insufficient privileges to copy the requested file.",
            CopyRefusal::SourceNotCopyable,
        ),
        (
            5024,
            "Invalid name parameter: a folder name must not start with '__'.",
            CopyRefusal::InvalidName("a folder name must not start with '__'.".into()),
        ),
        (
            5026,
            "Destination folder is not found.",
            CopyRefusal::DestinationNotFound,
        ),
        (
            10229,
            "Cannot copy a folder into itself or below itself, nor merge it into itself.",
            CopyRefusal::IntoItself,
        ),
        (
            90000,
            "Copying the project root folder is not allowed.",
            CopyRefusal::RootFolder,
        ),
        (
            90010,
            "Copying this item failed 5 times; Ferry gave up on it.",
            CopyRefusal::GaveUp { attempts: 5 },
        ),
    ];
    let mut job = ferry_testkit::JobBuilder::new(&alice);
    for i in 0..recorded.len() {
        let source = ferry_domain::ids::SbgId::parse(&format!("{i:024x}")).unwrap();
        job = job.copy_to_project(&source, &project);
    }
    let job = job.create(db.store());
    let mut conn = db.store().conn().unwrap();
    revert_through(&mut conn, "000018");
    for (i, (code, message, _)) in recorded.iter().enumerate() {
        let status = sbg_status(*code);
        let update = format!(
            "UPDATE job_items SET state = 'failed', error_status = {status}, \
             error_code = {code}, error_message = '{}' \
             WHERE job_id = {} AND request_index = {i}",
            message.replace('\'', "''"),
            job.id
        );
        match &mut *conn {
            DbConnection::Sqlite(c) => diesel::sql_query(update).execute(c),
            DbConnection::Pg(c) => diesel::sql_query(update).execute(c),
        }
        .unwrap();
    }
    drop(conn);
    assert_eq!(
        db.store().migrate().unwrap()[0],
        "2026-12-06-000018_job_item_refusals"
    );
    let mut conn = db.store().conn().unwrap();
    let (items, total) =
        ferry_store::jobs::items(&mut conn, job.id, ferry_store::page::Page::ALL).unwrap();
    assert_eq!(total, recorded.len() as i64);
    let refusals: Vec<CopyRefusal> = items
        .into_iter()
        .map(|item| match item.status {
            ItemStatus::Worked(ItemOutcome::Failed(refusal)) => refusal,
            other => panic!("item {} is {other:?}", item.id),
        })
        .collect();
    let expected: Vec<CopyRefusal> = recorded.iter().map(|(_, _, r)| r.clone()).collect();
    assert_eq!(refusals, expected);

    // And back: its down migration writes the SBG errors that were recorded.
    revert_through(&mut conn, "000018");
    let query = format!(
        "SELECT error_status, error_code, error_message FROM job_items \
         WHERE job_id = {} ORDER BY request_index",
        job.id
    );
    let rendered = match &mut *conn {
        DbConnection::Sqlite(c) => diesel::sql_query(query).load::<RecordedError>(c),
        DbConnection::Pg(c) => diesel::sql_query(query).load::<RecordedError>(c),
    }
    .unwrap();
    let expected: Vec<RecordedError> = recorded
        .iter()
        .map(|(code, message, _)| RecordedError {
            error_status: sbg_status(*code),
            error_code: *code,
            error_message: (*message).to_owned(),
        })
        .collect();
    assert_eq!(rendered, expected);
}

/// The HTTP status SBG gives an error `code` (api::sbg::error's catalogue).
fn sbg_status(code: i64) -> i32 {
    match code {
        3001 | 5014 => 403,
        3002 | 5002 | 5026 => 404,
        90010 => 500,
        _ => 400,
    }
}

#[derive(QueryableByName, Debug, PartialEq)]
struct RecordedError {
    #[diesel(sql_type = diesel::sql_types::Integer)]
    error_status: i32,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    error_code: i64,
    #[diesel(sql_type = Text)]
    error_message: String,
}
