//! `ferry bench`: Ferry's throughput and latency through the real HTTP API, held against the
//! floor, the same rows written by the plainest SQL on the same database (issue 6).
//!
//! The bench always works on a fresh database, so it never touches real data: a new SQLite
//! file in a temporary directory, or, when `--database-url` names a PostgreSQL server, a new
//! schema on it, dropped at the end. The server (and, for the async job, the job workers) runs
//! in this process on a free loopback port. What a measurement needs is seeded directly through
//! the store or by plain SQL, untimed. Speed is reported, never asserted: `--smoke` only proves
//! the bench still runs.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::net::TcpListener;
use std::sync::{Barrier, mpsc};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use actix_web::HttpServer;
use actix_web::dev::ServerHandle;
use chrono::{NaiveDateTime, SubsecRound, Utc};
use diesel::r2d2::PooledConnection;
use diesel::sql_types::BigInt;
use diesel::{Connection, ExpressionMethods, QueryDsl, QueryableByName, RunQueryDsl};
use ferry_api::jobs_worker::{JobSettings, JobWorkers};
use ferry_api::{ApiConfig, AppState, RateLimit};
use ferry_domain::ids::{DxClass, DxId, SbgId, Username};
use ferry_domain::model::{Project, User};
use ferry_domain::name::FileName;
use ferry_domain::path::FolderPath;
use ferry_domain::permission::Level;
use ferry_store::db::DbManager;
use ferry_store::jobs::JobState;
use ferry_store::scratch::ScratchSchema;
use ferry_store::{
    Backend, ContentInfo, DbConnection, Store, StoreError, billing, each_backend, files, folders,
    jobs, projects, schema, tokens, users,
};
use serde_json::{Value, json};
use tempfile::TempDir;

use crate::Failure;
use crate::cli::{BenchArgs, Measurement, StoreArgs};

mod transfer;

/// Rows per multi-row INSERT of the floor and of the seeding, as in `store::placing`.
const ROWS_PER_INSERT: usize = 1_000;
/// Job worker threads for the async job: `ferry serve`'s default.
const JOB_WORKERS: usize = 2;
/// How long the async job may take before the bench gives up.
const JOB_DEADLINE: Duration = Duration::from_secs(600);
const JOB_POLL: Duration = Duration::from_millis(10);

/// The size of every measurement.
struct Sizes {
    /// Files per batch copy, each with every number of earlier copies in `collisions`.
    batches: Vec<usize>,
    collisions: Vec<usize>,
    /// Times each batch copy is taken (its median is reported).
    batch_rounds: usize,
    /// Files of the async copy job.
    async_files: usize,
    /// Objects of each cloned folder, rounded up to whole chains of depth 3.
    clone_objects: &'static [usize],
    /// Projects holding the object `listProjects` is timed on, and the calls timed.
    holding_projects: usize,
    list_calls: usize,
    /// Concurrent connections, and the single-file copies each makes one after the other.
    connections: usize,
    copies_per_connection: usize,
    /// The file uploaded and downloaded, and the part size asked for.
    transfer_bytes: u64,
    transfer_part_size: u64,
}

impl Sizes {
    fn largest_batch(&self) -> usize {
        self.batches.iter().copied().max().unwrap_or(0)
    }

    fn full() -> Sizes {
        Sizes {
            batches: vec![100, 1_000],
            collisions: vec![0, 1, 10, 100],
            batch_rounds: 3,
            async_files: 100_000,
            clone_objects: &[10_000, 100_000],
            holding_projects: 10_000,
            list_calls: 200,
            connections: 64,
            copies_per_connection: 50,
            transfer_bytes: 1 << 30,
            transfer_part_size: 32 << 20,
        }
    }

    fn smoke() -> Sizes {
        Sizes {
            batches: vec![10, 20],
            collisions: vec![0, 1],
            batch_rounds: 1,
            async_files: 500,
            clone_objects: &[100],
            holding_projects: 50,
            list_calls: 20,
            connections: 4,
            copies_per_connection: 10,
            transfer_bytes: 12 << 20,
            transfer_part_size: 5 << 20,
        }
    }
}

pub fn run(store_args: &StoreArgs, args: BenchArgs) -> Result<(), Failure> {
    let mut sizes = if args.smoke {
        Sizes::smoke()
    } else {
        Sizes::full()
    };
    if !args.batch_files.is_empty() {
        sizes.batches.clone_from(&args.batch_files);
    }
    if !args.collisions.is_empty() {
        sizes.collisions.clone_from(&args.collisions);
    }
    let sizes = &sizes;
    let database = FreshDatabase::create(&store_args.database_url)?;
    let store = Store::open(
        &database.url,
        &database.dir.path().join("data"),
        store_args.db_pool_size,
    )
    .map_err(|e| Failure::Setup(format!("cannot open the bench database: {e}")))?;
    // The transfer rows through the bucket's presigned URLs with --content-store.
    let store = crate::serve::with_content_store(
        store,
        &database.dir.path().join("data"),
        store_args.content_store.as_deref(),
    )?;
    store
        .migrate()
        .map_err(|e| Failure::Setup(format!("cannot migrate the bench database: {e}")))?;
    let server = BenchServer::start(&store)?;
    let report =
        Bench::new(&store, &server.base_url, sizes, &args.only).and_then(|mut bench| bench.run());
    server.stop();
    print!("{}", table(store.backend(), &report?));
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
/// `ferry serve` serves it (the async job starts its own job workers).
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
        let mut config = ApiConfig::new(&base_url);
        // The bench measures copies, not the limiter: requests are still counted, never refused.
        config.sbg_rate_limit = RateLimit::UNLIMITED;
        config.dx_rate_limit = RateLimit::UNLIMITED;
        let state = AppState::new(store.clone(), config);
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

/// One row of the table.
struct Row {
    measurement: String,
    size: String,
    /// Ferry's figure as it reads best: files/s, objects/s, p50 and p99, ...
    figure: String,
    /// Where Ferry writes rows: its time against the floor's for as many rows.
    against_floor: Option<AgainstFloor>,
}

struct AgainstFloor {
    rows: usize,
    ferry: Duration,
    floor: Duration,
}

impl AgainstFloor {
    fn micros_per_row(&self, d: Duration) -> f64 {
        d.as_secs_f64() * 1e6 / self.rows as f64
    }
}

/// The table's rows, and Ferry's cost per file by number of files copied (batch copies
/// without collisions and the async job), for the line on flatness under the table.
struct Report {
    rows: Vec<Row>,
    per_file: Vec<(usize, f64)>,
    transfers: Vec<transfer::Transfer>,
}

impl Report {
    /// Adds the row; `copies_files` if its cost per file belongs on the line on flatness.
    fn push(&mut self, row: Row, copies_files: bool) {
        if let Some(cost) = row.against_floor.as_ref().filter(|_| copies_files) {
            self.per_file
                .push((cost.rows, cost.micros_per_row(cost.ferry)));
        }
        self.rows.push(row);
    }
}

/// Whether `measurement` is among those asked for (`--only`; every one when none is named).
fn takes(only: &[Measurement], measurement: Measurement) -> bool {
    only.is_empty() || only.contains(&measurement)
}

pub(crate) fn work(e: impl std::fmt::Display) -> Failure {
    Failure::Work(e.to_string())
}

/// Everything the measurements share: the store, the caller, the sources, the floor.
struct Bench<'a> {
    store: &'a Store,
    sizes: &'a Sizes,
    /// The measurements to take; every one when empty.
    only: &'a [Measurement],
    conn: PooledConnection<DbManager>,
    user: User,
    billing_group_id: i64,
    api: Api,
    content: ContentInfo,
    /// SBG ids of closed files in the root of one project, as many as any measurement copies.
    sources: Vec<String>,
    /// Where the floor writes, and how many rows it wrote there so far (their ids are unique).
    floor_at: (i64, i64),
    floor_written: usize,
}

impl<'a> Bench<'a> {
    fn new(
        store: &'a Store,
        base_url: &str,
        sizes: &'a Sizes,
        only: &'a [Measurement],
    ) -> Result<Bench<'a>, Failure> {
        let mut conn = store.conn().map_err(work)?;
        let (user, billing_group_id, token) = seed_user(&mut conn, "bench")?;
        let content = store.content().put_bytes(b"bench\n").map_err(work)?;
        // The warm-up copies the largest batch whatever is measured.
        let mut copied = sizes.largest_batch();
        if takes(only, Measurement::AsyncCopy) {
            copied = copied.max(sizes.async_files);
        }
        if takes(only, Measurement::ConcurrentCopies) {
            copied = copied.max(sizes.connections * sizes.copies_per_connection);
        }
        let source =
            projects::create(&mut conn, &user, "source", "", billing_group_id).map_err(work)?;
        let sources = seed_sources(&mut conn, &user, &source, &content, copied)?
            .into_iter()
            .map(|(sbg_id, _)| sbg_id)
            .collect();
        let floor =
            projects::create(&mut conn, &user, "floor", "", billing_group_id).map_err(work)?;
        let floor_folder =
            folders::ensure_path(&mut conn, floor.id, &FolderPath::root()).map_err(work)?;
        Ok(Bench {
            store,
            sizes,
            only,
            conn,
            user,
            billing_group_id,
            api: Api {
                http: reqwest::blocking::Client::new(),
                base_url: base_url.to_owned(),
                token,
            },
            content,
            sources,
            floor_at: (floor.id, floor_folder.id),
            floor_written: 0,
        })
    }

    fn run(&mut self) -> Result<Report, Failure> {
        // One untimed round of each, so that no figure pays for cold connections and caches.
        let largest = self.sizes.largest_batch();
        let warm_up = self.new_project("warm-up")?;
        self.api
            .copy_batch(warm_up.sbg_id.as_ref(), &self.sources[..largest])?;
        self.floor(largest)?;
        settle(&mut self.conn)?;

        let mut report = Report {
            rows: Vec::new(),
            per_file: Vec::new(),
            transfers: Vec::new(),
        };
        if self.takes(Measurement::BatchCopy) {
            for &batch in &self.sizes.batches {
                for &collisions in &self.sizes.collisions {
                    let row = self.batch_copy(batch, collisions)?;
                    report.push(row, collisions == 0);
                }
            }
        }
        if self.takes(Measurement::AsyncCopy) {
            let row = self.async_copy()?;
            report.push(row, true);
        }
        if self.takes(Measurement::Clone) {
            for &objects in self.sizes.clone_objects {
                let row = self.clone_folder(objects)?;
                report.push(row, false);
            }
        }
        if self.takes(Measurement::ListProjects) {
            let row = self.list_projects()?;
            report.push(row, false);
        }
        if self.takes(Measurement::ConcurrentCopies) {
            let row = self.concurrent_copies()?;
            report.push(row, false);
        }
        if self.takes(Measurement::Transfer) {
            let project = self.new_project("transfer")?;
            let dir = self.store.content().root().join("bench-transfer");
            std::fs::create_dir_all(&dir).map_err(work)?;
            report.transfers = transfer::measure(
                &self.api,
                self.store.content(),
                project.sbg_id.as_ref(),
                &dir,
                self.sizes.transfer_bytes,
                self.sizes.transfer_part_size,
            )?;
        }
        Ok(report)
    }

    fn takes(&self, measurement: Measurement) -> bool {
        takes(self.only, measurement)
    }

    fn new_project(&mut self, name: &str) -> Result<Project, Failure> {
        projects::create(&mut self.conn, &self.user, name, "", self.billing_group_id).map_err(work)
    }

    /// Writes `rows` more rows of the floor; returns how long they took.
    fn floor(&mut self, rows: usize) -> Result<Duration, Failure> {
        let took = floor_insert(
            &mut self.conn,
            self.user.id,
            self.floor_at,
            &self.content,
            self.floor_written,
            rows,
        )
        .map_err(work)?;
        self.floor_written += rows;
        Ok(took)
    }

    /// A row of `rows` rows written by Ferry in `ferry`, with `figure` saying it Ferry's way.
    fn row(
        &mut self,
        measurement: String,
        size: String,
        figure: String,
        rows: usize,
        ferry: Duration,
    ) -> Result<Row, Failure> {
        let floor = self.floor(rows)?;
        Ok(Row {
            measurement,
            size,
            figure,
            against_floor: Some(AgainstFloor { rows, ferry, floor }),
        })
    }

    /// One `POST /v2/action/files/copy` of `batch` files into a project where each name is
    /// already taken by `collisions` earlier copies; taken `batch_rounds` times, each into a
    /// project of its own and each with a floor of as many rows, and reported by the medians.
    fn batch_copy(&mut self, batch: usize, collisions: usize) -> Result<Row, Failure> {
        let rounds = self.sizes.batch_rounds;
        let (mut ferry, mut floor) = (Vec::new(), Vec::new());
        for round in 1..=rounds {
            let destination = self.new_project(&format!("copy {batch} k{collisions} {round}"))?;
            let destination = destination.sbg_id.as_ref();
            let file_ids = &self.sources[..batch];
            // The k earlier copies, through the same API, so their names are the API's.
            for _ in 0..collisions {
                self.api.copy_batch(destination, file_ids)?;
            }
            settle(&mut self.conn)?;
            let started = Instant::now();
            self.api.copy_batch(destination, file_ids)?;
            ferry.push(started.elapsed());
            floor.push(self.floor(batch)?);
        }
        let (ferry, floor) = (median(ferry), median(floor));
        Ok(Row {
            measurement: format!("batch copy, {}", collisions_label(collisions)),
            size: format!("{} files, median of {rounds}", thousands(batch)),
            figure: rate(batch, ferry, "files/s"),
            against_floor: Some(AgainstFloor {
                rows: batch,
                ferry,
                floor,
            }),
        })
    }

    /// `POST /v2/async/files/copy` of one item per file into a project's root, worked by job
    /// workers started once it is submitted (so that none is idling in its back-off), timed
    /// until the job is seen finished. The peak RSS is the process's high-water mark, reset
    /// just before the submission.
    fn async_copy(&mut self) -> Result<Row, Failure> {
        let files = self.sizes.async_files;
        let destination = self.new_project("async")?;
        let items: Vec<Value> = self.sources[..files]
            .iter()
            .map(|file| json!({ "file": file, "project": destination.sbg_id.as_ref() }))
            .collect();
        let rss_before = Memory::reset_peak();
        let started = Instant::now();
        let job = self
            .api
            .post("/v2/async/files/copy", &json!({ "items": items }))?;
        let job_id = job["id"]
            .as_str()
            .ok_or_else(|| work(format!("the job has no id: {job}")))?
            .to_owned();
        let settings = JobSettings {
            workers: JOB_WORKERS,
            retention: chrono::TimeDelta::days(1),
            audit_retention: chrono::TimeDelta::days(1),
            upload_expiry: chrono::TimeDelta::days(1),
            content_grace: Duration::from_secs(3600),
        };
        let workers = JobWorkers::start(self.store, settings).map_err(work)?;
        let finished = self.wait_for_job(&job_id);
        let took = started.elapsed();
        workers.stop();
        let job = finished?;
        let peak = Memory::peak();
        if job.completed_items != i64::try_from(files).map_err(work)? || job.failed_items != 0 {
            return Err(work(format!(
                "the async job copied {} files and failed {} of {files}",
                job.completed_items, job.failed_items
            )));
        }
        let figure = format!(
            "{}; peak RSS {} (RSS before: {})",
            rate(files, took, "files/s"),
            Memory::show(peak),
            Memory::show(rss_before),
        );
        self.row(
            format!("async copy job, {JOB_WORKERS} job workers"),
            format!("{} files", thousands(files)),
            figure,
            files,
            took,
        )
    }

    fn wait_for_job(&mut self, job_id: &str) -> Result<jobs::Job, Failure> {
        let deadline = Instant::now() + JOB_DEADLINE;
        loop {
            let job = jobs::get(&mut self.conn, job_id)
                .map_err(work)?
                .ok_or_else(|| work(format!("job {job_id} is gone")))?;
            if job.state == JobState::Finished {
                return Ok(job);
            }
            if Instant::now() > deadline {
                return Err(work(format!(
                    "job {job_id} is still {} after {JOB_DEADLINE:?}",
                    job.state.as_str()
                )));
            }
            std::thread::sleep(JOB_POLL);
        }
    }

    /// `POST /{source}/clone` of the folder `/f` of a project whose `objects` objects are
    /// chains of depth 3: a visible record in `/f` linking a hidden record linking another.
    fn clone_folder(&mut self, objects: usize) -> Result<Row, Failure> {
        let chains = objects.div_ceil(3);
        let objects = chains * 3;
        let source = self.new_project(&format!("clone {objects} source"))?;
        let destination = self.new_project(&format!("clone {objects} destination"))?;
        seed_chains(&mut self.conn, self.user.id, &source, chains)?;
        settle(&mut self.conn)?;
        let started = Instant::now();
        let cloned = self.api.dx(
            source.dx_id.as_str(),
            "clone",
            &json!({
                "project": destination.dx_id.as_str(),
                "folders": ["/f"],
                "destination": "/",
            }),
        )?;
        let took = started.elapsed();
        let placed: i64 = schema::placements::table
            .filter(schema::placements::project_id.eq(destination.id))
            .count()
            .get_result(&mut *self.conn)
            .map_err(work)?;
        if cloned["exists"] != json!([]) || usize::try_from(placed).ok() != Some(objects) {
            return Err(work(format!(
                "the clone placed {placed} of {objects} objects: {cloned}"
            )));
        }
        self.row(
            "clone of a folder, hidden-link chains of depth 3".to_owned(),
            format!("{} objects", thousands(objects)),
            rate(objects, took, "objects/s"),
            objects,
            took,
        )
    }

    /// `POST /{file}/listProjects`, one call after the other, on a file placed in
    /// `holding_projects` projects of the caller.
    fn list_projects(&mut self) -> Result<Row, Failure> {
        let projects = self.sizes.holding_projects;
        let file = self.sources[0].clone();
        let (_, object) =
            files::get_placement_by_sbg_id(&mut self.conn, &SbgId::parse(&file).map_err(work)?)
                .map_err(work)?
                .ok_or_else(|| work(format!("source {file} is gone")))?;
        // The source project, the warm-up's, the batch copies' and the async job's hold it too.
        let already = holders(&mut self.conn, object.id)?;
        seed_holders(
            &mut self.conn,
            self.user.id,
            self.billing_group_id,
            object.id,
            projects.saturating_sub(already),
        )?;
        let holding = holders(&mut self.conn, object.id)?;
        settle(&mut self.conn)?;
        let path = format!("/{}/listProjects", object.dx_id);
        let call = || -> Result<Duration, Failure> {
            let started = Instant::now();
            let answer = self.api.post_for_bytes(&path, &json!({}))?;
            // As a typed client reads it: the ids and levels borrowed from the body, not a
            // `Value` of 10,000 entries.
            let listed: HashMap<&str, &str> =
                serde_json::from_slice(answer.as_ref()).map_err(work)?;
            let took = started.elapsed();
            let count = listed.len();
            if count != holding {
                return Err(work(format!(
                    "listProjects listed {count} of {holding} projects"
                )));
            }
            Ok(took)
        };
        call()?;
        let latencies = (0..self.sizes.list_calls)
            .map(|_| call())
            .collect::<Result<Latencies, _>>()?;
        Ok(Row {
            measurement: format!(
                "listProjects of an object, {} calls one after the other",
                self.sizes.list_calls
            ),
            size: format!("{} projects", thousands(holding)),
            figure: latencies.p50_p99(),
            against_floor: None,
        })
    }

    /// `POST /v2/files/{id}/actions/copy` from `connections` threads at once, each copying its
    /// own files one after the other into the root of one project.
    fn concurrent_copies(&mut self) -> Result<Row, Failure> {
        let (connections, each) = (self.sizes.connections, self.sizes.copies_per_connection);
        let copies = connections * each;
        let destination = self.new_project("concurrent")?;
        let project = destination.sbg_id.as_ref();
        let start = Barrier::new(connections + 1);
        let (latencies, took) = std::thread::scope(|scope| {
            let threads: Vec<_> = self.sources[..copies]
                .chunks(each)
                .map(|files| {
                    let (api, start) = (&self.api, &start);
                    scope.spawn(move || {
                        start.wait();
                        files
                            .iter()
                            .map(|file| {
                                let started = Instant::now();
                                api.post(
                                    &format!("/v2/files/{file}/actions/copy"),
                                    &json!({ "project": project }),
                                )?;
                                Ok(started.elapsed())
                            })
                            .collect::<Result<Vec<Duration>, Failure>>()
                    })
                })
                .collect();
            start.wait();
            let started = Instant::now();
            let mut latencies = Vec::with_capacity(copies);
            for thread in threads {
                let joined = thread
                    .join()
                    .map_err(|_| work("a copying thread panicked"))?;
                latencies.extend(joined?);
            }
            Ok::<_, Failure>((Latencies::from_iter(latencies), started.elapsed()))
        })?;
        self.row(
            format!("single-file copies, {connections} concurrent connections"),
            format!("{} files", thousands(copies)),
            format!(
                "{}; {}",
                rate(copies, took, "requests/s"),
                latencies.p50_p99()
            ),
            copies,
            took,
        )
    }
}

/// Request latencies, summarised by their 50th and 99th percentiles (nearest rank).
struct Latencies(Vec<Duration>);

impl FromIterator<Duration> for Latencies {
    fn from_iter<I: IntoIterator<Item = Duration>>(iter: I) -> Self {
        let mut sorted: Vec<Duration> = iter.into_iter().collect();
        sorted.sort();
        Latencies(sorted)
    }
}

impl Latencies {
    fn percentile(&self, p: usize) -> Duration {
        let rank = (self.0.len() * p).div_ceil(100).max(1);
        self.0.get(rank - 1).copied().unwrap_or_default()
    }

    fn p50_p99(&self) -> String {
        let ms = |d: Duration| d.as_secs_f64() * 1e3;
        format!(
            "p50 {:.2} ms, p99 {:.2} ms",
            ms(self.percentile(50)),
            ms(self.percentile(99))
        )
    }
}

/// This process's resident memory, from `/proc/self/status` (Linux); `None` elsewhere.
struct Memory;

impl Memory {
    /// Resets the high-water mark to the current RSS (`clear_refs` 5, Linux 4.0 and later)
    /// and returns the current RSS in kB.
    fn reset_peak() -> Option<u64> {
        // Where the reset is refused the peak includes what came before; the RSS shows it.
        let _ = std::fs::write("/proc/self/clear_refs", "5");
        Memory::status_kb("VmRSS:")
    }

    /// The peak RSS in kB since the last reset.
    fn peak() -> Option<u64> {
        Memory::status_kb("VmHWM:")
    }

    fn status_kb(field: &str) -> Option<u64> {
        Memory::field_kb(&std::fs::read_to_string("/proc/self/status").ok()?, field)
    }

    /// `field` of a `/proc/<pid>/status` text, in kB: `VmHWM:\t  1234 kB` -> 1234.
    fn field_kb(status: &str, field: &str) -> Option<u64> {
        let line = status.lines().find(|line| line.starts_with(field))?;
        line[field.len()..]
            .trim()
            .trim_end_matches("kB")
            .trim()
            .parse()
            .ok()
    }

    fn show(kb: Option<u64>) -> String {
        kb.map_or_else(|| "unknown".to_owned(), |kb| format!("{} MB", kb / 1024))
    }
}

/// The middle one (the upper of the two middle ones of an even count).
fn median(mut durations: Vec<Duration>) -> Duration {
    durations.sort_unstable();
    durations[durations.len() / 2]
}

fn rate(count: usize, took: Duration, unit: &str) -> String {
    format!("{:.0} {unit}", count as f64 / took.as_secs_f64())
}

/// `12,345`.
fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, digit) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(digit);
    }
    out
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
/// The user `name` with their personal billing group and a token labelled `name`, written
/// directly; returns the user, the billing group's id and the token's secret.
pub(crate) fn seed_user(
    conn: &mut DbConnection,
    name: &str,
) -> Result<(User, i64, String), Failure> {
    let user =
        users::create(conn, &Username::parse(name).map_err(work)?, name, None).map_err(work)?;
    let billing_group_id = billing::personal(conn, user.id).map_err(work)?.id;
    let (_, token) = tokens::create(conn, user.id, Some(name), None).map_err(work)?;
    Ok((user, billing_group_id, token))
}

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

/// The time as the store writes it: UTC, to the microsecond.
fn now() -> NaiveDateTime {
    Utc::now().naive_utc().trunc_subsecs(6)
}

/// A record to seed, placed in one folder.
struct SeedRecord {
    dx_id: DxId,
    hidden: bool,
    /// The record it links to, if any.
    link: Option<DxId>,
    folder_id: i64,
    name: String,
}

/// `chains` chains of depth 3 in `project`, in one transaction of multi-row INSERTs: a
/// visible record in `/f` linking a hidden record in `/hidden`, which links another there.
fn seed_chains(
    conn: &mut DbConnection,
    user_id: i64,
    project: &Project,
    chains: usize,
) -> Result<(), Failure> {
    let folder = |conn: &mut DbConnection, path: &str| {
        let path = FolderPath::parse(path).map_err(work)?;
        Ok::<_, Failure>(
            folders::ensure_path(conn, project.id, &path)
                .map_err(work)?
                .id,
        )
    };
    let (visible, hidden) = (folder(conn, "/f")?, folder(conn, "/hidden")?);
    let mut records = Vec::with_capacity(chains * 3);
    for i in 0..chains {
        let last = DxId::generate(DxClass::Record);
        let middle = DxId::generate(DxClass::Record);
        records.push(SeedRecord {
            dx_id: DxId::generate(DxClass::Record),
            hidden: false,
            link: Some(middle.clone()),
            folder_id: visible,
            name: format!("head-{i}"),
        });
        records.push(SeedRecord {
            dx_id: middle,
            hidden: true,
            link: Some(last.clone()),
            folder_id: hidden,
            name: format!("middle-{i}"),
        });
        records.push(SeedRecord {
            dx_id: last,
            hidden: true,
            link: None,
            folder_id: hidden,
            name: format!("last-{i}"),
        });
    }
    conn.transaction(|conn| insert_records(conn, user_id, project.id, &records))
        .map_err(work)
}

/// The records, their placements and their links, 1,000 rows per INSERT.
fn insert_records(
    conn: &mut DbConnection,
    user_id: i64,
    project_id: i64,
    records: &[SeedRecord],
) -> Result<(), StoreError> {
    use schema::{object_links as l, objects as o, placements as p};
    let now = now();
    for chunk in records.chunks(ROWS_PER_INSERT) {
        let objects: Vec<_> = chunk
            .iter()
            .map(|record| {
                let details = match &record.link {
                    Some(target) => json!({ "link": { "$dnanexus_link": target.as_str() } }),
                    None => json!({}),
                };
                (
                    o::dx_id.eq(record.dx_id.as_str()),
                    o::class.eq(DxClass::Record.as_str()),
                    o::state.eq("closed"),
                    o::hidden.eq(record.hidden),
                    o::details.eq(details.to_string()),
                    o::types.eq("[]"),
                    o::size.eq(0_i64),
                    o::created_at.eq(now),
                    o::created_by_user_id.eq(user_id),
                    o::modified_at.eq(now),
                )
            })
            .collect();
        let ids: HashMap<String, i64> =
            each_backend!(&mut *conn, |c| diesel::insert_into(o::table)
                .values(&objects)
                .returning((o::dx_id, o::id))
                .get_results::<(String, i64)>(c))?
            .into_iter()
            .collect();
        let id_of = |record: &SeedRecord| {
            ids.get(record.dx_id.as_str())
                .copied()
                .ok_or_else(|| StoreError::Corrupt(format!("{} was not inserted", record.dx_id)))
        };
        let placements = chunk
            .iter()
            .map(|record| {
                Ok((
                    p::sbg_id.eq(SbgId::generate().to_string()),
                    p::object_id.eq(id_of(record)?),
                    p::project_id.eq(project_id),
                    p::folder_id.eq(record.folder_id),
                    p::name.eq(record.name.as_str()),
                    p::name_stem.eq(record.name.as_str()),
                    p::tags.eq("[]"),
                    p::properties.eq("{}"),
                    p::metadata.eq("{}"),
                    p::created_at.eq(now),
                    p::modified_at.eq(now),
                ))
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        each_backend!(&mut *conn, |c| diesel::insert_into(p::table)
            .values(&placements)
            .execute(c))?;
        let links = chunk
            .iter()
            .filter_map(|record| record.link.as_ref().map(|target| (record, target)))
            .map(|(record, target)| {
                Ok((
                    l::object_id.eq(id_of(record)?),
                    l::target_dx_id.eq(target.as_str()),
                ))
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        each_backend!(&mut *conn, |c| diesel::insert_into(l::table)
            .values(&links)
            .execute(c))?;
    }
    Ok(())
}

/// How many projects hold the object.
fn holders(conn: &mut DbConnection, object_id: i64) -> Result<usize, Failure> {
    let count: i64 = schema::placements::table
        .filter(schema::placements::object_id.eq(object_id))
        .count()
        .get_result(conn)
        .map_err(work)?;
    usize::try_from(count).map_err(work)
}

/// On PostgreSQL, `ANALYZE` of the tables the measurements read, after their data is written
/// and before they are timed: autovacuum does as much within a minute or so of a bulk write
/// in a running database, and the bench writes 100,000 rows in seconds. Without it the
/// planner costs queries on the statistics of nearly empty tables (or none) and can choose a
/// sequential scan of `placements` for 900 ids (docs/performance.md). SQLite has no
/// automatic statistics and Ferry never gathers them, so nothing is done there.
fn settle(conn: &mut DbConnection) -> Result<(), Failure> {
    match conn {
        DbConnection::Pg(c) => {
            diesel::sql_query(
                "ANALYZE placements, objects, object_links, folders, projects, project_members",
            )
            .execute(c)
            .map_err(work)?;
        }
        DbConnection::Sqlite(_) => {}
    }
    Ok(())
}

/// `count` new projects of the user, each with its root folder, the user as administrator,
/// and the object placed in the root, in one transaction of multi-row INSERTs.
fn seed_holders(
    conn: &mut DbConnection,
    user_id: i64,
    billing_group_id: i64,
    object_id: i64,
    count: usize,
) -> Result<(), Failure> {
    use schema::{folders as f, placements as p, project_members as m, projects as pr};
    let now = now();
    let root = FolderPath::root();
    let root_digest = folders::path_digest(&root);
    let numbers: Vec<usize> = (0..count).collect();
    conn.transaction(|conn| {
        for chunk in numbers.chunks(ROWS_PER_INSERT) {
            let new_projects: Vec<_> = chunk
                .iter()
                .map(|n| {
                    (
                        pr::dx_id.eq(DxId::generate(DxClass::Project).to_string()),
                        pr::owner_user_id.eq(user_id),
                        pr::slug.eq(format!("holder-{n}")),
                        pr::name.eq(format!("holder {n}")),
                        pr::description.eq(""),
                        pr::billing_group_id.eq(billing_group_id),
                        pr::tags.eq("[]"),
                        pr::settings.eq("{}"),
                        pr::created_at.eq(now),
                        pr::modified_at.eq(now),
                    )
                })
                .collect();
            let project_ids: Vec<(i64, String)> =
                each_backend!(&mut *conn, |c| diesel::insert_into(pr::table)
                    .values(&new_projects)
                    .returning((pr::id, pr::dx_id))
                    .get_results(c))?;
            let roots: Vec<_> = project_ids
                .iter()
                .map(|&(project_id, _)| {
                    (
                        f::sbg_id.eq(SbgId::generate().to_string()),
                        f::project_id.eq(project_id),
                        f::path.eq(root.as_str()),
                        f::path_digest.eq(root_digest.as_str()),
                        f::name.eq(""),
                        f::created_at.eq(now),
                        f::modified_at.eq(now),
                    )
                })
                .collect();
            let root_ids: Vec<(i64, i64)> =
                each_backend!(&mut *conn, |c| diesel::insert_into(f::table)
                    .values(&roots)
                    .returning((f::project_id, f::id))
                    .get_results(c))?;
            let members: Vec<_> = project_ids
                .iter()
                .map(|(project_id, project_dx_id)| {
                    (
                        m::project_id.eq(project_id),
                        m::project_dx_id.eq(project_dx_id),
                        m::user_id.eq(user_id),
                        m::level.eq(Level::Administer.as_i16()),
                        m::can_copy.eq(true),
                        m::can_execute.eq(true),
                        m::created_at.eq(now),
                    )
                })
                .collect();
            each_backend!(&mut *conn, |c| diesel::insert_into(m::table)
                .values(&members)
                .execute(c))?;
            let placed: Vec<_> = root_ids
                .iter()
                .map(|&(project_id, folder_id)| {
                    (
                        p::sbg_id.eq(SbgId::generate().to_string()),
                        p::object_id.eq(object_id),
                        p::project_id.eq(project_id),
                        p::folder_id.eq(folder_id),
                        p::name.eq("held.txt"),
                        p::name_stem.eq("held.txt"),
                        p::tags.eq("[]"),
                        p::properties.eq("{}"),
                        p::metadata.eq("{}"),
                        p::created_at.eq(now),
                        p::modified_at.eq(now),
                    )
                })
                .collect();
            each_backend!(&mut *conn, |c| diesel::insert_into(p::table)
                .values(&placed)
                .execute(c))?;
        }
        Ok::<_, StoreError>(())
    })
    .map_err(work)
}

/// Ferry's HTTP API as the bench calls it, as one user.
struct Api {
    http: reqwest::blocking::Client,
    base_url: String,
    token: String,
}

impl Api {
    /// POSTs `body` to `path`; fails unless the answer is a success, whose JSON it returns.
    fn post(&self, path: &str, body: &Value) -> Result<Value, Failure> {
        let answer = self.post_for_bytes(path, body)?;
        serde_json::from_slice(answer.as_ref())
            .map_err(|e| work(format!("POST {path} answered: {e}")))
    }

    /// POSTs `body` to `path`; fails unless the answer is a success, whose body it returns.
    fn post_for_bytes(
        &self,
        path: &str,
        body: &Value,
    ) -> Result<impl AsRef<[u8]> + use<>, Failure> {
        let response = self
            .http
            .post(format!("{}{path}", self.base_url))
            .header("X-SBG-Auth-Token", &self.token)
            .json(body)
            .send()
            .map_err(work)?;
        let status = response.status();
        let answer = response.bytes().map_err(work)?;
        if !status.is_success() {
            return Err(work(format!(
                "POST {path} answered {status}: {}",
                String::from_utf8_lossy(&answer)
            )));
        }
        Ok(answer)
    }

    /// GETs `path`; fails unless the answer is a success, whose JSON it returns.
    fn get(&self, path: &str) -> Result<Value, Failure> {
        let response = self
            .http
            .get(format!("{}{path}", self.base_url))
            .header("X-SBG-Auth-Token", &self.token)
            .send()
            .map_err(work)?;
        let status = response.status();
        let answer: Value = response.json().map_err(work)?;
        if !status.is_success() {
            return Err(work(format!("GET {path} answered {status}: {answer}")));
        }
        Ok(answer)
    }

    /// A DNAnexus call, `POST /{target}/{method}`.
    fn dx(&self, target: &str, method: &str, input: &Value) -> Result<Value, Failure> {
        self.post(&format!("/{target}/{method}"), input)
    }

    /// `POST /v2/action/files/copy` of `file_ids` into the root of `project`; fails unless
    /// every file was copied.
    fn copy_batch(&self, project: &str, file_ids: &[String]) -> Result<(), Failure> {
        let outcomes = self.post(
            "/v2/action/files/copy",
            &json!({ "project": project, "file_ids": file_ids }),
        )?;
        let copied = outcomes.as_object().map_or(0, |outcomes| {
            outcomes
                .values()
                .filter(|outcome| outcome["status"] == "OK")
                .count()
        });
        if copied != file_ids.len() {
            return Err(work(format!(
                "the batch copy copied {copied} of {} files",
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
        for chunk in numbers.chunks(ROWS_PER_INSERT) {
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

/// The one table, in Markdown so that it can be pasted into docs/performance.md, and the line
/// on the cost per file from the smallest copy to the largest.
fn table(backend: Backend, report: &Report) -> String {
    let mut out = format!(
        "Ferry bench on {backend} (floor: the same number of object and placement rows by \
         multi-row INSERTs of {ROWS_PER_INSERT} rows in one transaction)\n\n\
         | measurement | size | Ferry | Ferry µs/row | floor µs/row | Ferry / floor |\n\
         | --- | --- | --- | ---: | ---: | ---: |\n"
    );
    for row in &report.rows {
        let against_floor = row.against_floor.as_ref().map_or_else(
            || "— | — | —".to_owned(),
            |cost| {
                format!(
                    "{:.1} | {:.1} | {:.2}",
                    cost.micros_per_row(cost.ferry),
                    cost.micros_per_row(cost.floor),
                    cost.ferry.as_secs_f64() / cost.floor.as_secs_f64(),
                )
            },
        );
        let _ = writeln!(
            out,
            "| {} | {} | {} | {against_floor} |",
            row.measurement, row.size, row.figure
        );
    }
    out.push_str(&transfer_table(&report.transfers));
    if report.per_file.is_empty() {
        return out;
    }
    let costs: Vec<f64> = report.per_file.iter().map(|&(_, cost)| cost).collect();
    let (min, max) = costs
        .iter()
        .fold((f64::INFINITY, 0.0_f64), |(min, max), &c| {
            (min.min(c), max.max(c))
        });
    let sizes: Vec<String> = report
        .per_file
        .iter()
        .map(|&(files, cost)| format!("{} files {cost:.1} µs", thousands(files)))
        .collect();
    let _ = writeln!(
        out,
        "\nCost per file copied (batch copies without collisions, async job): {}; \
         max / min {:.2}",
        sizes.join(", "),
        max / min
    );
    out
}

/// The bytes moved through Ferry, against the same bytes copied on the same disk.
fn transfer_table(transfers: &[transfer::Transfer]) -> String {
    if transfers.is_empty() {
        return String::new();
    }
    let mut out = format!(
        "\nBytes through Ferry (floor: {})\n\n\
         | measurement | size | Ferry | floor | Ferry / floor | peak RSS growth |\n\
         | --- | --- | ---: | ---: | ---: | ---: |\n",
        transfers[0].floor_kind
    );
    for t in transfers {
        let rate = |d: Duration| t.bytes as f64 / d.as_secs_f64() / f64::from(1 << 20);
        let _ = writeln!(
            out,
            "| {} | {} MiB | {:.0} ms ({:.0} MiB/s) | {:.0} ms ({:.0} MiB/s) | {:.2} | {} |",
            t.measurement,
            t.bytes >> 20,
            t.ferry.as_secs_f64() * 1e3,
            rate(t.ferry),
            t.floor.as_secs_f64() * 1e3,
            rate(t.floor),
            t.ferry.as_secs_f64() / t.floor.as_secs_f64(),
            Memory::show(t.rss_growth_kb),
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_median_is_the_middle_duration() {
        let ms = Duration::from_millis;
        assert_eq!(median(vec![ms(9), ms(1), ms(5)]), ms(5));
        assert_eq!(median(vec![ms(7)]), ms(7));
    }

    #[test]
    fn percentiles_are_nearest_rank() {
        let latencies: Latencies = (1..=200).rev().map(Duration::from_millis).collect();
        assert_eq!(latencies.percentile(50), Duration::from_millis(100));
        assert_eq!(latencies.percentile(99), Duration::from_millis(198));
        let one: Latencies = [Duration::from_millis(7)].into_iter().collect();
        assert_eq!(one.percentile(50), Duration::from_millis(7));
        assert_eq!(one.percentile(99), Duration::from_millis(7));
        assert_eq!(one.p50_p99(), "p50 7.00 ms, p99 7.00 ms");
    }

    #[test]
    fn memory_fields_are_read_in_kb() {
        let status = "Name:\tferry\nVmHWM:\t   40960 kB\nVmRSS:\t   31744 kB\n";
        assert_eq!(Memory::field_kb(status, "VmHWM:"), Some(40_960));
        assert_eq!(Memory::field_kb(status, "VmRSS:"), Some(31_744));
        assert_eq!(Memory::field_kb(status, "VmSwap:"), None);
        assert_eq!(Memory::show(Some(40_960)), "40 MB");
        assert_eq!(Memory::show(None), "unknown");
    }

    #[test]
    fn thousands_are_separated() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(100), "100");
        assert_eq!(thousands(1_000), "1,000");
        assert_eq!(thousands(100_002), "100,002");
        assert_eq!(thousands(1_234_567), "1,234,567");
    }
}
