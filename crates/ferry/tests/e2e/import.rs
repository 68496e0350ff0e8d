//! `ferry import`: files and directory trees into a project, name clashes, permissions, and
//! content stored once.

use crate::support::{ferry, said, stderr, stdout};
use ferry_domain::ids::SbgId;
use ferry_domain::path::FolderPath;
use ferry_domain::row_ids::{FolderRowId, ProjectRowId};
use ferry_store::{files, folders};
use ferry_testkit::TestDb;
use ferry_testkit::backends;
use std::fs;
use std::path::Path;
use std::process::Output;

/// `ferry import --user USER --project PROJECT ARGS...`.
fn import(db: &TestDb, user: &str, project: &str, args: &[&str]) -> Output {
    let mut all = vec!["import", "--user", user, "--project", project];
    all.extend_from_slice(args);
    ferry(db.url(), db.data_dir(), &all)
}

/// The `(file id, path)` pairs an import printed.
fn imported(output: &Output) -> Vec<(String, String)> {
    assert!(output.status.success(), "import failed: {}", stderr(output));
    stdout(output)
        .lines()
        .map(|line| {
            let (id, path) = line.split_once('\t').expect("<id>\\t<path>");
            (id.to_owned(), path.to_owned())
        })
        .collect()
}

fn paths(lines: &[(String, String)]) -> Vec<&str> {
    lines.iter().map(|(_, path)| path.as_str()).collect()
}

fn assert_refused(output: &Output, expect: &str) {
    assert_eq!(output.status.code(), Some(1), "stderr: {}", stderr(output));
    assert!(stdout(output).is_empty(), "stdout: {}", stdout(output));
    let said = said(output);
    assert_eq!(said.len(), 1, "one line expected: {said:?}");
    assert!(said[0].contains(expect), "expected {expect:?} in {said:?}");
}

/// The number of contents in the content store.
fn stored_contents(data_dir: &Path) -> usize {
    fn count(dir: &Path) -> usize {
        fs::read_dir(dir)
            .map(|entries| {
                entries
                    .map(|entry| {
                        let path = entry.expect("a directory entry").path();
                        if path.is_dir() { count(&path) } else { 1 }
                    })
                    .sum()
            })
            .unwrap_or(0)
    }
    count(&data_dir.join("sha256"))
}

/// The stored bytes of the file with this SBG id, and its name and folder id.
fn stored_file(db: &TestDb, id: &str) -> (Vec<u8>, String, FolderRowId) {
    let mut conn = db.store().conn().expect("a connection");
    let (placement, object) =
        files::get_placement_by_sbg_id(&mut conn, &SbgId::parse(id).expect("an SBG id"))
            .expect("the lookup runs")
            .expect("the file is registered");
    let sha256 = object.content_sha256.expect("a file has content");
    let bytes = fs::read(db.store().content().path_of(&sha256).expect("an address"))
        .expect("the content is on disk");
    (bytes, placement.name, placement.folder_id)
}

fn folder_id(db: &TestDb, project_id: ProjectRowId, path: &str) -> Option<FolderRowId> {
    let mut conn = db.store().conn().expect("a connection");
    folders::get_by_path(&mut conn, project_id, &FolderPath::parse(path).unwrap())
        .expect("the lookup runs")
        .map(|folder| folder.id)
}

/// A user `alice` with a project `alice/data`, and a scratch directory for local files.
struct Setup {
    db: TestDb,
    project_id: ProjectRowId,
    local: tempfile::TempDir,
}

impl Setup {
    fn new(db: TestDb) -> Setup {
        let alice = ferry_testkit::user(db.store(), "alice");
        let project = ferry_testkit::project(db.store(), &alice, "Data");
        assert_eq!(project.sbg_id.as_str(), "alice/data");
        Setup {
            db,
            project_id: project.id,
            local: tempfile::tempdir().expect("tempdir"),
        }
    }

    /// Writes a local file (and its directories) and returns its path as a string.
    fn write(&self, relative: &str, contents: &str) -> String {
        let path = self.local.path().join(relative);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(&path, contents).unwrap();
        path.display().to_string()
    }

    fn path(&self, relative: &str) -> String {
        self.local.path().join(relative).display().to_string()
    }

    fn import(&self, args: &[&str]) -> Output {
        import(&self.db, "alice", "alice/data", args)
    }
}

backends!(a_file_is_imported_with_its_bytes_and_its_id_printed);
fn a_file_is_imported_with_its_bytes_and_its_id_printed(db: TestDb) {
    let setup = Setup::new(db);
    let a = setup.write("a.txt", "hello\n");
    let lines = imported(&setup.import(&[&a]));
    assert_eq!(paths(&lines), ["/a.txt"]);
    let (id, _) = &lines[0];
    assert_eq!(id.len(), 24, "{id}");
    let (bytes, name, folder) = stored_file(&setup.db, id);
    assert_eq!(bytes, b"hello\n");
    assert_eq!(name, "a.txt");
    assert_eq!(Some(folder), folder_id(&setup.db, setup.project_id, "/"));

    let lines = imported(&setup.import(&["--folder", "/in//here/", &a]));
    assert_eq!(paths(&lines), ["/in/here/a.txt"]);
    let (_, _, folder) = stored_file(&setup.db, &lines[0].0);
    assert_eq!(
        Some(folder),
        folder_id(&setup.db, setup.project_id, "/in/here")
    );
}

backends!(a_directory_is_imported_with_its_tree);
fn a_directory_is_imported_with_its_tree(db: TestDb) {
    let setup = Setup::new(db);
    setup.write("run1/b.txt", "b");
    setup.write("run1/a.txt", "a");
    setup.write("run1/sub/c.txt", "c");
    fs::create_dir_all(setup.local.path().join("run1/empty")).unwrap();
    let run1 = format!("{}/", setup.path("run1"));
    let lines = imported(&setup.import(&["--folder", "/data", &run1]));
    assert_eq!(
        paths(&lines),
        [
            "/data/run1/a.txt",
            "/data/run1/b.txt",
            "/data/run1/sub/c.txt"
        ]
    );
    let (bytes, name, folder) = stored_file(&setup.db, &lines[2].0);
    assert_eq!((bytes.as_slice(), name.as_str()), (&b"c"[..], "c.txt"));
    assert_eq!(
        Some(folder),
        folder_id(&setup.db, setup.project_id, "/data/run1/sub")
    );
    assert!(folder_id(&setup.db, setup.project_id, "/data/run1/empty").is_some());

    // Importing the tree again merges into the folders, and its files clash.
    assert_refused(
        &setup.import(&["--folder", "/data", &run1]),
        "'/data/run1/a.txt' already exists in alice/data",
    );
}

backends!(a_clash_is_refused_before_anything_is_written);
fn a_clash_is_refused_before_anything_is_written(db: TestDb) {
    let setup = Setup::new(db);
    let a = setup.write("a.txt", "first");
    imported(&setup.import(&[&a]));
    let contents_before = stored_contents(setup.db.data_dir());

    let new = setup.write("new.txt", "new bytes");
    setup.write("dir/c.txt", "c");
    let a_again = setup.write("other/a.txt", "other bytes");
    let clash = setup.import(&[&new, &setup.path("dir"), &a_again]);
    assert_refused(&clash, "'/a.txt' already exists in alice/data");
    assert!(stderr(&clash).contains("--rename would import it as '1_a.txt'"));
    assert_eq!(stored_contents(setup.db.data_dir()), contents_before);
    assert_eq!(folder_id(&setup.db, setup.project_id, "/dir"), None);
    // new.txt was not registered either: it imports under its own name.
    assert_eq!(paths(&imported(&setup.import(&[&new]))), ["/new.txt"]);

    // Twice within one import.
    let b1 = setup.write("x/b.txt", "1");
    let b2 = setup.write("y/b.txt", "2");
    assert_refused(
        &setup.import(&[&b1, &b2]),
        "'/b.txt' is imported twice into alice/data",
    );
    // A file and a directory of one name.
    let twin_file = setup.write("f/twin", "a file");
    setup.write("g/twin/e.txt", "e");
    assert_refused(
        &setup.import(&[&twin_file, &setup.path("g/twin")]),
        "'/twin' is imported twice into alice/data",
    );
    // A file where a directory would become a folder.
    setup.write("tree/new.txt/d.txt", "d");
    assert_refused(
        &setup.import(&["--rename", &setup.path("tree/new.txt")]),
        "'/new.txt' in alice/data is a file",
    );
}

backends!(rename_gives_the_next_n_name);
fn rename_gives_the_next_n_name(db: TestDb) {
    let setup = Setup::new(db);
    let a = setup.write("a.txt", "a");
    let reads = setup.write("reads", "a file named like a folder");
    fs::create_dir_all(setup.local.path().join("tree/reads")).unwrap();
    imported(&setup.import(&[&a, &setup.path("tree/reads")]));

    let other_a = setup.write("other/a.txt", "other a");
    let lines = imported(&setup.import(&["--rename", &a, &other_a, &reads]));
    assert_eq!(paths(&lines), ["/1_a.txt", "/2_a.txt", "/1_reads"]);
    let (bytes, name, _) = stored_file(&setup.db, &lines[1].0);
    assert_eq!(
        (bytes.as_slice(), name.as_str()),
        (&b"other a"[..], "2_a.txt")
    );
    let ids: std::collections::HashSet<&str> = lines.iter().map(|(id, _)| id.as_str()).collect();
    assert_eq!(ids.len(), 3);
}

backends!(only_members_who_may_write_can_import);
fn only_members_who_may_write_can_import(db: TestDb) {
    let setup = Setup::new(db);
    ferry_testkit::user(setup.db.store(), "bob");
    let a = setup.write("a.txt", "a");
    let contents_before = stored_contents(setup.db.data_dir());
    assert_refused(
        &import(&setup.db, "bob", "alice/data", &[&a]),
        "bob is not a member of alice/data",
    );
    assert_refused(
        &import(&setup.db, "carol", "alice/data", &[&a]),
        "no user named carol",
    );
    assert_refused(
        &import(&setup.db, "alice", "alice/nothing", &[&a]),
        "no project alice/nothing",
    );
    assert_eq!(stored_contents(setup.db.data_dir()), contents_before);

    let malformed = import(&setup.db, "alice", "not-a-project-id", &[&a]);
    assert_eq!(malformed.status.code(), Some(2), "{}", stderr(&malformed));
    let missing = setup.import(&[&setup.path("no-such-file")]);
    assert_refused(&missing, "cannot read");
}

backends!(identical_content_is_stored_once);
fn identical_content_is_stored_once(db: TestDb) {
    let setup = Setup::new(db);
    let one = setup.write("one.bam", "same bytes");
    let two = setup.write("two.bam", "same bytes");
    let three = setup.write("three.bam", "other bytes");
    let lines = imported(&setup.import(&[&one, &two, &three]));
    assert_eq!(lines.len(), 3);
    assert_eq!(stored_contents(setup.db.data_dir()), 2);
    let (first, _, _) = stored_file(&setup.db, &lines[0].0);
    let (second, _, _) = stored_file(&setup.db, &lines[1].0);
    assert_eq!(first, second);
    assert_ne!(lines[0].0, lines[1].0);
    imported(&setup.import(&["--folder", "/again", &one]));
    assert_eq!(stored_contents(setup.db.data_dir()), 2);
}
