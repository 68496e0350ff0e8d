//! Folders. Each project has a root folder `/`; every other folder has a parent. Paths are
//! unique per project through a SHA-256 of the path (see the migration), which is how every
//! lookup by path goes.

use ferry_domain::row_ids::{FolderRowId, PlacementRowId, ProjectRowId};
use std::collections::{HashMap, HashSet};

use chrono::NaiveDateTime;
use diesel::prelude::*;
use ferry_domain::ids::SbgId;
use ferry_domain::model::Folder;
use ferry_domain::path::FolderPath;
use sha2::{Digest, Sha256};

use crate::convert::{corrupt, from_db_time, now};
use crate::db::DbConnection;
use crate::error::StoreError;
use crate::schema::{folders, placements};
use crate::unit_of_work::atomic;

/// Ids per query: below SQLite's historical limit of 999 parameters.
const IDS_PER_QUERY: usize = 900;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = folders, check_for_backend(diesel::pg::Pg, diesel::sqlite::Sqlite))]
pub(crate) struct FolderRow {
    pub id: i64,
    pub sbg_id: String,
    pub project_id: i64,
    pub parent_id: Option<i64>,
    pub path: String,
    pub path_digest: String,
    #[expect(
        dead_code,
        reason = "the last component of `path`; read with all columns"
    )]
    pub name: String,
    pub created_at: NaiveDateTime,
    pub modified_at: NaiveDateTime,
}

impl TryFrom<FolderRow> for Folder {
    type Error = StoreError;

    fn try_from(row: FolderRow) -> Result<Folder, StoreError> {
        let bad = |e| corrupt("folders", row.id, e);
        Ok(Folder {
            id: FolderRowId::new(row.id),
            sbg_id: SbgId::parse(&row.sbg_id).map_err(bad)?,
            project_id: ProjectRowId::new(row.project_id),
            parent_id: row.parent_id.map(FolderRowId::new),
            path: FolderPath::parse(&row.path).map_err(bad)?,
            created_at: from_db_time(row.created_at),
            modified_at: from_db_time(row.modified_at),
        })
    }
}

/// The key that makes a path unique in its project: hex SHA-256 of the normalised path.
pub fn path_digest(path: &FolderPath) -> String {
    hex::encode(Sha256::digest(path.as_str().as_bytes()))
}

/// The folder at `path`, created with every missing ancestor if need be. Calling it again
/// returns the same folder.
///
/// One query reads the existing folders of the chain root..=path; the missing ones are then
/// inserted top-down, one statement each, since each needs its parent's id.
pub fn ensure_path(
    conn: &mut DbConnection,
    project_id: ProjectRowId,
    path: &FolderPath,
) -> Result<Folder, StoreError> {
    atomic(conn, |conn| {
        let mut chain = path.ancestors();
        chain.push(path.clone());
        let digests: Vec<String> = chain.iter().map(path_digest).collect();
        let mut existing: HashMap<String, FolderRow> = folders::table
            .filter(folders::project_id.eq(project_id.get()))
            .filter(folders::path_digest.eq_any(&digests))
            .select(FolderRow::as_select())
            .load(conn)?
            .into_iter()
            .map(|row| (row.path_digest.clone(), row))
            .collect();
        let mut parent: Option<FolderRow> = None;
        for (path, digest) in chain.iter().zip(digests) {
            let folder = match existing.remove(&digest) {
                Some(row) => row,
                None => insert_or_get(conn, project_id, parent.as_ref().map(|p| p.id), path)?,
            };
            parent = Some(folder);
        }
        parent
            .expect("the chain holds at least the path itself")
            .try_into()
    })
}

/// Inserts a folder whose parent exists. If a concurrent transaction inserted the same path
/// first, returns that folder: the insert runs in a savepoint, since on PostgreSQL a failed
/// statement would otherwise abort the whole transaction.
fn insert_or_get(
    conn: &mut DbConnection,
    project_id: ProjectRowId,
    parent_id: Option<i64>,
    path: &FolderPath,
) -> Result<FolderRow, StoreError> {
    match conn.transaction(|conn| insert(conn, project_id, parent_id, path)) {
        Err(StoreError::Conflict(reason)) => {
            find_row(conn, project_id, path)?.ok_or(StoreError::Conflict(reason))
        }
        inserted => inserted,
    }
}

/// Inserts one folder row; `parent_id` is `None` only for the root.
pub(crate) fn insert(
    conn: &mut DbConnection,
    project_id: ProjectRowId,
    parent_id: Option<i64>,
    path: &FolderPath,
) -> Result<FolderRow, StoreError> {
    let now = now();
    let row = diesel::insert_into(folders::table)
        .values((
            folders::sbg_id.eq(SbgId::generate().as_str()),
            folders::project_id.eq(project_id.get()),
            folders::parent_id.eq(parent_id),
            folders::path.eq(path.as_str()),
            folders::path_digest.eq(path_digest(path)),
            folders::name.eq(path.name().unwrap_or_default()),
            folders::created_at.eq(now),
            folders::modified_at.eq(now),
        ))
        .returning(folders::all_columns)
        .get_result(conn)?;
    Ok(row)
}

fn find_row(
    conn: &mut DbConnection,
    project_id: ProjectRowId,
    path: &FolderPath,
) -> Result<Option<FolderRow>, StoreError> {
    Ok(folders::table
        .filter(folders::project_id.eq(project_id.get()))
        .filter(folders::path_digest.eq(path_digest(path)))
        .select(FolderRow::as_select())
        .first(conn)
        .optional()?)
}

pub fn get_by_path(
    conn: &mut DbConnection,
    project_id: ProjectRowId,
    path: &FolderPath,
) -> Result<Option<Folder>, StoreError> {
    find_row(conn, project_id, path)?
        .map(Folder::try_from)
        .transpose()
}

pub fn get_by_sbg_id(
    conn: &mut DbConnection,
    sbg_id: &SbgId,
) -> Result<Option<Folder>, StoreError> {
    folders::table
        .filter(folders::sbg_id.eq(sbg_id.as_str()))
        .select(FolderRow::as_select())
        .first(conn)
        .optional()?
        .map(Folder::try_from)
        .transpose()
}

/// Serialises changes to the names in these folders, and to their contents, until the end of
/// the transaction; returns the ids of those that still exist. On PostgreSQL, locks the rows in
/// id order (so that two lockers never deadlock); on SQLite, the write transaction
/// ([`crate::Store::write`]) already holds the database's write lock.
pub fn lock(
    conn: &mut DbConnection,
    folder_ids: &[FolderRowId],
) -> Result<HashSet<FolderRowId>, StoreError> {
    let folder_ids: Vec<i64> = folder_ids.iter().map(|id| id.get()).collect();
    let folder_ids = folder_ids.as_slice();
    let mut locked = HashSet::with_capacity(folder_ids.len());
    for chunk in folder_ids.chunks(IDS_PER_QUERY) {
        let query = folders::table
            .filter(folders::id.eq_any(chunk))
            .select(folders::id)
            .order(folders::id);
        let ids: Vec<i64> = match conn {
            DbConnection::Pg(pg) => query.for_update().load(pg)?,
            DbConnection::Sqlite(_) => query.load(conn)?,
        };
        locked.extend(ids.into_iter().map(FolderRowId::new));
    }
    Ok(locked)
}

/// [`lock`] for a change to the files and folders with these SBG ids: locks the folders named
/// and the folders holding the files named, without reading them first, so that what the
/// caller then reads cannot change under it.
pub fn lock_around(conn: &mut DbConnection, sbg_ids: &[SbgId]) -> Result<(), StoreError> {
    let DbConnection::Pg(pg) = conn else {
        return Ok(());
    };
    for chunk in sbg_ids.chunks(IDS_PER_QUERY) {
        let chunk: Vec<&str> = chunk.iter().map(SbgId::as_str).collect();
        let holding_files = placements::table
            .filter(placements::sbg_id.eq_any(&chunk))
            .select(placements::folder_id);
        folders::table
            .filter(
                folders::sbg_id
                    .eq_any(&chunk)
                    .or(folders::id.eq_any(holding_files)),
            )
            .select(folders::id)
            .order(folders::id)
            .for_update()
            .load::<i64>(pg)?;
    }
    Ok(())
}

/// Of the `(folder id, name)` pairs wanted, those whose name a sub-folder or a file other than
/// the placements `except` already has in that folder. SBG names files and sub-folders in one
/// namespace. Two queries per 900 pairs.
pub fn names_taken(
    conn: &mut DbConnection,
    wanted: &[(FolderRowId, &str)],
    except: &[PlacementRowId],
) -> Result<HashSet<(FolderRowId, String)>, StoreError> {
    let except: Vec<i64> = except.iter().map(|id| id.get()).collect();
    let except = except.as_slice();
    let wanted_set: HashSet<(i64, &str)> = wanted
        .iter()
        .map(|&(folder, name)| (folder.get(), name))
        .collect();
    let mut taken = HashSet::new();
    for chunk in wanted.chunks(IDS_PER_QUERY / 2) {
        let folder_ids: Vec<i64> = chunk.iter().map(|(folder, _)| folder.get()).collect();
        let names: Vec<&str> = chunk.iter().map(|(_, name)| *name).collect();
        let files: Vec<(i64, String)> = placements::table
            .filter(placements::folder_id.eq_any(&folder_ids))
            .filter(placements::name.eq_any(&names))
            .filter(placements::id.ne_all(except))
            .select((placements::folder_id, placements::name))
            .load(conn)?;
        let subfolders: Vec<(Option<i64>, String)> = folders::table
            .filter(folders::parent_id.eq_any(&folder_ids))
            .filter(folders::name.eq_any(&names))
            .select((folders::parent_id, folders::name))
            .load(conn)?;
        let subfolders = subfolders
            .into_iter()
            .filter_map(|(parent, name)| parent.map(|parent| (parent, name)));
        // The queries match any wanted folder with any wanted name: keep the wanted pairs.
        taken.extend(
            files
                .into_iter()
                .chain(subfolders)
                .filter(|(folder, name)| wanted_set.contains(&(*folder, name.as_str())))
                .map(|(folder, name)| (FolderRowId::new(folder), name)),
        );
    }
    Ok(taken)
}

/// Creates the sub-folder `path` of `parent`. The caller has checked, under [`lock`], that no
/// file has its name; a folder of that name fails the insert with [`StoreError::Conflict`].
pub fn create_child(
    conn: &mut DbConnection,
    parent: &Folder,
    path: &FolderPath,
) -> Result<Folder, StoreError> {
    debug_assert_eq!(path.parent().as_ref(), Some(&parent.path), "not a child");
    conn.transaction(|conn| insert(conn, parent.project_id, Some(parent.id.get()), path))?
        .try_into()
}

/// Of these folders, those holding a file or a sub-folder other than the placements
/// `except_files` and the folders `except_folders` (which are going too). Two queries per 900
/// folders.
pub fn non_empty(
    conn: &mut DbConnection,
    folder_ids: &[FolderRowId],
    except_files: &[PlacementRowId],
    except_folders: &[FolderRowId],
) -> Result<HashSet<FolderRowId>, StoreError> {
    let folder_ids: Vec<i64> = folder_ids.iter().map(|id| id.get()).collect();
    let folder_ids = folder_ids.as_slice();
    let except_files: Vec<i64> = except_files.iter().map(|id| id.get()).collect();
    let except_files = except_files.as_slice();
    let except_folders: Vec<i64> = except_folders.iter().map(|id| id.get()).collect();
    let except_folders = except_folders.as_slice();
    let mut non_empty = HashSet::new();
    for chunk in folder_ids.chunks(IDS_PER_QUERY) {
        let with_files: Vec<i64> = placements::table
            .filter(placements::folder_id.eq_any(chunk))
            .filter(placements::id.ne_all(except_files))
            .select(placements::folder_id)
            .distinct()
            .load(conn)?;
        let with_folders: Vec<Option<i64>> = folders::table
            .filter(folders::parent_id.eq_any(chunk))
            .filter(folders::id.ne_all(except_folders))
            .select(folders::parent_id)
            .distinct()
            .load(conn)?;
        non_empty.extend(
            with_files
                .into_iter()
                .chain(with_folders.into_iter().flatten())
                .map(FolderRowId::new),
        );
    }
    Ok(non_empty)
}

/// Deletes the folders, with whatever they still hold. One statement per 900 folders.
pub fn delete(conn: &mut DbConnection, folder_ids: &[FolderRowId]) -> Result<(), StoreError> {
    let folder_ids: Vec<i64> = folder_ids.iter().map(|id| id.get()).collect();
    let folder_ids = folder_ids.as_slice();
    for chunk in folder_ids.chunks(IDS_PER_QUERY) {
        diesel::delete(folders::table.filter(folders::id.eq_any(chunk))).execute(conn)?;
    }
    Ok(())
}

/// Folders per multi-row INSERT: 8 columns a row stays below both backends' parameter limits.
const FOLDERS_PER_INSERT: usize = 1_000;

#[derive(Insertable)]
#[diesel(table_name = folders, treat_none_as_default_value = false)]
struct NewFolder<'a> {
    sbg_id: String,
    project_id: i64,
    parent_id: Option<i64>,
    path: &'a str,
    path_digest: String,
    name: &'a str,
    created_at: NaiveDateTime,
    modified_at: NaiveDateTime,
}

/// Creates the folders `paths` in the project, sorted parents before children (by depth): the
/// parent of each must be in `ids` (path -> folder id, the folders known to exist) or come
/// earlier in `paths`. One multi-row INSERT per depth per 1,000 folders, since a folder needs
/// its parent's id; `ids` gains the new folders. A path that exists fails with
/// [`StoreError::Conflict`].
pub(crate) fn insert_tree(
    conn: &mut DbConnection,
    project_id: ProjectRowId,
    paths: &[FolderPath],
    ids: &mut HashMap<FolderPath, i64>,
) -> Result<(), StoreError> {
    let now = now();
    for level in paths.chunk_by(|a, b| a.depth() == b.depth()) {
        for chunk in level.chunks(FOLDERS_PER_INSERT) {
            let rows = chunk
                .iter()
                .map(|path| {
                    let parent = path.parent().and_then(|parent| ids.get(&parent).copied());
                    let parent_id = parent.ok_or_else(|| {
                        StoreError::Corrupt(format!("the parent of folder {path} is missing"))
                    })?;
                    Ok(NewFolder {
                        sbg_id: SbgId::generate().to_string(),
                        project_id: project_id.get(),
                        parent_id: Some(parent_id),
                        path: path.as_str(),
                        path_digest: path_digest(path),
                        name: path.name().unwrap_or_default(),
                        created_at: now,
                        modified_at: now,
                    })
                })
                .collect::<Result<Vec<_>, StoreError>>()?;
            let inserted: Vec<(i64, String)> =
                crate::each_backend!(conn, |c| diesel::insert_into(folders::table)
                    .values(&rows)
                    .returning((folders::id, folders::path))
                    .get_results(c))?;
            for (id, path) in inserted {
                let path = FolderPath::parse(&path).map_err(|e| corrupt("folders", id, e))?;
                ids.insert(path, id);
            }
        }
    }
    Ok(())
}
