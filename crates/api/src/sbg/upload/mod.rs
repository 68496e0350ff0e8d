//! SBG multipart upload (`/upload/multipart`), as `sevenbridges-python`'s
//! `sevenbridges/transfer/upload.py` drives it: start an upload, ask for each part's URL, `PUT`
//! the part there, report it with the ETag the `PUT` answered, complete. The wire contract and
//! the choices are in docs/sbg.md (Multipart upload).
//!
//! - The server picks the part size ([`ferry_domain::upload::PartPlan`]); the SDK adopts the
//!   one answered.
//! - A part URL is signed for one upload, one part and that part's length, for an hour, and
//!   needs no token: the SDK sends parts with a session that has none. Its `PUT` goes through
//!   [`crate::receive`], the path DNAnexus parts take too, and writes the bytes in place at the
//!   part's offset in the upload's file; it answers the SHA-256 of the part as its ETag.
//! - The rules (who may upload where, a name taken, every part reported before completing)
//!   are the use case's, `ferry_usecases::upload`; here a refusal becomes its SBG error
//!   (`sbg::refusals`): a name taken is a 409 (5003), anyone else's upload id a 404.

use actix_web::http::header::{self, EntityTag};
use actix_web::{HttpRequest, HttpResponse, web};
use chrono::{TimeDelta, Utc};
use ferry_domain::ids::UploadId;
use ferry_domain::model::FolderView;
use ferry_store::StoreError;
use ferry_store::sbg_uploads::{self, Upload};
use ferry_usecases::upload;
use serde::Deserialize;
use serde_json::{Value, json};
use std::io;

use super::files::{destination_ref, parse_file_name, render_file};
use super::query::LastValues;
use super::{SbgCaller, SbgError, href, resource, timestamp};
use crate::db::RequestClaim;
use crate::receive::{ReceiveError, receive};
use crate::{AppState, db, signing};

mod complete;
mod parts;
mod start;

pub(crate) use complete::*;
pub(crate) use parts::*;
pub(crate) use start::*;

/// How long a part URL works.
const PART_URL_SECONDS: i64 = 60 * 60;

pub(crate) fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(
        resource(&["/upload/multipart", "/upload/multipart/"]).route(web::post().to(start)),
    )
    .service(
        resource(&["/upload/multipart/{upload_id}"])
            .route(web::get().to(get))
            .route(web::delete().to(abort)),
    )
    .service(
        resource(&[
            "/upload/multipart/{upload_id}/part",
            "/upload/multipart/{upload_id}/part/",
        ])
        .route(web::post().to(report_part)),
    )
    .service(
        resource(&["/upload/multipart/{upload_id}/part/{part_number}"])
            .route(web::get().to(part_url)),
    )
    .service(
        resource(&["/upload/multipart/{upload_id}/part/{part_number}/data"])
            .route(web::put().to(put_part)),
    )
    .service(resource(&["/upload/multipart/{upload_id}/complete"]).route(web::post().to(complete)));
}

/// The upload id in a path: one of another shape names no upload.
fn parse_upload_id(raw: &str) -> Result<UploadId, SbgError> {
    UploadId::parse(raw).map_err(|_| SbgError::UploadNotFound)
}

// Rendering.

fn render_upload(state: &AppState, upload: &Upload, folder: &FolderView) -> Value {
    json!({
        "href": href(state, &format!("/upload/multipart/{}", upload.upload_id)),
        "upload_id": upload.upload_id,
        "project": folder.project.as_str(),
        "parent": folder.folder.sbg_id.as_str(),
        "name": upload.name,
        "initiation_date": timestamp(upload.created_at),
        "upload_size": upload.plan.size(),
        "part_size": upload.plan.part_size(),
        "parts": upload.plan.parts(),
        "parallel_uploads": true,
        "overwrite": upload.overwrite,
    })
}

// The upload as a resource.

/// `GET /upload/multipart/{upload_id}`: the upload, as started.
#[utoipa::path(get, path = "/v2/upload/multipart/{upload_id}", tag = "sbg", params(("upload_id" = String, Path)), responses((status = 200, description = "The upload")))]
async fn get(
    state: web::Data<AppState>,
    caller: SbgCaller,
    upload_id: web::Path<String>,
) -> Result<HttpResponse, SbgError> {
    let upload_id = parse_upload_id(&upload_id)?;
    let user_id = caller.0.user.id;
    let (upload, folder) = db::read(&state.store, move |conn| {
        upload::own_upload(conn, user_id, &upload_id)
    })
    .await
    .map_err(SbgError::from)?;
    Ok(HttpResponse::Ok().json(render_upload(&state, &upload, &folder)))
}

/// `DELETE /upload/multipart/{upload_id}`: the upload is dropped with its parts and its file.
#[utoipa::path(delete, path = "/v2/upload/multipart/{upload_id}", tag = "sbg", params(("upload_id" = String, Path)), responses((status = 204, description = "Aborted")))]
async fn abort(
    state: web::Data<AppState>,
    caller: SbgCaller,
    claim: RequestClaim,
    upload_id: web::Path<String>,
) -> Result<HttpResponse, SbgError> {
    let upload_id = parse_upload_id(&upload_id)?;
    let user_id = caller.0.user.id;
    let digests = state.upload_digests.clone();
    db::blocking(&state.store, move |store| {
        upload::abort(store, claim.get(), user_id, &upload_id, &digests)
    })
    .await
    .map_err(SbgError::from)?;
    Ok(HttpResponse::NoContent().finish())
}
