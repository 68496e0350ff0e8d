//! The content collector: deletes content no object and no upload references any more (deleted
//! files, aborted or expired uploads), run by the job workers; and the check that every content
//! an object references is there.
//!
//! A reference is an object's `content_sha256` or a received DNAnexus part's (`upload_parts`).
//! SBG uploads write into a file of their own, which the collector deletes once its upload is
//! gone for the grace period, unless the file is sealed: a crash after a completion committed
//! leaves one, whose bytes the new file's object expects, so it is stored as content instead.
//! With an S3 store, a completed upload's object is deleted once no file waits to be settled
//! from it (`content_hashing`). New references are made in transactions the collector cannot see until
//! they commit, so it never deletes in one step:
//!
//! 1. Content unused for the grace period (not written, nor stored again, since: storing the
//!    same bytes marks them used) and unreferenced goes into quarantine, where reads still find
//!    it. A copy of an object whose source was deleted meanwhile, committing after the check,
//!    reads its bytes from there.
//! 2. A later pass, once the quarantine period (longer than any transaction) is over, checks the
//!    references again: referenced content goes back, the rest is deleted. Bytes stored again
//!    while in quarantine are stored anew, and the quarantined copy is then dropped.

use std::collections::HashSet;
use std::time::{Duration, SystemTime};

use diesel::prelude::*;

use crate::content::ContentStore;
use crate::content_hashing;
use crate::db::Store;
use crate::error::StoreError;
use crate::sbg_uploads;
use crate::schema::{objects, upload_parts};

/// Addresses per query: below SQLite's historical limit of 999 parameters.
const IDS_PER_QUERY: usize = 900;

/// How long content stays in quarantine before the references are checked again: far longer
/// than any transaction that could make one runs.
pub const QUARANTINE: Duration = Duration::from_secs(5 * 60);

/// What one pass did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Collected {
    pub quarantined: usize,
    pub restored: usize,
    pub deleted: usize,
    /// Files of uploads that are gone: deleted, or stored if sealed.
    pub upload_files: usize,
}

/// One pass over the content store: content in quarantine for longer than `quarantine` is
/// restored or deleted, the files of uploads gone for longer than `grace` are deleted (or
/// stored, if sealed), then unreferenced content unused for longer than `grace` goes into
/// quarantine. Two queries per 900 addresses or upload files.
pub fn collect(
    store: &Store,
    grace: Duration,
    quarantine: Duration,
) -> Result<Collected, StoreError> {
    let now = SystemTime::now();
    let content = store.content();
    let mut conn = store.conn()?;
    let mut collected = Collected::default();

    let held = content.quarantined_since(now - quarantine)?;
    for chunk in held.chunks(IDS_PER_QUERY) {
        let referenced = referenced(&mut conn, chunk)?;
        for sha256 in chunk {
            if referenced.contains(sha256) {
                content.restore(sha256)?;
                collected.restored += 1;
            } else {
                content.discard(sha256)?;
                collected.deleted += 1;
            }
        }
    }

    let files = content.upload_files_since(now - grace)?;
    let ids: Vec<String> = files.iter().map(|(id, _)| id.clone()).collect();
    let live = sbg_uploads::existing(&mut conn, &ids)?;
    // An upload's object in an S3 store is kept while a file waits to be settled from it.
    let keys: Vec<String> = ids
        .iter()
        .map(|id| ContentStore::key_of_upload(id))
        .collect();
    let waited_on = content_hashing::pending_among(&mut conn, &keys)?;
    for (id, sealed) in files.iter().filter(|(id, _)| !live.contains(id)) {
        if waited_on.contains(&ContentStore::key_of_upload(id)) {
            continue;
        }
        if *sealed {
            content.adopt_sealed(id)?;
        } else {
            content.discard_upload(id, None)?;
        }
        collected.upload_files += 1;
    }

    let unused = content.unused_since(now - grace)?;
    for chunk in unused.chunks(IDS_PER_QUERY) {
        let referenced = referenced(&mut conn, chunk)?;
        for sha256 in chunk.iter().filter(|sha256| !referenced.contains(*sha256)) {
            if content.quarantine(sha256)? {
                collected.quarantined += 1;
            }
        }
    }
    Ok(collected)
}

/// The contents objects reference but the content store does not hold, with how many objects
/// reference each: bytes lost. One query.
pub fn missing(store: &Store) -> Result<Vec<(String, i64)>, StoreError> {
    let referenced: Vec<(Option<String>, i64)> = objects::table
        .filter(objects::content_sha256.is_not_null())
        .group_by(objects::content_sha256)
        .select((objects::content_sha256, diesel::dsl::count_star()))
        .load(&mut store.conn()?)?;
    let mut missing = Vec::new();
    for (sha256, objects) in referenced {
        let Some(sha256) = sha256 else { continue };
        if !store.content().contains(&sha256)? {
            missing.push((sha256, objects));
        }
    }
    Ok(missing)
}

/// Of these addresses, those some object or received part references.
fn referenced(
    conn: &mut crate::DbConnection,
    sha256s: &[String],
) -> Result<HashSet<String>, StoreError> {
    let mut found: HashSet<String> = objects::table
        // Implies the partial index's condition to both planners.
        .filter(objects::content_sha256.is_not_null())
        .filter(objects::content_sha256.eq_any(sha256s))
        .select(objects::content_sha256.assume_not_null())
        .distinct()
        .load::<String>(conn)?
        .into_iter()
        .collect();
    found.extend(
        upload_parts::table
            .filter(upload_parts::content_sha256.is_not_null())
            .filter(upload_parts::content_sha256.eq_any(sha256s))
            .select(upload_parts::content_sha256.assume_not_null())
            .distinct()
            .load::<String>(conn)?,
    );
    Ok(found)
}
