//! Data objects and their placements in projects. An object is the identity (DNAnexus id,
//! state, details, content); a placement is that object in one project's folder, under a
//! name, with the SBG file id and the per-project metadata.

use chrono::NaiveDateTime;
use diesel::dsl::{exists, not};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Nullable};
use ferry_domain::ids::{DxClass, DxId, SbgId};
use ferry_domain::model::{Folder, Object, ObjectState, Placement};
use ferry_domain::name::FileName;
use ferry_domain::naming::{name_number, name_stem};
use ferry_domain::row_ids::{FolderRowId, ObjectRowId, PlacementRowId, ProjectRowId, UserRowId};
use serde_json::{Map, Value};

use crate::case::{TextById, ValueById};
use crate::content::ContentInfo;
use crate::convert::{EMPTY_JSON_ARRAY, EMPTY_JSON_OBJECT, corrupt, from_db_time, from_json, now};
use crate::db::DbConnection;
use crate::error::StoreError;
use crate::placing::{ObjectSpec, PlacementSpec, insert_placed};
use crate::schema::{objects, placements};

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = objects, check_for_backend(diesel::pg::Pg, diesel::sqlite::Sqlite))]
pub(crate) struct ObjectRow {
    pub id: i64,
    pub dx_id: String,
    pub class: String,
    pub state: String,
    pub hidden: bool,
    pub details: String,
    pub types: String,
    pub size: i64,
    pub content_sha256: Option<String>,
    pub md5: Option<String>,
    pub created_at: NaiveDateTime,
    pub created_by_user_id: i64,
    pub modified_at: NaiveDateTime,
    pub content_key: Option<String>,
}

impl TryFrom<ObjectRow> for Object {
    type Error = StoreError;

    fn try_from(row: ObjectRow) -> Result<Object, StoreError> {
        const TABLE: &str = "objects";
        let bad = |e| corrupt(TABLE, row.id, e);
        Ok(Object {
            id: ObjectRowId::new(row.id),
            dx_id: DxId::parse(&row.dx_id).map_err(bad)?,
            class: row.class.parse().map_err(bad)?,
            state: row.state.parse().map_err(bad)?,
            hidden: row.hidden,
            details: from_json(TABLE, row.id, &row.details)?,
            types: from_json(TABLE, row.id, &row.types)?,
            size: row.size,
            content_sha256: row.content_sha256,
            md5: row.md5,
            content_key: row.content_key,
            created_at: from_db_time(row.created_at),
            created_by_user_id: UserRowId::new(row.created_by_user_id),
            modified_at: from_db_time(row.modified_at),
        })
    }
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = placements, check_for_backend(diesel::pg::Pg, diesel::sqlite::Sqlite))]
pub(crate) struct PlacementRow {
    pub id: i64,
    pub sbg_id: String,
    pub object_id: i64,
    pub project_id: i64,
    pub folder_id: i64,
    pub name: String,
    #[expect(
        dead_code,
        reason = "derived from `name`, for queries only; read with all columns"
    )]
    pub name_stem: String,
    #[expect(
        dead_code,
        reason = "derived from `name`, for queries only; read with all columns"
    )]
    pub name_number: Option<i64>,
    pub tags: String,
    pub properties: String,
    pub metadata: String,
    pub created_at: NaiveDateTime,
    pub modified_at: NaiveDateTime,
}

impl TryFrom<PlacementRow> for Placement {
    type Error = StoreError;

    fn try_from(row: PlacementRow) -> Result<Placement, StoreError> {
        const TABLE: &str = "placements";
        Ok(Placement {
            id: PlacementRowId::new(row.id),
            sbg_id: SbgId::parse(&row.sbg_id).map_err(|e| corrupt(TABLE, row.id, e))?,
            object_id: ObjectRowId::new(row.object_id),
            project_id: ProjectRowId::new(row.project_id),
            folder_id: FolderRowId::new(row.folder_id),
            name: row.name,
            tags: from_json(TABLE, row.id, &row.tags)?,
            properties: from_json(TABLE, row.id, &row.properties)?,
            metadata: from_json(TABLE, row.id, &row.metadata)?,
            created_at: from_db_time(row.created_at),
            modified_at: from_db_time(row.modified_at),
        })
    }
}

/// Creates a closed file object over stored content and places it in `folder` (of project
/// `project_id`) under `name`, with no tags, properties or metadata. Does not check whether
/// the name is taken: DNAnexus allows two objects of one name in a folder, and the caller
/// knows which dialect it serves.
pub fn create_closed_file(
    conn: &mut DbConnection,
    created_by: UserRowId,
    project_id: ProjectRowId,
    folder: &Folder,
    name: &FileName,
    content: &ContentInfo,
) -> Result<(Object, Placement), StoreError> {
    create_closed_files(
        conn,
        created_by,
        project_id,
        folder,
        &[(name.clone(), content.clone())],
    )?
    .pop()
    .ok_or_else(|| StoreError::Corrupt("no file was created".to_owned()))
}

/// [`create_closed_file`] for many files in one folder, with a constant number of statements.
pub fn create_closed_files(
    conn: &mut DbConnection,
    created_by: UserRowId,
    project_id: ProjectRowId,
    folder: &Folder,
    files: &[(FileName, ContentInfo)],
) -> Result<Vec<(Object, Placement)>, StoreError> {
    debug_assert_eq!(
        folder.project_id, project_id,
        "the folder is in another project"
    );
    let specs = files
        .iter()
        .map(|(name, content)| {
            let mut object = file_spec(created_by, content.size)?;
            object.content_sha256 = Some(&content.sha256);
            object.md5 = Some(&content.md5);
            Ok((object, file_placement_spec(project_id, folder, name)))
        })
        .collect::<Result<Vec<_>, StoreError>>()?;
    insert_files(conn, &specs)
}

/// A file over bytes the content store holds at `content_key` but has not hashed yet (an SBG
/// upload completed into an S3 store): `closing`, without SHA-256 or MD5 until a job worker
/// computes them (`content_hashing`).
pub fn create_closing_file(
    conn: &mut DbConnection,
    created_by: UserRowId,
    project_id: ProjectRowId,
    folder: &Folder,
    name: &FileName,
    size: u64,
    content_key: &str,
) -> Result<(Object, Placement), StoreError> {
    let mut object = file_spec(created_by, size)?;
    object.state = ObjectState::Closing;
    object.content_key = Some(content_key);
    insert_files(
        conn,
        &[(object, file_placement_spec(project_id, folder, name))],
    )?
    .pop()
    .ok_or_else(|| StoreError::Corrupt("no file was created".to_owned()))
}

/// A closed file of `size` bytes, no content named yet.
fn file_spec<'a>(created_by: UserRowId, size: u64) -> Result<ObjectSpec<'a>, StoreError> {
    let size = i64::try_from(size)
        .map_err(|_| StoreError::Invalid(format!("file of {size} bytes is too large")))?;
    Ok(ObjectSpec {
        class: DxClass::File,
        state: ObjectState::Closed,
        hidden: false,
        details: EMPTY_JSON_OBJECT.to_owned(),
        types: EMPTY_JSON_ARRAY.to_owned(),
        size,
        content_sha256: None,
        md5: None,
        content_key: None,
        created_by: created_by.get(),
    })
}

fn file_placement_spec<'a>(
    project_id: ProjectRowId,
    folder: &Folder,
    name: &'a FileName,
) -> PlacementSpec<'a> {
    PlacementSpec {
        project_id: project_id.get(),
        folder_id: folder.id.get(),
        name: name.as_str(),
        tags: EMPTY_JSON_ARRAY.to_owned(),
        properties: EMPTY_JSON_OBJECT.to_owned(),
        metadata: EMPTY_JSON_OBJECT.to_owned(),
    }
}

fn insert_files(
    conn: &mut DbConnection,
    specs: &[(ObjectSpec<'_>, PlacementSpec<'_>)],
) -> Result<Vec<(Object, Placement)>, StoreError> {
    conn.transaction(|conn| {
        insert_placed(conn, specs)?
            .into_iter()
            .map(|(object, placement)| Ok((object.try_into()?, placement.try_into()?)))
            .collect()
    })
}

/// The placement with this SBG file id, and its object.
pub fn get_placement_by_sbg_id(
    conn: &mut DbConnection,
    sbg_id: &SbgId,
) -> Result<Option<(Placement, Object)>, StoreError> {
    let found: Option<(PlacementRow, ObjectRow)> = placements::table
        .inner_join(objects::table)
        .filter(placements::sbg_id.eq(sbg_id.as_str()))
        .select((PlacementRow::as_select(), ObjectRow::as_select()))
        .first(conn)
        .optional()?;
    found
        .map(|(placement, object)| Ok((placement.try_into()?, object.try_into()?)))
        .transpose()
}

/// Rows per UPDATE or DELETE statement: five parameters a row stays below both backends'
/// parameter limits (SQLite 32,766, PostgreSQL 65,535).
const ROWS_PER_STATEMENT: usize = 1_000;

/// The SBG-visible fields of one placement, as they are to be stored. The name is a `String`:
/// a name the API did not change is written back as it is stored.
#[derive(Debug, Clone, PartialEq)]
pub struct PlacementUpdate {
    pub placement_id: PlacementRowId,
    pub name: String,
    pub tags: Vec<String>,
    pub metadata: Map<String, Value>,
}

/// Writes the name, tags and metadata of each placement and stamps it modified: one UPDATE
/// statement per 1,000 placements, each column set from a `CASE id WHEN ... END` over the rows.
/// Name rules are the caller's to check (under [`crate::folders::lock`]).
pub fn update_placements(
    conn: &mut DbConnection,
    updates: &[PlacementUpdate],
) -> Result<(), StoreError> {
    let now = now();
    for chunk in updates.chunks(ROWS_PER_STATEMENT) {
        let ids: Vec<i64> = chunk.iter().map(|u| u.placement_id.get()).collect();
        let column = |value: fn(&PlacementUpdate) -> String| {
            TextById::new(
                placements::id,
                chunk
                    .iter()
                    .map(|u| (u.placement_id.get(), value(u)))
                    .collect(),
            )
        };
        let numbers: ValueById<_, Nullable<BigInt>, Option<i64>> = ValueById::new(
            placements::id,
            chunk
                .iter()
                .map(|u| (u.placement_id.get(), name_number(&u.name)))
                .collect(),
        );
        diesel::update(placements::table.filter(placements::id.eq_any(&ids)))
            .set((
                placements::name.eq(column(|u| u.name.clone())),
                placements::name_stem.eq(column(|u| name_stem(&u.name).to_owned())),
                placements::name_number.eq(numbers),
                placements::tags.eq(column(|u| to_json(&u.tags))),
                placements::metadata.eq(column(|u| to_json(&u.metadata))),
                placements::modified_at.eq(now),
            ))
            .execute(conn)?;
    }
    Ok(())
}

/// Puts placement `placement_id` into folder `folder_id` under `name` and stamps it modified:
/// one UPDATE. The name rules (the `N_name` rule of a move) are the caller's, under
/// [`crate::folders::lock`].
pub fn relocate(
    conn: &mut DbConnection,
    placement_id: PlacementRowId,
    folder_id: FolderRowId,
    name: &FileName,
) -> Result<(), StoreError> {
    diesel::update(placements::table.find(placement_id.get()))
        .set((
            placements::folder_id.eq(folder_id.get()),
            placements::name.eq(name.as_str()),
            placements::name_stem.eq(name_stem(name.as_str())),
            placements::name_number.eq(name_number(name.as_str())),
            placements::modified_at.eq(now()),
        ))
        .execute(conn)?;
    Ok(())
}

fn to_json(value: &impl serde::Serialize) -> String {
    serde_json::to_string(value).expect("tags and metadata serialise")
}

/// The placements named `name` in the folder: one at most where SBG names things, any number
/// where DNAnexus made them.
pub fn placements_named(
    conn: &mut DbConnection,
    folder_id: FolderRowId,
    name: &str,
) -> Result<Vec<PlacementRowId>, StoreError> {
    let ids: Vec<i64> = placements::table
        .filter(placements::folder_id.eq(folder_id.get()))
        .filter(placements::name.eq(name))
        .select(placements::id)
        .load(conn)?;
    Ok(ids.into_iter().map(PlacementRowId::new).collect())
}

/// Deletes the placements, then the objects that no project holds any more (their links go
/// with them). Two statements per 1,000 placements. The content stays in the content store,
/// which other objects may share.
pub fn delete_placements(
    conn: &mut DbConnection,
    placement_ids: &[PlacementRowId],
) -> Result<(), StoreError> {
    let keys: Vec<i64> = placement_ids.iter().map(|id| id.get()).collect();
    delete_placement_keys(conn, &keys)
}

/// [`delete_placements`] by the placements' keys, as the store's own queries read them.
pub(crate) fn delete_placement_keys(
    conn: &mut DbConnection,
    placement_ids: &[i64],
) -> Result<(), StoreError> {
    for chunk in placement_ids.chunks(ROWS_PER_STATEMENT) {
        let object_ids: Vec<i64> =
            diesel::delete(placements::table.filter(placements::id.eq_any(chunk)))
                .returning(placements::object_id)
                .get_results(conn)?;
        let still_placed = placements::table
            .filter(placements::object_id.eq(objects::id))
            .select(placements::id);
        diesel::delete(
            objects::table
                .filter(objects::id.eq_any(&object_ids))
                .filter(not(exists(still_placed))),
        )
        .execute(conn)?;
    }
    Ok(())
}
