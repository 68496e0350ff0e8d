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
use ferry_store::sbg_views::{self, ListFilter};
use ferry_store::{DbConnection, StoreError, folders};
use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::listing::{PageQuery, envelope};
use super::{SbgCaller, SbgError, href, resource, timestamp};
use crate::db::RequestClaim;
use crate::download::{self, Content};
use crate::{AppState, db, signing};

mod changes;
mod downloads;
mod entry;
mod listing;
mod new_folder;

pub(crate) use changes::*;
pub(crate) use downloads::*;
pub(crate) use entry::*;
pub(crate) use listing::*;
pub(crate) use new_folder::*;

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

/// Tags within the limits of `domain::text`; they are listed comma-separated elsewhere in SBG,
/// so a tag must not hold a comma.
fn checked_tags(tags: Vec<String>) -> Result<Vec<String>, SbgError> {
    let tags =
        ferry_domain::text::tags(tags).map_err(|e| SbgError::bad_request(format!("{e}.")))?;
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
