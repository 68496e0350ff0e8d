//! The job workers: plain threads that claim chunks of async jobs and work them, started by
//! `ferry serve` and stopped on shutdown. Any process on the database may work any job: a
//! worker claims one chunk at a time under a lease ([`LEASE`]) and works it in one transaction
//! ([`super::copy_chunk`]), so a chunk whose worker died is taken over once the lease lapses.
//!
//! An idle worker polls the database, every 200 ms at first and backing off to once a second,
//! and purges the jobs that finished more than the retention period ago, the audit events
//! older than theirs and the SBG uploads idle for longer than the upload expiry, and runs a pass
//! of the content collector (`ferry_store::content_gc`), at most once a minute per process.
//! With an S3 content store, an idle worker also settles files left `closing` by uploads that
//! went straight to the bucket (`ferry_store::content_hashing`), one worker of a process at a
//! time; a key that fails is left alone for a minute.

use std::collections::HashMap;
use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use chrono::Utc;
use ferry_store::StoreError;
use ferry_store::{Backend, Store, audit, content_gc, content_hashing, jobs, sbg_uploads};

use super::copy_chunk::work_chunk;

/// How long a claim holds: it covers the moment between the claim and the transaction that
/// works the chunk, which then holds the chunk's row (PostgreSQL) or the write lock (SQLite).
/// A chunk claimed by a process that died is taken over after this long.
pub const LEASE: Duration = Duration::from_secs(10);
const IDLE_FIRST: Duration = Duration::from_millis(200);
const IDLE_MAX: Duration = Duration::from_secs(1);
const PURGE_EVERY: chrono::TimeDelta = chrono::TimeDelta::minutes(1);
/// How long a key whose settling failed is left alone.
const SETTLE_RETRY: Duration = Duration::from_secs(60);
/// Expired jobs deleted per purge, so that one purge stays a short transaction.
const PURGE_BATCH: i64 = 100;
/// Expired audit events deleted per purge: rows are small, and a sweep a minute outpaces any
/// plausible rate of new ones.
const AUDIT_PURGE_BATCH: i64 = 10_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct JobSettings {
    /// Worker threads in this process; 0 leaves the work to other processes.
    pub workers: usize,
    /// How long a finished job is kept.
    pub retention: chrono::TimeDelta,
    /// How long an audit event is kept.
    pub audit_retention: chrono::TimeDelta,
    /// How long an SBG multipart upload may sit idle before it is dropped.
    pub upload_expiry: chrono::TimeDelta,
    /// How long unreferenced content must go unused before the collector quarantines it.
    pub content_grace: Duration,
}

/// The running workers of this process.
#[derive(Debug)]
pub struct JobWorkers {
    stop: Arc<Stop>,
    threads: Vec<JoinHandle<()>>,
}

/// The stop signal, which also wakes idle workers at once.
#[derive(Debug, Default)]
struct Stop {
    stopped: Mutex<bool>,
    wake: Condvar,
}

impl Stop {
    /// Waits up to `timeout`; true if the workers are to stop.
    fn wait(&self, timeout: Duration) -> bool {
        let stopped = self.stopped.lock().unwrap_or_else(PoisonError::into_inner);
        let (stopped, _) = self
            .wake
            .wait_timeout_while(stopped, timeout, |stopped| !*stopped)
            .unwrap_or_else(PoisonError::into_inner);
        *stopped
    }

    fn is_set(&self) -> bool {
        *self.stopped.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn set(&self) {
        *self.stopped.lock().unwrap_or_else(PoisonError::into_inner) = true;
        self.wake.notify_all();
    }
}

impl JobWorkers {
    /// Starts `settings.workers` workers named `<pid>-<random>/<n>`, the name each claim and
    /// each item records.
    pub fn start(store: &Store, settings: JobSettings) -> Result<JobWorkers, StoreError> {
        if store.backend() == Backend::Sqlite {
            // One process works a SQLite database: any claim left is from its previous run.
            let released = store.write(None, jobs::release_claims)?;
            if released > 0 {
                tracing::info!(
                    chunks = released,
                    "resuming chunks claimed before a restart"
                );
            }
        }
        let process = format!(
            "{}-{}",
            std::process::id(),
            &uuid::Uuid::new_v4().simple().to_string()[..6]
        );
        let stop = Arc::new(Stop::default());
        let last_purge = Arc::new(AtomicI64::new(0));
        let settling = Arc::new(Mutex::new(()));
        let threads = (1..=settings.workers)
            .map(|n| {
                let worker = Worker {
                    name: format!("{process}/{n}"),
                    store: store.clone(),
                    retention: settings.retention,
                    audit_retention: settings.audit_retention,
                    upload_expiry: settings.upload_expiry,
                    content_grace: settings.content_grace,
                    stop: stop.clone(),
                    last_purge: last_purge.clone(),
                    settling: settling.clone(),
                    failed_keys: HashMap::new(),
                };
                std::thread::Builder::new()
                    .name(format!("job-worker-{n}"))
                    .spawn(move || worker.run())
            })
            .collect::<Result<_, _>>()?;
        tracing::info!(workers = settings.workers, process = %process, "job workers started");
        Ok(JobWorkers { stop, threads })
    }

    /// Stops the workers once their current chunk is committed, and waits for them.
    pub fn stop(self) {
        self.stop.set();
        for thread in self.threads {
            if thread.join().is_err() {
                tracing::error!("a job worker panicked");
            }
        }
    }
}

struct Worker {
    name: String,
    store: Store,
    retention: chrono::TimeDelta,
    audit_retention: chrono::TimeDelta,
    upload_expiry: chrono::TimeDelta,
    content_grace: Duration,
    stop: Arc<Stop>,
    /// When a worker of this process last purged, in epoch seconds.
    last_purge: Arc<AtomicI64>,
    /// Held by the worker of this process settling a file.
    settling: Arc<Mutex<()>>,
    /// Keys whose settling failed, and when.
    failed_keys: HashMap<String, Instant>,
}

impl Worker {
    fn run(mut self) {
        let mut idle = IDLE_FIRST;
        while !self.stop.is_set() {
            // A panic is a bug in one chunk: the chunk is retried after its lease, and given up
            // after a few attempts; the worker carries on with the next one.
            let worked =
                std::panic::catch_unwind(AssertUnwindSafe(|| work_one(&self.store, &self.name)))
                    .map_err(|_| "a panic".to_owned())
                    .and_then(|worked| worked.map_err(|error| error.to_string()));
            match worked {
                Ok(true) => idle = IDLE_FIRST,
                Ok(false) => {
                    if self.settle_one() {
                        idle = IDLE_FIRST;
                        continue;
                    }
                    self.purge_if_due();
                    if self.stop.wait(idle) {
                        break;
                    }
                    idle = (idle * 2).min(IDLE_MAX);
                }
                Err(error) => {
                    tracing::warn!(worker = %self.name, %error, "job chunk failed; retried after its lease");
                    if self.stop.wait(IDLE_MAX) {
                        break;
                    }
                }
            }
        }
    }

    /// Settles one closing file's content, if there is one and no other worker of this process
    /// is at it; true if one was settled.
    fn settle_one(&mut self) -> bool {
        if !self.store.content().is_remote() {
            return false;
        }
        let Ok(_held) = self.settling.try_lock() else {
            return false;
        };
        self.failed_keys.retain(|_, at| at.elapsed() < SETTLE_RETRY);
        let skip: Vec<String> = self.failed_keys.keys().cloned().collect();
        let key = match content_hashing::next_key(&self.store, &skip) {
            Ok(Some(key)) => key,
            Ok(None) => return false,
            Err(error) => {
                tracing::warn!(%error, "finding uploaded content to settle failed");
                return false;
            }
        };
        match content_hashing::settle(&self.store, key.clone()) {
            Ok(settled) => {
                tracing::info!(key = %settled.content_key, objects = settled.objects, "settled uploaded content");
                true
            }
            Err(error) => {
                // Left alone for a while, so that it does not hold up the others.
                tracing::warn!(%error, %key, "settling uploaded content failed");
                self.failed_keys.insert(key, Instant::now());
                false
            }
        }
    }

    fn purge_if_due(&self) {
        let now = Utc::now();
        let last = self.last_purge.load(Ordering::Relaxed);
        if now.timestamp() - last < PURGE_EVERY.num_seconds()
            || self
                .last_purge
                .compare_exchange(last, now.timestamp(), Ordering::Relaxed, Ordering::Relaxed)
                .is_err()
        {
            return;
        }
        let purge = || -> Result<_, StoreError> {
            let store = &self.store;
            let jobs = store.write(None, |conn| {
                jobs::purge_finished_before(conn, now - self.retention, PURGE_BATCH)
            })?;
            let events = store.write(None, |conn| {
                audit::prune_before(conn, now - self.audit_retention, AUDIT_PURGE_BATCH)
            })?;
            let expired = store.write(None, |conn| {
                sbg_uploads::expire_idle_before(conn, now - self.upload_expiry, PURGE_BATCH)
            })?;
            for (upload_id, store_upload_id) in &expired {
                // A file left here (a failed deletion) is the content collector's.
                if let Err(error) = self
                    .store
                    .content()
                    .discard_upload(upload_id, store_upload_id.as_deref())
                {
                    tracing::warn!(%error, upload = %upload_id, "deleting an expired upload's file failed");
                }
            }
            Ok((jobs, events, expired.len()))
        };
        match purge() {
            Ok((0, 0, 0)) => {}
            Ok((jobs, events, uploads)) => {
                tracing::info!(
                    jobs,
                    audit_events = events,
                    idle_uploads = uploads,
                    "purged expired jobs, events and uploads"
                );
            }
            Err(error) => tracing::warn!(%error, "purging expired jobs and events failed"),
        }
        match content_gc::collect(&self.store, self.content_grace, content_gc::QUARANTINE) {
            Ok(collected) if collected == content_gc::Collected::default() => {}
            Ok(collected) => tracing::info!(
                quarantined = collected.quarantined,
                restored = collected.restored,
                deleted = collected.deleted,
                "collected unreferenced content"
            ),
            Err(error) => tracing::warn!(%error, "collecting unreferenced content failed"),
        }
    }
}

/// Claims one chunk and works it; false if there was none to claim.
pub fn work_one(store: &Store, worker: &str) -> Result<bool, StoreError> {
    let Some(chunk_id) = store.write(None, |conn| jobs::claim(conn, worker, LEASE))? else {
        return Ok(false);
    };
    store.write(None, |conn| work_chunk(conn, worker, chunk_id))?;
    Ok(true)
}

/// Works chunks until none is left to claim; returns how many. For tests and tools that run
/// jobs without the background workers.
pub fn run_until_idle(store: &Store, worker: &str) -> Result<usize, StoreError> {
    let mut worked = 0;
    while work_one(store, worker)? {
        worked += 1;
    }
    Ok(worked)
}
