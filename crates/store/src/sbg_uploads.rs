//! SBG multipart uploads in progress: the plan each was started with, and the parts received.
//! The parts' bytes are in the upload's file in the content store
//! (`ContentStore::part_writer`); completing the upload stores that file as the new file's
//! content (`files::create_closed_file`) and deletes these rows.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::upsert::excluded;
use ferry_domain::ids::{SbgId, UploadId};
use ferry_domain::row_ids::{FolderRowId, UserRowId};
use ferry_domain::upload::PartPlan;

use crate::convert::{corrupt, from_db_time, now, to_db_time};
use crate::db::DbConnection;
use crate::each_backend;
use crate::error::StoreError;
use crate::schema::{folders, sbg_upload_parts, sbg_uploads};

/// An upload as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Upload {
    pub upload_id: String,
    pub user_id: UserRowId,
    /// Where the file goes.
    pub folder_id: FolderRowId,
    pub name: String,
    pub plan: PartPlan,
    /// Whether completing it replaces a file of the same name.
    pub overwrite: bool,
    pub created_at: DateTime<Utc>,
    /// Its multipart upload's id at an S3 content store; none with the local one.
    pub store_upload_id: Option<String>,
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = sbg_uploads, check_for_backend(diesel::pg::Pg, diesel::sqlite::Sqlite))]
struct UploadRow {
    upload_id: String,
    user_id: i64,
    folder_id: i64,
    name: String,
    size: i64,
    part_size: i64,
    overwrite: bool,
    created_at: chrono::NaiveDateTime,
    store_upload_id: Option<String>,
}

impl TryFrom<UploadRow> for Upload {
    type Error = StoreError;

    fn try_from(row: UploadRow) -> Result<Upload, StoreError> {
        let bad = |e: &dyn std::fmt::Display| corrupt("sbg_uploads", &row.upload_id, e);
        let size = u64::try_from(row.size).map_err(|e| bad(&e))?;
        let part_size = u64::try_from(row.part_size).map_err(|e| bad(&e))?;
        let plan = PartPlan::new(size, Some(part_size)).map_err(|e| bad(&e))?;
        if plan.part_size() != part_size {
            return Err(bad(&"the part size is not one a plan would pick"));
        }
        Ok(Upload {
            upload_id: row.upload_id,
            user_id: UserRowId::new(row.user_id),
            folder_id: FolderRowId::new(row.folder_id),
            name: row.name,
            plan,
            overwrite: row.overwrite,
            created_at: from_db_time(row.created_at),
            store_upload_id: row.store_upload_id,
        })
    }
}

/// One part received.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable)]
#[diesel(table_name = sbg_upload_parts, check_for_backend(diesel::pg::Pg, diesel::sqlite::Sqlite))]
pub struct ReceivedPart {
    pub part_number: i32,
    pub size: i64,
    /// Lowercase hex: the SHA-256 of the part's bytes.
    pub etag: String,
    pub reported: bool,
}

fn to_i64(value: u64) -> Result<i64, StoreError> {
    i64::try_from(value).map_err(|_| StoreError::Invalid(format!("{value} is too large")))
}

/// Records a new upload.
pub fn create(conn: &mut DbConnection, upload: &Upload) -> Result<(), StoreError> {
    let at = to_db_time(upload.created_at);
    diesel::insert_into(sbg_uploads::table)
        .values((
            sbg_uploads::upload_id.eq(&upload.upload_id),
            sbg_uploads::user_id.eq(upload.user_id.get()),
            sbg_uploads::folder_id.eq(upload.folder_id.get()),
            sbg_uploads::name.eq(&upload.name),
            sbg_uploads::size.eq(to_i64(upload.plan.size())?),
            sbg_uploads::part_size.eq(to_i64(upload.plan.part_size())?),
            sbg_uploads::overwrite.eq(upload.overwrite),
            sbg_uploads::created_at.eq(at),
            sbg_uploads::touched_at.eq(at),
            sbg_uploads::store_upload_id.eq(&upload.store_upload_id),
        ))
        .execute(conn)?;
    Ok(())
}

/// The upload `upload_id` of user `user_id`, and the SBG id of its folder: another user's is
/// not found.
pub fn get(
    conn: &mut DbConnection,
    user_id: UserRowId,
    upload_id: &UploadId,
) -> Result<Option<(Upload, SbgId)>, StoreError> {
    let found: Option<(UploadRow, String)> = sbg_uploads::table
        .inner_join(folders::table)
        .filter(sbg_uploads::upload_id.eq(upload_id.as_str()))
        .filter(sbg_uploads::user_id.eq(user_id.get()))
        .select((UploadRow::as_select(), folders::sbg_id))
        .first(conn)
        .optional()?;
    found
        .map(|(row, folder)| {
            let folder = SbgId::parse(&folder).map_err(|e| corrupt("folders", &folder, e))?;
            Ok((Upload::try_from(row)?, folder))
        })
        .transpose()
}

/// Records part `part.part_number` as received (and reported, if it is: the parts a client
/// sends to an S3 store are known from their reports alone), replacing an earlier one, and
/// marks the upload active; false if the upload is gone.
pub fn put_part(
    conn: &mut DbConnection,
    upload_id: &str,
    part: &ReceivedPart,
) -> Result<bool, StoreError> {
    if !touch(conn, upload_id)? {
        return Ok(false);
    }
    let row = (
        sbg_upload_parts::upload_id.eq(upload_id),
        sbg_upload_parts::part_number.eq(part.part_number),
        sbg_upload_parts::size.eq(part.size),
        sbg_upload_parts::etag.eq(&part.etag),
        sbg_upload_parts::reported.eq(part.reported),
        sbg_upload_parts::uploaded_at.eq(now()),
    );
    each_backend!(conn, |c| diesel::insert_into(sbg_upload_parts::table)
        .values(row)
        .on_conflict((sbg_upload_parts::upload_id, sbg_upload_parts::part_number))
        .do_update()
        .set((
            sbg_upload_parts::size.eq(excluded(sbg_upload_parts::size)),
            sbg_upload_parts::etag.eq(excluded(sbg_upload_parts::etag)),
            sbg_upload_parts::reported.eq(excluded(sbg_upload_parts::reported)),
            sbg_upload_parts::uploaded_at.eq(excluded(sbg_upload_parts::uploaded_at)),
        ))
        .execute(c))?;
    Ok(true)
}

/// Forgets part `part_number` while it is written again: its bytes in the upload's file are
/// about to change, so until the new ones are recorded, the upload lacks that part.
pub fn forget_part(
    conn: &mut DbConnection,
    upload_id: &str,
    part_number: i32,
) -> Result<(), StoreError> {
    diesel::delete(
        sbg_upload_parts::table
            .filter(sbg_upload_parts::upload_id.eq(upload_id))
            .filter(sbg_upload_parts::part_number.eq(part_number)),
    )
    .execute(conn)?;
    Ok(())
}

/// Marks part `part_number` reported if its ETag is `etag`, and the upload active; returns
/// the part as received (or `None`), so that the caller can say what did not match.
pub fn report_part(
    conn: &mut DbConnection,
    upload_id: &str,
    part_number: i32,
    etag: &str,
) -> Result<Option<ReceivedPart>, StoreError> {
    let part = sbg_upload_parts::table
        .filter(sbg_upload_parts::upload_id.eq(upload_id))
        .filter(sbg_upload_parts::part_number.eq(part_number))
        .select(ReceivedPart::as_select())
        .first(conn)
        .optional()?;
    if part.as_ref().is_some_and(|part| part.etag == etag) {
        diesel::update(
            sbg_upload_parts::table
                .filter(sbg_upload_parts::upload_id.eq(upload_id))
                .filter(sbg_upload_parts::part_number.eq(part_number)),
        )
        .set(sbg_upload_parts::reported.eq(true))
        .execute(conn)?;
        touch(conn, upload_id)?;
    }
    Ok(part)
}

/// The parts received, in order.
pub fn parts(conn: &mut DbConnection, upload_id: &str) -> Result<Vec<ReceivedPart>, StoreError> {
    Ok(sbg_upload_parts::table
        .filter(sbg_upload_parts::upload_id.eq(upload_id))
        .order(sbg_upload_parts::part_number)
        .select(ReceivedPart::as_select())
        .load(conn)?)
}

fn touch(conn: &mut DbConnection, upload_id: &str) -> Result<bool, StoreError> {
    let touched = diesel::update(sbg_uploads::table.filter(sbg_uploads::upload_id.eq(upload_id)))
        .set(sbg_uploads::touched_at.eq(now()))
        .execute(conn)?;
    Ok(touched == 1)
}

/// Deletes the upload and its parts; false if it was gone already. The caller deletes its file
/// once this commits (and the content collector any file a crash left).
pub fn delete(conn: &mut DbConnection, upload_id: &str) -> Result<bool, StoreError> {
    let deleted = diesel::delete(sbg_uploads::table.filter(sbg_uploads::upload_id.eq(upload_id)))
        .execute(conn)?;
    Ok(deleted == 1)
}

/// Deletes up to `limit` uploads idle since before `cutoff`, with their parts; returns their
/// ids and store upload ids, whose files the caller deletes. Two statements.
pub fn expire_idle_before(
    conn: &mut DbConnection,
    cutoff: DateTime<Utc>,
    limit: i64,
) -> Result<Vec<(String, Option<String>)>, StoreError> {
    let cutoff = to_db_time(cutoff);
    let idle: Vec<String> = sbg_uploads::table
        .filter(sbg_uploads::touched_at.lt(cutoff))
        .select(sbg_uploads::upload_id)
        .limit(limit)
        .load(conn)?;
    // Touched meanwhile: not idle any more.
    Ok(diesel::delete(
        sbg_uploads::table
            .filter(sbg_uploads::upload_id.eq_any(&idle))
            .filter(sbg_uploads::touched_at.lt(cutoff)),
    )
    .returning((sbg_uploads::upload_id, sbg_uploads::store_upload_id))
    .get_results(conn)?)
}

/// Of these upload ids, those of uploads that exist. One query per 900.
pub fn existing(conn: &mut DbConnection, upload_ids: &[String]) -> Result<Vec<String>, StoreError> {
    let mut found = Vec::new();
    for chunk in upload_ids.chunks(900) {
        found.extend(
            sbg_uploads::table
                .filter(sbg_uploads::upload_id.eq_any(chunk))
                .select(sbg_uploads::upload_id)
                .load::<String>(conn)?,
        );
    }
    Ok(found)
}

/// The plan of upload `upload_id`, whoever started it: what a signed part URL is checked
/// against.
pub fn plan(conn: &mut DbConnection, upload_id: &UploadId) -> Result<Option<PartPlan>, StoreError> {
    Ok(sbg_uploads::table
        .filter(sbg_uploads::upload_id.eq(upload_id.as_str()))
        .select(UploadRow::as_select())
        .first(conn)
        .optional()?
        .map(Upload::try_from)
        .transpose()?
        .map(|upload| upload.plan))
}
