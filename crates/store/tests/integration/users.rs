use ferry_domain::ids::Username;
use ferry_domain::row_ids::UserRowId;
use ferry_store::page::Page;
use ferry_store::{StoreError, billing, users};
use ferry_testkit::TestDb;
use ferry_testkit::backends;

backends!(create_find_and_refuse_a_duplicate);
fn create_find_and_refuse_a_duplicate(db: TestDb) {
    let mut conn = db.store().conn().unwrap();
    let alice = Username::parse("alice").unwrap();
    let created = users::create(&mut conn, &alice, "Alice A.", Some("alice@example.com")).unwrap();
    assert_eq!(created.username, alice);
    assert_eq!(created.name, "Alice A.");
    assert_eq!(created.email.as_deref(), Some("alice@example.com"));

    assert_eq!(
        users::find_by_username(&mut conn, &alice).unwrap(),
        Some(created.clone())
    );
    assert_eq!(users::get(&mut conn, created.id).unwrap(), created);
    let nobody = Username::parse("nobody").unwrap();
    assert_eq!(users::find_by_username(&mut conn, &nobody).unwrap(), None);
    assert!(matches!(
        users::get(&mut conn, UserRowId::new(created.id.get() + 1000)),
        Err(StoreError::NotFound)
    ));

    let again = users::create(&mut conn, &alice, "Other", None);
    assert!(matches!(again, Err(StoreError::Conflict(_))), "{again:?}");
    // The failed creation left no second billing group behind.
    assert_eq!(
        billing::list_for_user(&mut conn, created.id, Page::new(0, 10))
            .unwrap()
            .1,
        1
    );
}

backends!(each_user_gets_a_personal_billing_group_only_they_can_use);
fn each_user_gets_a_personal_billing_group_only_they_can_use(db: TestDb) {
    let alice = ferry_testkit::user(db.store(), "alice");
    let bob = ferry_testkit::user(db.store(), "bob");
    let mut conn = db.store().conn().unwrap();

    let personal = billing::personal(&mut conn, alice.id).unwrap();
    assert_eq!(personal.bill_to, "user-alice");
    assert_eq!(personal.owner_user_id, alice.id);
    assert_eq!(personal.spent_cents, 0);
    assert_eq!(personal.spending_limit_cents, None);
    assert!(
        uuid::Uuid::parse_str(&personal.uuid).is_ok(),
        "{}",
        personal.uuid
    );

    assert_eq!(
        billing::list_for_user(&mut conn, alice.id, Page::new(0, 10)).unwrap(),
        (vec![personal.clone()], 1)
    );
    assert_eq!(
        billing::get_by_uuid(&mut conn, alice.id, &personal.uuid).unwrap(),
        Some(personal.clone())
    );
    assert_eq!(
        billing::get_by_uuid(&mut conn, bob.id, &personal.uuid).unwrap(),
        None
    );
    assert_ne!(
        billing::personal(&mut conn, bob.id).unwrap().id,
        personal.id
    );
    let nobody = billing::personal(&mut conn, UserRowId::new(bob.id.get() + 1000));
    assert!(matches!(nobody, Err(StoreError::NotFound)), "{nobody:?}");
}
