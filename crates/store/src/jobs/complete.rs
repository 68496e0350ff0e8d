//! Completing a chunk: its items' outcomes, its new folder chunks, the job's counters.

use super::*;
use ferry_domain::row_ids::{FolderRowId, JobRowId, UserRowId};

/// A copied folder whose contents are still to copy: a new `folder` chunk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewUnit {
    /// The source folder's row id, to count its entries.
    pub source_id: FolderRowId,
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
            let target = FolderRef::Folder(unit.target.clone());
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
                    .filter(job_items::chunk_id.eq(claimed.chunk_id.get()))
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
    let chunk = job_chunks::table.find(claimed.chunk_id.get());
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

pub(super) fn len_i64<T>(items: &[T]) -> i64 {
    i64::try_from(items.len()).unwrap_or(i64::MAX)
}

/// Changes to a job's counters.
#[derive(Debug, Default)]
pub(super) struct Counts {
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
pub(super) struct NewFolderChunk<'a> {
    job_id: i64,
    kind: &'a str,
    state: &'a str,
    source_folder: &'a str,
    target_folder: &'a str,
}

/// Creates a pending folder chunk per unit and counts the entries of their sources into the
/// job's total. One INSERT per 1,000 units and two counts per 900.
pub(super) fn insert_units(
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
                job_id: job.id.get(),
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
    let sources: Vec<i64> = units.iter().map(|unit| unit.source_id.get()).collect();
    counts.total += count_entries(conn, &sources, to_db_time(job.created_at))?;
    counts.unresolved += len_i64(units);
    Ok(())
}

/// The files and sub-folders directly in these folders, created up to `created_before`.
pub(super) fn count_entries(
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
pub(super) fn update_counters(
    conn: &mut DbConnection,
    job_id: JobRowId,
    counts: &Counts,
    at: NaiveDateTime,
) -> Result<bool, StoreError> {
    let cancel_requested_at: Option<NaiveDateTime> = diesel::update(jobs::table.find(job_id.get()))
        .set((
            jobs::total_items.eq(jobs::total_items + counts.total),
            jobs::completed_items.eq(jobs::completed_items + counts.completed),
            jobs::failed_items.eq(jobs::failed_items + counts.failed),
            jobs::cancelled_items.eq(jobs::cancelled_items + counts.cancelled),
            jobs::unresolved_items.eq(jobs::unresolved_items + counts.unresolved),
        ))
        .returning(jobs::cancel_requested_at)
        .get_result(conn)?;
    diesel::update(
        jobs::table
            .find(job_id.get())
            .filter(jobs::started_at.is_null()),
    )
    .set(jobs::started_at.eq(at))
    .execute(conn)?;
    Ok(cancel_requested_at.is_some())
}

/// Finishes the job if none of its chunks is pending or claimed; call with the job's row
/// locked (after updating it), so that of two chunks finishing at once the second sees the
/// first. The counters are settled: a cancelled job counts what it never reached as
/// cancelled, and a finished one counts what it found (a source folder may have changed
/// since it was counted).
pub(super) fn finish_if_done(
    conn: &mut DbConnection,
    job_id: JobRowId,
    at: NaiveDateTime,
) -> Result<(), StoreError> {
    let open: i64 = job_chunks::table
        .filter(job_chunks::job_id.eq(job_id.get()))
        .filter(job_chunks::state.eq_any([PENDING, CLAIMED]))
        .select(count_star())
        .get_result(conn)?;
    if open > 0 {
        return Ok(());
    }
    let job: JobRow = jobs::table
        .find(job_id.get())
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
    diesel::update(jobs::table.find(job_id.get()))
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
            user_id: Some(UserRowId::new(job.user_id)),
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
