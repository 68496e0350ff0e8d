//! Project members: `/projects/{owner}/{slug}/members[/{username}[/permissions]]`.
//!
//! Every member may list and read the members; adding, changing and removing them takes
//! ADMINISTER. A project keeps at least one administrator: removing or demoting the last one
//! is a 409. Permissions map to stored levels through [`Permissions::from_sbg`], so `read` is
//! implied by membership and `admin` brings `write`, `copy` and `execute` with it.

use super::listing::{PageQuery, envelope};
use super::projects::{administered_project, project_id};
use super::query::LastValues;
use super::{SbgCaller, SbgError, href, resource, visible_project};
use crate::db::RequestClaim;
use crate::{AppState, audit, db};
use actix_web::{HttpResponse, web};
use ferry_domain::ids::{SbgProjectId, Username};
use ferry_domain::model::{AuditOutcome, User};
use ferry_domain::permission::{Permissions, SbgPermissions};
use ferry_store::projects::VisibleProject;
use ferry_store::{DbConnection, members, projects, users};
use serde::Deserialize;
use serde_json::{Value, json};

pub(crate) fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(
        resource(&[
            "/projects/{owner}/{slug}/members",
            "/projects/{owner}/{slug}/members/",
        ])
        .get(list)
        .post(add),
    )
    .service(
        resource(&["/projects/{owner}/{slug}/members/{username}"])
            .get(get)
            .patch(update)
            .delete(remove),
    )
    .service(
        resource(&["/projects/{owner}/{slug}/members/{username}/permissions"])
            .patch(update_permissions),
    );
}

/// SBG permission flags as a request sends them: only the keys to set.
#[derive(Debug, Clone, Copy, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct PermissionsChange {
    read: Option<bool>,
    write: Option<bool>,
    copy: Option<bool>,
    execute: Option<bool>,
    admin: Option<bool>,
}

impl PermissionsChange {
    /// `current` with the keys sent replaced, as stored permissions.
    fn applied_to(self, current: SbgPermissions) -> Permissions {
        Permissions::from_sbg(&SbgPermissions {
            read: self.read.unwrap_or(current.read),
            write: self.write.unwrap_or(current.write),
            copy: self.copy.unwrap_or(current.copy),
            execute: self.execute.unwrap_or(current.execute),
            admin: self.admin.unwrap_or(current.admin),
        })
    }
}

/// What a new member has before the keys sent are applied: read only.
const READ_ONLY: SbgPermissions = SbgPermissions {
    read: true,
    write: false,
    copy: false,
    execute: false,
    admin: false,
};

/// The member in a `.../members/{username}` path. A name that is no username names no member.
fn member_name(username: &str) -> Result<Username, SbgError> {
    Username::parse(username).map_err(|_| SbgError::ProjectNotFound)
}

#[utoipa::path(get, path = "/v2/projects/{owner}/{slug}/members", tag = "sbg", params(("owner" = String, Path, description = "The project owner's username"), ("slug" = String, Path, description = "The project's short name"), ("offset" = Option<i64>, Query), ("limit" = Option<i64>, Query)), responses((status = 200, description = "The members")))]
async fn list(
    state: web::Data<AppState>,
    caller: SbgCaller,
    path: web::Path<(String, String)>,
    query: LastValues<PageQuery>,
) -> Result<HttpResponse, SbgError> {
    let id = project_id(&path.0, &path.1)?;
    let page = query.into_inner().page()?;
    let user_id = caller.0.user.id;
    let project = id.clone();
    let (found, total) = db::read(&state.store, move |conn| -> Result<_, SbgError> {
        let visible = visible_project(conn, user_id, &project)?;
        Ok(members::list(conn, visible.project.id, page)?)
    })
    .await?;
    let items = found
        .iter()
        .map(|(user, permissions)| render(&state, &id, user, *permissions))
        .collect();
    let base = href(&state, &format!("/projects/{id}/members"));
    Ok(envelope(&base, &[], page, items, total))
}

/// `POST .../members`: `{"username", "type"?: "USER", "permissions"}`. Teams, divisions and
/// invitations by e-mail do not exist in Ferry.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
struct AddMember {
    username: Option<String>,
    email: Option<String>,
    #[serde(rename = "type")]
    kind: Option<String>,
    permissions: Option<PermissionsChange>,
}

#[utoipa::path(post, path = "/v2/projects/{owner}/{slug}/members", tag = "sbg", params(("owner" = String, Path, description = "The project owner's username"), ("slug" = String, Path, description = "The project's short name")), request_body = AddMember, responses((status = 201, description = "The new member")))]
async fn add(
    state: web::Data<AppState>,
    caller: SbgCaller,
    claim: RequestClaim,
    path: web::Path<(String, String)>,
    body: web::Json<AddMember>,
) -> Result<HttpResponse, SbgError> {
    let id = project_id(&path.0, &path.1)?;
    let AddMember {
        username,
        email,
        kind,
        permissions,
    } = body.into_inner();
    if let Some(kind) = kind.filter(|kind| kind != "USER") {
        return Err(SbgError::bad_request(format!(
            "Member type '{kind}' is not supported: only USER members can be added."
        )));
    }
    let username = match (username, email) {
        (Some(username), _) => {
            Username::parse(&username).map_err(|e| SbgError::bad_request(format!("{e}.")))?
        }
        (None, Some(_)) => {
            return Err(SbgError::bad_request(
                "Adding members by e-mail is not supported: give their username.",
            ));
        }
        (None, None) => {
            return Err(SbgError::MemberUsernameRequired);
        }
    };
    let permissions = permissions
        .ok_or(SbgError::PermissionsRequired)?
        .applied_to(READ_ONLY);
    let user_id = caller.0.user.id;
    let who = caller.0;
    let project = id.clone();
    let added = db::write(&state.store, claim, move |conn| -> Result<_, SbgError> {
        let visible = administered_project(conn, user_id, &project)?;
        let user = users::find_by_username(conn, &username)?.ok_or(SbgError::ProjectNotFound)?;
        if projects::membership(conn, visible.project.id, user.id)?.is_some() {
            return Err(SbgError::AlreadyMember {
                username: username.to_string(),
            });
        }
        members::add(conn, visible.project.id, user.id, permissions)?;
        let detail = json!({"member": user.username.as_str(), "permissions": permissions.to_sbg()});
        audit::record(
            conn,
            &who,
            "sbg.member.add",
            project.as_str(),
            AuditOutcome::Ok,
            detail,
        )?;
        Ok(user)
    })
    .await?;
    Ok(HttpResponse::Created().json(render(&state, &id, &added, permissions)))
}

#[utoipa::path(get, path = "/v2/projects/{owner}/{slug}/members/{username}", tag = "sbg", params(("owner" = String, Path, description = "The project owner's username"), ("slug" = String, Path, description = "The project's short name"), ("username" = String, Path, description = "A member's username")), responses((status = 200, description = "The member")))]
async fn get(
    state: web::Data<AppState>,
    caller: SbgCaller,
    path: web::Path<(String, String, String)>,
) -> Result<HttpResponse, SbgError> {
    let id = project_id(&path.0, &path.1)?;
    let username = member_name(&path.2)?;
    let user_id = caller.0.user.id;
    let project = id.clone();
    let (user, permissions) = db::read(&state.store, move |conn| -> Result<_, SbgError> {
        let visible = visible_project(conn, user_id, &project)?;
        members::get(conn, visible.project.id, &username)?.ok_or(SbgError::ProjectNotFound)
    })
    .await?;
    Ok(HttpResponse::Ok().json(render(&state, &id, &user, permissions)))
}

/// `PATCH .../members/{username}`: `{"permissions": {...}}`, the keys to change.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
struct UpdateMember {
    permissions: Option<PermissionsChange>,
}

#[utoipa::path(patch, path = "/v2/projects/{owner}/{slug}/members/{username}", tag = "sbg", params(("owner" = String, Path, description = "The project owner's username"), ("slug" = String, Path, description = "The project's short name"), ("username" = String, Path, description = "A member's username")), request_body = UpdateMember, responses((status = 200, description = "The member as they are now")))]
async fn update(
    state: web::Data<AppState>,
    caller: SbgCaller,
    claim: RequestClaim,
    path: web::Path<(String, String, String)>,
    body: web::Json<UpdateMember>,
) -> Result<HttpResponse, SbgError> {
    let change = body
        .into_inner()
        .permissions
        .ok_or(SbgError::PermissionsRequired)?;
    let (id, user, permissions) = change_permissions(&state, &caller, claim, &path, change).await?;
    Ok(HttpResponse::Ok().json(render(&state, &id, &user, permissions)))
}

/// `PATCH .../members/{username}/permissions`: the keys to change; answers the permissions.
#[utoipa::path(patch, path = "/v2/projects/{owner}/{slug}/members/{username}/permissions", tag = "sbg", params(("owner" = String, Path, description = "The project owner's username"), ("slug" = String, Path, description = "The project's short name"), ("username" = String, Path, description = "A member's username")), request_body = PermissionsChange, responses((status = 200, description = "The member's permissions")))]
async fn update_permissions(
    state: web::Data<AppState>,
    caller: SbgCaller,
    claim: RequestClaim,
    path: web::Path<(String, String, String)>,
    body: web::Json<PermissionsChange>,
) -> Result<HttpResponse, SbgError> {
    let (_, _, permissions) =
        change_permissions(&state, &caller, claim, &path, body.into_inner()).await?;
    Ok(HttpResponse::Ok().json(permissions.to_sbg()))
}

/// Applies `change` to the member in `path`'s permissions, and returns the project id, the
/// member and their new permissions.
async fn change_permissions(
    state: &AppState,
    caller: &SbgCaller,
    claim: RequestClaim,
    path: &(String, String, String),
    change: PermissionsChange,
) -> Result<(SbgProjectId, User, Permissions), SbgError> {
    let id = project_id(&path.0, &path.1)?;
    let username = member_name(&path.2)?;
    let user_id = caller.0.user.id;
    let who = caller.0.clone();
    let project = id.clone();
    let (user, permissions) = db::write(&state.store, claim, move |conn| -> Result<_, SbgError> {
        let visible = administered_project(conn, user_id, &project)?;
        let (user, current) =
            members::get(conn, visible.project.id, &username)?.ok_or(SbgError::ProjectNotFound)?;
        let permissions = change.applied_to(current.to_sbg());
        if !permissions.can_admin() {
            keep_an_administrator(conn, &visible, &user)?;
        }
        members::set_permissions(conn, visible.project.id, user.id, permissions)?;
        let detail = json!({"member": user.username.as_str(), "permissions": permissions.to_sbg()});
        audit::record(
            conn,
            &who,
            "sbg.member.update",
            project.as_str(),
            AuditOutcome::Ok,
            detail,
        )?;
        Ok((user, permissions))
    })
    .await?;
    Ok((id, user, permissions))
}

#[utoipa::path(delete, path = "/v2/projects/{owner}/{slug}/members/{username}", tag = "sbg", params(("owner" = String, Path, description = "The project owner's username"), ("slug" = String, Path, description = "The project's short name"), ("username" = String, Path, description = "A member's username")), responses((status = 204, description = "Removed")))]
async fn remove(
    state: web::Data<AppState>,
    caller: SbgCaller,
    claim: RequestClaim,
    path: web::Path<(String, String, String)>,
) -> Result<HttpResponse, SbgError> {
    let id = project_id(&path.0, &path.1)?;
    let username = member_name(&path.2)?;
    let user_id = caller.0.user.id;
    let who = caller.0;
    db::write(&state.store, claim, move |conn| -> Result<_, SbgError> {
        let visible = administered_project(conn, user_id, &id)?;
        let (user, _) =
            members::get(conn, visible.project.id, &username)?.ok_or(SbgError::ProjectNotFound)?;
        keep_an_administrator(conn, &visible, &user)?;
        members::remove(conn, visible.project.id, user.id)?;
        let detail = json!({"member": user.username.as_str()});
        Ok(audit::record(
            conn,
            &who,
            "sbg.member.remove",
            id.as_str(),
            AuditOutcome::Ok,
            detail,
        )?)
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// 409 if `member` is the project's last administrator, who may be neither removed nor
/// demoted.
fn keep_an_administrator(
    conn: &mut DbConnection,
    project: &VisibleProject,
    member: &User,
) -> Result<(), SbgError> {
    if members::is_last_administrator(conn, project.project.id, member.id)? {
        return Err(SbgError::LastAdministrator {
            username: member.username.to_string(),
            project: project.project.sbg_id.to_string(),
        });
    }
    Ok(())
}

fn render(
    state: &AppState,
    project: &SbgProjectId,
    user: &User,
    permissions: Permissions,
) -> Value {
    json!({
        "href": href(state, &format!("/projects/{project}/members/{}", user.username)),
        "id": user.username.as_str(),
        "username": user.username.as_str(),
        "email": user.email,
        "type": "USER",
        "permissions": permissions.to_sbg(),
    })
}
