//! DNAnexus data objects: creation with links, and folder-wide reads and writes that cost a
//! constant number of statements.

use ferry_domain::row_ids::{FolderRowId, ObjectRowId};
use std::sync::{Arc, Mutex};

use diesel::connection::{Instrumentation, InstrumentationEvent};
use diesel::prelude::*;
use ferry_domain::glob::Glob;
use ferry_domain::ids::DxClass;
use ferry_domain::model::{ObjectState, User};
use ferry_domain::path::FolderPath;
use ferry_store::objects::{self, CopyScope, NameFilter, NewDataObject, ObjectSearch};
use ferry_store::schema::object_links;
use ferry_store::{DbConnection, dx_folders, folders};
use ferry_testkit::TestDb;
use ferry_testkit::backends;
use serde_json::{Map, json};

fn links_of(conn: &mut DbConnection, object_id: ObjectRowId) -> Vec<String> {
    object_links::table
        .filter(object_links::object_id.eq(object_id.get()))
        .select(object_links::target_dx_id)
        .order(object_links::target_dx_id)
        .load(conn)
        .unwrap()
}

backends!(a_data_object_is_created_with_its_links_and_an_sbg_placement);
fn a_data_object_is_created_with_its_links_and_an_sbg_placement(db: TestDb) {
    let alice = ferry_testkit::user(db.store(), "alice");
    let project = ferry_testkit::project(db.store(), &alice, "P");
    let mut conn = db.store().conn().unwrap();
    let folder =
        folders::ensure_path(&mut conn, project.id, &FolderPath::parse("/data").unwrap()).unwrap();
    let mut new = NewDataObject {
        class: DxClass::Record,
        project_id: project.id,
        folder: &folder,
        name: "index",
        details: json!({"kind": "index"}),
        hidden: true,
        types: vec!["Index".into()],
        tags: vec!["t".into()],
        properties: Map::from_iter([("k".to_owned(), json!("v"))]),
        state: ObjectState::Closed,
        created_by: alice.id,
    };
    let (hidden, hidden_placement) = objects::create(&mut conn, &new).unwrap();
    assert_eq!(hidden.dx_id.class(), DxClass::Record);
    assert_eq!(
        (hidden.class, hidden.state, hidden.hidden),
        (DxClass::Record, ObjectState::Closed, true)
    );
    assert_eq!(hidden.details, json!({"kind": "index"}));
    assert_eq!(hidden.types, ["Index"]);
    assert_eq!(hidden_placement.name, "index");
    assert_eq!(hidden_placement.tags, ["t"]);
    assert_eq!(hidden_placement.properties["k"], "v");
    assert_eq!(
        (hidden_placement.project_id, hidden_placement.folder_id),
        (project.id, folder.id)
    );
    assert!(links_of(&mut conn, hidden.id).is_empty());

    // An empty name is the object's own id; both link forms are recorded, once.
    let link = json!({"$dnanexus_link": hidden.dx_id.as_str()});
    new.name = "";
    new.hidden = false;
    new.state = ObjectState::Open;
    new.details = json!({"a": link, "b": [{"$dnanexus_link": {"project": project.dx_id.as_str(), "id": hidden.dx_id.as_str()}}]});
    let (visible, visible_placement) = objects::create(&mut conn, &new).unwrap();
    assert_eq!(visible_placement.name, visible.dx_id.as_str());
    assert_eq!(visible.state, ObjectState::Open);
    assert_eq!(links_of(&mut conn, visible.id), [hidden.dx_id.to_string()]);

    // An applet also links its bundled dependencies.
    new.class = DxClass::Applet;
    new.details = json!({});
    let mut spec = Map::new();
    spec.insert(
        "runSpec".into(),
        json!({"bundledDepends": [{"name": "asset", "id": link}]}),
    );
    let (applet, _) = objects::create_with_class_fields(&mut conn, &new, &spec).unwrap();
    assert_eq!(applet.class, DxClass::Applet);
    assert_eq!(links_of(&mut conn, applet.id), [hidden.dx_id.to_string()]);
    assert_ne!(hidden_placement.sbg_id, visible_placement.sbg_id);
}

/// Counts the statements a connection runs.
#[derive(Clone, Default)]
struct StatementCounter(Arc<Mutex<usize>>);

impl Instrumentation for StatementCounter {
    fn on_connection_event(&mut self, event: InstrumentationEvent<'_>) {
        if let InstrumentationEvent::StartQuery { .. } = event {
            *self.0.lock().unwrap() += 1;
        }
    }
}

/// The statements `work` runs.
fn count_statements(conn: &mut DbConnection, work: impl FnOnce(&mut DbConnection)) -> usize {
    let counter = StatementCounter::default();
    conn.set_instrumentation(counter.clone());
    work(conn);
    conn.set_instrumentation(StatementCounter::default());
    *counter.0.lock().unwrap()
}

/// The statements each folder-wide operation runs on a project whose `/data` holds `count`
/// records and `count` sub-folders: listing, searching by glob, moving the tree, removing it.
fn statements_per_operation(db: &TestDb, alice: &User, count: usize) -> [usize; 4] {
    let project = ferry_testkit::project(db.store(), alice, &format!("P{count}"));
    let mut conn = db.store().conn().unwrap();
    let data = FolderPath::parse("/data").unwrap();
    let folder = folders::ensure_path(&mut conn, project.id, &data).unwrap();
    for i in 0..count {
        folders::ensure_path(&mut conn, project.id, &data.join(&format!("f{i}")).unwrap()).unwrap();
        let new = NewDataObject {
            class: DxClass::Record,
            project_id: project.id,
            folder: &folder,
            name: &format!("r{i}.bam"),
            details: json!({}),
            hidden: false,
            types: vec![],
            tags: vec![],
            properties: Map::new(),
            state: ObjectState::Closed,
            created_by: alice.id,
        };
        objects::create(&mut conn, &new).unwrap();
    }
    let list = count_statements(&mut conn, |conn| {
        let scope = CopyScope::Folder {
            folder_id: folder.id,
            include_hidden: true,
        };
        assert_eq!(
            objects::visible_copies(conn, alice.id, scope)
                .unwrap()
                .len(),
            count
        );
    });
    let glob = NameFilter::Glob(Glob::new("r*.bam"));
    let search = ObjectSearch {
        project_id: Some(project.id),
        folder: Some((&data, true)),
        name: Some(&glob),
        class: Some(DxClass::Record),
        hidden: Some(false),
        starting: None,
        limit: 1_000,
        ..ObjectSearch::default()
    };
    let find = count_statements(&mut conn, |conn| {
        assert_eq!(
            objects::find(conn, alice.id, &search).unwrap().0.len(),
            count
        );
    });
    let moved = FolderPath::parse("/moved").unwrap();
    let rename = count_statements(&mut conn, |conn| {
        let tree = dx_folders::subtrees(conn, project.id, std::slice::from_ref(&data)).unwrap();
        let paths: Vec<(FolderRowId, FolderPath)> = tree
            .iter()
            .map(|f| (f.id, f.path.rebase(&data, &moved).unwrap()))
            .collect();
        dx_folders::set_paths(conn, &paths).unwrap();
    });
    assert_eq!(
        dx_folders::all_paths(&mut conn, project.id).unwrap().len(),
        count + 2
    );
    let remove = count_statements(&mut conn, |conn| {
        let root = folders::get_by_path(conn, project.id, &moved)
            .unwrap()
            .unwrap();
        dx_folders::remove_tree(conn, &root).unwrap();
    });
    assert_eq!(
        dx_folders::all_paths(&mut conn, project.id).unwrap(),
        [FolderPath::root()]
    );
    [list, find, rename, remove]
}

backends!(folder_wide_operations_cost_the_same_number_of_statements_whatever_the_size);
fn folder_wide_operations_cost_the_same_number_of_statements_whatever_the_size(db: TestDb) {
    let alice = ferry_testkit::user(db.store(), "alice");
    let small = statements_per_operation(&db, &alice, 3);
    let large = statements_per_operation(&db, &alice, 300);
    assert_eq!(small, large, "list, find, rename, remove: 3 vs 300 items");
    assert!(large.iter().all(|&n| n <= 8), "{large:?}");
}
