use chrono::{TimeDelta, Utc};
use diesel::prelude::*;
use ferry_domain::ids::Username;
use ferry_domain::row_ids::UserRowId;
use ferry_store::idempotency::{self, Applying, Claim, KeyedRequest, RETENTION, StoredResponse};
use ferry_store::schema::idempotency_keys;
use ferry_store::{DbConnection, Store, StoreError, users};
use ferry_testkit::TestDb;
use ferry_testkit::backends;

const LEASE: TimeDelta = TimeDelta::seconds(60);

fn keyed<'a>(user_id: UserRowId, key: &'a str, sha: &'a str) -> KeyedRequest<'a> {
    KeyedRequest {
        user_id,
        key,
        request_sha256: sha,
    }
}

fn response(body: &str) -> StoredResponse {
    StoredResponse {
        status: 200,
        content_type: Some("application/json".to_owned()),
        body: body.as_bytes().to_vec(),
    }
}

backends!(a_key_is_claimed_once_then_answers_its_response_and_refuses_other_requests);
fn a_key_is_claimed_once_then_answers_its_response_and_refuses_other_requests(db: TestDb) {
    let alice = ferry_testkit::user(db.store(), "alice");
    let bob = ferry_testkit::user(db.store(), "bob");
    let mut conn = db.store().conn().unwrap();
    let now = Utc::now();
    let request = keyed(alice.id, "k", "sha-a");

    let first = idempotency::claim(&mut conn, request, "c1", LEASE, now).unwrap();
    assert_eq!(first, Claim::Granted, "{:?}", db.backend());
    assert_eq!(
        idempotency::claim(&mut conn, request, "c2", LEASE, now).unwrap(),
        Claim::InFlight
    );
    assert_eq!(
        idempotency::claim(&mut conn, keyed(alice.id, "k", "sha-b"), "c3", LEASE, now).unwrap(),
        Claim::Mismatch
    );
    // Another user's key of the same name is another key.
    assert_eq!(
        idempotency::claim(&mut conn, keyed(bob.id, "k", "sha-b"), "c4", LEASE, now).unwrap(),
        Claim::Granted
    );

    assert!(!idempotency::complete(&mut conn, request, "c2", &response("no")).unwrap());
    assert!(idempotency::complete(&mut conn, request, "c1", &response("{\"a\":1}")).unwrap());
    assert_eq!(
        idempotency::claim(&mut conn, request, "c5", LEASE, now).unwrap(),
        Claim::Done(response("{\"a\":1}"))
    );
    // A done key is neither released nor completed again.
    idempotency::release(&mut conn, request, "c1", now).unwrap();
    assert!(!idempotency::complete(&mut conn, request, "c1", &response("x")).unwrap());
    assert_eq!(
        idempotency::claim(&mut conn, request, "c6", LEASE, now).unwrap(),
        Claim::Done(response("{\"a\":1}"))
    );
}

backends!(a_released_key_runs_again_and_a_lapsed_lease_is_taken_over_once);
fn a_released_key_runs_again_and_a_lapsed_lease_is_taken_over_once(db: TestDb) {
    let alice = ferry_testkit::user(db.store(), "alice");
    let mut conn = db.store().conn().unwrap();
    let now = Utc::now();
    let request = keyed(alice.id, "k", "sha");

    assert_eq!(
        idempotency::claim(&mut conn, request, "c1", LEASE, now).unwrap(),
        Claim::Granted
    );
    idempotency::release(&mut conn, request, "c1", now).unwrap();
    assert_eq!(
        idempotency::claim(&mut conn, request, "c2", LEASE, now).unwrap(),
        Claim::Granted
    );

    let later = now + LEASE + TimeDelta::seconds(1);
    assert_eq!(
        idempotency::claim(&mut conn, request, "c3", LEASE, later).unwrap(),
        Claim::Granted,
        "{:?}",
        db.backend()
    );
    assert_eq!(
        idempotency::claim(&mut conn, request, "c4", LEASE, later).unwrap(),
        Claim::InFlight
    );
    // The holder whose lease was taken over can no longer record or release.
    assert!(!idempotency::complete(&mut conn, request, "c2", &response("old")).unwrap());
    idempotency::release(&mut conn, request, "c2", later).unwrap();
    assert!(idempotency::complete(&mut conn, request, "c3", &response("new")).unwrap());
    assert_eq!(
        idempotency::claim(&mut conn, request, "c5", LEASE, later).unwrap(),
        Claim::Done(response("new"))
    );
}

backends!(keys_older_than_a_day_are_pruned_and_the_key_can_be_used_again);
fn keys_older_than_a_day_are_pruned_and_the_key_can_be_used_again(db: TestDb) {
    let alice = ferry_testkit::user(db.store(), "alice");
    let mut conn = db.store().conn().unwrap();
    let then = Utc::now() - RETENTION - TimeDelta::minutes(1);
    for key in ["old-1", "old-2"] {
        let request = keyed(alice.id, key, "sha");
        idempotency::claim(&mut conn, request, key, LEASE, then).unwrap();
        idempotency::complete(&mut conn, request, key, &response("old")).unwrap();
    }
    let recent = keyed(alice.id, "recent", "sha");
    idempotency::claim(&mut conn, recent, "r", LEASE, Utc::now()).unwrap();

    // A claim prunes every expired key first, so the old key is new again.
    let reused = keyed(alice.id, "old-1", "other-sha");
    assert_eq!(
        idempotency::claim(&mut conn, reused, "n", LEASE, Utc::now()).unwrap(),
        Claim::Granted,
        "{:?}",
        db.backend()
    );
    let mut keys: Vec<String> = idempotency_keys::table
        .select(idempotency_keys::idempotency_key)
        .load(&mut conn)
        .unwrap();
    keys.sort();
    assert_eq!(keys, ["old-1", "recent"]);
    assert_eq!(idempotency::prune(&mut conn, Utc::now()).unwrap(), 0);
}

fn applied(conn: &mut DbConnection, user_id: UserRowId, key: &str) -> bool {
    idempotency_keys::table
        .find((user_id.get(), key))
        .select(idempotency_keys::applied)
        .first(conn)
        .unwrap()
}

/// Creates the user `name` in a unit of work under `claim`, failing it if `fail`.
fn write_under(store: &Store, claim: &Applying, name: &str, fail: bool) -> Result<(), StoreError> {
    store.write(Some(claim), |conn| {
        users::create(conn, &Username::parse(name).unwrap(), name, None)?;
        if fail {
            Err(StoreError::NotFound)
        } else {
            Ok(())
        }
    })
}

fn exists(conn: &mut DbConnection, name: &str) -> bool {
    users::find_by_username(conn, &Username::parse(name).unwrap())
        .unwrap()
        .is_some()
}

backends!(the_requests_commit_marks_its_key_applied_and_a_lost_answer_never_runs_again);
fn the_requests_commit_marks_its_key_applied_and_a_lost_answer_never_runs_again(db: TestDb) {
    let alice = ferry_testkit::user(db.store(), "alice");
    let mut conn = db.store().conn().unwrap();
    let now = Utc::now();
    let later = now + LEASE + TimeDelta::seconds(1);
    let claim = |key: &str, claim_id: &str| Applying {
        user_id: alice.id,
        key: key.to_owned(),
        claim_id: claim_id.to_owned(),
    };

    let request = keyed(alice.id, "k", "sha");
    assert_eq!(
        idempotency::claim(&mut conn, request, "c1", LEASE, now).unwrap(),
        Claim::Granted
    );
    // A transaction that rolls back takes its mark with it.
    assert!(write_under(db.store(), &claim("k", "c1"), "rolled", true).is_err());
    assert!(!applied(&mut conn, alice.id, "k"), "{:?}", db.backend());
    assert!(!exists(&mut conn, "rolled"));
    // One that commits marks the key in the same transaction.
    write_under(db.store(), &claim("k", "c1"), "written", false).unwrap();
    assert!(applied(&mut conn, alice.id, "k"));
    assert!(exists(&mut conn, "written"));
    // The holder may still record its answer: a retry waits for it.
    assert_eq!(
        idempotency::claim(&mut conn, request, "c2", LEASE, now).unwrap(),
        Claim::InFlight
    );
    // It died before recording: after its lease the key is lost, never taken over.
    for claim_id in ["c3", "c4"] {
        assert_eq!(
            idempotency::claim(&mut conn, request, claim_id, LEASE, later).unwrap(),
            Claim::Lost
        );
    }
    // Outside a claim a unit of work marks nothing.
    db.store()
        .write(None, |conn| {
            users::create(conn, &Username::parse("free").unwrap(), "free", None).map(drop)
        })
        .unwrap();

    // A server error after the commit: releasing keeps the key and ends its lease now.
    let failed = keyed(alice.id, "k5xx", "sha");
    idempotency::claim(&mut conn, failed, "c1", LEASE, now).unwrap();
    write_under(db.store(), &claim("k5xx", "c1"), "five", false).unwrap();
    idempotency::release(&mut conn, failed, "c1", now).unwrap();
    assert_eq!(
        idempotency::claim(&mut conn, failed, "c2", LEASE, now + TimeDelta::seconds(1)).unwrap(),
        Claim::Lost
    );

    // A holder whose lapsed lease was taken over cannot commit its writes.
    let slow = keyed(alice.id, "slow", "sha");
    idempotency::claim(&mut conn, slow, "c1", LEASE, now).unwrap();
    assert_eq!(
        idempotency::claim(&mut conn, slow, "c2", LEASE, later).unwrap(),
        Claim::Granted
    );
    assert!(matches!(
        write_under(db.store(), &claim("slow", "c1"), "late", false),
        Err(StoreError::ClaimTakenOver)
    ));
    assert!(!exists(&mut conn, "late"));
    assert!(!applied(&mut conn, alice.id, "slow"));
}
