//! Folder trees as DNAnexus handles them: listings by path, whole subtrees removed, moved or
//! renamed at once. A subtree is found by its paths (`path = p OR path LIKE 'p/%'`), so each
//! operation costs a constant number of statements (per 1,000 rows), however deep the tree.

use diesel::prelude::*;
use diesel::sql_types::Bool;
use ferry_domain::model::Folder;
use ferry_domain::path::FolderPath;
use ferry_domain::row_ids::{FolderRowId, ProjectRowId};

use crate::case::TextById;
use crate::convert::{corrupt, escape_like, now};
use crate::db::{DbConnection, MultiBackend};
use crate::error::StoreError;
use crate::folders::{FolderRow, path_digest};
use crate::schema::{folders, placements};
use crate::{files, objects};

/// Rows per UPDATE: three CASE columns of two parameters a row, and the id list, stay below
/// both backends' parameter limits.
const ROWS_PER_UPDATE: usize = 1_000;

/// Sub-trees per query: each adds two parameters.
const ROOTS_PER_QUERY: usize = 400;

/// The paths of the folder's direct sub-folders, sorted.
pub fn children(
    conn: &mut DbConnection,
    folder_id: FolderRowId,
) -> Result<Vec<FolderPath>, StoreError> {
    parse_paths(
        folders::table
            .filter(folders::parent_id.eq(folder_id.get()))
            .select((folders::id, folders::path))
            .order(folders::path)
            .load(conn)?,
    )
}

/// The paths of every folder of the project, `/` included, sorted.
pub fn all_paths(
    conn: &mut DbConnection,
    project_id: ProjectRowId,
) -> Result<Vec<FolderPath>, StoreError> {
    parse_paths(
        folders::table
            .filter(folders::project_id.eq(project_id.get()))
            .select((folders::id, folders::path))
            .order(folders::path)
            .load(conn)?,
    )
}

fn parse_paths(rows: Vec<(i64, String)>) -> Result<Vec<FolderPath>, StoreError> {
    rows.into_iter()
        .map(|(id, path)| FolderPath::parse(&path).map_err(|e| corrupt("folders", id, e)))
        .collect()
}

type PathTest = Box<dyn BoxableExpression<folders::table, MultiBackend, SqlType = Bool>>;

/// The folders of the project at or below any of `roots`, by path. One query per 400 roots.
pub fn subtrees(
    conn: &mut DbConnection,
    project_id: ProjectRowId,
    roots: &[FolderPath],
) -> Result<Vec<Folder>, StoreError> {
    let mut found = Vec::new();
    for chunk in roots.chunks(ROOTS_PER_QUERY) {
        let mut query = folders::table
            .filter(folders::project_id.eq(project_id.get()))
            .select(FolderRow::as_select())
            .order(folders::path)
            .into_boxed();
        if !chunk.iter().any(FolderPath::is_root) {
            let roots: Vec<String> = chunk.iter().map(FolderPath::to_string).collect();
            let mut in_trees: PathTest = Box::new(folders::path.eq_any(roots));
            for root in chunk {
                let below = folders::path
                    .like(format!("{}/%", escape_like(root.as_str())))
                    .escape('\\');
                in_trees = Box::new(in_trees.or(below));
            }
            query = query.filter(in_trees);
        }
        for row in query.load(conn)? {
            found.push(Folder::try_from(row)?);
        }
    }
    found.sort_by(|a, b| a.path.cmp(&b.path));
    found.dedup_by_key(|folder| folder.id);
    Ok(found)
}

/// Removes everything in the subtree at `root`: the copies in it, with the hidden objects
/// elsewhere in the project only they used ([`objects::remove_copies`]), its sub-folders, and
/// `root` itself unless it is the project's root folder.
pub fn remove_tree(conn: &mut DbConnection, root: &Folder) -> Result<(), StoreError> {
    let in_tree: Vec<i64> = if root.path.is_root() {
        placements::table
            .filter(placements::project_id.eq(root.project_id.get()))
            .select(placements::id)
            .load(conn)?
    } else {
        let below = folders::path
            .like(format!("{}/%", escape_like(root.path.as_str())))
            .escape('\\');
        let tree = folders::table
            .filter(folders::project_id.eq(root.project_id.get()))
            .filter(folders::id.eq(root.id.get()).or(below))
            .select(folders::id);
        placements::table
            .filter(placements::folder_id.eq_any(tree))
            .select(placements::id)
            .load(conn)?
    };
    if root.path.is_root() {
        // Nothing is left to use anything.
        files::delete_placement_keys(conn, &in_tree)?;
    } else {
        objects::remove_copy_keys(conn, root.project_id, &in_tree)?;
    }
    // Sub-folders go with their parent (ON DELETE CASCADE).
    if root.path.is_root() {
        diesel::delete(folders::table.filter(folders::parent_id.eq(root.id.get())))
            .execute(conn)?;
    } else {
        diesel::delete(folders::table.find(root.id.get())).execute(conn)?;
    }
    Ok(())
}

/// Gives each folder its new path (and the name and digest that follow from it): one UPDATE per
/// 1,000 folders. The caller has checked that no new path is taken.
pub fn set_paths(
    conn: &mut DbConnection,
    paths: &[(FolderRowId, FolderPath)],
) -> Result<(), StoreError> {
    let now = now();
    for chunk in paths.chunks(ROWS_PER_UPDATE) {
        let ids: Vec<i64> = chunk.iter().map(|(id, _)| id.get()).collect();
        let column = |value: fn(&FolderPath) -> String| {
            TextById::new(
                folders::id,
                chunk
                    .iter()
                    .map(|(id, path)| (id.get(), value(path)))
                    .collect(),
            )
        };
        diesel::update(folders::table.filter(folders::id.eq_any(&ids)))
            .set((
                folders::path.eq(column(|p| p.as_str().to_owned())),
                folders::path_digest.eq(column(path_digest)),
                folders::name.eq(column(|p| p.name().unwrap_or_default().to_owned())),
                folders::modified_at.eq(now),
            ))
            .execute(conn)?;
    }
    Ok(())
}

/// Makes `parent_id` the parent of these folders, one statement per 1,000.
pub fn set_parent(
    conn: &mut DbConnection,
    folder_ids: &[FolderRowId],
    parent_id: FolderRowId,
) -> Result<(), StoreError> {
    let folder_ids: Vec<i64> = folder_ids.iter().map(|id| id.get()).collect();
    let folder_ids = folder_ids.as_slice();
    for chunk in folder_ids.chunks(ROWS_PER_UPDATE) {
        diesel::update(folders::table.filter(folders::id.eq_any(chunk)))
            .set(folders::parent_id.eq(parent_id.get()))
            .execute(conn)?;
    }
    Ok(())
}
