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
