//! What a clone reads before it writes: the containers, the listed objects and folders, the hidden-link closure, what the destination already holds.

use super::*;
use ferry_domain::row_ids::ProjectRowId;

/// The source and destination containers, once the caller may clone from one to the other.
pub(super) fn containers(
    conn: &mut DbConnection,
    request: &CloneRequest<'_>,
) -> Result<(ContainerRow, ContainerRow), CloneError> {
    let membership = project_members::table.on(project_members::project_id
        .eq(projects::id)
        .and(project_members::user_id.eq(request.user_id.get())));
    let mut rows: Vec<ContainerRow> = projects::table
        .inner_join(billing_groups::table)
        .left_join(membership)
        .filter(projects::dx_id.eq_any([request.source.as_str(), request.destination.as_str()]))
        .select(ContainerRow::as_select())
        .load(conn)?;
    let mut take = |id: &DxId| {
        rows.iter()
            .position(|row| row.dx_id == id.as_str())
            .map(|i| rows.swap_remove(i))
    };
    let source = take(request.source).ok_or(CloneRefusal::SourceNotFound)?;
    let destination = take(request.destination).ok_or(CloneRefusal::DestinationNotFound)?;
    // Every member has VIEW at least: no level is no access.
    if source.level()?.is_none() {
        return Err(CloneRefusal::SourceNotViewable.into());
    }
    if destination
        .level()?
        .is_none_or(|level| level < Level::Upload)
    {
        return Err(CloneRefusal::DestinationNotWritable.into());
    }
    if source.restricted {
        return Err(CloneRefusal::SourceRestricted.into());
    }
    if source.contains_phi && !destination.contains_phi {
        return Err(CloneRefusal::PhiIntoNonPhi.into());
    }
    if source.region != destination.region {
        return Err(CloneRefusal::DifferentRegions.into());
    }
    Ok((source, destination))
}

/// Serialises clones into one container until the end of the transaction: on PostgreSQL locks
/// the container's root folder row; on SQLite the write transaction holds the database's lock.
pub(super) fn lock_destination(
    conn: &mut DbConnection,
    project_id: ProjectRowId,
) -> Result<(), StoreError> {
    if let DbConnection::Pg(pg) = conn {
        folders::table
            .filter(folders::project_id.eq(project_id.get()))
            .filter(folders::parent_id.is_null())
            .select(folders::id)
            .for_update()
            .load::<i64>(pg)?;
    }
    Ok(())
}

/// The listed objects placed in the source, in the order given, each once; refuses the ids
/// that name none.
pub(super) fn listed_objects(
    conn: &mut DbConnection,
    source_id: i64,
    ids: &[String],
) -> Result<Vec<Source>, CloneError> {
    let mut found: HashMap<String, Source> = HashMap::with_capacity(ids.len());
    for chunk in ids.chunks(IDS_PER_QUERY) {
        let rows: Vec<Source> = placements::table
            .inner_join(objects::table)
            .filter(placements::project_id.eq(source_id))
            .filter(objects::dx_id.eq_any(chunk))
            .select((ObjectRow::as_select(), PlacementRow::as_select()))
            .load(conn)?;
        found.extend(rows.into_iter().map(|row| (row.0.dx_id.clone(), row)));
    }
    let missing: Vec<String> = ids
        .iter()
        .filter(|id| !found.contains_key(*id))
        .cloned()
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    if !missing.is_empty() {
        return Err(CloneRefusal::ObjectsNotInSource(missing).into());
    }
    Ok(ids.iter().filter_map(|id| found.remove(id)).collect())
}

pub(super) type FolderTest =
    Box<dyn BoxableExpression<folders::table, MultiBackend, SqlType = Bool>>;

/// The source folders that are one of `listed` or inside one: folder id -> path. One query per
/// 1,000 listed folders. `LIKE` narrows (it ignores ASCII case on SQLite); the folder or one
/// of its ancestors being listed decides.
pub(super) fn folders_within(
    conn: &mut DbConnection,
    project_id: ProjectRowId,
    listed: &[FolderPath],
) -> Result<HashMap<i64, FolderPath>, StoreError> {
    let mut found = HashMap::new();
    for chunk in listed.chunks(FOLDERS_PER_QUERY) {
        let mut query = folders::table
            .filter(folders::project_id.eq(project_id.get()))
            .select((folders::id, folders::path))
            .into_boxed();
        if !chunk.iter().any(FolderPath::is_root) {
            let digests: Vec<String> = chunk.iter().map(path_digest).collect();
            let within = chunk
                .iter()
                .map(|folder| -> FolderTest {
                    let pattern = format!("{}/%", escape_like(folder.as_str()));
                    Box::new(folders::path.like(pattern).escape('\\'))
                })
                .fold(
                    Box::new(folders::path_digest.eq_any(digests)) as FolderTest,
                    |any, test| Box::new(any.or(test)),
                );
            query = query.filter(within);
        }
        let listed_here: HashSet<&FolderPath> = chunk.iter().collect();
        for (id, path) in query.load::<(i64, String)>(conn)? {
            let path = FolderPath::parse(&path).map_err(|e| corrupt("folders", id, e))?;
            let inside = listed_here.contains(&path)
                || path.ancestors().iter().any(|a| listed_here.contains(a));
            if inside {
                found.insert(id, path);
            }
        }
    }
    Ok(found)
}

/// The visible objects placed in these folders.
pub(super) fn visible_objects_in(
    conn: &mut DbConnection,
    folder_ids: Vec<i64>,
) -> Result<Vec<Source>, StoreError> {
    let mut found = Vec::new();
    for chunk in folder_ids.chunks(IDS_PER_QUERY) {
        found.extend(
            placements::table
                .inner_join(objects::table)
                .filter(placements::folder_id.eq_any(chunk))
                .filter(objects::hidden.eq(false))
                .select((ObjectRow::as_select(), PlacementRow::as_select()))
                .load::<Source>(conn)?,
        );
    }
    Ok(found)
}

/// One level of the closure: the hidden objects placed in the source that the objects
/// `frontier` link to (from their details, or an applet's bundledDepends). Hidden targets
/// outside the source are not returned, so the walk does not go through them. Two queries, the
/// links then their targets: joined in one, SQLite's planner would start from the source's
/// placements and probe the frontier once per placement.
pub(super) fn hidden_targets(
    conn: &mut DbConnection,
    source_id: i64,
    frontier: &[i64],
) -> Result<Vec<Source>, StoreError> {
    let mut targets = BTreeSet::new();
    for chunk in frontier.chunks(IDS_PER_QUERY) {
        targets.extend(
            object_links::table
                .filter(object_links::object_id.eq_any(chunk))
                .select(object_links::target_dx_id)
                .load::<String>(conn)?,
        );
    }
    let targets: Vec<String> = targets.into_iter().collect();
    let mut found = Vec::new();
    for chunk in targets.chunks(IDS_PER_QUERY) {
        found.extend(
            placements::table
                .inner_join(objects::table)
                .filter(placements::project_id.eq(source_id))
                .filter(objects::dx_id.eq_any(chunk))
                .filter(objects::hidden.eq(true))
                .select((ObjectRow::as_select(), PlacementRow::as_select()))
                .load::<Source>(conn)?,
        );
    }
    Ok(found)
}

/// Of `paths`, those that exist in the project: path -> folder id.
pub(super) fn existing_folders(
    conn: &mut DbConnection,
    project_id: ProjectRowId,
    paths: &[FolderPath],
) -> Result<HashMap<FolderPath, i64>, StoreError> {
    let mut found = HashMap::with_capacity(paths.len());
    for chunk in paths.chunks(IDS_PER_QUERY) {
        let digests: Vec<String> = chunk.iter().map(path_digest).collect();
        let rows: Vec<(i64, String)> = folders::table
            .filter(folders::project_id.eq(project_id.get()))
            .filter(folders::path_digest.eq_any(&digests))
            .select((folders::id, folders::path))
            .load(conn)?;
        for (id, path) in rows {
            let path = FolderPath::parse(&path).map_err(|e| corrupt("folders", id, e))?;
            found.insert(path, id);
        }
    }
    Ok(found)
}

/// Of the objects `object_ids`, those placed in the project.
pub(super) fn placed_in(
    conn: &mut DbConnection,
    project_id: ProjectRowId,
    object_ids: &[i64],
) -> Result<BTreeSet<i64>, StoreError> {
    let mut found = BTreeSet::new();
    for chunk in object_ids.chunks(IDS_PER_QUERY) {
        found.extend(
            placements::table
                .filter(placements::project_id.eq(project_id.get()))
                .filter(placements::object_id.eq_any(chunk))
                .select(placements::object_id)
                .load::<i64>(conn)?,
        );
    }
    Ok(found)
}
