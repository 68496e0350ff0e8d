//! SBG multipart upload (`/upload/multipart`), as `sevenbridges-python`'s
//! `sevenbridges/transfer/upload.py` drives it: start an upload, ask for each part's URL, `PUT`
//! the part there, report it with the ETag the `PUT` answered, complete. The wire contract and
//! the choices are in docs/sbg.md (Multipart upload).
//!
//! - The server picks the part size ([`PartPlan`]); the SDK adopts the one answered.
//! - A part URL is signed for one upload, one part and that part's length, for an hour, and
//!   needs no token: the SDK sends parts with a session that has none. Its `PUT` goes through
//!   [`crate::receive`], the path DNAnexus parts take too, and writes the bytes in place at the
//!   part's offset in the upload's file; it answers the SHA-256 of the part as its ETag.
//! - Completing checks that every part of the plan was received and reported, seals the
//!   upload's file (waiting for parts being written) and hashes it, and creates the file in one
//!   transaction with the upload's deletion; the sealed file then becomes the content, by a
//!   rename: the bytes are written once. A name taken
//!   in the folder is a 409 (5003), when the upload starts and again when it completes, unless
//!   the upload was started with `overwrite`: then the file of that name is deleted and the
//!   new one takes its name (a folder of that name is a 409 still).
//! - An upload is its starter's alone: anyone else's upload id is a 404, as an unknown one.

use actix_web::http::header::{self, EntityTag};
use actix_web::{HttpRequest, HttpResponse, web};
use chrono::{TimeDelta, Utc};
use ferry_domain::folder_ref::FolderRef;
use ferry_domain::model::FileView;
use ferry_domain::model::FolderView;
use ferry_domain::permission::Permissions;
use ferry_domain::row_ids::UserRowId;
use ferry_domain::upload::PartPlan;
use ferry_store::sbg_uploads::{self, ReceivedPart, Upload};
use ferry_store::{ContentInfo, DbConnection, StoreError, files, folders, sbg_views};
use serde::Deserialize;
use serde_json::{Value, json};
use std::io;

use super::files::{folder_ref, parse_file_name, render_file, resolve_folder};
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

// Errors.

/// A part number from a path or a body: 1 up to the plan's number of parts.
fn part_number(plan: &PartPlan, raw: &str) -> Result<u32, SbgError> {
    raw.parse::<u32>()
        .ok()
        .filter(|n| plan.part_len(*n).is_some())
        .ok_or_else(|| {
            SbgError::bad_request(format!(
                "Part number {raw:?} is out of range: this upload has parts 1 to {}.",
                plan.parts()
            ))
        })
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

/// The caller's upload `upload_id` and where it goes.
fn own_upload(
    conn: &mut DbConnection,
    user_id: UserRowId,
    upload_id: &str,
) -> Result<(Upload, FolderView), SbgError> {
    let (upload, folder) =
        sbg_uploads::get(conn, user_id, upload_id)?.ok_or(SbgError::UploadNotFound)?;
    let (folder, _) = resolve_folder(
        conn,
        user_id,
        &FolderRef::Folder(folder),
        SbgError::UploadNotFound,
    )?;
    Ok((upload, folder))
}

/// `GET /upload/multipart/{upload_id}`: the upload, as started.
#[utoipa::path(get, path = "/v2/upload/multipart/{upload_id}", tag = "sbg", params(("upload_id" = String, Path)), responses((status = 200, description = "The upload")))]
async fn get(
    state: web::Data<AppState>,
    caller: SbgCaller,
    upload_id: web::Path<String>,
) -> Result<HttpResponse, SbgError> {
    let user_id = caller.0.user.id;
    let (upload, folder) = db::read(&state.store, move |conn| {
        own_upload(conn, user_id, &upload_id)
    })
    .await?;
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
    let user_id = caller.0.user.id;
    let digests = state.upload_digests.clone();
    db::blocking(&state.store, move |store| {
        let (upload, _) = store.write(claim.get(), |conn| {
            let found =
                sbg_uploads::get(conn, user_id, &upload_id)?.ok_or(SbgError::UploadNotFound)?;
            sbg_uploads::delete(conn, &upload_id)?;
            Ok::<_, SbgError>(found)
        })?;
        digests.forget(&upload_id);
        // After the commit; a file a crash leaves here is the collector's.
        store
            .content()
            .discard_upload(&upload_id, upload.store_upload_id.as_deref())
            .map_err(StoreError::from)?;
        Ok::<_, SbgError>(())
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}
