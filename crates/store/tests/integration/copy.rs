//! The SBG copy: new objects and placements, the `N_name` rule, shared content, and a constant
//! number of statements whatever the batch size.

use ferry_domain::row_ids::UserRowId;
use std::sync::{Arc, Mutex};

use diesel::Connection;
use diesel::connection::{Instrumentation, InstrumentationEvent};
use ferry_domain::model::{FileView, Folder, Project};
use ferry_domain::name::FileName;
use ferry_store::copy::{CopyItem, CopyResult, Destination, copy_files};
use ferry_store::{DbConnection, Store, files, projects};
use ferry_testkit::TestDb;
use ferry_testkit::backends;

/// `count` files named `file-<i>.txt` (all with the same bytes) in the project's root.
fn seed_files(store: &Store, project: &Project, user_id: UserRowId, count: usize) -> Vec<FileView> {
    let content = store.content().put_bytes(b"shared bytes\n").unwrap();
    let mut conn = store.conn().unwrap();
    let root = projects::root_folder(&mut conn, project.id).unwrap();
    (0..count)
        .map(|i| {
            let name = FileName::parse(format!("file-{i}.txt")).unwrap();
            let (object, placement) =
                files::create_closed_file(&mut conn, user_id, project.id, &root, &name, &content)
                    .unwrap();
            FileView {
                placement,
                object,
                project: project.sbg_id.clone(),
                parent: root.sbg_id.clone(),
            }
        })
        .collect()
}

fn copy_all(
    conn: &mut DbConnection,
    user_id: UserRowId,
    project: &Project,
    folder: &Folder,
    sources: &[FileView],
) -> Vec<CopyResult> {
    let items: Vec<CopyItem<'_>> = sources
        .iter()
        .map(|source| CopyItem { source, name: None })
        .collect();
    let to = Destination {
        project: &project.sbg_id,
        folder,
    };
    conn.transaction(|conn| copy_files(conn, user_id, to, &items))
        .unwrap()
}

fn copied(results: Vec<CopyResult>) -> Vec<FileView> {
    results
        .into_iter()
        .map(|r| match r {
            CopyResult::Copied(view) => *view,
            CopyResult::NameTooLong(name) => panic!("unexpected NameTooLong({name})"),
        })
        .collect()
}

backends!(copies_get_new_ids_keep_content_and_metadata_and_take_n_names);
fn copies_get_new_ids_keep_content_and_metadata_and_take_n_names(db: TestDb) {
    let alice = ferry_testkit::user(db.store(), "alice");
    let source = ferry_testkit::project(db.store(), &alice, "Source");
    let target = ferry_testkit::project(db.store(), &alice, "Target");
    let sources = seed_files(db.store(), &source, alice.id, 3);
    let mut conn = db.store().conn().unwrap();
    let root = projects::root_folder(&mut conn, target.id).unwrap();

    let first = copied(copy_all(&mut conn, alice.id, &target, &root, &sources));
    let second = copied(copy_all(&mut conn, alice.id, &target, &root, &sources));
    let third = copied(copy_all(&mut conn, alice.id, &target, &root, &sources[..1]));

    for (source, copy) in sources.iter().zip(&first) {
        assert_eq!(copy.placement.name, source.placement.name);
        assert_ne!(copy.placement.sbg_id, source.placement.sbg_id);
        assert_ne!(copy.object.dx_id, source.object.dx_id);
        assert_eq!(copy.object.content_sha256, source.object.content_sha256);
        assert_eq!(copy.object.size, source.object.size);
        assert_eq!(copy.object.state, source.object.state);
        assert_eq!(copy.placement.project_id, target.id);
        assert_eq!(copy.project, target.sbg_id);
    }
    let names: Vec<&str> = second.iter().map(|c| c.placement.name.as_str()).collect();
    assert_eq!(names, ["1_file-0.txt", "1_file-1.txt", "1_file-2.txt"]);
    assert_eq!(third[0].placement.name, "2_file-0.txt");
}

backends!(explicit_names_follow_the_same_rule_and_overlong_names_are_refused);
fn explicit_names_follow_the_same_rule_and_overlong_names_are_refused(db: TestDb) {
    let alice = ferry_testkit::user(db.store(), "alice");
    let project = ferry_testkit::project(db.store(), &alice, "P");
    let sources = seed_files(db.store(), &project, alice.id, 2);
    let mut conn = db.store().conn().unwrap();
    let root = projects::root_folder(&mut conn, project.id).unwrap();
    let wanted = FileName::parse("file-1.txt").unwrap();
    let long = FileName::parse("x".repeat(254)).unwrap();
    let items = [
        CopyItem {
            source: &sources[0],
            name: Some(&wanted),
        },
        CopyItem {
            source: &sources[0],
            name: Some(&long),
        },
        CopyItem {
            source: &sources[0],
            name: Some(&long),
        },
    ];
    let to = Destination {
        project: &project.sbg_id,
        folder: &root,
    };
    let results = conn
        .transaction(|conn| copy_files(conn, alice.id, to, &items))
        .unwrap();
    match &results[..] {
        [
            CopyResult::Copied(a),
            CopyResult::Copied(b),
            CopyResult::NameTooLong(c),
        ] => {
            assert_eq!(a.placement.name, "1_file-1.txt");
            assert_eq!(b.placement.name, long.as_str());
            assert_eq!(c, &format!("1_{}", long.as_str()));
        }
        other => panic!("unexpected results: {other:?}"),
    }
}

/// Counts the statements a connection runs.
#[derive(Clone, Default)]
pub(crate) struct StatementCounter(pub(crate) Arc<Mutex<usize>>);

impl Instrumentation for StatementCounter {
    fn on_connection_event(&mut self, event: InstrumentationEvent<'_>) {
        if let InstrumentationEvent::StartQuery { .. } = event {
            *self.0.lock().unwrap() += 1;
        }
    }
}

backends!(a_batch_costs_the_same_number_of_statements_whatever_its_size);
fn a_batch_costs_the_same_number_of_statements_whatever_its_size(db: TestDb) {
    let alice = ferry_testkit::user(db.store(), "alice");
    let source = ferry_testkit::project(db.store(), &alice, "Source");
    let sources = seed_files(db.store(), &source, alice.id, 300);
    let statements = |count: usize, project: &str| {
        let target = ferry_testkit::project(db.store(), &alice, project);
        let mut conn = db.store().conn().unwrap();
        let root = projects::root_folder(&mut conn, target.id).unwrap();
        // Collide with earlier copies too, so renaming is part of what is measured.
        copy_all(&mut conn, alice.id, &target, &root, &sources[..count]);
        let counter = StatementCounter::default();
        conn.set_instrumentation(counter.clone());
        let results = copy_all(&mut conn, alice.id, &target, &root, &sources[..count]);
        assert_eq!(copied(results).len(), count);
        *counter.0.lock().unwrap()
    };
    let small = statements(3, "Small");
    let large = statements(300, "Large");
    assert_eq!(small, large, "statements for 3 files vs 300 files");
    assert!(large <= 9, "{large} statements for one batch");
}

backends!(taken_names_give_the_next_number_past_the_highest);
/// The next copy of a name is numbered one past the highest number in the folder, gaps or
/// not; names numbered past 18 digits are read one by one and stepped over.
fn taken_names_give_the_next_number_past_the_highest(db: TestDb) {
    let alice = ferry_testkit::user(db.store(), "alice");
    let project = ferry_testkit::project(db.store(), &alice, "Names");
    let content = db.store().content().put_bytes(b"x").unwrap();
    let mut conn = db.store().conn().unwrap();
    let root = projects::root_folder(&mut conn, project.id).unwrap();
    let names: Vec<(FileName, _)> = [
        "a.txt",
        "1_a.txt",
        "2_a.txt",
        "01_a.txt",
        "b.txt",
        "1_b.txt",
        "3_b.txt",
        "c.txt",
        "99999999999999999999_c.txt",
        "9223372036854775808_c.txt",
        "01_e.txt",
    ]
    .iter()
    .map(|n| (FileName::parse(*n).unwrap(), content.clone()))
    .collect();
    files::create_closed_files(&mut conn, alice.id, project.id, &root, &names).unwrap();
    // 1_b.txt and 01_a.txt are wanted too: taken, so they are numbered themselves.
    // 01_e.txt has the stem e.txt but is not e.txt, which stays free.
    let wanted = [
        "a.txt", "b.txt", "b.txt", "1_b.txt", "c.txt", "d.txt", "01_a.txt", "e.txt",
    ];
    let taken = ferry_store::names::taken_in_folder(&mut conn, root.id, &wanted).unwrap();
    assert_eq!((taken.highest("a.txt"), taken.highest("b.txt")), (2, 3));
    assert_eq!(
        ferry_domain::naming::allocate_names(&wanted, &taken),
        [
            "3_a.txt",
            "4_b.txt",
            "5_b.txt",
            "1_1_b.txt",
            "9223372036854775809_c.txt",
            "d.txt",
            "1_01_a.txt",
            "e.txt"
        ]
    );
}
