//! Settling files whose bytes went straight to an S3 content store: an SBG upload completed
//! there leaves its file `closing`, over its upload's object (`objects.content_key`), without
//! checksums. A job worker then reads the object once, stores it at its SHA-256 within the
//! bucket ([`ContentStore::settle`](crate::ContentStore::settle)) and closes every object over
//! that key, copies made meanwhile included, in one statement. A copy that commits after that
//! statement is settled by the next pass from its settled siblings, without reading the bytes.

use std::collections::HashSet;

use diesel::prelude::*;
use ferry_domain::model::ObjectState;

use crate::convert::now;
use crate::db::{DbConnection, Store};
use crate::error::StoreError;
use crate::schema::objects;

/// What one settling did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settled {
    pub content_key: String,
    pub sha256: String,
    /// The objects closed.
    pub objects: usize,
}

/// The first key objects still wait on, but those in `skip` (keys that failed lately).
pub fn next_key(store: &Store, skip: &[String]) -> Result<Option<String>, StoreError> {
    Ok(pending()
        .filter(objects::content_key.ne_all(skip))
        .select(objects::content_key.assume_not_null())
        .order(objects::id)
        .first(&mut store.conn()?)
        .optional()?)
}

/// Settles the objects waiting on `key`. Two statements and, unless a settled object of the
/// key gives the checksums, one read of the bytes.
pub fn settle(store: &Store, key: String) -> Result<Settled, StoreError> {
    let mut conn = store.conn()?;
    let known: Option<(String, String, i64)> = objects::table
        .filter(objects::content_key.eq(&key))
        .filter(objects::content_sha256.is_not_null())
        .filter(objects::md5.is_not_null())
        .select((
            objects::content_sha256.assume_not_null(),
            objects::md5.assume_not_null(),
            objects::size,
        ))
        .first(&mut conn)
        .optional()?;
    let (sha256, md5, size) = match known {
        Some(known) => known,
        None => {
            // No connection held while the bytes are read.
            drop(conn);
            let info = store.content().settle(&key)?;
            let size = i64::try_from(info.size)
                .map_err(|_| StoreError::Corrupt(format!("{key} is too large")))?;
            conn = store.conn()?;
            (info.sha256, info.md5, size)
        }
    };
    let closed = diesel::update(
        pending()
            .filter(objects::content_key.eq(&key))
            .filter(objects::size.eq(size)),
    )
    .set((
        objects::content_sha256.eq(&sha256),
        objects::md5.eq(&md5),
        objects::state.eq(ObjectState::Closed.as_str()),
        objects::modified_at.eq(now()),
    ))
    .execute(&mut conn)?;
    if closed == 0 {
        return Err(StoreError::Corrupt(format!(
            "the object at {key} has {size} bytes, not the length of its files"
        )));
    }
    Ok(Settled {
        content_key: key,
        sha256,
        objects: closed,
    })
}

/// Of these keys, those some object still waits on. One query per 900.
pub fn pending_among(
    conn: &mut DbConnection,
    keys: &[String],
) -> Result<HashSet<String>, StoreError> {
    let mut found = HashSet::new();
    for chunk in keys.chunks(900) {
        found.extend(
            pending()
                .filter(objects::content_key.eq_any(chunk))
                .select(objects::content_key.assume_not_null())
                .distinct()
                .load::<String>(conn)?,
        );
    }
    Ok(found)
}

/// The objects waiting for their checksums: over a key, without a SHA-256 (`closing`).
#[diesel::dsl::auto_type]
fn pending() -> _ {
    objects::table
        .filter(objects::content_key.is_not_null())
        .filter(objects::content_sha256.is_null())
}
