//! Completing an upload: every part checked, the file created over the bytes.

use super::*;

/// `POST /upload/multipart/{upload_id}/complete`: the file, made of the parts.
#[utoipa::path(post, path = "/v2/upload/multipart/{upload_id}/complete", tag = "sbg", params(("upload_id" = String, Path)), responses((status = 200, description = "The new file")))]
pub(crate) async fn complete(
    state: web::Data<AppState>,
    caller: SbgCaller,
    claim: RequestClaim,
    upload_id: web::Path<String>,
) -> Result<HttpResponse, SbgError> {
    let upload_id = parse_upload_id(&upload_id)?;
    let user_id = caller.0.user.id;
    let digests = state.upload_digests.clone();
    let view = db::blocking(&state.store, move |store| {
        upload::complete(store, claim.get(), user_id, &upload_id, &digests)
    })
    .await
    .map_err(SbgError::from)?;
    Ok(HttpResponse::Ok().json(render_file(&state, &view)))
}
