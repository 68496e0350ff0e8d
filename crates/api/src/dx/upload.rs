//! File bytes: `/file-xxxx/upload` hands out a URL for one part, `PUT` to it stores the part,
//! `close` concatenates the parts in index order; `/file-xxxx/download` hands out a URL that
//! `GET` serves, with `Range` support (dx-api.md §1.6, §8.2).
//!
//! The URLs carry no token: each is signed (HMAC-SHA256) for one file (and one part), with an
//! expiry, under a key kept in the database, so that every `ferry serve` process sharing it
//! accepts the URLs any of them signed, and restarts do not break them.

use actix_web::{HttpRequest, HttpResponse, web};
use chrono::Utc;
use ferry_domain::ids::{DxClass, DxId};
use ferry_domain::model::ObjectState;
use ferry_domain::row_ids::UserRowId;
use ferry_domain::upload::MIN_PART_SIZE;
use ferry_store::objects;
use ferry_store::uploads::UploadedPart;
use ferry_usecases::access::{ProjectHint, object_copy, require_download};
use ferry_usecases::open_file;
use serde::Deserialize;
use serde_json::{Value, json};

use super::input::parse;
use super::{Call, DxError, DxErrorType};
use crate::db::RequestClaim;
use crate::download::{self, Content};
use crate::receive::{ReceiveError, receive};
use crate::{AppState, db, signing};

/// The largest part: what one PUT may carry, held in memory while it is stored.
const MAX_PART_BYTES: u64 = 16 * 1024 * 1024;
const MAX_PARTS: u64 = 10_000;

/// How long an upload URL works, in seconds.
const UPLOAD_URL_SECONDS: i64 = 60 * 60;
/// How long a download URL works unless the caller asks for less or more (at most a week).
const DOWNLOAD_URL_SECONDS: i64 = 24 * 60 * 60;
const MAX_DOWNLOAD_URL_SECONDS: i64 = 7 * 24 * 60 * 60;

/// Where a download URL leads: the signature in the path and the name last, so that `wget URL`
/// and `curl -O` save the file under its name.
const DOWNLOAD_ROUTE: &str = "/download/{id}/{expires}/{signature}/{name}";

/// The two routes the URLs lead to: three segments and more, so that they never meet the two of
/// the method route `/{target}/{method}`.
pub(super) fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/upload/{id}/{index}", web::put().to(put_part))
        .route(DOWNLOAD_ROUTE, web::get().to(download_bytes))
        .route(DOWNLOAD_ROUTE, web::head().to(download_bytes));
}

/// What dxpy reads before writing any file (`fileUploadParameters`): parts of 1 byte to 16 MiB,
/// and an empty last part allowed; with an S3 content store (`to_bucket`), parts but the last
/// of 5 MiB at least, as the bucket's multipart upload wants them.
pub(crate) fn upload_parameters(to_bucket: bool) -> Value {
    json!({
        "maximumPartSize": MAX_PART_BYTES,
        "minimumPartSize": if to_bucket { MIN_PART_SIZE } else { 1 },
        "maximumFileSize": MAX_PART_BYTES * MAX_PARTS,
        "maximumNumParts": MAX_PARTS,
        "emptyLastPartAllowed": true,
    })
}

/// What a URL is signed for.
enum Signed<'a> {
    Part {
        file: &'a DxId,
        index: u32,
        size: Option<u64>,
        md5: Option<&'a str>,
    },
    Download {
        file: &'a DxId,
    },
}

impl Signed<'_> {
    fn message(&self) -> String {
        match self {
            Signed::Part {
                file,
                index,
                size,
                md5,
            } => format!(
                "upload\n{file}\n{index}\n{}\n{}",
                size.map(|size| size.to_string()).unwrap_or_default(),
                md5.unwrap_or_default()
            ),
            Signed::Download { file } => format!("download\n{file}"),
        }
    }

    fn sign(&self, key: &[u8], expires: i64) -> String {
        signing::signature(key, &self.message(), expires)
    }

    /// Whether `signature` was made by `key` for this, and `expires` (unix seconds) is ahead.
    fn verify(&self, key: &[u8], expires: i64, signature: &str) -> bool {
        signing::verify(
            key,
            &self.message(),
            expires,
            signature,
            Utc::now().timestamp(),
        )
    }
}

fn invalid_url() -> DxError {
    DxError::permission_denied("The URL is invalid or has expired")
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
struct UploadInput {
    #[serde(default = "first_part")]
    index: u32,
    size: Option<u64>,
    md5: Option<String>,
}

fn first_part() -> u32 {
    1
}

/// `/file-xxxx/upload`: `{url, headers, expires}` for one part of an open file; UPLOAD.
#[utoipa::path(post, path = "/file-{file}/upload", tag = "dx", params(("file" = String, Path, description = "The 24 characters after file-; every data object class (record-, applet-, workflow-) takes the same methods")), request_body = UploadInput, responses((status = 200, description = "{url, headers, expires}")))]
pub(crate) async fn upload(state: &AppState, call: Call, id: DxId) -> Result<Value, DxError> {
    let input: UploadInput = parse(call.input)?;
    if !(1..=MAX_PARTS).contains(&u64::from(input.index)) {
        return Err(DxError::invalid_input(format!(
            "index must be between 1 and {MAX_PARTS}"
        )));
    }
    if input.size.is_some_and(|size| size > MAX_PART_BYTES) {
        return Err(DxError::invalid_input(format!(
            "a part is at most {MAX_PART_BYTES} bytes"
        )));
    }
    let md5 = input.md5.map(|md5| md5.to_ascii_lowercase());
    if md5
        .as_deref()
        .is_some_and(|md5| md5.len() != 32 || !md5.bytes().all(|b| b.is_ascii_hexdigit()))
    {
        return Err(DxError::invalid_input("md5 must be 32 hex digits"));
    }
    let user_id = call.caller.user.id;
    let file = id.clone();
    if state.store.content().is_remote() {
        let part = (input.index, input.size, md5);
        return bucket_part_url(state, call.claim, user_id, file, part).await;
    }
    db::read(&state.store, move |conn| -> Result<(), DxError> {
        open_file::writable_open_file(conn, user_id, &file)?;
        Ok(())
    })
    .await?;
    let key = state.url_signing_key.get(&state.store).await?;
    let expires = Utc::now().timestamp() + UPLOAD_URL_SECONDS;
    let signed = Signed::Part {
        file: &id,
        index: input.index,
        size: input.size,
        md5: md5.as_deref(),
    };
    let mut query = form_urlencoded::Serializer::new(String::new());
    query.append_pair("expires", &expires.to_string());
    if let Some(size) = input.size {
        query.append_pair("size", &size.to_string());
    }
    if let Some(md5) = &md5 {
        query.append_pair("md5", md5);
    }
    query.append_pair("signature", &signed.sign(key, expires));
    let url = format!(
        "{}/upload/{id}/{}?{}",
        state.config.public_url,
        input.index,
        query.finish()
    );
    Ok(json!({
        "url": url,
        "headers": {"content-type": "application/octet-stream"},
        "expires": expires * 1000,
    }))
}

/// With an S3 content store: the bucket's presigned URL for part `index`, the part recorded
/// ([`open_file::record_bucket_part`]).
async fn bucket_part_url(
    state: &AppState,
    claim: RequestClaim,
    user_id: UserRowId,
    file: DxId,
    (index, size, md5): (u32, Option<u64>, Option<String>),
) -> Result<Value, DxError> {
    let store = state.store.clone();
    let expires = std::time::Duration::from_secs(UPLOAD_URL_SECONDS.unsigned_abs());
    let announced = size.zip(md5);
    let url = db::write(&state.store, claim, move |conn| {
        open_file::record_bucket_part(&store, conn, user_id, &file, (index, announced), expires)
    })
    .await
    .map_err(DxError::from)?;
    let expires = Utc::now().timestamp() + UPLOAD_URL_SECONDS;
    Ok(json!({"url": url, "headers": {}, "expires": expires * 1000}))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct PartQuery {
    expires: i64,
    size: Option<u64>,
    md5: Option<String>,
    signature: String,
}

/// `PUT /upload/{file-id}/{index}?…`: stores one part of an open file, authorised by the
/// signed URL alone. The same part sent again replaces the first.
#[utoipa::path(put, path = "/upload/{id}/{index}", tag = "dx", params(("id" = String, Path, description = "The file id"), ("index" = u32, Path), PartQuery), request_body = Vec<u8>, responses((status = 200, description = "Stored")))]
async fn put_part(
    state: web::Data<AppState>,
    claim: RequestClaim,
    path: web::Path<(String, u32)>,
    query: web::Query<PartQuery>,
    payload: web::Payload,
) -> Result<HttpResponse, DxError> {
    let (file, index) = path.into_inner();
    let query = query.into_inner();
    let file = DxId::parse(&file).map_err(|_| invalid_url())?;
    let key = state.url_signing_key.get(&state.store).await?;
    let signed = Signed::Part {
        file: &file,
        index,
        size: query.size,
        md5: query.md5.as_deref(),
    };
    if !signed.verify(key, query.expires, &query.signature) {
        return Err(invalid_url());
    }
    let limit = query.size.unwrap_or(MAX_PART_BYTES).min(MAX_PART_BYTES);
    let store = state.store.clone();
    let content = receive(payload, limit, move || store.content().writer())
        .await
        .map_err(|e| match e {
            ReceiveError::TooLong { .. } if query.size.is_some() => {
                DxError::invalid_input("The part has more bytes than the size announced")
            }
            ReceiveError::TooLong { limit } => DxError::new(
                DxErrorType::PayloadTooLarge,
                format!("A part is at most {limit} bytes"),
            ),
            ReceiveError::Read(e) => {
                DxError::invalid_input(format!("The part could not be read: {e}"))
            }
            ReceiveError::Store(e) => e.into(),
        })?;
    if query.size.is_some_and(|size| size != content.size) {
        return Err(DxError::invalid_input(format!(
            "The part has {} bytes, not the size announced",
            content.size
        )));
    }
    if query.md5.as_deref().is_some_and(|md5| md5 != content.md5) {
        return Err(DxError::invalid_input(
            "The part's MD5 is not the one announced",
        ));
    }
    let part = UploadedPart {
        index: open_file::part_index(index)?,
        size: i64::try_from(content.size).map_err(|_| invalid_url())?,
        md5: content.md5,
        content_sha256: Some(content.sha256),
    };
    db::write(&state.store, claim, move |conn| {
        open_file::record_part(conn, &file, &part)
    })
    .await
    .map_err(DxError::from)?;
    Ok(HttpResponse::Ok().json(json!({})))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
struct DownloadInput {
    #[schema(value_type = Option<String>)]
    project: Option<DxId>,
    duration: Option<i64>,
}

/// `/file-xxxx/download`: `{url, headers, expires}` for a closed file; with `project`, only
/// the copy in that project will do.
#[utoipa::path(post, path = "/file-{file}/download", tag = "dx", params(("file" = String, Path, description = "The 24 characters after file-; every data object class (record-, applet-, workflow-) takes the same methods")), request_body = DownloadInput, responses((status = 200, description = "{url, headers, expires}")))]
pub(crate) async fn download(state: &AppState, call: Call, id: DxId) -> Result<Value, DxError> {
    let input: DownloadInput = parse(call.input)?;
    let seconds = input
        .duration
        .unwrap_or(DOWNLOAD_URL_SECONDS)
        .clamp(1, MAX_DOWNLOAD_URL_SECONDS);
    let user_id = call.caller.user.id;
    let file = id.clone();
    let (name, sha256) = db::read(&state.store, move |conn| -> Result<_, DxError> {
        let copy = object_copy(
            conn,
            user_id,
            &file,
            ProjectHint::Exactly(input.project.as_ref()),
        )?;
        if copy.object.state != ObjectState::Closed {
            return Err(DxError::invalid_state(format!(
                "{file} is not in the closed state"
            )));
        }
        require_download(conn, copy.placement.project_id)?;
        Ok((copy.placement.name, copy.object.content_sha256))
    })
    .await?;
    let expires = Utc::now().timestamp() + seconds;
    if let Some(url) =
        download::store_url(&state.store, sha256, None, name.clone(), seconds).await?
    {
        return Ok(json!({"url": url, "headers": {}, "expires": expires * 1000}));
    }
    let key = state.url_signing_key.get(&state.store).await?;
    let signature = Signed::Download { file: &id }.sign(key, expires);
    let name: String = form_urlencoded::byte_serialize(name.as_bytes()).collect();
    let url = format!(
        "{}/download/{id}/{expires}/{signature}/{name}",
        state.config.public_url
    );
    Ok(json!({"url": url, "headers": {}, "expires": expires * 1000}))
}

/// `GET` (or `HEAD`) `/download/{file-id}/{expires}/{signature}/{name}`: the file's bytes,
/// authorised by the signed URL alone, served by [`download::serve`] (ranges included).
#[utoipa::path(get, path = "/download/{id}/{expires}/{signature}/{name}", tag = "dx", params(("id" = String, Path, description = "The file id"), ("expires" = i64, Path, description = "Unix seconds"), ("signature" = String, Path), ("name" = String, Path)), responses((status = 200, description = "The bytes")))]
async fn download_bytes(
    state: web::Data<AppState>,
    path: web::Path<(String, i64, String, String)>,
    req: HttpRequest,
) -> Result<HttpResponse, DxError> {
    let (file, expires, signature, name) = path.into_inner();
    let file = DxId::parse(&file).map_err(|_| invalid_url())?;
    let key = state.url_signing_key.get(&state.store).await?;
    if file.class() != DxClass::File
        || !(Signed::Download { file: &file }).verify(key, expires, &signature)
    {
        return Err(invalid_url());
    }
    let object = db::read(&state.store, move |conn| -> Result<_, DxError> {
        objects::get(conn, &file)?.ok_or_else(|| DxError::entity_not_found(&file))
    })
    .await?;
    let sha256 = object
        .content_sha256
        .ok_or_else(|| DxError::invalid_state(format!("{} has no content yet", object.dx_id)))?;
    let size = u64::try_from(object.size).unwrap_or_default();
    let content = Content { sha256, size, name };
    Ok(download::serve(&state.store, &req, content).await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_bind_the_file_the_part_and_the_expiry() {
        let key = [7u8; 32];
        let file = DxId::generate(DxClass::File);
        let part = |index, md5| Signed::Part {
            file: &file,
            index,
            size: Some(12),
            md5,
        };
        let expires = Utc::now().timestamp() + 60;
        let signature = part(1, Some("aa")).sign(&key, expires);
        assert!(part(1, Some("aa")).verify(&key, expires, &signature));
        assert!(
            !part(2, Some("aa")).verify(&key, expires, &signature),
            "another part"
        );
        assert!(
            !part(1, Some("bb")).verify(&key, expires, &signature),
            "another md5"
        );
        assert!(
            !part(1, Some("aa")).verify(&key, expires + 1, &signature),
            "another expiry"
        );
        assert!(
            !part(1, Some("aa")).verify(&[8u8; 32], expires, &signature),
            "another key"
        );
        let download = Signed::Download { file: &file };
        assert!(
            !download.verify(&key, expires, &signature),
            "an upload is no download"
        );
        let past = Utc::now().timestamp() - 1;
        let stale = download.sign(&key, past);
        assert!(!download.verify(&key, past, &stale), "expired");
    }
}
