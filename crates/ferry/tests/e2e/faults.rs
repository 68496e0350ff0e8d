//! Database faults against the real server: an outage is a 503 in each dialect's shape with
//! Retry-After, the process stays up and serves again once the database is back; a batch copy
//! cut short by kill -9 leaves all of its copies or none.

use crate::support::{CopySetup, Proxy, Server, client, eventually};
use diesel::connection::SimpleConnection;
use diesel::{Connection, ExpressionMethods, QueryDsl, RunQueryDsl, SqliteConnection};
use ferry_domain::ids::Username;
use ferry_domain::model::Project;
use ferry_store::schema::placements;
use ferry_store::{Backend, Store, users};
use ferry_testkit::TestDb;
use ferry_testkit::backends;
use reqwest::blocking::{Client, Response};
use serde_json::{Value, json};
use std::time::{Duration, Instant};

/// A user's token, one file in a source project (SBG id, DX id), and an empty destination.
struct Seeded {
    token: String,
    file_sbg: String,
    file_dx: String,
    source: Project,
    destination: Project,
}

fn seed(db: &TestDb, files_in_source: usize) -> (Seeded, Vec<String>) {
    let names: Vec<String> = (0..files_in_source)
        .map(|i| format!("f{i:04}.txt"))
        .collect();
    let setup = CopySetup::new(db, "faulty", &names);
    let ids = setup.file_ids();
    let seeded = Seeded {
        token: setup.token,
        file_sbg: ids[0].clone(),
        file_dx: setup.files[0].0.dx_id.to_string(),
        source: setup.source,
        destination: setup.destination,
    };
    (seeded, ids)
}

fn copies_in(store: &Store, project: &Project) -> i64 {
    let mut conn = store.conn().unwrap();
    placements::table
        .filter(placements::project_id.eq(project.id.get()))
        .count()
        .get_result(&mut *conn)
        .unwrap()
}

/// The requests of the outage test, each in its dialect.
struct Requests<'a> {
    http: Client,
    base: String,
    seeded: &'a Seeded,
}

impl<'a> Requests<'a> {
    /// The requests against `server`, once a read and a write have worked. The read also
    /// refreshes the token's `last_used_at`, written at most once a minute: a stale one would
    /// make a later read a write too.
    fn against(server: &Server, seeded: &'a Seeded) -> Requests<'a> {
        let requests = Requests {
            http: client(),
            base: server.base.clone(),
            seeded,
        };
        assert_eq!(requests.sbg_read().status(), 200);
        assert_eq!(requests.sbg_write().status(), 200);
        requests
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    fn sbg_read(&self) -> Response {
        self.http
            .get(self.url(&format!("/v2/files/{}", self.seeded.file_sbg)))
            .header("X-SBG-Auth-Token", &self.seeded.token)
            .send()
            .unwrap()
    }

    fn sbg_write(&self) -> Response {
        let path = format!("/v2/files/{}/actions/copy", self.seeded.file_sbg);
        self.http
            .post(self.url(&path))
            .header("X-SBG-Auth-Token", &self.seeded.token)
            .json(&json!({"project": self.seeded.destination.sbg_id.to_string()}))
            .send()
            .unwrap()
    }

    fn dx_read(&self) -> Response {
        self.http
            .post(self.url(&format!("/{}/describe", self.seeded.file_dx)))
            .bearer_auth(&self.seeded.token)
            .json(&json!({"project": self.seeded.source.dx_id.to_string()}))
            .send()
            .unwrap()
    }

    fn dx_write(&self, folder: &str) -> Response {
        let path = format!("/{}/newFolder", self.seeded.destination.dx_id);
        self.http
            .post(self.url(&path))
            .bearer_auth(&self.seeded.token)
            .json(&json!({"folder": folder, "parents": true}))
            .send()
            .unwrap()
    }
}

fn assert_sbg_503(response: Response) {
    assert_eq!(response.status(), 503);
    assert_eq!(response.headers()["retry-after"], "5");
    let body: Value = response.json().unwrap();
    assert_eq!(body["status"], 503, "{body}");
    assert!(body["code"].as_u64().is_some_and(|c| c != 0), "{body}");
    assert!(
        body["message"].is_string() && body["more_info"].is_string(),
        "{body}"
    );
}

fn assert_dx_503(response: Response) {
    assert_eq!(response.status(), 503);
    assert_eq!(response.headers()["retry-after"], "5");
    let body: Value = response.json().unwrap();
    assert_eq!(body["error"]["type"], "ServiceUnavailable", "{body}");
    assert!(body["error"]["message"].is_string(), "{body}");
}

/// Runs the four requests at once (each may wait out a pool or lock timeout).
fn during_outage(requests: &Requests<'_>, dx_folder: &str) -> [Response; 4] {
    std::thread::scope(|s| {
        let sbg_read = s.spawn(|| requests.sbg_read());
        let sbg_write = s.spawn(|| requests.sbg_write());
        let dx_read = s.spawn(|| requests.dx_read());
        let dx_write = s.spawn(|| requests.dx_write(dx_folder));
        [sbg_read, sbg_write, dx_read, dx_write].map(|h| h.join().unwrap())
    })
}

backends!(a_database_outage_is_a_503_in_each_dialect_and_the_server_serves_again_after);
fn a_database_outage_is_a_503_in_each_dialect_and_the_server_serves_again_after(db: TestDb) {
    let (seeded, _) = seed(&db, 1);
    match db.backend() {
        Backend::Postgres => postgres_goes_away(&db, &seeded),
        Backend::Sqlite => sqlite_is_locked(&db, &seeded),
    }
}

/// PostgreSQL stopped, as the server sees it: the proxy between them drops every connection
/// and refuses new ones. Every request needs the database (auth included), so all are 503s.
fn postgres_goes_away(db: &TestDb, seeded: &Seeded) {
    let (proxy, url) = Proxy::in_front_of(db.url());
    let mut server = Server::start(&url, db.data_dir(), &[], &[]);
    let requests = Requests::against(&server, seeded);

    proxy.cut();
    let [sbg_read, sbg_write, dx_read, dx_write] = during_outage(&requests, "/during");
    assert_sbg_503(sbg_read);
    assert_sbg_503(sbg_write);
    assert_dx_503(dx_read);
    assert_dx_503(dx_write);
    assert!(
        server.child.try_wait().unwrap().is_none(),
        "the server died"
    );

    proxy.restore();
    assert!(
        eventually(Duration::from_secs(30), || requests.sbg_read().status()
            == 200),
        "SBG reads did not come back"
    );
    assert_eq!(requests.sbg_write().status(), 200);
    assert_eq!(requests.dx_read().status(), 200);
    assert_eq!(requests.dx_write("/after").status(), 200);
    // Two copies before and after; the one tried during the outage wrote nothing.
    assert_eq!(copies_in(db.store(), &seeded.destination), 2);
    assert!(server.terminate().success());
}

/// SQLite locked by another process for longer than the busy timeout (as root, chmod would not
/// make the file read-only): writes are 503s, reads go on (WAL), writes work once it is free.
fn sqlite_is_locked(db: &TestDb, seeded: &Seeded) {
    let mut server = Server::start(db.url(), db.data_dir(), &[], &[]);
    let requests = Requests::against(&server, seeded);
    let path = db.url().strip_prefix("sqlite://").unwrap();
    let mut holder = SqliteConnection::establish(path).unwrap();
    holder.batch_execute("BEGIN EXCLUSIVE").unwrap();

    let [sbg_read, sbg_write, dx_read, dx_write] = during_outage(&requests, "/during");
    assert_eq!(sbg_read.status(), 200);
    assert_eq!(dx_read.status(), 200);
    assert_sbg_503(sbg_write);
    assert_dx_503(dx_write);
    assert!(
        server.child.try_wait().unwrap().is_none(),
        "the server died"
    );

    holder.batch_execute("ROLLBACK").unwrap();
    assert_eq!(requests.sbg_write().status(), 200);
    assert_eq!(requests.dx_write("/after").status(), 200);
    assert_eq!(copies_in(db.store(), &seeded.destination), 2);
    assert!(server.terminate().success());
}

const CRASH_BATCH: usize = 1_000;

backends!(a_batch_copy_killed_mid_flight_leaves_all_its_copies_or_none);
fn a_batch_copy_killed_mid_flight_leaves_all_its_copies_or_none(db: TestDb) {
    let (seeded, ids) = seed(&db, CRASH_BATCH);
    let store = db.store();
    let mut conn = store.conn().unwrap();
    let user = users::find_by_username(&mut conn, &Username::parse("faulty").unwrap())
        .unwrap()
        .unwrap();
    drop(conn);
    // The batch copy, answered with its status (None if the server died first).
    let batch_copy = |server: &Server, destination: &Project| {
        let url = server.url("/v2/action/files/copy");
        let body = json!({"project": destination.sbg_id.to_string(), "file_ids": ids});
        let token = seeded.token.clone();
        std::thread::spawn(move || {
            client()
                .post(url)
                .header("X-SBG-Auth-Token", token)
                .json(&body)
                .send()
                .ok()
                .map(|r| r.status().as_u16())
        })
    };
    // How long a whole batch takes here and now, so that the kills below spread over it.
    let destination = ferry_testkit::project(store, &user, "Calibration");
    let server = Server::start(db.url(), db.data_dir(), &[], &[]);
    let started = Instant::now();
    assert_eq!(batch_copy(&server, &destination).join().unwrap(), Some(200));
    let whole = started.elapsed();
    drop(server);
    assert_eq!(copies_in(store, &destination), CRASH_BATCH as i64);

    // kill -9 at eighths of that time: before, during and after the transaction.
    // Whatever the point, the destination holds 0 or all 1,000 copies.
    let mut outcomes = Vec::new();
    for eighth in 0..8u32 {
        let destination = ferry_testkit::project(store, &user, &format!("Crash {eighth}"));
        let server = Server::start(db.url(), db.data_dir(), &[], &[]);
        let request = batch_copy(&server, &destination);
        let delay = whole * eighth / 8;
        std::thread::sleep(delay);
        drop(server); // SIGKILL, then wait
        let answered = request.join().unwrap();
        let copies = copies_in(store, &destination);
        assert!(
            copies == 0 || copies == CRASH_BATCH as i64,
            "{copies} copies after kill -9 at {delay:?}"
        );
        if answered == Some(200) {
            assert_eq!(copies, CRASH_BATCH as i64);
        }
        outcomes.push((delay.as_millis(), answered, copies));
    }
    eprintln!(
        "batch of {CRASH_BATCH} in {} ms; kill -9 rounds (ms, answer, copies): {outcomes:?}",
        whole.as_millis()
    );

    // The database took the crashes: a restarted server copies the whole batch.
    let destination = ferry_testkit::project(store, &user, "After the crashes");
    let mut server = Server::start(db.url(), db.data_dir(), &[], &[]);
    assert_eq!(batch_copy(&server, &destination).join().unwrap(), Some(200));
    assert_eq!(copies_in(store, &destination), CRASH_BATCH as i64);
    assert!(server.terminate().success());
}
