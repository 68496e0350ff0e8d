//! Folders and the objects in them: `/class-xxxx/{newFolder, listFolder, removeFolder, move,
//! renameFolder, removeObjects}` (dx-api.md §5.7–§5.11). Creating and moving need UPLOAD;
//! removing needs CONTRIBUTE, or ADMINISTER in a protected project. Each call is a constant
//! number of statements, however many objects and folders it touches.

use ferry_domain::row_ids::{FolderRowId, UserRowId};
use std::collections::{BTreeSet, HashMap};

use ferry_domain::ids::DxId;
use ferry_domain::model::Folder;
use ferry_domain::path::FolderPath;
use ferry_domain::permission::Level;
use ferry_store::objects::{self, CopyScope, ObjectCopy};
use ferry_store::{DbConnection, dx_folders, folders};
use ferry_usecases::access::{Container, container, removal_level, require};
use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::describe::{self, ObjectExtras, wants_parts};
use super::input::{DescribeRequest, parse};
use super::{Call, DxError};
use crate::{AppState, db};

fn root() -> FolderPath {
    FolderPath::root()
}

/// The folder at `path` of the project, or `ResourceNotFound`.
fn existing_folder(
    conn: &mut DbConnection,
    container: &Container,
    path: &FolderPath,
) -> Result<Folder, DxError> {
    folders::get_by_path(conn, container.project.id, path)?.ok_or_else(|| {
        DxError::resource_not_found(format!(
            "The folder {path} could not be found in {}",
            container.project.dx_id
        ))
    })
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
struct NewFolderInput {
    #[schema(value_type = String)]
    folder: FolderPath,
    #[serde(default)]
    parents: bool,
}

/// `/class-xxxx/newFolder`: with `parents`, missing ancestors are made and an existing folder
/// is fine; without, the parent must exist and the folder must not.
#[utoipa::path(post, path = "/project-{project}/newFolder", tag = "dx", params(("project" = String, Path, description = "The 24 characters after project-")), request_body = NewFolderInput, responses((status = 200, description = "The method's output")))]
pub(crate) async fn new_folder(state: &AppState, call: Call, id: DxId) -> Result<Value, DxError> {
    let input: NewFolderInput = parse(call.input)?;
    let user_id = call.caller.user.id;
    let output = json!({ "id": id });
    db::write(
        &state.store,
        call.claim,
        move |conn| -> Result<(), DxError> {
            let container = container(conn, user_id, &id, Level::Upload)?;
            if !input.parents {
                if folders::get_by_path(conn, container.project.id, &input.folder)?.is_some() {
                    return Err(DxError::invalid_state(format!(
                        "The folder {} already exists in {id}",
                        input.folder
                    )));
                }
                let parent = input.folder.parent().unwrap_or_else(root);
                existing_folder(conn, &container, &parent)?;
            }
            folders::ensure_path(conn, container.project.id, &input.folder)?;
            Ok(())
        },
    )
    .await?;
    Ok(output)
}

/// Which keys `listFolder` answers with.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
enum Only {
    Folders,
    Objects,
    #[default]
    All,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
struct ListFolderInput {
    #[serde(default = "root")]
    #[schema(value_type = String)]
    folder: FolderPath,
    #[serde(default)]
    describe: DescribeRequest,
    #[serde(default)]
    only: Only,
    #[serde(default)]
    include_hidden: bool,
}

/// `/class-xxxx/listFolder`: `{"objects": [{"id", "describe"?}], "folders": [full paths]}`,
/// without the key `only` leaves out. Objects by name, folders by path.
#[utoipa::path(post, path = "/project-{project}/listFolder", tag = "dx", params(("project" = String, Path, description = "The 24 characters after project-")), request_body = ListFolderInput, responses((status = 200, description = "The method's output")))]
pub(crate) async fn list_folder(state: &AppState, call: Call, id: DxId) -> Result<Value, DxError> {
    let input: ListFolderInput = parse(call.input)?;
    let user_id = call.caller.user.id;
    let describe_options = input.describe.options();
    db::read(&state.store, move |conn| {
        let container = container(conn, user_id, &id, Level::View)?;
        let folder =
            folders::get_by_path(conn, container.project.id, &input.folder)?.ok_or_else(|| {
                DxError::resource_not_found(format!(
                    "The specified folder could not be found in {id}"
                ))
            })?;
        let mut output = Map::new();
        if input.only != Only::Objects {
            let subfolders = dx_folders::children(conn, folder.id)?;
            output.insert("folders".to_owned(), json!(subfolders));
        }
        if input.only != Only::Folders {
            let scope = CopyScope::Folder {
                folder_id: folder.id,
                include_hidden: input.include_hidden,
            };
            let copies = objects::visible_copies(conn, user_id, scope)?;
            let listed = match &describe_options {
                None => copies
                    .iter()
                    .map(|copy| json!({"id": copy.object.dx_id}))
                    .collect(),
                Some(options) => {
                    let with_parts = wants_parts([options]);
                    let extras = ObjectExtras::load(conn, &copies, with_parts)?;
                    copies
                        .iter()
                        .map(|copy| {
                            json!({
                                "id": copy.object.dx_id,
                                "describe": describe::object(copy, &extras, options),
                            })
                        })
                        .collect()
                }
            };
            output.insert("objects".to_owned(), Value::Array(listed));
        }
        Ok(Value::Object(output))
    })
    .await
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
struct RemoveFolderInput {
    #[schema(value_type = String)]
    folder: FolderPath,
    #[serde(default)]
    recurse: bool,
    #[serde(default)]
    force: bool,
}

/// `/class-xxxx/removeFolder`: an empty folder, or with `recurse` a whole subtree and the
/// objects in it; `/` with `recurse` empties the project. With `force` a missing folder is
/// fine. Always completes in one call.
#[utoipa::path(post, path = "/project-{project}/removeFolder", tag = "dx", params(("project" = String, Path, description = "The 24 characters after project-")), request_body = RemoveFolderInput, responses((status = 200, description = "The method's output")))]
pub(crate) async fn remove_folder(
    state: &AppState,
    call: Call,
    id: DxId,
) -> Result<Value, DxError> {
    let input: RemoveFolderInput = parse(call.input)?;
    let user_id = call.caller.user.id;
    let output = json!({ "id": id, "completed": true });
    db::write(
        &state.store,
        call.claim,
        move |conn| -> Result<(), DxError> {
            let container = container(conn, user_id, &id, Level::View)?;
            require(container.level, removal_level(&container.project), &id)?;
            let Some(folder) = folders::get_by_path(conn, container.project.id, &input.folder)?
            else {
                if input.force {
                    return Ok(());
                }
                return Err(DxError::resource_not_found(
                    "The specified folder could not be found",
                ));
            };
            folders::lock(conn, &[folder.id])?;
            if !input.recurse {
                if folder.path.is_root() {
                    return Err(DxError::invalid_input(
                        "The root folder cannot be removed; use recurse to empty it",
                    ));
                }
                if !folders::non_empty(conn, &[folder.id], &[], &[])?.is_empty() {
                    return Err(DxError::invalid_state(format!(
                        "The folder {} is not empty; use recurse to remove its contents",
                        folder.path
                    )));
                }
            }
            dx_folders::remove_tree(conn, &folder)?;
            Ok(())
        },
    )
    .await?;
    Ok(output)
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
struct MoveInput {
    #[serde(default)]
    #[schema(value_type = Vec<String>)]
    objects: Vec<DxId>,
    #[serde(default)]
    #[schema(value_type = Vec<String>)]
    folders: Vec<FolderPath>,
    #[schema(value_type = String)]
    destination: FolderPath,
}

/// `/class-xxxx/move`: folders move with their contents into `destination` (`/a/b` to `/x`
/// becomes `/x/b`); objects and folders listed explicitly go directly into `destination`, even
/// from inside a listed folder. A moved folder whose name `destination` already has is
/// `InvalidState`.
#[utoipa::path(post, path = "/project-{project}/move", tag = "dx", params(("project" = String, Path, description = "The 24 characters after project-")), request_body = MoveInput, responses((status = 200, description = "The method's output")))]
pub(crate) async fn move_items(state: &AppState, call: Call, id: DxId) -> Result<Value, DxError> {
    let input: MoveInput = parse(call.input)?;
    let roots: BTreeSet<FolderPath> = input.folders.into_iter().collect();
    if roots.iter().any(FolderPath::is_root) {
        return Err(DxError::invalid_input("The root folder cannot be moved"));
    }
    if let Some(root) = roots.iter().find(|root| input.destination.is_within(root)) {
        return Err(DxError::invalid_input(format!(
            "The folder {root} cannot be moved into itself ({})",
            input.destination
        )));
    }
    let user_id = call.caller.user.id;
    let output = json!({ "id": id });
    db::write(
        &state.store,
        call.claim,
        move |conn| -> Result<(), DxError> {
            let container = container(conn, user_id, &id, Level::Upload)?;
            let destination = existing_folder(conn, &container, &input.destination)?;
            let copies = copies_in(conn, user_id, &container, &input.objects, false)?;
            let roots: Vec<FolderPath> = roots.into_iter().collect();
            let tree = dx_folders::subtrees(conn, container.project.id, &roots)?;
            let mut lock_ids: Vec<_> = tree.iter().map(|folder| folder.id).collect();
            lock_ids.push(destination.id);
            folders::lock(conn, &lock_ids)?;
            let new_paths = moved_paths(conn, &container, &tree, &roots, &destination)?;
            let moved_roots: Vec<_> = tree
                .iter()
                .filter(|folder| roots.contains(&folder.path))
                .filter(|folder| folder.parent_id != Some(destination.id))
                .map(|folder| folder.id)
                .collect();
            dx_folders::set_paths(conn, &new_paths)?;
            dx_folders::set_parent(conn, &moved_roots, destination.id)?;
            let placements: Vec<_> = copies.iter().map(|copy| copy.placement.id).collect();
            objects::move_copies(conn, &placements, destination.id)?;
            Ok(())
        },
    )
    .await?;
    Ok(output)
}

/// The new path of every folder of `tree` that moves: each goes with the deepest listed root
/// above it, which lands in `destination` under its own name.
fn moved_paths(
    conn: &mut DbConnection,
    container: &Container,
    tree: &[Folder],
    roots: &[FolderPath],
    destination: &Folder,
) -> Result<Vec<(FolderRowId, FolderPath)>, DxError> {
    let present: BTreeSet<&FolderPath> = tree.iter().map(|folder| &folder.path).collect();
    if let Some(missing) = roots.iter().find(|root| !present.contains(root)) {
        return Err(DxError::resource_not_found(format!(
            "The folder {missing} could not be found in {}",
            container.project.dx_id
        )));
    }
    let taken: BTreeSet<FolderPath> = dx_folders::children(conn, destination.id)?
        .into_iter()
        .collect();
    let mut landing: HashMap<&FolderPath, FolderPath> = HashMap::new();
    let mut landed = BTreeSet::new();
    for root in roots {
        let name = root.name().expect("the root folder is refused earlier");
        let target = destination.path.join(name)?;
        let stays = root.parent().as_ref() == Some(&destination.path);
        if !landed.insert(target.clone()) || (!stays && taken.contains(&target)) {
            return Err(DxError::invalid_state(format!(
                "A folder named {name} would conflict with another in {}",
                destination.path
            )));
        }
        landing.insert(root, target);
    }
    // Deepest roots first, so that a folder goes with the nearest listed root above it.
    let mut by_depth: Vec<&FolderPath> = roots.iter().collect();
    by_depth.sort_by_key(|root| std::cmp::Reverse(root.depth()));
    let mut new_paths = Vec::new();
    for folder in tree {
        let Some(root) = by_depth.iter().find(|root| folder.path.is_within(root)) else {
            continue;
        };
        let new_path = folder.path.rebase(root, &landing[*root])?;
        if new_path != folder.path {
            new_paths.push((folder.id, new_path));
        }
    }
    Ok(new_paths)
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
struct RenameFolderInput {
    #[schema(value_type = String)]
    folder: FolderPath,
    /// The new name, in the same parent.
    name: Option<String>,
    /// The new path, which `dx mv /a /b/c` sends: the parent may change too.
    #[schema(value_type = Option<String>)]
    newpath: Option<FolderPath>,
}

/// `/class-xxxx/renameFolder`: the folder keeps its contents under a new name (`name`), or at a
/// new path (`newpath`, whose parent must exist), as `dx mv` renames and moves a folder.
#[utoipa::path(post, path = "/project-{project}/renameFolder", tag = "dx", params(("project" = String, Path, description = "The 24 characters after project-")), request_body = RenameFolderInput, responses((status = 200, description = "The method's output")))]
pub(crate) async fn rename_folder(
    state: &AppState,
    call: Call,
    id: DxId,
) -> Result<Value, DxError> {
    let input: RenameFolderInput = parse(call.input)?;
    let Some(parent) = input.folder.parent() else {
        return Err(DxError::invalid_input("The root folder cannot be renamed"));
    };
    let renamed = match (&input.name, &input.newpath) {
        (Some(name), None) => parent.join(name)?,
        (None, Some(newpath)) if !newpath.is_root() => newpath.clone(),
        (None, Some(_)) => return Err(DxError::invalid_input("newpath cannot be the root folder")),
        _ => {
            return Err(DxError::invalid_input(
                "exactly one of name and newpath is required",
            ));
        }
    };
    if renamed != input.folder && renamed.is_within(&input.folder) {
        return Err(DxError::invalid_input(format!(
            "{} cannot be moved into itself",
            input.folder
        )));
    }
    let new_parent = renamed.parent().filter(|new_parent| *new_parent != parent);
    let user_id = call.caller.user.id;
    let output = json!({ "id": id });
    db::write(
        &state.store,
        call.claim,
        move |conn| -> Result<(), DxError> {
            let container = container(conn, user_id, &id, Level::Upload)?;
            let folder = existing_folder(conn, &container, &input.folder)?;
            if renamed == folder.path {
                return Ok(());
            }
            let new_parent = match &new_parent {
                Some(path) => Some(existing_folder(conn, &container, path)?),
                None => None,
            };
            let tree = dx_folders::subtrees(
                conn,
                container.project.id,
                std::slice::from_ref(&folder.path),
            )?;
            let mut lock_ids: Vec<_> = tree.iter().map(|folder| folder.id).collect();
            lock_ids.extend(folder.parent_id);
            lock_ids.extend(new_parent.as_ref().map(|parent| parent.id));
            folders::lock(conn, &lock_ids)?;
            if folders::get_by_path(conn, container.project.id, &renamed)?.is_some() {
                return Err(DxError::invalid_state(format!(
                    "A folder {renamed} already exists in {id}"
                )));
            }
            let new_paths = tree
                .iter()
                .map(|inner| Ok((inner.id, inner.path.rebase(&folder.path, &renamed)?)))
                .collect::<Result<Vec<_>, DxError>>()?;
            dx_folders::set_paths(conn, &new_paths)?;
            if let Some(new_parent) = &new_parent {
                dx_folders::set_parent(conn, &[folder.id], new_parent.id)?;
            }
            Ok(())
        },
    )
    .await?;
    Ok(output)
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
struct RemoveObjectsInput {
    #[schema(value_type = Vec<String>)]
    objects: Vec<DxId>,
    #[serde(default)]
    force: bool,
}

/// `/class-xxxx/removeObjects`: the copies in this project go, with the hidden objects of the
/// project only they used, and the objects no other project holds. With `force`, objects not in
/// the project are skipped.
#[utoipa::path(post, path = "/project-{project}/removeObjects", tag = "dx", params(("project" = String, Path, description = "The 24 characters after project-")), request_body = RemoveObjectsInput, responses((status = 200, description = "The method's output")))]
pub(crate) async fn remove_objects(
    state: &AppState,
    call: Call,
    id: DxId,
) -> Result<Value, DxError> {
    let input: RemoveObjectsInput = parse(call.input)?;
    let user_id = call.caller.user.id;
    let output = json!({ "id": id });
    db::write(
        &state.store,
        call.claim,
        move |conn| -> Result<(), DxError> {
            let container = container(conn, user_id, &id, Level::View)?;
            require(container.level, removal_level(&container.project), &id)?;
            let copies = copies_in(conn, user_id, &container, &input.objects, input.force)?;
            let placements: Vec<_> = copies.iter().map(|copy| copy.placement.id).collect();
            objects::remove_copies(conn, container.project.id, &placements)?;
            Ok(())
        },
    )
    .await?;
    Ok(output)
}

/// The copies in the container of the objects `ids`: `ResourceNotFound` for the first one it
/// does not hold, unless `skip_missing`.
fn copies_in(
    conn: &mut DbConnection,
    user_id: UserRowId,
    container: &Container,
    ids: &[DxId],
    skip_missing: bool,
) -> Result<Vec<ObjectCopy>, DxError> {
    let scope = CopyScope::Objects {
        ids,
        project_id: Some(container.project.id),
    };
    let copies = objects::visible_copies(conn, user_id, scope)?;
    if !skip_missing {
        let held: BTreeSet<&DxId> = copies.iter().map(|copy| &copy.object.dx_id).collect();
        if let Some(missing) = ids.iter().find(|id| !held.contains(id)) {
            return Err(DxError::resource_not_found(format!(
                "The entity {missing} could not be found in {}",
                container.project.dx_id
            )));
        }
    }
    Ok(copies)
}
