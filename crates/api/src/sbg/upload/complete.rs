//! Completing an upload: every part checked, the file created over the bytes.

use super::*;
use ferry_domain::row_ids::UserRowId;

// Completing.

/// Why the parts received do not make the planned file, if they do not.
pub(super) fn missing_parts(plan: &PartPlan, parts: &[ReceivedPart]) -> Option<String> {
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
pub(super) enum UploadedContent<'a> {
    Hashed(&'a ContentInfo),
    Unhashed { key: &'a str, size: u64 },
}

/// The unit of work of a completion: the checks again, the new file over `content` (closed, or
/// closing until its checksums are known), the upload's deletion.
pub(super) fn create_uploaded_file(
    conn: &mut DbConnection,
    user_id: UserRowId,
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
pub(crate) async fn complete(
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
