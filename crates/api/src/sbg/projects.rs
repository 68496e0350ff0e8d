//! Projects: list (`GET /projects`, `/projects/`, `/projects/{owner}`), create, get, update and
//! delete (`/projects/{owner}/{slug}`).
//!
//! A caller sees the projects they are a member of; any other answers 404 (3002) exactly like
//! a missing one, so that a project's existence is never revealed. Changing or deleting a
//! project takes ADMINISTER (else 403, 3001).

use super::listing::{PageQuery, envelope};
use super::query::LastValues;
use super::{SbgCaller, SbgError, billing, href, resource, timestamp, visible_project};
use crate::db::RequestClaim;
use crate::{AppState, db};
use actix_web::{HttpResponse, web};
use ferry_domain::DomainError;
use ferry_domain::ids::{SbgProjectId, Slug, Username};
use ferry_domain::model::{BillingGroup, User};
use ferry_domain::row_ids::UserRowId;
use ferry_domain::text::{self, ProjectName};
use ferry_store::projects::{NewProject, ProjectChanges, ProjectFilter, VisibleProject};
use ferry_store::{DbConnection, billing as billing_repo, projects};
use serde::Deserialize;
use serde_json::{Map, Value, json};

pub(crate) fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(
        resource(&["/projects", "/projects/"])
            .get(list)
            .post(create),
    )
    .service(resource(&["/projects/{owner}"]).get(list_owned))
    .service(
        resource(&["/projects/{owner}/{slug}"])
            .get(get)
            .patch(update)
            .delete(delete),
    );
}

/// The project `id` names, for a change by the user: locked for the rest of the transaction
/// (see [`projects::lock`]), 404 (3002) unless they are a member and 403 (3001) unless they
/// administer it.
pub(super) fn administered_project(
    conn: &mut DbConnection,
    user_id: UserRowId,
    id: &SbgProjectId,
) -> Result<VisibleProject, SbgError> {
    projects::lock(conn, id)?;
    let visible = visible_project(conn, user_id, id)?;
    if !visible.permissions.can_admin() {
        return Err(SbgError::NotProjectAdmin);
    }
    Ok(visible)
}

/// The project id of a `/projects/{owner}/{slug}` path; 400 (3012) if it is not one.
pub(super) fn project_id(owner: &str, slug: &str) -> Result<SbgProjectId, SbgError> {
    let malformed = |e: DomainError| SbgError::MalformedProjectIdPart(e.to_string());
    let owner = Username::parse(owner).map_err(malformed)?;
    let slug = Slug::parse(slug).map_err(malformed)?;
    Ok(SbgProjectId::new(owner, slug))
}

/// The exact-name filter of a project list.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct NameQuery {
    name: Option<String>,
}

#[utoipa::path(get, path = "/v2/projects", tag = "sbg", params(PageQuery, NameQuery), responses((status = 200, description = "The caller's projects")))]
async fn list(
    state: web::Data<AppState>,
    caller: SbgCaller,
    page: LastValues<PageQuery>,
    name: LastValues<NameQuery>,
) -> Result<HttpResponse, SbgError> {
    list_page(state, caller, None, page.into_inner(), name.into_inner()).await
}

#[utoipa::path(get, path = "/v2/projects/{owner}", tag = "sbg", params(("owner" = String, Path), ("offset" = Option<i64>, Query), ("limit" = Option<i64>, Query), NameQuery), responses((status = 200, description = "The caller's projects of that owner")))]
async fn list_owned(
    state: web::Data<AppState>,
    caller: SbgCaller,
    owner: web::Path<String>,
    page: LastValues<PageQuery>,
    name: LastValues<NameQuery>,
) -> Result<HttpResponse, SbgError> {
    let owner = Username::parse(&owner).map_err(|e| SbgError::bad_request(format!("{e}.")))?;
    list_page(
        state,
        caller,
        Some(owner),
        page.into_inner(),
        name.into_inner(),
    )
    .await
}

/// One page of the caller's projects, those of `owner` only if given.
async fn list_page(
    state: web::Data<AppState>,
    caller: SbgCaller,
    owner: Option<Username>,
    page: PageQuery,
    NameQuery { name }: NameQuery,
) -> Result<HttpResponse, SbgError> {
    let page = page.page()?;
    let base = match &owner {
        Some(owner) => href(&state, &format!("/projects/{owner}")),
        None => href(&state, "/projects"),
    };
    let filters: Vec<(String, String)> = name
        .iter()
        .map(|n| ("name".to_owned(), n.clone()))
        .collect();
    let user_id = caller.0.user.id;
    let (found, total) = db::read(&state.store, move |conn| -> Result<_, SbgError> {
        let filter = ProjectFilter {
            name: name.as_deref(),
            owner: owner.as_ref(),
        };
        Ok(projects::list_for_member(conn, user_id, filter, page)?)
    })
    .await?;
    let items = found.iter().map(|p| render(&state, p)).collect();
    Ok(envelope(&base, &filters, page, items, total))
}

/// `POST /projects`. `null` counts as absent for every optional key (older SDKs send
/// `"billing_group": null`).
#[derive(Debug, Deserialize, utoipa::ToSchema)]
struct CreateProject {
    name: Option<String>,
    billing_group: Option<String>,
    description: Option<String>,
    tags: Option<Vec<String>>,
    settings: Option<Map<String, Value>>,
}

#[utoipa::path(post, path = "/v2/projects", tag = "sbg", request_body = CreateProject, responses((status = 201, description = "The new project")))]
async fn create(
    state: web::Data<AppState>,
    caller: SbgCaller,
    claim: RequestClaim,
    body: web::Json<CreateProject>,
) -> Result<HttpResponse, SbgError> {
    let body = body.into_inner();
    let name = project_name(body.name)?;
    let (description, tags) = bounded_text(body.description, body.tags)?;
    let billing_group = body
        .billing_group
        .map(|id| billing_group_id(&id))
        .transpose()?;
    let owner = caller.0.user;
    let created = db::write(&state.store, claim, move |conn| -> Result<_, SbgError> {
        let group = match &billing_group {
            Some(id) => owned_billing_group(conn, &owner, id)?,
            None => billing_repo::personal(conn, owner.id)?,
        };
        let new = NewProject {
            name: &name,
            description: description.as_deref().unwrap_or_default(),
            billing_group_id: group.id,
            tags: tags.as_deref().unwrap_or_default(),
            settings: &body.settings.unwrap_or_default(),
        };
        let project = projects::create_with(conn, &owner, &new)?;
        visible_project(conn, owner.id, &project.sbg_id)
    })
    .await?;
    Ok(HttpResponse::Created().json(render(&state, &created)))
}

#[utoipa::path(get, path = "/v2/projects/{owner}/{slug}", tag = "sbg", params(("owner" = String, Path, description = "The project owner's username"), ("slug" = String, Path, description = "The project's short name")), responses((status = 200, description = "The project")))]
async fn get(
    state: web::Data<AppState>,
    caller: SbgCaller,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, SbgError> {
    let id = project_id(&path.0, &path.1)?;
    let user_id = caller.0.user.id;
    let project = db::read(&state.store, move |conn| {
        visible_project(conn, user_id, &id)
    })
    .await?;
    Ok(HttpResponse::Ok().json(render(&state, &project)))
}

/// `PATCH /projects/{owner}/{slug}`: only the keys sent change. `settings` holds the changed
/// settings only (that is what the SDK sends), merged into the stored ones; `tags` replaces
/// the tags. The short name, and so the id, stays when the name changes.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
struct UpdateProject {
    name: Option<String>,
    billing_group: Option<String>,
    description: Option<String>,
    tags: Option<Vec<String>>,
    settings: Option<Map<String, Value>>,
}

#[utoipa::path(patch, path = "/v2/projects/{owner}/{slug}", tag = "sbg", params(("owner" = String, Path, description = "The project owner's username"), ("slug" = String, Path, description = "The project's short name")), request_body = UpdateProject, responses((status = 200, description = "The project as it is now")))]
async fn update(
    state: web::Data<AppState>,
    caller: SbgCaller,
    claim: RequestClaim,
    path: web::Path<(String, String)>,
    body: web::Json<UpdateProject>,
) -> Result<HttpResponse, SbgError> {
    let id = project_id(&path.0, &path.1)?;
    let body = body.into_inner();
    let name = body.name.map(|name| project_name(Some(name))).transpose()?;
    let (description, tags) = bounded_text(body.description, body.tags)?;
    let billing_group = body
        .billing_group
        .map(|id| billing_group_id(&id))
        .transpose()?;
    let user = caller.0.user;
    let updated = db::write(&state.store, claim, move |conn| -> Result<_, SbgError> {
        let current = administered_project(conn, user.id, &id)?;
        let billing_group_id = match &billing_group {
            Some(group) => Some(owned_billing_group(conn, &user, group)?.id),
            None => None,
        };
        let settings = body.settings.map(|changed| {
            let mut settings = current.project.settings.clone();
            settings.extend(changed);
            settings
        });
        let changes = ProjectChanges {
            name,
            description,
            billing_group_id,
            tags,
            settings,
        };
        projects::update(conn, current.project.id, &changes)?;
        visible_project(conn, user.id, &id)
    })
    .await?;
    Ok(HttpResponse::Ok().json(render(&state, &updated)))
}

/// `DELETE /projects/{owner}/{slug}`: the members, folders and placements go with the project;
/// the objects stay for the other projects that hold them.
#[utoipa::path(delete, path = "/v2/projects/{owner}/{slug}", tag = "sbg", params(("owner" = String, Path, description = "The project owner's username"), ("slug" = String, Path, description = "The project's short name")), responses((status = 204, description = "Deleted")))]
async fn delete(
    state: web::Data<AppState>,
    caller: SbgCaller,
    claim: RequestClaim,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, SbgError> {
    let id = project_id(&path.0, &path.1)?;
    let user_id = caller.0.user.id;
    db::write(&state.store, claim, move |conn| -> Result<_, SbgError> {
        let project = administered_project(conn, user_id, &id)?;
        Ok(projects::delete(conn, project.project.id)?)
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// A project name: 400 (3007) when missing or blank.
fn project_name(name: Option<String>) -> Result<String, SbgError> {
    let name = name
        .filter(|name| !name.trim().is_empty())
        .ok_or(SbgError::ProjectNameRequired)?;
    Ok(ProjectName::parse(name).map_err(invalid)?.into_string())
}

/// A project's description and tags within the limits of `domain::text`.
fn bounded_text(
    description: Option<String>,
    tags: Option<Vec<String>>,
) -> Result<(Option<String>, Option<Vec<String>>), SbgError> {
    let description = description
        .map(|d| text::description("description", d))
        .transpose()
        .map_err(invalid)?;
    let tags = tags.map(text::tags).transpose().map_err(invalid)?;
    Ok((description, tags))
}

fn invalid(e: DomainError) -> SbgError {
    SbgError::bad_request(format!("{e}."))
}

/// A `billing_group` given in a body: 400 unless it is a UUID.
fn billing_group_id(id: &str) -> Result<String, SbgError> {
    billing::canonical_id(id).ok_or_else(|| {
        SbgError::bad_request(format!(
            "billing_group '{id}' is not a billing group id (a UUID)."
        ))
    })
}

/// The billing group with this id if the user owns it; 404 (4002) otherwise, as a project may
/// only be billed to a group its creator or administrator owns.
fn owned_billing_group(
    conn: &mut DbConnection,
    user: &User,
    id: &str,
) -> Result<BillingGroup, SbgError> {
    billing_repo::get_by_uuid(conn, user.id, id)?.ok_or(SbgError::BillingGroupNotFound)
}

/// Every key is present, so the SDK never refetches; `type` is always `v2` and
/// `billing_group` always a UUID, as the SDK validates both.
fn render(state: &AppState, visible: &VisibleProject) -> Value {
    let project = &visible.project;
    json!({
        "href": href(state, &format!("/projects/{}", project.sbg_id)),
        "id": project.sbg_id.as_str(),
        "name": project.name,
        "billing_group": visible.billing_group_uuid,
        "description": project.description,
        "type": "v2",
        "tags": project.tags,
        "settings": project.settings,
        "root_folder": visible.root_folder.as_str(),
        "created_by": project.sbg_id.owner().as_str(),
        "created_on": timestamp(project.created_at),
        "modified_on": timestamp(project.modified_at),
        "category": "PRIVATE",
        "permissions": visible.permissions.to_sbg(),
    })
}
