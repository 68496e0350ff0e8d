//! The SBG copy: for each source file a new object (new DNAnexus id, same content, details,
//! types and state) and a new placement (new SBG file id) in the destination folder, named by
//! the `N_name` rule. Bytes are never copied: the new object points at the same content.
//!
//! The cost is a constant number of statements whatever the batch size (per 1,000 files): lock
//! the folder, read the names that can collide, read the sources' links, then one multi-row
//! INSERT … RETURNING each for objects, links and placements. Multi-row INSERTs are outside the
//! MultiConnection's common subset, so each runs on the concrete connection (`each_backend!`).

use std::collections::HashMap;

use diesel::prelude::*;
use ferry_domain::ids::{DxId, SbgId, SbgProjectId};
use ferry_domain::model::{FileView, Folder};
use ferry_domain::name::FileName;
use ferry_domain::naming::{allocate_names, name_stem};

use crate::convert::now;
use crate::db::DbConnection;
use crate::each_backend;
use crate::error::StoreError;
use crate::files::{ObjectRow, PlacementRow};
use crate::schema::{object_links, objects, placements};
use crate::{folders, names};

/// Rows per multi-row INSERT: 13 columns x 1,000 rows stays below both backends' parameter
/// limits (SQLite 32,766, PostgreSQL 65,535).
const ROWS_PER_INSERT: usize = 1_000;

/// One file to copy, with the name wanted for the copy (its own name if none is given).
#[derive(Debug, Clone, Copy)]
pub struct CopyItem<'a> {
    pub source: &'a FileView,
    pub name: Option<&'a FileName>,
}

/// What became of one item, in the order of the request.
#[derive(Debug, Clone)]
pub enum CopyResult {
    Copied(Box<FileView>),
    /// The `N_name` rule made the name longer than a file name may be.
    NameTooLong(String),
}

/// Where the copies go.
#[derive(Debug, Clone, Copy)]
pub struct Destination<'a> {
    pub project: &'a SbgProjectId,
    pub folder: &'a Folder,
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
    details: String,
    types: String,
    size: i64,
    content_sha256: Option<&'a str>,
    md5: Option<&'a str>,
    created_at: chrono::NaiveDateTime,
    created_by_user_id: i64,
    modified_at: chrono::NaiveDateTime,
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
    tags: String,
    properties: String,
    metadata: String,
    created_at: chrono::NaiveDateTime,
    modified_at: chrono::NaiveDateTime,
}

/// Copies `items` into `to`, as user `user_id`. The caller has checked every permission; run
/// this inside [`crate::db::write_transaction`] so that the folder lock holds until commit.
pub fn copy_files(
    conn: &mut DbConnection,
    user_id: i64,
    to: Destination<'_>,
    items: &[CopyItem<'_>],
) -> Result<Vec<CopyResult>, StoreError> {
    if items.is_empty() {
        return Ok(Vec::new());
    }
    folders::lock(conn, &[to.folder.id])?;
    let wanted: Vec<&str> = items
        .iter()
        .map(|item| {
            item.name
                .map_or(item.source.placement.name.as_str(), FileName::as_str)
        })
        .collect();
    let taken = names::taken_in_folder(conn, to.folder.id, &wanted)?;
    let allocated = allocate_names(&wanted, &taken);

    let copyable: Vec<(usize, FileName)> = allocated
        .iter()
        .enumerate()
        .filter_map(|(i, name)| FileName::parse(name.as_str()).ok().map(|n| (i, n)))
        .collect();
    let mut created: Vec<Option<FileView>> = vec![None; items.len()];
    for (i, view) in insert_copies(conn, user_id, to, items, &copyable)? {
        created[i] = Some(view);
    }
    Ok(allocated
        .into_iter()
        .zip(created)
        .map(|(name, view)| match view {
            Some(view) => CopyResult::Copied(Box::new(view)),
            None => CopyResult::NameTooLong(name),
        })
        .collect())
}

/// Inserts the objects, their links and the placements; returns (item index, new file).
fn insert_copies(
    conn: &mut DbConnection,
    user_id: i64,
    to: Destination<'_>,
    items: &[CopyItem<'_>],
    names: &[(usize, FileName)],
) -> Result<Vec<(usize, FileView)>, StoreError> {
    let now = now();
    let mut created = Vec::with_capacity(names.len());
    for chunk in names.chunks(ROWS_PER_INSERT) {
        let new_objects: Vec<NewObject<'_>> = chunk
            .iter()
            .map(|(i, _)| {
                let object = &items[*i].source.object;
                NewObject {
                    dx_id: DxId::generate(object.class).to_string(),
                    class: object.class.as_str(),
                    state: object.state.as_str(),
                    hidden: object.hidden,
                    details: object.details.to_string(),
                    types: serde_json::Value::from(object.types.clone()).to_string(),
                    size: object.size,
                    content_sha256: object.content_sha256.as_deref(),
                    md5: object.md5.as_deref(),
                    created_at: now,
                    created_by_user_id: user_id,
                    modified_at: now,
                }
            })
            .collect();
        let dx_ids: Vec<&str> = new_objects.iter().map(|o| o.dx_id.as_str()).collect();
        let inserted: Vec<ObjectRow> =
            each_backend!(conn, |c| diesel::insert_into(objects::table)
                .values(&new_objects)
                .returning(ObjectRow::as_returning())
                .get_results(c))?;
        let mut object_by_dx_id: HashMap<String, ObjectRow> = inserted
            .into_iter()
            .map(|row| (row.dx_id.clone(), row))
            .collect();
        let object_rows: Vec<ObjectRow> = dx_ids
            .iter()
            .map(|dx_id| {
                object_by_dx_id
                    .remove(*dx_id)
                    .ok_or_else(|| StoreError::Corrupt(format!("object {dx_id} not inserted")))
            })
            .collect::<Result<_, _>>()?;

        copy_links(
            conn,
            chunk.iter().map(|(i, _)| items[*i].source.object.id),
            &object_rows,
        )?;

        let new_placements: Vec<NewPlacement<'_>> = chunk
            .iter()
            .zip(&object_rows)
            .map(|((i, name), object)| {
                let source = &items[*i].source.placement;
                NewPlacement {
                    sbg_id: SbgId::generate().to_string(),
                    object_id: object.id,
                    project_id: to.folder.project_id,
                    folder_id: to.folder.id,
                    name: name.as_str(),
                    name_stem: name_stem(name.as_str()),
                    tags: serde_json::Value::from(source.tags.clone()).to_string(),
                    properties: serde_json::Value::Object(source.properties.clone()).to_string(),
                    metadata: serde_json::Value::Object(source.metadata.clone()).to_string(),
                    created_at: now,
                    modified_at: now,
                }
            })
            .collect();
        let inserted: Vec<PlacementRow> =
            each_backend!(conn, |c| diesel::insert_into(placements::table)
                .values(&new_placements)
                .returning(PlacementRow::as_returning())
                .get_results(c))?;
        let mut placement_by_object: HashMap<i64, PlacementRow> = inserted
            .into_iter()
            .map(|row| (row.object_id, row))
            .collect();
        for ((i, _), object) in chunk.iter().zip(object_rows) {
            let placement = placement_by_object.remove(&object.id).ok_or_else(|| {
                StoreError::Corrupt(format!("placement of object {} not returned", object.dx_id))
            })?;
            created.push((
                *i,
                FileView {
                    placement: placement.try_into()?,
                    object: object.try_into()?,
                    project: to.project.clone(),
                    parent: to.folder.sbg_id.clone(),
                },
            ));
        }
    }
    Ok(created)
}

/// Gives each new object the links of its source (details keep their `$dnanexus_link`s), in
/// one read and one multi-row INSERT.
fn copy_links(
    conn: &mut DbConnection,
    sources: impl Iterator<Item = i64>,
    copies: &[ObjectRow],
) -> Result<(), StoreError> {
    // One source may be copied more than once in a batch (to different destinations later).
    let mut copies_of: HashMap<i64, Vec<i64>> = HashMap::new();
    for (source, copy) in sources.zip(copies) {
        copies_of.entry(source).or_default().push(copy.id);
    }
    let source_ids: Vec<i64> = copies_of.keys().copied().collect();
    let links: Vec<(i64, String)> = object_links::table
        .filter(object_links::object_id.eq_any(&source_ids))
        .select((object_links::object_id, object_links::target_dx_id))
        .load(conn)?;
    if links.is_empty() {
        return Ok(());
    }
    let rows: Vec<_> = links
        .iter()
        .flat_map(|(source, target)| {
            copies_of[source].iter().map(move |copy| {
                (
                    object_links::object_id.eq(*copy),
                    object_links::target_dx_id.eq(target.as_str()),
                )
            })
        })
        .collect();
    for chunk in rows.chunks(ROWS_PER_INSERT * 5) {
        each_backend!(conn, |c| diesel::insert_into(object_links::table)
            .values(chunk)
            .execute(c))?;
    }
    Ok(())
}
