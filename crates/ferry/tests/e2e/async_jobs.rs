//! Async copy jobs against the real server: a job survives `kill -9` and resumes where its last
//! committed chunk left it, two servers on one PostgreSQL share one job's chunks, a cancel stops
//! a running job within two seconds, and `ferry job` starts and follows jobs.

use crate::support::{CopySetup, Server, client, ferry, stderr, stdout};
use ferry_domain::model::{FileView, Folder, Project};
use ferry_domain::name::FileName;
use ferry_domain::path::FolderPath;
use ferry_store::copy::{CopyItem, CopyResult, Destination, copy_files};
use ferry_store::{files, folders, projects};
use ferry_testkit::TestDb;
use ferry_testkit::backends;
use serde_json::{Value, json};
use std::collections::HashSet;
use std::time::{Duration, Instant};

/// Long enough for any of these jobs on a loaded two-core machine.
const DEADLINE: Duration = Duration::from_secs(90);
const POLL: Duration = Duration::from_millis(20);
/// These tests poll hundreds of times; warnings are all the log worth keeping.
const QUIET: &[(&str, &str)] = &[("RUST_LOG", "warn")];

/// A user, a source project with files at its root and in `/tree`, and an empty target.
struct Seed {
    token: String,
    username: String,
    target: Project,
    /// The files at the source's root: (id, name).
    root_files: Vec<(String, String)>,
    tree: Folder,
    tree_names: Vec<String>,
}

/// `root` files at the source's root and `tree` in its `/tree`, made by copying one file in
/// one transaction per folder, so that seeding thousands takes a moment.
fn seed(db: &TestDb, username: &str, root: usize, tree: usize) -> Seed {
    let CopySetup {
        token,
        source,
        destination: target,
        files: mut template_file,
    } = CopySetup::new(db, username, &["template.bin".to_owned()]);
    let user_id = source.owner_user_id;
    let mut conn = db.store().conn().unwrap();
    let source_root = projects::root_folder(&mut conn, source.id).unwrap();
    let (object, placement) = template_file.remove(0);
    let template = FileView {
        placement,
        object,
        project: source.sbg_id.clone(),
        parent: source_root.sbg_id.clone(),
    };
    let tree_folder =
        folders::ensure_path(&mut conn, source.id, &FolderPath::parse("/tree").unwrap()).unwrap();
    let replicate = |folder: &Folder, prefix: &str, count: usize| -> Vec<(String, String)> {
        let names: Vec<FileName> = (0..count)
            .map(|i| FileName::parse(format!("{prefix}-{i:05}.bin")).unwrap())
            .collect();
        let items: Vec<CopyItem<'_>> = names
            .iter()
            .map(|name| CopyItem {
                source: &template,
                name: Some(name),
            })
            .collect();
        let to = Destination {
            project: &source.sbg_id,
            folder,
        };
        let copies = db
            .store()
            .write(None, |conn| copy_files(conn, user_id, to, &items))
            .unwrap();
        copies
            .into_iter()
            .map(|copy| match copy {
                CopyResult::Copied(view) => {
                    (view.placement.sbg_id.to_string(), view.placement.name)
                }
                CopyResult::NameTooLong(name) => panic!("{name} too long"),
            })
            .collect()
    };
    let root_files = replicate(&source_root, "root", root);
    let tree_names = replicate(&tree_folder, "tree", tree)
        .into_iter()
        .map(|(_, name)| name)
        .collect();
    // The template only served to make the others.
    files::delete_placements(&mut conn, &[template.placement.id]).unwrap();
    Seed {
        token,
        username: username.to_owned(),
        target,
        root_files,
        tree: tree_folder,
        tree_names,
    }
}

impl Seed {
    /// Every root file and the tree folder, into the target's root.
    fn items(&self) -> Value {
        let to = self.target.sbg_id.as_str();
        let mut items: Vec<Value> = self
            .root_files
            .iter()
            .map(|(id, _)| json!({"file": id, "project": to}))
            .collect();
        items.push(json!({"file": self.tree.sbg_id.as_str(), "project": to}));
        Value::Array(items)
    }

    /// Items the job copies: the root files, the tree folder and its files.
    fn item_count(&self) -> i64 {
        i64::try_from(self.root_files.len() + 1 + self.tree_names.len()).unwrap()
    }
}

fn submit(server: &Server, token: &str, items: &Value) -> String {
    let response = client()
        .post(server.url("/v2/async/files/copy"))
        .header("X-SBG-Auth-Token", token)
        .json(&json!({ "items": items }))
        .send()
        .unwrap();
    assert_eq!(response.status(), 200);
    let job: Value = response.json().unwrap();
    job["id"].as_str().unwrap().to_owned()
}

fn get_json(server: &Server, token: &str, path: &str) -> Value {
    let response = client()
        .get(server.url(path))
        .header("X-SBG-Auth-Token", token)
        .send()
        .unwrap();
    assert_eq!(response.status(), 200, "{path}");
    response.json().unwrap()
}

/// Reads the job until `done` holds for it, failing after [`DEADLINE`].
fn poll_job(
    server: &Server,
    token: &str,
    id: &str,
    what: &str,
    done: impl Fn(&Value) -> bool,
) -> Value {
    let deadline = Instant::now() + DEADLINE;
    loop {
        let job = get_json(server, token, &format!("/v2/async/files/copy/{id}"));
        if done(&job) {
            return job;
        }
        assert!(
            Instant::now() < deadline,
            "no {what} within {DEADLINE:?}: {}",
            summary(&job)
        );
        std::thread::sleep(POLL);
    }
}

/// The job without its `result`, for messages.
fn summary(job: &Value) -> Value {
    let mut job = job.clone();
    job["result"] = Value::Null;
    job
}

fn finished(job: &Value) -> bool {
    job["state"] == "FINISHED"
}

/// Every item of a list, following its `next` links.
fn list_all(server: &Server, token: &str, path: &str) -> Vec<Value> {
    let mut items = Vec::new();
    let mut next = Some(server.url(path));
    while let Some(url) = next.take() {
        let page: Value = client()
            .get(&url)
            .header("X-SBG-Auth-Token", token)
            .send()
            .unwrap()
            .json()
            .unwrap();
        items.extend(page["items"].as_array().unwrap().iter().cloned());
        next = page["links"]
            .as_array()
            .unwrap()
            .iter()
            .find(|link| link["rel"] == "next")
            .map(|link| link["href"].as_str().unwrap().to_owned());
    }
    items
}

fn names(entries: &[Value]) -> HashSet<String> {
    entries
        .iter()
        .map(|e| e["name"].as_str().unwrap().to_owned())
        .collect()
}

/// The target holds exactly one copy of each source file, under its own name: nothing was
/// copied twice (a second copy would be named `1_...`) and nothing was lost.
fn assert_copied_once(server: &Server, seed: &Seed) {
    let token = &seed.token;
    let root = list_all(
        server,
        token,
        &format!("/v2/files?project={}&limit=100", seed.target.sbg_id),
    );
    let mut expected: HashSet<String> = seed
        .root_files
        .iter()
        .map(|(_, name)| name.clone())
        .collect();
    expected.insert("tree".to_owned());
    assert_eq!(root.len(), expected.len(), "entries at the target's root");
    assert_eq!(names(&root), expected);
    let tree = root.iter().find(|e| e["name"] == "tree").unwrap();
    let copied = list_all(
        server,
        token,
        &format!(
            "/v2/files?parent={}&limit=100",
            tree["id"].as_str().unwrap()
        ),
    );
    assert_eq!(
        copied.len(),
        seed.tree_names.len(),
        "entries in the tree's copy"
    );
    assert_eq!(
        names(&copied),
        seed.tree_names.iter().cloned().collect::<HashSet<_>>()
    );
}

backends!(a_job_killed_with_sigkill_resumes_and_copies_every_item_exactly_once);
fn a_job_killed_with_sigkill_resumes_and_copies_every_item_exactly_once(db: TestDb) {
    let seed = seed(&db, "survivor", 3_000, 3_000);
    let mut server = Server::start(db.url(), db.data_dir(), &[], QUIET);
    let id = submit(&server, &seed.token, &seed.items());
    let total = seed.item_count();
    let midway = poll_job(&server, &seed.token, &id, "progress", |job| {
        assert!(
            !finished(job),
            "the job finished before it could be killed: {}",
            summary(job)
        );
        job["completed_files"].as_i64().unwrap() > 0
    });
    server.child.kill().unwrap();
    server.child.wait().unwrap();
    assert!(midway["completed_files"].as_i64().unwrap() < total);

    let server = Server::start(db.url(), db.data_dir(), &[], QUIET);
    let done = poll_job(&server, &seed.token, &id, "end", finished);
    assert_eq!(done["outcome"], "completed", "{}", summary(&done));
    assert_eq!(done["total_files"], total);
    assert_eq!(done["completed_files"], total);
    assert_copied_once(&server, &seed);

    let watched = ferry(db.url(), db.data_dir(), &["job", "watch", &id]);
    assert!(watched.status.success(), "{}", stderr(&watched));
    assert!(
        stdout(&watched).contains("(completed)"),
        "{}",
        stdout(&watched)
    );
}

#[test]
fn two_servers_on_one_postgresql_share_the_chunks_of_one_job() {
    let Some(db) = TestDb::postgres() else {
        return;
    };
    let seed = seed(&db, "sharer", 6_000, 0);
    let first = Server::start(db.url(), db.data_dir(), &[], QUIET);
    let second = Server::start(db.url(), db.data_dir(), &[], QUIET);
    let id = submit(&first, &seed.token, &seed.items());
    let done = poll_job(&second, &seed.token, &id, "end", finished);
    assert_eq!(done["outcome"], "completed", "{}", summary(&done));
    assert_copied_once(&second, &seed);

    let items = list_all(
        &first,
        &seed.token,
        &format!("/v2/async/files/copy/{id}/items?limit=100"),
    );
    assert_eq!(i64::try_from(items.len()).unwrap(), seed.item_count());
    let sources: HashSet<&str> = items.iter().map(|i| i["file"].as_str().unwrap()).collect();
    assert_eq!(sources.len(), items.len(), "no item was recorded twice");
    // A worker is named `<pid>-<random>/<n>`.
    let processes: HashSet<String> = items
        .iter()
        .map(|i| {
            i["worker"]
                .as_str()
                .unwrap()
                .split('-')
                .next()
                .unwrap()
                .to_owned()
        })
        .collect();
    let expected: HashSet<String> = [first.child.id(), second.child.id()]
        .iter()
        .map(u32::to_string)
        .collect();
    assert_eq!(processes, expected, "both servers worked chunks of the job");
}

backends!(cancel_stops_a_running_job_within_two_seconds_and_reports_what_was_done);
fn cancel_stops_a_running_job_within_two_seconds_and_reports_what_was_done(db: TestDb) {
    let seed = seed(&db, "canceller", 4_000, 0);
    let server = Server::start(db.url(), db.data_dir(), &[], QUIET);
    let id = submit(&server, &seed.token, &seed.items());
    poll_job(&server, &seed.token, &id, "progress", |job| {
        assert!(
            !finished(job),
            "the job finished before it could be cancelled: {}",
            summary(job)
        );
        job["completed_files"].as_i64().unwrap() > 0
    });
    let asked = Instant::now();
    let response = client()
        .post(server.url(&format!("/v2/async/files/copy/{id}/cancel")))
        .header("X-SBG-Auth-Token", &seed.token)
        .json(&json!({}))
        .send()
        .unwrap();
    let took = asked.elapsed();
    assert_eq!(response.status(), 200);
    let job: Value = response.json().unwrap();
    assert!(took < Duration::from_secs(2), "cancel took {took:?}");
    assert_eq!(
        (job["state"].as_str(), job["outcome"].as_str()),
        (Some("FINISHED"), Some("cancelled")),
        "{}",
        summary(&job)
    );
    let completed = job["completed_files"].as_i64().unwrap();
    assert!(completed < seed.item_count(), "{}", summary(&job));
    assert_eq!(
        completed + job["cancelled_files"].as_i64().unwrap(),
        seed.item_count()
    );
    let copied = list_all(
        &server,
        &seed.token,
        &format!("/v2/files?project={}&limit=100", seed.target.sbg_id),
    );
    assert_eq!(
        i64::try_from(copied.len()).unwrap(),
        completed,
        "the job reports what it did"
    );

    let watched = ferry(db.url(), db.data_dir(), &["job", "watch", &id]);
    assert_eq!(watched.status.code(), Some(1), "{}", stdout(&watched));
    assert!(
        stdout(&watched).contains("(cancelled)"),
        "{}",
        stdout(&watched)
    );
}

backends!(job_copy_starts_a_job_that_wait_follows_to_the_end);
fn job_copy_starts_a_job_that_wait_follows_to_the_end(db: TestDb) {
    let seed = seed(&db, "cli", 3, 2);
    let _server = Server::start(db.url(), db.data_dir(), &[], QUIET);
    let to = format!("{}:/inbox", seed.target.sbg_id);
    let mut conn = db.store().conn().unwrap();
    folders::ensure_path(
        &mut conn,
        seed.target.id,
        &FolderPath::parse("/inbox").unwrap(),
    )
    .unwrap();
    let mut args = vec![
        "job",
        "copy",
        "--user",
        &seed.username,
        "--to",
        &to,
        "--wait",
    ];
    args.extend(seed.root_files.iter().map(|(id, _)| id.as_str()));
    args.push(seed.tree.sbg_id.as_str());
    let output = ferry(db.url(), db.data_dir(), &args);
    assert!(output.status.success(), "{}", stderr(&output));
    let printed = stdout(&output);
    let mut lines = printed.lines();
    let id = lines.next().unwrap();
    assert!(
        lines
            .next()
            .unwrap()
            .contains(&format!("job {id}: FINISHED (completed): 6 of 6")),
        "{printed}"
    );

    let refused = ferry(
        db.url(),
        db.data_dir(),
        &[
            "job",
            "copy",
            "--user",
            "nobody",
            "--to",
            &to,
            seed.tree.sbg_id.as_str(),
        ],
    );
    assert_eq!(refused.status.code(), Some(1), "{}", stderr(&refused));
    let missing = ferry(db.url(), db.data_dir(), &["job", "watch", "no-such-job"]);
    assert_eq!(missing.status.code(), Some(1));
    assert!(stderr(&missing).contains("no job"), "{}", stderr(&missing));
}
