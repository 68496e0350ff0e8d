//! What a clone writes: the missing destination folders, then a placement per object in the
//! destination, with the source copy's name, tags, properties and class fields.

use super::*;
use ferry_domain::row_ids::{FolderRowId, ProjectRowId, UserRowId};

/// Creates the destination folders `paths` (each after its parent), adding them to `known`,
/// the destination's folders read so far. A folder made since they were read, by a writer that
/// does not lock the root, is a [`StoreError::Conflict`].
pub fn create_folders(
    conn: &mut DbConnection,
    destination: ProjectRowId,
    paths: &[FolderPath],
    known: &mut HashMap<FolderPath, FolderRowId>,
) -> Result<(), StoreError> {
    let mut ids: HashMap<FolderPath, i64> = known
        .iter()
        .map(|(path, id)| (path.clone(), id.get()))
        .collect();
    insert_tree(conn, destination, paths, &mut ids)?;
    known.extend(
        ids.into_iter()
            .map(|(path, id)| (path, FolderRowId::new(id))),
    );
    Ok(())
}

/// Places each source in the destination folder given with it, and replaces each open
/// workflow of `replicas` with a new workflow object placed there: multi-row INSERTs, a few
/// per 1,000 rows.
pub fn place(
    conn: &mut DbConnection,
    user_id: UserRowId,
    destination: ProjectRowId,
    placements: &[(&CloneSource, FolderRowId)],
    replicas: &[(&CloneSource, FolderRowId)],
) -> Result<(), StoreError> {
    let specs: Vec<(i64, PlacementSpec<'_>)> = placements
        .iter()
        .map(|(source, folder)| {
            let spec = placement_spec(&source.placement, destination, *folder);
            (source.placement.object_id, spec)
        })
        .collect();
    let spec_refs: Vec<(i64, &PlacementSpec<'_>)> =
        specs.iter().map(|(id, spec)| (*id, spec)).collect();
    insert_placements(conn, &spec_refs)?;
    replicate(conn, user_id, destination, replicas)
}

/// An open workflow is not refused: the seed has it replicated, a new workflow object.
pub(super) fn is_open_workflow(object: &ObjectRow) -> bool {
    object.class == DxClass::Workflow.as_str() && object.state == ObjectState::Open.as_str()
}

pub(super) fn parse_dx_id(object: &ObjectRow) -> Result<DxId, StoreError> {
    DxId::parse(&object.dx_id).map_err(|e| corrupt("objects", object.id, e))
}

/// The destination placement of a source placement: the same name, tags, properties and
/// metadata.
fn placement_spec(
    source: &PlacementRow,
    project_id: ProjectRowId,
    folder_id: FolderRowId,
) -> PlacementSpec<'_> {
    PlacementSpec {
        project_id: project_id.get(),
        folder_id: folder_id.get(),
        name: &source.name,
        tags: source.tags.clone(),
        properties: source.properties.clone(),
        metadata: source.metadata.clone(),
    }
}

/// Places in the destination a new workflow object for each open workflow, with its details,
/// types, links and class fields, created by the caller.
fn replicate(
    conn: &mut DbConnection,
    user_id: UserRowId,
    project_id: ProjectRowId,
    workflows: &[(&CloneSource, FolderRowId)],
) -> Result<(), StoreError> {
    if workflows.is_empty() {
        return Ok(());
    }
    let specs: Vec<_> = workflows
        .iter()
        .map(|(source, folder)| {
            let object = &source.object;
            let object_spec = ObjectSpec {
                class: DxClass::Workflow,
                state: ObjectState::Open,
                hidden: object.hidden,
                details: object.details.clone(),
                types: object.types.clone(),
                size: object.size,
                content_sha256: object.content_sha256.as_deref(),
                md5: object.md5.as_deref(),
                content_key: object.content_key.as_deref(),
                created_by: user_id.get(),
            };
            let placement = placement_spec(&source.placement, project_id, *folder);
            (object_spec, placement)
        })
        .collect();
    let replicas: Vec<i64> = insert_placed(conn, &specs)?
        .into_iter()
        .map(|(object, _)| object.id)
        .collect();
    let originals = || workflows.iter().map(|(source, _)| source.object.id);
    copy_links(conn, originals(), replicas.iter().copied())?;
    copy_class_fields(conn, originals().zip(replicas.iter().copied()))
}

/// Gives each copy the class fields (`object_class_fields`: a workflow's stages, ...) of its
/// original: one read and one multi-row INSERT.
fn copy_class_fields(
    conn: &mut DbConnection,
    originals_and_copies: impl Iterator<Item = (i64, i64)>,
) -> Result<(), StoreError> {
    let copy_of: HashMap<i64, i64> = originals_and_copies.collect();
    let originals: Vec<i64> = copy_of.keys().copied().collect();
    let fields: Vec<(i64, String)> = object_class_fields::table
        .filter(object_class_fields::object_id.eq_any(&originals))
        .select((object_class_fields::object_id, object_class_fields::fields))
        .load(conn)?;
    let rows: Vec<_> = fields
        .iter()
        .map(|(original, fields)| {
            (
                object_class_fields::object_id.eq(copy_of[original]),
                object_class_fields::fields.eq(fields.as_str()),
            )
        })
        .collect();
    if !rows.is_empty() {
        each_backend!(conn, |c| diesel::insert_into(object_class_fields::table)
            .values(&rows)
            .execute(c))?;
    }
    Ok(())
}
