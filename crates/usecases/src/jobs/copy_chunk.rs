//! Working one chunk of an async copy job with the rules of the synchronous copies
//! ([`crate::copy`]): copy permission on the source, write permission on the destination, the
//! same refusals, the `N_name` rule. Runs on a job worker ([`super::worker`]), in one write
//! transaction per chunk: the copies and the items' outcomes commit together. A refused item
//! records its [`CopyRefusal`]; a store failure is the chunk's, rolled back and tried again.
//!
//! A folder is copied with its structure: the folder is created in the destination (or merged
//! into the destination's folder of that name), and its contents become a folder chunk of the
//! job, worked a batch at a time. Only what existed when the job was submitted is copied, so
//! that a job never copies its own copies.

use ferry_domain::row_ids::{ChunkRowId, FolderRowId};
use std::collections::{BTreeMap, HashMap};

use ferry_domain::copy::CopyRefusal;
use ferry_domain::folder_ref::FolderRef;
use ferry_domain::ids::{SbgId, SbgProjectId};
use ferry_domain::model::{FileView, Folder, FolderView};
use ferry_domain::name::folder_name_refusal;
use ferry_domain::permission::Permissions;
use ferry_store::copy::{CopyItem, CopyResult, Destination, copy_files};
use ferry_store::jobs::{
    self, CHUNK_ITEMS, ChunkReport, ChunkWork, Claimed, FolderCopy, FolderUnit, ItemKind,
    ItemOutcome, NewUnit, RequestItem, Worked,
};
use ferry_store::{DbConnection, StoreError, folders, sbg_views};

use crate::copy::{CopyError, can_copy, destination};

/// Claims of one chunk after which its items are failed instead of tried again: a chunk that
/// keeps failing (or keeps killing its worker) must not hold its job up for ever.
pub const MAX_ATTEMPTS: i64 = 5;

const GAVE_UP: CopyRefusal = CopyRefusal::GaveUp {
    attempts: MAX_ATTEMPTS,
};

/// A destination that could not be resolved is the item's refusal, but a store failure is the
/// chunk's: it is rolled back and tried again.
fn item_refusal(error: CopyError) -> Result<CopyRefusal, StoreError> {
    match error {
        CopyError::Refused(refusal) => Ok(refusal),
        CopyError::Store(e) => Err(e),
    }
}

/// Works chunk `chunk_id` if `worker` still holds its claim, in the caller's unit of work.
pub fn work_chunk(
    conn: &mut DbConnection,
    worker: &str,
    chunk_id: ChunkRowId,
) -> Result<(), StoreError> {
    let Some(claimed) = jobs::lock_claimed(conn, chunk_id, worker)? else {
        return Ok(());
    };
    let report = if claimed.job.cancel_requested {
        ChunkReport::Cancelled
    } else {
        match &claimed.work {
            ChunkWork::Requests(items) => work_requests(conn, &claimed, items)?,
            ChunkWork::Folder(unit) => work_folder(conn, &claimed, unit)?,
        }
    };
    jobs::complete(conn, &claimed, worker, &report)?;
    Ok(())
}

/// What a request item turned out to be, once looked up.
enum Source<'a> {
    File(&'a FileView),
    Folder(&'a FolderView),
}

/// Resolves the chunk's request items, then copies folders, then files, one destination
/// folder at a time.
fn work_requests(
    conn: &mut DbConnection,
    claimed: &Claimed,
    items: &[RequestItem],
) -> Result<ChunkReport, StoreError> {
    if claimed.attempts > MAX_ATTEMPTS {
        let worked = items
            .iter()
            .map(|_| Worked {
                kind: None,
                source_name: None,
                outcome: ItemOutcome::Failed(GAVE_UP),
            })
            .collect();
        return Ok(ChunkReport::Requests {
            worked,
            units: Vec::new(),
        });
    }
    let user_id = claimed.job.user_id;
    let ids: Vec<SbgId> = items.iter().map(|item| item.copy.source.clone()).collect();
    let files: HashMap<SbgId, (FileView, Permissions)> =
        sbg_views::files_by_sbg_ids(conn, user_id, &ids)?
            .into_iter()
            .map(|(view, permissions)| (view.placement.sbg_id.clone(), (view, permissions)))
            .collect();
    let others: Vec<SbgId> = ids
        .iter()
        .filter(|id| !files.contains_key(*id))
        .cloned()
        .collect();
    let folders_found: HashMap<SbgId, (FolderView, Permissions)> =
        sbg_views::folders_by_sbg_ids(conn, user_id, &others)?
            .into_iter()
            .map(|(view, permissions)| (view.folder.sbg_id.clone(), (view, permissions)))
            .collect();
    let mut destinations: HashMap<&FolderRef, Result<(SbgProjectId, Folder), CopyRefusal>> =
        HashMap::new();
    for item in items {
        if !destinations.contains_key(&item.copy.to) {
            let resolved = match destination(conn, user_id, &item.copy.to) {
                Ok(found) => Ok(found),
                Err(error) => Err(item_refusal(error)?),
            };
            destinations.insert(&item.copy.to, resolved);
        }
    }

    // What each item is, and its outcome: refusals now, copies below.
    let mut sources: Vec<(Option<ItemKind>, Option<String>)> = Vec::with_capacity(items.len());
    let mut outcomes: Vec<Option<ItemOutcome>> = vec![None; items.len()];
    // Per destination folder id: the destination and the items going there.
    let mut folder_groups: BTreeMap<FolderRowId, (&SbgProjectId, &Folder, Vec<usize>)> =
        BTreeMap::new();
    let mut file_groups: BTreeMap<FolderRowId, (&SbgProjectId, &Folder, Vec<usize>)> =
        BTreeMap::new();
    for (i, item) in items.iter().enumerate() {
        let found = match (
            files.get(&item.copy.source),
            folders_found.get(&item.copy.source),
        ) {
            (Some((view, permissions)), _) => Some((Source::File(view), permissions)),
            (None, Some((view, permissions))) => Some((Source::Folder(view), permissions)),
            (None, None) => None,
        };
        let Some((source, permissions)) = found else {
            sources.push((None, None));
            outcomes[i] = Some(ItemOutcome::Failed(CopyRefusal::SourceNotFound));
            continue;
        };
        sources.push(match source {
            Source::File(view) => (Some(ItemKind::File), Some(view.placement.name.clone())),
            Source::Folder(view) => (Some(ItemKind::Folder), Some(folder_name(view))),
        });
        // A folder's new name follows the rule of folders made with `POST /files`.
        let bad_folder_name = match (&source, &item.copy.name) {
            (Source::Folder(_), Some(name)) => folder_name_refusal(name),
            _ => None,
        };
        let refusal = match (&source, &destinations[&item.copy.to]) {
            _ if !can_copy(permissions) => Some(CopyRefusal::SourceNotCopyable),
            (_, Err(refusal)) => Some(refusal.clone()),
            (Source::Folder(view), _) if view.folder.parent_id.is_none() => {
                Some(CopyRefusal::RootFolder)
            }
            _ if bad_folder_name.is_some() => {
                bad_folder_name.map(|reason| CopyRefusal::InvalidName(reason.into()))
            }
            (Source::Folder(view), Ok((_, to))) if is_within(to, &view.folder) => {
                Some(CopyRefusal::IntoItself)
            }
            (Source::File(_), Ok((project, to))) => {
                let group = file_groups
                    .entry(to.id)
                    .or_insert_with(|| (project, to, Vec::new()));
                group.2.push(i);
                None
            }
            (Source::Folder(_), Ok((project, to))) => {
                let group = folder_groups
                    .entry(to.id)
                    .or_insert_with(|| (project, to, Vec::new()));
                group.2.push(i);
                None
            }
        };
        outcomes[i] = refusal.map(ItemOutcome::Failed);
    }

    // Every destination locked up front, in id order, so that two chunks never deadlock.
    let locked: Vec<FolderRowId> = folder_groups
        .keys()
        .chain(file_groups.keys())
        .copied()
        .collect();
    folders::lock(conn, &locked)?;
    let mut units = Vec::new();
    // Folders first, so that files copied beside them find their names taken.
    for (_, to, positions) in folder_groups.values() {
        let wanted: Vec<&str> = positions
            .iter()
            .map(|&i| match &items[i].copy.name {
                Some(name) => name.as_str(),
                None => sources[i].1.as_deref().unwrap_or_default(),
            })
            .collect();
        let copies = jobs::copy_folders(conn, to, &wanted)?;
        for (&i, copy) in positions.iter().zip(copies) {
            let (source, _) = &folders_found[&items[i].copy.source];
            outcomes[i] = Some(folder_outcome(source, copy, &mut units));
        }
    }
    for (project, to, positions) in file_groups.values() {
        let copy_items: Vec<CopyItem<'_>> = positions
            .iter()
            .map(|&i| CopyItem {
                source: &files[&items[i].copy.source].0,
                name: items[i].copy.name.as_ref(),
            })
            .collect();
        let to = Destination {
            project,
            folder: to,
        };
        let copies = copy_files(conn, user_id, to, &copy_items)?;
        for (&i, copy) in positions.iter().zip(copies) {
            outcomes[i] = Some(file_outcome(copy));
        }
    }
    let worked = sources
        .into_iter()
        .zip(outcomes)
        .map(|((kind, source_name), outcome)| {
            let outcome = outcome.ok_or_else(|| {
                StoreError::Corrupt(format!(
                    "chunk {} was copied without an outcome for each item",
                    claimed.chunk_id
                ))
            })?;
            Ok(Worked {
                kind,
                source_name,
                outcome,
            })
        })
        .collect::<Result<_, StoreError>>()?;
    Ok(ChunkReport::Requests { worked, units })
}

/// Copies the next batch of a folder chunk's entries: sub-folders (whose contents become
/// folder chunks), then files.
fn work_folder(
    conn: &mut DbConnection,
    claimed: &Claimed,
    unit: &FolderUnit,
) -> Result<ChunkReport, StoreError> {
    let user_id = claimed.job.user_id;
    let Some((source, permissions)) =
        sbg_views::folders_by_sbg_ids(conn, user_id, std::slice::from_ref(&unit.source))?.pop()
    else {
        // The source folder is gone, or the caller no longer sees it: nothing is left to copy.
        let mut cursor = unit.cursor;
        cursor.folders_listed = true;
        cursor.done = true;
        return Ok(ChunkReport::Folder {
            entries: Vec::new(),
            units: Vec::new(),
            cursor,
        });
    };
    let refusal = if claimed.attempts > MAX_ATTEMPTS {
        Some(GAVE_UP)
    } else if !can_copy(&permissions) {
        Some(CopyRefusal::SourceNotCopyable)
    } else {
        None
    };
    let to = match refusal {
        Some(refusal) => Err(refusal),
        None => match destination(conn, user_id, &FolderRef::Folder(unit.target.clone())) {
            Ok(to) => Ok(to),
            Err(error) => Err(item_refusal(error)?),
        },
    };
    let created_before = claimed.job.created_at;
    let batch = jobs::next_batch(
        conn,
        source.folder.id,
        unit.cursor,
        created_before,
        CHUNK_ITEMS,
    )?;
    let mut by_id: HashMap<SbgId, FileView> =
        sbg_views::files_by_sbg_ids(conn, user_id, &batch.files)?
            .into_iter()
            .map(|(view, _)| (view.placement.sbg_id.clone(), view))
            .collect();
    let files: Vec<FileView> = batch
        .files
        .iter()
        .filter_map(|id| by_id.remove(id))
        .collect();
    let subfolders: Vec<FolderView> = batch
        .folders
        .into_iter()
        .map(|folder| FolderView {
            folder,
            project: source.project.clone(),
            parent: Some(source.folder.sbg_id.clone()),
        })
        .collect();

    let mut entries = Vec::with_capacity(subfolders.len() + files.len());
    let entry = |kind, source_name: String, outcome| Worked {
        kind: Some(kind),
        source_name: Some(source_name),
        outcome,
    };
    let (project, to) = match to {
        Ok(to) => to,
        Err(refusal) => {
            for view in &subfolders {
                let failed = ItemOutcome::Failed(refusal.clone());
                let worked = entry(ItemKind::Folder, folder_name(view), failed);
                entries.push((view.folder.sbg_id.clone(), worked));
            }
            for file in &files {
                let failed = ItemOutcome::Failed(refusal.clone());
                let worked = entry(ItemKind::File, file.placement.name.clone(), failed);
                entries.push((file.placement.sbg_id.clone(), worked));
            }
            return Ok(ChunkReport::Folder {
                entries,
                units: Vec::new(),
                cursor: batch.cursor,
            });
        }
    };
    let mut units = Vec::new();
    let names: Vec<&str> = subfolders
        .iter()
        .map(|view| view.folder.path.name().unwrap_or_default())
        .collect();
    let copies = jobs::copy_folders(conn, &to, &names)?;
    for (view, copy) in subfolders.iter().zip(copies) {
        let worked = entry(
            ItemKind::Folder,
            folder_name(view),
            folder_outcome(view, copy, &mut units),
        );
        entries.push((view.folder.sbg_id.clone(), worked));
    }
    let copy_items: Vec<CopyItem<'_>> = files
        .iter()
        .map(|source| CopyItem { source, name: None })
        .collect();
    let copies = copy_files(
        conn,
        user_id,
        Destination {
            project: &project,
            folder: &to,
        },
        &copy_items,
    )?;
    for (file, copy) in files.iter().zip(copies) {
        let worked = entry(
            ItemKind::File,
            file.placement.name.clone(),
            file_outcome(copy),
        );
        entries.push((file.placement.sbg_id.clone(), worked));
    }
    Ok(ChunkReport::Folder {
        entries,
        units,
        cursor: batch.cursor,
    })
}

/// The name SBG shows for a folder: the root folder is named after its project.
fn folder_name(view: &FolderView) -> String {
    view.folder
        .path
        .name()
        .unwrap_or_else(|| view.project.slug().as_str())
        .to_owned()
}

/// Whether copying into `to` would put a folder inside (or onto) `source` itself.
fn is_within(to: &Folder, source: &Folder) -> bool {
    to.project_id == source.project_id && to.path.is_within(&source.path)
}

/// The outcome of a copied folder; a folder to fill adds a folder chunk to `units`.
fn folder_outcome(source: &FolderView, copy: FolderCopy, units: &mut Vec<NewUnit>) -> ItemOutcome {
    let (folder, merged) = match copy {
        FolderCopy::Created(folder) => (folder, false),
        // Merging a folder into itself would copy each of its files beside itself.
        FolderCopy::Merged(folder) if folder.id == source.folder.id => {
            return ItemOutcome::Failed(CopyRefusal::IntoItself);
        }
        FolderCopy::Merged(folder) => (folder, true),
        FolderCopy::Refused(reason) => {
            return ItemOutcome::Failed(CopyRefusal::InvalidName(format!("{reason}.")));
        }
    };
    units.push(NewUnit {
        source_id: source.folder.id,
        source: source.folder.sbg_id.clone(),
        target: folder.sbg_id.clone(),
    });
    let id = folder.sbg_id;
    let name = folder.path.name().unwrap_or_default().to_owned();
    if merged {
        ItemOutcome::Merged { id, name }
    } else {
        ItemOutcome::Copied { id, name }
    }
}

fn file_outcome(copy: CopyResult) -> ItemOutcome {
    match copy {
        CopyResult::Copied(view) => ItemOutcome::Copied {
            id: view.placement.sbg_id,
            name: view.placement.name,
        },
        CopyResult::NameTooLong(name) => ItemOutcome::Failed(CopyRefusal::NameTooLong { name }),
    }
}
