use ferry_domain::row_ids::{FolderRowId, ProjectRowId};
use std::collections::HashSet;
use std::sync::Barrier;

use diesel::prelude::*;
use ferry_domain::model::Folder;
use ferry_domain::path::FolderPath;
use ferry_store::schema::folders as folder_table;
use ferry_store::{DbConnection, StoreError, folders, projects};
use ferry_testkit::TestDb;
use ferry_testkit::backends;

fn path(s: &str) -> FolderPath {
    FolderPath::parse(s).unwrap()
}

fn folder_count(conn: &mut DbConnection, project_id: ProjectRowId) -> i64 {
    folder_table::table
        .filter(folder_table::project_id.eq(project_id.get()))
        .count()
        .get_result(conn)
        .unwrap()
}

backends!(ensure_path_creates_missing_ancestors_once);
fn ensure_path_creates_missing_ancestors_once(db: TestDb) {
    let alice = ferry_testkit::user(db.store(), "alice");
    let project = ferry_testkit::project(db.store(), &alice, "P");
    let mut conn = db.store().conn().unwrap();
    let root = projects::root_folder(&mut conn, project.id).unwrap();

    let c = folders::ensure_path(&mut conn, project.id, &path("/a/b/c")).unwrap();
    assert_eq!(c.path, path("/a/b/c"));
    assert_eq!(folder_count(&mut conn, project.id), 4);
    let b = folders::get_by_path(&mut conn, project.id, &path("/a/b"))
        .unwrap()
        .unwrap();
    let a = folders::get_by_path(&mut conn, project.id, &path("/a"))
        .unwrap()
        .unwrap();
    assert_eq!(c.parent_id, Some(b.id));
    assert_eq!(b.parent_id, Some(a.id));
    assert_eq!(a.parent_id, Some(root.id));

    assert_eq!(
        folders::ensure_path(&mut conn, project.id, &path("/a/b/c")).unwrap(),
        c
    );
    assert_eq!(
        folders::ensure_path(&mut conn, project.id, &path("/")).unwrap(),
        root
    );
    assert_eq!(folder_count(&mut conn, project.id), 4);

    let d = folders::ensure_path(&mut conn, project.id, &path("/a/b/d")).unwrap();
    assert_eq!(d.parent_id, Some(b.id));
    assert_eq!(folder_count(&mut conn, project.id), 5);

    let sbg_ids: HashSet<_> = [&root, &a, &b, &c, &d]
        .iter()
        .map(|f| f.sbg_id.clone())
        .collect();
    assert_eq!(sbg_ids.len(), 5);
    assert_eq!(
        folders::get_by_sbg_id(&mut conn, &d.sbg_id).unwrap(),
        Some(d)
    );
    assert_eq!(
        folders::get_by_path(&mut conn, project.id, &path("/a/x")).unwrap(),
        None
    );
}

backends!(paths_are_per_project);
fn paths_are_per_project(db: TestDb) {
    let alice = ferry_testkit::user(db.store(), "alice");
    let one = ferry_testkit::project(db.store(), &alice, "One");
    let two = ferry_testkit::project(db.store(), &alice, "Two");
    let mut conn = db.store().conn().unwrap();
    let in_one = folders::ensure_path(&mut conn, one.id, &path("/data")).unwrap();
    assert_eq!(
        folders::get_by_path(&mut conn, two.id, &path("/data")).unwrap(),
        None
    );
    let in_two = folders::ensure_path(&mut conn, two.id, &path("/data")).unwrap();
    assert_ne!(in_one.id, in_two.id);
    assert_eq!(in_two.project_id, two.id);
}

backends!(a_failed_enclosing_transaction_leaves_no_folder);
fn a_failed_enclosing_transaction_leaves_no_folder(db: TestDb) {
    let alice = ferry_testkit::user(db.store(), "alice");
    let project = ferry_testkit::project(db.store(), &alice, "P");
    let mut conn = db.store().conn().unwrap();
    let result: Result<Folder, StoreError> = db.store().write(None, |conn| {
        folders::ensure_path(conn, project.id, &path("/x/y"))?;
        Err(StoreError::Conflict("the caller changed its mind".into()))
    });
    assert!(matches!(result, Err(StoreError::Conflict(_))));
    assert_eq!(
        folders::get_by_path(&mut conn, project.id, &path("/x")).unwrap(),
        None
    );
    assert_eq!(folder_count(&mut conn, project.id), 1);
}

backends!(concurrent_ensure_path_calls_agree_on_one_folder);
fn concurrent_ensure_path_calls_agree_on_one_folder(db: TestDb) {
    let alice = ferry_testkit::user(db.store(), "alice");
    let project = ferry_testkit::project(db.store(), &alice, "P");
    let start = Barrier::new(6);
    let ids: HashSet<FolderRowId> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..6)
            .map(|_| {
                scope.spawn(|| {
                    let mut conn = db.store().conn().unwrap();
                    start.wait();
                    folders::ensure_path(&mut conn, project.id, &path("/p/q/r"))
                        .unwrap()
                        .id
                })
            })
            .collect();
        workers.into_iter().map(|w| w.join().unwrap()).collect()
    });
    assert_eq!(ids.len(), 1, "{ids:?}");
    assert_eq!(folder_count(&mut db.store().conn().unwrap(), project.id), 4);
}

backends!(a_path_longer_than_a_btree_entry_works);
fn a_path_longer_than_a_btree_entry_works(db: TestDb) {
    let alice = ferry_testkit::user(db.store(), "alice");
    let project = ferry_testkit::project(db.store(), &alice, "P");
    let mut conn = db.store().conn().unwrap();
    let components: Vec<String> = (0..5)
        .map(|i| char::from(b'a' + i).to_string().repeat(1000))
        .collect();
    let long = path(&format!("/{}", components.join("/")));
    assert!(long.as_str().len() > 5000);

    let folder = folders::ensure_path(&mut conn, project.id, &long).unwrap();
    assert_eq!(folder.path, long);
    assert_eq!(
        folders::ensure_path(&mut conn, project.id, &long)
            .unwrap()
            .id,
        folder.id
    );
    assert_eq!(
        folders::get_by_path(&mut conn, project.id, &long).unwrap(),
        Some(folder)
    );
    assert_eq!(folder_count(&mut conn, project.id), 6);
}
