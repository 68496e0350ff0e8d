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

// Starting.

#[derive(Debug, Deserialize, utoipa::ToSchema)]
struct StartBody {
    project: Option<String>,
    parent: Option<String>,
    name: Option<String>,
    size: Option<u64>,
    part_size: Option<u64>,
}

/// `?overwrite=true` (the SDK sends Python's `True`).
fn overwrite_wanted(req: &HttpRequest) -> Result<bool, SbgError> {
    match form_urlencoded::parse(req.query_string().as_bytes())
        .find(|(key, _)| key == "overwrite")
        .map(|(_, value)| value.to_ascii_lowercase())
        .as_deref()
    {
        None | Some("false" | "0") => Ok(false),
        Some("true" | "1") => Ok(true),
        Some(other) => Err(SbgError::bad_request(format!(
            "overwrite must be true or false, not {other:?}."
        ))),
    }
}

/// The folder an upload goes to and the caller's permissions there, refused unless they may
/// write.
fn writable_folder(
    conn: &mut DbConnection,
    user_id: i64,
    target: &FolderRef,
) -> Result<FolderView, SbgError> {
    let (folder, permissions): (FolderView, Permissions) =
        resolve_folder(conn, user_id, target, SbgError::DestinationNotFound)?;
    if !permissions.can_write() {
        return Err(SbgError::FileNotWritable);
    }
    Ok(folder)
}

/// The placements `name` replaces in `folder`: none if it is free, those of the file of that
/// name if `overwrite`; else the name is taken.
fn replaced_placements(
    conn: &mut DbConnection,
    folder: &FolderView,
    name: &str,
    overwrite: bool,
) -> Result<Vec<i64>, SbgError> {
    let wanted = [(folder.folder.id, name)];
    if folders::names_taken(conn, &wanted, &[])?.is_empty() {
        return Ok(Vec::new());
    }
    let files = files::placements_named(conn, folder.folder.id, name)?;
    if overwrite && !files.is_empty() {
        Ok(files)
    } else {
        Err(SbgError::UploadNameTaken {
            name: name.to_owned(),
        })
    }
}

/// `POST /upload/multipart[?overwrite=true]` with `{project | parent, name, size, part_size}`:
/// a new upload, with the part size the server picked.
#[utoipa::path(post, path = "/v2/upload/multipart", tag = "sbg", request_body = StartBody, params(("overwrite" = Option<bool>, Query, description = "Replace a file of the same name")), responses((status = 201, description = "The new upload")))]
async fn start(
    state: web::Data<AppState>,
    caller: SbgCaller,
    claim: RequestClaim,
    req: HttpRequest,
    body: web::Json<StartBody>,
) -> Result<HttpResponse, SbgError> {
    let body = body.into_inner();
    let overwrite = overwrite_wanted(&req)?;
    let target = folder_ref(
        body.project.as_deref(),
        body.parent.as_deref(),
        SbgError::MalformedProjectId,
        SbgError::DestinationNotFound,
    )?;
    let name = parse_file_name(body.name.unwrap_or_default())?;
    let size = body
        .size
        .ok_or_else(|| SbgError::bad_request("size is required: the file's length in bytes."))?;
    let plan =
        PartPlan::new(size, body.part_size).map_err(|e| SbgError::bad_request(e.to_string()))?;
    let user_id = caller.0.user.id;
    let store = state.store.clone();
    let (upload, folder) = db::write(&state.store, claim, move |conn| {
        let folder = writable_folder(conn, user_id, &target)?;
        replaced_placements(conn, &folder, name.as_str(), overwrite)?;
        let upload_id = uuid::Uuid::new_v4().simple().to_string();
        // Made before the commit, so that every upload has its file (or its multipart
        // upload at an S3 store); one left by a failed commit is the collector's (or the
        // bucket's lifecycle rules').
        let store_upload_id = store
            .content()
            .create_upload(&upload_id, plan.size())
            .map_err(StoreError::from)?;
        let upload = Upload {
            upload_id,
            user_id,
            folder_id: folder.folder.id,
            name: name.as_str().to_owned(),
            plan,
            overwrite,
            created_at: Utc::now(),
            store_upload_id,
        };
        sbg_uploads::create(conn, &upload)?;
        Ok::<_, SbgError>((upload, folder))
    })
    .await?;
    Ok(HttpResponse::Created().json(render_upload(&state, &upload, &folder)))
}

/// The caller's upload `upload_id` and where it goes.
fn own_upload(
    conn: &mut DbConnection,
    user_id: i64,
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

// Parts.

/// What a part URL is signed for.
fn part_message(upload_id: &str, part_number: u32, len: u64) -> String {
    format!("sbg-part\n{upload_id}\n{part_number}\n{len}")
}

/// `GET /upload/multipart/{upload_id}/part/{part_number}`: where and how to send the part.
#[utoipa::path(get, path = "/v2/upload/multipart/{upload_id}/part/{part_number}", tag = "sbg", params(("upload_id" = String, Path), ("part_number" = u32, Path)), responses((status = 200, description = "{url, method, expires, headers, ...}")))]
async fn part_url(
    state: web::Data<AppState>,
    caller: SbgCaller,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, SbgError> {
    let (upload_id, raw_number) = path.into_inner();
    let user_id = caller.0.user.id;
    let lookup = upload_id.clone();
    let (upload, _) = db::read(&state.store, move |conn| {
        sbg_uploads::get(conn, user_id, &lookup)?.ok_or(SbgError::UploadNotFound)
    })
    .await?;
    let number = part_number(&upload.plan, &raw_number)?;
    let len = upload
        .plan
        .part_len(number)
        .expect("the number is in the plan");
    let store = state.store.clone();
    let (presigning, store_upload_id) = (upload_id.clone(), upload.store_upload_id.clone());
    let presigned = web::block(move || {
        store.content().upload_part_url(
            &presigning,
            store_upload_id.as_deref(),
            number,
            std::time::Duration::from_secs(PART_URL_SECONDS.unsigned_abs()),
        )
    })
    .await
    .map_err(|_| SbgError::Internal)?
    .map_err(StoreError::from)?;
    let url = match presigned {
        // Straight to the bucket, which answers the part's ETag itself.
        Some(url) => url,
        None => {
            let key = state.url_signing_key.get(&state.store).await?;
            let expires = Utc::now().timestamp() + PART_URL_SECONDS;
            let signature =
                signing::signature(key, &part_message(&upload_id, number, len), expires);
            href(
                &state,
                &format!(
                    "/upload/multipart/{upload_id}/part/{number}/data?expires={expires}&signature={signature}"
                ),
            )
        }
    };
    let expiry = Utc::now() + TimeDelta::seconds(PART_URL_SECONDS);
    Ok(HttpResponse::Ok().json(json!({
        "url": url,
        "method": "PUT",
        "expires": timestamp(expiry),
        "headers": {},
        "size": len,
        "success_codes": [200, 201],
        "report": {"success_codes": [200, 201, 204], "headers": ["ETag"]},
    })))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
struct PartQuery {
    expires: i64,
    signature: String,
}

/// `PUT /upload/multipart/{upload_id}/part/{part_number}/data?…`: the part's bytes, authorised
/// by the signed URL alone; answers the part's ETag.
#[utoipa::path(put, path = "/v2/upload/multipart/{upload_id}/part/{part_number}/data", tag = "sbg", params(("upload_id" = String, Path), ("part_number" = u32, Path), PartQuery), request_body = Vec<u8>, responses((status = 200, description = "Stored; the ETag header names the part")))]
async fn put_part(
    state: web::Data<AppState>,
    claim: RequestClaim,
    path: web::Path<(String, u32)>,
    query: web::Query<PartQuery>,
    payload: web::Payload,
) -> Result<HttpResponse, SbgError> {
    let (upload_id, number) = path.into_inner();
    let key = state.url_signing_key.get(&state.store).await?;
    // The length is not in the URL: the upload's plan says it, and the signature covers it.
    let lookup = upload_id.clone();
    let plan = db::read(&state.store, move |conn| {
        sbg_uploads::plan(conn, &lookup)?.ok_or(SbgError::UploadNotFound)
    })
    .await?;
    let len = plan.part_len(number).ok_or(SbgError::PartUrlInvalid)?;
    let now = Utc::now().timestamp();
    let message = part_message(&upload_id, number, len);
    if !signing::verify(key, &message, query.expires, &query.signature, now) {
        return Err(SbgError::PartUrlInvalid);
    }
    let part_number = i32::try_from(number).map_err(|_| SbgError::PartUrlInvalid)?;
    let forgetting = upload_id.clone();
    // Not under the claim: only recording the part below is the request's outcome, and a
    // retry that finds the part forgotten sends it again.
    db::write(&state.store, RequestClaim::none(), move |conn| {
        sbg_uploads::forget_part(conn, &forgetting, part_number)
    })
    .await?;
    let offset = u64::from(number - 1) * plan.part_size();
    let store = state.store.clone();
    let writing = upload_id.clone();
    let written = receive(payload, len, move || {
        store.content().part_writer(&writing, offset)
    })
    .await
    .map_err(|e| match e {
        ReceiveError::TooLong { limit } => SbgError::bad_request(format!(
            "Part {number} is longer than the {limit} bytes the upload's plan gives it."
        )),
        ReceiveError::Read(e) => SbgError::bad_request(format!("The part could not be read: {e}")),
        // The upload is being completed, or is gone.
        ReceiveError::Store(StoreError::Io(e)) if e.kind() == io::ErrorKind::NotFound => {
            SbgError::UploadNotFound
        }
        ReceiveError::Store(e) => e.into(),
    })?;
    if written.size != len {
        return Err(SbgError::bad_request(format!(
            "Part {number} has {} bytes; the upload's plan gives it {len}.",
            written.size
        )));
    }
    let part = ReceivedPart {
        part_number,
        size: i64::try_from(written.size).map_err(|_| SbgError::PartUrlInvalid)?,
        etag: written.sha256.clone(),
        reported: false,
    };
    let recording = upload_id.clone();
    db::write(&state.store, claim, move |conn| {
        if sbg_uploads::put_part(conn, &recording, &part)? {
            Ok(())
        } else {
            Err(SbgError::UploadNotFound)
        }
    })
    .await?;
    // Hashing ahead for the completion: a failure only means the completion hashes the file.
    let (store, digests, etag) = (
        state.store.clone(),
        state.upload_digests.clone(),
        written.sha256.clone(),
    );
    let hashed =
        web::block(move || digests.part_arrived(store.content(), &upload_id, plan, number, &etag))
            .await;
    if let Ok(Err(error)) = hashed {
        tracing::warn!(%error, "hashing an upload's part ahead failed");
    }
    Ok(HttpResponse::Ok()
        .insert_header(header::ETag(EntityTag::new_strong(written.sha256)))
        .finish())
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
struct PartReport {
    part_number: Value,
    #[serde(default)]
    response: ReportedResponse,
}

#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
struct ReportedResponse {
    #[serde(default)]
    headers: serde_json::Map<String, Value>,
}

/// `POST /upload/multipart/{upload_id}/part` with `{part_number, response: {headers: {ETag}}}`:
/// the client says a part is sent; its ETag must be the one the `PUT` answered.
#[utoipa::path(post, path = "/v2/upload/multipart/{upload_id}/part", tag = "sbg", params(("upload_id" = String, Path)), request_body = PartReport, responses((status = 204, description = "Reported")))]
async fn report_part(
    state: web::Data<AppState>,
    caller: SbgCaller,
    claim: RequestClaim,
    upload_id: web::Path<String>,
    body: web::Json<PartReport>,
) -> Result<HttpResponse, SbgError> {
    let body = body.into_inner();
    let raw_number = match &body.part_number {
        Value::Number(n) => n.to_string(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    let etag = body
        .response
        .headers
        .iter()
        .find(|(name, _)| name.eq_ignore_ascii_case("etag"))
        .and_then(|(_, value)| value.as_str())
        .map(|etag| etag.trim().trim_matches('"').to_ascii_lowercase())
        .unwrap_or_default();
    let user_id = caller.0.user.id;
    db::write(&state.store, claim, move |conn| {
        let (upload, _) =
            sbg_uploads::get(conn, user_id, &upload_id)?.ok_or(SbgError::UploadNotFound)?;
        let number = part_number(&upload.plan, &raw_number)?;
        let len = upload.plan.part_len(number).expect("the number is in the plan");
        let number = i32::try_from(number).map_err(|_| SbgError::UploadNotFound)?;
        if upload.store_upload_id.is_some() {
            // Sent to the bucket: the report is all Ferry hears of the part, and the
            // bucket checks its ETag on completion.
            if etag.is_empty() {
                return Err(SbgError::bad_request(format!(
                    "The report of part {number} has no ETag header."
                )));
            }
            let part = ReceivedPart {
                part_number: number,
                size: i64::try_from(len).map_err(|_| SbgError::UploadNotFound)?,
                etag,
                reported: true,
            };
            sbg_uploads::put_part(conn, &upload_id, &part)?;
            return Ok(());
        }
        match sbg_uploads::report_part(conn, &upload_id, number, &etag)? {
            None => Err(SbgError::bad_request(format!(
                "Part {number} has not been uploaded."
            ))),
            Some(part) if part.etag != etag => Err(SbgError::bad_request(format!(
                "The ETag reported for part {number} ({etag:?}) is not that of the bytes received ({:?}).",
                part.etag
            ))),
            Some(_) => Ok(()),
        }
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}

// Completing.

/// Why the parts received do not make the planned file, if they do not.
fn missing_parts(plan: &PartPlan, parts: &[ReceivedPart]) -> Option<String> {
    let reported: Vec<u32> = parts
        .iter()
        .filter(|part| part.reported)
        .filter_map(|part| u32::try_from(part.part_number).ok())
        .collect();
    let missing: Vec<String> = (1..=plan.parts())
        .filter(|n| !reported.contains(n))
        .take(10)
        .map(|n| n.to_string())
        .collect();
    (!missing.is_empty()).then(|| {
        format!(
            "The upload is not complete: part(s) {} of {} have not been uploaded and reported.",
            missing.join(", "),
            plan.parts()
        )
    })
}

/// What a completed upload's bytes became: content of the local store, hashed, or an object of
/// an S3 store, not yet hashed.
#[derive(Debug, Clone, Copy)]
enum UploadedContent<'a> {
    Hashed(&'a ContentInfo),
    Unhashed { key: &'a str, size: u64 },
}

/// The unit of work of a completion: the checks again, the new file over `content` (closed, or
/// closing until its checksums are known), the upload's deletion.
fn create_uploaded_file(
    conn: &mut DbConnection,
    user_id: i64,
    upload_id: &str,
    parts: &[ReceivedPart],
    content: UploadedContent<'_>,
) -> Result<FileView, SbgError> {
    let (upload, folder) = own_upload(conn, user_id, upload_id)?;
    if sbg_uploads::parts(conn, upload_id)? != parts {
        return Err(SbgError::PartResent);
    }
    let folder = writable_folder(conn, user_id, &FolderRef::Folder(folder.folder.sbg_id))?;
    if folders::lock(conn, &[folder.folder.id])?.is_empty() {
        return Err(SbgError::DestinationNotFound);
    }
    let replaced = replaced_placements(conn, &folder, &upload.name, upload.overwrite)?;
    files::delete_placements(conn, &replaced)?;
    let name = parse_file_name(upload.name.clone())?;
    let project_id = folder.folder.project_id;
    let (_, placement) = match content {
        UploadedContent::Hashed(info) => {
            files::create_closed_file(conn, user_id, project_id, &folder.folder, &name, info)?
        }
        UploadedContent::Unhashed { key, size } => {
            files::create_closing_file(conn, user_id, project_id, &folder.folder, &name, size, key)?
        }
    };
    sbg_uploads::delete(conn, upload_id)?;
    let ids = [placement.sbg_id];
    let (view, _) = sbg_views::files_by_sbg_ids(conn, user_id, &ids)?
        .pop()
        .ok_or(SbgError::FileNotFound)?;
    Ok(view)
}

/// `POST /upload/multipart/{upload_id}/complete`: the file, made of the parts.
#[utoipa::path(post, path = "/v2/upload/multipart/{upload_id}/complete", tag = "sbg", params(("upload_id" = String, Path)), responses((status = 200, description = "The new file")))]
async fn complete(
    state: web::Data<AppState>,
    caller: SbgCaller,
    claim: RequestClaim,
    upload_id: web::Path<String>,
) -> Result<HttpResponse, SbgError> {
    let user_id = caller.0.user.id;
    let digests = state.upload_digests.clone();
    let view = db::blocking(&state.store, move |store| {
        let (upload, parts) = store.read(|conn| -> Result<_, SbgError> {
            let (upload, _) = own_upload(conn, user_id, &upload_id)?;
            Ok((upload, sbg_uploads::parts(conn, &upload_id)?))
        })?;
        if let Some(reason) = missing_parts(&upload.plan, &parts) {
            return Err(SbgError::bad_request(reason));
        }
        let create = |content: UploadedContent<'_>| {
            store.write(claim.get(), |conn| {
                create_uploaded_file(conn, user_id, &upload_id, &parts, content)
            })
        };
        if let Some(store_upload_id) = &upload.store_upload_id {
            let etags: Vec<String> = parts.iter().map(|part| part.etag.clone()).collect();
            let (key, size) = store
                .content()
                .complete_remote_upload(&upload_id, store_upload_id, &etags)
                .map_err(|e| match e.kind() {
                    io::ErrorKind::Other | io::ErrorKind::InvalidData => SbgError::bad_request(
                        format!("The object store refused the parts as reported: {e}"),
                    ),
                    _ => StoreError::from(e).into(),
                })?;
            if size != upload.plan.size() {
                return Err(SbgError::bad_request(format!(
                    "The parts sent make {size} bytes; the upload was started for {}.",
                    upload.plan.size()
                )));
            }
            // The checksums come later, from a job worker (ferry_store::content_hashing).
            let content = UploadedContent::Unhashed { key: &key, size };
            return create(content);
        }
        // Sealed and hashed before the write transaction, so that a large file does not hold
        // the write lock; parts being written are waited for, later ones refused, and a part
        // sent again meanwhile is noticed below.
        let sealed = store
            .content()
            .seal_upload(&upload_id, || {
                let etags: Vec<String> = parts.iter().map(|part| part.etag.clone()).collect();
                digests.take(&upload_id, &etags)
            })
            .map_err(|e| match e.kind() {
                io::ErrorKind::NotFound => SbgError::UploadBeingCompleted,
                _ => StoreError::from(e).into(),
            })?;
        let created = if sealed.info().size == upload.plan.size() {
            let content = UploadedContent::Hashed(sealed.info());
            create(content)
        } else {
            tracing::error!(upload = %upload_id, "an upload's file has the wrong size");
            Err(SbgError::Internal)
        };
        match created {
            // Stored after the commit: a crash between leaves the file sealed, and the
            // collector stores it then.
            Ok(view) => {
                sealed.store().map_err(StoreError::from)?;
                Ok(view)
            }
            Err(e) => {
                sealed.unseal().map_err(StoreError::from)?;
                Err(e)
            }
        }
    })
    .await?;
    Ok(HttpResponse::Ok().json(render_file(&state, &view)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn part(number: i32, reported: bool) -> ReceivedPart {
        ReceivedPart {
            part_number: number,
            size: 1,
            etag: String::new(),
            reported,
        }
    }

    #[test]
    fn completing_needs_every_part_reported() {
        let plan = PartPlan::new(12 * 1024 * 1024, Some(5 * 1024 * 1024)).unwrap();
        assert_eq!(
            missing_parts(&plan, &[part(1, true), part(2, true), part(3, true)]),
            None
        );
        let reason = missing_parts(&plan, &[part(1, true), part(3, false)]).unwrap();
        assert!(reason.contains("part(s) 2, 3 of 3"), "{reason}");
        let empty = PartPlan::new(0, None).unwrap();
        assert!(
            missing_parts(&empty, &[])
                .unwrap()
                .contains("part(s) 1 of 1")
        );
        assert!(part_number(&plan, "0").is_err());
        assert!(part_number(&plan, "4").is_err());
        assert!(part_number(&plan, "x").is_err());
        assert_eq!(part_number(&plan, "3").unwrap(), 3);
    }
}
