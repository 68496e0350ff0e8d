//! The parts of open files, uploaded one by one (DNAnexus `/file-xxxx/upload`). The bytes of a
//! part are in the content store; closing the file concatenates the parts in index order. With
//! an S3 content store the parts go to one multipart upload of the bucket per file
//! (`dx_bucket_uploads`), recorded as their URLs are signed, and closing completes it.

use ferry_domain::row_ids::ObjectRowId;
use std::collections::HashMap;

use diesel::prelude::*;
use diesel::upsert::excluded;

use crate::convert::now;
use crate::db::DbConnection;
use crate::each_backend;
use crate::error::StoreError;
use crate::schema::{dx_bucket_uploads, upload_parts};

/// Objects per query: below SQLite's historical limit of 999 parameters.
const IDS_PER_QUERY: usize = 900;

/// One uploaded part of a file.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable)]
#[diesel(table_name = upload_parts, check_for_backend(diesel::pg::Pg, diesel::sqlite::Sqlite))]
pub struct UploadedPart {
    #[diesel(column_name = part_index)]
    pub index: i32,
    pub size: i64,
    /// Lowercase hex.
    pub md5: String,
    /// Where the content store keeps the bytes; none for a part sent to an S3 store's upload.
    pub content_sha256: Option<String>,
}

/// Records part `part.index` of the object, replacing an earlier upload of that index.
pub fn put(
    conn: &mut DbConnection,
    object_id: ObjectRowId,
    part: &UploadedPart,
) -> Result<(), StoreError> {
    let row = (
        upload_parts::object_id.eq(object_id.get()),
        upload_parts::part_index.eq(part.index),
        upload_parts::size.eq(part.size),
        upload_parts::md5.eq(&part.md5),
        upload_parts::content_sha256.eq(&part.content_sha256),
        upload_parts::uploaded_at.eq(now()),
    );
    each_backend!(conn, |c| diesel::insert_into(upload_parts::table)
        .values(row)
        .on_conflict((upload_parts::object_id, upload_parts::part_index))
        .do_update()
        .set((
            upload_parts::size.eq(excluded(upload_parts::size)),
            upload_parts::md5.eq(excluded(upload_parts::md5)),
            upload_parts::content_sha256.eq(excluded(upload_parts::content_sha256)),
            upload_parts::uploaded_at.eq(excluded(upload_parts::uploaded_at)),
        ))
        .execute(c))?;
    Ok(())
}

/// The parts of these objects, each object's in index order; objects without parts are left
/// out. One query per 900 objects.
pub fn parts(
    conn: &mut DbConnection,
    object_ids: &[ObjectRowId],
) -> Result<HashMap<ObjectRowId, Vec<UploadedPart>>, StoreError> {
    let object_ids: Vec<i64> = object_ids.iter().map(|id| id.get()).collect();
    let object_ids = object_ids.as_slice();
    let mut found: HashMap<ObjectRowId, Vec<UploadedPart>> = HashMap::new();
    for chunk in object_ids.chunks(IDS_PER_QUERY) {
        let rows: Vec<(i64, UploadedPart)> = upload_parts::table
            .filter(upload_parts::object_id.eq_any(chunk))
            .order((upload_parts::object_id, upload_parts::part_index))
            .select((upload_parts::object_id, UploadedPart::as_select()))
            .load(conn)?;
        for (object_id, part) in rows {
            found
                .entry(ObjectRowId::new(object_id))
                .or_default()
                .push(part);
        }
    }
    Ok(found)
}

/// Keeps the parts of a file being closed as its record of how it was uploaded (their index,
/// size and MD5, which `describe` shows), and lets their own contents go: the closed file's
/// content is the parts joined, so nothing refers to theirs (`content_gc` collects them).
pub fn settle(conn: &mut DbConnection, object_id: ObjectRowId) -> Result<(), StoreError> {
    diesel::update(upload_parts::table.filter(upload_parts::object_id.eq(object_id.get())))
        .set(upload_parts::content_sha256.eq(None::<String>))
        .execute(conn)?;
    Ok(())
}

/// The bucket's multipart upload of the object (its upload id and the store's), if it has one.
pub fn bucket_upload(
    conn: &mut DbConnection,
    object_id: ObjectRowId,
) -> Result<Option<(String, String)>, StoreError> {
    Ok(dx_bucket_uploads::table
        .filter(dx_bucket_uploads::object_id.eq(object_id.get()))
        .select((
            dx_bucket_uploads::upload_id,
            dx_bucket_uploads::store_upload_id,
        ))
        .first(conn)
        .optional()?)
}

/// Records the bucket's multipart upload of the object (whose row the caller holds locked).
pub fn create_bucket_upload(
    conn: &mut DbConnection,
    object_id: ObjectRowId,
    upload_id: &str,
    store_upload_id: &str,
) -> Result<(), StoreError> {
    diesel::insert_into(dx_bucket_uploads::table)
        .values((
            dx_bucket_uploads::object_id.eq(object_id.get()),
            dx_bucket_uploads::upload_id.eq(upload_id),
            dx_bucket_uploads::store_upload_id.eq(store_upload_id),
        ))
        .execute(conn)?;
    Ok(())
}

/// Forgets the object's bucket upload, once it is completed.
pub fn delete_bucket_upload(
    conn: &mut DbConnection,
    object_id: ObjectRowId,
) -> Result<(), StoreError> {
    diesel::delete(
        dx_bucket_uploads::table.filter(dx_bucket_uploads::object_id.eq(object_id.get())),
    )
    .execute(conn)?;
    Ok(())
}
