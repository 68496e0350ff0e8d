//! The DNAnexus clone: same ids, new placements, folders, the hidden-link closure, every
//! refusal (before any write), sponsorship, listProjects, and the statement count.

use std::sync::{Arc, Mutex};
use std::time::Instant;

use chrono::{Duration, Utc};
use diesel::connection::{Instrumentation, InstrumentationEvent};
use diesel::prelude::*;
use ferry_domain::clone::{CloneRefusal, SponsorshipConflict};
use ferry_domain::ids::{DxClass, DxId};
use ferry_domain::model::{Object, ObjectState, Project, User};
use ferry_domain::path::FolderPath;
use ferry_domain::permission::{Level, Permissions};
use ferry_store::clone::projects_holding;
use ferry_store::objects::{self, NewDataObject};
use ferry_store::schema::{
    billing_groups, folders as folder_rows, object_links, placements, projects,
};
use ferry_store::sponsorship::{SponsorshipError, sponsor_by_operator, sponsor_project};
use ferry_store::{DbConnection, Store, folders, members};
use ferry_testkit::TestDb;
use ferry_testkit::backends;
use ferry_usecases::clone::{CloneError, CloneRequest, Cloned, clone_objects};
use serde_json::{Map, Value, json};

fn p(path: &str) -> FolderPath {
    FolderPath::parse(path).unwrap()
}

/// Alice, her projects Source and Dest, and a connection.
struct World {
    db: TestDb,
    alice: User,
    source: Project,
    dest: Project,
}

impl From<TestDb> for World {
    fn from(db: TestDb) -> World {
        World::new(db)
    }
}

impl World {
    fn new(db: TestDb) -> World {
        let alice = ferry_testkit::user(db.store(), "alice");
        let source = ferry_testkit::project(db.store(), &alice, "Source");
        let dest = ferry_testkit::project(db.store(), &alice, "Dest");
        World {
            db,
            alice,
            source,
            dest,
        }
    }

    fn store(&self) -> &Store {
        self.db.store()
    }

    fn conn(&self) -> diesel::r2d2::PooledConnection<ferry_store::DbManager> {
        self.store().conn().unwrap()
    }
}

/// What to seed: an object of `class` in `folder` of `project`.
#[derive(Clone)]
struct Seed<'a> {
    project: &'a Project,
    folder: &'a str,
    name: &'a str,
    class: DxClass,
    hidden: bool,
    state: ObjectState,
    details: Value,
}

impl<'a> Seed<'a> {
    fn record(project: &'a Project, folder: &'a str, name: &'a str) -> Seed<'a> {
        Seed {
            project,
            folder,
            name,
            class: DxClass::Record,
            hidden: false,
            state: ObjectState::Closed,
            details: json!({}),
        }
    }

    fn hidden(mut self) -> Self {
        self.hidden = true;
        self
    }

    fn linking(mut self, targets: &[&Object]) -> Self {
        let links: Vec<Value> = targets
            .iter()
            .map(|t| json!({"$dnanexus_link": t.dx_id.as_str()}))
            .collect();
        self.details = json!({ "links": links });
        self
    }

    fn create(self, conn: &mut DbConnection, user: &User) -> Object {
        let folder = folders::ensure_path(conn, self.project.id, &p(self.folder)).unwrap();
        let mut properties = Map::new();
        properties.insert("sample".into(), json!(self.name));
        let new = NewDataObject {
            class: self.class,
            project_id: self.project.id,
            folder: &folder,
            name: self.name,
            details: self.details,
            hidden: self.hidden,
            types: vec![],
            tags: vec![format!("tag-{}", self.name)],
            properties,
            state: self.state,
            created_by: user.id,
        };
        objects::create(conn, &new).unwrap().0
    }
}

fn request<'a>(
    w: &'a World,
    objects: &'a [String],
    folders: &'a [FolderPath],
    folder: &'a FolderPath,
) -> CloneRequest<'a> {
    CloneRequest {
        user_id: w.alice.id,
        source: &w.source.dx_id,
        destination: &w.dest.dx_id,
        objects,
        folders,
        folder,
        parents: false,
    }
}

fn ids(objects: &[&Object]) -> Vec<String> {
    objects.iter().map(|o| o.dx_id.to_string()).collect()
}

fn run(conn: &mut DbConnection, request: &CloneRequest<'_>) -> Cloned {
    clone_objects(conn, request).unwrap_or_else(|e| panic!("clone failed: {e}"))
}

fn refusal(conn: &mut DbConnection, request: &CloneRequest<'_>) -> CloneRefusal {
    match clone_objects(conn, request) {
        Err(CloneError::Refused(refusal)) => refusal,
        other => panic!("expected a refusal, got {other:?}"),
    }
}

/// Every placement of the project: (object id, folder path, name), sorted.
fn contents(conn: &mut DbConnection, project: &Project) -> Vec<(String, String, String)> {
    let mut rows: Vec<(String, String, String)> = placements::table
        .inner_join(ferry_store::schema::objects::table)
        .inner_join(folder_rows::table)
        .filter(placements::project_id.eq(project.id.get()))
        .select((
            ferry_store::schema::objects::dx_id,
            folder_rows::path,
            placements::name,
        ))
        .load(conn)
        .unwrap();
    rows.sort();
    rows
}

fn folder_paths(conn: &mut DbConnection, project: &Project) -> Vec<String> {
    let mut paths: Vec<String> = folder_rows::table
        .filter(folder_rows::project_id.eq(project.id.get()))
        .select(folder_rows::path)
        .load(conn)
        .unwrap();
    paths.sort();
    paths
}

fn row(object: &Object, folder: &str, name: &str) -> (String, String, String) {
    (object.dx_id.to_string(), folder.to_owned(), name.to_owned())
}

/// Rows in the order [`contents`] returns them.
fn sorted<const N: usize>(rows: [(String, String, String); N]) -> Vec<(String, String, String)> {
    let mut rows = rows.to_vec();
    rows.sort();
    rows
}

backends!(a_clone_keeps_the_id_copies_the_metadata_and_reports_what_exists);
fn a_clone_keeps_the_id_copies_the_metadata_and_reports_what_exists(w: World) {
    let mut conn = w.conn();
    let a = Seed::record(&w.source, "/", "a").create(&mut conn, &w.alice);
    let b = Seed::record(&w.source, "/x", "b").create(&mut conn, &w.alice);
    let objects = [ids(&[&a, &b, &a]), vec![b.dx_id.to_string()]].concat();
    let into = p("/");

    let first = run(&mut conn, &request(&w, &objects, &[], &into));
    assert_eq!(first.exists, Vec::<DxId>::new());
    assert_eq!(first.placed, 2, "each object once");
    assert_eq!(
        contents(&mut conn, &w.dest),
        sorted([row(&a, "/", "a"), row(&b, "/", "b")])
    );
    let (source_copy, dest_copy): (Vec<_>, Vec<_>) = placements::table
        .filter(placements::object_id.eq(a.id.get()))
        .select((
            placements::project_id,
            placements::sbg_id,
            placements::tags,
            placements::properties,
        ))
        .load::<(i64, String, String, String)>(&mut conn)
        .unwrap()
        .into_iter()
        .partition(|row| row.0 == w.source.id.get());
    assert_ne!(source_copy[0].1, dest_copy[0].1, "a new SBG id");
    assert_eq!(source_copy[0].2, dest_copy[0].2, "tags");
    assert_eq!(source_copy[0].3, dest_copy[0].3, "properties");

    // A second clone into another folder leaves what exists where it is.
    let again = [ids(&[&b, &a])].concat();
    let second = run(&mut conn, &request(&w, &again, &[], &p("/")));
    let mut expected = vec![a.dx_id.clone(), b.dx_id.clone()];
    expected.sort();
    assert_eq!(second.exists, expected, "sorted");
    assert_eq!(second.placed, 0);
    assert_eq!(contents(&mut conn, &w.dest).len(), 2);
}

backends!(folders_become_destination_slash_name_and_the_root_gives_its_contents);
fn folders_become_destination_slash_name_and_the_root_gives_its_contents(w: World) {
    let mut conn = w.conn();
    let deep = Seed::record(&w.source, "/a/b/c", "deep").create(&mut conn, &w.alice);
    let top = Seed::record(&w.source, "/a/b", "top").create(&mut conn, &w.alice);
    let root = Seed::record(&w.source, "/", "root").create(&mut conn, &w.alice);
    folders::ensure_path(&mut conn, w.source.id, &p("/a/b/empty")).unwrap();

    run(&mut conn, &request(&w, &[], &[p("/a/b/")], &p("/")));
    assert_eq!(
        contents(&mut conn, &w.dest),
        sorted([row(&deep, "/b/c", "deep"), row(&top, "/b", "top")])
    );
    assert_eq!(
        folder_paths(&mut conn, &w.dest),
        ["/", "/b", "/b/c", "/b/empty"]
    );

    let other = ferry_testkit::project(w.store(), &w.alice, "Other");
    folders::ensure_path(&mut conn, other.id, &p("/in")).unwrap();
    let (everything, into) = ([p("/")], p("/in"));
    let whole = CloneRequest {
        destination: &other.dx_id,
        ..request(&w, &[], &everything, &into)
    };
    run(&mut conn, &whole);
    assert_eq!(
        contents(&mut conn, &other),
        sorted([
            row(&deep, "/in/a/b/c", "deep"),
            row(&top, "/in/a/b", "top"),
            row(&root, "/in", "root"),
        ])
    );
}

backends!(parents_creates_the_destination_folder_and_without_it_a_missing_one_is_not_found);
fn parents_creates_the_destination_folder_and_without_it_a_missing_one_is_not_found(w: World) {
    let mut conn = w.conn();
    let a = Seed::record(&w.source, "/f", "a").create(&mut conn, &w.alice);
    let (f, into) = ([p("/f")], p("/new/deeper"));
    let without = request(&w, &[], &f, &into);
    assert_eq!(
        refusal(&mut conn, &without),
        CloneRefusal::DestinationFolderNotFound(into.clone())
    );
    assert_eq!(folder_paths(&mut conn, &w.dest), ["/"], "nothing written");

    run(
        &mut conn,
        &CloneRequest {
            parents: true,
            ..without
        },
    );
    assert_eq!(
        contents(&mut conn, &w.dest),
        [row(&a, "/new/deeper/f", "a")]
    );
    assert_eq!(
        folder_paths(&mut conn, &w.dest),
        ["/", "/new", "/new/deeper", "/new/deeper/f"]
    );
}

backends!(a_folder_that_exists_in_the_destination_conflicts_and_names_must_differ);
fn a_folder_that_exists_in_the_destination_conflicts_and_names_must_differ(w: World) {
    let mut conn = w.conn();
    Seed::record(&w.source, "/bar", "a").create(&mut conn, &w.alice);
    Seed::record(&w.source, "/x/bar", "b").create(&mut conn, &w.alice);
    folders::ensure_path(&mut conn, w.dest.id, &p("/bar")).unwrap();
    assert_eq!(
        refusal(&mut conn, &request(&w, &[], &[p("/bar")], &p("/"))),
        CloneRefusal::FolderConflict(vec![p("/bar")])
    );
    assert_eq!(
        refusal(
            &mut conn,
            &request(&w, &[], &[p("/bar"), p("/x/bar")], &p("/in"))
        ),
        CloneRefusal::FolderNameTwice("bar".into())
    );
    assert_eq!(contents(&mut conn, &w.dest), []);
}

backends!(hidden_objects_linked_from_cloned_objects_come_along_as_the_seed_says);
fn hidden_objects_linked_from_cloned_objects_come_along_as_the_seed_says(w: World) {
    let mut conn = w.conn();
    let other = ferry_testkit::project(w.store(), &w.alice, "Elsewhere");
    // Hidden, in the source, reached only through a hidden object outside it: stays.
    let behind = Seed::record(&w.source, "/", "behind")
        .hidden()
        .create(&mut conn, &w.alice);
    let outside = Seed::record(&other, "/", "outside")
        .hidden()
        .linking(&[&behind])
        .create(&mut conn, &w.alice);
    // A chain of hidden objects in the source, one inside the cloned folder.
    let tail = Seed::record(&w.source, "/lib", "tail")
        .hidden()
        .create(&mut conn, &w.alice);
    let middle = Seed::record(&w.source, "/data/sub", "middle")
        .hidden()
        .linking(&[&tail])
        .create(&mut conn, &w.alice);
    let visible_target = Seed::record(&w.source, "/", "visible").create(&mut conn, &w.alice);
    // Hidden in the cloned folder, linked by nothing cloned: stays.
    let orphan = Seed::record(&w.source, "/data", "orphan")
        .hidden()
        .create(&mut conn, &w.alice);
    let head = Seed::record(&w.source, "/data", "head")
        .linking(&[&middle, &outside, &visible_target, &middle])
        .create(&mut conn, &w.alice);

    let cloned = run(&mut conn, &request(&w, &[], &[p("/data")], &p("/")));
    assert_eq!(cloned.placed, 3);
    assert_eq!(
        contents(&mut conn, &w.dest),
        sorted([
            row(&head, "/data", "head"),
            row(&middle, "/data/sub", "middle"),
            row(&tail, "/", "tail"),
        ]),
        "relative place inside the cloned folder, else the destination folder; \
         not {behind:?}, {visible_target:?} or {orphan:?}"
    );
}

backends!(an_applet_brings_its_bundled_depends);
fn an_applet_brings_its_bundled_depends(w: World) {
    let mut conn = w.conn();
    let asset = Seed::record(&w.source, "/assets", "asset")
        .hidden()
        .create(&mut conn, &w.alice);
    let folder = folders::ensure_path(&mut conn, w.source.id, &p("/apps")).unwrap();
    let mut spec = Map::new();
    spec.insert(
        "runSpec".into(),
        json!({"bundledDepends": [{"name": "a.tar.gz", "id": {"$dnanexus_link": asset.dx_id.as_str()}}]}),
    );
    let new = NewDataObject {
        class: DxClass::Applet,
        project_id: w.source.id,
        folder: &folder,
        name: "app",
        details: json!({}),
        hidden: false,
        types: vec![],
        tags: vec![],
        properties: Map::new(),
        state: ObjectState::Closed,
        created_by: w.alice.id,
    };
    let (applet, _) = objects::create_with_class_fields(&mut conn, &new, &spec).unwrap();
    let into = p("/");
    run(&mut conn, &request(&w, &ids(&[&applet]), &[], &into));
    assert_eq!(
        contents(&mut conn, &w.dest),
        sorted([row(&applet, "/", "app"), row(&asset, "/", "asset")])
    );
}

backends!(an_open_object_is_refused_but_an_open_workflow_is_replicated);
fn an_open_object_is_refused_but_an_open_workflow_is_replicated(w: World) {
    let mut conn = w.conn();
    let hidden_part = Seed::record(&w.source, "/", "part")
        .hidden()
        .create(&mut conn, &w.alice);
    let open = Seed {
        state: ObjectState::Open,
        ..Seed::record(&w.source, "/", "open")
    }
    .create(&mut conn, &w.alice);
    let workflow = Seed {
        class: DxClass::Workflow,
        state: ObjectState::Open,
        ..Seed::record(&w.source, "/wf", "flow").linking(&[&hidden_part])
    }
    .create(&mut conn, &w.alice);
    let into = p("/");
    assert_eq!(
        refusal(
            &mut conn,
            &request(&w, &ids(&[&open, &workflow]), &[], &into)
        ),
        CloneRefusal::NotClosed(vec![open.dx_id.clone()])
    );
    assert_eq!(contents(&mut conn, &w.dest), []);

    let cloned = run(&mut conn, &request(&w, &[], &[p("/wf")], &into));
    assert_eq!(cloned.placed, 2);
    let placed = contents(&mut conn, &w.dest);
    let replica = placed.iter().find(|r| r.2 == "flow").unwrap();
    assert_ne!(replica.0, workflow.dx_id.as_str(), "a new workflow object");
    assert!(replica.0.starts_with("workflow-"));
    assert_eq!(replica.1, "/wf");
    assert!(placed.contains(&row(&hidden_part, "/", "part")));
    let links: Vec<String> = object_links::table
        .inner_join(ferry_store::schema::objects::table)
        .filter(ferry_store::schema::objects::dx_id.eq(&replica.0))
        .select(object_links::target_dx_id)
        .load(&mut conn)
        .unwrap();
    assert_eq!(links, [hidden_part.dx_id.to_string()]);
}

fn set_flags(
    conn: &mut DbConnection,
    project: &Project,
    restricted: bool,
    phi: bool,
    region: &str,
) {
    diesel::update(projects::table.find(project.id.get()))
        .set((
            projects::restricted.eq(restricted),
            projects::contains_phi.eq(phi),
            projects::region.eq(region),
        ))
        .execute(conn)
        .unwrap();
}

backends!(every_refusal_is_found_before_anything_is_written);
fn every_refusal_is_found_before_anything_is_written(w: World) {
    let mut conn = w.conn();
    let a = Seed::record(&w.source, "/f", "a").create(&mut conn, &w.alice);
    let objects = ids(&[&a]);
    let into = p("/");
    let base = request(&w, &objects, &[], &into);
    let unknown = DxId::generate(DxClass::Project);

    let cases: Vec<(CloneRequest<'_>, CloneRefusal)> = vec![
        (
            CloneRequest {
                source: &unknown,
                ..base
            },
            CloneRefusal::SourceNotFound,
        ),
        (
            CloneRequest {
                destination: &unknown,
                ..base
            },
            CloneRefusal::DestinationNotFound,
        ),
    ];
    for (request, expected) in cases {
        assert_eq!(refusal(&mut conn, &request), expected);
    }
    let missing = [
        "record-000000000000000000000000".to_owned(),
        "junk".to_owned(),
    ];
    assert_eq!(
        refusal(
            &mut conn,
            &CloneRequest {
                objects: &[&objects[..], &missing[..]].concat(),
                ..base
            }
        ),
        CloneRefusal::ObjectsNotInSource(vec![missing[1].clone(), missing[0].clone()])
    );
    assert_eq!(
        refusal(
            &mut conn,
            &CloneRequest {
                folders: &[p("/f"), p("/nope")],
                ..base
            }
        ),
        CloneRefusal::FoldersNotInSource(vec![p("/nope")])
    );

    // Access: bob sees the source only, then may only view the destination.
    let bob = ferry_testkit::user(w.store(), "bob");
    let as_bob = CloneRequest {
        user_id: bob.id,
        ..base
    };
    assert_eq!(refusal(&mut conn, &as_bob), CloneRefusal::SourceNotViewable);
    let view = Permissions {
        level: Level::View,
        copy: false,
        execute: false,
    };
    members::add(&mut conn, w.source.id, bob.id, view).unwrap();
    assert_eq!(
        refusal(&mut conn, &as_bob),
        CloneRefusal::DestinationNotWritable
    );
    members::add(&mut conn, w.dest.id, bob.id, view).unwrap();
    assert_eq!(
        refusal(&mut conn, &as_bob),
        CloneRefusal::DestinationNotWritable
    );
    members::set_permissions(
        &mut conn,
        w.dest.id,
        bob.id,
        Permissions {
            level: Level::Upload,
            ..view
        },
    )
    .unwrap();

    set_flags(&mut conn, &w.source, true, false, "aws:us-east-1");
    assert_eq!(refusal(&mut conn, &as_bob), CloneRefusal::SourceRestricted);
    set_flags(&mut conn, &w.source, false, true, "aws:us-east-1");
    assert_eq!(refusal(&mut conn, &as_bob), CloneRefusal::PhiIntoNonPhi);
    set_flags(&mut conn, &w.dest, false, true, "azure:westus");
    assert_eq!(refusal(&mut conn, &as_bob), CloneRefusal::DifferentRegions);
    set_flags(&mut conn, &w.dest, false, true, "aws:us-east-1");

    assert_eq!(contents(&mut conn, &w.dest), []);
    assert_eq!(folder_paths(&mut conn, &w.dest), ["/"]);
    // With UPLOAD, from a PHI source into a PHI destination, bob may clone.
    assert_eq!(run(&mut conn, &as_bob).placed, 1);
}

backends!(a_destination_at_its_spending_limit_refuses_unless_the_source_pays_the_same);
fn a_destination_at_its_spending_limit_refuses_unless_the_source_pays_the_same(w: World) {
    let mut conn = w.conn();
    let a = Seed::record(&w.source, "/", "a").create(&mut conn, &w.alice);
    let objects = ids(&[&a]);
    let into = p("/");
    diesel::update(billing_groups::table.find(w.dest.billing_group_id.get()))
        .set((
            billing_groups::spending_limit_cents.eq(Some(100_i64)),
            billing_groups::spent_cents.eq(100_i64),
        ))
        .execute(&mut conn)
        .unwrap();
    // Alice's projects share her billTo: allowed.
    assert_eq!(run(&mut conn, &request(&w, &objects, &[], &into)).placed, 1);

    let carol = ferry_testkit::user(w.store(), "carol");
    let carols = ferry_testkit::project(w.store(), &carol, "Carol's");
    let b = Seed::record(&carols, "/", "b").create(&mut conn, &carol);
    members::add(&mut conn, w.dest.id, carol.id, Permissions::owner()).unwrap();
    let objects = ids(&[&b]);
    let from_carol = CloneRequest {
        user_id: carol.id,
        source: &carols.dx_id,
        ..request(&w, &objects, &[], &into)
    };
    assert_eq!(
        refusal(&mut conn, &from_carol),
        CloneRefusal::SpendingLimitReached(format!("user-{}", w.alice.username))
    );
}

backends!(a_third_party_sponsored_destination_refuses_objects_with_another_sponsor);
fn a_third_party_sponsored_destination_refuses_objects_with_another_sponsor(w: World) {
    let mut conn = w.conn();
    let a = Seed::record(&w.source, "/", "a").create(&mut conn, &w.alice);
    let objects = ids(&[&a]);
    let into = p("/");
    let next_year = Some(Utc::now() + Duration::days(365));
    sponsor_project(&mut conn, w.dest.id, next_year).unwrap();

    sponsor_by_operator(&mut conn, w.source.id).unwrap();
    assert_eq!(
        refusal(&mut conn, &request(&w, &objects, &[], &into)),
        CloneRefusal::Sponsorship(SponsorshipConflict::OperatorSponsored(vec![
            a.dx_id.clone()
        ]))
    );

    let b = Seed::record(&w.source, "/", "b").create(&mut conn, &w.alice);
    let third = ferry_testkit::project(w.store(), &w.alice, "Third");
    let objects = ids(&[&b]);
    run(
        &mut conn,
        &CloneRequest {
            destination: &third.dx_id,
            ..request(&w, &objects, &[], &into)
        },
    );
    sponsor_project(&mut conn, third.id, next_year).unwrap();
    let expected = vec![(b.dx_id.clone(), third.dx_id.clone())];
    assert_eq!(
        refusal(&mut conn, &request(&w, &objects, &[], &into)),
        CloneRefusal::Sponsorship(SponsorshipConflict::AlreadySponsored(expected.clone()))
    );
    // Unsponsored, the destination takes it; the same rule then stops it becoming sponsored
    // until the third project's sponsorship ends.
    sponsor_project(&mut conn, w.dest.id, None).unwrap();
    run(&mut conn, &request(&w, &objects, &[], &into));
    assert!(matches!(
        sponsor_project(&mut conn, w.dest.id, next_year),
        Err(SponsorshipError::Conflict(SponsorshipConflict::AlreadySponsored(pairs))) if pairs == expected
    ));
    sponsor_project(&mut conn, third.id, None).unwrap();
    sponsor_project(&mut conn, w.dest.id, next_year).unwrap();
    assert_eq!(contents(&mut conn, &w.dest), [row(&b, "/", "b")]);
}

backends!(list_projects_shows_the_callers_projects_holding_the_object_with_their_level);
fn list_projects_shows_the_callers_projects_holding_the_object_with_their_level(w: World) {
    let mut conn = w.conn();
    let a = Seed::record(&w.source, "/", "a").create(&mut conn, &w.alice);
    run(&mut conn, &request(&w, &ids(&[&a]), &[], &p("/")));
    let mut expected = vec![
        (w.source.dx_id.clone(), Level::Administer),
        (w.dest.dx_id.clone(), Level::Administer),
    ];
    expected.sort();
    let mut holding = projects_holding(&mut conn, w.alice.id, &a.dx_id).unwrap();
    holding.sort();
    assert_eq!(holding, expected);

    let bob = ferry_testkit::user(w.store(), "bob");
    assert_eq!(projects_holding(&mut conn, bob.id, &a.dx_id).unwrap(), []);
    let view = Permissions {
        level: Level::View,
        copy: false,
        execute: false,
    };
    members::add(&mut conn, w.dest.id, bob.id, view).unwrap();
    assert_eq!(
        projects_holding(&mut conn, bob.id, &a.dx_id).unwrap(),
        [(w.dest.dx_id.clone(), Level::View)]
    );
    let unknown = DxId::generate(DxClass::Record);
    assert_eq!(
        projects_holding(&mut conn, w.alice.id, &unknown).unwrap(),
        []
    );
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

/// `chains` visible records spread over ten folders under /tree, each linking a hidden record
/// that links another hidden record: a closure of depth 3. Returns the number of objects.
fn seed_tree(conn: &mut DbConnection, w: &World, project: &Project, chains: usize) -> usize {
    let folders: Vec<String> = (0..10).map(|i| format!("/tree/d{i}")).collect();
    conn.transaction(|conn| {
        for i in 0..chains {
            let folder = &folders[i % folders.len()];
            let last = Seed::record(project, "/hidden", "last")
                .hidden()
                .create(conn, &w.alice);
            let middle = Seed::record(project, "/hidden", "middle")
                .hidden()
                .linking(&[&last])
                .create(conn, &w.alice);
            Seed::record(project, folder, "head")
                .linking(&[&middle])
                .create(conn, &w.alice);
        }
        Ok::<_, diesel::result::Error>(())
    })
    .unwrap();
    chains * 3
}

backends!(a_clone_costs_statements_per_closure_level_not_per_object);
fn a_clone_costs_statements_per_closure_level_not_per_object(w: World) {
    let mut conn = w.conn();
    let small_source = ferry_testkit::project(w.store(), &w.alice, "Small");
    let small_objects = seed_tree(&mut conn, &w, &small_source, 4);
    let seeded = Instant::now();
    let large_objects = seed_tree(&mut conn, &w, &w.source, 3_334);
    let seeding = seeded.elapsed();
    let measure = |source: &Project, project: &str| {
        let dest = ferry_testkit::project(w.store(), &w.alice, project);
        let mut conn = w.conn();
        let counter = StatementCounter::default();
        conn.set_instrumentation(counter.clone());
        let started = Instant::now();
        let cloned = run(
            &mut conn,
            &CloneRequest {
                source: &source.dx_id,
                destination: &dest.dx_id,
                ..request(&w, &[], &[p("/tree")], &p("/"))
            },
        );
        let elapsed = started.elapsed();
        let statements = *counter.0.lock().unwrap();
        (cloned.placed, statements, elapsed)
    };
    let (small_placed, small, _) = measure(&small_source, "Small dest");
    let (large_placed, large, elapsed) = measure(&w.source, "Large dest");
    assert_eq!((small_placed, large_placed), (small_objects, large_objects));
    // Only the placements' INSERT grows: one statement per 1,000 rows.
    let extra_inserts = large_objects.div_ceil(1_000) - 1;
    eprintln!(
        "{:?}: {small_objects} objects: {small} statements; {large_objects} objects: \
         {large} statements in {elapsed:?} (seeded in {seeding:?})",
        w.db.backend()
    );
    assert_eq!(large, small + extra_inserts);
    assert!(small <= 20, "{small} statements for a closure of depth 3");
}

backends!(a_cycle_and_a_thousand_deep_chain_are_walked_once_each);
fn a_cycle_and_a_thousand_deep_chain_are_walked_once_each(w: World) {
    let mut conn = w.conn();
    let mut chain: Vec<Object> = Vec::new();
    conn.transaction(|conn| {
        for _ in 0..1_000 {
            let seed = Seed::record(&w.source, "/", "link").hidden();
            let seed = match chain.last() {
                Some(next) => seed.linking(&[next]),
                None => seed,
            };
            chain.push(seed.create(conn, &w.alice));
        }
        Ok::<_, diesel::result::Error>(())
    })
    .unwrap();
    let deepest = &chain[0];
    let head = Seed::record(&w.source, "/", "head")
        .linking(&[chain.last().unwrap()])
        .create(&mut conn, &w.alice);
    // Close the chain into a cycle through the visible head.
    diesel::insert_into(object_links::table)
        .values((
            object_links::object_id.eq(deepest.id.get()),
            object_links::target_dx_id.eq(head.dx_id.as_str()),
        ))
        .execute(&mut conn)
        .unwrap();
    let counter = StatementCounter::default();
    conn.set_instrumentation(counter.clone());
    let cloned = run(&mut conn, &request(&w, &ids(&[&head]), &[], &p("/")));
    assert_eq!(cloned.placed, 1_001);
    let statements = *counter.0.lock().unwrap();
    // Two reads per level (links, then their hidden targets in the source), 1,001 levels.
    assert!(
        (2_002..2_030).contains(&statements),
        "{statements} statements: two per level"
    );
    assert_eq!(contents(&mut conn, &w.dest).len(), 1_001);
}
