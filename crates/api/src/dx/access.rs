//! What the caller may reach: containers and object copies as they see them, and the levels
//! that methods need (VIEW < UPLOAD < CONTRIBUTE < ADMINISTER, dx-api.md §4). Anything the
//! caller cannot see is `ResourceNotFound`, exactly like what does not exist.

use ferry_domain::ids::DxId;
use ferry_domain::model::Project;
use ferry_domain::permission::Level;
use ferry_domain::row_ids::UserRowId;
use ferry_store::objects::{self, CopyScope, ObjectCopy};
use ferry_store::{DbConnection, dx_containers};

use super::{DxError, DxErrorType};

/// A project the caller is a member of, with their level in it.
#[derive(Debug, Clone)]
pub(crate) struct Container {
    pub project: Project,
    pub level: Level,
}

/// The container `id` names, if the caller can see it and holds `needed` in it.
pub(crate) fn container(
    conn: &mut DbConnection,
    user_id: UserRowId,
    id: &DxId,
    needed: Level,
) -> Result<Container, DxError> {
    if !id.class().is_container() {
        return Err(DxError::new(
            DxErrorType::InvalidType,
            format!("{id} is not a data container"),
        ));
    }
    let (project, permissions) = dx_containers::find_for_member(conn, user_id, id)?
        .ok_or_else(|| DxError::entity_not_found(id))?;
    require(permissions.level, needed, id)?;
    Ok(Container {
        project,
        level: permissions.level,
    })
}

/// `PermissionDenied` unless `level` reaches `needed` in `container`.
pub(crate) fn require(level: Level, needed: Level, container: &DxId) -> Result<(), DxError> {
    if level < needed {
        return Err(DxError::permission_denied(format!(
            "{needed} permission is required in {container}, but you have {level}"
        )));
    }
    Ok(())
}

/// The level that removing data takes: CONTRIBUTE, or ADMINISTER in a protected project.
pub(crate) fn removal_level(project: &Project) -> Level {
    if project.protected {
        Level::Administer
    } else {
        Level::Contribute
    }
}

/// Which copy of an object a call means by its `project`.
#[derive(Debug, Clone, Copy)]
pub(crate) enum ProjectHint<'a> {
    /// `describe`: that project's copy if the caller sees it, else another one they see.
    Prefer(Option<&'a DxId>),
    /// Changes: that project's copy, or none; without a project, the copy where the caller's
    /// level is highest.
    Exactly(Option<&'a DxId>),
}

/// The copy of object `id` that `hint` picks among those the caller can see.
pub(crate) fn object_copy(
    conn: &mut DbConnection,
    user_id: UserRowId,
    id: &DxId,
    hint: ProjectHint<'_>,
) -> Result<ObjectCopy, DxError> {
    let copies = objects::visible_copies(
        conn,
        user_id,
        CopyScope::Objects {
            ids: std::slice::from_ref(id),
            project_id: None,
        },
    )?;
    pick_copy(copies, hint).ok_or_else(|| DxError::entity_not_found(id))
}

/// The copy `hint` picks among `copies` (all of one object).
pub(crate) fn pick_copy(copies: Vec<ObjectCopy>, hint: ProjectHint<'_>) -> Option<ObjectCopy> {
    let (project, strict) = match hint {
        ProjectHint::Prefer(project) => (project, false),
        ProjectHint::Exactly(project) => (project, true),
    };
    if let Some(project) = project {
        if let Some(copy) = copies.iter().find(|copy| &copy.project == project) {
            return Some(copy.clone());
        }
        if strict {
            return None;
        }
    }
    // The highest level, then the oldest copy (the list is by placement id).
    copies.into_iter().rev().max_by_key(|copy| copy.level)
}
