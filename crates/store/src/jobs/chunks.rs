//! Claiming a chunk of work and reading what it holds: request items, or a folder's next batch.

use super::*;
use ferry_domain::row_ids::{ChunkRowId, FolderRowId, JobRowId};

/// Claims the oldest chunk that is pending or whose lease has lapsed, for `worker`, until
/// `lease` from now; returns its id. On PostgreSQL, `SKIP LOCKED` lets concurrent claimers
/// pass each other; on SQLite the write transaction already excludes them.
pub fn claim(
    conn: &mut DbConnection,
    worker: &str,
    lease: Duration,
) -> Result<Option<ChunkRowId>, StoreError> {
    atomic(conn, |conn| {
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
        Ok(Some(ChunkRowId::new(id)))
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
    pub chunk_id: ChunkRowId,
    pub job: Job,
    /// Claims of this chunk since it last committed, this one included.
    pub attempts: i64,
    pub work: ChunkWork,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = job_chunks, check_for_backend(diesel::pg::Pg, diesel::sqlite::Sqlite))]
pub(super) struct ChunkRow {
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
/// the [`Store::write`](crate::Store::write) that will [`complete`] the chunk.
pub fn lock_claimed(
    conn: &mut DbConnection,
    chunk_id: ChunkRowId,
    worker: &str,
) -> Result<Option<Claimed>, StoreError> {
    let held = job_chunks::table
        .filter(job_chunks::id.eq(chunk_id.get()))
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
        .find(chunk_id.get())
        .select(ChunkRow::as_select())
        .first(conn)?;
    let job = job_by_id(conn, JobRowId::new(row.job_id))?;
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
        chunk_id: ChunkRowId::new(row.id),
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
    source_folder_id: FolderRowId,
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
            .filter(folders::parent_id.eq(source_folder_id.get()))
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
            .filter(placements::folder_id.eq(source_folder_id.get()))
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
        after_folder_id: folders
            .last()
            .map_or(cursor.after_folder_id, |f| f.id.get()),
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
