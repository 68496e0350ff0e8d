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
                created_at: now,
                created_by_user_id: object.created_by,
                modified_at: now,
            })
            .collect();
        let rows: Vec<ObjectRow> = each_backend!(conn, |c| diesel::insert_into(objects::table)
            .values(&new_objects)
            .returning(ObjectRow::as_returning())
            .get_results(c))?;
        let object_rows = in_order(
            rows,
            &new_objects,
            |row| row.dx_id.clone(),
            |new| &new.dx_id,
        )?;

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
        let rows: Vec<PlacementRow> =
            each_backend!(conn, |c| diesel::insert_into(placements::table)
                .values(&new_placements)
                .returning(PlacementRow::as_returning())
                .get_results(c))?;
        inserted.extend(in_order(
            rows,
            &new_placements,
            |row| row.sbg_id.clone(),
            |new| &new.sbg_id,
        )?);
    }
    Ok(inserted)
}

/// RETURNING gives no order guarantee: puts the rows back in the order they were sent, by the
/// unique id generated here.
fn in_order<R, N>(
    rows: Vec<R>,
    sent: &[N],
    row_key: impl Fn(&R) -> String,
    sent_key: impl Fn(&N) -> &String,
) -> Result<Vec<R>, StoreError> {
    let mut by_key: HashMap<String, R> = rows.into_iter().map(|r| (row_key(&r), r)).collect();
    sent.iter()
        .map(|new| {
            let key = sent_key(new);
            by_key
                .remove(key)
                .ok_or_else(|| StoreError::Corrupt(format!("row {key} was not returned")))
        })
        .collect()
}
