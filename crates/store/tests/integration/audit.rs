//! The audit trail's and the shared rate-limit counts' repositories: bounded pruning, time
//! filters, and counts summed over processes in a constant number of statements.

use chrono::{Duration, Utc};
use diesel::Connection;
use diesel::prelude::*;
use ferry_domain::model::AuditOutcome;
use ferry_store::audit::{self, NewEvent, Query};
use ferry_store::rate_counts::add_and_read;
use ferry_store::schema::audit_events;
use ferry_testkit::TestDb;
use serde_json::json;

use crate::copy::StatementCounter;
use ferry_testkit::backends;

backends!(pruning_is_bounded_and_keeps_what_is_recent);
fn pruning_is_bounded_and_keeps_what_is_recent(db: TestDb) {
    let mut conn = db.store().conn().unwrap();
    let event = NewEvent {
        request_id: Some("r".into()),
        user_id: None,
        token_label: None,
        action: "denied",
        target: None,
        outcome: AuditOutcome::Denied,
        detail: json!({"status": 401}),
    };
    for _ in 0..5 {
        audit::record(&mut conn, &event).unwrap();
    }
    let old = (Utc::now() - Duration::days(3)).naive_utc();
    let ids: Vec<i64> = audit_events::table
        .select(audit_events::id)
        .order(audit_events::id)
        .limit(3)
        .load(&mut conn)
        .unwrap();
    diesel::update(audit_events::table.filter(audit_events::id.eq_any(&ids)))
        .set(audit_events::at.eq(old))
        .execute(&mut conn)
        .unwrap();
    let all = |conn: &mut _| audit::list(conn, &Query::default()).unwrap().1;
    let recent = Query {
        since: Some(Utc::now() - Duration::days(1)),
        ..Query::default()
    };
    assert_eq!(audit::list(&mut conn, &recent).unwrap().1, 2);

    let cutoff = Utc::now() - Duration::days(2);
    assert_eq!(audit::prune_before(&mut conn, cutoff, 2).unwrap(), 2);
    assert_eq!(all(&mut conn), 3);
    assert_eq!(audit::prune_before(&mut conn, cutoff, 2).unwrap(), 1);
    assert_eq!(audit::prune_before(&mut conn, cutoff, 2).unwrap(), 0);
    assert_eq!(all(&mut conn), 2);
}

backends!(counts_add_up_over_processes_in_one_short_transaction_whatever_the_tokens);
fn counts_add_up_over_processes_in_one_short_transaction_whatever_the_tokens(db: TestDb) {
    let mut conn = db.store().conn().unwrap();
    let statements = |conn: &mut ferry_store::DbConnection, deltas: &[(i64, i64)]| {
        let counter = StatementCounter::default();
        conn.set_instrumentation(counter.clone());
        let totals = add_and_read(conn, "sbg", 600, deltas).unwrap();
        conn.set_instrumentation(StatementCounter::default());
        (*counter.0.lock().unwrap(), totals)
    };
    add_and_read(&mut conn, "sbg", 300, &[(1, 9)]).unwrap();
    add_and_read(&mut conn, "dx", 300, &[(1, 4)]).unwrap();

    let (one, totals) = statements(&mut conn, &[(1, 2)]);
    assert_eq!(totals, vec![(1, 2)]);
    // Another process adds to the same window.
    let many: Vec<(i64, i64)> = (1..=600).map(|token| (token, 1)).collect();
    let (more, mut totals) = statements(&mut conn, &many);
    assert_eq!(one, more, "statements for 1 token vs 600");
    assert!(
        one <= 5,
        "{one} statements: BEGIN, upsert, delete, select, COMMIT"
    );
    totals.sort_unstable();
    assert_eq!(totals.len(), 600);
    assert_eq!(totals[0], (1, 3));
    assert_eq!(totals[599], (600, 1));
    // The earlier window of the same dialect is gone, the other dialect's is not.
    assert_eq!(add_and_read(&mut conn, "sbg", 300, &[]).unwrap(), vec![]);
    assert_eq!(
        add_and_read(&mut conn, "dx", 300, &[]).unwrap(),
        vec![(1, 4)]
    );
}
