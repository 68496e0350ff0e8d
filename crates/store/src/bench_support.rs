//! What `ferry bench` (crates/bench) needs of the database that no repository does: the
//! floor, the plainest SQL that writes the rows a copy writes, which Ferry's figures are held
//! against; and fresh planner statistics before a measurement. Raw SQL on purpose: the floor is
//! what the database costs with no Ferry code around it.

use ferry_domain::row_ids::UserRowId;
use std::fmt::Write as _;

use diesel::sql_types::BigInt;
use diesel::{Connection, QueryableByName, RunQueryDsl};

use crate::content::ContentInfo;
use crate::db::DbConnection;
use crate::each_backend;
use crate::error::StoreError;

/// Rows per multi-row INSERT of the floor: as many as Ferry's own bulk inserts write
/// (`store::placing`).
pub const FLOOR_ROWS_PER_INSERT: usize = crate::placing::ROWS_PER_INSERT;

#[derive(QueryableByName)]
struct InsertedId {
    #[diesel(sql_type = BigInt)]
    id: i64,
}

/// The floor: `count` closed file objects over `content`, created by `user_id`, and their
/// placements in `(project id, folder id)`, in one transaction, by multi-row INSERTs of
/// literal values, [`FLOOR_ROWS_PER_INSERT`] rows each, objects then placements. `first`
/// numbers the rows (their DNAnexus and SBG ids, their names): the caller keeps the numbers of
/// one project's floor rows distinct.
pub fn insert_floor(
    conn: &mut DbConnection,
    user_id: UserRowId,
    (project_id, folder_id): (i64, i64),
    content: &ContentInfo,
    first: usize,
    count: usize,
) -> Result<(), StoreError> {
    conn.transaction(|conn| {
        let numbers: Vec<usize> = (first..first + count).collect();
        for chunk in numbers.chunks(FLOOR_ROWS_PER_INSERT) {
            let mut objects = String::from(
                "INSERT INTO objects (dx_id, class, state, hidden, details, types, size, \
                 content_sha256, md5, created_at, created_by_user_id, modified_at) VALUES ",
            );
            for (i, n) in chunk.iter().enumerate() {
                let separator = if i == 0 { "" } else { ", " };
                let _ = write!(
                    objects,
                    "{separator}('file-floor{n:014}', 'file', 'closed', FALSE, '{{}}', '[]', {}, \
                     '{}', '{}', CURRENT_TIMESTAMP, {user_id}, CURRENT_TIMESTAMP)",
                    content.size, content.sha256, content.md5
                );
            }
            objects.push_str(" RETURNING id");
            let object_ids: Vec<InsertedId> =
                each_backend!(&mut *conn, |c| diesel::sql_query(&objects).load(c))?;

            let mut placements = String::from(
                "INSERT INTO placements (sbg_id, object_id, project_id, folder_id, name, \
                 name_stem, tags, properties, metadata, created_at, modified_at) VALUES ",
            );
            for (i, (n, object)) in chunk.iter().zip(&object_ids).enumerate() {
                let separator = if i == 0 { "" } else { ", " };
                let _ = write!(
                    placements,
                    "{separator}('floor{n:014}', {}, {project_id}, {folder_id}, \
                     'floor-{n}.txt', 'floor-{n}.txt', '[]', '{{}}', '{{}}', CURRENT_TIMESTAMP, \
                     CURRENT_TIMESTAMP)",
                    object.id
                );
            }
            each_backend!(&mut *conn, |c| diesel::sql_query(&placements).execute(c))?;
        }
        Ok(())
    })
}

/// On PostgreSQL, `ANALYZE` of the tables copies, clones and listProjects read: autovacuum does
/// as much within a minute or so of a bulk write in a running database, and the bench writes
/// 100,000 rows in seconds. Without it the planner costs queries on the statistics of nearly
/// empty tables (or none) and can choose a sequential scan of `placements` for 900 ids
/// (docs/performance.md). SQLite has no automatic statistics and Ferry never gathers them, so
/// nothing is done there.
pub fn analyze(conn: &mut DbConnection) -> Result<(), StoreError> {
    if let DbConnection::Pg(c) = conn {
        diesel::sql_query(
            "ANALYZE placements, objects, object_links, folders, projects, project_members",
        )
        .execute(c)?;
    }
    Ok(())
}
