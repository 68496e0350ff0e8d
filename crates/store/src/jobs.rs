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
//! Which item may be copied where, and with which error, is the SBG dialect's business (the API
//! crate); this module stores, claims and counts.

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::dsl::count_star;
use diesel::prelude::*;
use diesel::sql_types::{Array, BigInt, Integer, Nullable, Text};
use ferry_domain::ids::{SbgId, SbgProjectId};
use ferry_domain::model::{AuditOutcome, Folder};
use ferry_domain::name::FileName;
use ferry_domain::naming::allocate_names;
use ferry_domain::path::FolderPath;
use strum::{EnumString, IntoStaticStr};

use crate::audit;
use crate::convert::{corrupt, from_db_time, now, to_db_time};
use crate::db::{DbConnection, write_transaction};
use crate::each_backend;
use crate::error::StoreError;
use crate::folders::{FolderRow, path_digest};
use crate::names;
use crate::page::{Page, Paginate};
use crate::schema::{folders, job_chunks, job_items, jobs, placements};

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

/// Where a job is, in CAVATICA's terms (`SUBMITTED`, `RESOLVING`, `RUNNING`, `FINISHED`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, IntoStaticStr)]
#[strum(serialize_all = "UPPERCASE")]
pub enum JobState {
    /// No chunk has been worked yet.
    Submitted,
    /// Request items or folders are still being resolved: `total_items` may still grow.
    Resolving,
    /// Everything is resolved and `total_items` is final; copies are being made.
    Running,
    /// Nothing is left to do; [`JobOutcome`] says how it ended.
    Finished,
}

impl JobState {
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

/// How a finished job ended (`completed`, `completed_with_failures`, `cancelled`). CAVATICA has
/// no such field: there, every job just FINISHES.
#[derive(Debug, Clone, Copy, PartialEq, Eq, EnumString, IntoStaticStr)]
#[strum(serialize_all = "snake_case")]
pub enum JobOutcome {
    Completed,
    CompletedWithFailures,
    Cancelled,
}

impl JobOutcome {
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

/// A copy job and its counters. Items are files and folders alike, those found inside copied
/// folders included.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Job {
    pub id: i64,
    /// The id clients see.
    pub public_id: String,
    pub user_id: i64,
    pub state: JobState,
    /// Set once the job is finished.
    pub outcome: Option<JobOutcome>,
    /// Items in the request.
    pub request_items: i64,
    pub total_items: i64,
    pub completed_items: i64,
    pub failed_items: i64,
    pub cancelled_items: i64,
    pub cancel_requested: bool,
    pub created_at: DateTime<Utc>,
    pub started_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = jobs, check_for_backend(diesel::pg::Pg, diesel::sqlite::Sqlite))]
struct JobRow {
    id: i64,
    public_id: String,
    user_id: i64,
    request_items: i64,
    unresolved_items: i64,
    total_items: i64,
    completed_items: i64,
    failed_items: i64,
    cancelled_items: i64,
    outcome: Option<String>,
    created_at: NaiveDateTime,
    started_at: Option<NaiveDateTime>,
    cancel_requested_at: Option<NaiveDateTime>,
    finished_at: Option<NaiveDateTime>,
}

impl TryFrom<JobRow> for Job {
    type Error = StoreError;

    fn try_from(row: JobRow) -> Result<Job, StoreError> {
        let outcome = row
            .outcome
            .as_deref()
            .map(|o| {
                o.parse::<JobOutcome>()
                    .map_err(|_| corrupt("jobs", row.id, format!("outcome '{o}'")))
            })
            .transpose()?;
        let state = if row.finished_at.is_some() {
            JobState::Finished
        } else if row.started_at.is_none() {
            JobState::Submitted
        } else if row.unresolved_items > 0 {
            JobState::Resolving
        } else {
            JobState::Running
        };
        Ok(Job {
            id: row.id,
            public_id: row.public_id,
            user_id: row.user_id,
            state,
            outcome,
            request_items: row.request_items,
            total_items: row.total_items,
            completed_items: row.completed_items,
            failed_items: row.failed_items,
            cancelled_items: row.cancelled_items,
            cancel_requested: row.cancel_requested_at.is_some(),
            created_at: from_db_time(row.created_at),
            started_at: row.started_at.map(from_db_time),
            finished_at: row.finished_at.map(from_db_time),
        })
    }
}

/// Where a request item is copied to: a project's root folder, or a folder.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Target {
    Project(SbgProjectId),
    Folder(SbgId),
}

impl Target {
    /// The stored form: the project id or the folder id; only the former holds a `/`.
    fn as_str(&self) -> &str {
        match self {
            Target::Project(project) => project.as_str(),
            Target::Folder(folder) => folder.as_str(),
        }
    }

    fn parse_stored(s: &str) -> Result<Target, ferry_domain::DomainError> {
        if s.contains('/') {
            SbgProjectId::parse(s).map(Target::Project)
        } else {
            SbgId::parse(s).map(Target::Folder)
        }
    }
}

/// One item of a copy request: a file or a folder (with its whole tree), optionally renamed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestedCopy {
    pub source: SbgId,
    pub to: Target,
    pub name: Option<FileName>,
}

/// A request item still to be worked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestItem {
    pub id: i64,
    /// Its position in the request.
    pub index: i64,
    pub copy: RequestedCopy,
}

/// Stored and shown as `file` or `folder`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumString, IntoStaticStr)]
#[strum(serialize_all = "lowercase")]
pub enum ItemKind {
    File,
    Folder,
}

impl ItemKind {
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

/// Why an item was not copied, in the dialect's terms (for SBG: HTTP status, code, message).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ItemError {
    pub status: u16,
    pub code: u32,
    pub message: String,
}

/// What became of an item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ItemOutcome {
    /// A new file, or a new folder, with its id and name.
    Copied {
        id: SbgId,
        name: String,
    },
    /// A folder merged into the target's folder of the same name.
    Merged {
        id: SbgId,
        name: String,
    },
    Failed(ItemError),
}

/// The outcome of one item, with what working it learnt about the source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Worked {
    /// `None` when the source could not be found.
    pub kind: Option<ItemKind>,
    pub source_name: Option<String>,
    pub outcome: ItemOutcome,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ItemStatus {
    Pending,
    Worked(ItemOutcome),
    Cancelled,
}

/// An item as the job's item listing shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobItem {
    pub id: i64,
    /// The position in the request; `None` for an entry found in a copied folder.
    pub request_index: Option<i64>,
    pub kind: Option<ItemKind>,
    pub source: SbgId,
    pub source_name: Option<String>,
    pub to: Target,
    /// The name the request asked for.
    pub name: Option<String>,
    pub status: ItemStatus,
    /// The worker that recorded the outcome.
    pub worked_by: Option<String>,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = job_items, check_for_backend(diesel::pg::Pg, diesel::sqlite::Sqlite))]
struct ItemRow {
    id: i64,
    request_index: Option<i64>,
    kind: Option<String>,
    source_id: String,
    source_name: Option<String>,
    target: String,
    name: Option<String>,
    state: String,
    result_id: Option<String>,
    result_name: Option<String>,
    error_status: Option<i32>,
    error_code: Option<i64>,
    error_message: Option<String>,
    worked_by: Option<String>,
}

impl ItemRow {
    fn target(&self) -> Result<Target, StoreError> {
        Target::parse_stored(&self.target).map_err(|e| corrupt("job_items", self.id, e))
    }

    fn outcome(&self) -> Result<ItemOutcome, StoreError> {
        let bad = || {
            corrupt(
                "job_items",
                self.id,
                format!("incomplete outcome of a {} item", self.state),
            )
        };
        if self.state == FAILED {
            let (Some(status), Some(code), Some(message)) =
                (self.error_status, self.error_code, &self.error_message)
            else {
                return Err(bad());
            };
            return Ok(ItemOutcome::Failed(ItemError {
                status: u16::try_from(status).map_err(|_| bad())?,
                code: u32::try_from(code).map_err(|_| bad())?,
                message: message.clone(),
            }));
        }
        let (Some(id), Some(name)) = (&self.result_id, &self.result_name) else {
            return Err(bad());
        };
        let id = SbgId::parse(id).map_err(|e| corrupt("job_items", self.id, e))?;
        let name = name.clone();
        Ok(if self.state == MERGED {
            ItemOutcome::Merged { id, name }
        } else {
            ItemOutcome::Copied { id, name }
        })
    }
}

impl TryFrom<ItemRow> for JobItem {
    type Error = StoreError;

    fn try_from(row: ItemRow) -> Result<JobItem, StoreError> {
        let bad = |e| corrupt("job_items", row.id, e);
        let status = match row.state.as_str() {
            PENDING => ItemStatus::Pending,
            CANCELLED => ItemStatus::Cancelled,
            COPIED | MERGED | FAILED => ItemStatus::Worked(row.outcome()?),
            other => return Err(bad(format!("state '{other}'"))),
        };
        let kind = row
            .kind
            .as_deref()
            .map(|kind| kind.parse().map_err(|_| bad(format!("kind '{kind}'"))))
            .transpose()?;
        Ok(JobItem {
            id: row.id,
            request_index: row.request_index,
            kind,
            source: SbgId::parse(&row.source_id).map_err(|e| bad(e.to_string()))?,
            to: row.target()?,
            source_name: row.source_name,
            name: row.name,
            status,
            worked_by: row.worked_by,
        })
    }
}

impl TryFrom<ItemRow> for RequestItem {
    type Error = StoreError;

    fn try_from(row: ItemRow) -> Result<RequestItem, StoreError> {
        let bad = |e| corrupt("job_items", row.id, e);
        Ok(RequestItem {
            id: row.id,
            index: row
                .request_index
                .ok_or_else(|| bad("a request item without its index".to_owned()))?,
            copy: RequestedCopy {
                source: SbgId::parse(&row.source_id).map_err(|e| bad(e.to_string()))?,
                to: row.target()?,
                name: row
                    .name
                    .as_deref()
                    .map(FileName::parse)
                    .transpose()
                    .map_err(|e| bad(e.to_string()))?,
            },
        })
    }
}

/// A new item row; request items keep their id when their chunk rewrites them.
#[derive(Insertable)]
#[diesel(table_name = job_items, treat_none_as_default_value = false)]
struct NewItem<'a> {
    job_id: i64,
    chunk_id: i64,
    request_index: Option<i64>,
    kind: Option<&'a str>,
    source_id: &'a str,
    source_name: Option<&'a str>,
    target: &'a str,
    name: Option<&'a str>,
    state: &'a str,
    result_id: Option<&'a str>,
    result_name: Option<&'a str>,
    error_status: Option<i32>,
    error_code: Option<i64>,
    error_message: Option<&'a str>,
    worked_by: Option<&'a str>,
}

impl<'a> NewItem<'a> {
    /// A pending item: `request_index` is `None` for an entry of a copied folder.
    fn new(
        job_id: i64,
        chunk_id: i64,
        request_index: Option<i64>,
        copy: &'a RequestedCopy,
    ) -> NewItem<'a> {
        NewItem {
            job_id,
            chunk_id,
            request_index,
            kind: None,
            source_id: copy.source.as_str(),
            source_name: None,
            target: copy.to.as_str(),
            name: copy.name.as_ref().map(FileName::as_str),
            state: PENDING,
            result_id: None,
            result_name: None,
            error_status: None,
            error_code: None,
            error_message: None,
            worked_by: None,
        }
    }

    /// This item with its outcome, recorded by `worker`.
    fn worked(mut self, worked: &'a Worked, worker: &'a str) -> NewItem<'a> {
        self.kind = worked.kind.map(ItemKind::as_str);
        self.source_name = worked.source_name.as_deref();
        self.worked_by = Some(worker);
        match &worked.outcome {
            ItemOutcome::Copied { id, name } | ItemOutcome::Merged { id, name } => {
                self.state = if matches!(worked.outcome, ItemOutcome::Merged { .. }) {
                    MERGED
                } else {
                    COPIED
                };
                self.result_id = Some(id.as_str());
                self.result_name = Some(name);
            }
            ItemOutcome::Failed(error) => {
                self.state = FAILED;
                self.error_status = Some(i32::from(error.status));
                self.error_code = Some(i64::from(error.code));
                self.error_message = Some(&error.message);
            }
        }
        self
    }
}

/// Writes the outcomes of a chunk's pending items (by item id) in one UPDATE: the rows come
/// as a table (`unnest` of arrays, `json_each` of a JSON array), so the statement is the same
/// whatever their number, and only the columns a worker fills and the `(chunk_id, state)` index
/// are rewritten.
fn record_outcomes<'a>(
    conn: &mut DbConnection,
    chunk_id: i64,
    outcomes: &[(i64, NewItem<'a>)],
) -> Result<(), StoreError> {
    type Texts = Array<Nullable<Text>>;
    if outcomes.is_empty() {
        return Ok(());
    }
    let column = |f: fn(&NewItem<'a>) -> Option<&'a str>| -> Vec<Option<&'a str>> {
        outcomes.iter().map(|(_, item)| f(item)).collect()
    };
    const SET: &str = "kind = o.kind, source_name = o.source_name, state = o.state, \
                       result_id = o.result_id, result_name = o.result_name, \
                       error_status = o.error_status, error_code = o.error_code, \
                       error_message = o.error_message, worked_by = o.worked_by";
    let updated = match conn {
        DbConnection::Pg(c) => {
            let ids: Vec<i64> = outcomes.iter().map(|(id, _)| *id).collect();
            let statuses: Vec<Option<i32>> = outcomes.iter().map(|(_, i)| i.error_status).collect();
            let codes: Vec<Option<i64>> = outcomes.iter().map(|(_, i)| i.error_code).collect();
            diesel::sql_query(format!(
                "UPDATE job_items SET {SET} \
             FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::text[], \
                         $6::text[], $7::int[], $8::bigint[], $9::text[], $10::text[]) \
               AS o(id, kind, source_name, state, result_id, result_name, error_status, \
                    error_code, error_message, worked_by) \
             WHERE job_items.id = o.id AND job_items.chunk_id = $11 AND job_items.state = $12"
            ))
            .bind::<Array<BigInt>, _>(&ids)
            .bind::<Texts, _>(column(|i| i.kind))
            .bind::<Texts, _>(column(|i| i.source_name))
            .bind::<Texts, _>(column(|i| Some(i.state)))
            .bind::<Texts, _>(column(|i| i.result_id))
            .bind::<Texts, _>(column(|i| i.result_name))
            .bind::<Array<Nullable<Integer>>, _>(&statuses)
            .bind::<Array<Nullable<BigInt>>, _>(&codes)
            .bind::<Texts, _>(column(|i| i.error_message))
            .bind::<Texts, _>(column(|i| i.worked_by))
            .bind::<BigInt, _>(chunk_id)
            .bind::<Text, _>(PENDING)
            .execute(c)?
        }
        DbConnection::Sqlite(c) => {
            let rows: Vec<serde_json::Value> = outcomes
                .iter()
                .map(|(id, i)| {
                    serde_json::json!({
                        "id": id, "kind": i.kind, "source_name": i.source_name,
                        "state": i.state, "result_id": i.result_id,
                        "result_name": i.result_name, "error_status": i.error_status,
                        "error_code": i.error_code, "error_message": i.error_message,
                        "worked_by": i.worked_by,
                    })
                })
                .collect();
            // The unary `+` keeps SQLite from driving the join from the (chunk_id, state) index,
            // which would scan the JSON once per item; each item is found by its rowid instead.
            diesel::sql_query(format!(
                "UPDATE job_items SET {SET} \
                 FROM (SELECT value ->> '$.id' AS id, value ->> '$.kind' AS kind, \
                              value ->> '$.source_name' AS source_name, \
                              value ->> '$.state' AS state, \
                              value ->> '$.result_id' AS result_id, \
                              value ->> '$.result_name' AS result_name, \
                              value ->> '$.error_status' AS error_status, \
                              value ->> '$.error_code' AS error_code, \
                              value ->> '$.error_message' AS error_message, \
                              value ->> '$.worked_by' AS worked_by \
                       FROM json_each($1)) AS o \
                 WHERE job_items.id = o.id AND +job_items.chunk_id = $2 AND +job_items.state = $3"
            ))
            .bind::<Text, _>(serde_json::Value::from(rows).to_string())
            .bind::<BigInt, _>(chunk_id)
            .bind::<Text, _>(PENDING)
            .execute(c)?
        }
    };
    if updated != outcomes.len() {
        return Err(StoreError::Corrupt(format!(
            "{updated} of the {} items of chunk {chunk_id} were pending",
            outcomes.len()
        )));
    }
    Ok(())
}

/// Creates a job for `requests` (1 or more), its `items` chunks and its items, in one
/// transaction: two statements per chunk.
pub fn submit(
    conn: &mut DbConnection,
    user_id: i64,
    requests: &[RequestedCopy],
) -> Result<Job, StoreError> {
    let count =
        i64::try_from(requests.len()).map_err(|_| StoreError::Invalid("too many items".into()))?;
    write_transaction(conn, |conn| {
        let job_id: i64 = diesel::insert_into(jobs::table)
            .values((
                jobs::public_id.eq(uuid::Uuid::new_v4().simple().to_string()),
                jobs::kind.eq(COPY_JOB),
                jobs::user_id.eq(user_id),
                jobs::request_items.eq(count),
                jobs::unresolved_items.eq(count),
                jobs::total_items.eq(count),
                jobs::created_at.eq(now()),
            ))
            .returning(jobs::id)
            .get_result(conn)?;
        let firsts = (0_i64..).step_by(CHUNK_ITEMS);
        for (first, chunk) in firsts.zip(requests.chunks(CHUNK_ITEMS)) {
            let chunk_id: i64 = diesel::insert_into(job_chunks::table)
                .values((
                    job_chunks::job_id.eq(job_id),
                    job_chunks::kind.eq(ITEMS_CHUNK),
                    job_chunks::state.eq(PENDING),
                ))
                .returning(job_chunks::id)
                .get_result(conn)?;
            let rows: Vec<NewItem<'_>> = chunk
                .iter()
                .zip(first..)
                .map(|(copy, index)| NewItem::new(job_id, chunk_id, Some(index), copy))
                .collect();
            each_backend!(conn, |c| diesel::insert_into(job_items::table)
                .values(&rows)
                .execute(c))?;
        }
        job_by_id(conn, job_id)
    })
}

fn job_by_id(conn: &mut DbConnection, job_id: i64) -> Result<Job, StoreError> {
    jobs::table
        .find(job_id)
        .select(JobRow::as_select())
        .first(conn)?
        .try_into()
}

/// The job with this public id, whoever it belongs to.
pub fn get(conn: &mut DbConnection, public_id: &str) -> Result<Option<Job>, StoreError> {
    jobs::table
        .filter(jobs::public_id.eq(public_id))
        .select(JobRow::as_select())
        .first(conn)
        .optional()?
        .map(Job::try_from)
        .transpose()
}

/// One page of the user's jobs, newest first, and how many they have.
pub fn list_for_user(
    conn: &mut DbConnection,
    user_id: i64,
    page: Page,
) -> Result<(Vec<Job>, i64), StoreError> {
    let total = jobs::table
        .filter(jobs::user_id.eq(user_id))
        .select(count_star())
        .get_result(conn)?;
    let listed = jobs::table
        .filter(jobs::user_id.eq(user_id))
        .order((jobs::created_at.desc(), jobs::id.desc()))
        .paginate(page)
        .select(JobRow::as_select())
        .load(conn)?
        .into_iter()
        .map(Job::try_from)
        .collect::<Result<_, _>>()?;
    Ok((listed, total))
}

/// One page of the job's items in the order they were created (request items first, in
/// request order), and how many it has.
pub fn items(
    conn: &mut DbConnection,
    job_id: i64,
    page: Page,
) -> Result<(Vec<JobItem>, i64), StoreError> {
    let total = job_items::table
        .filter(job_items::job_id.eq(job_id))
        .select(count_star())
        .get_result(conn)?;
    let listed = job_items::table
        .filter(job_items::job_id.eq(job_id))
        .order(job_items::id)
        .paginate(page)
        .select(ItemRow::as_select())
        .load(conn)?
        .into_iter()
        .map(JobItem::try_from)
        .collect::<Result<_, _>>()?;
    Ok((listed, total))
}

/// The job's first `limit` request items, in request order.
pub fn request_items(
    conn: &mut DbConnection,
    job_id: i64,
    limit: i64,
) -> Result<Vec<JobItem>, StoreError> {
    job_items::table
        .filter(job_items::job_id.eq(job_id))
        .filter(job_items::request_index.is_not_null())
        .order(job_items::request_index)
        .limit(limit)
        .select(ItemRow::as_select())
        .load(conn)?
        .into_iter()
        .map(JobItem::try_from)
        .collect()
}

/// Claims the oldest chunk that is pending or whose lease has lapsed, for `worker`, until
/// `lease` from now; returns its id. On PostgreSQL, `SKIP LOCKED` lets concurrent claimers
/// pass each other; on SQLite the write transaction already excludes them.
pub fn claim(
    conn: &mut DbConnection,
    worker: &str,
    lease: Duration,
) -> Result<Option<i64>, StoreError> {
    write_transaction(conn, |conn| {
        let now = now();
        let claimable = job_chunks::table
            .filter(
                job_chunks::state.eq(PENDING).or(job_chunks::state
                    .eq(CLAIMED)
                    .and(job_chunks::claimed_until.lt(now))),
            )
            .select(job_chunks::id)
            .order(job_chunks::id)
            .limit(1);
        let id: Option<i64> = match conn {
            DbConnection::Pg(pg) => claimable.for_update().skip_locked().first(pg).optional()?,
            DbConnection::Sqlite(_) => claimable.first(conn).optional()?,
        };
        let Some(id) = id else {
            return Ok(None);
        };
        let until = now + chrono::Duration::from_std(lease).unwrap_or(chrono::Duration::MAX);
        diesel::update(job_chunks::table.find(id))
            .set((
                job_chunks::state.eq(CLAIMED),
                job_chunks::claimed_by.eq(worker),
                job_chunks::claimed_until.eq(until),
                job_chunks::attempts.eq(job_chunks::attempts + 1),
            ))
            .execute(conn)?;
        Ok(Some(id))
    })
}

/// Returns every claimed chunk to the pending ones. Only for a database one process works
/// (SQLite), at start-up: a claim found then was left by a previous run of that process, and
/// waiting for its lease to lapse would only delay the resumption.
pub fn release_claims(conn: &mut DbConnection) -> Result<usize, StoreError> {
    Ok(
        diesel::update(job_chunks::table.filter(job_chunks::state.eq(CLAIMED)))
            .set((
                job_chunks::state.eq(PENDING),
                job_chunks::claimed_until.eq(None::<NaiveDateTime>),
            ))
            .execute(conn)?,
    )
}

/// Copy the contents of `source` into `target`, resuming after the cursors.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FolderUnit {
    pub source: SbgId,
    pub target: SbgId,
    pub cursor: FolderCursor,
}

/// How far a folder chunk has gone: sub-folders are listed first, then files, each by id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FolderCursor {
    pub after_folder_id: i64,
    pub after_placement_id: i64,
    /// Every sub-folder has been listed.
    pub folders_listed: bool,
    /// Every entry has been listed: the chunk is done.
    pub done: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChunkWork {
    /// The chunk's request items still pending.
    Requests(Vec<RequestItem>),
    Folder(FolderUnit),
}

/// A chunk this worker holds, inside the transaction that works it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claimed {
    pub chunk_id: i64,
    pub job: Job,
    /// Claims of this chunk since it last committed, this one included.
    pub attempts: i64,
    pub work: ChunkWork,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = job_chunks, check_for_backend(diesel::pg::Pg, diesel::sqlite::Sqlite))]
struct ChunkRow {
    id: i64,
    job_id: i64,
    kind: String,
    attempts: i64,
    source_folder: Option<String>,
    target_folder: Option<String>,
    after_folder_id: i64,
    after_placement_id: i64,
    folders_listed: bool,
}

/// Opens the work on chunk `chunk_id`: locks its row (PostgreSQL) and checks that `worker`
/// still holds the claim. `None` if it does not (the lease lapsed and another worker took the
/// chunk over, or the job was cancelled): the caller must leave the chunk alone. Call inside
/// the [`write_transaction`] that will [`complete`] the chunk.
pub fn lock_claimed(
    conn: &mut DbConnection,
    chunk_id: i64,
    worker: &str,
) -> Result<Option<Claimed>, StoreError> {
    let held = job_chunks::table
        .filter(job_chunks::id.eq(chunk_id))
        .filter(job_chunks::state.eq(CLAIMED))
        .filter(job_chunks::claimed_by.eq(worker))
        .select(job_chunks::id);
    let held: Option<i64> = match conn {
        DbConnection::Pg(pg) => held.for_update().first(pg).optional()?,
        DbConnection::Sqlite(_) => held.first(conn).optional()?,
    };
    if held.is_none() {
        return Ok(None);
    }
    let row: ChunkRow = job_chunks::table
        .find(chunk_id)
        .select(ChunkRow::as_select())
        .first(conn)?;
    let job = job_by_id(conn, row.job_id)?;
    let bad = |e: String| corrupt("job_chunks", row.id, e);
    let work = match row.kind.as_str() {
        ITEMS_CHUNK => ChunkWork::Requests(
            job_items::table
                .filter(job_items::chunk_id.eq(row.id))
                .filter(job_items::state.eq(PENDING))
                .order(job_items::id)
                .select(ItemRow::as_select())
                .load(conn)?
                .into_iter()
                .map(RequestItem::try_from)
                .collect::<Result<_, _>>()?,
        ),
        FOLDER_CHUNK => {
            let folder = |id: &Option<String>| {
                id.as_deref()
                    .ok_or_else(|| bad("a folder chunk without its folders".into()))
                    .and_then(|id| SbgId::parse(id).map_err(|e| bad(e.to_string())))
            };
            ChunkWork::Folder(FolderUnit {
                source: folder(&row.source_folder)?,
                target: folder(&row.target_folder)?,
                cursor: FolderCursor {
                    after_folder_id: row.after_folder_id,
                    after_placement_id: row.after_placement_id,
                    folders_listed: row.folders_listed,
                    done: false,
                },
            })
        }
        other => return Err(bad(format!("kind '{other}'"))),
    };
    Ok(Some(Claimed {
        chunk_id: row.id,
        job,
        attempts: row.attempts,
        work,
    }))
}

/// The next entries of a folder chunk's source: up to `limit` sub-folders, then files, after
/// the cursor, and the cursor past them. Only entries created up to `created_before` (the job's
/// submission) count, so that a job never copies its own copies. Two queries at most.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FolderBatch {
    pub folders: Vec<Folder>,
    pub files: Vec<SbgId>,
    pub cursor: FolderCursor,
}

pub fn next_batch(
    conn: &mut DbConnection,
    source_folder_id: i64,
    cursor: FolderCursor,
    created_before: DateTime<Utc>,
    limit: usize,
) -> Result<FolderBatch, StoreError> {
    let created_before = to_db_time(created_before);
    let limit_sql = i64::try_from(limit).unwrap_or(i64::MAX);
    let folders: Vec<Folder> = if cursor.folders_listed {
        Vec::new()
    } else {
        folders::table
            .filter(folders::parent_id.eq(source_folder_id))
            .filter(folders::id.gt(cursor.after_folder_id))
            .filter(folders::created_at.le(created_before))
            .order(folders::id)
            .limit(limit_sql)
            .select(FolderRow::as_select())
            .load(conn)?
            .into_iter()
            .map(Folder::try_from)
            .collect::<Result<_, _>>()?
    };
    let folders_listed = cursor.folders_listed || folders.len() < limit;
    let room = limit - folders.len();
    let files: Vec<(i64, String)> = if folders_listed && room > 0 {
        placements::table
            .filter(placements::folder_id.eq(source_folder_id))
            .filter(placements::id.gt(cursor.after_placement_id))
            .filter(placements::created_at.le(created_before))
            .order(placements::id)
            .limit(i64::try_from(room).unwrap_or(i64::MAX))
            .select((placements::id, placements::sbg_id))
            .load(conn)?
    } else {
        Vec::new()
    };
    let next = FolderCursor {
        after_folder_id: folders.last().map_or(cursor.after_folder_id, |f| f.id),
        after_placement_id: files
            .last()
            .map_or(cursor.after_placement_id, |(id, _)| *id),
        folders_listed,
        done: folders_listed && files.len() < room,
    };
    let files = files
        .into_iter()
        .map(|(id, sbg_id)| SbgId::parse(&sbg_id).map_err(|e| corrupt("placements", id, e)))
        .collect::<Result<_, _>>()?;
    Ok(FolderBatch {
        folders,
        files,
        cursor: next,
    })
}

/// A copied folder whose contents are still to copy: a new `folder` chunk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewUnit {
    /// The source folder's row id, to count its entries.
    pub source_id: i64,
    pub source: SbgId,
    pub target: SbgId,
}

/// What working a chunk did, for [`complete`] to record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChunkReport {
    /// One outcome per request item of [`ChunkWork::Requests`], in the same order.
    Requests {
        worked: Vec<Worked>,
        units: Vec<NewUnit>,
    },
    /// The entries of a folder chunk's batch (source id, outcome) and where it got to.
    Folder {
        entries: Vec<(SbgId, Worked)>,
        units: Vec<NewUnit>,
        cursor: FolderCursor,
    },
    /// The job was cancelled: the chunk's pending items are cancelled, nothing is copied.
    Cancelled,
}

/// Records a worked chunk, in the transaction opened by [`lock_claimed`]: the items'
/// outcomes, the new folder chunks, the chunk's state and the job's counters; then finishes the
/// job if nothing is left. A constant number of statements per chunk.
pub fn complete(
    conn: &mut DbConnection,
    claimed: &Claimed,
    worker: &str,
    report: &ChunkReport,
) -> Result<(), StoreError> {
    let at = now();
    let job_id = claimed.job.id;
    let mut counts = Counts::default();
    let (mut chunk_state, cursor) = match (report, &claimed.work) {
        (ChunkReport::Requests { worked, units }, ChunkWork::Requests(items)) => {
            if worked.len() != items.len() {
                return Err(StoreError::Invalid(format!(
                    "{} outcomes for {} request items",
                    worked.len(),
                    items.len()
                )));
            }
            let outcomes: Vec<(i64, NewItem<'_>)> = items
                .iter()
                .zip(worked)
                .map(|(item, worked)| {
                    let pending =
                        NewItem::new(job_id, claimed.chunk_id, Some(item.index), &item.copy);
                    (item.id, pending.worked(worked, worker))
                })
                .collect();
            record_outcomes(conn, claimed.chunk_id, &outcomes)?;
            counts.add_outcomes(worked);
            counts.unresolved -= len_i64(items);
            insert_units(conn, &claimed.job, units, &mut counts)?;
            (DONE, None)
        }
        (
            ChunkReport::Folder {
                entries,
                units,
                cursor,
            },
            ChunkWork::Folder(unit),
        ) => {
            let target = Target::Folder(unit.target.clone());
            let copies: Vec<RequestedCopy> = entries
                .iter()
                .map(|(source, _)| RequestedCopy {
                    source: source.clone(),
                    to: target.clone(),
                    name: None,
                })
                .collect();
            let rows: Vec<NewItem<'_>> = copies
                .iter()
                .zip(entries)
                .map(|(copy, (_, worked))| {
                    NewItem::new(job_id, claimed.chunk_id, None, copy).worked(worked, worker)
                })
                .collect();
            if !rows.is_empty() {
                each_backend!(conn, |c| diesel::insert_into(job_items::table)
                    .values(&rows)
                    .execute(c))?;
            }
            counts.add_outcomes(entries.iter().map(|(_, worked)| worked));
            if cursor.folders_listed && !unit.cursor.folders_listed {
                counts.unresolved -= 1;
            }
            insert_units(conn, &claimed.job, units, &mut counts)?;
            (if cursor.done { DONE } else { PENDING }, Some(*cursor))
        }
        (ChunkReport::Cancelled, _) => {
            let cancelled = diesel::update(
                job_items::table
                    .filter(job_items::chunk_id.eq(claimed.chunk_id))
                    .filter(job_items::state.eq(PENDING)),
            )
            .set(job_items::state.eq(CANCELLED))
            .execute(conn)?;
            counts.cancelled += i64::try_from(cancelled).unwrap_or(i64::MAX);
            (CANCELLED, None)
        }
        _ => {
            return Err(StoreError::Invalid(format!(
                "the report for chunk {} does not match its kind",
                claimed.chunk_id
            )));
        }
    };
    let cancel_requested = update_counters(conn, job_id, &counts, at)?;
    // A folder chunk with entries left stops here if the job was cancelled meanwhile.
    if chunk_state == PENDING && cancel_requested {
        chunk_state = CANCELLED;
    }
    let chunk = job_chunks::table.find(claimed.chunk_id);
    // `attempts` counts the claims since the last commit: a folder chunk is claimed once per
    // batch, and only claims that never committed must add up to giving up.
    let released = (
        job_chunks::state.eq(chunk_state),
        job_chunks::claimed_until.eq(None::<NaiveDateTime>),
        job_chunks::attempts.eq(0),
    );
    match cursor {
        Some(next) => diesel::update(chunk)
            .set((
                released,
                job_chunks::after_folder_id.eq(next.after_folder_id),
                job_chunks::after_placement_id.eq(next.after_placement_id),
                job_chunks::folders_listed.eq(next.folders_listed),
            ))
            .execute(conn)?,
        None => diesel::update(chunk).set(released).execute(conn)?,
    };
    finish_if_done(conn, job_id, at)
}

fn len_i64<T>(items: &[T]) -> i64 {
    i64::try_from(items.len()).unwrap_or(i64::MAX)
}

/// Changes to a job's counters.
#[derive(Debug, Default)]
struct Counts {
    total: i64,
    completed: i64,
    failed: i64,
    cancelled: i64,
    unresolved: i64,
}

impl Counts {
    fn add_outcomes<'a>(&mut self, worked: impl IntoIterator<Item = &'a Worked>) {
        for worked in worked {
            match worked.outcome {
                ItemOutcome::Copied { .. } | ItemOutcome::Merged { .. } => self.completed += 1,
                ItemOutcome::Failed(_) => self.failed += 1,
            }
        }
    }
}

#[derive(Insertable)]
#[diesel(table_name = job_chunks)]
struct NewFolderChunk<'a> {
    job_id: i64,
    kind: &'a str,
    state: &'a str,
    source_folder: &'a str,
    target_folder: &'a str,
}

/// Creates a pending folder chunk per unit and counts the entries of their sources into the
/// job's total. One INSERT per 1,000 units and two counts per 900.
fn insert_units(
    conn: &mut DbConnection,
    job: &Job,
    units: &[NewUnit],
    counts: &mut Counts,
) -> Result<(), StoreError> {
    if units.is_empty() {
        return Ok(());
    }
    for chunk in units.chunks(1_000) {
        let rows: Vec<NewFolderChunk<'_>> = chunk
            .iter()
            .map(|unit| NewFolderChunk {
                job_id: job.id,
                kind: FOLDER_CHUNK,
                state: PENDING,
                source_folder: unit.source.as_str(),
                target_folder: unit.target.as_str(),
            })
            .collect();
        each_backend!(conn, |c| diesel::insert_into(job_chunks::table)
            .values(&rows)
            .execute(c))?;
    }
    let sources: Vec<i64> = units.iter().map(|unit| unit.source_id).collect();
    counts.total += count_entries(conn, &sources, to_db_time(job.created_at))?;
    counts.unresolved += len_i64(units);
    Ok(())
}

/// The files and sub-folders directly in these folders, created up to `created_before`.
fn count_entries(
    conn: &mut DbConnection,
    folder_ids: &[i64],
    created_before: NaiveDateTime,
) -> Result<i64, StoreError> {
    let mut count = 0;
    for chunk in folder_ids.chunks(IDS_PER_QUERY) {
        let files: i64 = placements::table
            .filter(placements::folder_id.eq_any(chunk))
            .filter(placements::created_at.le(created_before))
            .select(count_star())
            .get_result(conn)?;
        let subfolders: i64 = folders::table
            .filter(folders::parent_id.eq_any(chunk))
            .filter(folders::created_at.le(created_before))
            .select(count_star())
            .get_result(conn)?;
        count += files + subfolders;
    }
    Ok(count)
}

/// Applies `counts` to the job, marks it started, and tells whether it is being cancelled.
fn update_counters(
    conn: &mut DbConnection,
    job_id: i64,
    counts: &Counts,
    at: NaiveDateTime,
) -> Result<bool, StoreError> {
    let cancel_requested_at: Option<NaiveDateTime> = diesel::update(jobs::table.find(job_id))
        .set((
            jobs::total_items.eq(jobs::total_items + counts.total),
            jobs::completed_items.eq(jobs::completed_items + counts.completed),
            jobs::failed_items.eq(jobs::failed_items + counts.failed),
            jobs::cancelled_items.eq(jobs::cancelled_items + counts.cancelled),
            jobs::unresolved_items.eq(jobs::unresolved_items + counts.unresolved),
        ))
        .returning(jobs::cancel_requested_at)
        .get_result(conn)?;
    diesel::update(jobs::table.find(job_id).filter(jobs::started_at.is_null()))
        .set(jobs::started_at.eq(at))
        .execute(conn)?;
    Ok(cancel_requested_at.is_some())
}

/// Finishes the job if none of its chunks is pending or claimed; call with the job's row
/// locked (after updating it), so that of two chunks finishing at once the second sees the
/// first. The counters are settled: a cancelled job counts what it never reached as
/// cancelled, and a finished one counts what it found (a source folder may have changed
/// since it was counted).
fn finish_if_done(
    conn: &mut DbConnection,
    job_id: i64,
    at: NaiveDateTime,
) -> Result<(), StoreError> {
    let open: i64 = job_chunks::table
        .filter(job_chunks::job_id.eq(job_id))
        .filter(job_chunks::state.eq_any([PENDING, CLAIMED]))
        .select(count_star())
        .get_result(conn)?;
    if open > 0 {
        return Ok(());
    }
    let job: JobRow = jobs::table
        .find(job_id)
        .select(JobRow::as_select())
        .first(conn)?;
    let worked = job.completed_items + job.failed_items;
    let unreached = (job.total_items - worked).max(job.cancelled_items);
    let (outcome, total, cancelled) = if job.cancel_requested_at.is_some() && unreached > 0 {
        (JobOutcome::Cancelled, worked + unreached, unreached)
    } else if job.failed_items > 0 {
        (JobOutcome::CompletedWithFailures, worked, 0)
    } else {
        (JobOutcome::Completed, worked, 0)
    };
    diesel::update(jobs::table.find(job_id))
        .set((
            jobs::finished_at.eq(at),
            jobs::outcome.eq(outcome.as_str()),
            jobs::total_items.eq(total),
            jobs::cancelled_items.eq(cancelled),
            jobs::unresolved_items.eq(0),
        ))
        .execute(conn)?;
    audit::record(
        conn,
        &audit::NewEvent {
            request_id: None,
            user_id: Some(job.user_id),
            token_label: None,
            action: "sbg.async_copy.end",
            target: Some(job.public_id),
            outcome: AuditOutcome::of_batch(
                usize::try_from(job.completed_items).unwrap_or(0),
                usize::try_from(total).unwrap_or(0),
            ),
            detail: serde_json::json!({
                "outcome": outcome.as_str(),
                "total": total,
                "completed": job.completed_items,
                "failed": job.failed_items,
                "cancelled": cancelled,
            }),
        },
    )
}

/// Cancels the job, if it is not finished: its pending chunks and their items are cancelled at
/// once, and the job finishes now unless a chunk is being worked, whose worker then finishes
/// it. Returns the job as it then is; `None` if there is no such job.
pub fn cancel(conn: &mut DbConnection, job_id: i64) -> Result<Option<Job>, StoreError> {
    write_transaction(conn, |conn| {
        let at = now();
        // The job's row first: a worker locks it last, so neither waits for the other twice.
        let open = diesel::update(jobs::table.find(job_id).filter(jobs::finished_at.is_null()))
            .set(jobs::cancel_requested_at.eq(at))
            .execute(conn)?;
        if open > 0 {
            diesel::update(
                job_chunks::table
                    .filter(job_chunks::job_id.eq(job_id))
                    .filter(job_chunks::state.eq(PENDING)),
            )
            .set(job_chunks::state.eq(CANCELLED))
            .execute(conn)?;
            let cancelled_chunks = job_chunks::table
                .filter(job_chunks::job_id.eq(job_id))
                .filter(job_chunks::state.eq(CANCELLED))
                .select(job_chunks::id);
            let cancelled = diesel::update(
                job_items::table
                    .filter(job_items::job_id.eq(job_id))
                    .filter(job_items::state.eq(PENDING))
                    .filter(job_items::chunk_id.eq_any(cancelled_chunks)),
            )
            .set(job_items::state.eq(CANCELLED))
            .execute(conn)?;
            diesel::update(jobs::table.find(job_id))
                .set(
                    jobs::cancelled_items
                        .eq(jobs::cancelled_items + i64::try_from(cancelled).unwrap_or(i64::MAX)),
                )
                .execute(conn)?;
            finish_if_done(conn, job_id, at)?;
        }
        jobs::table
            .find(job_id)
            .select(JobRow::as_select())
            .first(conn)
            .optional()?
            .map(Job::try_from)
            .transpose()
    })
}

/// Deletes up to `limit` jobs that finished before `cutoff`, with their chunks and items;
/// returns how many. Bounded, so that one call stays a short transaction.
pub fn purge_finished_before(
    conn: &mut DbConnection,
    cutoff: DateTime<Utc>,
    limit: i64,
) -> Result<usize, StoreError> {
    let expired: Vec<i64> = jobs::table
        .filter(jobs::finished_at.lt(to_db_time(cutoff)))
        .order(jobs::id)
        .limit(limit)
        .select(jobs::id)
        .load(conn)?;
    if expired.is_empty() {
        return Ok(0);
    }
    Ok(diesel::delete(jobs::table.filter(jobs::id.eq_any(&expired))).execute(conn)?)
}

/// What became of a folder copied into a target folder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FolderCopy {
    Created(Folder),
    /// The target already had a folder of that name: the contents go into it.
    Merged(Folder),
    /// The folder cannot be created under this name (too long once renamed, too deep).
    Refused(String),
}

#[derive(Insertable)]
#[diesel(table_name = folders)]
struct NewFolder<'a> {
    sbg_id: String,
    project_id: i64,
    parent_id: i64,
    path: &'a str,
    path_digest: String,
    name: &'a str,
    created_at: NaiveDateTime,
    modified_at: NaiveDateTime,
}

/// Copies folders named `wanted` into `target`, without their contents: a name that a
/// sub-folder of `target` has is merged into it; otherwise a folder is created under the
/// `N_name` rule (files and sub-folders share one namespace in SBG). A name wanted twice is
/// created once and then merged into, as copying the two one after the other would do. Call
/// inside a [`write_transaction`]; the target folder is locked until it commits. Four
/// statements, whatever the number of folders (per 900).
pub fn copy_folders(
    conn: &mut DbConnection,
    target: &Folder,
    wanted: &[&str],
) -> Result<Vec<FolderCopy>, StoreError> {
    if wanted.is_empty() {
        return Ok(Vec::new());
    }
    crate::folders::lock(conn, &[target.id])?;
    let mut distinct: Vec<&str> = Vec::new();
    let mut seen = HashSet::new();
    for name in wanted {
        if seen.insert(*name) {
            distinct.push(name);
        }
    }
    let mut existing: HashMap<String, Folder> = HashMap::new();
    for chunk in distinct.chunks(IDS_PER_QUERY) {
        let rows: Vec<FolderRow> = folders::table
            .filter(folders::parent_id.eq(target.id))
            .filter(folders::name.eq_any(chunk))
            .select(FolderRow::as_select())
            .load(conn)?;
        for row in rows {
            let folder = Folder::try_from(row)?;
            let name = folder.path.name().unwrap_or_default().to_owned();
            existing.insert(name, folder);
        }
    }
    let missing: Vec<&str> = distinct
        .iter()
        .copied()
        .filter(|name| !existing.contains_key(*name))
        .collect();
    let taken = names::taken_in_folder(conn, target.id, &missing)?;

    /// Where each wanted folder goes.
    enum Plan<'w> {
        Existing,
        /// The `i`-th name to allocate.
        Allocated(usize),
        /// The folder allocated for the first want of this free name.
        SameAs(&'w str),
    }
    // A free name is allocated once, for its first want; a taken one once per want, so that
    // each of those copies gets its own `k_name`.
    let mut to_allocate: Vec<&str> = Vec::new();
    let mut first_want: HashMap<&str, usize> = HashMap::new();
    let plans: Vec<Plan<'_>> = wanted
        .iter()
        .map(|name| {
            if existing.contains_key(*name) {
                Plan::Existing
            } else if !taken.contains(name) && first_want.contains_key(name) {
                Plan::SameAs(name)
            } else {
                to_allocate.push(name);
                first_want.entry(name).or_insert(to_allocate.len() - 1);
                Plan::Allocated(to_allocate.len() - 1)
            }
        })
        .collect();
    let allocated = allocate_names(&to_allocate, &taken);
    let paths: Vec<Result<FolderPath, String>> = allocated
        .iter()
        .map(|name| {
            FileName::parse(name.as_str())
                .and_then(|name| target.path.join(name.as_str()))
                .map_err(|e| format!("cannot create folder {name:?}: {e}"))
        })
        .collect();
    let created = insert_folders(conn, target, paths.iter().filter_map(|p| p.as_ref().ok()))?;
    let outcome_of = |i: usize| match &paths[i] {
        Ok(path) => created
            .get(path)
            .cloned()
            .map(FolderCopy::Created)
            .ok_or_else(|| StoreError::Corrupt(format!("folder {path} not returned"))),
        Err(reason) => Ok(FolderCopy::Refused(reason.clone())),
    };
    plans
        .into_iter()
        .zip(wanted)
        .map(|(plan, name)| match plan {
            Plan::Existing => Ok(FolderCopy::Merged(existing[*name].clone())),
            Plan::Allocated(i) => outcome_of(i),
            Plan::SameAs(first) => Ok(match outcome_of(first_want[first])? {
                FolderCopy::Created(folder) => FolderCopy::Merged(folder),
                other => other,
            }),
        })
        .collect()
}

/// Inserts sub-folders of `parent` at these paths, one statement per 1,000; returns them by
/// path.
fn insert_folders<'p>(
    conn: &mut DbConnection,
    parent: &Folder,
    paths: impl Iterator<Item = &'p FolderPath>,
) -> Result<HashMap<FolderPath, Folder>, StoreError> {
    let at = now();
    let rows: Vec<NewFolder<'_>> = paths
        .map(|path| NewFolder {
            sbg_id: SbgId::generate().to_string(),
            project_id: parent.project_id,
            parent_id: parent.id,
            path: path.as_str(),
            path_digest: path_digest(path),
            name: path.name().unwrap_or_default(),
            created_at: at,
            modified_at: at,
        })
        .collect();
    let mut created = HashMap::with_capacity(rows.len());
    for chunk in rows.chunks(1_000) {
        let inserted: Vec<FolderRow> =
            each_backend!(conn, |c| diesel::insert_into(folders::table)
                .values(chunk)
                .returning(FolderRow::as_returning())
                .get_results(c))?;
        for row in inserted {
            let folder = Folder::try_from(row)?;
            created.insert(folder.path.clone(), folder);
        }
    }
    Ok(created)
}

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
