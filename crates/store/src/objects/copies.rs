//! Reading objects' copies: what a caller sees of each object in each project, and its class fields.

use super::*;
use ferry_domain::row_ids::{FolderRowId, ObjectRowId, PlacementRowId, ProjectRowId, UserRowId};

/// A copy of a data object (the object in one project) as a member of that project sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct ObjectCopy {
    pub object: Object,
    pub placement: Placement,
    /// The DNAnexus id of the project holding this copy.
    pub project: DxId,
    pub folder: FolderPath,
    /// Who created the object.
    pub created_by: Username,
    /// The caller's level in the project.
    pub level: Level,
}

/// Which copies [`visible_copies`] reads.
#[derive(Debug, Clone, Copy)]
pub enum CopyScope<'a> {
    /// The objects with these ids, in every project or in project `project_id` only.
    Objects {
        ids: &'a [DxId],
        project_id: Option<ProjectRowId>,
    },
    /// The objects of a folder, by name then id; the hidden ones only if `include_hidden`.
    Folder {
        folder_id: FolderRowId,
        include_hidden: bool,
    },
    /// These placements, by id.
    Placements(&'a [PlacementRowId]),
}

/// Ids per query: below SQLite's historical limit of 999 parameters.
pub(super) const IDS_PER_QUERY: usize = 900;

/// A placement with its object, project id, folder path, creator and the caller's level.
pub(super) type CopyRecord = (PlacementRow, ObjectRow, String, String, String, i16);

/// The copies in `scope` that `user_id` can see (those in projects they are a member of), one
/// query per 900 ids. Folder listings come by name then id, the rest by placement id.
pub fn visible_copies(
    conn: &mut DbConnection,
    user_id: UserRowId,
    scope: CopyScope<'_>,
) -> Result<Vec<ObjectCopy>, StoreError> {
    let mut found = Vec::new();
    match scope {
        CopyScope::Objects { ids, project_id } => {
            for chunk in ids.chunks(IDS_PER_QUERY) {
                let chunk: Vec<&str> = chunk.iter().map(DxId::as_str).collect();
                found.extend(load_copies(
                    conn,
                    user_id,
                    LoadScope::DxIds(&chunk, project_id.map(ProjectRowId::get)),
                )?);
            }
        }
        CopyScope::Folder {
            folder_id,
            include_hidden,
        } => {
            found = load_copies(
                conn,
                user_id,
                LoadScope::Folder(folder_id.get(), include_hidden),
            )?
        }
        CopyScope::Placements(ids) => {
            let ids: Vec<i64> = ids.iter().map(|id| id.get()).collect();
            for chunk in ids.chunks(IDS_PER_QUERY) {
                found.extend(load_copies(conn, user_id, LoadScope::PlacementIds(chunk))?);
            }
        }
    }
    found.into_iter().map(copy_from_record).collect()
}

/// One query's worth of a [`CopyScope`].
pub(super) enum LoadScope<'a> {
    DxIds(&'a [&'a str], Option<i64>),
    Folder(i64, bool),
    PlacementIds(&'a [i64]),
}

/// One query: placements with their object, project, folder, creator and the caller's level,
/// in the projects `user_id` is a member of.
pub(super) fn load_copies(
    conn: &mut DbConnection,
    user_id: UserRowId,
    scope: LoadScope<'_>,
) -> Result<Vec<CopyRecord>, StoreError> {
    let membership = project_members::table.on(project_members::project_id
        .eq(placements::project_id)
        .and(project_members::user_id.eq(user_id.get())));
    let creator = users::table.on(users::id.eq(objects::created_by_user_id));
    let query = placements::table
        .inner_join(objects::table)
        .inner_join(projects::table)
        .inner_join(folders::table)
        .inner_join(creator)
        .inner_join(membership)
        .select((
            PlacementRow::as_select(),
            ObjectRow::as_select(),
            projects::dx_id,
            folders::path,
            users::username,
            project_members::level,
        ))
        .into_boxed();
    let query = match scope {
        LoadScope::DxIds(ids, project_id) => {
            let query = query
                .filter(objects::dx_id.eq_any(ids))
                .order(placements::id);
            match project_id {
                Some(project_id) => query.filter(placements::project_id.eq(project_id)),
                None => query,
            }
        }
        LoadScope::Folder(folder_id, include_hidden) => {
            let query = query
                .filter(placements::folder_id.eq(folder_id))
                .order((placements::name, placements::id));
            if include_hidden {
                query
            } else {
                query.filter(objects::hidden.eq(false))
            }
        }
        LoadScope::PlacementIds(ids) => query
            .filter(placements::id.eq_any(ids))
            .order(placements::id),
    };
    Ok(query.load(conn)?)
}

pub(super) fn copy_from_record(
    (placement, object, project, folder, created_by, level): CopyRecord,
) -> Result<ObjectCopy, StoreError> {
    let bad = |e| corrupt("placements", placement.id, e);
    Ok(ObjectCopy {
        project: DxId::parse(&project).map_err(bad)?,
        folder: FolderPath::parse(&folder).map_err(bad)?,
        created_by: Username::parse(&created_by).map_err(bad)?,
        level: Level::from_i16(level).map_err(bad)?,
        placement: placement.try_into()?,
        object: object.try_into()?,
    })
}

/// The class fields of these objects (see [`create_with_class_fields`]), for those that have
/// some. One query per 900 objects.
pub fn class_fields(
    conn: &mut DbConnection,
    object_ids: &[ObjectRowId],
) -> Result<HashMap<ObjectRowId, Map<String, Value>>, StoreError> {
    let object_ids: Vec<i64> = object_ids.iter().map(|id| id.get()).collect();
    let object_ids = object_ids.as_slice();
    let mut found = HashMap::new();
    for chunk in object_ids.chunks(IDS_PER_QUERY) {
        let rows: Vec<(i64, String)> = object_class_fields::table
            .filter(object_class_fields::object_id.eq_any(chunk))
            .select((object_class_fields::object_id, object_class_fields::fields))
            .load(conn)?;
        for (id, fields) in rows {
            found.insert(
                ObjectRowId::new(id),
                from_json("object_class_fields", id, &fields)?,
            );
        }
    }
    Ok(found)
}
