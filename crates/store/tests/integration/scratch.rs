//! Scratch schemas: a sweep drops those a killed process left, and nothing else.

use std::time::{Duration, SystemTime};

use diesel::sql_types::{Bool, Text};
use diesel::{Connection, PgConnection, QueryableByName, RunQueryDsl};
use ferry_store::scratch::ScratchSchema;

#[derive(QueryableByName)]
struct Exists {
    #[diesel(sql_type = Bool)]
    exists: bool,
}

fn exists(server: &str, schema: &str) -> bool {
    let mut conn = PgConnection::establish(server).unwrap();
    diesel::sql_query("SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = $1) AS exists")
        .bind::<Text, _>(schema)
        .get_result::<Exists>(&mut conn)
        .unwrap()
        .exists
}

#[test]
fn a_sweep_drops_the_schemas_of_its_prefix_made_before_the_cutoff() {
    let Some(server) = ferry_testkit::postgres_server() else {
        return;
    };
    // A prefix of this test's own, so that the sweep cannot reach another test's schemas.
    let prefix = format!("sweep{}", &uuid::Uuid::new_v4().simple().to_string()[..12]);
    let left = ScratchSchema::create(&server, &prefix).unwrap();
    let other_tool = format!("{prefix}_sdk_0123456789abcdef");
    let mut admin = PgConnection::establish(&server).unwrap();
    diesel::sql_query(format!("CREATE SCHEMA {other_tool}"))
        .execute(&mut admin)
        .unwrap();

    let an_hour_ago = SystemTime::now() - Duration::from_secs(3600);
    let swept = ScratchSchema::sweep(&server, &prefix, an_hour_ago).unwrap();
    assert!(swept.is_empty(), "{swept:?}");
    assert!(exists(&server, left.name()));

    // Names carry whole seconds: two seconds on, the schema was made before the cutoff.
    let later = SystemTime::now() + Duration::from_secs(2);
    let swept = ScratchSchema::sweep(&server, &prefix, later).unwrap();
    assert_eq!(swept, [left.name()]);
    assert!(!exists(&server, left.name()));
    assert!(
        exists(&server, &other_tool),
        "a name without a time is kept"
    );

    diesel::sql_query(format!("DROP SCHEMA {other_tool}"))
        .execute(&mut admin)
        .unwrap();
}
