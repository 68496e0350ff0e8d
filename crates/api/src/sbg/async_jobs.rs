//! Async bulk copies (sbg-api.md §3.5): `POST /async/files/copy` starts a job,
//! `GET /async/files/copy/{id}` reads one, `GET /async/files` lists the caller's jobs. The jobs
//! are worked in the background by the job workers (`ferry_usecases::jobs`).
//!
//! As CAVATICA: items `{file, project | parent, name?}` (an empty string is absent), files and
//! folders (a folder is copied with its whole tree, merged into a folder of the same name,
//! colliding files renamed `N_name`), states SUBMITTED, RESOLVING, RUNNING, FINISHED, and per
//! request item a `result` entry `{"resource": file or folder}` or `{"error": {...}}`.
//!
//! Beyond CAVATICA:
//! - up to 100,000 items per job (CAVATICA: 100); an item that cannot be copied fails alone;
//! - `outcome`: `null` until FINISHED, then `completed`, `completed_with_failures` or
//!   `cancelled`; `cancelled_files` counts the items a cancel stopped;
//! - `POST /async/files/copy/{id}/cancel` stops the job at its next chunk (within 2 s) and
//!   answers the job as it then is;
//! - `GET /async/files/copy/{id}/items?offset&limit` pages through every item, those found in
//!   copied folders included, with what became of it (`items_href` on the job links there);
//! - `result` lists the first 10,000 request items only (`result_truncated` says so); it is
//!   `[]` until FINISHED, and `null` in the job list (fetch the job for it).
//!
//! `total_files` counts files and folders; it grows while RESOLVING, as folders are listed.

use actix_web::{HttpResponse, web};
use ferry_domain::folder_ref::FolderRef;
use ferry_domain::ids::{JobId, SbgId};
use ferry_domain::model::{AuditOutcome, FileView, FolderView};
use ferry_domain::name::FileName;
use ferry_domain::row_ids::UserRowId;
use ferry_store::jobs::{
    self, ItemKind, ItemOutcome, ItemStatus, Job, JobItem, JobState, RequestedCopy,
};
use ferry_store::{DbConnection, sbg_views};
use serde::Deserialize;
use serde_json::{Map, Value, json};
use std::collections::HashMap;
use std::time::{Duration, Instant};

use super::files::destination_ref;
use super::files::{render_file, render_folder};
use super::listing::{PageQuery, envelope};
use super::query::LastValues;
use super::{SbgCaller, SbgError, href, resource, timestamp};
use crate::db::RequestClaim;
use crate::{AppState, audit, db};

/// Items one job accepts.
pub(crate) const MAX_ITEMS: usize = 100_000;
/// Request items whose outcome the job's `result` lists; the items endpoint has them all.
const MAX_RESULT_ENTRIES: i64 = 10_000;
/// How long a cancel waits for the chunk being worked to commit.
const CANCEL_WAIT: Duration = Duration::from_secs(2);
const CANCEL_POLL: Duration = Duration::from_millis(50);

pub(crate) fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(resource(&["/async/files", "/async/files/"]).route(web::get().to(list)))
        .service(resource(&["/async/files/copy"]).route(web::post().to(submit)))
        .service(resource(&["/async/files/copy/{id}"]).route(web::get().to(get)))
        .service(resource(&["/async/files/copy/{id}/cancel"]).route(web::post().to(cancel)))
        .service(resource(&["/async/files/copy/{id}/items"]).route(web::get().to(items)));
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
struct SubmitBody {
    items: Option<Vec<Value>>,
}

/// Parses every item, refusing the whole request at the first bad one: no job is created.
fn parse_items(items: Vec<Value>) -> Result<Vec<RequestedCopy>, SbgError> {
    if items.is_empty() {
        return Err(SbgError::NoItems);
    }
    if items.len() > MAX_ITEMS {
        return Err(SbgError::bad_request(format!(
            "`items` lists {} items; a job copies at most {MAX_ITEMS}.",
            items.len()
        )));
    }
    items
        .iter()
        .enumerate()
        .map(|(index, item)| {
            parse_item(item).map_err(|error| SbgError::AtItem {
                index,
                error: Box::new(error),
            })
        })
        .collect()
}

fn parse_item(item: &Value) -> Result<RequestedCopy, SbgError> {
    let Value::Object(fields) = item else {
        return Err(SbgError::bad_request("an item must be an object."));
    };
    let file = text(fields, "file")?.ok_or(SbgError::FileIdRequired)?;
    let source = SbgId::parse(file)
        .map_err(|e| SbgError::bad_request(format!("`file` is not a file or folder id: {e}.")))?;
    let to = destination_ref(text(fields, "project")?, text(fields, "parent")?)?;
    let name = text(fields, "name")?
        .map(FileName::parse)
        .transpose()
        .map_err(|e| SbgError::InvalidName(e.to_string()))?;
    Ok(RequestedCopy { source, to, name })
}

/// A string field; absent, `null` and `""` are all absent.
fn text<'a>(fields: &'a Map<String, Value>, key: &str) -> Result<Option<&'a str>, SbgError> {
    match fields.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s.is_empty() => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(SbgError::bad_request(format!("`{key}` must be a string."))),
    }
}

#[utoipa::path(post, path = "/v2/async/files/copy", tag = "sbg", request_body = SubmitBody, responses((status = 200, description = "The job")))]
async fn submit(
    state: web::Data<AppState>,
    caller: SbgCaller,
    claim: RequestClaim,
    body: web::Json<SubmitBody>,
) -> Result<HttpResponse, SbgError> {
    let requests = parse_items(body.into_inner().items.unwrap_or_default())?;
    let who = caller.0;
    let job = db::write(&state.store, claim, move |conn| -> Result<_, SbgError> {
        let job = jobs::submit(conn, who.user.id, &requests)?;
        let detail = json!({"items": requests.len()});
        audit::record(
            conn,
            &who,
            "sbg.async_copy.submit",
            job.public_id.to_string(),
            AuditOutcome::Ok,
            detail,
        )?;
        Ok(job)
    })
    .await?;
    Ok(HttpResponse::Ok().json(render_job(&state, &job, Some(&[]))))
}

/// The caller's job with this id; someone else's is as missing as an unknown one.
/// The job id in a path: one of another shape names no job.
fn parse_job_id(raw: &str) -> Result<JobId, SbgError> {
    JobId::parse(raw).map_err(|_| SbgError::JobNotFound)
}

fn caller_job(conn: &mut DbConnection, user_id: UserRowId, id: &JobId) -> Result<Job, SbgError> {
    jobs::get(conn, id)?
        .filter(|job| job.user_id == user_id)
        .ok_or(SbgError::JobNotFound)
}

/// What a request item's `result` entry shows.
enum ResultEntry {
    File(Box<FileView>),
    Folder(FolderView),
    Error(SbgError),
}

/// The `result` entries of a finished job, in request order; none before it finishes.
fn results(conn: &mut DbConnection, job: &Job) -> Result<Vec<ResultEntry>, SbgError> {
    if job.state != JobState::Finished {
        return Ok(Vec::new());
    }
    let items = jobs::request_items(conn, job.id, MAX_RESULT_ENTRIES)?;
    let copies_of = |kind| -> Vec<SbgId> {
        items
            .iter()
            .filter(|item| item.kind == Some(kind))
            .filter_map(|item| match &item.status {
                ItemStatus::Worked(
                    ItemOutcome::Copied { id, .. } | ItemOutcome::Merged { id, .. },
                ) => Some(id.clone()),
                _ => None,
            })
            .collect()
    };
    let (file_ids, folder_ids) = (copies_of(ItemKind::File), copies_of(ItemKind::Folder));
    let mut files: HashMap<SbgId, FileView> =
        sbg_views::files_by_sbg_ids(conn, job.user_id, &file_ids)?
            .into_iter()
            .map(|(view, _)| (view.placement.sbg_id.clone(), view))
            .collect();
    let folders: HashMap<SbgId, FolderView> =
        sbg_views::folders_by_sbg_ids(conn, job.user_id, &folder_ids)?
            .into_iter()
            .map(|(view, _)| (view.folder.sbg_id.clone(), view))
            .collect();
    Ok(items
        .into_iter()
        .map(|item| match item.status {
            ItemStatus::Worked(ItemOutcome::Copied { id, .. } | ItemOutcome::Merged { id, .. }) => {
                match (files.remove(&id), folders.get(&id)) {
                    (Some(file), _) => ResultEntry::File(Box::new(file)),
                    (None, Some(folder)) => ResultEntry::Folder(folder.clone()),
                    (None, None) => ResultEntry::Error(SbgError::CopyGone),
                }
            }
            ItemStatus::Worked(ItemOutcome::Failed(refusal)) => ResultEntry::Error(refusal.into()),
            ItemStatus::Pending | ItemStatus::Cancelled => {
                ResultEntry::Error(SbgError::ItemCancelled)
            }
        })
        .collect())
}

fn render_results(state: &AppState, entries: &[ResultEntry]) -> Vec<Value> {
    entries
        .iter()
        .map(|entry| match entry {
            ResultEntry::File(view) => json!({"resource": render_file(state, view)}),
            ResultEntry::Folder(view) => json!({"resource": render_folder(state, view)}),
            ResultEntry::Error(error) => json!({"error": error.body()}),
        })
        .collect()
}

/// The job as the SDK reads it, with Ferry's extra fields; `result: None` renders `null`.
fn render_job(state: &AppState, job: &Job, result: Option<&[ResultEntry]>) -> Value {
    let path = format!("/async/files/copy/{}", job.public_id);
    json!({
        "href": href(state, &path),
        "id": job.public_id,
        "type": "COPY",
        "state": job.state.as_str(),
        "result": result.map(|entries| render_results(state, entries)),
        "total_files": job.total_items,
        "completed_files": job.completed_items,
        "failed_files": job.failed_items,
        "started_on": job.started_at.map(timestamp),
        "finished_on": job.finished_at.map(timestamp),
        "outcome": job.outcome.map(|o| o.as_str()),
        "cancelled_files": job.cancelled_items,
        "result_truncated": job.state == JobState::Finished && job.request_items > MAX_RESULT_ENTRIES,
        "items_href": href(state, &format!("{path}/items")),
    })
}

#[utoipa::path(get, path = "/v2/async/files/copy/{id}", tag = "sbg", params(("id" = String, Path, description = "An async job id")), responses((status = 200, description = "The job")))]
async fn get(
    state: web::Data<AppState>,
    caller: SbgCaller,
    id: web::Path<String>,
) -> Result<HttpResponse, SbgError> {
    let id = parse_job_id(&id)?;
    let user_id = caller.0.user.id;
    let (job, entries) = db::read(&state.store, move |conn| {
        let job = caller_job(conn, user_id, &id)?;
        let entries = results(conn, &job)?;
        Ok::<_, SbgError>((job, entries))
    })
    .await?;
    Ok(HttpResponse::Ok().json(render_job(&state, &job, Some(&entries))))
}

#[utoipa::path(get, path = "/v2/async/files", tag = "sbg", params(("offset" = Option<i64>, Query), ("limit" = Option<i64>, Query)), responses((status = 200, description = "The caller's jobs")))]
async fn list(
    state: web::Data<AppState>,
    caller: SbgCaller,
    query: LastValues<PageQuery>,
) -> Result<HttpResponse, SbgError> {
    let page = query.into_inner().page()?;
    let user_id = caller.0.user.id;
    let (jobs, total) = db::read(&state.store, move |conn| -> Result<_, SbgError> {
        Ok(jobs::list_for_user(conn, user_id, page)?)
    })
    .await?;
    let items = jobs
        .iter()
        .map(|job| render_job(&state, job, None))
        .collect();
    Ok(envelope(
        &href(&state, "/async/files"),
        &[],
        page,
        items,
        total,
    ))
}

/// Cancels the job and answers it once the chunk being worked, if any, has committed: within
/// [`CANCEL_WAIT`] unless its worker died, in which case the job finishes when the chunk's
/// lease lapses. Cancelling a finished job changes nothing.
#[utoipa::path(post, path = "/v2/async/files/copy/{id}/cancel", tag = "sbg", params(("id" = String, Path, description = "An async job id")), responses((status = 200, description = "The job")))]
async fn cancel(
    state: web::Data<AppState>,
    caller: SbgCaller,
    claim: RequestClaim,
    id: web::Path<String>,
) -> Result<HttpResponse, SbgError> {
    let id = parse_job_id(&id)?;
    let user_id = caller.0.user.id;
    let mut job = {
        let id = id.clone();
        db::write(&state.store, claim, move |conn| {
            let job = caller_job(conn, user_id, &id)?;
            jobs::cancel(conn, job.id)?.ok_or(SbgError::JobNotFound)
        })
        .await?
    };
    let deadline = Instant::now() + CANCEL_WAIT;
    while job.state != JobState::Finished && Instant::now() < deadline {
        actix_web::rt::time::sleep(CANCEL_POLL).await;
        let id = id.clone();
        job = db::read(&state.store, move |conn| caller_job(conn, user_id, &id)).await?;
    }
    let entries = db::read(&state.store, {
        let job = job.clone();
        move |conn| results(conn, &job)
    })
    .await?;
    Ok(HttpResponse::Ok().json(render_job(&state, &job, Some(&entries))))
}

#[utoipa::path(get, path = "/v2/async/files/copy/{id}/items", tag = "sbg", params(("id" = String, Path, description = "An async job id"), ("offset" = Option<i64>, Query), ("limit" = Option<i64>, Query)), responses((status = 200, description = "The job's items")))]
async fn items(
    state: web::Data<AppState>,
    caller: SbgCaller,
    id: web::Path<String>,
    query: LastValues<PageQuery>,
) -> Result<HttpResponse, SbgError> {
    let page = query.into_inner().page()?;
    let id = parse_job_id(&id)?;
    let user_id = caller.0.user.id;
    let base = href(&state, &format!("/async/files/copy/{id}/items"));
    let (items, total) = db::read(&state.store, move |conn| {
        let job = caller_job(conn, user_id, &id)?;
        Ok::<_, SbgError>(jobs::items(conn, job.id, page)?)
    })
    .await?;
    let items = items.iter().map(render_item).collect();
    Ok(envelope(&base, &[], page, items, total))
}

/// One item: what was asked (`file`, `project` or `parent`, `name`; `index` in the request,
/// `null` for an entry of a copied folder) and what became of it: `state` is `pending`,
/// `copied`, `renamed` (copied under another name, `N_name`), `merged` (a folder merged into
/// the destination's folder of that name), `failed` (see `error`) or `cancelled`.
fn render_item(item: &JobItem) -> Value {
    let (project, parent) = match &item.to {
        FolderRef::Project(project) => (Some(project.as_str()), None),
        FolderRef::Folder(folder) => (None, Some(folder.as_str())),
    };
    let wanted = item.name.as_deref().or(item.source_name.as_deref());
    let (state, new_id, new_name, error) = match &item.status {
        ItemStatus::Pending => ("pending", None, None, None),
        ItemStatus::Cancelled => ("cancelled", None, None, None),
        ItemStatus::Worked(ItemOutcome::Copied { id, name }) => {
            let state = if Some(name.as_str()) == wanted {
                "copied"
            } else {
                "renamed"
            };
            (state, Some(id), Some(name), None)
        }
        ItemStatus::Worked(ItemOutcome::Merged { id, name }) => {
            ("merged", Some(id), Some(name), None)
        }
        ItemStatus::Worked(ItemOutcome::Failed(refusal)) => (
            "failed",
            None,
            None,
            Some(SbgError::from(refusal.clone()).body()),
        ),
    };
    json!({
        "index": item.request_index,
        "type": item.kind.map(ItemKind::as_str),
        "file": item.source.as_str(),
        "source_name": item.source_name,
        "project": project,
        "parent": parent,
        "name": item.name,
        "state": state,
        "new_id": new_id.map(SbgId::as_str),
        "new_name": new_name,
        "error": error,
        "worker": item.worked_by,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::http::StatusCode;

    #[test]
    fn an_empty_string_is_absent_and_other_types_are_refused() {
        let fields = json!({"a": "", "b": null, "c": "x", "d": 5});
        let fields = fields.as_object().unwrap();
        assert_eq!(text(fields, "a").unwrap(), None);
        assert_eq!(text(fields, "b").unwrap(), None);
        assert_eq!(text(fields, "missing").unwrap(), None);
        assert_eq!(text(fields, "c").unwrap(), Some("x"));
        assert_eq!(
            text(fields, "d").unwrap_err().status(),
            StatusCode::BAD_REQUEST
        );
    }

    #[test]
    fn a_bad_item_names_its_index() {
        let good = json!({"file": "0123456789abcdef01234567", "project": "o/p"});
        let bad = json!({"file": "0123456789abcdef01234567", "project": "o/p", "parent": "x"});
        let error = parse_items(vec![good, bad]).unwrap_err();
        assert_eq!(error.code(), 5031);
        assert!(error.message().starts_with("items[1]: "), "{error}");
    }
}
