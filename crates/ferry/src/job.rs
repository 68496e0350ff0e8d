//! `ferry job`: start and follow async copy jobs from the command line, reading and writing the
//! database directly (no token, no server address; the same `--database-url` as the server).
//! The work itself is done by the job workers of the `ferry serve` processes on that database.
//!
//! - `ferry job copy --user U --to OWNER/SLUG[:/folder] ID... [--wait]` submits a job as
//!   `POST /v2/async/files/copy` would, as user U, and prints its id; `--wait` then watches it.
//! - `ferry job watch ID` shows a progress bar on a terminal until the job finishes, then one
//!   summary line on stdout. Exit 0 if every item was copied, 1 if items failed or the job was
//!   cancelled (or there is no such job).

use std::time::Duration;

use clap::Subcommand;
use ferry_domain::folder_ref::FolderRef;
use ferry_domain::ids::{JobId, SbgId, SbgProjectId, Username};
use ferry_domain::path::FolderPath;
use ferry_store::jobs::{self, Job, JobOutcome, JobState, RequestedCopy};
use ferry_store::{DbConnection, Store, folders, projects, users};

use crate::Failure;
use crate::cli::StoreArgs;
use crate::progress;
use crate::serve::open_store;

/// How often `watch` reads the job.
const POLL: Duration = Duration::from_millis(200);

#[derive(Debug, Subcommand)]
pub enum JobCommand {
    /// Copy files and folders (with their trees) in the background; prints the job's id.
    Copy {
        /// The user the job runs as: it needs copy permission on the sources and write
        /// permission on the destination.
        #[arg(long)]
        user: String,
        /// The destination: OWNER/SLUG for the project's root, OWNER/SLUG:/path for an
        /// existing folder.
        #[arg(long)]
        to: String,
        /// Follow the job until it finishes, as `job watch` does.
        #[arg(long)]
        wait: bool,
        /// SBG ids of the files and folders to copy.
        #[arg(required = true)]
        sources: Vec<String>,
    },
    /// Show a job's progress until it finishes; exit 1 if items failed or it was cancelled.
    Watch { id: String },
}

pub fn run(args: &StoreArgs, command: JobCommand) -> Result<(), Failure> {
    match command {
        JobCommand::Copy {
            user,
            to,
            wait,
            sources,
        } => {
            let store = open_store(args)?;
            store.migrate().map_err(work)?;
            let job = store.write(None, |conn| submit(conn, &user, &to, &sources))?;
            println!("{}", job.public_id);
            if wait {
                watch(&store, &job.public_id)
            } else {
                Ok(())
            }
        }
        JobCommand::Watch { id } => {
            let id = JobId::parse(&id).map_err(|e| Failure::Work(format!("no job '{id}': {e}")))?;
            watch(&open_store(args)?, &id)
        }
    }
}

fn work(e: impl std::fmt::Display) -> Failure {
    Failure::Work(e.to_string())
}

fn submit(
    conn: &mut DbConnection,
    user: &str,
    to: &str,
    sources: &[String],
) -> Result<Job, Failure> {
    let setup = |e: ferry_domain::DomainError| Failure::Setup(e.to_string());
    let username = Username::parse(user).map_err(setup)?;
    let (project, folder) = match to.split_once(':') {
        Some((project, folder)) => (project, Some(FolderPath::parse(folder).map_err(setup)?)),
        None => (to, None),
    };
    let project_id = SbgProjectId::parse(project).map_err(setup)?;
    let sources = sources
        .iter()
        .map(|id| SbgId::parse(id).map_err(setup))
        .collect::<Result<Vec<_>, _>>()?;
    let user = users::find_by_username(conn, &username)
        .map_err(work)?
        .ok_or_else(|| Failure::Work(format!("no user '{username}'")))?;
    let target = match folder {
        None => FolderRef::Project(project_id),
        Some(path) => {
            // Permissions are the workers' business, per item; only the folder's id is needed.
            let project = projects::get_by_sbg_id(conn, &project_id)
                .map_err(work)?
                .ok_or_else(|| Failure::Work(format!("no project '{project_id}'")))?;
            let folder = folders::get_by_path(conn, project.id, &path)
                .map_err(work)?
                .ok_or_else(|| Failure::Work(format!("no folder '{path}' in '{project_id}'")))?;
            FolderRef::Folder(folder.sbg_id)
        }
    };
    let requests: Vec<RequestedCopy> = sources
        .into_iter()
        .map(|source| RequestedCopy {
            source,
            to: target.clone(),
            name: None,
        })
        .collect();
    jobs::submit(conn, user.id, &requests).map_err(work)
}

/// Follows the job until it finishes; the outcome decides the exit code.
fn watch(store: &Store, id: &JobId) -> Result<(), Failure> {
    let bar = progress::bar(0, "{bar:30} {pos}/{len} items {msg} ({elapsed})");
    let job = loop {
        let job = jobs::get(&mut *store.conn().map_err(work)?, id)
            .map_err(work)?
            .ok_or_else(|| Failure::Work(format!("no job '{id}'")))?;
        bar.set_length(u64::try_from(job.total_items).unwrap_or_default());
        bar.set_position(u64::try_from(job.completed_items + job.failed_items).unwrap_or_default());
        bar.set_message(format!(
            "{}, {} failed",
            job.state.as_str(),
            job.failed_items
        ));
        if job.state == JobState::Finished {
            break job;
        }
        std::thread::sleep(POLL);
    };
    bar.finish_and_clear();
    let outcome = job.outcome.unwrap_or(JobOutcome::Completed);
    println!(
        "job {}: {} ({}): {} of {} items copied, {} failed, {} cancelled",
        job.public_id,
        job.state.as_str(),
        outcome.as_str(),
        job.completed_items,
        job.total_items,
        job.failed_items,
        job.cancelled_items
    );
    match outcome {
        JobOutcome::Completed => Ok(()),
        JobOutcome::CompletedWithFailures | JobOutcome::Cancelled => Err(Failure::Work(format!(
            "job {} {}: see GET /v2/async/files/copy/{}/items",
            job.public_id,
            outcome.as_str().replace('_', " "),
            job.public_id
        ))),
    }
}
