//! The rules of a copy: where it may go (write permission on the destination), what may be
//! copied (read and copy permission on a file the caller can see; a folder only by an async
//! job), and why not, as a [`CopyRefusal`].

use ferry_domain::row_ids::UserRowId;
use std::collections::{HashMap, HashSet};

pub use ferry_domain::copy::CopyRefusal;
use ferry_domain::folder_ref::FolderRef;
use ferry_domain::ids::{SbgId, SbgProjectId};
use ferry_domain::model::{FileView, Folder};
use ferry_domain::permission::Permissions;
use ferry_store::{DbConnection, StoreError, projects, sbg_views};

use crate::failure::Failure;

/// A copy that could not be done: refused, or the store failed.
pub type CopyError = Failure<CopyRefusal>;

/// The destination project and folder, if the caller may write there. A project or folder the
/// caller cannot see is reported as missing, never as forbidden.
pub fn destination(
    conn: &mut DbConnection,
    user_id: UserRowId,
    target: &FolderRef,
) -> Result<(SbgProjectId, Folder), CopyError> {
    let (project, folder, permissions) = match target {
        FolderRef::Project(id) => {
            let project = projects::get_by_sbg_id(conn, id)?.ok_or(CopyRefusal::ProjectNotFound)?;
            let permissions = projects::membership(conn, project.id, user_id)?
                .ok_or(CopyRefusal::ProjectNotFound)?;
            let root = projects::root_folder(conn, project.id)?;
            (project.sbg_id, root, permissions)
        }
        FolderRef::Folder(id) => {
            let (view, permissions) =
                sbg_views::folders_by_sbg_ids(conn, user_id, std::slice::from_ref(id))?
                    .pop()
                    .ok_or(CopyRefusal::DestinationNotFound)?;
            (view.project, view.folder, permissions)
        }
    };
    if !permissions.can_write() {
        return Err(CopyRefusal::DestinationNotWritable.into());
    }
    Ok((project, folder))
}

/// The requested sources: those the caller may copy, and why each other one may not.
#[derive(Debug)]
pub struct Sources {
    pub copyable: HashMap<SbgId, FileView>,
    pub refused: HashMap<SbgId, CopyRefusal>,
}

/// Sorts the files `ids` names into [`Sources`]: two queries for the files (and the caller's
/// permissions), one for the folders among the rest.
pub fn sources(
    conn: &mut DbConnection,
    user_id: UserRowId,
    ids: &[SbgId],
) -> Result<Sources, StoreError> {
    let mut copyable = HashMap::new();
    let mut refused = HashMap::new();
    for (view, permissions) in sbg_views::files_by_sbg_ids(conn, user_id, ids)? {
        if can_copy(&permissions) {
            copyable.insert(view.placement.sbg_id.clone(), view);
        } else {
            refused.insert(
                view.placement.sbg_id.clone(),
                CopyRefusal::SourceNotCopyable,
            );
        }
    }
    let unresolved: Vec<SbgId> = ids
        .iter()
        .filter(|id| !copyable.contains_key(*id) && !refused.contains_key(*id))
        .cloned()
        .collect();
    let folders: HashSet<SbgId> = sbg_views::folders_by_sbg_ids(conn, user_id, &unresolved)?
        .into_iter()
        .map(|(view, _)| view.folder.sbg_id)
        .collect();
    for id in unresolved {
        let reason = if folders.contains(&id) {
            CopyRefusal::SourceIsFolder
        } else {
            CopyRefusal::SourceNotFound
        };
        refused.insert(id, reason);
    }
    Ok(Sources { copyable, refused })
}

/// Copying needs read and copy permission on the source.
pub fn can_copy(permissions: &Permissions) -> bool {
    permissions.can_read() && permissions.can_copy()
}
