//! Starting an SBG multipart upload: `POST /upload/multipart`.

use super::*;
use ferry_domain::row_ids::{PlacementRowId, UserRowId};

// Starting.

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub(crate) struct StartBody {
    project: Option<String>,
    parent: Option<String>,
    name: Option<String>,
    size: Option<u64>,
    part_size: Option<u64>,
}

/// `?overwrite=true` (the SDK sends Python's `True`).
pub(super) fn overwrite_wanted(req: &HttpRequest) -> Result<bool, SbgError> {
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
pub(super) fn writable_folder(
    conn: &mut DbConnection,
    user_id: UserRowId,
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
pub(super) fn replaced_placements(
    conn: &mut DbConnection,
    folder: &FolderView,
    name: &str,
    overwrite: bool,
) -> Result<Vec<PlacementRowId>, SbgError> {
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
pub(crate) async fn start(
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
