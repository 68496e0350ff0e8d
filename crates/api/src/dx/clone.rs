//! `/project-xxxx/clone` (and `/container-xxxx/clone`), `/class-xxxx/listProjects` on data
//! objects, and `/project-xxxx/updateSponsorship`, as `shared/seeds/dnanexus-clone.txt` and
//! `shared/reference/dx-api.md` §6–7 say; the choices they leave open are in `docs/dx-clone.md`.
//!
//! The input is checked here (InvalidInput, InvalidType); everything that needs the database is
//! checked by the use case (`ferry_usecases::clone`) before its first write, in one transaction.

use chrono::{DateTime, Utc};
use ferry_domain::clone::{CloneRefusal, SponsorshipConflict, check_folder_names};
use ferry_domain::ids::DxId;
use ferry_domain::model::AuditOutcome;
use ferry_domain::path::FolderPath;
use ferry_domain::permission::Level;
use ferry_store::clone::projects_holding;
use ferry_store::sponsorship::{SponsorshipError, sponsor_project};
use ferry_usecases::access::container;
use ferry_usecases::clone::{CloneError, CloneRequest, clone_objects};
use serde::{Deserialize, Serialize, Serializer};
use serde_json::{Value, json};

use super::input::parse;
use super::{Answer, Call, DxError, DxErrorType};
use crate::{AppState, audit, db};

/// The clone input; unknown keys (`targetFileRelocation`, `includeHiddenLinks`) are ignored.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
struct CloneInput {
    #[serde(default)]
    objects: Vec<String>,
    #[serde(default)]
    folders: Vec<String>,
    project: Option<String>,
    destination: Option<String>,
    #[serde(default)]
    parents: bool,
}

/// A clone's input, checked.
#[derive(Debug)]
struct Checked {
    objects: Vec<String>,
    folders: Vec<FolderPath>,
    destination: DxId,
    folder: FolderPath,
    parents: bool,
}

/// Checks the input in the order of the seed's InvalidInput list, then InvalidType.
fn check(source: &DxId, input: Value) -> Result<Checked, DxError> {
    let input: CloneInput = parse(input)?;
    if input.objects.iter().any(String::is_empty) {
        return Err(DxError::invalid_input(
            "objects must be an array of nonempty strings",
        ));
    }
    if input.folders.iter().any(String::is_empty) {
        return Err(DxError::invalid_input(
            "folders must be an array of nonempty strings",
        ));
    }
    let folders = input
        .folders
        .iter()
        .map(|folder| {
            FolderPath::parse(folder)
                .map_err(|e| DxError::invalid_input(format!("folders: '{folder}': {e}")))
        })
        .collect::<Result<Vec<_>, _>>()?;
    check_folder_names(&folders).map_err(|refusal| refused(source, refusal))?;
    let project = input
        .project
        .filter(|project| !project.is_empty())
        .ok_or_else(|| DxError::invalid_input("project must be a nonempty string"))?;
    if project == source.as_str() {
        return Err(DxError::invalid_input(
            "project must differ from the source container",
        ));
    }
    let folder = match input.destination {
        None => FolderPath::root(),
        Some(destination) if destination.starts_with('/') => FolderPath::parse(&destination)
            .map_err(|e| DxError::invalid_input(format!("destination: {e}")))?,
        Some(_) => {
            return Err(DxError::invalid_input(
                "destination must be a nonempty string starting with '/'",
            ));
        }
    };
    let destination = DxId::parse(&project)
        .ok()
        .filter(|id| id.class().is_container())
        .ok_or_else(|| {
            DxError::new(
                DxErrorType::InvalidType,
                format!("project: {project} is not a container ID"),
            )
        })?;
    Ok(Checked {
        objects: input.objects,
        folders,
        destination,
        folder,
        parents: input.parents,
    })
}

/// `/{source}/clone` → `{"id": source, "project": destination, "exists": [...]}`, `exists`
/// sorted.
#[utoipa::path(post, path = "/project-{project}/clone", tag = "dx", params(("project" = String, Path, description = "The 24 characters after project-")), request_body = CloneInput, responses((status = 200, description = "The method's output")))]
pub(crate) async fn clone(state: &AppState, call: Call, source: DxId) -> Result<Value, DxError> {
    let checked = check(&source, call.input)?;
    let who = call.caller;
    db::write(&state.store, call.claim, move |conn| {
        let request = CloneRequest {
            user_id: who.user.id,
            source: &source,
            destination: &checked.destination,
            objects: &checked.objects,
            folders: &checked.folders,
            folder: &checked.folder,
            parents: checked.parents,
        };
        // The clone and its audit record commit together.
        match clone_objects(conn, &request) {
            Ok(cloned) => {
                let detail = json!({
                    "project": checked.destination,
                    "objects": checked.objects.len(),
                    "folders": checked.folders.len(),
                    "placed": cloned.placed,
                    "exists": cloned.exists.len(),
                });
                audit::record(
                    conn,
                    &who,
                    "dx.clone",
                    source.as_str(),
                    AuditOutcome::Ok,
                    detail,
                )?;
                Ok(json!({
                    "id": source,
                    "project": checked.destination,
                    "exists": cloned.exists,
                }))
            }
            Err(CloneError::Refused(refusal)) => Err(refused(&source, refusal)),
            Err(CloneError::Store(e)) => Err(e.into()),
        }
    })
    .await
}

/// The DNAnexus error for a refused clone.
fn refused(source: &DxId, refusal: CloneRefusal) -> DxError {
    let list = |items: &mut dyn Iterator<Item = String>| items.collect::<Vec<_>>().join(", ");
    match refusal {
        CloneRefusal::FolderNameTwice(name) => DxError::invalid_input(format!(
            "Two of the folders in folders have the same name but different paths: '{name}'"
        )),
        CloneRefusal::TargetPathInvalid(e) => {
            DxError::invalid_input(format!("A cloned folder's path would be invalid: {e}"))
        }
        CloneRefusal::SourceNotFound => DxError::entity_not_found(source),
        CloneRefusal::DestinationNotFound => {
            DxError::resource_not_found("The container specified in project could not be found")
        }
        CloneRefusal::ObjectsNotInSource(ids) => DxError::resource_not_found(format!(
            "These objects could not be found in {source}: {}",
            list(&mut ids.into_iter())
        )),
        CloneRefusal::FoldersNotInSource(paths) => DxError::resource_not_found(format!(
            "These folders could not be found in {source}: {}",
            list(&mut paths.iter().map(ToString::to_string))
        )),
        CloneRefusal::DestinationFolderNotFound(path) => DxError::resource_not_found(format!(
            "The folder {path} could not be found in the destination container"
        )),
        CloneRefusal::SourceNotViewable => DxError::permission_denied(format!(
            "VIEW access is required in {source} to clone from it"
        )),
        CloneRefusal::DestinationNotWritable => {
            DxError::permission_denied("UPLOAD access is required in the destination container")
        }
        CloneRefusal::SourceRestricted => DxError::permission_denied(format!(
            "{source} has the RESTRICTED flag set: its data cannot be cloned out"
        )),
        CloneRefusal::PhiIntoNonPhi => DxError::permission_denied(format!(
            "{source} contains PHI: its data can only be cloned into projects with containsPHI set"
        )),
        CloneRefusal::DifferentRegions => DxError::permission_denied(
            "The source and destination containers must have the same region",
        ),
        CloneRefusal::NotClosed(ids) => DxError::invalid_state(format!(
            "These objects are not in the \"closed\" state: {}",
            list(&mut ids.iter().map(ToString::to_string))
        )),
        CloneRefusal::FolderConflict(_) => DxError::invalid_state(
            "If cloned, a folder would conflict with the route of an existing folder.",
        ),
        CloneRefusal::Sponsorship(conflict) => sponsorship_refused(conflict),
        CloneRefusal::SpendingLimitReached(bill_to) => DxError::new(
            DxErrorType::SpendingLimitExceeded,
            format!(
                "{bill_to}, the billTo of the destination project, has reached its spending limit"
            ),
        ),
    }
}

/// InvalidState for objects that already have a sponsor; those third-party sponsored elsewhere
/// are listed in `details.alreadySponsored`, as the seed says.
fn sponsorship_refused(conflict: SponsorshipConflict) -> DxError {
    match conflict {
        SponsorshipConflict::OperatorSponsored(ids) => DxError::invalid_state(format!(
            "The destination project is third-party sponsored and these objects are \
             sponsored by the platform: {}",
            ids.iter().map(DxId::as_str).collect::<Vec<_>>().join(", ")
        )),
        SponsorshipConflict::AlreadySponsored(pairs) => {
            let already: Vec<Value> = pairs
                .iter()
                .map(|(id, project)| json!({"id": id, "project": project}))
                .collect();
            DxError::invalid_state(
                "The destination project is third-party sponsored and some objects are \
                 already third-party sponsored in another project",
            )
            .with_details(json!({ "alreadySponsored": already }))
        }
    }
}

/// `/{object}/listProjects` → `{"project-…": "LEVEL", …}`: the caller's projects holding the
/// object, with the caller's level. ResourceNotFound if the caller sees none.
#[utoipa::path(post, path = "/file-{file}/listProjects", tag = "dx", params(("file" = String, Path, description = "The 24 characters after file-; every data object class (record-, applet-, workflow-) takes the same methods")), responses((status = 200, description = "The method's output")))]
pub(crate) async fn list_projects(
    state: &AppState,
    call: Call,
    object: DxId,
) -> Result<Answer, DxError> {
    let user_id = call.caller.user.id;
    db::read(&state.store, move |conn| {
        let holding = projects_holding(conn, user_id, &object)?;
        if holding.is_empty() {
            return Err(DxError::entity_not_found(&object));
        }
        Ok(Answer::Rendered(render_levels(&holding)))
    })
    .await
}

/// `{"project-…": "LEVEL", …}` in the rows' order (a JSON object's order means nothing),
/// serialised from the rows themselves: an object in 10,000 projects would otherwise cost
/// 10,000 map entries of two `String`s each, built, serialised and dropped.
fn render_levels(holding: &[(DxId, Level)]) -> String {
    struct Levels<'a>(&'a [(DxId, Level)]);
    impl Serialize for Levels<'_> {
        fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
            serializer.collect_map(
                self.0
                    .iter()
                    .map(|(project, level)| (project.as_str(), level.as_str())),
            )
        }
    }
    serde_json::to_string(&Levels(holding)).expect("a map of strings serialises")
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
struct SponsorshipInput {
    /// Milliseconds since the epoch; `null` ends the sponsorship.
    sponsored_until: Option<i64>,
}

/// `/{project}/updateSponsorship {"sponsoredUntil": ms | null}` → `{"id"}`: a third party
/// sponsors the project's objects until then. Needs ADMINISTER; refused (InvalidState) while an
/// object of the project has another sponsor.
#[utoipa::path(post, path = "/project-{project}/updateSponsorship", tag = "dx", params(("project" = String, Path, description = "The 24 characters after project-")), request_body = SponsorshipInput, responses((status = 200, description = "The method's output")))]
pub(crate) async fn update_sponsorship(
    state: &AppState,
    call: Call,
    project: DxId,
) -> Result<Value, DxError> {
    let input: SponsorshipInput = parse(call.input)?;
    let until = input
        .sponsored_until
        .map(|ms| {
            DateTime::<Utc>::from_timestamp_millis(ms)
                .ok_or_else(|| DxError::invalid_input("sponsoredUntil is out of range"))
        })
        .transpose()?;
    let user_id = call.caller.user.id;
    db::write(&state.store, call.claim, move |conn| {
        let found = container(conn, user_id, &project, Level::Administer)?;
        match sponsor_project(conn, found.project.id, until) {
            Ok(()) => Ok(json!({ "id": project })),
            Err(SponsorshipError::Conflict(conflict)) => Err(sponsorship_refused(conflict)),
            Err(SponsorshipError::Store(e)) => Err(e.into()),
        }
    })
    .await
}
