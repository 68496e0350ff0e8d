//! The DNAnexus clone (`/project-xxxx/clone`) and `listProjects`, over the shared model: a clone
//! gives the same object (same DNAnexus id) a new placement in the destination container, with a
//! copy of the source placement's name, tags, properties and SBG metadata and a new SBG file id,
//! so the clone shows in both dialects. Bytes and details are never copied. The contract is
//! `shared/seeds/dnanexus-clone.txt`; what it leaves open is decided in `docs/dx-clone.md`.
//!
//! Every refusal is found before the first write, and the writes commit in one transaction.
//! The cost is a constant number of statements per level of the hidden-link closure and per
//! 1,000 rows written (a few per 10,000 ids read), whatever the number of objects:
//!
//! 1. both containers with their billing group and the caller's level, in one query;
//! 2. on PostgreSQL, a lock on the destination's root folder row, so that clones into one
//!    container run one at a time (SQLite's `BEGIN IMMEDIATE` already serialises writers);
//! 3. the listed objects; the source folders inside the listed folders; the visible objects in
//!    them; the destination folders that matter (the destination's chain and the folders to
//!    create);
//! 4. the closure, breadth-first: per level one query for the frontier's links and one for
//!    which of their targets are hidden and placed in the source;
//! 5. the objects already in the destination, and sponsorship if the destination is sponsored;
//! 6. the writes: folders (per depth), placements, and for open workflows new replica objects.

use std::collections::{BTreeSet, HashMap, HashSet};

use diesel::expression::BoxableExpression;
use diesel::prelude::*;
use diesel::sql_types::Bool;
use ferry_domain::clone::{CloneRefusal, FolderPlan, check_folder_names, walk};
use ferry_domain::ids::{DxClass, DxId};
use ferry_domain::model::ObjectState;
use ferry_domain::path::FolderPath;
use ferry_domain::permission::Level;

use crate::convert::{corrupt, escape_like};
use crate::copy::copy_links;
use crate::db::{DbConnection, MultiBackend};
use crate::each_backend;
use crate::error::StoreError;
use crate::files::{ObjectRow, PlacementRow};
use crate::folders::{insert_tree, path_digest};
use crate::placing::{ObjectSpec, PlacementSpec, insert_placed, insert_placements};
use crate::schema::{
    billing_groups, folders, object_class_fields, object_links, objects, placements,
    project_members, projects,
};
use crate::sponsorship;
use crate::unit_of_work::atomic;

/// Ids per query: below both backends' parameter limits (SQLite 32,766, PostgreSQL 65,535) with
/// room for a statement's other parameters, so a clone of 10,000 objects reads each kind of row
/// in one statement.
pub(crate) const IDS_PER_QUERY: usize = 30_000;

/// Listed folders per query for their subtrees: two parameters each.
const FOLDERS_PER_QUERY: usize = 1_000;

/// A clone request, its input parsed; the caller has checked that the source and the
/// destination are different containers.
#[derive(Debug, Clone, Copy)]
pub struct CloneRequest<'a> {
    pub user_id: i64,
    pub source: &'a DxId,
    pub destination: &'a DxId,
    /// Object ids as given: one that names no object placed in the source is reported as not
    /// found, whatever it is.
    pub objects: &'a [String],
    /// Folders of the source; the same path twice is one folder.
    pub folders: &'a [FolderPath],
    /// The destination folder.
    pub folder: &'a FolderPath,
    /// Create the destination folder and its missing parents.
    pub parents: bool,
}

/// What a clone did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cloned {
    /// The objects to clone that the destination already held, left alone; sorted.
    pub exists: Vec<DxId>,
    /// How many objects got a new placement, replicas included.
    pub placed: usize,
}

#[derive(Debug, thiserror::Error)]
pub enum CloneError {
    #[error("clone refused: {0:?}")]
    Refused(CloneRefusal),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<CloneRefusal> for CloneError {
    fn from(refusal: CloneRefusal) -> Self {
        CloneError::Refused(refusal)
    }
}

impl From<diesel::result::Error> for CloneError {
    fn from(e: diesel::result::Error) -> Self {
        CloneError::Store(e.into())
    }
}

/// A container as a clone sees it: flags, region, who pays, and the caller's level.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(check_for_backend(diesel::pg::Pg, diesel::sqlite::Sqlite))]
struct ContainerRow {
    #[diesel(select_expression = projects::id)]
    id: i64,
    #[diesel(select_expression = projects::dx_id)]
    dx_id: String,
    #[diesel(select_expression = projects::region)]
    region: String,
    #[diesel(select_expression = projects::restricted)]
    restricted: bool,
    #[diesel(select_expression = projects::contains_phi)]
    contains_phi: bool,
    #[diesel(select_expression = projects::sponsored_until)]
    sponsored_until: Option<chrono::NaiveDateTime>,
    #[diesel(select_expression = projects::billing_group_id)]
    billing_group_id: i64,
    #[diesel(select_expression = billing_groups::bill_to)]
    bill_to: String,
    #[diesel(select_expression = billing_groups::spending_limit_cents)]
    spending_limit_cents: Option<i64>,
    #[diesel(select_expression = billing_groups::spent_cents)]
    spent_cents: i64,
    #[diesel(select_expression = project_members::level.nullable())]
    level: Option<i16>,
}

impl ContainerRow {
    fn level(&self) -> Result<Option<Level>, StoreError> {
        self.level
            .map(Level::from_i16)
            .transpose()
            .map_err(|e| corrupt("project_members", self.id, e))
    }

    fn at_spending_limit(&self) -> bool {
        self.spending_limit_cents
            .is_some_and(|limit| self.spent_cents >= limit)
    }
}

/// An object to clone, with its placement in the source.
type Source = (ObjectRow, PlacementRow);

/// Clones as `shared/seeds/dnanexus-clone.txt` says; see the module documentation.
pub fn clone_objects(
    conn: &mut DbConnection,
    request: &CloneRequest<'_>,
) -> Result<Cloned, CloneError> {
    check_folder_names(request.folders)?;
    atomic(conn, |conn| {
        let (source, destination) = containers(conn, request)?;
        lock_destination(conn, destination.id)?;

        let mut seen = HashSet::with_capacity(request.folders.len());
        let listed_folders: Vec<FolderPath> = request
            .folders
            .iter()
            .filter(|folder| seen.insert(*folder))
            .cloned()
            .collect();
        let listed = listed_objects(conn, source.id, request.objects)?;
        let source_folders = folders_within(conn, source.id, &listed_folders)?;
        let found: HashSet<&FolderPath> = source_folders.values().collect();
        let missing: Vec<FolderPath> = listed_folders
            .iter()
            .filter(|folder| !found.contains(folder))
            .cloned()
            .collect();
        if !missing.is_empty() {
            return Err(CloneRefusal::FoldersNotInSource(missing).into());
        }
        let source_paths: Vec<FolderPath> = source_folders.values().cloned().collect();
        // A plan that cannot be made (two listed folders making one folder, a path beyond the
        // limits) is reported after the missing destination folder and the spending limit, as
        // docs/dx-clone.md orders the refusals.
        let plan = FolderPlan::new(request.folder, &listed_folders, &source_paths);
        let planned_folders = plan.as_ref().map(FolderPlan::created).unwrap_or_default();

        let mut chain = request.folder.ancestors();
        chain.push(request.folder.clone());
        let wanted: Vec<FolderPath> = chain.iter().chain(planned_folders).cloned().collect();
        let mut destination_folders = existing_folders(conn, destination.id, &wanted)?;
        let missing_chain: Vec<FolderPath> = chain
            .iter()
            .filter(|path| !destination_folders.contains_key(*path))
            .cloned()
            .collect();
        if !missing_chain.is_empty() && !request.parents {
            return Err(CloneRefusal::DestinationFolderNotFound(request.folder.clone()).into());
        }
        if destination.at_spending_limit()
            && destination.billing_group_id != source.billing_group_id
        {
            return Err(CloneRefusal::SpendingLimitReached(destination.bill_to).into());
        }
        let plan = plan?;
        let conflicts: Vec<FolderPath> = plan
            .created()
            .iter()
            .filter(|path| destination_folders.contains_key(*path))
            .cloned()
            .collect();
        if !conflicts.is_empty() {
            return Err(CloneRefusal::FolderConflict(conflicts).into());
        }

        let mut sources: HashMap<i64, Source> = HashMap::new();
        let mut start: Vec<i64> = listed.iter().map(|(object, _)| object.id).collect();
        sources.extend(listed.into_iter().map(|row| (row.0.id, row)));
        let mut in_folders = visible_objects_in(conn, source_folders.keys().copied().collect())?;
        in_folders.sort_by(|a, b| a.0.dx_id.cmp(&b.0.dx_id));
        start.extend(in_folders.iter().map(|(object, _)| object.id));
        for row in in_folders {
            sources.entry(row.0.id).or_insert(row);
        }
        let reached = walk(start, |frontier| {
            let found = hidden_targets(conn, source.id, frontier)?;
            let ids = found.iter().map(|(object, _)| object.id).collect();
            for row in found {
                sources.entry(row.0.id).or_insert(row);
            }
            Ok::<_, StoreError>(ids)
        })?;

        let mut not_closed = Vec::new();
        for id in &reached {
            let object = &sources[id].0;
            let state: ObjectState = object
                .state
                .parse()
                .map_err(|e| corrupt("objects", id, e))?;
            if state != ObjectState::Closed && !is_open_workflow(object) {
                not_closed.push(parse_dx_id(object)?);
            }
        }
        if !not_closed.is_empty() {
            not_closed.sort();
            return Err(CloneRefusal::NotClosed(not_closed).into());
        }

        let present = placed_in(conn, destination.id, &reached)?;
        let mut exists = Vec::with_capacity(present.len());
        let mut new_placements = Vec::new();
        let mut replicas = Vec::new();
        for id in &reached {
            let row = &sources[id];
            if present.contains(id) {
                exists.push(parse_dx_id(&row.0)?);
            } else if is_open_workflow(&row.0) {
                replicas.push(row);
            } else {
                new_placements.push(row);
            }
        }
        exists.sort();
        if sponsorship::is_sponsored(destination.sponsored_until) {
            let ids: Vec<i64> = new_placements.iter().map(|(object, _)| object.id).collect();
            if let Some(conflict) = sponsorship::conflicts(conn, destination.id, &ids)? {
                return Err(CloneRefusal::Sponsorship(conflict).into());
            }
        }

        // Every check has passed: write.
        let mut to_create = missing_chain;
        to_create.extend(plan.created().iter().cloned());
        // Only a folder made since the check, by a writer that does not lock the root, can clash.
        insert_tree(conn, destination.id, &to_create, &mut destination_folders).map_err(
            |e| match e {
                StoreError::Conflict(_) => CloneRefusal::FolderConflict(to_create.clone()).into(),
                other => CloneError::from(other),
            },
        )?;
        let folder_of = |placement: &PlacementRow| -> Result<i64, StoreError> {
            let target = source_folders
                .get(&placement.folder_id)
                .and_then(|path| plan.target_of(path))
                .unwrap_or(request.folder);
            destination_folders.get(target).copied().ok_or_else(|| {
                StoreError::Corrupt(format!("destination folder {target} was not created"))
            })
        };
        let specs = new_placements
            .iter()
            .map(|(_, placement)| {
                Ok((
                    placement.object_id,
                    placement_spec(placement, destination.id, folder_of(placement)?),
                ))
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        let spec_refs: Vec<(i64, &PlacementSpec<'_>)> =
            specs.iter().map(|(id, spec)| (*id, spec)).collect();
        insert_placements(conn, &spec_refs)?;
        replicate(conn, request.user_id, destination.id, &replicas, folder_of)?;
        Ok(Cloned {
            exists,
            placed: new_placements.len() + replicas.len(),
        })
    })
}

/// The source and destination containers, once the caller may clone from one to the other.
fn containers(
    conn: &mut DbConnection,
    request: &CloneRequest<'_>,
) -> Result<(ContainerRow, ContainerRow), CloneError> {
    let membership = project_members::table.on(project_members::project_id
        .eq(projects::id)
        .and(project_members::user_id.eq(request.user_id)));
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
fn lock_destination(conn: &mut DbConnection, project_id: i64) -> Result<(), StoreError> {
    if let DbConnection::Pg(pg) = conn {
        folders::table
            .filter(folders::project_id.eq(project_id))
            .filter(folders::parent_id.is_null())
            .select(folders::id)
            .for_update()
            .load::<i64>(pg)?;
    }
    Ok(())
}

/// The listed objects placed in the source, in the order given, each once; refuses the ids
/// that name none.
fn listed_objects(
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

type FolderTest = Box<dyn BoxableExpression<folders::table, MultiBackend, SqlType = Bool>>;

/// The source folders that are one of `listed` or inside one: folder id -> path. One query per
/// 1,000 listed folders. `LIKE` narrows (it ignores ASCII case on SQLite); the folder or one
/// of its ancestors being listed decides.
fn folders_within(
    conn: &mut DbConnection,
    project_id: i64,
    listed: &[FolderPath],
) -> Result<HashMap<i64, FolderPath>, StoreError> {
    let mut found = HashMap::new();
    for chunk in listed.chunks(FOLDERS_PER_QUERY) {
        let mut query = folders::table
            .filter(folders::project_id.eq(project_id))
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
fn visible_objects_in(
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
fn hidden_targets(
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
fn existing_folders(
    conn: &mut DbConnection,
    project_id: i64,
    paths: &[FolderPath],
) -> Result<HashMap<FolderPath, i64>, StoreError> {
    let mut found = HashMap::with_capacity(paths.len());
    for chunk in paths.chunks(IDS_PER_QUERY) {
        let digests: Vec<String> = chunk.iter().map(path_digest).collect();
        let rows: Vec<(i64, String)> = folders::table
            .filter(folders::project_id.eq(project_id))
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
fn placed_in(
    conn: &mut DbConnection,
    project_id: i64,
    object_ids: &[i64],
) -> Result<BTreeSet<i64>, StoreError> {
    let mut found = BTreeSet::new();
    for chunk in object_ids.chunks(IDS_PER_QUERY) {
        found.extend(
            placements::table
                .filter(placements::project_id.eq(project_id))
                .filter(placements::object_id.eq_any(chunk))
                .select(placements::object_id)
                .load::<i64>(conn)?,
        );
    }
    Ok(found)
}

/// An open workflow is not refused: the seed has it replicated, a new workflow object.
fn is_open_workflow(object: &ObjectRow) -> bool {
    object.class == DxClass::Workflow.as_str() && object.state == ObjectState::Open.as_str()
}

fn parse_dx_id(object: &ObjectRow) -> Result<DxId, StoreError> {
    DxId::parse(&object.dx_id).map_err(|e| corrupt("objects", object.id, e))
}

/// The destination placement of a source placement: the same name, tags, properties and
/// metadata.
fn placement_spec(source: &PlacementRow, project_id: i64, folder_id: i64) -> PlacementSpec<'_> {
    PlacementSpec {
        project_id,
        folder_id,
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
    user_id: i64,
    project_id: i64,
    workflows: &[&Source],
    folder_of: impl Fn(&PlacementRow) -> Result<i64, StoreError>,
) -> Result<(), StoreError> {
    if workflows.is_empty() {
        return Ok(());
    }
    let specs = workflows
        .iter()
        .map(|(object, placement)| {
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
                created_by: user_id,
            };
            Ok((
                object_spec,
                placement_spec(placement, project_id, folder_of(placement)?),
            ))
        })
        .collect::<Result<Vec<_>, StoreError>>()?;
    let replicas: Vec<i64> = insert_placed(conn, &specs)?
        .into_iter()
        .map(|(object, _)| object.id)
        .collect();
    let originals = || workflows.iter().map(|(object, _)| object.id);
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

/// `listProjects`: every project holding the object that the user is a member of, with the
/// user's level, in no particular order. Empty when the object does not exist or the user sees
/// none of its projects.
///
/// Two queries: the object's row id, then its placements joined to the user's memberships,
/// which keep the project's DNAnexus id (migration 000011). With the row id as a value (not a
/// join), PostgreSQL's custom plan estimates how many projects hold the object and hash-joins
/// them when there are many; on both backends the placements and the memberships are read from
/// indexes alone (migrations 000010 and 000011), one entry of each per project. No `ORDER BY`
/// and no sort here: the caller's answer is a JSON object, whose order means nothing, and
/// sorting 10,000 ids cost a tenth of the call (docs/performance.md).
pub fn projects_holding(
    conn: &mut DbConnection,
    user_id: i64,
    object: &DxId,
) -> Result<Vec<(DxId, Level)>, StoreError> {
    let Some(object_id) = objects::table
        .filter(objects::dx_id.eq(object.as_str()))
        .select(objects::id)
        .first::<i64>(conn)
        .optional()?
    else {
        return Ok(Vec::new());
    };
    let rows: Vec<(String, i16)> = placements::table
        .inner_join(
            project_members::table.on(project_members::project_id
                .eq(placements::project_id)
                .and(project_members::user_id.eq(user_id))),
        )
        .filter(placements::object_id.eq(object_id))
        .select((project_members::project_dx_id, project_members::level))
        .load(conn)?;
    rows.into_iter()
        .map(|(dx_id, level)| {
            let bad = |e| corrupt("projects", &dx_id, e);
            Ok((
                DxId::parse(&dx_id).map_err(bad)?,
                Level::from_i16(level).map_err(bad)?,
            ))
        })
        .collect()
}
