//! Starting an SBG multipart upload: `POST /upload/multipart`.

use super::*;
use ferry_domain::upload::PartPlan;
use ferry_usecases::upload::NewUpload;

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
        .filter(|(key, _)| key == "overwrite")
        .last()
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
    let target = destination_ref(body.project.as_deref(), body.parent.as_deref())?;
    let name = parse_file_name(body.name.unwrap_or_default())?;
    let size = body
        .size
        .ok_or_else(|| SbgError::bad_request("size is required: the file's length in bytes."))?;
    let plan =
        PartPlan::new(size, body.part_size).map_err(|e| SbgError::bad_request(e.to_string()))?;
    let new = NewUpload {
        user_id: caller.0.user.id,
        target,
        name,
        plan,
        overwrite,
    };
    let (upload, folder) = db::blocking(&state.store, move |store| {
        upload::start(store, claim.get(), new)
    })
    .await
    .map_err(SbgError::from)?;
    Ok(HttpResponse::Created().json(render_upload(&state, &upload, &folder)))
}
