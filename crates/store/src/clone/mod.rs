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

use ferry_domain::row_ids::{FolderRowId, ProjectRowId, UserRowId};
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

mod gather;
mod holding;
mod replicate;

use gather::*;
pub use holding::*;
use replicate::*;

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
    pub user_id: UserRowId,
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
    fn key(&self) -> ProjectRowId {
        ProjectRowId::new(self.id)
    }

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
        lock_destination(conn, destination.key())?;

        let mut seen = HashSet::with_capacity(request.folders.len());
        let listed_folders: Vec<FolderPath> = request
            .folders
            .iter()
            .filter(|folder| seen.insert(*folder))
            .cloned()
            .collect();
        let listed = listed_objects(conn, source.id, request.objects)?;
        let source_folders = folders_within(conn, source.key(), &listed_folders)?;
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
        let mut destination_folders = existing_folders(conn, destination.key(), &wanted)?;
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

        let present = placed_in(conn, destination.key(), &reached)?;
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
            if let Some(conflict) = sponsorship::conflicts(conn, destination.key(), &ids)? {
                return Err(CloneRefusal::Sponsorship(conflict).into());
            }
        }

        // Every check has passed: write.
        let mut to_create = missing_chain;
        to_create.extend(plan.created().iter().cloned());
        // Only a folder made since the check, by a writer that does not lock the root, can clash.
        insert_tree(
            conn,
            destination.key(),
            &to_create,
            &mut destination_folders,
        )
        .map_err(|e| match e {
            StoreError::Conflict(_) => CloneRefusal::FolderConflict(to_create.clone()).into(),
            other => CloneError::from(other),
        })?;
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
                    placement_spec(
                        placement,
                        destination.key(),
                        FolderRowId::new(folder_of(placement)?),
                    ),
                ))
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        let spec_refs: Vec<(i64, &PlacementSpec<'_>)> =
            specs.iter().map(|(id, spec)| (*id, spec)).collect();
        insert_placements(conn, &spec_refs)?;
        replicate(
            conn,
            request.user_id,
            destination.key(),
            &replicas,
            folder_of,
        )?;
        Ok(Cloned {
            exists,
            placed: new_placements.len() + replicas.len(),
        })
    })
}
