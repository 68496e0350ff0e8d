//! What a DNAnexus caller may reach: containers and object copies as they see them, and the
//! levels methods need (VIEW < UPLOAD < CONTRIBUTE < ADMINISTER, dx-api.md §4). Anything the
//! caller cannot see is refused as not found, exactly like what does not exist.

use ferry_domain::access::AccessRefusal;
use ferry_domain::ids::DxId;
use ferry_domain::model::Project;
use ferry_domain::permission::Level;
use ferry_domain::row_ids::{ProjectRowId, UserRowId};
use ferry_store::objects::{self, CopyScope, ObjectCopy};
use ferry_store::{DbConnection, dx_containers};

use crate::failure::Failure;

/// An access check that could not be passed: refused, or the store failed.
pub type AccessError = Failure<AccessRefusal>;

/// A project the caller is a member of, with their level in it.
#[derive(Debug, Clone)]
pub struct Container {
    pub project: Project,
    pub level: Level,
}

/// The container `id` names, if the caller can see it and holds `needed` in it.
pub fn container(
    conn: &mut DbConnection,
    user_id: UserRowId,
    id: &DxId,
    needed: Level,
) -> Result<Container, AccessError> {
    if !id.class().is_container() {
        return Err(AccessRefusal::NotAContainer(id.clone()).into());
    }
    let (project, permissions) = dx_containers::find_for_member(conn, user_id, id)?
        .ok_or_else(|| AccessRefusal::NotFound(id.clone()))?;
    require(permissions.level, needed, id)?;
    Ok(Container {
        project,
        level: permissions.level,
    })
}

/// Refused unless `held` reaches `needed` in `container`.
pub fn require(held: Level, needed: Level, container: &DxId) -> Result<(), AccessRefusal> {
    if held < needed {
        return Err(AccessRefusal::LevelTooLow {
            needed,
            held,
            container: container.clone(),
        });
    }
    Ok(())
}

/// Refused if no file of project `project_id` may be downloaded: the rule behind both
/// dialects' download links.
pub fn require_download(
    conn: &mut DbConnection,
    project_id: ProjectRowId,
) -> Result<(), AccessError> {
    if dx_containers::download_restricted(conn, project_id)? {
        return Err(AccessRefusal::DownloadRestricted.into());
    }
    Ok(())
}

/// The level that removing data takes: CONTRIBUTE, or ADMINISTER in a protected project.
pub fn removal_level(project: &Project) -> Level {
    if project.protected {
        Level::Administer
    } else {
        Level::Contribute
    }
}

/// Which copy of an object a call means by its `project`.
#[derive(Debug, Clone, Copy)]
pub enum ProjectHint<'a> {
    /// `describe`: that project's copy if the caller sees it, else another one they see.
    Prefer(Option<&'a DxId>),
    /// Changes: that project's copy, or none; without a project, the copy where the caller's
    /// level is highest.
    Exactly(Option<&'a DxId>),
}

/// The copy of object `id` that `hint` picks among those the caller can see.
pub fn object_copy(
    conn: &mut DbConnection,
    user_id: UserRowId,
    id: &DxId,
    hint: ProjectHint<'_>,
) -> Result<ObjectCopy, AccessError> {
    let copies = objects::visible_copies(
        conn,
        user_id,
        CopyScope::Objects {
            ids: std::slice::from_ref(id),
            project_id: None,
        },
    )?;
    pick_copy(copies, hint).ok_or_else(|| AccessRefusal::NotFound(id.clone()).into())
}

/// The copy a change works on, for a caller holding `needed` in its project; locks the object
/// first, so that what is read stays true until the change commits.
pub fn copy_to_change(
    conn: &mut DbConnection,
    user_id: UserRowId,
    id: &DxId,
    project: Option<&DxId>,
    needed: Level,
) -> Result<ObjectCopy, AccessError> {
    objects::lock(conn, id)?;
    let copy = object_copy(conn, user_id, id, ProjectHint::Exactly(project))?;
    require(copy.level, needed, &copy.project)?;
    Ok(copy)
}

/// The copy `hint` picks among `copies` (all of one object).
pub fn pick_copy(copies: Vec<ObjectCopy>, hint: ProjectHint<'_>) -> Option<ObjectCopy> {
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
