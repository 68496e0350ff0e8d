//! `ferry bench`: Ferry's copy throughput through the real HTTP API, held against the floor,
//! the same rows written by the plainest SQL on the same database (issue 6).
//!
//! The bench always works on a fresh database, so it never touches real data: a new SQLite
//! file in a temporary directory, or, when `--database-url` names a PostgreSQL server, a new
//! schema on it, dropped at the end. The server runs in this process on a free loopback port.
//! Speed is reported, never asserted: `--smoke` only proves the bench still runs.

use std::fmt::Write as _;
use std::net::TcpListener;
use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use actix_web::HttpServer;
use actix_web::dev::ServerHandle;
use diesel::sql_types::BigInt;
use diesel::{Connection, QueryableByName, RunQueryDsl};
use ferry_api::{ApiConfig, AppState};
use ferry_domain::ids::Username;
use ferry_domain::model::{Project, User};
use ferry_domain::name::FileName;
use ferry_domain::path::FolderPath;
use ferry_store::scratch::ScratchSchema;
use ferry_store::{
    Backend, ContentInfo, DbConnection, Store, StoreError, billing, each_backend, files, folders,
    projects, tokens, users,
};
use serde_json::{Value, json};
use tempfile::TempDir;

use crate::Failure;
use crate::cli::{BenchArgs, StoreArgs};

/// Rows per multi-row INSERT of the floor, as in `store::placing`.
const FLOOR_ROWS_PER_INSERT: usize = 1_000;

/// Batch sizes and numbers of earlier copies each file of the batch collides with.
struct Sizes {
    batches: &'static [usize],
    collisions: &'static [usize],
}

const FULL: Sizes = Sizes {
    batches: &[100, 1_000],
    collisions: &[0, 1, 10, 100],
};

const SMOKE: Sizes = Sizes {
    batches: &[10, 20],
    collisions: &[0, 1],
};

/// The measurements of issue 6 this bench does not take yet, so that the table has its final
/// shape: (measurement, size).
const NOT_MEASURED: &[(&str, &str)] = &[
    ("async copy job (files/s, peak RSS)", "100,000 files"),
    (
        "clone of a folder, hidden-link chains of depth 3 (objects/s)",
        "10,000 objects",
    ),
    (
        "clone of a folder, hidden-link chains of depth 3 (objects/s)",
        "100,000 objects",
    ),
    (
        "listProjects of an object in 10,000 projects (p50, p99)",
        "10,000 projects",
    ),
    (
        "single-file copies, 64 concurrent connections (requests/s, p99)",
        "64 connections",
    ),
];

pub fn run(store_args: &StoreArgs, args: BenchArgs) -> Result<(), Failure> {
    let sizes = if args.smoke { &SMOKE } else { &FULL };
    let database = FreshDatabase::create(&store_args.database_url)?;
    let store = Store::open(
        &database.url,
        &database.dir.path().join("data"),
        store_args.db_pool_size,
    )
    .map_err(|e| Failure::Setup(format!("cannot open the bench database: {e}")))?;
    store
        .migrate()
        .map_err(|e| Failure::Setup(format!("cannot migrate the bench database: {e}")))?;
    let server = BenchServer::start(&store)?;
    let measured = measure(&store, &server, sizes);
    server.stop();
    print!("{}", table(store.backend(), &measured?));
    Ok(())
}

/// A database no one else uses, removed when dropped.
pub(crate) struct FreshDatabase {
    pub(crate) url: String,
    /// Holds the SQLite file (if any) and the content store.
    pub(crate) dir: TempDir,
    /// On PostgreSQL: the schema, dropped with this value.
    _pg_schema: Option<ScratchSchema>,
}

impl FreshDatabase {
    pub(crate) fn backend_name(&self) -> &'static str {
        if self._pg_schema.is_some() {
            "postgres"
        } else {
            "sqlite"
        }
    }

    /// A SQLite file in a new temporary directory, or a new schema on the PostgreSQL server
    /// the URL names (every connection of the store works in it through `search_path`).
    pub(crate) fn create(url: &str) -> Result<FreshDatabase, Failure> {
        let setup = |what: &str, e: &dyn std::fmt::Display| Failure::Setup(format!("{what}: {e}"));
        let dir =
            tempfile::tempdir().map_err(|e| setup("cannot create a temporary directory", &e))?;
        match Backend::from_url(url).map_err(|e| setup("bad database URL", &e))? {
            Backend::Sqlite => Ok(FreshDatabase {
                url: format!("sqlite://{}", dir.path().join("bench.db").display()),
                dir,
                _pg_schema: None,
            }),
            Backend::Postgres => {
                let schema = ScratchSchema::create(url, "bench")
                    .map_err(|e| setup("cannot create the bench schema", &e))?;
                Ok(FreshDatabase {
                    url: schema.url().to_owned(),
                    dir,
                    _pg_schema: Some(schema),
                })
            }
        }
    }
}

/// The HTTP app on a free loopback port, served by its own actix system thread, as
/// `ferry serve` serves it (no job workers: no job is measured yet).
struct BenchServer {
    base_url: String,
    handle: ServerHandle,
    thread: JoinHandle<std::io::Result<()>>,
}

impl BenchServer {
    fn start(store: &Store) -> Result<BenchServer, Failure> {
        let setup = |e: std::io::Error| Failure::Setup(format!("cannot start the server: {e}"));
        let listener = TcpListener::bind("127.0.0.1:0").map_err(setup)?;
        let base_url = format!("http://{}", listener.local_addr().map_err(setup)?);
        let state = AppState::new(store.clone(), ApiConfig::new(&base_url));
        let (handle_sender, handle_receiver) = mpsc::channel();
        let thread = std::thread::spawn(move || {
            let system = actix_web::rt::System::new();
            let server = HttpServer::new(move || ferry_api::app(state.clone()))
                .listen(listener)?
                .run();
            // The receiver outlives this send: `start` waits for it.
            let _ = handle_sender.send(server.handle());
            system.block_on(server)
        });
        match handle_receiver.recv() {
            Ok(handle) => Ok(BenchServer {
                base_url,
                handle,
                thread,
            }),
            Err(_) => Err(match thread.join() {
                Ok(Err(e)) => setup(e),
                _ => Failure::Setup("the server thread stopped".to_owned()),
            }),
        }
    }

    fn stop(self) {
        actix_web::rt::System::new().block_on(self.handle.stop(true));
        if let Ok(Err(e)) = self.thread.join() {
            eprintln!("ferry: the bench server stopped with an error: {e}");
        }
    }
}

/// One measured row: `files` rows written by Ferry in `ferry` and by the floor in `floor`.
struct Measured {
    measurement: String,
    files: usize,
    ferry: Duration,
    floor: Duration,
}

pub(crate) fn work(e: impl std::fmt::Display) -> Failure {
    Failure::Work(e.to_string())
}

fn measure(store: &Store, server: &BenchServer, sizes: &Sizes) -> Result<Vec<Measured>, Failure> {
    let mut conn = store.conn().map_err(work)?;
    let user = users::create(
        &mut conn,
        &Username::parse("bench").map_err(work)?,
        "Bench",
        None,
    )
    .map_err(work)?;
    let billing_group_id = billing::personal(&mut conn, user.id).map_err(work)?.id;
    let (_, token) = tokens::create(&mut conn, user.id, Some("bench"), None).map_err(work)?;
    let client = CopyClient {
        http: reqwest::blocking::Client::new(),
        url: format!("{}/v2/action/files/copy", server.base_url),
        token,
    };
    let new_project = |conn: &mut DbConnection, name: &str| {
        projects::create(conn, &user, name, "", billing_group_id).map_err(work)
    };

    let content = store.content().put_bytes(b"bench\n").map_err(work)?;
    let largest = sizes.batches.iter().copied().max().unwrap_or(0);
    let source = new_project(&mut conn, "source")?;
    let source_ids: Vec<String> = seed_sources(&mut conn, &user, &source, &content, largest)?
        .into_iter()
        .map(|(sbg_id, _)| sbg_id)
        .collect();

    let floor_project = new_project(&mut conn, "floor")?;
    let floor_folder =
        folders::ensure_path(&mut conn, floor_project.id, &FolderPath::root()).map_err(work)?;
    // One untimed round of each, so that no figure pays for cold connections and caches.
    let warm_up = new_project(&mut conn, "warm-up")?;
    client.copy(warm_up.sbg_id.as_ref(), &source_ids)?;
    let floor_insert_at = |conn: &mut DbConnection, first: usize, count: usize| {
        let folder = (floor_project.id, floor_folder.id);
        floor_insert(conn, user.id, folder, &content, first, count).map_err(work)
    };
    floor_insert_at(&mut conn, 0, largest)?;
    let mut floor_rows_written = largest;
    let mut measured = Vec::new();
    for &batch in sizes.batches {
        let floor = floor_insert_at(&mut conn, floor_rows_written, batch)?;
        floor_rows_written += batch;
        let file_ids = &source_ids[..batch];
        for &collisions in sizes.collisions {
            let destination = new_project(&mut conn, &format!("copy {batch} k{collisions}"))?;
            let destination = destination.sbg_id.as_ref();
            // The k earlier copies, through the same API, so their names are the API's.
            for _ in 0..collisions {
                client.copy(destination, file_ids)?;
            }
            let started = Instant::now();
            client.copy(destination, file_ids)?;
            measured.push(Measured {
                measurement: format!("batch copy, {}", collisions_label(collisions)),
                files: batch,
                ferry: started.elapsed(),
                floor,
            });
        }
    }
    Ok(measured)
}

fn collisions_label(collisions: usize) -> String {
    match collisions {
        0 => "no collisions".to_owned(),
        1 => "every file colliding with 1 earlier copy".to_owned(),
        k => format!("every file colliding with {k} earlier copies"),
    }
}

/// `count` closed files in the root of `project`, written directly (seeding is not measured);
/// returns their SBG and DX ids.
pub(crate) fn seed_sources(
    conn: &mut DbConnection,
    user: &User,
    project: &Project,
    content: &ContentInfo,
    count: usize,
) -> Result<Vec<(String, String)>, Failure> {
    let root = folders::ensure_path(conn, project.id, &FolderPath::root()).map_err(work)?;
    let names = (0..count)
        .map(|i| {
            Ok((
                FileName::parse(format!("file-{i:06}.txt"))?,
                content.clone(),
            ))
        })
        .collect::<Result<Vec<_>, ferry_domain::error::DomainError>>()
        .map_err(work)?;
    let created =
        files::create_closed_files(conn, user.id, project.id, &root, &names).map_err(work)?;
    Ok(created
        .into_iter()
        .map(|(object, placement)| (placement.sbg_id.to_string(), object.dx_id.to_string()))
        .collect())
}

struct CopyClient {
    http: reqwest::blocking::Client,
    url: String,
    token: String,
}

impl CopyClient {
    /// `POST /v2/action/files/copy` of `file_ids` into the root of `project`; fails unless every
    /// file was copied.
    fn copy(&self, project: &str, file_ids: &[String]) -> Result<(), Failure> {
        let response = self
            .http
            .post(&self.url)
            .header("X-SBG-Auth-Token", &self.token)
            .json(&json!({ "project": project, "file_ids": file_ids }))
            .send()
            .map_err(work)?;
        let status = response.status();
        let body = response.bytes().map_err(work)?;
        let outcomes: serde_json::Map<String, Value> = serde_json::from_slice(&body)
            .map_err(|e| Failure::Work(format!("copy answered {status}: {e}")))?;
        let copied = outcomes
            .values()
            .filter(|outcome| outcome["status"] == "OK")
            .count();
        if !status.is_success() || copied != file_ids.len() {
            return Err(Failure::Work(format!(
                "copy answered {status} with {copied} of {} files copied",
                file_ids.len()
            )));
        }
        Ok(())
    }
}

#[derive(QueryableByName)]
struct InsertedId {
    #[diesel(sql_type = BigInt)]
    id: i64,
}

/// The floor: `count` objects and their placements in one transaction, by multi-row INSERTs
/// of literal values, 1,000 rows each, placed in `(project id, folder id)`. `first` numbers
/// the rows to keep their ids unique.
fn floor_insert(
    conn: &mut DbConnection,
    user_id: i64,
    (project_id, folder_id): (i64, i64),
    content: &ContentInfo,
    first: usize,
    count: usize,
) -> Result<Duration, StoreError> {
    let started = Instant::now();
    conn.transaction(|conn| {
        let numbers: Vec<usize> = (first..first + count).collect();
        for chunk in numbers.chunks(FLOOR_ROWS_PER_INSERT) {
            let mut objects = String::from(
                "INSERT INTO objects (dx_id, class, state, hidden, details, types, size, \
                 content_sha256, md5, created_at, created_by_user_id, modified_at) VALUES ",
            );
            for (i, n) in chunk.iter().enumerate() {
                let separator = if i == 0 { "" } else { ", " };
                let _ = write!(
                    objects,
                    "{separator}('file-floor{n:014}', 'file', 'closed', FALSE, '{{}}', '[]', {}, \
                     '{}', '{}', CURRENT_TIMESTAMP, {user_id}, CURRENT_TIMESTAMP)",
                    content.size, content.sha256, content.md5
                );
            }
            objects.push_str(" RETURNING id");
            let object_ids: Vec<InsertedId> =
                each_backend!(&mut *conn, |c| diesel::sql_query(&objects).load(c))?;

            let mut placements = String::from(
                "INSERT INTO placements (sbg_id, object_id, project_id, folder_id, name, \
                 name_stem, tags, properties, metadata, created_at, modified_at) VALUES ",
            );
            for (i, (n, object)) in chunk.iter().zip(&object_ids).enumerate() {
                let separator = if i == 0 { "" } else { ", " };
                let _ = write!(
                    placements,
                    "{separator}('floor{n:014}', {}, {project_id}, {folder_id}, \
                     'floor-{n}.txt', 'floor-{n}.txt', '[]', '{{}}', '{{}}', CURRENT_TIMESTAMP, \
                     CURRENT_TIMESTAMP)",
                    object.id
                );
            }
            each_backend!(&mut *conn, |c| diesel::sql_query(&placements).execute(c))?;
        }
        Ok::<_, StoreError>(())
    })?;
    Ok(started.elapsed())
}

/// The one table, in Markdown so that it can be pasted into docs/performance.md.
fn table(backend: Backend, measured: &[Measured]) -> String {
    let mut out = format!(
        "Ferry bench on {backend} (floor: the same object and placement rows by multi-row \
         INSERTs of {FLOOR_ROWS_PER_INSERT} rows in one transaction)\n\n\
         | measurement | size | Ferry files/s | Ferry µs/file | floor µs/file | Ferry / floor |\n\
         | --- | --- | ---: | ---: | ---: | ---: |\n"
    );
    for row in measured {
        let per_file = |d: Duration| d.as_secs_f64() * 1e6 / row.files as f64;
        let _ = writeln!(
            out,
            "| {} | {} files | {:.0} | {:.1} | {:.1} | {:.2} |",
            row.measurement,
            row.files,
            row.files as f64 / row.ferry.as_secs_f64(),
            per_file(row.ferry),
            per_file(row.floor),
            row.ferry.as_secs_f64() / row.floor.as_secs_f64(),
        );
    }
    for (measurement, size) in NOT_MEASURED {
        let _ = writeln!(out, "| {measurement} | {size} | not measured yet | | | |");
    }
    out
}
