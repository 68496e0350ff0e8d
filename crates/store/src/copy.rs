//! The SBG copy: for each source file a new object (new DNAnexus id, same content, details,
//! types and state) and a new placement (new SBG file id) in the destination folder, named by
//! the `N_name` rule. Bytes are never copied: the new object points at the same content.
//!
//! The cost is a constant number of statements whatever the batch size (per 1,000 files): lock
//! the folder, read the names that can collide, read the sources' links, then one multi-row
//! INSERT each for objects, links and placements (`placing::insert_placed`).

use ferry_domain::row_ids::UserRowId;
use std::collections::HashMap;

use diesel::prelude::*;
use ferry_domain::collision::{CollisionPolicy, Decision, Existing, Wanted, decide};
use ferry_domain::ids::{SbgId, SbgProjectId};
use ferry_domain::model::{FileView, Folder};
use ferry_domain::name::FileName;
use ferry_domain::naming::allocate_names;

use crate::db::DbConnection;
use crate::each_backend;
use crate::error::StoreError;
use crate::placing::{ObjectSpec, PlacementSpec, ROWS_PER_INSERT, insert_placed};
use crate::schema::object_links;
use crate::{folders, names};

/// One file to copy, with the name wanted for the copy (its own name if none is given).
#[derive(Debug, Clone, Copy)]
pub struct CopyItem<'a> {
    pub source: &'a FileView,
    pub name: Option<&'a FileName>,
}

/// What became of one item, in the order of the request.
#[derive(Debug, Clone)]
pub enum CopyResult {
    Copied(Box<FileView>),
    /// The `N_name` rule made the name longer than a file name may be.
    NameTooLong(String),
}

/// Where the copies go.
#[derive(Debug, Clone, Copy)]
pub struct Destination<'a> {
    pub project: &'a SbgProjectId,
    pub folder: &'a Folder,
}

/// Copies `items` into `to`, as user `user_id`, a taken name becoming `N_name`. The caller has
/// checked every permission; run this inside [`crate::Store::write`] so that the folder lock
/// holds until commit.
pub fn copy_files(
    conn: &mut DbConnection,
    user_id: UserRowId,
    to: Destination<'_>,
    items: &[CopyItem<'_>],
) -> Result<Vec<CopyResult>, StoreError> {
    copy_files_under(conn, user_id, to, items, CollisionPolicy::Rename)?
        .into_iter()
        .map(|result| match result {
            PolicyResult::Copy(result) => Ok(result),
            other => Err(StoreError::Corrupt(format!(
                "a copy that renames gave {other:?}"
            ))),
        })
        .collect()
}

/// What became of one item under a collision policy, in the order of the request.
#[derive(Debug, Clone)]
pub enum PolicyResult {
    Copy(CopyResult),
    /// Not copied: `existing` holds the name (`skip`, `skip_identical`).
    Skipped {
        name: String,
        existing: SbgId,
    },
    /// Refused: the name is taken (`fail`).
    NameTaken(String),
}

/// Copies `items` into `to` as [`copy_files`] does, what a taken name does decided by `policy`
/// (`domain::collision`). Besides `rename`'s statements, one query of what holds the names.
pub fn copy_files_under(
    conn: &mut DbConnection,
    user_id: UserRowId,
    to: Destination<'_>,
    items: &[CopyItem<'_>],
    policy: CollisionPolicy,
) -> Result<Vec<PolicyResult>, StoreError> {
    if items.is_empty() {
        return Ok(Vec::new());
    }
    folders::lock(conn, &[to.folder.id])?;
    let wanted: Vec<&str> = items
        .iter()
        .map(|item| {
            item.name
                .map_or(item.source.placement.name.as_str(), FileName::as_str)
        })
        .collect();
    let decisions = if policy == CollisionPolicy::Rename {
        vec![Decision::Place; items.len()]
    } else {
        let holders = names::holders_in_folder(conn, to.folder.id, &wanted)?;
        let asked: Vec<Wanted<'_>> = items
            .iter()
            .zip(&wanted)
            .map(|(item, name)| Wanted {
                name,
                sha256: item.source.object.content_sha256.as_deref(),
            })
            .collect();
        decide(policy, &asked, &holders)
    };
    let placed: Vec<usize> = (0..items.len())
        .filter(|i| decisions[*i] == Decision::Place)
        .collect();
    let placed_names: Vec<&str> = placed.iter().map(|i| wanted[*i]).collect();
    let taken = names::taken_in_folder(conn, to.folder.id, &placed_names)?;
    let mut allocated: Vec<Option<String>> = vec![None; items.len()];
    for (i, name) in placed.iter().zip(allocate_names(&placed_names, &taken)) {
        allocated[*i] = Some(name);
    }
    let copyable: Vec<(usize, FileName)> = allocated
        .iter()
        .enumerate()
        .filter_map(|(i, name)| {
            let name = FileName::parse(name.as_deref()?).ok()?;
            Some((i, name))
        })
        .collect();
    let mut created: Vec<Option<FileView>> = vec![None; items.len()];
    for (i, view) in insert_copies(conn, user_id, to, items, &copyable)? {
        created[i] = Some(view);
    }
    let new_ids: Vec<Option<SbgId>> = created
        .iter()
        .map(|view| view.as_ref().map(|view| view.placement.sbg_id.clone()))
        .collect();
    let new_id = |i: usize| {
        new_ids[i]
            .clone()
            .ok_or_else(|| StoreError::Corrupt(format!("item {i} holds a name it was not given")))
    };
    let mut results = Vec::with_capacity(items.len());
    for (i, decision) in decisions.iter().enumerate() {
        let name = wanted[i].to_owned();
        results.push(match decision {
            Decision::Place => match created[i].take() {
                Some(view) => PolicyResult::Copy(CopyResult::Copied(Box::new(view))),
                None => PolicyResult::Copy(CopyResult::NameTooLong(
                    allocated[i].clone().unwrap_or(name),
                )),
            },
            Decision::Skip(Existing::Stored(id)) => PolicyResult::Skipped {
                name,
                existing: id.clone(),
            },
            Decision::Skip(Existing::Earlier(first)) => PolicyResult::Skipped {
                name,
                existing: new_id(*first)?,
            },
            Decision::Fail => PolicyResult::NameTaken(name),
        });
    }
    Ok(results)
}

/// Inserts the objects, their links and the placements; returns (item index, new file).
fn insert_copies(
    conn: &mut DbConnection,
    user_id: UserRowId,
    to: Destination<'_>,
    items: &[CopyItem<'_>],
    names: &[(usize, FileName)],
) -> Result<Vec<(usize, FileView)>, StoreError> {
    let specs: Vec<(ObjectSpec<'_>, PlacementSpec<'_>)> = names
        .iter()
        .map(|(i, name)| {
            let FileView {
                object, placement, ..
            } = items[*i].source;
            let object = ObjectSpec {
                class: object.class,
                state: object.state,
                hidden: object.hidden,
                details: object.details.to_string(),
                types: serde_json::Value::from(object.types.clone()).to_string(),
                size: object.size,
                content_sha256: object.content_sha256.as_deref(),
                md5: object.md5.as_deref(),
                content_key: object.content_key.as_deref(),
                created_by: user_id.get(),
            };
            let placement = PlacementSpec {
                project_id: to.folder.project_id.get(),
                folder_id: to.folder.id.get(),
                name: name.as_str(),
                tags: serde_json::Value::from(placement.tags.clone()).to_string(),
                properties: serde_json::Value::Object(placement.properties.clone()).to_string(),
                metadata: serde_json::Value::Object(placement.metadata.clone()).to_string(),
            };
            (object, placement)
        })
        .collect();
    let rows = insert_placed(conn, &specs)?;
    copy_links(
        conn,
        names.iter().map(|(i, _)| items[*i].source.object.id.get()),
        rows.iter().map(|(object, _)| object.id),
    )?;
    names
        .iter()
        .zip(rows)
        .map(|((i, _), (object, placement))| {
            let view = FileView {
                placement: placement.try_into()?,
                object: object.try_into()?,
                project: to.project.clone(),
                parent: to.folder.sbg_id.clone(),
            };
            Ok((*i, view))
        })
        .collect()
}

/// Gives each new object the links of its source (details keep their `$dnanexus_link`s), in
/// one read and one multi-row INSERT.
pub(crate) fn copy_links(
    conn: &mut DbConnection,
    sources: impl Iterator<Item = i64>,
    copies: impl Iterator<Item = i64>,
) -> Result<(), StoreError> {
    // One source may be copied more than once in a batch (to different destinations later).
    let mut copies_of: HashMap<i64, Vec<i64>> = HashMap::new();
    for (source, copy) in sources.zip(copies) {
        copies_of.entry(source).or_default().push(copy);
    }
    let source_ids: Vec<i64> = copies_of.keys().copied().collect();
    let links: Vec<(i64, String)> = object_links::table
        .filter(object_links::object_id.eq_any(&source_ids))
        .select((object_links::object_id, object_links::target_dx_id))
        .load(conn)?;
    if links.is_empty() {
        return Ok(());
    }
    let rows: Vec<_> = links
        .iter()
        .flat_map(|(source, target)| {
            copies_of[source].iter().map(move |copy| {
                (
                    object_links::object_id.eq(*copy),
                    object_links::target_dx_id.eq(target.as_str()),
                )
            })
        })
        .collect();
    for chunk in rows.chunks(ROWS_PER_INSERT * 5) {
        each_backend!(conn, |c| diesel::insert_into(object_links::table)
            .values(chunk)
            .execute(c))?;
    }
    Ok(())
}
