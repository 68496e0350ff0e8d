use std::collections::HashSet;
use std::sync::Barrier;

use ferry_domain::ids::{DxClass, SbgProjectId};
use ferry_domain::path::FolderPath;
use ferry_domain::permission::Permissions;
use ferry_store::{billing, projects};
use ferry_testkit::TestDb;

#[test]
fn a_new_project_has_both_ids_a_root_folder_and_its_owner_as_administrator() {
    for db in TestDb::all() {
        let alice = ferry_testkit::user(db.store(), "alice");
        let bob = ferry_testkit::user(db.store(), "bob");
        let mut conn = db.store().conn().unwrap();
        let group = billing::personal(&mut conn, alice.id).unwrap();
        let project =
            projects::create(&mut conn, &alice, "My Project", "about it", group.id).unwrap();
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
}

#[test]
fn slugs_are_unique_per_owner() {
    for db in TestDb::all() {
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
}

#[test]
fn concurrent_creations_by_one_owner_get_distinct_slugs() {
    for db in TestDb::all() {
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
}

#[test]
fn a_user_lists_the_projects_they_are_a_member_of() {
    for db in TestDb::all() {
        let alice = ferry_testkit::user(db.store(), "alice");
        let bob = ferry_testkit::user(db.store(), "bob");
        let created: Vec<_> = ["One", "Two", "One", "Three"]
            .into_iter()
            .map(|name| ferry_testkit::project(db.store(), &alice, name))
            .collect();
        ferry_testkit::project(db.store(), &bob, "One");
        let mut conn = db.store().conn().unwrap();

        let (all, total) = projects::list_for_user(&mut conn, alice.id, None, 0, 100).unwrap();
        assert_eq!((all, total), (created.clone(), 4));

        let (page, total) = projects::list_for_user(&mut conn, alice.id, None, 1, 2).unwrap();
        assert_eq!((page, total), (created[1..3].to_vec(), 4));

        let (named, total) =
            projects::list_for_user(&mut conn, alice.id, Some("One"), 0, 100).unwrap();
        assert_eq!(
            (named, total),
            (vec![created[0].clone(), created[2].clone()], 2)
        );

        let (bobs, total) = projects::list_for_user(&mut conn, bob.id, None, 0, 100).unwrap();
        assert_eq!(total, 1);
        assert_eq!(bobs[0].sbg_id.as_str(), "bob/one");
    }
}
