//! An upload's parts: each part's signed URL, its bytes, and the client's report of it.

use super::*;

// Parts.

/// What a part URL is signed for.
pub(super) fn part_message(upload_id: &str, part_number: u32, len: u64) -> String {
    format!("sbg-part\n{upload_id}\n{part_number}\n{len}")
}

/// `GET /upload/multipart/{upload_id}/part/{part_number}`: where and how to send the part.
#[utoipa::path(get, path = "/v2/upload/multipart/{upload_id}/part/{part_number}", tag = "sbg", params(("upload_id" = String, Path), ("part_number" = u32, Path)), responses((status = 200, description = "{url, method, expires, headers, ...}")))]
pub(crate) async fn part_url(
    state: web::Data<AppState>,
    caller: SbgCaller,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, SbgError> {
    let (upload_id, raw_number) = path.into_inner();
    let upload_id = parse_upload_id(&upload_id)?;
    let user_id = caller.0.user.id;
    let lookup = upload_id.clone();
    let upload = db::read(&state.store, move |conn| {
        upload::started_upload(conn, user_id, &lookup)
    })
    .await
    .map_err(SbgError::from)?;
    let number = upload::part_number(&upload.plan, &raw_number)?;
    let len = upload
        .plan
        .part_len(number)
        .expect("the number is in the plan");
    let store = state.store.clone();
    let (presigning, store_upload_id) = (upload_id.clone(), upload.store_upload_id.clone());
    let presigned = web::block(move || {
        store.content().upload_part_url(
            presigning.as_str(),
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
                signing::signature(key, &part_message(upload_id.as_str(), number, len), expires);
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
#[into_params(parameter_in = Query)]
pub(crate) struct PartQuery {
    expires: i64,
    signature: String,
}

/// `PUT /upload/multipart/{upload_id}/part/{part_number}/data?…`: the part's bytes, authorised
/// by the signed URL alone; answers the part's ETag.
#[utoipa::path(put, path = "/v2/upload/multipart/{upload_id}/part/{part_number}/data", tag = "sbg", params(("upload_id" = String, Path), ("part_number" = u32, Path), PartQuery), request_body = Vec<u8>, responses((status = 200, description = "Stored; the ETag header names the part")))]
pub(crate) async fn put_part(
    state: web::Data<AppState>,
    claim: RequestClaim,
    path: web::Path<(String, u32)>,
    query: LastValues<PartQuery>,
    payload: web::Payload,
) -> Result<HttpResponse, SbgError> {
    let (upload_id, number) = path.into_inner();
    let upload_id = parse_upload_id(&upload_id)?;
    let key = state.url_signing_key.get(&state.store).await?;
    // The length is not in the URL: the upload's plan says it, and the signature covers it.
    let lookup = upload_id.clone();
    let plan = db::read(&state.store, move |conn| {
        sbg_uploads::plan(conn, &lookup)?.ok_or(SbgError::UploadNotFound)
    })
    .await?;
    let len = plan.part_len(number).ok_or(SbgError::PartUrlInvalid)?;
    let now = Utc::now().timestamp();
    let message = part_message(upload_id.as_str(), number, len);
    if !signing::verify(key, &message, query.expires, &query.signature, now) {
        return Err(SbgError::PartUrlInvalid);
    }
    let stored_number = i32::try_from(number).map_err(|_| SbgError::PartUrlInvalid)?;
    let forgetting = upload_id.clone();
    // Not under the claim: only recording the part below is the request's outcome, and a
    // retry that finds the part forgotten sends it again.
    db::write(&state.store, RequestClaim::none(), move |conn| {
        sbg_uploads::forget_part(conn, forgetting.as_str(), stored_number)
    })
    .await?;
    let offset = u64::from(number - 1) * plan.part_size();
    let store = state.store.clone();
    let writing = upload_id.clone();
    let written = receive(payload, len, move || {
        store.content().part_writer(writing.as_str(), offset)
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
    let (recording, sent) = (upload_id.clone(), (written.size, written.sha256.clone()));
    db::write(&state.store, claim, move |conn| {
        upload::record_part(conn, &recording, &plan, number, sent)
    })
    .await
    .map_err(SbgError::from)?;
    // Hashing ahead for the completion: a failure only means the completion hashes the file.
    let (store, digests, etag) = (
        state.store.clone(),
        state.upload_digests.clone(),
        written.sha256.clone(),
    );
    let hashed = web::block(move || {
        digests.part_arrived(store.content(), upload_id.as_str(), plan, number, &etag)
    })
    .await;
    if let Ok(Err(error)) = hashed {
        tracing::warn!(%error, "hashing an upload's part ahead failed");
    }
    Ok(HttpResponse::Ok()
        .insert_header(header::ETag(EntityTag::new_strong(written.sha256)))
        .finish())
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub(crate) struct PartReport {
    part_number: Value,
    #[serde(default)]
    response: ReportedResponse,
}

#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
pub(crate) struct ReportedResponse {
    #[serde(default)]
    headers: serde_json::Map<String, Value>,
}

/// `POST /upload/multipart/{upload_id}/part` with `{part_number, response: {headers: {ETag}}}`:
/// the client says a part is sent; its ETag must be the one the `PUT` answered.
#[utoipa::path(post, path = "/v2/upload/multipart/{upload_id}/part", tag = "sbg", params(("upload_id" = String, Path)), request_body = PartReport, responses((status = 204, description = "Reported")))]
pub(crate) async fn report_part(
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
    let upload_id = parse_upload_id(&upload_id)?;
    let user_id = caller.0.user.id;
    db::write(&state.store, claim, move |conn| {
        upload::report_part(conn, user_id, &upload_id, &raw_number, etag)
    })
    .await
    .map_err(SbgError::from)?;
    Ok(HttpResponse::NoContent().finish())
}
