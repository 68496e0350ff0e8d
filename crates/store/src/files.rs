//! Data objects and their placements in projects. An object is the identity (DNAnexus id,
//! state, details, content); a placement is that object in one project's folder, under a
//! name, with the SBG file id and the per-project metadata.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use ferry_domain::ids::{DxClass, DxId, SbgId};
use ferry_domain::model::{Folder, Object, ObjectState, Placement};
use ferry_domain::name::FileName;
use ferry_domain::naming::name_stem;

use crate::content::ContentInfo;
use crate::convert::{EMPTY_JSON_ARRAY, EMPTY_JSON_OBJECT, corrupt, from_db_time, from_json, now};
use crate::db::DbConnection;
use crate::error::StoreError;
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
}

impl TryFrom<ObjectRow> for Object {
    type Error = StoreError;

    fn try_from(row: ObjectRow) -> Result<Object, StoreError> {
        const TABLE: &str = "objects";
        let bad = |e| corrupt(TABLE, row.id, e);
        Ok(Object {
            id: row.id,
            dx_id: DxId::parse(&row.dx_id).map_err(bad)?,
            class: row.class.parse().map_err(bad)?,
            state: row.state.parse().map_err(bad)?,
            hidden: row.hidden,
            details: from_json(TABLE, row.id, &row.details)?,
            types: from_json(TABLE, row.id, &row.types)?,
            size: row.size,
            content_sha256: row.content_sha256,
            md5: row.md5,
            created_at: from_db_time(row.created_at),
            created_by_user_id: row.created_by_user_id,
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
            id: row.id,
            sbg_id: SbgId::parse(&row.sbg_id).map_err(|e| corrupt(TABLE, row.id, e))?,
            object_id: row.object_id,
            project_id: row.project_id,
            folder_id: row.folder_id,
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
    created_by: i64,
    project_id: i64,
    folder: &Folder,
    name: &FileName,
    content: &ContentInfo,
) -> Result<(Object, Placement), StoreError> {
    let size = i64::try_from(content.size)
        .map_err(|_| StoreError::Invalid(format!("file of {} bytes is too large", content.size)))?;
    debug_assert_eq!(
        folder.project_id, project_id,
        "the folder is in another project"
    );
    conn.transaction(|conn| {
        let now = now();
        let object: ObjectRow = diesel::insert_into(objects::table)
            .values((
                objects::dx_id.eq(DxId::generate(DxClass::File).as_str()),
                objects::class.eq(DxClass::File.as_str()),
                objects::state.eq(ObjectState::Closed.as_str()),
                objects::hidden.eq(false),
                objects::details.eq(EMPTY_JSON_OBJECT),
                objects::types.eq(EMPTY_JSON_ARRAY),
                objects::size.eq(size),
                objects::content_sha256.eq(&content.sha256),
                objects::md5.eq(&content.md5),
                objects::created_at.eq(now),
                objects::created_by_user_id.eq(created_by),
                objects::modified_at.eq(now),
            ))
            .returning(objects::all_columns)
            .get_result(conn)?;
        let placement: PlacementRow = diesel::insert_into(placements::table)
            .values((
                placements::sbg_id.eq(SbgId::generate().as_str()),
                placements::object_id.eq(object.id),
                placements::project_id.eq(project_id),
                placements::folder_id.eq(folder.id),
                placements::name.eq(name.as_str()),
                placements::name_stem.eq(name_stem(name.as_str())),
                placements::tags.eq(EMPTY_JSON_ARRAY),
                placements::properties.eq(EMPTY_JSON_OBJECT),
                placements::metadata.eq(EMPTY_JSON_OBJECT),
                placements::created_at.eq(now),
                placements::modified_at.eq(now),
            ))
            .returning(placements::all_columns)
            .get_result(conn)?;
        Ok((object.try_into()?, placement.try_into()?))
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
