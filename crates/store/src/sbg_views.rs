//! The SBG dialect's read model: files and folders with the SBG ids of their project and parent
//! and the caller's permissions, and folder listings.
//!
//! Only what the caller can see is returned: every query joins the caller's membership of the
//! project, so an item of a project the caller is not a member of is indistinguishable from one
//! that does not exist. Each loader is one query per 900 ids (files by SBG id on PostgreSQL:
//! two).

use ferry_domain::row_ids::{FolderRowId, UserRowId};
use std::collections::{BTreeMap, BTreeSet, HashMap};

use diesel::dsl::count_star;
use diesel::expression::{ValidGrouping, is_aggregate};
use diesel::prelude::*;
use diesel::query_builder::QueryFragment;
use diesel::sql_types::{Array, BigInt, Bool, Nullable, Text};
use ferry_domain::ids::{SbgId, SbgProjectId, Slug, Username};
use ferry_domain::model::{FileView, Folder, FolderView};
use ferry_domain::permission::Permissions;
use serde_json::{Map, Value};

use crate::convert::{corrupt, escape_like, from_json};
use crate::db::{DbConnection, MultiBackend};
use crate::error::StoreError;
use crate::files::{ObjectRow, PlacementRow};
use crate::folders::FolderRow;
use crate::members::PermissionsRow;
use crate::page::{Page, Paginate};
use crate::schema::{folders, objects, placements, project_members, projects, users};

/// Ids per query: below SQLite's historical limit of 999 parameters.
const IDS_PER_QUERY: usize = 900;

/// The files with these SBG ids that `user_id` can see, with the user's permissions in their
/// project, in no particular order. Ids of folders, of unknown files and of files in other
/// projects are left out.
pub fn files_by_sbg_ids(
    conn: &mut DbConnection,
    user_id: UserRowId,
    ids: &[SbgId],
) -> Result<Vec<(FileView, Permissions)>, StoreError> {
    let mut found = Vec::with_capacity(ids.len());
    for chunk in ids.chunks(IDS_PER_QUERY) {
        let chunk: Vec<&str> = chunk.iter().map(SbgId::as_str).collect();
        let files = match conn {
            // PostgreSQL's planner costs 900 probes of the unique index above a parallel
            // sequential scan of a table of a few hundred thousand placements, which takes 25
            // to 50 ms (docs/performance.md). Per-value probes first turn the ids into row
            // ids, which are sequential and so read in heap order.
            DbConnection::Pg(c) => {
                let placement_ids = placement_ids_by_sbg_ids(c, &chunk)?;
                load_files(conn, user_id, FileScope::PlacementIds(&placement_ids))?
            }
            DbConnection::Sqlite(_) => load_files(conn, user_id, FileScope::SbgIds(&chunk))?,
        };
        found.extend(files);
    }
    Ok(found)
}

#[derive(QueryableByName)]
struct PlacementKey {
    #[diesel(sql_type = Nullable<BigInt>)]
    id: Option<i64>,
}

/// The row ids of the placements with these SBG ids, unknown ids left out: one scalar
/// subquery per id, which PostgreSQL runs as one probe of the unique index.
fn placement_ids_by_sbg_ids(
    conn: &mut PgConnection,
    sbg_ids: &[&str],
) -> Result<Vec<i64>, StoreError> {
    let keys: Vec<PlacementKey> = diesel::sql_query(
        "SELECT (SELECT p.id FROM placements p WHERE p.sbg_id = w.sbg_id) AS id \
         FROM unnest($1::text[]) AS w(sbg_id)",
    )
    .bind::<Array<Text>, _>(sbg_ids)
    .load(conn)?;
    Ok(keys.into_iter().filter_map(|key| key.id).collect())
}

/// The folders with these SBG ids that `user_id` can see, with the user's permissions in their
/// project, in no particular order.
pub fn folders_by_sbg_ids(
    conn: &mut DbConnection,
    user_id: UserRowId,
    ids: &[SbgId],
) -> Result<Vec<(FolderView, Permissions)>, StoreError> {
    let mut found = Vec::with_capacity(ids.len());
    for chunk in ids.chunks(IDS_PER_QUERY) {
        let chunk: Vec<&str> = chunk.iter().map(SbgId::as_str).collect();
        found.extend(load_folders(conn, user_id, FolderScope::SbgIds(&chunk))?);
    }
    Ok(found)
}

/// The root folder of the project, if `user_id` is a member of it.
pub fn root_folder(
    conn: &mut DbConnection,
    user_id: UserRowId,
    project: &SbgProjectId,
) -> Result<Option<(FolderView, Permissions)>, StoreError> {
    Ok(load_folders(conn, user_id, FolderScope::Root(project))?.pop())
}

/// What a folder listing keeps. Repeating a parameter means "any of these", different
/// parameters must all match; an empty filter keeps everything.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListFilter {
    /// Exact names.
    pub names: Vec<String>,
    pub tags: Vec<String>,
    /// Per metadata key, the values accepted. A value matches as text: `1` matches the number 1.
    pub metadata: BTreeMap<String, Vec<String>>,
    /// Per origin key (`task`), the values accepted. Nothing in Ferry is produced by a task, so
    /// any origin filter keeps nothing.
    pub origin: BTreeMap<String, Vec<String>>,
}

impl ListFilter {
    /// Folders have no tags, metadata or origin: filtering on any of them leaves them out.
    fn keeps_folders(&self) -> bool {
        self.tags.is_empty() && self.metadata.is_empty() && self.origin.is_empty()
    }

    /// Whether the filter looks into the JSON columns, which SQL can only narrow down.
    fn reads_json(&self) -> bool {
        !self.keeps_folders()
    }

    /// The exact test of what SQL narrowed down. Names were matched in SQL, and no file has an
    /// origin.
    fn keeps_file(&self, tags: &[String], metadata: &Map<String, Value>) -> bool {
        let tag_ok = self.tags.is_empty() || self.tags.iter().any(|t| tags.contains(t));
        let metadata_ok = self.metadata.iter().all(|(key, accepted)| {
            metadata
                .get(key)
                .and_then(metadata_text)
                .is_some_and(|text| accepted.contains(&text))
        });
        tag_ok && metadata_ok
    }
}

/// A metadata value as the text a query compares it with; values are scalars.
fn metadata_text(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Null | Value::Array(_) | Value::Object(_) => None,
    }
}

/// One page of a folder's contents: sub-folders first (by name), then files (by name, then id),
/// paginated across both, and how many items match in all.
#[derive(Debug, Clone, PartialEq)]
pub struct Listing {
    pub folders: Vec<FolderView>,
    pub files: Vec<FileView>,
    pub total: i64,
}

/// Lists the direct children of `folder` that match `filter`, for a member of its project.
///
/// A constant number of queries. Filters on tags and metadata are narrowed in SQL with `LIKE`
/// on the stored JSON and decided here, reading only the candidates' ids and JSON columns.
pub fn list_folder(
    conn: &mut DbConnection,
    user_id: UserRowId,
    folder: &Folder,
    filter: &ListFilter,
    page: Page,
) -> Result<Listing, StoreError> {
    let folder_total = if filter.keeps_folders() {
        let mut count = folders::table
            .filter(folders::parent_id.eq(folder.id.get()))
            .select(count_star())
            .into_boxed();
        if !filter.names.is_empty() {
            count = count.filter(folders::name.eq_any(&filter.names));
        }
        count.get_result(conn)?
    } else {
        0
    };
    let folders = if !page.is_past(folder_total) {
        let scope = FolderScope::Children {
            parent_id: folder.id.get(),
            names: &filter.names,
            page,
        };
        load_folders(conn, user_id, scope)?
            .into_iter()
            .map(|(view, _)| view)
            .collect()
    } else {
        Vec::new()
    };
    let file_page = page.after(folder_total, folders.len());
    let (files, file_total) = if filter.reads_json() {
        list_files_by_json(conn, user_id, folder.id, filter, file_page)?
    } else {
        list_files_by_name(conn, user_id, folder.id, &filter.names, file_page)?
    };
    Ok(Listing {
        folders,
        files,
        total: folder_total + file_total,
    })
}

/// Files filtered by name only: counted and paginated in SQL.
fn list_files_by_name(
    conn: &mut DbConnection,
    user_id: UserRowId,
    folder_id: FolderRowId,
    names: &[String],
    page: Page,
) -> Result<(Vec<FileView>, i64), StoreError> {
    let mut count = placements::table
        .filter(placements::folder_id.eq(folder_id.get()))
        .select(count_star())
        .into_boxed();
    if !names.is_empty() {
        count = count.filter(placements::name.eq_any(names));
    }
    let total = count.get_result(conn)?;
    if page.is_past(total) {
        return Ok((Vec::new(), total));
    }
    let scope = FileScope::FolderPage {
        folder_id: folder_id.get(),
        names,
        page,
    };
    let files = load_files(conn, user_id, scope)?;
    Ok((files.into_iter().map(|(view, _)| view).collect(), total))
}

/// Files filtered on tags or metadata: SQL returns the candidates' ids in listing order, a
/// superset of the matches; the exact test runs here, then the page is loaded by id.
fn list_files_by_json(
    conn: &mut DbConnection,
    user_id: UserRowId,
    folder_id: FolderRowId,
    filter: &ListFilter,
    page: Page,
) -> Result<(Vec<FileView>, i64), StoreError> {
    if !filter.origin.is_empty() {
        // Nothing is produced by a task.
        return Ok((Vec::new(), 0));
    }
    let mut candidates = placements::table
        .filter(placements::folder_id.eq(folder_id.get()))
        .select((placements::id, placements::tags, placements::metadata))
        .order((placements::name, placements::id))
        .into_boxed();
    if !filter.names.is_empty() {
        candidates = candidates.filter(placements::name.eq_any(&filter.names));
    }
    // The JSON is written by serde_json, so a tag or a key appears in it as its JSON string.
    // `LIKE` may also match elsewhere (and ignores case on SQLite): it only narrows.
    if let Some(any_tag) = filter
        .tags
        .iter()
        .map(|tag| json_contains(placements::tags, tag))
        .reduce(|a, b| Box::new(a.or(b)))
    {
        candidates = candidates.filter(any_tag);
    }
    for key in filter.metadata.keys() {
        candidates = candidates.filter(json_contains(placements::metadata, key));
    }
    let mut matching = Vec::new();
    for (id, tags, metadata) in candidates.load::<(i64, String, String)>(conn)? {
        let tags: Vec<String> = from_json("placements", id, &tags)?;
        let metadata: Map<String, Value> = from_json("placements", id, &metadata)?;
        if filter.keeps_file(&tags, &metadata) {
            matching.push(id);
        }
    }
    let total = i64::try_from(matching.len()).unwrap_or(i64::MAX);
    let shown = page.slice(&matching);
    if shown.is_empty() {
        return Ok((Vec::new(), total));
    }
    let mut by_id: BTreeMap<i64, FileView> =
        load_files(conn, user_id, FileScope::PlacementIds(shown))?
            .into_iter()
            .map(|(view, _)| (view.placement.id.get(), view))
            .collect();
    let files = shown.iter().filter_map(|id| by_id.remove(id)).collect();
    Ok((files, total))
}

type JsonTest = Box<dyn BoxableExpression<placements::table, MultiBackend, SqlType = Bool>>;

/// `column LIKE '%"text"%'`: the JSON text holds `text` as a string somewhere.
fn json_contains<C>(column: C, text: &str) -> JsonTest
where
    C: Column<Table = placements::table, SqlType = Text>
        + TextExpressionMethods
        + SelectableExpression<placements::table>
        + ValidGrouping<(), IsAggregate = is_aggregate::No>
        + QueryFragment<MultiBackend>
        + Send
        + 'static,
{
    let quoted = serde_json::to_string(text).expect("a string serialises");
    Box::new(
        column
            .like(format!("%{}%", escape_like(&quoted)))
            .escape('\\'),
    )
}

/// Which files [`load_files`] reads.
enum FileScope<'a> {
    SbgIds(&'a [&'a str]),
    PlacementIds(&'a [i64]),
    /// One page of a folder's files, by name then id.
    FolderPage {
        folder_id: i64,
        names: &'a [String],
        page: Page,
    },
}

/// A placement with its object, the SBG ids of its project (owner, slug) and folder, and the
/// caller's membership.
type FileRecord = (PlacementRow, ObjectRow, String, String, String);

/// Two queries: placements with their object, project, owner and folder; then the caller's
/// memberships of those projects, which keep only the files the caller can see.
///
/// The membership is not joined in the first query: `user_id = ?` looked selective enough for
/// both planners to start from it and read every placement of the caller's projects, filtering
/// on the ids afterwards (30 ms per lookup with 100,000 files in the source project;
/// docs/performance.md). Without it, the only selective filter is the scope's.
fn load_files(
    conn: &mut DbConnection,
    user_id: UserRowId,
    scope: FileScope<'_>,
) -> Result<Vec<(FileView, Permissions)>, StoreError> {
    let mut query = placements::table
        .inner_join(objects::table)
        .inner_join(folders::table)
        .inner_join(projects::table.inner_join(users::table))
        .select((
            PlacementRow::as_select(),
            ObjectRow::as_select(),
            users::username,
            projects::slug,
            folders::sbg_id,
        ))
        .into_boxed();
    query = match scope {
        FileScope::SbgIds(ids) => query.filter(placements::sbg_id.eq_any(ids)),
        FileScope::PlacementIds(ids) => query.filter(placements::id.eq_any(ids)),
        FileScope::FolderPage {
            folder_id,
            names,
            page,
        } => {
            query = query.filter(placements::folder_id.eq(folder_id));
            if !names.is_empty() {
                query = query.filter(placements::name.eq_any(names));
            }
            query
                .order((placements::name, placements::id))
                .paginate(page)
        }
    };
    let records = query.load::<FileRecord>(conn)?;
    let project_ids: BTreeSet<i64> = records.iter().map(|r| r.0.project_id).collect();
    let memberships: HashMap<i64, PermissionsRow> = project_members::table
        .filter(project_members::user_id.eq(user_id.get()))
        .filter(project_members::project_id.eq_any(project_ids))
        .select(PermissionsRow::as_select())
        .load::<PermissionsRow>(conn)?
        .into_iter()
        .map(|membership| (membership.project_id, membership))
        .collect();
    records
        .into_iter()
        .filter_map(|(placement, object, owner, slug, parent)| {
            let membership = *memberships.get(&placement.project_id)?;
            Some((placement, object, owner, slug, parent, membership))
        })
        .map(|(placement, object, owner, slug, parent, membership)| {
            let id = placement.id;
            let bad = |e| corrupt("placements", id, e);
            let view = FileView {
                project: project_id(&owner, &slug).map_err(bad)?,
                parent: SbgId::parse(&parent).map_err(bad)?,
                placement: placement.try_into()?,
                object: object.try_into()?,
            };
            Ok((view, membership.try_into()?))
        })
        .collect()
}

/// Which folders [`load_folders`] reads.
enum FolderScope<'a> {
    SbgIds(&'a [&'a str]),
    Root(&'a SbgProjectId),
    /// One page of a folder's sub-folders, by name.
    Children {
        parent_id: i64,
        names: &'a [String],
        page: Page,
    },
}

/// A folder with the SBG ids of its project (owner, slug) and parent, and the caller's
/// membership.
type FolderRecord = (FolderRow, String, String, Option<String>, PermissionsRow);

/// One query: folders with their project, owner, parent and the caller's membership.
fn load_folders(
    conn: &mut DbConnection,
    user_id: UserRowId,
    scope: FolderScope<'_>,
) -> Result<Vec<(FolderView, Permissions)>, StoreError> {
    let parents = diesel::alias!(folders as parents);
    let membership = project_members::table.on(project_members::project_id
        .eq(folders::project_id)
        .and(project_members::user_id.eq(user_id.get())));
    let mut query = folders::table
        .inner_join(projects::table.inner_join(users::table))
        .inner_join(membership)
        .left_join(parents.on(folders::parent_id.eq(parents.field(folders::id).nullable())))
        .select((
            FolderRow::as_select(),
            users::username,
            projects::slug,
            parents.field(folders::sbg_id).nullable(),
            PermissionsRow::as_select(),
        ))
        .into_boxed();
    query = match scope {
        FolderScope::SbgIds(ids) => query.filter(folders::sbg_id.eq_any(ids)),
        FolderScope::Root(project) => query
            .filter(users::username.eq(project.owner().as_str()))
            .filter(projects::slug.eq(project.slug().as_str()))
            .filter(folders::parent_id.is_null()),
        FolderScope::Children {
            parent_id,
            names,
            page,
        } => {
            query = query.filter(folders::parent_id.eq(parent_id));
            if !names.is_empty() {
                query = query.filter(folders::name.eq_any(names));
            }
            query.order((folders::name, folders::id)).paginate(page)
        }
    };
    query
        .load::<FolderRecord>(conn)?
        .into_iter()
        .map(|(folder, owner, slug, parent, membership)| {
            let id = folder.id;
            let bad = |e| corrupt("folders", id, e);
            let view = FolderView {
                project: project_id(&owner, &slug).map_err(bad)?,
                parent: parent
                    .as_deref()
                    .map(SbgId::parse)
                    .transpose()
                    .map_err(bad)?,
                folder: folder.try_into()?,
            };
            Ok((view, membership.try_into()?))
        })
        .collect()
}

fn project_id(owner: &str, slug: &str) -> Result<SbgProjectId, ferry_domain::DomainError> {
    Ok(SbgProjectId::new(
        Username::parse(owner)?,
        Slug::parse(slug)?,
    ))
}
