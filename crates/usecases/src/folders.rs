//! Where a [`FolderRef`] leads: the SBG rule every route that names a folder by `project` or
//! `parent` follows.

use ferry_domain::folder_ref::{FolderRef, FolderRefusal};
use ferry_domain::model::FolderView;
use ferry_domain::permission::Permissions;
use ferry_domain::row_ids::UserRowId;
use ferry_store::{DbConnection, StoreError, sbg_views};

/// The folder `target` names, with the caller's permissions there, if the caller can see it:
/// a project's root folder, or a folder; a file's id is told apart.
pub fn visible_folder(
    conn: &mut DbConnection,
    user_id: UserRowId,
    target: &FolderRef,
) -> Result<Result<(FolderView, Permissions), FolderRefusal>, StoreError> {
    Ok(match target {
        FolderRef::Project(project) => {
            sbg_views::root_folder(conn, user_id, project)?.ok_or(FolderRefusal::ProjectNotFound)
        }
        FolderRef::Folder(id) => {
            let ids = std::slice::from_ref(id);
            if let Some(found) = sbg_views::folders_by_sbg_ids(conn, user_id, ids)?.pop() {
                Ok(found)
            } else if sbg_views::files_by_sbg_ids(conn, user_id, ids)?.is_empty() {
                Err(FolderRefusal::FolderNotFound)
            } else {
                Err(FolderRefusal::NotAFolder)
            }
        }
    })
}
