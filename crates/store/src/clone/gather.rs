//! What a clone reads before it writes: the containers, the listed objects and folders, the
//! hidden-link closure, what the destination already holds.

use super::*;
use ferry_domain::row_ids::{FolderRowId, ObjectRowId, ProjectRowId, UserRowId};

/// The source and destination containers, each if it exists, with the caller's level.
pub fn containers(
    conn: &mut DbConnection,
    user_id: UserRowId,
    source: &DxId,
    destination: &DxId,
) -> Result<(Option<CloneContainer>, Option<CloneContainer>), StoreError> {
    let membership = project_members::table.on(project_members::project_id
        .eq(projects::id)
        .and(project_members::user_id.eq(user_id.get())));
    let mut rows: Vec<ContainerRow> = projects::table
        .inner_join(billing_groups::table)
        .left_join(membership)
        .filter(projects::dx_id.eq_any([source.as_str(), destination.as_str()]))
        .select(ContainerRow::as_select())
        .load(conn)?;
    let mut take = |id: &DxId| {
        rows.iter()
            .position(|row| row.dx_id == id.as_str())
            .map(|i| rows.swap_remove(i))
            .map(CloneContainer::try_from)
            .transpose()
    };
    let source = take(source)?;
    let destination = take(destination)?;
    Ok((source, destination))
}

/// Serialises clones into one container until the end of the transaction: on PostgreSQL locks
/// the container's root folder row; on SQLite the write transaction holds the database's lock.
pub fn lock_destination(
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

/// The listed objects placed in the source, in the order given, each once, and the ids (as
/// given, sorted, each once) that name none.
pub fn listed_objects(
    conn: &mut DbConnection,
    source: ProjectRowId,
    ids: &[String],
) -> Result<(Vec<CloneSource>, Vec<String>), StoreError> {
    let mut found: HashMap<String, CloneSource> = HashMap::with_capacity(ids.len());
    for chunk in ids.chunks(IDS_PER_QUERY) {
        let rows: Vec<(ObjectRow, PlacementRow)> = placements::table
            .inner_join(objects::table)
            .filter(placements::project_id.eq(source.get()))
            .filter(objects::dx_id.eq_any(chunk))
            .select((ObjectRow::as_select(), PlacementRow::as_select()))
            .load(conn)?;
        found.extend(
            rows.into_iter()
                .map(|row| (row.0.dx_id.clone(), CloneSource::from(row))),
        );
    }
    let missing: Vec<String> = ids
        .iter()
        .filter(|id| !found.contains_key(*id))
        .cloned()
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let listed = ids.iter().filter_map(|id| found.remove(id)).collect();
    Ok((listed, missing))
}

type FolderTest = Box<dyn BoxableExpression<folders::table, MultiBackend, SqlType = Bool>>;

/// The source folders that are one of `listed` or inside one: folder -> path. One query per
/// 1,000 listed folders. `LIKE` narrows (it ignores ASCII case on SQLite); the folder or one
/// of its ancestors being listed decides.
pub fn folders_within(
    conn: &mut DbConnection,
    project_id: ProjectRowId,
    listed: &[FolderPath],
) -> Result<HashMap<FolderRowId, FolderPath>, StoreError> {
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
                found.insert(FolderRowId::new(id), path);
            }
        }
    }
    Ok(found)
}

/// The visible objects placed in these folders.
pub fn visible_objects_in(
    conn: &mut DbConnection,
    folder_ids: &[FolderRowId],
) -> Result<Vec<CloneSource>, StoreError> {
    let folder_ids: Vec<i64> = folder_ids.iter().map(|id| id.get()).collect();
    let mut found = Vec::new();
    for chunk in folder_ids.chunks(IDS_PER_QUERY) {
        found.extend(
            placements::table
                .inner_join(objects::table)
                .filter(placements::folder_id.eq_any(chunk))
                .filter(objects::hidden.eq(false))
                .select((ObjectRow::as_select(), PlacementRow::as_select()))
                .load::<(ObjectRow, PlacementRow)>(conn)?
                .into_iter()
                .map(CloneSource::from),
        );
    }
    Ok(found)
}

/// One level of the closure: the hidden objects placed in the source that the objects
/// `frontier` link to (from their details, or an applet's bundledDepends). Hidden targets
/// outside the source are not returned, so the walk does not go through them. Two queries, the
/// links then their targets: joined in one, SQLite's planner would start from the source's
/// placements and probe the frontier once per placement.
pub fn hidden_targets(
    conn: &mut DbConnection,
    source: ProjectRowId,
    frontier: &[ObjectRowId],
) -> Result<Vec<CloneSource>, StoreError> {
    let frontier: Vec<i64> = frontier.iter().map(|id| id.get()).collect();
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
                .filter(placements::project_id.eq(source.get()))
                .filter(objects::dx_id.eq_any(chunk))
                .filter(objects::hidden.eq(true))
                .select((ObjectRow::as_select(), PlacementRow::as_select()))
                .load::<(ObjectRow, PlacementRow)>(conn)?
                .into_iter()
                .map(CloneSource::from),
        );
    }
    Ok(found)
}

/// Of `paths`, those that exist in the project: path -> folder.
pub fn existing_folders(
    conn: &mut DbConnection,
    project_id: ProjectRowId,
    paths: &[FolderPath],
) -> Result<HashMap<FolderPath, FolderRowId>, StoreError> {
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
            found.insert(path, FolderRowId::new(id));
        }
    }
    Ok(found)
}

/// Of the objects `object_ids`, those placed in the project.
pub fn placed_in(
    conn: &mut DbConnection,
    project_id: ProjectRowId,
    object_ids: &[ObjectRowId],
) -> Result<BTreeSet<ObjectRowId>, StoreError> {
    let object_ids: Vec<i64> = object_ids.iter().map(|id| id.get()).collect();
    let mut found = BTreeSet::new();
    for chunk in object_ids.chunks(IDS_PER_QUERY) {
        found.extend(
            placements::table
                .filter(placements::project_id.eq(project_id.get()))
                .filter(placements::object_id.eq_any(chunk))
                .select(placements::object_id)
                .load::<i64>(conn)?
                .into_iter()
                .map(ObjectRowId::new),
        );
    }
    Ok(found)
}

/// Why the destination's third-party sponsorship cannot take these objects, if it cannot.
pub fn sponsorship_conflicts(
    conn: &mut DbConnection,
    destination: ProjectRowId,
    object_ids: &[ObjectRowId],
) -> Result<Option<SponsorshipConflict>, StoreError> {
    let object_ids: Vec<i64> = object_ids.iter().map(|id| id.get()).collect();
    sponsorship::conflicts(conn, destination, &object_ids)
}
