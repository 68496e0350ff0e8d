//! The database work the single and the bulk file routes share: loading entries, changing files, deleting entries, and the folder a request names.

use super::*;
use ferry_domain::folder_ref::FolderRefusal;
use ferry_domain::row_ids::{FolderRowId, UserRowId};
use ferry_usecases::folders::visible_folder;

// Database work shared by the single and the bulk endpoints.

/// The files and folders with these ids that the caller can see, with the caller's
/// permissions. Two queries at most.
pub(crate) fn load_entries(
    conn: &mut DbConnection,
    user_id: UserRowId,
    ids: &[SbgId],
) -> Result<HashMap<SbgId, (Entry, Permissions)>, StoreError> {
    let mut found: HashMap<SbgId, (Entry, Permissions)> =
        sbg_views::files_by_sbg_ids(conn, user_id, ids)?
            .into_iter()
            .map(|(view, permissions)| {
                (
                    view.placement.sbg_id.clone(),
                    (Entry::File(Box::new(view)), permissions),
                )
            })
            .collect();
    let rest: Vec<SbgId> = ids
        .iter()
        .filter(|id| !found.contains_key(*id))
        .cloned()
        .collect();
    if !rest.is_empty() {
        for (view, permissions) in sbg_views::folders_by_sbg_ids(conn, user_id, &rest)? {
            found.insert(
                view.folder.sbg_id.clone(),
                (Entry::Folder(view), permissions),
            );
        }
    }
    Ok(found)
}

/// Applies changes to files in order, as one transaction: every check runs before the first
/// write, and the writes are one UPDATE. Returns one result per item, in order; items that
/// arrive as errors stay errors. A later change to the same file applies on top of an earlier one.
///
/// A new name must be free in the file's folder, among files and sub-folders (409, 5003); names
/// freed by earlier renames in the same call count as free.
pub(crate) fn change_files(
    conn: &mut DbConnection,
    user_id: UserRowId,
    items: Vec<Result<(SbgId, FileChange), SbgError>>,
) -> Result<Vec<Result<FileView, SbgError>>, SbgError> {
    let ids: Vec<SbgId> = items
        .iter()
        .filter_map(|item| item.as_ref().ok().map(|(id, _)| id.clone()))
        .collect();
    folders::lock_around(conn, &ids)?;
    let entries = load_entries(conn, user_id, &ids)?;
    let mut files: HashMap<SbgId, FileView> = HashMap::new();
    for (id, (entry, permissions)) in &entries {
        if let (Entry::File(view), true) = (entry, permissions.can_write()) {
            files.insert(id.clone(), FileView::clone(view));
        }
    }
    let placement_ids: Vec<_> = files.values().map(|v| v.placement.id).collect();
    let wanted: Vec<(FolderRowId, &str)> = items
        .iter()
        .filter_map(|item| item.as_ref().ok())
        .filter_map(|(id, change)| {
            let folder = files.get(id)?.placement.folder_id;
            Some((folder, change.name.as_ref()?.as_str()))
        })
        .collect();
    let mut names = FolderNames {
        taken: folders::names_taken(conn, &wanted, &placement_ids)?,
        holders: files
            .iter()
            .map(|(id, v)| {
                (
                    (v.placement.folder_id, v.placement.name.clone()),
                    id.clone(),
                )
            })
            .collect(),
    };
    let mut outcomes: Vec<Result<SbgId, SbgError>> = Vec::with_capacity(items.len());
    let mut changed: Vec<SbgId> = Vec::new();
    for item in items {
        let outcome = item.and_then(|(id, change)| {
            let view = match (files.get_mut(&id), entries.get(&id)) {
                (Some(view), _) => view,
                (None, Some((Entry::File(_), _))) => return Err(SbgError::FileNotWritable),
                (None, Some((Entry::Folder(_), _))) => return Err(folder_unchangeable()),
                (None, None) => return Err(SbgError::FileNotFound),
            };
            let placement = &mut view.placement;
            let metadata = change.metadata.apply(&placement.metadata)?;
            if let Some(name) = change.name {
                names.rename(&id, placement.folder_id, &placement.name, &name)?;
                placement.name = name.into_string();
            }
            if let Some(tags) = change.tags {
                placement.tags = tags;
            }
            placement.metadata = metadata;
            changed.push(id.clone());
            Ok(id)
        });
        outcomes.push(outcome);
    }

    let updates: Vec<PlacementUpdate> = unique(&changed)
        .map(|id| {
            let placement = &files[id].placement;
            PlacementUpdate {
                placement_id: placement.id,
                name: placement.name.clone(),
                tags: placement.tags.clone(),
                metadata: placement.metadata.clone(),
            }
        })
        .collect();
    files::update_placements(conn, &updates)?;
    let changed: Vec<SbgId> = unique(&changed).cloned().collect();
    let stored: HashMap<SbgId, FileView> = sbg_views::files_by_sbg_ids(conn, user_id, &changed)?
        .into_iter()
        .map(|(view, _)| (view.placement.sbg_id.clone(), view))
        .collect();
    Ok(outcomes
        .into_iter()
        .map(|outcome| {
            outcome.and_then(|id| stored.get(&id).cloned().ok_or(SbgError::FileNotFound))
        })
        .collect())
}

/// The names in the folders of the files a call changes, as its renames go.
pub(super) struct FolderNames {
    /// Names held by files and sub-folders the call does not change.
    taken: HashSet<(FolderRowId, String)>,
    /// Names held by the files the call changes, and which file holds each.
    holders: HashMap<(FolderRowId, String), SbgId>,
}

impl FolderNames {
    /// Renames file `id` in `folder` from `from` to `to`, unless another file or a sub-folder
    /// holds `to` there (409, 5003).
    fn rename(
        &mut self,
        id: &SbgId,
        folder: FolderRowId,
        from: &str,
        to: &FileName,
    ) -> Result<(), SbgError> {
        if from == to.as_str() {
            return Ok(());
        }
        let wanted = (folder, to.to_string());
        let held_by_other = self.holders.get(&wanted).is_some_and(|holder| holder != id);
        if held_by_other || self.taken.contains(&wanted) {
            return Err(SbgError::NameTaken {
                name: to.to_string(),
            });
        }
        self.holders.remove(&(folder, from.to_owned()));
        self.holders.insert(wanted, id.clone());
        Ok(())
    }
}

/// Each id once, in order of first appearance.
pub(super) fn unique(ids: &[SbgId]) -> impl Iterator<Item = &SbgId> {
    let mut seen = HashSet::new();
    ids.iter().filter(move |id| seen.insert(*id))
}

/// Deletes files and empty folders, as one transaction: every check runs before the first
/// write. Returns, per item in order, what was deleted or why not. A folder is empty when all
/// it holds is deleted by the same call.
pub(crate) fn delete_entries(
    conn: &mut DbConnection,
    user_id: UserRowId,
    items: Vec<Result<SbgId, SbgError>>,
) -> Result<Vec<Result<Entry, SbgError>>, SbgError> {
    let ids: Vec<SbgId> = items
        .iter()
        .filter_map(|item| item.as_ref().ok().cloned())
        .collect();
    folders::lock_around(conn, &ids)?;
    let entries = load_entries(conn, user_id, &ids)?;
    let deletable = |id: &SbgId| -> Result<&Entry, SbgError> {
        let (entry, permissions) = entries.get(id).ok_or(SbgError::FileNotFound)?;
        if !permissions.can_write() {
            return Err(SbgError::FileNotWritable);
        }
        if let Entry::Folder(view) = entry
            && view.parent.is_none()
        {
            return Err(SbgError::bad_request(
                "The root folder of a project cannot be deleted.",
            ));
        }
        Ok(entry)
    };
    let mut file_ids = Vec::new();
    let mut folder_rows: BTreeMap<FolderRowId, &Folder> = BTreeMap::new();
    for entry in unique(&ids).filter_map(|id| deletable(id).ok()) {
        match entry {
            Entry::File(view) => file_ids.push(view.placement.id),
            Entry::Folder(view) => {
                folder_rows.insert(view.folder.id, &view.folder);
            }
        }
    }
    let folder_ids: Vec<_> = folder_rows.keys().copied().collect();
    let mut kept = folders::non_empty(conn, &folder_ids, &file_ids, &folder_ids)?;
    // A folder that stays keeps the folders above it in this call.
    for id in kept.clone() {
        let mut parent = folder_rows.get(&id).and_then(|f| f.parent_id);
        while let Some(above) = parent.filter(|p| folder_rows.contains_key(p)) {
            kept.insert(above);
            parent = folder_rows[&above].parent_id;
        }
    }
    let folder_ids: Vec<_> = folder_ids
        .into_iter()
        .filter(|id| !kept.contains(id))
        .collect();
    files::delete_placements(conn, &file_ids)?;
    folders::delete(conn, &folder_ids)?;
    Ok(items
        .into_iter()
        .map(|item| {
            let entry = deletable(&item?)?;
            match entry {
                Entry::Folder(view) if kept.contains(&view.folder.id) => {
                    Err(SbgError::FolderNotEmpty)
                }
                entry => Ok(entry.clone()),
            }
        })
        .collect())
}

/// Where a listing, a new folder, a copy or an upload goes, from the request's `project` and
/// `parent`: exactly one of them (an empty string counts as absent), with the dialect's error
/// for a malformed project id and for a folder id that cannot be one.
pub(crate) fn folder_ref(
    project: Option<&str>,
    parent: Option<&str>,
    malformed_project: SbgError,
    missing_folder: SbgError,
) -> Result<FolderRef, SbgError> {
    match (
        project.filter(|s| !s.is_empty()),
        parent.filter(|s| !s.is_empty()),
    ) {
        (Some(_), Some(_)) => Err(SbgError::ParentAndProject),
        (None, None) => Err(SbgError::ParentOrProjectMissing),
        (Some(project), None) => SbgProjectId::parse(project)
            .map(FolderRef::Project)
            .map_err(|_| malformed_project),
        (None, Some(parent)) => SbgId::parse(parent)
            .map(FolderRef::Folder)
            .map_err(|_| missing_folder),
    }
}

/// Where a copy, an upload or a new folder goes, from the request's `project` and `parent`.
pub(crate) fn destination_ref(
    project: Option<&str>,
    parent: Option<&str>,
) -> Result<FolderRef, SbgError> {
    folder_ref(
        project,
        parent,
        SbgError::MalformedProjectId,
        SbgError::DestinationNotFound,
    )
}

/// The folder `target` names, if the caller can see it ([`visible_folder`]), a folder
/// not found being `missing_folder`.
pub(crate) fn resolve_folder(
    conn: &mut DbConnection,
    user_id: UserRowId,
    target: &FolderRef,
    missing_folder: SbgError,
) -> Result<(FolderView, Permissions), SbgError> {
    visible_folder(conn, user_id, target)?.map_err(|refusal| match refusal {
        FolderRefusal::ProjectNotFound => SbgError::ProjectNotFound,
        FolderRefusal::FolderNotFound => missing_folder,
        FolderRefusal::NotAFolder => SbgError::NotAFolder,
    })
}
