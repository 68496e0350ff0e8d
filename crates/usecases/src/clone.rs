//! The DNAnexus clone (`/project-xxxx/clone`) as `shared/seeds/dnanexus-clone.txt` says, with
//! what it leaves open decided in `docs/dx-clone.md`: the same object gets a new placement in
//! the destination. Every refusal (`domain::clone::CloneRefusal`) is found before the first
//! write, in the order docs/dx-clone.md gives, from what the store reads (`ferry_store::clone`,
//! whose module documentation counts the statements); the writes commit in one transaction.

use std::collections::{HashMap, HashSet};

use ferry_domain::clone::{CloneRefusal, FolderPlan, check_folder_names, walk};
use ferry_domain::ids::DxId;
use ferry_domain::model::ObjectState;
use ferry_domain::path::FolderPath;
use ferry_domain::permission::Level;
use ferry_domain::row_ids::{FolderRowId, ObjectRowId, UserRowId};
use ferry_store::clone::{self as reads, CloneContainer, CloneSource};
use ferry_store::unit_of_work::atomically;
use ferry_store::{DbConnection, StoreError};

use crate::failure::Failure;

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

/// A clone that could not be done: refused, or the store failed.
pub type CloneError = Failure<CloneRefusal>;

/// The source and destination, once the caller may clone from one to the other.
fn containers(
    conn: &mut DbConnection,
    request: &CloneRequest<'_>,
) -> Result<(CloneContainer, CloneContainer), CloneError> {
    let (source, destination) =
        reads::containers(conn, request.user_id, request.source, request.destination)?;
    let source = source.ok_or(CloneRefusal::SourceNotFound)?;
    let destination = destination.ok_or(CloneRefusal::DestinationNotFound)?;
    // Every member has VIEW at least: no level is no access.
    if source.level.is_none() {
        return Err(CloneRefusal::SourceNotViewable.into());
    }
    if destination.level.is_none_or(|level| level < Level::Upload) {
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

/// Clones as the seed says; see the module documentation.
pub fn clone_objects(
    conn: &mut DbConnection,
    request: &CloneRequest<'_>,
) -> Result<Cloned, CloneError> {
    check_folder_names(request.folders)?;
    atomically(conn, |conn| {
        let (source, destination) = containers(conn, request)?;
        reads::lock_destination(conn, destination.key)?;

        let mut seen = HashSet::with_capacity(request.folders.len());
        let listed_folders: Vec<FolderPath> = request
            .folders
            .iter()
            .filter(|folder| seen.insert(*folder))
            .cloned()
            .collect();
        let (listed, missing_objects) = reads::listed_objects(conn, source.key, request.objects)?;
        if !missing_objects.is_empty() {
            return Err(CloneRefusal::ObjectsNotInSource(missing_objects).into());
        }
        let source_folders = reads::folders_within(conn, source.key, &listed_folders)?;
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
        let mut destination_folders = reads::existing_folders(conn, destination.key, &wanted)?;
        let missing_chain: Vec<FolderPath> = chain
            .iter()
            .filter(|path| !destination_folders.contains_key(*path))
            .cloned()
            .collect();
        if !missing_chain.is_empty() && !request.parents {
            return Err(CloneRefusal::DestinationFolderNotFound(request.folder.clone()).into());
        }
        if destination.at_spending_limit && destination.billing_group != source.billing_group {
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

        let mut sources: HashMap<ObjectRowId, CloneSource> = HashMap::new();
        let mut start: Vec<ObjectRowId> = listed.iter().map(CloneSource::key).collect();
        sources.extend(listed.into_iter().map(|source| (source.key(), source)));
        let folder_ids: Vec<FolderRowId> = source_folders.keys().copied().collect();
        let mut in_folders = reads::visible_objects_in(conn, &folder_ids)?;
        in_folders.sort_by(|a, b| a.dx_id_text().cmp(b.dx_id_text()));
        start.extend(in_folders.iter().map(CloneSource::key));
        for source in in_folders {
            sources.entry(source.key()).or_insert(source);
        }
        let reached = walk(start, |frontier| {
            let found = reads::hidden_targets(conn, source.key, frontier)?;
            let ids = found.iter().map(CloneSource::key).collect();
            for target in found {
                sources.entry(target.key()).or_insert(target);
            }
            Ok::<_, StoreError>(ids)
        })?;

        let mut not_closed = Vec::new();
        for id in &reached {
            let object = &sources[id];
            if object.state()? != ObjectState::Closed && !object.is_open_workflow() {
                not_closed.push(object.dx_id()?);
            }
        }
        if !not_closed.is_empty() {
            not_closed.sort();
            return Err(CloneRefusal::NotClosed(not_closed).into());
        }

        let present = reads::placed_in(conn, destination.key, &reached)?;
        let mut exists = Vec::with_capacity(present.len());
        let mut new_placements = Vec::new();
        let mut replicas = Vec::new();
        for id in &reached {
            let source = &sources[id];
            if present.contains(id) {
                exists.push(source.dx_id()?);
            } else if source.is_open_workflow() {
                replicas.push(source);
            } else {
                new_placements.push(source);
            }
        }
        exists.sort();
        if destination.sponsored {
            let ids: Vec<ObjectRowId> = new_placements.iter().map(|source| source.key()).collect();
            if let Some(conflict) = reads::sponsorship_conflicts(conn, destination.key, &ids)? {
                return Err(CloneRefusal::Sponsorship(conflict).into());
            }
        }

        // Every check has passed: write.
        let mut to_create = missing_chain;
        to_create.extend(plan.created().iter().cloned());
        // Only a folder made since the check, by a writer that does not lock the root, can clash.
        reads::create_folders(conn, destination.key, &to_create, &mut destination_folders)
            .map_err(|e| match e {
                StoreError::Conflict(_) => CloneRefusal::FolderConflict(to_create.clone()).into(),
                other => CloneError::from(other),
            })?;
        let folder_of = |source: &CloneSource| -> Result<FolderRowId, StoreError> {
            let target = source_folders
                .get(&source.folder())
                .and_then(|path| plan.target_of(path))
                .unwrap_or(request.folder);
            destination_folders.get(target).copied().ok_or_else(|| {
                StoreError::Corrupt(format!("destination folder {target} was not created"))
            })
        };
        let placements = with_folders(&new_placements, folder_of)?;
        let replicated = with_folders(&replicas, folder_of)?;
        reads::place(
            conn,
            request.user_id,
            destination.key,
            &placements,
            &replicated,
        )?;
        Ok(Cloned {
            exists,
            placed: new_placements.len() + replicas.len(),
        })
    })
}

/// Each source with the destination folder it goes to.
fn with_folders<'a>(
    sources: &[&'a CloneSource],
    folder_of: impl Fn(&CloneSource) -> Result<FolderRowId, StoreError>,
) -> Result<Vec<(&'a CloneSource, FolderRowId)>, StoreError> {
    sources
        .iter()
        .map(|source| Ok((*source, folder_of(source)?)))
        .collect()
}
