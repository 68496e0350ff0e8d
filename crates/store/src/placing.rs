//! New objects with their placements, inserted in bulk: one multi-row INSERT … RETURNING per
//! table per 1,000 rows, whatever the number of items. Shared by every path that makes objects
//! (copies, imports, uploads) so that none of them costs a statement per file.

use std::collections::HashMap;

use chrono::NaiveDateTime;
use diesel::prelude::*;
use ferry_domain::ids::{DxClass, DxId, SbgId};
use ferry_domain::model::ObjectState;
use ferry_domain::naming::{name_number, name_stem};

use crate::convert::now;
use crate::db::DbConnection;
use crate::each_backend;
use crate::error::StoreError;
use crate::files::{ObjectRow, PlacementRow};
use crate::schema::{objects, placements};

/// Rows per multi-row INSERT: 13 columns x 1,000 rows stays below both backends' parameter
/// limits (SQLite 32,766, PostgreSQL 65,535).
pub(crate) const ROWS_PER_INSERT: usize = 1_000;

/// A new object: everything but its row id and timestamps.
#[derive(Debug, Clone)]
pub(crate) struct ObjectSpec<'a> {
    pub class: DxClass,
    pub state: ObjectState,
    pub hidden: bool,
    /// JSON text.
    pub details: String,
    /// JSON text of an array of strings.
    pub types: String,
    pub size: i64,
    pub content_sha256: Option<&'a str>,
    pub md5: Option<&'a str>,
    pub content_key: Option<&'a str>,
    pub created_by: i64,
}

/// Where and under which name the new object is placed, with its per-project metadata.
#[derive(Debug, Clone)]
pub(crate) struct PlacementSpec<'a> {
    pub project_id: i64,
    pub folder_id: i64,
    pub name: &'a str,
    /// JSON text of an array of strings.
    pub tags: String,
    /// JSON text of an object.
    pub properties: String,
    /// JSON text of an object.
    pub metadata: String,
}

/// `treat_none_as_default_value = false` writes NULL for `None`: with a DEFAULT in the rows,
/// Diesel would run a SQLite batch as one INSERT per row.
#[derive(Insertable)]
#[diesel(table_name = objects, treat_none_as_default_value = false)]
struct NewObject<'a> {
    dx_id: String,
    class: &'a str,
    state: &'a str,
    hidden: bool,
    details: &'a str,
    types: &'a str,
    size: i64,
    content_sha256: Option<&'a str>,
    md5: Option<&'a str>,
    content_key: Option<&'a str>,
    created_at: NaiveDateTime,
    created_by_user_id: i64,
    modified_at: NaiveDateTime,
}

#[derive(Insertable)]
#[diesel(table_name = placements, treat_none_as_default_value = false)]
struct NewPlacement<'a> {
    sbg_id: String,
    object_id: i64,
    project_id: i64,
    folder_id: i64,
    name: &'a str,
    name_stem: &'a str,
    name_number: Option<i64>,
    tags: &'a str,
    properties: &'a str,
    metadata: &'a str,
    created_at: NaiveDateTime,
    modified_at: NaiveDateTime,
}

/// Inserts each object (with a new DNAnexus id) and its placement (with a new SBG id); returns
/// the rows in the order of `items`.
pub(crate) fn insert_placed(
    conn: &mut DbConnection,
    items: &[(ObjectSpec<'_>, PlacementSpec<'_>)],
) -> Result<Vec<(ObjectRow, PlacementRow)>, StoreError> {
    let now = now();
    let mut inserted = Vec::with_capacity(items.len());
    for chunk in items.chunks(ROWS_PER_INSERT) {
        let new_objects: Vec<NewObject<'_>> = chunk
            .iter()
            .map(|(object, _)| NewObject {
                dx_id: DxId::generate(object.class).to_string(),
                class: object.class.as_str(),
                state: object.state.as_str(),
                hidden: object.hidden,
                details: &object.details,
                types: &object.types,
                size: object.size,
                content_sha256: object.content_sha256,
                md5: object.md5,
                content_key: object.content_key,
                created_at: now,
                created_by_user_id: object.created_by,
                modified_at: now,
            })
            .collect();
        // Only the ids come back: the rest is what was sent, and decoding it again (timestamps
        // above all) cost more than the INSERT's own work in profiles of a batch copy.
        let returned: Vec<(i64, String)> =
            each_backend!(conn, |c| diesel::insert_into(objects::table)
                .values(&new_objects)
                .returning((objects::id, objects::dx_id))
                .get_results(c))?;
        let ids = ids_in_order(returned, new_objects.iter().map(|new| &new.dx_id))?;
        let object_rows: Vec<ObjectRow> = new_objects
            .into_iter()
            .zip(ids)
            .map(|(new, id)| ObjectRow {
                id,
                class: new.class.to_owned(),
                state: new.state.to_owned(),
                hidden: new.hidden,
                details: new.details.to_owned(),
                types: new.types.to_owned(),
                size: new.size,
                content_sha256: new.content_sha256.map(str::to_owned),
                md5: new.md5.map(str::to_owned),
                content_key: new.content_key.map(str::to_owned),
                created_at: new.created_at,
                created_by_user_id: new.created_by_user_id,
                modified_at: new.modified_at,
                dx_id: new.dx_id,
            })
            .collect();

        let placed: Vec<(i64, &PlacementSpec<'_>)> = chunk
            .iter()
            .zip(&object_rows)
            .map(|((_, placement), object)| (object.id, placement))
            .collect();
        let placement_rows = insert_placements(conn, &placed)?;
        inserted.extend(object_rows.into_iter().zip(placement_rows));
    }
    Ok(inserted)
}

/// Places existing objects: each (object id, placement) gets a row with a new SBG id, one
/// multi-row INSERT … RETURNING per 1,000; returns the rows in the order of `items`.
pub(crate) fn insert_placements(
    conn: &mut DbConnection,
    items: &[(i64, &PlacementSpec<'_>)],
) -> Result<Vec<PlacementRow>, StoreError> {
    let now = now();
    let mut inserted = Vec::with_capacity(items.len());
    for chunk in items.chunks(ROWS_PER_INSERT) {
        let new_placements: Vec<NewPlacement<'_>> = chunk
            .iter()
            .map(|(object_id, placement)| NewPlacement {
                sbg_id: SbgId::generate().to_string(),
                object_id: *object_id,
                project_id: placement.project_id,
                folder_id: placement.folder_id,
                name: placement.name,
                name_stem: name_stem(placement.name),
                name_number: name_number(placement.name),
                tags: &placement.tags,
                properties: &placement.properties,
                metadata: &placement.metadata,
                created_at: now,
                modified_at: now,
            })
            .collect();
        let returned: Vec<(i64, String)> =
            each_backend!(conn, |c| diesel::insert_into(placements::table)
                .values(&new_placements)
                .returning((placements::id, placements::sbg_id))
                .get_results(c))?;
        let ids = ids_in_order(returned, new_placements.iter().map(|new| &new.sbg_id))?;
        inserted.extend(
            new_placements
                .into_iter()
                .zip(ids)
                .map(|(new, id)| PlacementRow {
                    id,
                    object_id: new.object_id,
                    project_id: new.project_id,
                    folder_id: new.folder_id,
                    name: new.name.to_owned(),
                    name_stem: new.name_stem.to_owned(),
                    name_number: new.name_number,
                    tags: new.tags.to_owned(),
                    properties: new.properties.to_owned(),
                    metadata: new.metadata.to_owned(),
                    created_at: new.created_at,
                    modified_at: new.modified_at,
                    sbg_id: new.sbg_id,
                }),
        );
    }
    Ok(inserted)
}

/// RETURNING gives no order guarantee: the returned ids in the order the rows were sent, matched
/// by the unique key generated here.
fn ids_in_order<'k>(
    returned: Vec<(i64, String)>,
    sent: impl Iterator<Item = &'k String>,
) -> Result<Vec<i64>, StoreError> {
    let mut by_key: HashMap<String, i64> =
        returned.into_iter().map(|(id, key)| (key, id)).collect();
    sent.map(|key| {
        by_key
            .remove(key)
            .ok_or_else(|| StoreError::Corrupt(format!("row {key} was not returned")))
    })
    .collect()
}
