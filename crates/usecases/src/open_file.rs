//! A file written in parts while it is open, then closed: DNAnexus `/file-xxxx/upload` (a
//! part's URL), the part's `PUT`, and `/class-xxxx/close` (dx-api.md §1.6, §8.2). A part is
//! recorded under the file; closing makes the parts, in index order, the file's content. With
//! an S3 content store the parts go to the bucket's multipart upload instead, and closing
//! completes it there.

use std::io;
use std::time::Duration;

use ferry_domain::access::AccessRefusal;
use ferry_domain::ids::{DxClass, DxId};
use ferry_domain::model::{Object, ObjectState};
use ferry_domain::permission::Level;
use ferry_domain::row_ids::{ObjectRowId, UserRowId};
use ferry_domain::upload::{MIN_PART_SIZE, OpenFileRefusal};
use ferry_store::idempotency::Applying;
use ferry_store::uploads::{self, UploadedPart};
use ferry_store::{ContentInfo, DbConnection, Store, StoreError, objects};

use crate::access::{ProjectHint, copy_to_change, object_copy, require};
use crate::failure::Failure;

/// A part or a closing that could not be done: refused, or the store failed.
pub type OpenFileError = Failure<OpenFileRefusal>;

/// The caller's open file `file`, if they may upload to it.
pub fn writable_open_file(
    conn: &mut DbConnection,
    user_id: UserRowId,
    file: &DxId,
) -> Result<Object, OpenFileError> {
    let copy = object_copy(conn, user_id, file, ProjectHint::Exactly(None))
        .map_err(|e| e.map_refusal(OpenFileRefusal::from))?;
    require(copy.level, Level::Upload, &copy.project).map_err(OpenFileRefusal::from)?;
    if copy.object.state != ObjectState::Open {
        return Err(OpenFileRefusal::NotOpen(file.clone()).into());
    }
    Ok(copy.object)
}

/// With an S3 content store: the bucket's presigned URL for part `index` of the file's
/// multipart upload there (started with its first part), so that the bytes never pass through
/// Ferry. The part is recorded now, with the size and MD5 the client `announced` (both needed:
/// the bucket's ETag of a part is its MD5, and closing checks the parts against it).
pub fn record_bucket_part(
    store: &Store,
    conn: &mut DbConnection,
    user_id: UserRowId,
    file: &DxId,
    (index, announced): (u32, Option<(u64, String)>),
    expires: Duration,
) -> Result<String, OpenFileError> {
    objects::lock(conn, file)?;
    let object = writable_open_file(conn, user_id, file)?;
    let Some((size, md5)) = announced else {
        return Err(OpenFileRefusal::PartUnannounced.into());
    };
    let (upload_id, store_upload_id) = match uploads::bucket_upload(conn, object.id)? {
        Some(found) => found,
        None => {
            let upload_id = uuid::Uuid::new_v4().simple().to_string();
            let store_upload_id = store
                .content()
                .create_upload(&upload_id, 0)
                .map_err(StoreError::from)?
                .ok_or_else(|| no_bucket("a multipart upload"))?;
            uploads::create_bucket_upload(conn, object.id, &upload_id, &store_upload_id)?;
            (upload_id, store_upload_id)
        }
    };
    let part = UploadedPart {
        index: part_index(index)?,
        size: i64::try_from(size).map_err(|_| StoreError::Invalid("part size".into()))?,
        md5,
        content_sha256: None,
    };
    uploads::put(conn, object.id, &part)?;
    Ok(store
        .content()
        .upload_part_url(&upload_id, Some(&store_upload_id), index, expires)
        .map_err(StoreError::from)?
        .ok_or_else(|| no_bucket("a part URL"))?)
}

/// Records a part whose bytes are stored (a part URL's `PUT`), while the file is still open.
/// The same part sent again replaces the first.
pub fn record_part(
    conn: &mut DbConnection,
    file: &DxId,
    part: &UploadedPart,
) -> Result<(), OpenFileError> {
    objects::lock(conn, file)?;
    let object = objects::get(conn, file)?
        .ok_or_else(|| OpenFileRefusal::from(AccessRefusal::NotFound(file.clone())))?;
    if object.state != ObjectState::Open {
        return Err(OpenFileRefusal::NotOpen(file.clone()).into());
    }
    uploads::put(conn, object.id, part)?;
    Ok(())
}

/// The part's index as stored.
pub fn part_index(index: u32) -> Result<i32, StoreError> {
    i32::try_from(index).map_err(|_| StoreError::Invalid(format!("part index {index}")))
}

fn no_bucket(what: &str) -> StoreError {
    StoreError::Corrupt(format!(
        "the content store made no {what}: it is not a bucket"
    ))
}

/// A closed file's bytes: stored content, or an S3 store's object not hashed yet.
#[derive(Debug)]
enum Assembled {
    Stored(ContentInfo),
    InBucket { key: String, size: u64 },
}

/// Closes object `id` (the caller's copy in `project`, if named): UPLOAD. A file's uploaded
/// parts become its content; every other class is closed at once. Closing a closed object
/// changes nothing.
pub fn close(
    store: &Store,
    claim: Option<&Applying>,
    user_id: UserRowId,
    id: &DxId,
    project: Option<&DxId>,
) -> Result<(), OpenFileError> {
    let access = |e: crate::access::AccessError| e.map_refusal(OpenFileRefusal::from);
    // A file's content is put together before the write transaction, so that a large file
    // does not hold the write lock; parts uploaded meanwhile are noticed below. With an S3
    // store, the parts sent to the bucket are joined there instead.
    let prepared = store.read(|conn| -> Result<_, OpenFileError> {
        let copy = object_copy(conn, user_id, id, ProjectHint::Exactly(project)).map_err(access)?;
        if copy.object.class != DxClass::File || copy.object.state != ObjectState::Open {
            return Ok(None);
        }
        let parts = file_parts(conn, copy.object.id)?;
        let content = assemble(store, conn, copy.object.id, &parts)?;
        Ok(Some((parts, content)))
    })?;
    store.write(claim, |conn| -> Result<(), OpenFileError> {
        let copy = copy_to_change(conn, user_id, id, project, Level::Upload).map_err(access)?;
        if copy.object.state != ObjectState::Open {
            return Ok(());
        }
        if copy.object.class != DxClass::File {
            objects::close(conn, copy.object.id, None)?;
            return Ok(());
        }
        let parts = file_parts(conn, copy.object.id)?;
        let content = match prepared {
            Some((assembled, content)) if assembled == parts => content,
            _ => assemble(store, conn, copy.object.id, &parts)?,
        };
        uploads::settle(conn, copy.object.id)?;
        match content {
            Assembled::Stored(content) => {
                objects::close(conn, copy.object.id, Some(&content))?;
            }
            Assembled::InBucket { key, size } => {
                uploads::delete_bucket_upload(conn, copy.object.id)?;
                // Closing until a job worker has its checksums (ferry_store::content_hashing).
                objects::close_over_key(conn, copy.object.id, &key, size)?;
            }
        }
        Ok(())
    })
}

/// The uploaded parts of an open file, in index order.
fn file_parts(
    conn: &mut DbConnection,
    object_id: ObjectRowId,
) -> Result<Vec<UploadedPart>, StoreError> {
    Ok(uploads::parts(conn, &[object_id])?
        .remove(&object_id)
        .unwrap_or_default())
}

/// The content the parts make: the bucket's object, if the file has a multipart upload there;
/// else the parts concatenated in the content store (empty without parts).
fn assemble(
    store: &Store,
    conn: &mut DbConnection,
    object_id: ObjectRowId,
    parts: &[UploadedPart],
) -> Result<Assembled, OpenFileError> {
    if let Some((upload_id, store_upload_id)) = uploads::bucket_upload(conn, object_id)? {
        let md5s: Vec<String> = parts.iter().map(|part| part.md5.clone()).collect();
        let (key, size) = store
            .content()
            .complete_remote_upload(&upload_id, &store_upload_id, &md5s)
            .map_err(|e| match e.kind() {
                io::ErrorKind::Other | io::ErrorKind::InvalidData => {
                    Failure::Refused(OpenFileRefusal::PartsRefusedByStore {
                        reason: format!(
                            "The object store refused the parts as announced (each part but the last needs {MIN_PART_SIZE} bytes at least, and the MD5 announced): {e}"
                        ),
                    })
                }
                _ => StoreError::from(e).into(),
            })?;
        return Ok(Assembled::InBucket { key, size });
    }
    let sha256s: Vec<&str> = parts
        .iter()
        .map(|part| {
            part.content_sha256
                .as_deref()
                .ok_or_else(|| StoreError::Corrupt(format!("part {} has no checksum", part.index)))
        })
        .collect::<Result<_, _>>()?;
    let content = store.content().concat(&sha256s).map_err(StoreError::from)?;
    Ok(Assembled::Stored(content))
}
