//! Folders. Each project has a root folder `/`; every other folder has a parent. Paths are
//! unique per project through a SHA-256 of the path (see the migration), which is how every
//! lookup by path goes.

use std::collections::HashMap;

use chrono::NaiveDateTime;
use diesel::prelude::*;
use ferry_domain::ids::SbgId;
use ferry_domain::model::Folder;
use ferry_domain::path::FolderPath;
use sha2::{Digest, Sha256};

use crate::convert::{corrupt, from_db_time, now};
use crate::db::{DbConnection, write_transaction};
use crate::error::StoreError;
use crate::schema::folders;

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
            id: row.id,
            sbg_id: SbgId::parse(&row.sbg_id).map_err(bad)?,
            project_id: row.project_id,
            parent_id: row.parent_id,
            path: FolderPath::parse(&row.path).map_err(bad)?,
            created_at: from_db_time(row.created_at),
            modified_at: from_db_time(row.modified_at),
        })
    }
}

/// The key that makes a path unique in its project: hex SHA-256 of the normalised path.
fn path_digest(path: &FolderPath) -> String {
    hex::encode(Sha256::digest(path.as_str().as_bytes()))
}

/// The folder at `path`, created with every missing ancestor if need be. Calling it again
/// returns the same folder.
///
/// One query reads the existing folders of the chain root..=path; the missing ones are then
/// inserted top-down, one statement each, since each needs its parent's id.
pub fn ensure_path(
    conn: &mut DbConnection,
    project_id: i64,
    path: &FolderPath,
) -> Result<Folder, StoreError> {
    write_transaction(conn, |conn| {
        let mut chain = path.ancestors();
        chain.push(path.clone());
        let digests: Vec<String> = chain.iter().map(path_digest).collect();
        let mut existing: HashMap<String, FolderRow> = folders::table
            .filter(folders::project_id.eq(project_id))
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
    project_id: i64,
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
    project_id: i64,
    parent_id: Option<i64>,
    path: &FolderPath,
) -> Result<FolderRow, StoreError> {
    let now = now();
    let row = diesel::insert_into(folders::table)
        .values((
            folders::sbg_id.eq(SbgId::generate().as_str()),
            folders::project_id.eq(project_id),
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
    project_id: i64,
    path: &FolderPath,
) -> Result<Option<FolderRow>, StoreError> {
    Ok(folders::table
        .filter(folders::project_id.eq(project_id))
        .filter(folders::path_digest.eq(path_digest(path)))
        .select(FolderRow::as_select())
        .first(conn)
        .optional()?)
}

pub fn get_by_path(
    conn: &mut DbConnection,
    project_id: i64,
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
