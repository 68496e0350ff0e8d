//! The async copy job: one `POST /v2/async/files/copy` of one item per file, worked by job
//! workers in this process.

use std::time::{Duration, Instant};

use ferry_domain::ids::JobId;
use ferry_store::jobs::{self, JobState};
use ferry_usecases::jobs::worker::{JobSettings, JobWorkers};
use serde_json::{Value, json};

use super::Bench;
use super::figures::{rate, thousands};
use super::memory::Memory;
use super::report::Row;
use crate::{Failure, work};

/// Job worker threads for the async job: `ferry serve`'s default.
const JOB_WORKERS: usize = 2;
/// How long the async job may take before the bench gives up.
const JOB_DEADLINE: Duration = Duration::from_secs(600);
const JOB_POLL: Duration = Duration::from_millis(10);

impl Bench<'_> {
    /// `POST /v2/async/files/copy` of one item per file into a project's root, worked by job
    /// workers started once it is submitted (so that none is idling in its back-off), timed
    /// until the job is seen finished. The peak RSS is the process's high-water mark, reset
    /// just before the submission.
    pub(super) fn async_copy(&mut self) -> Result<Row, Failure> {
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
            .and_then(|id| JobId::parse(id).ok())
            .ok_or_else(|| work(format!("the job has no id: {job}")))?;
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

    fn wait_for_job(&mut self, job_id: &JobId) -> Result<jobs::Job, Failure> {
        let deadline = Instant::now() + JOB_DEADLINE;
        loop {
            let job = jobs::get(self.conn, job_id)
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
}
