//! A multipart upload into a folder, as SBG's `/upload/multipart` runs it (docs/sbg.md,
//! Multipart upload): start it, record and report each part, complete it into a file, or
//! abort it. The wire (part URLs, their signatures, the bytes' stream) is the dialect's; the
//! rules are here.
//!
//! - An upload is its starter's alone: anyone else's upload id is not found, as an unknown one.
//! - A name taken in the folder is refused when the upload starts and again when it completes,
//!   unless the upload was started with `overwrite`: then the file of that name is deleted and
//!   the new one takes its name (a folder of that name is refused still).
//! - Completing needs every part of the plan received and reported. With the local content
//!   store the upload's file is sealed (parts being written are waited for) and hashed before
//!   the write transaction, so that a large file does not hold the write lock; the sealed file
//!   becomes the content after the commit, by a rename: the bytes are written once.

use std::io;

use chrono::Utc;
use ferry_domain::folder_ref::{FolderRef, FolderRefusal};
use ferry_domain::ids::UploadId;
use ferry_domain::model::{FileView, FolderView};
use ferry_domain::name::FileName;
use ferry_domain::row_ids::{PlacementRowId, UserRowId};
use ferry_domain::upload::{PartPlan, UploadRefusal};
use ferry_store::idempotency::Applying;
use ferry_store::sbg_uploads::{self, ReceivedPart, Upload};
use ferry_store::upload_digest::UploadDigests;
use ferry_store::{ContentInfo, DbConnection, Store, StoreError, files, folders, sbg_views};

use crate::failure::Failure;
use crate::folders::visible_folder;

/// An upload step that could not be done: refused, or the store failed.
pub type UploadError = Failure<UploadRefusal>;

/// An upload to start, its input parsed.
#[derive(Debug, Clone)]
pub struct NewUpload {
    pub user_id: UserRowId,
    pub target: FolderRef,
    pub name: FileName,
    pub plan: PartPlan,
    pub overwrite: bool,
}

/// Starts an upload: the folder writable, the name free (or replaceable), and the upload's
/// file (or its multipart upload at an S3 store) made.
pub fn start(
    store: &Store,
    claim: Option<&Applying>,
    new: NewUpload,
) -> Result<(Upload, FolderView), UploadError> {
    store.write(claim, |conn| {
        let folder = writable_folder(conn, new.user_id, &new.target)?;
        replaced_placements(conn, &folder, new.name.as_str(), new.overwrite)?;
        let upload_id = uuid::Uuid::new_v4().simple().to_string();
        // Made before the commit, so that every upload has its file (or its multipart upload
        // at an S3 store); one left by a failed commit is the collector's (or the bucket's
        // lifecycle rules').
        let store_upload_id = store
            .content()
            .create_upload(&upload_id, new.plan.size())
            .map_err(StoreError::from)?;
        let upload = Upload {
            upload_id,
            user_id: new.user_id,
            folder_id: folder.folder.id,
            name: new.name.as_str().to_owned(),
            plan: new.plan,
            overwrite: new.overwrite,
            created_at: Utc::now(),
            store_upload_id,
        };
        sbg_uploads::create(conn, &upload)?;
        Ok((upload, folder))
    })
}

/// The folder an upload goes to, refused unless the caller may write there.
fn writable_folder(
    conn: &mut DbConnection,
    user_id: UserRowId,
    target: &FolderRef,
) -> Result<FolderView, UploadError> {
    let (folder, permissions) =
        visible_folder(conn, user_id, target)?.map_err(|refusal| match refusal {
            FolderRefusal::ProjectNotFound => UploadRefusal::ProjectNotFound,
            FolderRefusal::FolderNotFound => UploadRefusal::DestinationNotFound,
            FolderRefusal::NotAFolder => UploadRefusal::NotAFolder,
        })?;
    if !permissions.can_write() {
        return Err(UploadRefusal::DestinationNotWritable.into());
    }
    Ok(folder)
}

/// The placements `name` replaces in `folder`: none if it is free, those of the file of that
/// name if `overwrite`; else the name is taken.
fn replaced_placements(
    conn: &mut DbConnection,
    folder: &FolderView,
    name: &str,
    overwrite: bool,
) -> Result<Vec<PlacementRowId>, UploadError> {
    let wanted = [(folder.folder.id, name)];
    if folders::names_taken(conn, &wanted, &[])?.is_empty() {
        return Ok(Vec::new());
    }
    let files = files::placements_named(conn, folder.folder.id, name)?;
    if overwrite && !files.is_empty() {
        Ok(files)
    } else {
        Err(UploadRefusal::NameTaken {
            name: name.to_owned(),
        }
        .into())
    }
}

/// The caller's upload `upload_id` and the folder it goes to, while the caller can see it.
pub fn own_upload(
    conn: &mut DbConnection,
    user_id: UserRowId,
    upload_id: &UploadId,
) -> Result<(Upload, FolderView), UploadError> {
    let (upload, folder) =
        sbg_uploads::get(conn, user_id, upload_id)?.ok_or(UploadRefusal::UploadNotFound)?;
    let (folder, _) = visible_folder(conn, user_id, &FolderRef::Folder(folder))?.map_err(
        |refusal| match refusal {
            FolderRefusal::NotAFolder => UploadRefusal::NotAFolder,
            _ => UploadRefusal::UploadNotFound,
        },
    )?;
    Ok((upload, folder))
}

/// The caller's upload `upload_id`, wherever it goes.
pub fn started_upload(
    conn: &mut DbConnection,
    user_id: UserRowId,
    upload_id: &UploadId,
) -> Result<Upload, UploadError> {
    let (upload, _) =
        sbg_uploads::get(conn, user_id, upload_id)?.ok_or(UploadRefusal::UploadNotFound)?;
    Ok(upload)
}

/// A part number as given (a path segment, a report's field): 1 up to the plan's parts.
pub fn part_number(plan: &PartPlan, given: &str) -> Result<u32, UploadRefusal> {
    given
        .parse::<u32>()
        .ok()
        .filter(|n| plan.part_len(*n).is_some())
        .ok_or_else(|| UploadRefusal::PartOutOfRange {
            given: given.to_owned(),
            parts: plan.parts(),
        })
}

fn stored_part_number(number: u32) -> Result<i32, StoreError> {
    i32::try_from(number).map_err(|_| StoreError::Invalid(format!("part number {number}")))
}

/// Records part `number`, `sent` bytes whose SHA-256 is `etag`, received in the upload's file:
/// refused unless the plan gives the part that length.
pub fn record_part(
    conn: &mut DbConnection,
    upload_id: &UploadId,
    plan: &PartPlan,
    number: u32,
    (sent, etag): (u64, String),
) -> Result<(), UploadError> {
    let planned = plan
        .part_len(number)
        .ok_or_else(|| UploadRefusal::PartOutOfRange {
            given: number.to_string(),
            parts: plan.parts(),
        })?;
    if sent != planned {
        return Err(UploadRefusal::PartWrongLength {
            part: number,
            sent,
            planned,
        }
        .into());
    }
    let part = ReceivedPart {
        part_number: stored_part_number(number)?,
        size: i64::try_from(sent).map_err(|_| StoreError::Invalid("part size".into()))?,
        etag,
        reported: false,
    };
    if sbg_uploads::put_part(conn, upload_id.as_str(), &part)? {
        Ok(())
    } else {
        Err(UploadRefusal::UploadNotFound.into())
    }
}

/// The client's report that part `given` is sent, with the `etag` the `PUT` answered. With an
/// S3 content store the report is all Ferry hears of the part (the bucket checks its ETag on
/// completion); else the ETag must be that of the bytes received.
pub fn report_part(
    conn: &mut DbConnection,
    user_id: UserRowId,
    upload_id: &UploadId,
    given: &str,
    etag: String,
) -> Result<(), UploadError> {
    let upload = started_upload(conn, user_id, upload_id)?;
    let number = part_number(&upload.plan, given)?;
    let len = upload
        .plan
        .part_len(number)
        .expect("the number is in the plan");
    let stored = stored_part_number(number)?;
    if upload.store_upload_id.is_some() {
        if etag.is_empty() {
            return Err(UploadRefusal::ReportWithoutEtag { part: number }.into());
        }
        let part = ReceivedPart {
            part_number: stored,
            size: i64::try_from(len).map_err(|_| StoreError::Invalid("part size".into()))?,
            etag,
            reported: true,
        };
        sbg_uploads::put_part(conn, upload_id.as_str(), &part)?;
        return Ok(());
    }
    match sbg_uploads::report_part(conn, upload_id.as_str(), stored, &etag)? {
        None => Err(UploadRefusal::PartNotUploaded { part: number }.into()),
        Some(part) if part.etag != etag => Err(UploadRefusal::EtagMismatch {
            part: number,
            reported: etag,
            received: part.etag,
        }
        .into()),
        Some(_) => Ok(()),
    }
}

/// The parts the plan has that were not received and reported, if any: refused then.
fn check_complete(plan: &PartPlan, parts: &[ReceivedPart]) -> Result<(), UploadRefusal> {
    let reported: Vec<u32> = parts
        .iter()
        .filter(|part| part.reported)
        .filter_map(|part| u32::try_from(part.part_number).ok())
        .collect();
    let missing: Vec<u32> = (1..=plan.parts())
        .filter(|n| !reported.contains(n))
        .take(10)
        .collect();
    if missing.is_empty() {
        Ok(())
    } else {
        Err(UploadRefusal::Incomplete {
            missing,
            parts: plan.parts(),
        })
    }
}

/// What a completed upload's bytes became: content of the local store, hashed, or an object of
/// an S3 store, not yet hashed.
#[derive(Debug, Clone, Copy)]
enum UploadedContent<'a> {
    Hashed(&'a ContentInfo),
    Unhashed { key: &'a str, size: u64 },
}

/// Completes the caller's upload `upload_id` into a file; `digests` may hold its hash,
/// computed as the parts arrived.
pub fn complete(
    store: &Store,
    claim: Option<&Applying>,
    user_id: UserRowId,
    upload_id: &UploadId,
    digests: &UploadDigests,
) -> Result<FileView, UploadError> {
    let (upload, parts) = store.read(|conn| -> Result<_, UploadError> {
        let (upload, _) = own_upload(conn, user_id, upload_id)?;
        Ok((upload, sbg_uploads::parts(conn, upload_id.as_str())?))
    })?;
    check_complete(&upload.plan, &parts)?;
    let etags: Vec<String> = parts.iter().map(|part| part.etag.clone()).collect();
    let create = |content: UploadedContent<'_>| {
        store.write(claim, |conn| {
            create_uploaded_file(conn, user_id, upload_id, &parts, content)
        })
    };
    if let Some(store_upload_id) = &upload.store_upload_id {
        let (key, size) = store
            .content()
            .complete_remote_upload(upload_id.as_str(), store_upload_id, &etags)
            .map_err(|e| match e.kind() {
                io::ErrorKind::Other | io::ErrorKind::InvalidData => {
                    Failure::Refused(UploadRefusal::PartsRefusedByStore {
                        reason: e.to_string(),
                    })
                }
                _ => StoreError::from(e).into(),
            })?;
        if size != upload.plan.size() {
            return Err(UploadRefusal::WrongSize {
                sent: size,
                planned: upload.plan.size(),
            }
            .into());
        }
        // The checksums come later, from a job worker (ferry_store::content_hashing).
        return create(UploadedContent::Unhashed { key: &key, size });
    }
    // Parts being written are waited for, later ones refused, and a part sent again
    // meanwhile is noticed in the transaction.
    let sealed = store
        .content()
        .seal_upload(upload_id.as_str(), || {
            digests.take(upload_id.as_str(), &etags)
        })
        .map_err(|e| match e.kind() {
            io::ErrorKind::NotFound => Failure::Refused(UploadRefusal::BeingCompleted),
            _ => StoreError::from(e).into(),
        })?;
    let created = if sealed.info().size == upload.plan.size() {
        create(UploadedContent::Hashed(sealed.info()))
    } else {
        tracing::error!(upload = %upload_id, "an upload's file has the wrong size");
        Err(StoreError::Corrupt(format!("upload {upload_id}'s file has the wrong size")).into())
    };
    match created {
        // Stored after the commit: a crash between leaves the file sealed, and the collector
        // stores it then.
        Ok(view) => {
            sealed.store().map_err(StoreError::from)?;
            Ok(view)
        }
        Err(e) => {
            sealed.unseal().map_err(StoreError::from)?;
            Err(e)
        }
    }
}

/// The unit of work of a completion: the checks again, the new file over `content` (closed, or
/// closing until its checksums are known), the upload's deletion.
fn create_uploaded_file(
    conn: &mut DbConnection,
    user_id: UserRowId,
    upload_id: &UploadId,
    parts: &[ReceivedPart],
    content: UploadedContent<'_>,
) -> Result<FileView, UploadError> {
    let (upload, folder) = own_upload(conn, user_id, upload_id)?;
    if sbg_uploads::parts(conn, upload_id.as_str())? != parts {
        return Err(UploadRefusal::PartResent.into());
    }
    let folder = writable_folder(conn, user_id, &FolderRef::Folder(folder.folder.sbg_id))?;
    if folders::lock(conn, &[folder.folder.id])?.is_empty() {
        return Err(UploadRefusal::DestinationNotFound.into());
    }
    let replaced = replaced_placements(conn, &folder, &upload.name, upload.overwrite)?;
    files::delete_placements(conn, &replaced)?;
    let name = FileName::parse(upload.name.clone())
        .map_err(|e| StoreError::Corrupt(format!("upload {upload_id}'s name: {e}")))?;
    let project_id = folder.folder.project_id;
    let (_, placement) = match content {
        UploadedContent::Hashed(info) => {
            files::create_closed_file(conn, user_id, project_id, &folder.folder, &name, info)?
        }
        UploadedContent::Unhashed { key, size } => {
            files::create_closing_file(conn, user_id, project_id, &folder.folder, &name, size, key)?
        }
    };
    sbg_uploads::delete(conn, upload_id.as_str())?;
    let ids = [placement.sbg_id];
    let (view, _) = sbg_views::files_by_sbg_ids(conn, user_id, &ids)?
        .pop()
        .ok_or_else(|| StoreError::Corrupt(format!("the file upload {upload_id} made")))?;
    Ok(view)
}

/// Drops the caller's upload `upload_id` with its parts and its file.
pub fn abort(
    store: &Store,
    claim: Option<&Applying>,
    user_id: UserRowId,
    upload_id: &UploadId,
    digests: &UploadDigests,
) -> Result<(), UploadError> {
    let upload = store.write(claim, |conn| {
        let upload = started_upload(conn, user_id, upload_id)?;
        sbg_uploads::delete(conn, upload_id.as_str())?;
        Ok::<_, UploadError>(upload)
    })?;
    digests.forget(upload_id.as_str());
    // After the commit; a file a crash leaves here is the collector's.
    store
        .content()
        .discard_upload(upload_id.as_str(), upload.store_upload_id.as_deref())
        .map_err(StoreError::from)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn part(number: i32, reported: bool) -> ReceivedPart {
        ReceivedPart {
            part_number: number,
            size: 1,
            etag: String::new(),
            reported,
        }
    }

    #[test]
    fn completing_needs_every_part_reported() {
        let plan = PartPlan::new(12 * 1024 * 1024, Some(5 * 1024 * 1024)).unwrap();
        let all = [part(1, true), part(2, true), part(3, true)];
        assert_eq!(check_complete(&plan, &all), Ok(()));
        assert_eq!(
            check_complete(&plan, &[part(1, true), part(3, false)]),
            Err(UploadRefusal::Incomplete {
                missing: vec![2, 3],
                parts: 3
            })
        );
        let empty = PartPlan::new(0, None).unwrap();
        assert_eq!(
            check_complete(&empty, &[]),
            Err(UploadRefusal::Incomplete {
                missing: vec![1],
                parts: 1
            })
        );
        for out_of_range in ["0", "4", "x"] {
            assert!(part_number(&plan, out_of_range).is_err(), "{out_of_range}");
        }
        assert_eq!(part_number(&plan, "3"), Ok(3));
    }
}
