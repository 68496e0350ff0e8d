//! A job: its state, its outcome and its counters, and how it is read back.

use super::*;
use ferry_domain::ids::JobId;
use ferry_domain::row_ids::{JobRowId, UserRowId};

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
    pub id: JobRowId,
    /// The id clients see.
    pub public_id: JobId,
    pub user_id: UserRowId,
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
pub(super) struct JobRow {
    pub(super) id: i64,
    pub(super) public_id: String,
    pub(super) user_id: i64,
    pub(super) request_items: i64,
    pub(super) unresolved_items: i64,
    pub(super) total_items: i64,
    pub(super) completed_items: i64,
    pub(super) failed_items: i64,
    pub(super) cancelled_items: i64,
    pub(super) outcome: Option<String>,
    pub(super) created_at: NaiveDateTime,
    pub(super) started_at: Option<NaiveDateTime>,
    pub(super) cancel_requested_at: Option<NaiveDateTime>,
    pub(super) finished_at: Option<NaiveDateTime>,
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
            id: JobRowId::new(row.id),
            public_id: JobId::parse(&row.public_id).map_err(|e| corrupt("jobs", row.id, e))?,
            user_id: UserRowId::new(row.user_id),
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

pub(super) fn job_by_id(conn: &mut DbConnection, job_id: JobRowId) -> Result<Job, StoreError> {
    jobs::table
        .find(job_id.get())
        .select(JobRow::as_select())
        .first(conn)?
        .try_into()
}

/// The job with this public id, whoever it belongs to.
pub fn get(conn: &mut DbConnection, public_id: &JobId) -> Result<Option<Job>, StoreError> {
    jobs::table
        .filter(jobs::public_id.eq(public_id.as_str()))
        .select(JobRow::as_select())
        .first(conn)
        .optional()?
        .map(Job::try_from)
        .transpose()
}

/// One page of the user's jobs, newest first, and how many they have.
pub fn list_for_user(
    conn: &mut DbConnection,
    user_id: UserRowId,
    page: Page,
) -> Result<(Vec<Job>, i64), StoreError> {
    let total = jobs::table
        .filter(jobs::user_id.eq(user_id.get()))
        .select(count_star())
        .get_result(conn)?;
    let listed = jobs::table
        .filter(jobs::user_id.eq(user_id.get()))
        .order((jobs::created_at.desc(), jobs::id.desc()))
        .paginate(page)
        .select(JobRow::as_select())
        .load(conn)?
        .into_iter()
        .map(Job::try_from)
        .collect::<Result<_, _>>()?;
    Ok((listed, total))
}
