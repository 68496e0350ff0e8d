//! Every connection of the store logs the statements slower than half a second, with their SQL
//! text and without their bound values.

use diesel::sql_types::{Integer, Text};
use diesel::{QueryableByName, RunQueryDsl};
use ferry_store::DbConnection;
use ferry_testkit::{TestDb, backends};

diesel::define_sql_function! {
    /// Sleeps `ms` milliseconds (SQLite has no sleep of its own: registered for this test).
    fn test_sleep_ms(ms: Integer) -> Integer;
}

#[derive(QueryableByName)]
struct Slept {
    #[diesel(sql_type = Integer)]
    slept: i32,
}

/// Runs a statement that takes at least `ms` milliseconds, with a secret bound value.
fn sleep(conn: &mut DbConnection, ms: i32) {
    let sql = match conn {
        DbConnection::Sqlite(sqlite) => {
            test_sleep_ms_utils::register_impl(sqlite, |ms: i32| {
                std::thread::sleep(std::time::Duration::from_millis(ms.unsigned_abs().into()));
                ms
            })
            .unwrap();
            "SELECT test_sleep_ms(?) AS slept WHERE ? <> ''"
        }
        DbConnection::Pg(_) => "SELECT $1 AS slept FROM pg_sleep($1 / 1000.0) WHERE $2 <> ''",
    };
    let slept: Slept = diesel::sql_query(sql)
        .bind::<Integer, _>(ms)
        .bind::<Text, _>("hunter2")
        .get_result(conn)
        .unwrap();
    assert_eq!(slept.slept, ms);
}

backends!(a_slow_statement_is_logged_without_its_bound_values);
fn a_slow_statement_is_logged_without_its_bound_values(db: TestDb) {
    let mut conn = db.store().conn().unwrap();
    let log = ferry_testkit::logs::logged(|| sleep(&mut conn, 600));
    assert!(log.contains("WARN"), "{log}");
    assert!(log.contains("slow database statement"), "{log}");
    assert!(log.contains("AS slept"), "the SQL text is logged: {log}");
    assert!(!log.contains("hunter2"), "a bound value was logged: {log}");
}

backends!(a_fast_statement_is_not_logged);
fn a_fast_statement_is_not_logged(db: TestDb) {
    let mut conn = db.store().conn().unwrap();
    let log = ferry_testkit::logs::logged(|| sleep(&mut conn, 0));
    assert_eq!(log, "");
}
