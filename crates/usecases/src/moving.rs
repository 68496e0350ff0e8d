//! Moving a file to another folder of its project (SBG `POST /files/{id}/actions/move`, the
//! SDK's `file.move_to_folder`): the same file (same id, object and bytes) in the new folder,
//! under its name or the one given, made unique by the `N_name` rule as a copy's is. Checks
//! first, then one write, under the destination folder's lock.

use ferry_domain::folder_ref::{FolderRef, FolderRefusal};
use ferry_domain::ids::SbgId;
use ferry_domain::model::FileView;
use ferry_domain::moving::MoveRefusal;
use ferry_domain::name::FileName;
use ferry_domain::naming::allocate_names;
use ferry_domain::row_ids::UserRowId;
use ferry_store::{DbConnection, StoreError, files, folders, names, sbg_views};

use crate::failure::Failure;
use crate::folders::visible_folder;

/// A move that could not be done: refused, or the store failed.
pub type MoveError = Failure<MoveRefusal>;

/// A move, its input parsed.
#[derive(Debug, Clone, Copy)]
pub struct MoveRequest<'a> {
    pub user_id: UserRowId,
    pub file: &'a SbgId,
    pub parent: &'a SbgId,
    /// The name in the new folder; the file's own if none.
    pub name: Option<&'a FileName>,
}

/// Moves the file as the module documentation says; call it inside a unit of work, so that
/// the folder's lock holds until commit. The file as it is after the move.
pub fn move_file(conn: &mut DbConnection, request: MoveRequest<'_>) -> Result<FileView, MoveError> {
    let MoveRequest {
        user_id,
        file,
        parent,
        name,
    } = request;
    let ids = std::slice::from_ref(file);
    let Some((view, permissions)) = sbg_views::files_by_sbg_ids(conn, user_id, ids)?.pop() else {
        let folder = !sbg_views::folders_by_sbg_ids(conn, user_id, ids)?.is_empty();
        return Err(if folder {
            MoveRefusal::SourceIsFolder
        } else {
            MoveRefusal::SourceNotFound
        }
        .into());
    };
    let (folder, _) =
        visible_folder(conn, user_id, &FolderRef::Folder(parent.clone()))?.map_err(|refusal| {
            match refusal {
                FolderRefusal::NotAFolder => MoveRefusal::NotAFolder,
                FolderRefusal::ProjectNotFound | FolderRefusal::FolderNotFound => {
                    MoveRefusal::DestinationNotFound
                }
            }
        })?;
    if folder.folder.project_id != view.placement.project_id {
        return Err(MoveRefusal::OtherProject.into());
    }
    if !permissions.can_write() {
        return Err(MoveRefusal::NotWritable.into());
    }
    let wanted = name.map_or(view.placement.name.as_str(), FileName::as_str);
    if folder.folder.id == view.placement.folder_id && wanted == view.placement.name {
        return Ok(view);
    }
    folders::lock(conn, &[folder.folder.id])?;
    let taken = names::taken_in_folder(conn, folder.folder.id, &[wanted])?;
    let allocated = allocate_names(&[wanted], &taken)
        .pop()
        .ok_or_else(|| StoreError::Corrupt("no name was allocated".into()))?;
    let name = FileName::parse(allocated.as_str())
        .map_err(|_| MoveRefusal::NameTooLong { name: allocated })?;
    files::relocate(conn, view.placement.id, folder.folder.id, &name)?;
    let (moved, _) = sbg_views::files_by_sbg_ids(conn, user_id, ids)?
        .pop()
        .ok_or_else(|| StoreError::Corrupt(format!("file {file} is gone after its move")))?;
    Ok(moved)
}
