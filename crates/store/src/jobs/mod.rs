//! Async copy jobs, durable in the database: the job, its chunks of work, and its items.
//!
//! A job is worked chunk by chunk. A worker first claims a chunk in a short transaction of its
//! own ([`claim`]), which records a lease (`claimed_by`, `claimed_until`) and counts the
//! attempt; it then works the chunk in ONE write transaction that opens with [`lock_claimed`]
//! (the chunk's row locked on PostgreSQL, the claim checked), makes the copies, and ends with
//! [`complete`], which records the items' outcomes and the job's counters. A crash therefore
//! leaves each chunk either committed whole or still to do, and a worker whose lease lapsed and
//! was taken over cannot commit. Lock order, to stay free of deadlocks on PostgreSQL: the
//! chunk's row, then destination folders in id order, then the job's row, last.
//!
//! Two kinds of chunk: `items` holds up to [`CHUNK_ITEMS`] request items; `folder` copies the
//! contents of one source folder into one target folder, [`CHUNK_ITEMS`] entries per claim,
//! resuming after two keyset cursors, so that a folder of any size is streamed and never loaded
//! whole. Its sub-folders become `folder` chunks of their own.
//!
//! Which item may be copied where, and why not, is the use cases' business
//! (`ferry_usecases::jobs`); this module stores, claims and counts, and keeps a failed item's
//! [`CopyRefusal`], which each dialect renders in its own words.

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::dsl::count_star;
use diesel::prelude::*;
use diesel::sql_types::{Array, BigInt, Nullable, Text};
use ferry_domain::copy::CopyRefusal;
use ferry_domain::folder_ref::FolderRef;
use ferry_domain::ids::SbgId;
use ferry_domain::model::{AuditOutcome, Folder};
use ferry_domain::name::FileName;
use ferry_domain::naming::allocate_names;
use ferry_domain::path::FolderPath;
use strum::{EnumString, IntoStaticStr};

use crate::audit;
use crate::convert::{corrupt, from_db_time, now, to_db_time};
use crate::db::DbConnection;
use crate::each_backend;
use crate::error::StoreError;
use crate::folders::{FolderRow, path_digest};
use crate::names;
use crate::page::{Page, Paginate};
use crate::schema::{folders, job_chunks, job_items, jobs, placements};
use crate::unit_of_work::atomic;

/// Items per chunk: request items per `items` chunk, entries per claim of a `folder` chunk.
/// Small enough that a chunk commits well within a second (cancellation is seen between
/// chunks), large enough that the per-chunk statements are amortised.
pub const CHUNK_ITEMS: usize = 250;

/// Ids per query: below SQLite's historical limit of 999 parameters.
const IDS_PER_QUERY: usize = 900;

const PENDING: &str = "pending";
const CLAIMED: &str = "claimed";
const DONE: &str = "done";
const COPIED: &str = "copied";
const MERGED: &str = "merged";
const FAILED: &str = "failed";
const CANCELLED: &str = "cancelled";
const ITEMS_CHUNK: &str = "items";
const FOLDER_CHUNK: &str = "folder";
const COPY_JOB: &str = "COPY";

mod chunks;
mod complete;
mod folder_copy;
mod items;
mod job;
mod lifecycle;

pub use chunks::*;
pub use complete::*;
pub use folder_copy::*;
pub use items::*;
pub use job::*;
pub use lifecycle::*;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn states_outcomes_and_kinds_keep_their_stored_and_shown_spellings() {
        let states = [
            JobState::Submitted,
            JobState::Resolving,
            JobState::Running,
            JobState::Finished,
        ];
        assert_eq!(
            states.map(JobState::as_str),
            ["SUBMITTED", "RESOLVING", "RUNNING", "FINISHED"]
        );
        let outcomes = [
            JobOutcome::Completed,
            JobOutcome::CompletedWithFailures,
            JobOutcome::Cancelled,
        ];
        assert_eq!(
            outcomes.map(JobOutcome::as_str),
            ["completed", "completed_with_failures", "cancelled"]
        );
        for outcome in outcomes {
            assert_eq!(outcome.as_str().parse(), Ok(outcome));
        }
        assert_eq!("folder".parse(), Ok(ItemKind::Folder));
        assert_eq!(ItemKind::File.as_str(), "file");
        assert!("File".parse::<ItemKind>().is_err());
    }
}
