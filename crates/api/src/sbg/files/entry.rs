//! One file or folder: reading it, changing its name, tags and metadata, deleting it.

use super::*;

// One file or folder.

/// The file or folder, if the caller can see it.
pub(crate) async fn load_entry(
    state: &AppState,
    caller: &SbgCaller,
    id: SbgId,
) -> Result<Entry, SbgError> {
    let user_id = caller.0.user.id;
    db::read(&state.store, move |conn| {
        let mut found = load_entries(conn, user_id, std::slice::from_ref(&id))?;
        found
            .remove(&id)
            .map(|(entry, _)| entry)
            .ok_or(SbgError::FileNotFound)
    })
    .await
}

#[utoipa::path(get, path = "/v2/files/{id}", tag = "sbg", params(("id" = String, Path, description = "A file or folder id")), responses((status = 200, description = "The file or folder")))]
pub(crate) async fn get(
    state: web::Data<AppState>,
    caller: SbgCaller,
    id: web::Path<String>,
) -> Result<HttpResponse, SbgError> {
    let entry = load_entry(&state, &caller, parse_file_id(&id)?).await?;
    Ok(HttpResponse::Ok().json(entry.render(&state)))
}

/// Applies one change and returns the file as it is now.
pub(crate) async fn change_one(
    state: &AppState,
    caller: &SbgCaller,
    claim: RequestClaim,
    id: &str,
    change: Result<FileChange, SbgError>,
) -> Result<FileView, SbgError> {
    let item = parse_file_id(id).and_then(|id| change.map(|change| (id, change)));
    let user_id = caller.0.user.id;
    let mut results = db::write(&state.store, claim, move |conn| {
        change_files(conn, user_id, vec![item])
    })
    .await?;
    results.pop().unwrap_or(Err(SbgError::FileNotFound))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub(crate) struct UpdateBody {
    name: Option<String>,
    tags: Option<Vec<String>>,
    metadata: Option<Map<String, Value>>,
}

/// `PATCH /files/{id}`: sets the fields given; `metadata` replaces the whole metadata.
#[utoipa::path(patch, path = "/v2/files/{id}", tag = "sbg", params(("id" = String, Path, description = "A file or folder id")), request_body = UpdateBody, responses((status = 200, description = "The file as it is now")))]
pub(crate) async fn update(
    state: web::Data<AppState>,
    caller: SbgCaller,
    claim: RequestClaim,
    id: web::Path<String>,
    body: web::Json<UpdateBody>,
) -> Result<HttpResponse, SbgError> {
    let body = body.into_inner();
    let change = body
        .metadata
        .map_or(Ok(MetadataChange::Keep), MetadataChange::replace)
        .and_then(|metadata| FileChange::parse(body.name, body.tags, metadata));
    let view = change_one(&state, &caller, claim, &id, change).await?;
    Ok(HttpResponse::Ok().json(render_file(&state, &view)))
}

#[utoipa::path(delete, path = "/v2/files/{id}", tag = "sbg", params(("id" = String, Path, description = "A file or folder id")), responses((status = 204, description = "Deleted")))]
pub(crate) async fn delete(
    state: web::Data<AppState>,
    caller: SbgCaller,
    claim: RequestClaim,
    id: web::Path<String>,
) -> Result<HttpResponse, SbgError> {
    let item = parse_file_id(&id);
    let user_id = caller.0.user.id;
    let mut results = db::write(&state.store, claim, move |conn| {
        delete_entries(conn, user_id, vec![item])
    })
    .await?;
    results.pop().unwrap_or(Err(SbgError::FileNotFound))?;
    Ok(HttpResponse::NoContent().finish())
}

#[utoipa::path(get, path = "/v2/files/{id}/metadata", tag = "sbg", params(("id" = String, Path, description = "A file or folder id")), responses((status = 200, description = "The metadata")))]
pub(crate) async fn get_metadata(
    state: web::Data<AppState>,
    caller: SbgCaller,
    id: web::Path<String>,
) -> Result<HttpResponse, SbgError> {
    let metadata = match load_entry(&state, &caller, parse_file_id(&id)?).await? {
        Entry::File(view) => Value::Object(view.placement.metadata),
        Entry::Folder(_) => json!({}),
    };
    Ok(HttpResponse::Ok().json(metadata))
}

/// `PUT /files/{id}/metadata`: the body becomes the metadata; answers the result.
#[utoipa::path(put, path = "/v2/files/{id}/metadata", tag = "sbg", params(("id" = String, Path, description = "A file or folder id")), request_body = Object, responses((status = 200, description = "The metadata as it is now")))]
pub(crate) async fn replace_metadata(
    state: web::Data<AppState>,
    caller: SbgCaller,
    claim: RequestClaim,
    id: web::Path<String>,
    body: web::Json<Map<String, Value>>,
) -> Result<HttpResponse, SbgError> {
    let change = MetadataChange::replace(body.into_inner()).map(|metadata| FileChange {
        metadata,
        ..FileChange::default()
    });
    let view = change_one(&state, &caller, claim, &id, change).await?;
    Ok(HttpResponse::Ok().json(view.placement.metadata))
}

/// `PATCH /files/{id}/metadata`: the body's keys are set (a null removes one); answers the
/// result.
#[utoipa::path(patch, path = "/v2/files/{id}/metadata", tag = "sbg", params(("id" = String, Path, description = "A file or folder id")), request_body = Object, responses((status = 200, description = "The metadata as it is now")))]
pub(crate) async fn merge_metadata(
    state: web::Data<AppState>,
    caller: SbgCaller,
    claim: RequestClaim,
    id: web::Path<String>,
    body: web::Json<Map<String, Value>>,
) -> Result<HttpResponse, SbgError> {
    let change = MetadataChange::merge(body.into_inner()).map(|metadata| FileChange {
        metadata,
        ..FileChange::default()
    });
    let view = change_one(&state, &caller, claim, &id, change).await?;
    Ok(HttpResponse::Ok().json(view.placement.metadata))
}

/// `PUT /files/{id}/tags`: the body (an array) becomes the tags; answers them.
#[utoipa::path(put, path = "/v2/files/{id}/tags", tag = "sbg", params(("id" = String, Path, description = "A file or folder id")), request_body = Vec<String>, responses((status = 200, description = "The tags")))]
pub(crate) async fn replace_tags(
    state: web::Data<AppState>,
    caller: SbgCaller,
    claim: RequestClaim,
    id: web::Path<String>,
    body: web::Json<Vec<String>>,
) -> Result<HttpResponse, SbgError> {
    let change = FileChange::parse(None, Some(body.into_inner()), MetadataChange::Keep);
    let view = change_one(&state, &caller, claim, &id, change).await?;
    Ok(HttpResponse::Ok().json(view.placement.tags))
}
