//! A job's beginning and end: submitting it, cancelling it, purging it once finished.

use super::*;
use ferry_domain::row_ids::{ChunkRowId, JobRowId, UserRowId};

/// Creates a job for `requests` (1 or more), its `items` chunks and its items, in one
/// transaction: two statements per chunk.
pub fn submit(
    conn: &mut DbConnection,
    user_id: UserRowId,
    requests: &[RequestedCopy],
) -> Result<Job, StoreError> {
    let count =
        i64::try_from(requests.len()).map_err(|_| StoreError::Invalid("too many items".into()))?;
    atomic(conn, |conn| {
        let job_id: i64 = diesel::insert_into(jobs::table)
            .values((
                jobs::public_id.eq(uuid::Uuid::new_v4().simple().to_string()),
                jobs::kind.eq(COPY_JOB),
                jobs::user_id.eq(user_id.get()),
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
                .map(|(copy, index)| {
                    NewItem::new(
                        JobRowId::new(job_id),
                        ChunkRowId::new(chunk_id),
                        Some(index),
                        copy,
                    )
                })
                .collect();
            each_backend!(conn, |c| diesel::insert_into(job_items::table)
                .values(&rows)
                .execute(c))?;
        }
        job_by_id(conn, JobRowId::new(job_id))
    })
}

/// Cancels the job, if it is not finished: its pending chunks and their items are cancelled at
/// once, and the job finishes now unless a chunk is being worked, whose worker then finishes
/// it. Returns the job as it then is; `None` if there is no such job.
pub fn cancel(conn: &mut DbConnection, job_id: JobRowId) -> Result<Option<Job>, StoreError> {
    atomic(conn, |conn| {
        let at = now();
        // The job's row first: a worker locks it last, so neither waits for the other twice.
        let open = diesel::update(
            jobs::table
                .find(job_id.get())
                .filter(jobs::finished_at.is_null()),
        )
        .set(jobs::cancel_requested_at.eq(at))
        .execute(conn)?;
        if open > 0 {
            diesel::update(
                job_chunks::table
                    .filter(job_chunks::job_id.eq(job_id.get()))
                    .filter(job_chunks::state.eq(PENDING)),
            )
            .set(job_chunks::state.eq(CANCELLED))
            .execute(conn)?;
            let cancelled_chunks = job_chunks::table
                .filter(job_chunks::job_id.eq(job_id.get()))
                .filter(job_chunks::state.eq(CANCELLED))
                .select(job_chunks::id);
            let cancelled = diesel::update(
                job_items::table
                    .filter(job_items::job_id.eq(job_id.get()))
                    .filter(job_items::state.eq(PENDING))
                    .filter(job_items::chunk_id.eq_any(cancelled_chunks)),
            )
            .set(job_items::state.eq(CANCELLED))
            .execute(conn)?;
            diesel::update(jobs::table.find(job_id.get()))
                .set(
                    jobs::cancelled_items
                        .eq(jobs::cancelled_items + i64::try_from(cancelled).unwrap_or(i64::MAX)),
                )
                .execute(conn)?;
            finish_if_done(conn, job_id, at)?;
        }
        jobs::table
            .find(job_id.get())
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
