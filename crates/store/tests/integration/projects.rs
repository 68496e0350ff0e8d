use std::collections::HashSet;
use std::sync::Barrier;

use ferry_domain::ids::{DxClass, SbgProjectId};
use ferry_domain::model::Project;
use ferry_domain::path::FolderPath;
use ferry_domain::permission::{Level, Permissions};
use ferry_store::page::Page;
use ferry_store::projects::{ProjectChanges, ProjectFilter};
use ferry_store::{StoreError, billing, members, projects};
use ferry_testkit::TestDb;
use ferry_testkit::backends;
use serde_json::{Map, Value, json};

backends!(a_new_project_has_both_ids_a_root_folder_and_its_owner_as_administrator);
fn a_new_project_has_both_ids_a_root_folder_and_its_owner_as_administrator(db: TestDb) {
    let alice = ferry_testkit::user(db.store(), "alice");
    let bob = ferry_testkit::user(db.store(), "bob");
    let mut conn = db.store().conn().unwrap();
    let group = billing::personal(&mut conn, alice.id).unwrap();
    let project = projects::create(&mut conn, &alice, "My Project", "about it", group.id).unwrap();
    assert_eq!(project.sbg_id.as_str(), "alice/my-project");
    assert_eq!(project.dx_id.class(), DxClass::Project);
    assert_eq!(
        (project.name.as_str(), project.description.as_str()),
        ("My Project", "about it")
    );
    assert_eq!(project.region, "aws:us-east-1");
    assert_eq!(project.billing_group_id, group.id);
    assert_eq!(project.owner_user_id, alice.id);
    assert!(!project.restricted && !project.protected && !project.contains_phi);

    let root = projects::root_folder(&mut conn, project.id).unwrap();
    assert_eq!(
        (root.path, root.parent_id, root.project_id),
        (FolderPath::root(), None, project.id)
    );

    assert_eq!(
        projects::membership(&mut conn, project.id, alice.id).unwrap(),
        Some(Permissions::owner())
    );
    assert_eq!(
        projects::membership(&mut conn, project.id, bob.id).unwrap(),
        None
    );

    assert_eq!(
        projects::get_by_sbg_id(&mut conn, &project.sbg_id).unwrap(),
        Some(project.clone())
    );
    assert_eq!(
        projects::get_by_dx_id(&mut conn, &project.dx_id).unwrap(),
        Some(project.clone())
    );
    let missing = SbgProjectId::parse("bob/my-project").unwrap();
    assert_eq!(projects::get_by_sbg_id(&mut conn, &missing).unwrap(), None);
}

backends!(slugs_are_unique_per_owner);
fn slugs_are_unique_per_owner(db: TestDb) {
    let alice = ferry_testkit::user(db.store(), "alice");
    let bob = ferry_testkit::user(db.store(), "bob");
    let slug = |name: &str, owner| {
        let project = ferry_testkit::project(db.store(), owner, name);
        project.sbg_id.slug().as_str().to_owned()
    };
    assert_eq!(slug("My Project", &alice), "my-project");
    assert_eq!(slug("My Project", &alice), "my-project-2");
    assert_eq!(slug("my project", &alice), "my-project-3");
    assert_eq!(slug("My Project", &bob), "my-project");
    assert_eq!(slug("a_b", &alice), "a_b");
    assert_eq!(slug("a_b", &alice), "a_b-2");

    // A long name is cut to 64 characters, and the suffix still fits.
    let long = "x".repeat(80);
    let first = slug(&long, &alice);
    let second = slug(&long, &alice);
    assert_eq!(first, "x".repeat(64));
    assert!(second.len() <= 64 && second.ends_with("-2"), "{second}");
}

backends!(concurrent_creations_by_one_owner_get_distinct_slugs);
fn concurrent_creations_by_one_owner_get_distinct_slugs(db: TestDb) {
    let alice = ferry_testkit::user(db.store(), "alice");
    let start = Barrier::new(6);
    let slugs: HashSet<String> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..6)
            .map(|_| {
                scope.spawn(|| {
                    let mut conn = db.store().conn().unwrap();
                    let group = billing::personal(&mut conn, alice.id).unwrap();
                    start.wait();
                    let project =
                        projects::create(&mut conn, &alice, "Race", "", group.id).unwrap();
                    project.sbg_id.slug().as_str().to_owned()
                })
            })
            .collect();
        workers.into_iter().map(|w| w.join().unwrap()).collect()
    });
    assert_eq!(slugs.len(), 6, "{slugs:?}");
    assert!(
        slugs.contains("race") && slugs.contains("race-6"),
        "{slugs:?}"
    );
}

backends!(a_user_lists_the_projects_they_are_a_member_of);
fn a_user_lists_the_projects_they_are_a_member_of(db: TestDb) {
    let alice = ferry_testkit::user(db.store(), "alice");
    let bob = ferry_testkit::user(db.store(), "bob");
    let created: Vec<_> = ["One", "Two", "One", "Three"]
        .into_iter()
        .map(|name| ferry_testkit::project(db.store(), &alice, name))
        .collect();
    let bobs_one = ferry_testkit::project(db.store(), &bob, "One");
    let mut conn = db.store().conn().unwrap();
    let list = |conn: &mut _, user_id, filter, offset, limit| {
        let (page, total) =
            projects::list_for_member(conn, user_id, filter, Page::new(offset, limit)).unwrap();
        let page: Vec<Project> = page.into_iter().map(|v| v.project).collect();
        (page, total)
    };

    let all = ProjectFilter::default();
    assert_eq!(list(&mut conn, alice.id, all, 0, 100), (created.clone(), 4));
    assert_eq!(
        list(&mut conn, alice.id, all, 1, 2),
        (created[1..3].to_vec(), 4)
    );
    let named = ProjectFilter {
        name: Some("One"),
        ..all
    };
    assert_eq!(
        list(&mut conn, alice.id, named, 0, 100),
        (vec![created[0].clone(), created[2].clone()], 2)
    );
    assert_eq!(
        list(&mut conn, bob.id, all, 0, 100),
        (vec![bobs_one.clone()], 1)
    );

    // A member sees another's project, with their own permissions.
    let viewer = Permissions {
        level: Level::View,
        copy: false,
        execute: false,
    };
    members::add(&mut conn, bobs_one.id, alice.id, viewer).unwrap();
    let owned_by_bob = ProjectFilter {
        owner: Some(&bob.username),
        ..all
    };
    let (page, total) =
        projects::list_for_member(&mut conn, alice.id, owned_by_bob, Page::ALL).unwrap();
    assert_eq!(total, 1);
    assert_eq!(page[0].project, bobs_one);
    assert_eq!(page[0].permissions, viewer);
    let found = projects::find_for_member(&mut conn, alice.id, &bobs_one.sbg_id)
        .unwrap()
        .unwrap();
    assert_eq!(found, page[0]);
    let root = projects::root_folder(&mut conn, bobs_one.id).unwrap();
    assert_eq!(found.root_folder, root.sbg_id);
    let group = billing::personal(&mut conn, bob.id).unwrap();
    assert_eq!(found.billing_group_uuid, group.uuid);
    assert_eq!(
        projects::find_for_member(&mut conn, bob.id, &created[0].sbg_id).unwrap(),
        None
    );
}

backends!(updates_replace_the_given_fields_only);
fn updates_replace_the_given_fields_only(db: TestDb) {
    let alice = ferry_testkit::user(db.store(), "alice");
    let project = ferry_testkit::project(db.store(), &alice, "Before");
    let mut conn = db.store().conn().unwrap();
    let settings: Map<String, Value> = json!({"locked": true}).as_object().unwrap().clone();
    let changes = ProjectChanges {
        name: Some("After".to_owned()),
        tags: Some(vec!["a".to_owned(), "b".to_owned()]),
        settings: Some(settings.clone()),
        ..ProjectChanges::default()
    };
    projects::update(&mut conn, project.id, &changes).unwrap();
    let after = projects::get_by_sbg_id(&mut conn, &project.sbg_id)
        .unwrap()
        .unwrap();
    assert_eq!(after.sbg_id, project.sbg_id, "a rename keeps the id");
    assert_eq!(after.name, "After");
    assert_eq!(after.description, project.description);
    assert_eq!(after.tags, ["a", "b"]);
    assert_eq!(after.settings, settings);
    assert!(after.modified_at >= project.modified_at);
}

backends!(deleting_a_project_removes_its_members_and_folders);
fn deleting_a_project_removes_its_members_and_folders(db: TestDb) {
    let alice = ferry_testkit::user(db.store(), "alice");
    let project = ferry_testkit::project(db.store(), &alice, "Doomed");
    let mut conn = db.store().conn().unwrap();
    projects::lock(&mut conn, &project.sbg_id).unwrap();
    projects::delete(&mut conn, project.id).unwrap();
    assert_eq!(
        projects::get_by_sbg_id(&mut conn, &project.sbg_id).unwrap(),
        None
    );
    assert_eq!(
        projects::membership(&mut conn, project.id, alice.id).unwrap(),
        None
    );
    assert!(matches!(
        projects::root_folder(&mut conn, project.id),
        Err(StoreError::NotFound)
    ));
    assert!(matches!(
        projects::delete(&mut conn, project.id),
        Err(StoreError::NotFound)
    ));
}

backends!(members_are_added_changed_and_removed_but_the_last_administrator_stays_known);
fn members_are_added_changed_and_removed_but_the_last_administrator_stays_known(db: TestDb) {
    let alice = ferry_testkit::user(db.store(), "alice");
    let bob = ferry_testkit::user(db.store(), "bob");
    let project = ferry_testkit::project(db.store(), &alice, "Shared");
    let mut conn = db.store().conn().unwrap();
    assert!(members::is_last_administrator(&mut conn, project.id, alice.id).unwrap());
    assert!(!members::is_last_administrator(&mut conn, project.id, bob.id).unwrap());

    let writer = Permissions {
        level: Level::Contribute,
        copy: true,
        execute: false,
    };
    members::add(&mut conn, project.id, bob.id, writer).unwrap();
    assert!(matches!(
        members::add(&mut conn, project.id, bob.id, writer),
        Err(StoreError::Conflict(_))
    ));
    let (page, total) = members::list(&mut conn, project.id, Page::new(0, 10)).unwrap();
    assert_eq!(total, 2);
    assert_eq!(
        page,
        [(alice.clone(), Permissions::owner()), (bob.clone(), writer)]
    );
    let (page, total) = members::list(&mut conn, project.id, Page::new(1, 10)).unwrap();
    assert_eq!((page.len(), total), (1, 2));
    assert_eq!(
        members::get(&mut conn, project.id, &bob.username).unwrap(),
        Some((bob.clone(), writer))
    );

    members::set_permissions(&mut conn, project.id, bob.id, Permissions::owner()).unwrap();
    assert!(!members::is_last_administrator(&mut conn, project.id, alice.id).unwrap());
    members::remove(&mut conn, project.id, alice.id).unwrap();
    assert!(members::is_last_administrator(&mut conn, project.id, bob.id).unwrap());
    assert_eq!(
        members::get(&mut conn, project.id, &alice.username).unwrap(),
        None
    );
    assert!(matches!(
        members::remove(&mut conn, project.id, alice.id),
        Err(StoreError::NotFound)
    ));
    assert!(matches!(
        members::set_permissions(&mut conn, project.id, alice.id, writer),
        Err(StoreError::NotFound)
    ));
}
