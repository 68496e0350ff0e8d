//! Copies: `POST /files/{id}/actions/copy` (one file, optional name) and `POST /action/files/copy`
//! (a batch of up to 1,000 files into a project's root, per-file results).
//!
//! A failed entry of the batch is the SBG error object of that file, so a client tells entries
//! apart by `status`: the string `"OK"` for a copy, the HTTP status (an integer) otherwise:
//! `{"status": 404, "code": 5002, "message": "Requested file does not exist.", "more_info": …}`.

use super::files::{Entry, destination_ref, load_entries, parse_file_id};
use super::query::LastValues;
use super::{SbgCaller, SbgError};
use crate::db::RequestClaim;
use crate::{AppState, audit, db};
use actix_web::{HttpResponse, web};
use ferry_domain::collision::CollisionPolicy;
use ferry_domain::folder_ref::FolderRef;
use ferry_domain::ids::{SbgId, SbgProjectId};
use ferry_domain::model::{AuditOutcome, FileView};
use ferry_domain::name::FileName;
use ferry_store::copy::{CopyItem, CopyResult, Destination, PolicyResult, copy_files_under};
use ferry_usecases::copy::{Sources, destination, sources};
use serde::Deserialize;
use serde_json::{Map, Value, json};
use std::collections::{HashMap, HashSet};
use validator::Validate;

/// CAVATICA stops at 100; larger batches belong to the async endpoint.
const MAX_BATCH: u64 = 1_000;

pub(crate) fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/files/{id}/actions/copy", web::post().to(copy_one))
        .route("/action/files/copy", web::post().to(copy_batch));
}

/// Ferry's extension of both copies (docs/sbg.md, "Collisions"): what a taken name does, and a
/// dry run.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct CopyOptions {
    /// What a name taken in the destination does: `rename` (`N_name`, CAVATICA's rule and the
    /// default), `skip` (not copied; the holder is reported), `fail` (refused, 409/5003) or
    /// `skip_identical` (a file of that name with the same content: skipped; else renamed).
    #[serde(default)]
    #[param(value_type = Option<String>, pattern = "^(rename|skip|fail|skip_identical)$")]
    collision: CollisionPolicy,
    /// `true`: answer exactly what the copy would, writing nothing (`Ferry-Dry-Run: true`).
    #[serde(default)]
    dry_run: bool,
}

/// The header that tells a copied, a renamed and a skipped single copy apart.
const OUTCOME_HEADER: &str = "Ferry-Copy-Outcome";
const DRY_RUN_HEADER: &str = "Ferry-Dry-Run";

#[derive(Debug, Deserialize, utoipa::ToSchema)]
struct CopyOneBody {
    project: Option<String>,
    parent: Option<String>,
    name: Option<String>,
}

#[derive(Debug, Deserialize, Validate, utoipa::ToSchema)]
struct CopyBatchBody {
    project: Option<String>,
    #[validate(length(min = 1, max = MAX_BATCH))]
    file_ids: Vec<String>,
}

fn parse_project(raw: &str) -> Result<SbgProjectId, SbgError> {
    SbgProjectId::parse(raw).map_err(|_| SbgError::MalformedProjectId)
}

#[utoipa::path(post, path = "/v2/files/{id}/actions/copy", tag = "sbg", params(("id" = String, Path, description = "A file or folder id"), CopyOptions), request_body = CopyOneBody, responses((status = 200, description = "The copy; under `skip`, what holds the name (header Ferry-Copy-Outcome: copied, renamed or skipped)")))]
async fn copy_one(
    state: web::Data<AppState>,
    caller: SbgCaller,
    claim: RequestClaim,
    id: web::Path<String>,
    options: LastValues<CopyOptions>,
    body: web::Json<CopyOneBody>,
) -> Result<HttpResponse, SbgError> {
    let CopyOptions { collision, dry_run } = options.into_inner();
    let source = parse_file_id(&id)?;
    let body = body.into_inner();
    let target = destination_ref(body.project.as_deref(), body.parent.as_deref())?;
    // An empty name is refused, as a blank one: no name is the source's.
    let name = body
        .name
        .map(FileName::parse)
        .transpose()
        .map_err(|e| SbgError::InvalidName(e.to_string()))?;
    let user_id = caller.0.user.id;
    let who = caller.0;
    let (entry, outcome) = db::write_or_rehearse(&state.store, claim, dry_run, move |conn| {
        let (project, folder) = destination(conn, user_id, &target)?;
        let Sources {
            mut copyable,
            mut refused,
        } = sources(conn, user_id, std::slice::from_ref(&source))?;
        if let Some(reason) = refused.remove(&source) {
            return Err(reason.into());
        }
        let view = copyable.remove(&source).ok_or(SbgError::FileNotFound)?;
        let item = CopyItem {
            source: &view,
            name: name.as_ref(),
        };
        let to = Destination {
            project: &project,
            folder: &folder,
        };
        let wanted = name.as_ref().map_or(view.placement.name.as_str(), FileName::as_str);
        match copy_files_under(conn, user_id, to, &[item], collision)?.pop() {
            Some(PolicyResult::Copy(CopyResult::Copied(copy))) => {
                let detail = json!({"project": project.as_str(), "new_file_id": copy.placement.sbg_id.as_str()});
                audit::record(conn, &who, "sbg.file.copy", source.as_str(), AuditOutcome::Ok, detail)?;
                let outcome = if copy.placement.name == wanted { "copied" } else { "renamed" };
                Ok((Entry::File(copy), outcome))
            }
            Some(PolicyResult::Copy(CopyResult::NameTooLong(name))) => {
                Err(SbgError::CopyNameTooLong { name })
            }
            Some(PolicyResult::Skipped { existing, .. }) => {
                let entry = load_entries(conn, user_id, std::slice::from_ref(&existing))?
                    .remove(&existing)
                    .map(|(entry, _)| entry)
                    .ok_or(SbgError::Internal)?;
                Ok((entry, "skipped"))
            }
            Some(PolicyResult::NameTaken(name)) => Err(SbgError::NameTaken { name }),
            None => Err(SbgError::Internal),
        }
    })
    .await?;
    let mut response = HttpResponse::Ok();
    response.insert_header((OUTCOME_HEADER, outcome));
    if dry_run {
        response.insert_header((DRY_RUN_HEADER, "true"));
    }
    Ok(response.json(entry.render(&state)))
}

#[utoipa::path(post, path = "/v2/action/files/copy", tag = "sbg", params(CopyOptions), request_body = CopyBatchBody, responses((status = 200, description = "The outcome per source id: {status: OK, new_file_id, new_file_name}, {status: SKIPPED, existing_file_id, name}, or the file's SBG error")))]
async fn copy_batch(
    state: web::Data<AppState>,
    caller: SbgCaller,
    claim: RequestClaim,
    options: LastValues<CopyOptions>,
    body: web::Json<CopyBatchBody>,
) -> Result<HttpResponse, SbgError> {
    let CopyOptions { collision, dry_run } = options.into_inner();
    let body = body.into_inner();
    body.validate().map_err(|_| {
        if body.file_ids.is_empty() {
            SbgError::bad_request("file_ids must list at least one file.")
        } else {
            SbgError::bad_request(format!(
                "file_ids lists {} files; this call copies at most {MAX_BATCH}. \
                 Use POST /v2/async/files/copy for larger batches.",
                body.file_ids.len()
            ))
        }
    })?;
    let project = parse_project(body.project.as_deref().unwrap_or_default())?;
    // A file listed twice is copied once; the response keeps the order of first mention.
    let mut seen = HashSet::new();
    let requested: Vec<String> = body
        .file_ids
        .into_iter()
        .filter(|id| seen.insert(id.clone()))
        .collect();
    let user_id = caller.0.user.id;
    let who = caller.0;
    let response = db::write_or_rehearse(&state.store, claim, dry_run, move |conn| {
        let (project, folder) = destination(conn, user_id, &FolderRef::Project(project))?;
        let ids: Vec<SbgId> = requested
            .iter()
            .filter_map(|id| SbgId::parse(id).ok())
            .collect();
        let Sources {
            copyable,
            mut refused,
        } = sources(conn, user_id, &ids)?;
        let to_copy: Vec<&FileView> = ids.iter().filter_map(|id| copyable.get(id)).collect();
        let items: Vec<CopyItem<'_>> = to_copy
            .iter()
            .map(|view| CopyItem {
                source: view,
                name: None,
            })
            .collect();
        let to = Destination {
            project: &project,
            folder: &folder,
        };
        let results = copy_files_under(conn, user_id, to, &items, collision)?;
        let done = results
            .iter()
            .filter(|r| matches!(r, PolicyResult::Copy(CopyResult::Copied(_))))
            .count();
        // One row for the batch, however many files: the counts tell what happened.
        let detail =
            json!({"requested": requested.len(), "copied": done, "failed": requested.len() - done});
        let outcome = AuditOutcome::of_batch(done, requested.len());
        audit::record(
            conn,
            &who,
            "sbg.files.copy",
            project.as_str(),
            outcome,
            detail,
        )?;
        let mut copied: HashMap<SbgId, Value> = HashMap::new();
        for (source, result) in to_copy.iter().zip(results) {
            let source = source.placement.sbg_id.clone();
            let entry = match result {
                PolicyResult::Copy(CopyResult::Copied(view)) => json!({
                    "status": "OK",
                    "new_file_id": view.placement.sbg_id.as_str(),
                    "new_file_name": view.placement.name,
                }),
                PolicyResult::Copy(CopyResult::NameTooLong(name)) => {
                    SbgError::CopyNameTooLong { name }.body()
                }
                PolicyResult::Skipped { name, existing } => json!({
                    "status": "SKIPPED",
                    "existing_file_id": existing.as_str(),
                    "name": name,
                }),
                PolicyResult::NameTaken(name) => SbgError::NameTaken { name }.body(),
            };
            copied.insert(source, entry);
        }
        let mut response = Map::new();
        for raw in requested {
            let entry = match SbgId::parse(&raw) {
                Ok(id) => copied
                    .remove(&id)
                    .or_else(|| refused.remove(&id).map(|e| SbgError::from(e).body()))
                    .unwrap_or_else(|| SbgError::FileNotFound.body()),
                Err(_) => SbgError::FileNotFound.body(),
            };
            response.insert(raw, entry);
        }
        Ok::<_, SbgError>(Value::Object(response))
    })
    .await?;
    let mut answer = HttpResponse::Ok();
    if dry_run {
        answer.insert_header((DRY_RUN_HEADER, "true"));
    }
    Ok(answer.json(response))
}
