//! Synchronous bulk file operations, `POST /bulk/files/{get,update,edit,delete}` (sbg-api.md
//! §3.6): at most 100 files a call, and one result per file in the order given, either
//! `{"resource": <file>}` or `{"error": {status, code, message, more_info}}`.
//!
//! `update` replaces: tags and metadata left out are erased (a name left out is kept, since a file
//! always has one). `edit` merges: fields left out are kept, metadata keys are set one by one.
//! Every check runs before the first write, and a call's writes are one transaction.

use actix_web::{HttpResponse, web};
use ferry_domain::ids::SbgId;
use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::files::{
    Entry, FileChange, MetadataChange, change_files, delete_entries, load_entries, parse_file_id,
    render_file,
};
use super::{SbgCaller, SbgError, resource};
use crate::db::RequestClaim;
use crate::{AppState, db};

/// The documented CAVATICA limit for bulk file calls.
const MAX_FILES: usize = 100;

pub(crate) fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(resource(&["/bulk/files/get"]).route(web::post().to(get)))
        .service(resource(&["/bulk/files/update"]).route(web::post().to(update)))
        .service(resource(&["/bulk/files/edit"]).route(web::post().to(edit)))
        .service(resource(&["/bulk/files/delete"]).route(web::post().to(delete)));
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
struct FileIdsBody {
    file_ids: Vec<String>,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
struct ItemsBody {
    items: Vec<ItemBody>,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
struct ItemBody {
    id: String,
    name: Option<String>,
    tags: Option<Vec<String>>,
    metadata: Option<Map<String, Value>>,
}

/// Refuses an empty call and one over the limit.
fn check_count(count: usize, field: &str) -> Result<(), SbgError> {
    if count == 0 {
        return Err(SbgError::bad_request(format!(
            "{field} must list at least one file."
        )));
    }
    if count > MAX_FILES {
        return Err(SbgError::bad_request(format!(
            "{field} lists {count} files; at most {MAX_FILES} are allowed per call."
        )));
    }
    Ok(())
}

/// The response: one record per input, in order.
fn records(results: impl IntoIterator<Item = Result<Value, SbgError>>) -> HttpResponse {
    let items: Vec<Value> = results
        .into_iter()
        .map(|result| match result {
            Ok(resource) => json!({ "resource": resource }),
            Err(error) => json!({ "error": error.body() }),
        })
        .collect();
    HttpResponse::Ok().json(json!({ "items": items }))
}

#[utoipa::path(post, path = "/v2/bulk/files/get", tag = "sbg", request_body = FileIdsBody, responses((status = 200, description = "One record per id")))]
async fn get(
    state: web::Data<AppState>,
    caller: SbgCaller,
    body: web::Json<FileIdsBody>,
) -> Result<HttpResponse, SbgError> {
    let requested = body.into_inner().file_ids;
    check_count(requested.len(), "file_ids")?;
    let items: Vec<Result<SbgId, SbgError>> =
        requested.iter().map(|id| parse_file_id(id)).collect();
    let ids: Vec<SbgId> = items
        .iter()
        .filter_map(|item| item.as_ref().ok().cloned())
        .collect();
    let user_id = caller.0.user.id;
    let found = db::read(&state.store, move |conn| load_entries(conn, user_id, &ids)).await?;
    Ok(records(items.into_iter().map(|item| {
        let (entry, _) = found.get(&item?).ok_or(SbgError::FileNotFound)?;
        Ok(entry.render(&state))
    })))
}

/// Parses each item into a change with `to_change`; a bad item is that item's error.
async fn change(
    state: &AppState,
    caller: &SbgCaller,
    claim: RequestClaim,
    body: ItemsBody,
    to_change: fn(ItemBody) -> Result<FileChange, SbgError>,
) -> Result<HttpResponse, SbgError> {
    check_count(body.items.len(), "items")?;
    let items: Vec<Result<(SbgId, FileChange), SbgError>> = body
        .items
        .into_iter()
        .map(|item| Ok((parse_file_id(&item.id)?, to_change(item)?)))
        .collect();
    let user_id = caller.0.user.id;
    let results = db::write(&state.store, claim, move |conn| {
        change_files(conn, user_id, items)
    })
    .await?;
    Ok(records(results.into_iter().map(|result| {
        result.map(|view| render_file(state, &view))
    })))
}

/// `POST /bulk/files/update`: each file gets exactly the tags and metadata given.
#[utoipa::path(post, path = "/v2/bulk/files/update", tag = "sbg", request_body = ItemsBody, responses((status = 200, description = "One record per item")))]
async fn update(
    state: web::Data<AppState>,
    caller: SbgCaller,
    claim: RequestClaim,
    body: web::Json<ItemsBody>,
) -> Result<HttpResponse, SbgError> {
    change(&state, &caller, claim, body.into_inner(), |item| {
        let metadata = MetadataChange::replace(item.metadata.unwrap_or_default())?;
        FileChange::parse(item.name, Some(item.tags.unwrap_or_default()), metadata)
    })
    .await
}

/// `POST /bulk/files/edit`: each file keeps what is not given; metadata keys are merged.
#[utoipa::path(post, path = "/v2/bulk/files/edit", tag = "sbg", request_body = ItemsBody, responses((status = 200, description = "One record per item")))]
async fn edit(
    state: web::Data<AppState>,
    caller: SbgCaller,
    claim: RequestClaim,
    body: web::Json<ItemsBody>,
) -> Result<HttpResponse, SbgError> {
    change(&state, &caller, claim, body.into_inner(), |item| {
        let metadata = item
            .metadata
            .map_or(Ok(MetadataChange::Keep), MetadataChange::merge)?;
        FileChange::parse(item.name, item.tags, metadata)
    })
    .await
}

/// `POST /bulk/files/delete`: each record holds the file as it was before deletion.
#[utoipa::path(post, path = "/v2/bulk/files/delete", tag = "sbg", request_body = FileIdsBody, responses((status = 200, description = "One record per id")))]
async fn delete(
    state: web::Data<AppState>,
    caller: SbgCaller,
    claim: RequestClaim,
    body: web::Json<FileIdsBody>,
) -> Result<HttpResponse, SbgError> {
    let requested = body.into_inner().file_ids;
    check_count(requested.len(), "file_ids")?;
    let items: Vec<Result<SbgId, SbgError>> =
        requested.iter().map(|id| parse_file_id(id)).collect();
    let user_id = caller.0.user.id;
    let results = db::write(&state.store, claim, move |conn| {
        delete_entries(conn, user_id, items)
    })
    .await?;
    Ok(records(results.into_iter().map(|result| {
        result.map(|entry: Entry| entry.render(&state))
    })))
}
