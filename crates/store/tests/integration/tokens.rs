use chrono::{TimeDelta, Utc};
use diesel::prelude::*;
use ferry_domain::row_ids::TokenRowId;
use ferry_store::schema::tokens;
use ferry_store::{StoreError, tokens as token_repo};
use ferry_testkit::TestDb;
use ferry_testkit::backends;

backends!(a_token_authenticates_its_user_until_revoked);
fn a_token_authenticates_its_user_until_revoked(db: TestDb) {
    let alice = ferry_testkit::user(db.store(), "alice");
    let mut conn = db.store().conn().unwrap();
    let (token, secret) = token_repo::create(&mut conn, alice.id, Some("laptop"), None).unwrap();
    assert_eq!(secret.len(), 32);
    assert!(
        secret
            .bytes()
            .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')),
        "{secret}"
    );
    assert_eq!(token.last4, secret[28..]);
    assert_eq!(token.label.as_deref(), Some("laptop"));
    assert_eq!((token.revoked_at, token.last_used_at), (None, None));

    let now = Utc::now();
    let (user, used) = token_repo::authenticate(&mut conn, &secret, now)
        .unwrap()
        .unwrap();
    assert_eq!(user, alice);
    assert_eq!(used.id, token.id);
    assert!(used.last_used_at.is_some());

    let wrong = format!(
        "{}{}",
        &secret[..31],
        if secret.ends_with('0') { '1' } else { '0' }
    );
    assert_eq!(
        token_repo::authenticate(&mut conn, &wrong, now).unwrap(),
        None
    );
    assert_eq!(token_repo::authenticate(&mut conn, "", now).unwrap(), None);

    let revoked = token_repo::revoke(&mut conn, alice.id, token.id).unwrap();
    let revoked_at = revoked.revoked_at.expect("revoked");
    assert_eq!(
        token_repo::authenticate(&mut conn, &secret, now).unwrap(),
        None
    );
    // Idempotent: revoking again keeps the first revocation time.
    let again = token_repo::revoke(&mut conn, alice.id, token.id).unwrap();
    assert_eq!(again.revoked_at, Some(revoked_at));
}

backends!(last_used_is_written_at_most_once_a_minute);
fn last_used_is_written_at_most_once_a_minute(db: TestDb) {
    let alice = ferry_testkit::user(db.store(), "alice");
    let mut conn = db.store().conn().unwrap();
    let (_, secret) = token_repo::create(&mut conn, alice.id, None, None).unwrap();
    let last_used = |conn: &mut _, at| {
        let (_, token) = token_repo::authenticate(conn, &secret, at)
            .unwrap()
            .unwrap();
        token.last_used_at.unwrap()
    };
    let t0 = Utc::now();
    let first = last_used(&mut conn, t0);
    assert_eq!(last_used(&mut conn, t0 + TimeDelta::seconds(30)), first);
    let later = last_used(&mut conn, t0 + TimeDelta::seconds(61));
    assert!(later > first, "{later} > {first}");
    let stored = token_repo::list(&mut conn, alice.id).unwrap()[0].last_used_at;
    assert_eq!(stored, Some(later));
}

backends!(an_expired_token_is_refused);
fn an_expired_token_is_refused(db: TestDb) {
    let alice = ferry_testkit::user(db.store(), "alice");
    let mut conn = db.store().conn().unwrap();
    let now = Utc::now();
    let expiry = now + TimeDelta::hours(1);
    let (token, secret) = token_repo::create(&mut conn, alice.id, None, Some(expiry)).unwrap();
    assert!(token.expires_at.is_some());
    assert!(
        token_repo::authenticate(&mut conn, &secret, now)
            .unwrap()
            .is_some()
    );
    let after = expiry + TimeDelta::seconds(1);
    assert_eq!(
        token_repo::authenticate(&mut conn, &secret, after).unwrap(),
        None
    );
}

backends!(only_the_owner_can_revoke_and_list_a_token);
fn only_the_owner_can_revoke_and_list_a_token(db: TestDb) {
    let alice = ferry_testkit::user(db.store(), "alice");
    let bob = ferry_testkit::user(db.store(), "bob");
    let mut conn = db.store().conn().unwrap();
    let (first, _) = token_repo::create(&mut conn, alice.id, Some("one"), None).unwrap();
    let (second, secret) = token_repo::create(&mut conn, alice.id, Some("two"), None).unwrap();

    let listed = token_repo::list(&mut conn, alice.id).unwrap();
    assert_eq!(listed, vec![first.clone(), second.clone()]);
    assert_eq!(token_repo::list(&mut conn, bob.id).unwrap(), vec![]);

    let by_bob = token_repo::revoke(&mut conn, bob.id, second.id);
    assert!(matches!(by_bob, Err(StoreError::NotFound)), "{by_bob:?}");
    let unknown = token_repo::revoke(&mut conn, alice.id, TokenRowId::new(second.id.get() + 1000));
    assert!(matches!(unknown, Err(StoreError::NotFound)), "{unknown:?}");
    assert!(
        token_repo::authenticate(&mut conn, &secret, Utc::now())
            .unwrap()
            .is_some()
    );
}

backends!(the_database_holds_no_secret_in_clear);
fn the_database_holds_no_secret_in_clear(db: TestDb) {
    let alice = ferry_testkit::user(db.store(), "alice");
    let mut conn = db.store().conn().unwrap();
    let (_, secret) = token_repo::create(&mut conn, alice.id, Some("ci"), None).unwrap();
    let stored: Vec<(String, Option<String>, String)> = tokens::table
        .select((tokens::secret_sha256, tokens::label, tokens::last4))
        .load(&mut conn)
        .unwrap();
    assert_eq!(stored.len(), 1);
    let (digest, _, _) = &stored[0];
    assert_eq!(digest.len(), 64);
    let row = format!("{stored:?}");
    assert!(!row.contains(&secret), "{row}");
    assert!(
        !row.contains(&secret[..16]) && !row.contains(&secret[16..]),
        "{row}"
    );
    if let Some(path) = db.url().strip_prefix("sqlite://") {
        // The whole database, the write-ahead log included, not only the columns above.
        for file in [path.to_owned(), format!("{path}-wal")] {
            let bytes = std::fs::read(&file).unwrap_or_default();
            let found = bytes.windows(secret.len()).any(|w| w == secret.as_bytes());
            assert!(!found, "the secret is in {file}");
        }
    }
}
