//! Creating a folder: `POST /files` with `type: folder`.

use super::*;
use ferry_domain::name::folder_name_refusal;

// Folder creation.

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub(crate) struct CreateFolderBody {
    name: Option<String>,
    #[serde(rename = "type")]
    kind: Option<String>,
    project: Option<String>,
    parent: Option<String>,
}

/// A folder name as SBG allows it: 1 to 255 of `[A-Za-z0-9_.-]`, not starting with `__`, and
/// not `.` or `..`.
pub(crate) fn parse_folder_name(raw: Option<String>) -> Result<FileName, SbgError> {
    let name = parse_file_name(raw.unwrap_or_default())?;
    match folder_name_refusal(&name) {
        Some(reason) => Err(SbgError::InvalidName(reason.into())),
        None => Ok(name),
    }
}

/// `POST /files` with `{"name", "type": "folder", "project" | "parent"}`: a new, empty folder.
#[utoipa::path(post, path = "/v2/files", tag = "sbg", request_body = CreateFolderBody, responses((status = 201, description = "The new folder")))]
pub(crate) async fn create_folder(
    state: web::Data<AppState>,
    caller: SbgCaller,
    claim: RequestClaim,
    body: web::Json<CreateFolderBody>,
) -> Result<HttpResponse, SbgError> {
    let body = body.into_inner();
    // Seven Bridges' own recipes send `FOLDER`.
    if !body
        .kind
        .as_deref()
        .is_some_and(|kind| kind.eq_ignore_ascii_case("folder"))
    {
        return Err(SbgError::InvalidType);
    }
    let target = destination_ref(body.project.as_deref(), body.parent.as_deref())?;
    let name = parse_folder_name(body.name)?;
    let user_id = caller.0.user.id;
    let created = db::write(&state.store, claim, move |conn| {
        let (parent, permissions) =
            resolve_folder(conn, user_id, &target, SbgError::DestinationNotFound)?;
        if !permissions.can_write() {
            return Err(SbgError::FileNotWritable);
        }
        let path = parent
            .folder
            .path
            .join(name.as_str())
            .map_err(|e| SbgError::InvalidName(e.to_string()))?;
        if folders::lock(conn, &[parent.folder.id])?.is_empty() {
            return Err(SbgError::DestinationNotFound);
        }
        let exists = || SbgError::FolderExists {
            name: name.to_string(),
        };
        let wanted = [(parent.folder.id, name.as_str())];
        if !folders::names_taken(conn, &wanted, &[])?.is_empty() {
            return Err(exists());
        }
        let folder = match folders::create_child(conn, &parent.folder, &path) {
            Err(StoreError::Conflict(_)) => return Err(exists()),
            created => created?,
        };
        Ok(FolderView {
            folder,
            project: parent.project,
            parent: Some(parent.folder.sbg_id),
        })
    })
    .await?;
    Ok(HttpResponse::Created().json(render_folder(&state, &created)))
}
