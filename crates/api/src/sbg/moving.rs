//! `POST /files/{id}/actions/move` with `{parent, name?}` (the SDK's `file.move_to_folder`):
//! the file, moved to another folder of its project; the rules are the use case's
//! (`ferry_usecases::moving`), a name taken there becoming `N_name` as a copy's does.

use super::files::{parse_file_id, render_file};
use super::{SbgCaller, SbgError};
use crate::db::RequestClaim;
use crate::{AppState, audit, db};
use actix_web::{HttpResponse, web};
use ferry_domain::ids::SbgId;
use ferry_domain::model::AuditOutcome;
use ferry_domain::name::FileName;
use ferry_usecases::moving::{MoveRequest, move_file};
use serde::Deserialize;
use serde_json::json;

pub(crate) fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/files/{id}/actions/move", web::post().to(move_one));
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
struct MoveBody {
    /// The folder to move the file to, in the file's project.
    parent: Option<String>,
    /// The name there; the file's own if absent.
    name: Option<String>,
}

#[utoipa::path(post, path = "/v2/files/{id}/actions/move", tag = "sbg", params(("id" = String, Path, description = "A file id")), request_body = MoveBody, responses((status = 200, description = "The file, moved")))]
async fn move_one(
    state: web::Data<AppState>,
    caller: SbgCaller,
    claim: RequestClaim,
    id: web::Path<String>,
    body: web::Json<MoveBody>,
) -> Result<HttpResponse, SbgError> {
    let file = parse_file_id(&id)?;
    let body = body.into_inner();
    let parent = body
        .parent
        .filter(|parent| !parent.is_empty())
        .ok_or(SbgError::MoveParentRequired)?;
    // A folder id of the wrong shape names no folder.
    let parent = SbgId::parse(&parent).map_err(|_| SbgError::DestinationNotFound)?;
    let name = body
        .name
        .map(FileName::parse)
        .transpose()
        .map_err(|e| SbgError::InvalidName(e.to_string()))?;
    let who = caller.0;
    let moved = db::write(&state.store, claim, move |conn| -> Result<_, SbgError> {
        let request = MoveRequest {
            user_id: who.user.id,
            file: &file,
            parent: &parent,
            name: name.as_ref(),
        };
        let moved = move_file(conn, request)?;
        let detail = json!({"parent": parent.as_str(), "name": moved.placement.name});
        audit::record(
            conn,
            &who,
            "sbg.file.move",
            file.as_str(),
            AuditOutcome::Ok,
            detail,
        )?;
        Ok(moved)
    })
    .await?;
    Ok(HttpResponse::Ok().json(render_file(&state, &moved)))
}
