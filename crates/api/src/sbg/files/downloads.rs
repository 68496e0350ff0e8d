//! A file's download link and the download it signs.

use super::*;
use ferry_usecases::access::require_download;
use ferry_usecases::failure::Failure;

// Downloads.

/// How long a download link works.
pub(super) const DOWNLOAD_LINK_SECONDS: i64 = 60 * 60;

/// Signs download links: an HMAC-SHA256 over the file id and the link's expiry, under the key
/// every process shares (`crate::signing`).
pub(super) struct DownloadKey<'a>(pub(super) &'a [u8]);

impl DownloadKey<'_> {
    /// `<expiry, unix seconds>.<hex signature>`.
    pub(super) fn sign(&self, id: &SbgId, expires: i64) -> String {
        format!(
            "{expires}.{}",
            signing::signature(self.0, id.as_str(), expires)
        )
    }

    /// Whether `token` was signed for `id` by this key and has not expired at `now`.
    pub(super) fn verify(&self, id: &SbgId, token: &str, now: i64) -> bool {
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
pub(crate) async fn download_info(
    state: web::Data<AppState>,
    caller: SbgCaller,
    id: web::Path<String>,
) -> Result<HttpResponse, SbgError> {
    let id = parse_file_id(&id)?;
    let view = match load_entry(&state, &caller, id.clone()).await? {
        Entry::Folder(_) => return Err(SbgError::bad_request("A folder cannot be downloaded.")),
        Entry::File(view) => view,
    };
    let project_id = view.placement.project_id;
    db::read(&state.store, move |conn| {
        require_download(conn, project_id).map_err(|e| match e {
            Failure::Refused(_) => SbgError::DownloadRestricted,
            Failure::Store(e) => e.into(),
        })
    })
    .await?;
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
pub(crate) async fn download(
    state: web::Data<AppState>,
    id: web::Path<String>,
    req: HttpRequest,
) -> Result<HttpResponse, SbgError> {
    let token = form_urlencoded::parse(req.query_string().as_bytes())
        .filter(|(key, _)| key == "token")
        .last()
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
