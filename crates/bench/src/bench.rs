//! `ferry bench`: Ferry's throughput and latency through the real HTTP API, held against the
//! floor, the same rows written by the plainest SQL on the same database (issue 6).
//!
//! The bench always works on a fresh database, so it never touches real data: a new SQLite
//! file in a temporary directory, or, when `--database-url` names a PostgreSQL server, a new
//! schema on it, dropped at the end. The server (and, for the async job, the job workers) runs
//! in this process on a free loopback port. What a measurement needs is seeded through the
//! store's repositories, untimed. Speed is reported, never asserted: `--smoke` only proves the
//! bench still runs.
//!
//! One file per measurement; `report` prints the table, `figures` and `memory` make its
//! figures.

use ferry_domain::row_ids::BillingGroupRowId;
use std::time::{Duration, Instant};

use clap::Args;
use ferry_domain::model::{Project, User};
use ferry_domain::path::FolderPath;
use ferry_store::{
    ContentInfo, ContentStore, DbConnection, Store, bench_support, folders, projects,
};

use crate::fresh::FreshDatabase;
use crate::seed::{seed_sources, seed_user};
use crate::{Failure, work};

use api::Api;
use report::{AgainstFloor, Report, Row};
use server::BenchServer;
use sizes::Sizes;

mod api;
mod async_copy;
mod batch_copy;
mod clone;
mod concurrent_copies;
mod figures;
mod list_projects;
mod memory;
mod report;
mod server;
mod sizes;
mod transfer;

#[derive(Debug, Args)]
pub struct BenchArgs {
    /// Small sizes, a few seconds: proves the bench runs, says nothing about speed.
    #[arg(long)]
    pub smoke: bool,
    /// Run only these measurements (comma-separated; default: every one), e.g. to profile one.
    #[arg(long, value_enum, value_delimiter = ',')]
    pub only: Vec<Measurement>,
    /// Files per batch copy, instead of the preset's (comma-separated).
    #[arg(long, value_delimiter = ',')]
    pub batch_files: Vec<usize>,
    /// Earlier copies each batch copy collides with, instead of the preset's (comma-separated).
    #[arg(long, value_delimiter = ',')]
    pub collisions: Vec<usize>,
}

/// The measurements of `ferry bench`, in the order it takes them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Measurement {
    BatchCopy,
    AsyncCopy,
    Clone,
    ListProjects,
    ConcurrentCopies,
    Transfer,
}

/// Runs the bench on a fresh database on the server `database_url` names (a temporary file
/// for `sqlite://`), with a pool of `db_pool_size` connections shared by the server and the
/// bench, and the bytes in the S3 store `content_store` names if any; prints the table.
pub fn run(
    database_url: &str,
    db_pool_size: u32,
    content_store: Option<&str>,
    args: BenchArgs,
) -> Result<(), Failure> {
    let sizes = Sizes::for_args(&args);
    let database = FreshDatabase::create(database_url)?;
    let data_dir = database.dir.path().join("data");
    let store = Store::open(&database.url, &data_dir, db_pool_size)
        .map_err(|e| Failure::Setup(format!("cannot open the bench database: {e}")))?;
    // The transfer rows go through the bucket's presigned URLs with --content-store.
    let store = match content_store {
        None => store,
        Some(url) => ContentStore::s3(&data_dir, url, &[])
            .map(|content| store.with_content(content))
            .map_err(|e| Failure::Setup(format!("cannot open the content store {url}: {e}")))?,
    };
    store
        .migrate()
        .map_err(|e| Failure::Setup(format!("cannot migrate the bench database: {e}")))?;
    let server = BenchServer::start(&store)?;
    let report = store.conn().map_err(work).and_then(|mut conn| {
        Bench::new(&store, &mut conn, &server.base_url, &sizes, &args.only)?.run()
    });
    server.stop();
    print!("{}", report::table(store.backend(), &report?));
    Ok(())
}

/// Whether `measurement` is among those asked for (`--only`; every one when none is named).
fn takes(only: &[Measurement], measurement: Measurement) -> bool {
    only.is_empty() || only.contains(&measurement)
}

/// Fresh planner statistics after a measurement's data is written and before it is timed
/// (`bench_support::analyze`: PostgreSQL only).
fn settle(conn: &mut DbConnection) -> Result<(), Failure> {
    bench_support::analyze(conn).map_err(work)
}

/// Everything the measurements share: the store, the caller, the sources, the floor.
struct Bench<'a> {
    store: &'a Store,
    /// The bench's own connection, out of the pool the server uses, for the whole run.
    conn: &'a mut DbConnection,
    sizes: &'a Sizes,
    /// The measurements to take; every one when empty.
    only: &'a [Measurement],
    user: User,
    billing_group_id: BillingGroupRowId,
    api: Api,
    content: ContentInfo,
    /// The project holding the sources.
    source: Project,
    /// SBG ids of closed files in the root of `source`, as many as any measurement copies.
    sources: Vec<String>,
    /// Where the floor writes, and how many rows it wrote there so far (their ids are unique).
    floor_at: (i64, i64),
    floor_written: usize,
}

impl<'a> Bench<'a> {
    fn new(
        store: &'a Store,
        conn: &'a mut DbConnection,
        base_url: &str,
        sizes: &'a Sizes,
        only: &'a [Measurement],
    ) -> Result<Bench<'a>, Failure> {
        let (user, billing_group_id, token) = seed_user(conn, "bench")?;
        let content = store.content().put_bytes(b"bench\n").map_err(work)?;
        // The warm-up copies the largest batch whatever is measured.
        let mut copied = sizes.largest_batch();
        if takes(only, Measurement::AsyncCopy) {
            copied = copied.max(sizes.async_files);
        }
        if takes(only, Measurement::ConcurrentCopies) {
            copied = copied.max(sizes.connections * sizes.copies_per_connection);
        }
        let source = projects::create(conn, &user, "source", "", billing_group_id).map_err(work)?;
        let sources = seed_sources(conn, &user, &source, &content, copied)?
            .into_iter()
            .map(|(sbg_id, _)| sbg_id)
            .collect();
        let floor = projects::create(conn, &user, "floor", "", billing_group_id).map_err(work)?;
        let floor_folder =
            folders::ensure_path(conn, floor.id, &FolderPath::root()).map_err(work)?;
        Ok(Bench {
            store,
            conn,
            sizes,
            only,
            user,
            billing_group_id,
            api: Api::new(base_url, token),
            content,
            source,
            sources,
            floor_at: (floor.id.get(), floor_folder.id.get()),
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
        settle(self.conn)?;

        let mut report = Report::default();
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
        projects::create(self.conn, &self.user, name, "", self.billing_group_id).map_err(work)
    }

    /// Writes `rows` more rows of the floor; returns how long they took.
    fn floor(&mut self, rows: usize) -> Result<Duration, Failure> {
        let started = Instant::now();
        bench_support::insert_floor(
            self.conn,
            self.user.id,
            self.floor_at,
            &self.content,
            self.floor_written,
            rows,
        )
        .map_err(work)?;
        let took = started.elapsed();
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
}
