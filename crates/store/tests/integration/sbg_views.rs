//! The SBG read model (`views`) and the file and folder writes under it.

use diesel::prelude::*;
use ferry_domain::ids::SbgId;
use ferry_domain::model::{Folder, Project, User};
use ferry_domain::name::FileName;
use ferry_domain::path::FolderPath;
use ferry_domain::permission::{Level, Permissions};
use ferry_domain::row_ids::FolderRowId;
use ferry_store::files::{self, PlacementUpdate};
use ferry_store::page::Page;
use ferry_store::sbg_views::{self, ListFilter};
use ferry_store::schema::{objects, placements};
use ferry_store::{DbConnection, Store, StoreError, folders, members, projects};
use ferry_testkit::TestDb;
use ferry_testkit::backends;
use serde_json::json;

fn folder(conn: &mut DbConnection, project: &Project, path: &str) -> Folder {
    folders::ensure_path(conn, project.id, &FolderPath::parse(path).unwrap()).unwrap()
}

/// `count` files named `f0000`, `f0001`, ... in `folder`, in one transaction; their SBG ids.
fn seed_files(
    store: &Store,
    user: &User,
    project: &Project,
    folder: &Folder,
    count: usize,
) -> Vec<SbgId> {
    let content = store.content().put_bytes(b"ACGT").unwrap();
    let mut conn = store.conn().unwrap();
    conn.transaction(|conn| {
        (0..count)
            .map(|i| {
                let name = FileName::parse(format!("f{i:04}")).unwrap();
                let (_, placement) =
                    files::create_closed_file(conn, user.id, project.id, folder, &name, &content)?;
                Ok(placement.sbg_id)
            })
            .collect::<Result<Vec<_>, StoreError>>()
    })
    .unwrap()
}

backends!(views_load_in_chunks_and_only_for_members);
fn views_load_in_chunks_and_only_for_members(db: TestDb) {
    let alice = ferry_testkit::user(db.store(), "alice");
    let bob = ferry_testkit::user(db.store(), "bob");
    let project = ferry_testkit::project(db.store(), &alice, "Many");
    let mut conn = db.store().conn().unwrap();
    let root = projects::root_folder(&mut conn, project.id).unwrap();
    let sub = folder(&mut conn, &project, "/sub");
    // More than one chunk of ids.
    let ids = seed_files(db.store(), &alice, &project, &root, 950);

    let mut asked = ids.clone();
    asked.extend([SbgId::generate(), sub.sbg_id.clone()]);
    let found = sbg_views::files_by_sbg_ids(&mut conn, alice.id, &asked).unwrap();
    assert_eq!(found.len(), 950);
    for (view, permissions) in &found {
        assert_eq!(
            (&view.project, &view.parent),
            (&project.sbg_id, &root.sbg_id)
        );
        assert_eq!(view.placement.object_id, view.object.id);
        assert_eq!(*permissions, Permissions::owner());
    }
    assert!(
        sbg_views::files_by_sbg_ids(&mut conn, bob.id, &asked)
            .unwrap()
            .is_empty()
    );
    assert!(
        sbg_views::folders_by_sbg_ids(&mut conn, bob.id, std::slice::from_ref(&sub.sbg_id))
            .unwrap()
            .is_empty()
    );
    assert!(
        sbg_views::root_folder(&mut conn, bob.id, &project.sbg_id)
            .unwrap()
            .is_none()
    );

    let viewer = Permissions {
        level: Level::View,
        copy: false,
        execute: false,
    };
    members::add(&mut conn, project.id, bob.id, viewer).unwrap();
    let seen = sbg_views::files_by_sbg_ids(&mut conn, bob.id, &ids).unwrap();
    assert_eq!(seen.len(), 950);
    assert!(seen.iter().all(|(_, permissions)| *permissions == viewer));

    let folders_found = sbg_views::folders_by_sbg_ids(
        &mut conn,
        bob.id,
        &[root.sbg_id.clone(), sub.sbg_id.clone(), ids[0].clone()],
    )
    .unwrap();
    assert_eq!(folders_found.len(), 2);
    for (view, _) in folders_found {
        let expected_parent = (view.folder.id == sub.id).then(|| root.sbg_id.clone());
        assert_eq!(view.parent, expected_parent);
        assert_eq!(view.project, project.sbg_id);
    }
    let (root_view, _) = sbg_views::root_folder(&mut conn, bob.id, &project.sbg_id)
        .unwrap()
        .unwrap();
    assert_eq!(root_view.folder, root);

    // A listing pages across the sub-folder and the files.
    let listing = sbg_views::list_folder(
        &mut conn,
        alice.id,
        &root,
        &ListFilter::default(),
        Page::new(0, 3),
    )
    .unwrap();
    assert_eq!(listing.total, 951);
    assert_eq!(listing.folders.len(), 1);
    let names: Vec<&str> = listing
        .files
        .iter()
        .map(|f| f.placement.name.as_str())
        .collect();
    assert_eq!(names, ["f0000", "f0001"]);
    let listing = sbg_views::list_folder(
        &mut conn,
        alice.id,
        &root,
        &ListFilter::default(),
        Page::new(950, 3),
    )
    .unwrap();
    assert_eq!(listing.files.len(), 1);
    assert_eq!(listing.files[0].placement.name, "f0949");
}

backends!(one_update_statement_writes_each_placement_its_own_values);
fn one_update_statement_writes_each_placement_its_own_values(db: TestDb) {
    let alice = ferry_testkit::user(db.store(), "alice");
    let project = ferry_testkit::project(db.store(), &alice, "Updates");
    let mut conn = db.store().conn().unwrap();
    let root = projects::root_folder(&mut conn, project.id).unwrap();
    let ids = seed_files(db.store(), &alice, &project, &root, 3);
    let views_before = sbg_views::files_by_sbg_ids(&mut conn, alice.id, &ids).unwrap();
    let updates: Vec<PlacementUpdate> = views_before
        .iter()
        .map(|(view, _)| PlacementUpdate {
            placement_id: view.placement.id,
            name: format!("2_{}", view.placement.name),
            tags: vec![view.placement.name.clone()],
            metadata: json!({"it's": view.placement.id.get()})
                .as_object()
                .unwrap()
                .clone(),
        })
        .collect();
    files::update_placements(&mut conn, &updates).unwrap();

    for (view, _) in sbg_views::files_by_sbg_ids(&mut conn, alice.id, &ids).unwrap() {
        let update = updates
            .iter()
            .find(|u| u.placement_id == view.placement.id)
            .unwrap();
        assert_eq!(view.placement.name, update.name);
        assert_eq!(view.placement.tags, update.tags);
        assert_eq!(view.placement.metadata, update.metadata);
        let stem: String = placements::table
            .find(view.placement.id.get())
            .select(placements::name_stem)
            .first(&mut conn)
            .unwrap();
        assert_eq!(
            format!("2_{stem}"),
            view.placement.name,
            "the stem drops the k_ prefix"
        );
    }
    files::update_placements(&mut conn, &[]).unwrap();
}

backends!(deleting_placements_deletes_the_objects_no_project_holds);
fn deleting_placements_deletes_the_objects_no_project_holds(db: TestDb) {
    let alice = ferry_testkit::user(db.store(), "alice");
    let project = ferry_testkit::project(db.store(), &alice, "One");
    let other = ferry_testkit::project(db.store(), &alice, "Two");
    let mut conn = db.store().conn().unwrap();
    let root = projects::root_folder(&mut conn, project.id).unwrap();
    let other_root = projects::root_folder(&mut conn, other.id).unwrap();
    let ids = seed_files(db.store(), &alice, &project, &root, 2);
    let found = sbg_views::files_by_sbg_ids(&mut conn, alice.id, &ids).unwrap();
    let (shared, alone) = (&found[0].0, &found[1].0);
    // The shared object is also placed in the other project, as a DNAnexus clone does.
    diesel::insert_into(placements::table)
        .values((
            placements::sbg_id.eq(SbgId::generate().as_str()),
            placements::object_id.eq(shared.object.id.get()),
            placements::project_id.eq(other.id.get()),
            placements::folder_id.eq(other_root.id.get()),
            placements::name.eq("clone"),
            placements::name_stem.eq("clone"),
            placements::created_at.eq(chrono::Utc::now().naive_utc()),
            placements::modified_at.eq(chrono::Utc::now().naive_utc()),
        ))
        .execute(&mut conn)
        .unwrap();

    files::delete_placements(&mut conn, &[shared.placement.id, alone.placement.id]).unwrap();
    assert!(
        sbg_views::files_by_sbg_ids(&mut conn, alice.id, &ids)
            .unwrap()
            .is_empty()
    );
    let remaining: Vec<i64> = objects::table.select(objects::id).load(&mut conn).unwrap();
    assert_eq!(remaining, [shared.object.id.get()]);
}

backends!(folder_names_emptiness_and_creation);
fn folder_names_emptiness_and_creation(db: TestDb) {
    let alice = ferry_testkit::user(db.store(), "alice");
    let project = ferry_testkit::project(db.store(), &alice, "Folders");
    let mut conn = db.store().conn().unwrap();
    let root = projects::root_folder(&mut conn, project.id).unwrap();
    let full = folder(&mut conn, &project, "/full");
    let empty = folder(&mut conn, &project, "/empty");
    let ids = seed_files(db.store(), &alice, &project, &full, 1);
    let file = sbg_views::files_by_sbg_ids(&mut conn, alice.id, &ids)
        .unwrap()
        .remove(0)
        .0;

    let wanted = [
        (root.id, "full"),
        (root.id, "f0000"),
        (full.id, "f0000"),
        (full.id, "full"),
    ];
    let taken = folders::names_taken(&mut conn, &wanted, &[]).unwrap();
    let mut taken: Vec<(FolderRowId, String)> = taken.into_iter().collect();
    taken.sort();
    assert_eq!(
        taken,
        [(root.id, "full".to_owned()), (full.id, "f0000".to_owned())]
    );
    assert!(
        folders::names_taken(&mut conn, &[(full.id, "f0000")], &[file.placement.id])
            .unwrap()
            .is_empty()
    );

    let all = [root.id, full.id, empty.id];
    let mut non_empty: Vec<FolderRowId> = folders::non_empty(&mut conn, &all, &[], &[])
        .unwrap()
        .into_iter()
        .collect();
    non_empty.sort();
    assert_eq!(non_empty, [root.id, full.id]);
    let going = [full.id, empty.id];
    assert!(
        folders::non_empty(&mut conn, &[full.id], &[file.placement.id], &going)
            .unwrap()
            .is_empty()
    );

    assert_eq!(
        folders::lock(&mut conn, &[full.id, FolderRowId::new(i64::MAX)])
            .unwrap()
            .into_iter()
            .collect::<Vec<_>>(),
        [full.id]
    );
    let path = FolderPath::parse("/full/inner").unwrap();
    let inner = folders::create_child(&mut conn, &full, &path).unwrap();
    assert_eq!((inner.parent_id, &inner.path), (Some(full.id), &path));
    assert!(matches!(
        folders::create_child(&mut conn, &full, &path),
        Err(StoreError::Conflict(_))
    ));

    folders::delete(&mut conn, &[empty.id]).unwrap();
    assert_eq!(
        folders::get_by_sbg_id(&mut conn, &empty.sbg_id).unwrap(),
        None
    );
}
