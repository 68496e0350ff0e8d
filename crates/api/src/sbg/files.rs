//! Files and folders (SBG shows folders as files of type `folder`): listing, details, changes,
//! folder creation, deletion and download links. Contract: sbg-api.md §3.3 and §4.
//!
//! Choices where SBG documents nothing, or where Ferry is stricter:
//!
//! - An id that is not 24 lowercase hex digits is answered like an unknown one (404, 5002), and
//!   so is a file in a project the caller is not a member of: existence is never revealed.
//! - Metadata values are scalars (string, number, boolean); a `null` removes the key on a merge
//!   and is dropped on a replace, as SBG ignores null values. At most 1,000 keys, keys of at most
//!   100 bytes, values of at most 300 bytes as text (the documented SBG limits): else 400, 5006.
//! - Folders have no tags or metadata, and are not renamed here (a rename rewrites the path of
//!   everything below): changing a folder is a 400 (90000).
//! - Deleting a non-empty folder is a 409 (5021); the project's root folder is never deleted.
//! - A download link is signed for one file and one hour (HMAC-SHA256, under the key every
//!   process shares), so it needs no token; `crate::download` serves it, ranges included.

use std::collections::{BTreeMap, HashMap, HashSet};

use actix_web::{HttpRequest, HttpResponse, web};
use chrono::Utc;
use ferry_domain::folder_ref::FolderRef;
use ferry_domain::ids::{SbgId, SbgProjectId};
use ferry_domain::model::{FileView, Folder, FolderView};
use ferry_domain::name::FileName;
use ferry_domain::permission::Permissions;
use ferry_store::files::{self, PlacementUpdate};
use ferry_store::views::{self, ListFilter};
use ferry_store::{DbConnection, StoreError, folders};
use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::listing::{PageQuery, envelope};
use super::{SbgCaller, SbgError, href, resource, timestamp};
use crate::db::RequestClaim;
use crate::download::{self, Content};
use crate::{AppState, db, signing};

pub(crate) fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(
        resource(&["/files", "/files/"])
            .route(web::get().to(list))
            .route(web::post().to(create_folder)),
    )
    .service(
        resource(&["/files/{id}"])
            .route(web::get().to(get))
            .route(web::patch().to(update))
            .route(web::delete().to(delete)),
    )
    .service(resource(&["/files/{id}/list"]).route(web::get().to(list_children)))
    .service(
        resource(&["/files/{id}/metadata"])
            .route(web::get().to(get_metadata))
            .route(web::put().to(replace_metadata))
            .route(web::patch().to(merge_metadata)),
    )
    .service(resource(&["/files/{id}/tags"]).route(web::put().to(replace_tags)))
    .service(resource(&["/files/{id}/download_info"]).route(web::get().to(download_info)))
    .service(
        resource(&["/files/{id}/download"])
            .route(web::get().to(download))
            .route(web::head().to(download)),
    );
}

// Rendering.

/// A file as the SBG dialect shows it: every field of sbg-api.md §4, null when empty.
pub(crate) fn render_file(state: &AppState, view: &FileView) -> Value {
    let placement = &view.placement;
    json!({
        "href": href(state, &format!("/files/{}", placement.sbg_id)),
        "id": placement.sbg_id.as_str(),
        "name": placement.name,
        "size": view.object.size,
        "project": view.project.as_str(),
        "parent": view.parent.as_str(),
        "type": "file",
        "created_on": timestamp(placement.created_at),
        "modified_on": timestamp(placement.modified_at),
        "storage": platform_storage(),
        "origin": {},
        "tags": placement.tags,
        "metadata": placement.metadata,
        "_secondary_files": null,
    })
}

/// A folder as the SBG dialect shows it: a file of type `folder`, without size, tags or
/// metadata. The root folder has no parent and is named after the project's short name.
pub(crate) fn render_folder(state: &AppState, view: &FolderView) -> Value {
    let folder = &view.folder;
    let name = folder
        .path
        .name()
        .unwrap_or_else(|| view.project.slug().as_str());
    json!({
        "href": href(state, &format!("/files/{}", folder.sbg_id)),
        "id": folder.sbg_id.as_str(),
        "name": name,
        "size": null,
        "project": view.project.as_str(),
        "parent": view.parent.as_ref().map(SbgId::as_str),
        "type": "folder",
        "created_on": timestamp(folder.created_at),
        "modified_on": timestamp(folder.modified_at),
        "storage": platform_storage(),
        "origin": {},
        "tags": [],
        "metadata": {},
        "_secondary_files": null,
    })
}

fn platform_storage() -> Value {
    json!({"type": "PLATFORM", "volume": null, "location": null})
}

/// What an SBG file id names.
#[derive(Debug, Clone)]
pub(crate) enum Entry {
    File(Box<FileView>),
    Folder(FolderView),
}

impl Entry {
    pub(crate) fn render(&self, state: &AppState) -> Value {
        match self {
            Entry::File(view) => render_file(state, view),
            Entry::Folder(view) => render_folder(state, view),
        }
    }
}

// Errors.

fn folder_unchangeable() -> SbgError {
    SbgError::bad_request("Folders have no tags or metadata and cannot be renamed.")
}

// Parsing request fields.

/// A file id from a path or a body: a malformed id names no file.
pub(crate) fn parse_file_id(raw: &str) -> Result<SbgId, SbgError> {
    SbgId::parse(raw).map_err(|_| SbgError::FileNotFound)
}

const MAX_METADATA_KEYS: usize = 1_000;
const MAX_METADATA_KEY_BYTES: usize = 100;
const MAX_METADATA_VALUE_BYTES: usize = 300;

/// Checks metadata sent by a client: scalar values within SBG's limits. Nulls are kept, for
/// the caller to read as "remove".
fn checked_metadata(metadata: Map<String, Value>) -> Result<Map<String, Value>, SbgError> {
    for (key, value) in &metadata {
        if key.is_empty() || key.len() > MAX_METADATA_KEY_BYTES {
            return Err(SbgError::InvalidMetadata(format!(
                "key {key:?} must be 1 to {MAX_METADATA_KEY_BYTES} bytes long."
            )));
        }
        let text_len = match value {
            Value::String(s) => s.len(),
            Value::Number(n) => n.to_string().len(),
            Value::Bool(_) | Value::Null => 0,
            Value::Array(_) | Value::Object(_) => {
                return Err(SbgError::InvalidMetadata(format!(
                    "the value of {key:?} must be a string, a number, a boolean or null."
                )));
            }
        };
        if text_len > MAX_METADATA_VALUE_BYTES {
            return Err(SbgError::InvalidMetadata(format!(
                "the value of {key:?} is longer than {MAX_METADATA_VALUE_BYTES} bytes."
            )));
        }
    }
    Ok(metadata)
}

/// Tags are listed comma-separated elsewhere in SBG, so a tag must not hold a comma.
fn checked_tags(tags: Vec<String>) -> Result<Vec<String>, SbgError> {
    match tags.iter().find(|tag| tag.contains(',')) {
        Some(tag) => Err(SbgError::bad_request(format!(
            "Tag {tag:?} must not contain ','."
        ))),
        None => Ok(tags),
    }
}

/// A file name for a rename or an upload.
pub(crate) fn parse_file_name(raw: String) -> Result<FileName, SbgError> {
    FileName::parse(raw).map_err(|e| SbgError::InvalidName(e.to_string()))
}

/// How a change treats a file's metadata.
#[derive(Debug, Clone, Default)]
pub(crate) enum MetadataChange {
    #[default]
    Keep,
    /// The whole metadata; null values are dropped.
    Replace(Map<String, Value>),
    /// Keys to set; a null value removes the key.
    Merge(Map<String, Value>),
}

impl MetadataChange {
    /// A replacement, checked.
    pub(crate) fn replace(metadata: Map<String, Value>) -> Result<Self, SbgError> {
        Ok(MetadataChange::Replace(checked_metadata(metadata)?))
    }

    /// A merge, checked.
    pub(crate) fn merge(metadata: Map<String, Value>) -> Result<Self, SbgError> {
        Ok(MetadataChange::Merge(checked_metadata(metadata)?))
    }

    fn apply(&self, current: &Map<String, Value>) -> Result<Map<String, Value>, SbgError> {
        let mut result = match self {
            MetadataChange::Keep => return Ok(current.clone()),
            MetadataChange::Replace(_) => Map::new(),
            MetadataChange::Merge(_) => current.clone(),
        };
        if let MetadataChange::Replace(changes) | MetadataChange::Merge(changes) = self {
            for (key, value) in changes {
                if value.is_null() {
                    result.remove(key);
                } else {
                    result.insert(key.clone(), value.clone());
                }
            }
        }
        if result.len() > MAX_METADATA_KEYS {
            return Err(SbgError::InvalidMetadata(format!(
                "a file holds at most {MAX_METADATA_KEYS} keys."
            )));
        }
        Ok(result)
    }
}

/// A change to one file's SBG fields, parsed and checked; `None` keeps a field as it is.
#[derive(Debug, Clone, Default)]
pub(crate) struct FileChange {
    pub name: Option<FileName>,
    pub tags: Option<Vec<String>>,
    pub metadata: MetadataChange,
}

impl FileChange {
    /// From the fields of a request: a name to parse, tags to check, and the metadata change.
    pub(crate) fn parse(
        name: Option<String>,
        tags: Option<Vec<String>>,
        metadata: MetadataChange,
    ) -> Result<Self, SbgError> {
        Ok(FileChange {
            name: name.map(parse_file_name).transpose()?,
            tags: tags.map(checked_tags).transpose()?,
            metadata,
        })
    }
}

// Database work shared by the single and the bulk endpoints.

/// The files and folders with these ids that the caller can see, with the caller's
/// permissions. Two queries at most.
pub(crate) fn load_entries(
    conn: &mut DbConnection,
    user_id: i64,
    ids: &[SbgId],
) -> Result<HashMap<SbgId, (Entry, Permissions)>, StoreError> {
    let mut found: HashMap<SbgId, (Entry, Permissions)> =
        views::files_by_sbg_ids(conn, user_id, ids)?
            .into_iter()
            .map(|(view, permissions)| {
                (
                    view.placement.sbg_id.clone(),
                    (Entry::File(Box::new(view)), permissions),
                )
            })
            .collect();
    let rest: Vec<SbgId> = ids
        .iter()
        .filter(|id| !found.contains_key(*id))
        .cloned()
        .collect();
    if !rest.is_empty() {
        for (view, permissions) in views::folders_by_sbg_ids(conn, user_id, &rest)? {
            found.insert(
                view.folder.sbg_id.clone(),
                (Entry::Folder(view), permissions),
            );
        }
    }
    Ok(found)
}

/// Applies changes to files in order, as one transaction: every check runs before the first
/// write, and the writes are one UPDATE. Returns one result per item, in order; items that
/// arrive as errors stay errors. A later change to the same file applies on top of an earlier one.
///
/// A new name must be free in the file's folder, among files and sub-folders (409, 5003); names
/// freed by earlier renames in the same call count as free.
pub(crate) fn change_files(
    conn: &mut DbConnection,
    user_id: i64,
    items: Vec<Result<(SbgId, FileChange), SbgError>>,
) -> Result<Vec<Result<FileView, SbgError>>, SbgError> {
    let ids: Vec<SbgId> = items
        .iter()
        .filter_map(|item| item.as_ref().ok().map(|(id, _)| id.clone()))
        .collect();
    folders::lock_around(conn, &ids)?;
    let entries = load_entries(conn, user_id, &ids)?;
    let mut files: HashMap<SbgId, FileView> = HashMap::new();
    for (id, (entry, permissions)) in &entries {
        if let (Entry::File(view), true) = (entry, permissions.can_write()) {
            files.insert(id.clone(), FileView::clone(view));
        }
    }
    let placement_ids: Vec<i64> = files.values().map(|v| v.placement.id).collect();
    let wanted: Vec<(i64, &str)> = items
        .iter()
        .filter_map(|item| item.as_ref().ok())
        .filter_map(|(id, change)| {
            let folder = files.get(id)?.placement.folder_id;
            Some((folder, change.name.as_ref()?.as_str()))
        })
        .collect();
    let mut names = FolderNames {
        taken: folders::names_taken(conn, &wanted, &placement_ids)?,
        holders: files
            .iter()
            .map(|(id, v)| {
                (
                    (v.placement.folder_id, v.placement.name.clone()),
                    id.clone(),
                )
            })
            .collect(),
    };
    let mut outcomes: Vec<Result<SbgId, SbgError>> = Vec::with_capacity(items.len());
    let mut changed: Vec<SbgId> = Vec::new();
    for item in items {
        let outcome = item.and_then(|(id, change)| {
            let view = match (files.get_mut(&id), entries.get(&id)) {
                (Some(view), _) => view,
                (None, Some((Entry::File(_), _))) => return Err(SbgError::FileNotWritable),
                (None, Some((Entry::Folder(_), _))) => return Err(folder_unchangeable()),
                (None, None) => return Err(SbgError::FileNotFound),
            };
            let placement = &mut view.placement;
            let metadata = change.metadata.apply(&placement.metadata)?;
            if let Some(name) = change.name {
                names.rename(&id, placement.folder_id, &placement.name, &name)?;
                placement.name = name.into_string();
            }
            if let Some(tags) = change.tags {
                placement.tags = tags;
            }
            placement.metadata = metadata;
            changed.push(id.clone());
            Ok(id)
        });
        outcomes.push(outcome);
    }

    let updates: Vec<PlacementUpdate> = unique(&changed)
        .map(|id| {
            let placement = &files[id].placement;
            PlacementUpdate {
                placement_id: placement.id,
                name: placement.name.clone(),
                tags: placement.tags.clone(),
                metadata: placement.metadata.clone(),
            }
        })
        .collect();
    files::update_placements(conn, &updates)?;
    let changed: Vec<SbgId> = unique(&changed).cloned().collect();
    let stored: HashMap<SbgId, FileView> = views::files_by_sbg_ids(conn, user_id, &changed)?
        .into_iter()
        .map(|(view, _)| (view.placement.sbg_id.clone(), view))
        .collect();
    Ok(outcomes
        .into_iter()
        .map(|outcome| {
            outcome.and_then(|id| stored.get(&id).cloned().ok_or(SbgError::FileNotFound))
        })
        .collect())
}

/// The names in the folders of the files a call changes, as its renames go.
struct FolderNames {
    /// Names held by files and sub-folders the call does not change.
    taken: HashSet<(i64, String)>,
    /// Names held by the files the call changes, and which file holds each.
    holders: HashMap<(i64, String), SbgId>,
}

impl FolderNames {
    /// Renames file `id` in `folder` from `from` to `to`, unless another file or a sub-folder
    /// holds `to` there (409, 5003).
    fn rename(
        &mut self,
        id: &SbgId,
        folder: i64,
        from: &str,
        to: &FileName,
    ) -> Result<(), SbgError> {
        if from == to.as_str() {
            return Ok(());
        }
        let wanted = (folder, to.to_string());
        let held_by_other = self.holders.get(&wanted).is_some_and(|holder| holder != id);
        if held_by_other || self.taken.contains(&wanted) {
            return Err(SbgError::NameTaken {
                name: to.to_string(),
            });
        }
        self.holders.remove(&(folder, from.to_owned()));
        self.holders.insert(wanted, id.clone());
        Ok(())
    }
}

/// Each id once, in order of first appearance.
fn unique(ids: &[SbgId]) -> impl Iterator<Item = &SbgId> {
    let mut seen = HashSet::new();
    ids.iter().filter(move |id| seen.insert(*id))
}

/// Deletes files and empty folders, as one transaction: every check runs before the first
/// write. Returns, per item in order, what was deleted or why not. A folder is empty when all
/// it holds is deleted by the same call.
pub(crate) fn delete_entries(
    conn: &mut DbConnection,
    user_id: i64,
    items: Vec<Result<SbgId, SbgError>>,
) -> Result<Vec<Result<Entry, SbgError>>, SbgError> {
    let ids: Vec<SbgId> = items
        .iter()
        .filter_map(|item| item.as_ref().ok().cloned())
        .collect();
    folders::lock_around(conn, &ids)?;
    let entries = load_entries(conn, user_id, &ids)?;
    let deletable = |id: &SbgId| -> Result<&Entry, SbgError> {
        let (entry, permissions) = entries.get(id).ok_or(SbgError::FileNotFound)?;
        if !permissions.can_write() {
            return Err(SbgError::FileNotWritable);
        }
        if let Entry::Folder(view) = entry
            && view.parent.is_none()
        {
            return Err(SbgError::bad_request(
                "The root folder of a project cannot be deleted.",
            ));
        }
        Ok(entry)
    };
    let mut file_ids = Vec::new();
    let mut folder_rows: BTreeMap<i64, &Folder> = BTreeMap::new();
    for entry in unique(&ids).filter_map(|id| deletable(id).ok()) {
        match entry {
            Entry::File(view) => file_ids.push(view.placement.id),
            Entry::Folder(view) => {
                folder_rows.insert(view.folder.id, &view.folder);
            }
        }
    }
    let folder_ids: Vec<i64> = folder_rows.keys().copied().collect();
    let mut kept = folders::non_empty(conn, &folder_ids, &file_ids, &folder_ids)?;
    // A folder that stays keeps the folders above it in this call.
    for id in kept.clone() {
        let mut parent = folder_rows.get(&id).and_then(|f| f.parent_id);
        while let Some(above) = parent.filter(|p| folder_rows.contains_key(p)) {
            kept.insert(above);
            parent = folder_rows[&above].parent_id;
        }
    }
    let folder_ids: Vec<i64> = folder_ids
        .into_iter()
        .filter(|id| !kept.contains(id))
        .collect();
    files::delete_placements(conn, &file_ids)?;
    folders::delete(conn, &folder_ids)?;
    Ok(items
        .into_iter()
        .map(|item| {
            let entry = deletable(&item?)?;
            match entry {
                Entry::Folder(view) if kept.contains(&view.folder.id) => {
                    Err(SbgError::FolderNotEmpty)
                }
                entry => Ok(entry.clone()),
            }
        })
        .collect())
}

/// Where a listing, a new folder, a copy or an upload goes, from the request's `project` and
/// `parent`: exactly one of them (an empty string counts as absent), with the dialect's error
/// for a malformed project id and for a folder id that cannot be one.
pub(crate) fn folder_ref(
    project: Option<&str>,
    parent: Option<&str>,
    malformed_project: SbgError,
    missing_folder: SbgError,
) -> Result<FolderRef, SbgError> {
    match (
        project.filter(|s| !s.is_empty()),
        parent.filter(|s| !s.is_empty()),
    ) {
        (Some(_), Some(_)) => Err(SbgError::ParentAndProject),
        (None, None) => Err(SbgError::ParentOrProjectMissing),
        (Some(project), None) => SbgProjectId::parse(project)
            .map(FolderRef::Project)
            .map_err(|_| malformed_project),
        (None, Some(parent)) => SbgId::parse(parent)
            .map(FolderRef::Folder)
            .map_err(|_| missing_folder),
    }
}

/// The folder `target` names, if the caller can see it: a project's root folder, or a folder.
pub(crate) fn resolve_folder(
    conn: &mut DbConnection,
    user_id: i64,
    target: &FolderRef,
    missing_folder: SbgError,
) -> Result<(FolderView, Permissions), SbgError> {
    match target {
        FolderRef::Project(project) => {
            views::root_folder(conn, user_id, project)?.ok_or(SbgError::ProjectNotFound)
        }
        FolderRef::Folder(id) => {
            let ids = std::slice::from_ref(id);
            if let Some(found) = views::folders_by_sbg_ids(conn, user_id, ids)?.pop() {
                return Ok(found);
            }
            if views::files_by_sbg_ids(conn, user_id, ids)?.is_empty() {
                Err(missing_folder)
            } else {
                Err(SbgError::NotAFolder)
            }
        }
    }
}

// Listing.

/// The query of a listing: filters, page, and the pairs to carry into the envelope's links.
#[derive(Debug)]
struct ListQuery {
    project: Option<String>,
    parent: Option<String>,
    filter: ListFilter,
    page: PageQuery,
    /// Every pair but `offset` and `limit`, in the order given.
    carried: Vec<(String, String)>,
}

impl ListQuery {
    /// Parses a query string the way `requests` writes it: form-urlencoded (`+` is a space),
    /// lists as repeated keys. Unknown keys (`fields`) are carried into links and ignored.
    fn parse(query: &str) -> Result<ListQuery, SbgError> {
        let mut parsed = ListQuery {
            project: None,
            parent: None,
            filter: ListFilter::default(),
            page: PageQuery {
                offset: None,
                limit: None,
            },
            carried: Vec::new(),
        };
        for (key, value) in form_urlencoded::parse(query.as_bytes()) {
            let (key, value) = (key.into_owned(), value.into_owned());
            let number = || {
                value.parse::<i64>().map_err(|_| {
                    SbgError::bad_request(format!("{key} must be an integer, not {value:?}."))
                })
            };
            let filter = &mut parsed.filter;
            match key.as_str() {
                "offset" => {
                    parsed.page.offset = Some(number()?);
                    continue;
                }
                "limit" => {
                    parsed.page.limit = Some(number()?);
                    continue;
                }
                "project" => parsed.project = Some(value.clone()),
                "parent" => parsed.parent = Some(value.clone()),
                "name" => filter.names.push(value.clone()),
                "tag" => filter.tags.push(value.clone()),
                other => {
                    if let Some(field) = other.strip_prefix("metadata.") {
                        let accepted = filter.metadata.entry(field.to_owned()).or_default();
                        accepted.push(value.clone());
                    } else if let Some(field) = other.strip_prefix("origin.") {
                        let accepted = filter.origin.entry(field.to_owned()).or_default();
                        accepted.push(value.clone());
                    }
                }
            }
            parsed.carried.push((key, value));
        }
        Ok(parsed)
    }
}

/// `GET /files?project=…|parent=…`: the direct children of the project's root or of a folder.
#[utoipa::path(get, path = "/v2/files", tag = "sbg", params(("project" = Option<String>, Query, description = "owner/slug of the project whose root to list"), ("parent" = Option<String>, Query, description = "The folder to list"), ("name" = Option<String>, Query), ("tag" = Option<String>, Query), ("offset" = Option<i64>, Query), ("limit" = Option<i64>, Query)), responses((status = 200, description = "The entries")))]
async fn list(
    state: web::Data<AppState>,
    caller: SbgCaller,
    req: HttpRequest,
) -> Result<HttpResponse, SbgError> {
    let query = ListQuery::parse(req.query_string())?;
    let target = folder_ref(
        query.project.as_deref(),
        query.parent.as_deref(),
        SbgError::MalformedProjectQuery,
        SbgError::FileNotFound,
    )?;
    respond_listing(&state, &caller, target, query, "/files").await
}

/// `GET /files/{id}/list`: the direct children of a folder.
#[utoipa::path(get, path = "/v2/files/{id}/list", tag = "sbg", params(("id" = String, Path, description = "A file or folder id"), ("offset" = Option<i64>, Query), ("limit" = Option<i64>, Query)), responses((status = 200, description = "The folder's entries")))]
async fn list_children(
    state: web::Data<AppState>,
    caller: SbgCaller,
    id: web::Path<String>,
    req: HttpRequest,
) -> Result<HttpResponse, SbgError> {
    let query = ListQuery::parse(req.query_string())?;
    let id = parse_file_id(&id)?;
    let base = format!("/files/{id}/list");
    respond_listing(&state, &caller, FolderRef::Folder(id), query, &base).await
}

async fn respond_listing(
    state: &AppState,
    caller: &SbgCaller,
    target: FolderRef,
    query: ListQuery,
    path: &str,
) -> Result<HttpResponse, SbgError> {
    let page = query.page.page()?;
    let user_id = caller.0.user.id;
    let filter = query.filter;
    let listing = db::read(&state.store, move |conn| {
        let (folder, _) = resolve_folder(conn, user_id, &target, SbgError::FileNotFound)?;
        let listing = views::list_folder(conn, user_id, &folder.folder, &filter, page)?;
        Ok::<_, SbgError>(listing)
    })
    .await?;
    let items = listing
        .folders
        .iter()
        .map(|view| render_folder(state, view))
        .chain(listing.files.iter().map(|view| render_file(state, view)))
        .collect();
    Ok(envelope(
        &href(state, path),
        &query.carried,
        page,
        items,
        listing.total,
    ))
}

// One file or folder.

/// The file or folder, if the caller can see it.
async fn load_entry(state: &AppState, caller: &SbgCaller, id: SbgId) -> Result<Entry, SbgError> {
    let user_id = caller.0.user.id;
    db::read(&state.store, move |conn| {
        let mut found = load_entries(conn, user_id, std::slice::from_ref(&id))?;
        found
            .remove(&id)
            .map(|(entry, _)| entry)
            .ok_or(SbgError::FileNotFound)
    })
    .await
}

#[utoipa::path(get, path = "/v2/files/{id}", tag = "sbg", params(("id" = String, Path, description = "A file or folder id")), responses((status = 200, description = "The file or folder")))]
async fn get(
    state: web::Data<AppState>,
    caller: SbgCaller,
    id: web::Path<String>,
) -> Result<HttpResponse, SbgError> {
    let entry = load_entry(&state, &caller, parse_file_id(&id)?).await?;
    Ok(HttpResponse::Ok().json(entry.render(&state)))
}

/// Applies one change and returns the file as it is now.
async fn change_one(
    state: &AppState,
    caller: &SbgCaller,
    claim: RequestClaim,
    id: &str,
    change: Result<FileChange, SbgError>,
) -> Result<FileView, SbgError> {
    let item = parse_file_id(id).and_then(|id| change.map(|change| (id, change)));
    let user_id = caller.0.user.id;
    let mut results = db::write(&state.store, claim, move |conn| {
        change_files(conn, user_id, vec![item])
    })
    .await?;
    results.pop().unwrap_or(Err(SbgError::FileNotFound))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
struct UpdateBody {
    name: Option<String>,
    tags: Option<Vec<String>>,
    metadata: Option<Map<String, Value>>,
}

/// `PATCH /files/{id}`: sets the fields given; `metadata` replaces the whole metadata.
#[utoipa::path(patch, path = "/v2/files/{id}", tag = "sbg", params(("id" = String, Path, description = "A file or folder id")), request_body = UpdateBody, responses((status = 200, description = "The file as it is now")))]
async fn update(
    state: web::Data<AppState>,
    caller: SbgCaller,
    claim: RequestClaim,
    id: web::Path<String>,
    body: web::Json<UpdateBody>,
) -> Result<HttpResponse, SbgError> {
    let body = body.into_inner();
    let change = body
        .metadata
        .map_or(Ok(MetadataChange::Keep), MetadataChange::replace)
        .and_then(|metadata| FileChange::parse(body.name, body.tags, metadata));
    let view = change_one(&state, &caller, claim, &id, change).await?;
    Ok(HttpResponse::Ok().json(render_file(&state, &view)))
}

#[utoipa::path(delete, path = "/v2/files/{id}", tag = "sbg", params(("id" = String, Path, description = "A file or folder id")), responses((status = 204, description = "Deleted")))]
async fn delete(
    state: web::Data<AppState>,
    caller: SbgCaller,
    claim: RequestClaim,
    id: web::Path<String>,
) -> Result<HttpResponse, SbgError> {
    let item = parse_file_id(&id);
    let user_id = caller.0.user.id;
    let mut results = db::write(&state.store, claim, move |conn| {
        delete_entries(conn, user_id, vec![item])
    })
    .await?;
    results.pop().unwrap_or(Err(SbgError::FileNotFound))?;
    Ok(HttpResponse::NoContent().finish())
}

#[utoipa::path(get, path = "/v2/files/{id}/metadata", tag = "sbg", params(("id" = String, Path, description = "A file or folder id")), responses((status = 200, description = "The metadata")))]
async fn get_metadata(
    state: web::Data<AppState>,
    caller: SbgCaller,
    id: web::Path<String>,
) -> Result<HttpResponse, SbgError> {
    let metadata = match load_entry(&state, &caller, parse_file_id(&id)?).await? {
        Entry::File(view) => Value::Object(view.placement.metadata),
        Entry::Folder(_) => json!({}),
    };
    Ok(HttpResponse::Ok().json(metadata))
}

/// `PUT /files/{id}/metadata`: the body becomes the metadata; answers the result.
#[utoipa::path(put, path = "/v2/files/{id}/metadata", tag = "sbg", params(("id" = String, Path, description = "A file or folder id")), request_body = Object, responses((status = 200, description = "The metadata as it is now")))]
async fn replace_metadata(
    state: web::Data<AppState>,
    caller: SbgCaller,
    claim: RequestClaim,
    id: web::Path<String>,
    body: web::Json<Map<String, Value>>,
) -> Result<HttpResponse, SbgError> {
    let change = MetadataChange::replace(body.into_inner()).map(|metadata| FileChange {
        metadata,
        ..FileChange::default()
    });
    let view = change_one(&state, &caller, claim, &id, change).await?;
    Ok(HttpResponse::Ok().json(view.placement.metadata))
}

/// `PATCH /files/{id}/metadata`: the body's keys are set (a null removes one); answers the
/// result.
#[utoipa::path(patch, path = "/v2/files/{id}/metadata", tag = "sbg", params(("id" = String, Path, description = "A file or folder id")), request_body = Object, responses((status = 200, description = "The metadata as it is now")))]
async fn merge_metadata(
    state: web::Data<AppState>,
    caller: SbgCaller,
    claim: RequestClaim,
    id: web::Path<String>,
    body: web::Json<Map<String, Value>>,
) -> Result<HttpResponse, SbgError> {
    let change = MetadataChange::merge(body.into_inner()).map(|metadata| FileChange {
        metadata,
        ..FileChange::default()
    });
    let view = change_one(&state, &caller, claim, &id, change).await?;
    Ok(HttpResponse::Ok().json(view.placement.metadata))
}

/// `PUT /files/{id}/tags`: the body (an array) becomes the tags; answers them.
#[utoipa::path(put, path = "/v2/files/{id}/tags", tag = "sbg", params(("id" = String, Path, description = "A file or folder id")), request_body = Vec<String>, responses((status = 200, description = "The tags")))]
async fn replace_tags(
    state: web::Data<AppState>,
    caller: SbgCaller,
    claim: RequestClaim,
    id: web::Path<String>,
    body: web::Json<Vec<String>>,
) -> Result<HttpResponse, SbgError> {
    let change = FileChange::parse(None, Some(body.into_inner()), MetadataChange::Keep);
    let view = change_one(&state, &caller, claim, &id, change).await?;
    Ok(HttpResponse::Ok().json(view.placement.tags))
}

// Folder creation.

#[derive(Debug, Deserialize, utoipa::ToSchema)]
struct CreateFolderBody {
    name: Option<String>,
    #[serde(rename = "type")]
    kind: Option<String>,
    project: Option<String>,
    parent: Option<String>,
}

/// A folder name as SBG allows it: 1 to 255 of `[A-Za-z0-9_.-]`, not starting with `__`, and
/// not `.` or `..`.
pub(crate) fn parse_folder_name(raw: Option<String>) -> Result<FileName, SbgError> {
    let name = parse_file_name(raw.unwrap_or_default())?;
    let allowed = |c: char| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-');
    if !name.as_str().chars().all(allowed) {
        return Err(SbgError::InvalidName(
            "a folder name may only hold letters, digits, '_', '.' and '-'.".into(),
        ));
    }
    if name.as_str().starts_with("__") {
        return Err(SbgError::InvalidName(
            "a folder name must not start with '__'.".into(),
        ));
    }
    Ok(name)
}

/// `POST /files` with `{"name", "type": "folder", "project" | "parent"}`: a new, empty folder.
#[utoipa::path(post, path = "/v2/files", tag = "sbg", request_body = CreateFolderBody, responses((status = 201, description = "The new folder")))]
async fn create_folder(
    state: web::Data<AppState>,
    caller: SbgCaller,
    claim: RequestClaim,
    body: web::Json<CreateFolderBody>,
) -> Result<HttpResponse, SbgError> {
    let body = body.into_inner();
    if body.kind.as_deref() != Some("folder") {
        return Err(SbgError::InvalidType);
    }
    let target = folder_ref(
        body.project.as_deref(),
        body.parent.as_deref(),
        SbgError::MalformedProjectId,
        SbgError::DestinationNotFound,
    )?;
    let name = parse_folder_name(body.name)?;
    let user_id = caller.0.user.id;
    let created = db::write(&state.store, claim, move |conn| {
        let (parent, permissions) =
            resolve_folder(conn, user_id, &target, SbgError::DestinationNotFound)?;
        if !permissions.can_write() {
            return Err(SbgError::FileNotWritable);
        }
        let path = parent
            .folder
            .path
            .join(name.as_str())
            .map_err(|e| SbgError::InvalidName(e.to_string()))?;
        if folders::lock(conn, &[parent.folder.id])?.is_empty() {
            return Err(SbgError::DestinationNotFound);
        }
        let exists = || SbgError::FolderExists {
            name: name.to_string(),
        };
        let wanted = [(parent.folder.id, name.as_str())];
        if !folders::names_taken(conn, &wanted, &[])?.is_empty() {
            return Err(exists());
        }
        let folder = match folders::create_child(conn, &parent.folder, &path) {
            Err(StoreError::Conflict(_)) => return Err(exists()),
            created => created?,
        };
        Ok(FolderView {
            folder,
            project: parent.project,
            parent: Some(parent.folder.sbg_id),
        })
    })
    .await?;
    Ok(HttpResponse::Created().json(render_folder(&state, &created)))
}

// Downloads.

/// How long a download link works.
const DOWNLOAD_LINK_SECONDS: i64 = 60 * 60;

/// Signs download links: an HMAC-SHA256 over the file id and the link's expiry, under the key
/// every process shares (`crate::signing`).
struct DownloadKey<'a>(&'a [u8]);

impl DownloadKey<'_> {
    /// `<expiry, unix seconds>.<hex signature>`.
    fn sign(&self, id: &SbgId, expires: i64) -> String {
        format!(
            "{expires}.{}",
            signing::signature(self.0, id.as_str(), expires)
        )
    }

    /// Whether `token` was signed for `id` by this key and has not expired at `now`.
    fn verify(&self, id: &SbgId, token: &str, now: i64) -> bool {
        let Some((expires, signature)) = token.split_once('.') else {
            return false;
        };
        let Ok(expires) = expires.parse::<i64>() else {
            return false;
        };
        signing::verify(self.0, id.as_str(), expires, signature, now)
    }
}

/// `GET /files/{id}/download_info`: `{"url"}`, a link that downloads the file without a token.
#[utoipa::path(get, path = "/v2/files/{id}/download_info", tag = "sbg", params(("id" = String, Path, description = "A file or folder id")), responses((status = 200, description = "A signed download link")))]
async fn download_info(
    state: web::Data<AppState>,
    caller: SbgCaller,
    id: web::Path<String>,
) -> Result<HttpResponse, SbgError> {
    let id = parse_file_id(&id)?;
    let view = match load_entry(&state, &caller, id.clone()).await? {
        Entry::Folder(_) => return Err(SbgError::bad_request("A folder cannot be downloaded.")),
        Entry::File(view) => view,
    };
    if let Some(url) = download::store_url(
        &state.store,
        view.object.content_sha256.clone(),
        view.object.content_key.clone(),
        view.placement.name.clone(),
        DOWNLOAD_LINK_SECONDS,
    )
    .await?
    {
        return Ok(HttpResponse::Ok().json(json!({ "url": url })));
    }
    let key = state.url_signing_key.get(&state.store).await?;
    let token = DownloadKey(key).sign(&id, Utc::now().timestamp() + DOWNLOAD_LINK_SECONDS);
    let url = href(&state, &format!("/files/{id}/download?token={token}"));
    Ok(HttpResponse::Ok().json(json!({ "url": url })))
}

/// `GET` (or `HEAD`) `/files/{id}/download?token=…`: the file's bytes, authorised by the signed
/// link alone, served by [`download::serve`]: `sevenbridges-python` downloads anything over
/// 5 MiB in ranged parts, so ranges must be honoured.
#[utoipa::path(get, path = "/v2/files/{id}/download", tag = "sbg", params(("id" = String, Path, description = "A file or folder id"), ("token" = String, Query, description = "The link's signature")), responses((status = 200, description = "The file's bytes")))]
async fn download(
    state: web::Data<AppState>,
    id: web::Path<String>,
    req: HttpRequest,
) -> Result<HttpResponse, SbgError> {
    let token = form_urlencoded::parse(req.query_string().as_bytes())
        .find(|(key, _)| key == "token")
        .map(|(_, value)| value.into_owned())
        .unwrap_or_default();
    let key = DownloadKey(state.url_signing_key.get(&state.store).await?);
    let id = SbgId::parse(&id)
        .ok()
        .filter(|id| key.verify(id, &token, Utc::now().timestamp()))
        .ok_or(SbgError::DownloadLinkInvalid)?;
    let found = db::read(&state.store, move |conn| {
        files::get_placement_by_sbg_id(conn, &id)
    })
    .await?;
    let (placement, object) = found.ok_or(SbgError::FileNotFound)?;
    // An open file has no content yet.
    let sha256 = object.content_sha256.ok_or(SbgError::FileNotFound)?;
    let size = u64::try_from(object.size).map_err(|_| SbgError::Internal)?;
    let content = Content {
        sha256,
        size,
        name: placement.name,
    };
    Ok(download::serve(&state.store, &req, content).await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn download_tokens_are_bound_to_the_file_the_key_and_the_expiry() {
        let (bytes, other): ([u8; 32], [u8; 32]) = (rand::random(), rand::random());
        let key = DownloadKey(&bytes);
        let id = SbgId::generate();
        let token = key.sign(&id, 1_000);
        assert!(key.verify(&id, &token, 1_000));
        assert!(!key.verify(&id, &token, 1_001), "expired");
        assert!(!key.verify(&SbgId::generate(), &token, 0), "another file");
        assert!(!DownloadKey(&other).verify(&id, &token, 0), "another key");
        let (_, signature) = token.split_once('.').unwrap();
        assert!(
            !key.verify(&id, &format!("2000.{signature}"), 0),
            "expiry changed"
        );
        for bad in ["", "1000", "1000.", "x.00", "1000.zz"] {
            assert!(!key.verify(&id, bad, 0), "{bad:?}");
        }
    }

    #[test]
    fn metadata_changes_replace_merge_and_drop_nulls() {
        let current = json!({"a": "1", "b": 2}).as_object().unwrap().clone();
        let body = |v: Value| v.as_object().unwrap().clone();
        let merged = MetadataChange::merge(body(json!({"b": null, "c": true})))
            .unwrap()
            .apply(&current)
            .unwrap();
        assert_eq!(Value::Object(merged), json!({"a": "1", "c": true}));
        let replaced = MetadataChange::replace(body(json!({"c": "x", "d": null})))
            .unwrap()
            .apply(&current)
            .unwrap();
        assert_eq!(Value::Object(replaced), json!({"c": "x"}));
        assert!(MetadataChange::merge(body(json!({"a": [1]}))).is_err());
        assert!(MetadataChange::merge(body(json!({"a": {"b": 1}}))).is_err());
        assert!(MetadataChange::merge(body(json!({"": "x"}))).is_err());
        assert!(MetadataChange::merge(body(json!({"a": "x".repeat(301)}))).is_err());
    }

    #[test]
    fn list_queries_decode_plus_and_repeat_keys() {
        let query = ListQuery::parse(
            "project=o%2Fp&name=a.bam&name=b+b.bam&tag=t1&tag=t2&metadata.sample_id=S1\
             &origin.task=T&fields=_all&offset=5&limit=7",
        )
        .unwrap();
        assert_eq!(query.project.as_deref(), Some("o/p"));
        assert_eq!(query.filter.names, ["a.bam", "b b.bam"]);
        assert_eq!(query.filter.tags, ["t1", "t2"]);
        assert_eq!(query.filter.metadata["sample_id"], ["S1"]);
        assert_eq!(query.filter.origin["task"], ["T"]);
        assert_eq!((query.page.offset, query.page.limit), (Some(5), Some(7)));
        assert!(
            !query
                .carried
                .iter()
                .any(|(k, _)| k == "offset" || k == "limit")
        );
        assert_eq!(query.carried.len(), 8);
        assert!(ListQuery::parse("limit=x").is_err());
    }
}
