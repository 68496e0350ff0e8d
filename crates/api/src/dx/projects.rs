//! Projects: `/project/new` and `/project-xxxx/{describe, update, destroy, invite,
//! decreasePermissions, leave}` (dx-api.md §5.2–§5.6). A project made here is the same row the
//! SBG dialect lists, with a short name made from its name.

use ferry_domain::row_ids::UserRowId;
use std::collections::{BTreeMap, HashMap};

use ferry_domain::ids::{DxId, Username};
use ferry_domain::model::{AuditOutcome, BillingGroup};
use ferry_domain::permission::{Level, Permissions};
use ferry_domain::text::{self, ProjectName};
use ferry_store::dx_containers::{self, ContainerChanges};
use ferry_store::page::Page;
use ferry_store::projects::{self, NewProject, ProjectChanges};
use ferry_store::{DbConnection, billing as billing_repo, dx_folders, members, users};
use ferry_usecases::access::{Container, container};
use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::describe;
use super::input::{DescribeOptions, checked_properties, parse};
use super::{Call, DxError};
use crate::{AppState, audit, db};

/// Where projects are when `region` is not given.
const DEFAULT_REGION: &str = "aws:us-east-1";

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
struct NewProjectInput {
    name: Option<String>,
    summary: Option<String>,
    description: Option<String>,
    bill_to: Option<String>,
    region: Option<String>,
    #[serde(default)]
    restricted: bool,
    #[serde(default)]
    protected: bool,
    #[serde(default, rename = "containsPHI")]
    contains_phi: bool,
    download_restricted: Option<bool>,
    tags: Option<Vec<String>>,
    #[serde(default)]
    #[schema(value_type = Object)]
    properties: Map<String, Value>,
}

/// `/project/new`: the caller becomes the only member, with ADMINISTER.
#[utoipa::path(post, path = "/project/new", tag = "dx", request_body = NewProjectInput, responses((status = 200, description = "{id}")))]
pub(crate) async fn new(state: &AppState, call: Call) -> Result<Value, DxError> {
    let mut input: NewProjectInput = parse(call.input)?;
    let name = project_name(input.name.take())?;
    bounded_text(&mut input.description, &mut input.summary, &mut input.tags)?;
    checked_properties(&input.properties)?;
    let region = input.region.map(region).transpose()?;
    let owner = call.caller.user;
    let id = db::write(
        &state.store,
        call.claim,
        move |conn| -> Result<DxId, DxError> {
            let billing_group = match &input.bill_to {
                Some(bill_to) => billable(conn, owner.id, bill_to)?,
                None => billing_repo::personal(conn, owner.id)?,
            };
            let new = NewProject {
                name: name.as_str(),
                description: input.description.as_deref().unwrap_or_default(),
                billing_group_id: billing_group.id,
                tags: input.tags.as_deref().unwrap_or_default(),
                settings: &Map::new(),
            };
            let project = projects::create_with(conn, &owner, &new)?;
            let changes = ContainerChanges {
                summary: input.summary.as_deref().filter(|s| !s.is_empty()),
                properties: Some(&input.properties).filter(|p| !p.is_empty()),
                download_restricted: input.download_restricted.filter(|restricted| *restricted),
                region: Some(region.as_deref().unwrap_or(DEFAULT_REGION)),
                restricted: Some(input.restricted),
                protected: Some(input.protected),
                contains_phi: Some(input.contains_phi),
            };
            dx_containers::change(conn, project.id, changes)?;
            Ok(project.dx_id)
        },
    )
    .await?;
    Ok(json!({ "id": id }))
}

/// The billing group `bill_to` names, if `user_id` may bill to it.
fn billable(
    conn: &mut DbConnection,
    user_id: UserRowId,
    bill_to: &str,
) -> Result<BillingGroup, DxError> {
    dx_containers::billing_group_by_bill_to(conn, user_id, bill_to)?
        .ok_or_else(|| DxError::permission_denied(format!("You may not bill to {bill_to}")))
}

fn project_name(name: Option<String>) -> Result<ProjectName, DxError> {
    let name = name
        .filter(|name| !name.trim().is_empty())
        .ok_or_else(|| DxError::invalid_input("name must be a non-empty string"))?;
    Ok(ProjectName::parse(name)?)
}

/// A project's free text within the limits of `domain::text`.
fn bounded_text(
    description: &mut Option<String>,
    summary: &mut Option<String>,
    tags: &mut Option<Vec<String>>,
) -> Result<(), DxError> {
    *description = description
        .take()
        .map(|d| text::description("description", d))
        .transpose()?;
    *summary = summary
        .take()
        .map(|s| text::description("summary", s))
        .transpose()?;
    *tags = tags.take().map(text::tags).transpose()?;
    Ok(())
}

/// A region, `<cloud>:<place>` such as `aws:us-east-1`.
fn region(region: String) -> Result<String, DxError> {
    let valid = region.split_once(':').is_some_and(|(cloud, place)| {
        let word = |s: &str| {
            !s.is_empty()
                && s.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        };
        word(cloud) && word(place)
    });
    if !valid {
        return Err(DxError::invalid_input(format!(
            "region '{region}' is not of the form <cloud>:<place>, such as aws:us-east-1"
        )));
    }
    Ok(region)
}

/// `/project-xxxx/describe` (and `/container-xxxx/describe`).
#[utoipa::path(post, path = "/project-{project}/describe", tag = "dx", params(("project" = String, Path, description = "The 24 characters after project-")), request_body = DescribeOptions, responses((status = 200, description = "The method's output")))]
pub(crate) async fn describe(state: &AppState, call: Call, id: DxId) -> Result<Value, DxError> {
    let options: DescribeOptions = parse(call.input)?;
    let user_id = call.caller.user.id;
    let to_bucket = state.store.content().is_remote();
    db::read(&state.store, move |conn| {
        let Container { project, level } = container(conn, user_id, &id, Level::View)?;
        Ok(describe::project(
            conn, &project, level, &options, to_bucket,
        )?)
    })
    .await
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
struct UpdateInput {
    name: Option<String>,
    bill_to: Option<String>,
    summary: Option<String>,
    description: Option<String>,
    restricted: Option<bool>,
    protected: Option<bool>,
    #[serde(rename = "containsPHI")]
    contains_phi: Option<bool>,
    download_restricted: Option<bool>,
}

/// `/project-xxxx/update`: ADMINISTER; keys not given stay as they are. `containsPHI` can be
/// set but never unset, as on DNAnexus.
#[utoipa::path(post, path = "/project-{project}/update", tag = "dx", params(("project" = String, Path, description = "The 24 characters after project-")), request_body = UpdateInput, responses((status = 200, description = "The method's output")))]
pub(crate) async fn update(state: &AppState, call: Call, id: DxId) -> Result<Value, DxError> {
    let mut input: UpdateInput = parse(call.input)?;
    let name = input
        .name
        .take()
        .map(|name| project_name(Some(name)).map(ProjectName::into_string))
        .transpose()?;
    bounded_text(&mut input.description, &mut input.summary, &mut None)?;
    let user_id = call.caller.user.id;
    let output = json!({ "id": id });
    db::write(
        &state.store,
        call.claim,
        move |conn| -> Result<(), DxError> {
            let Container { project, .. } = container(conn, user_id, &id, Level::Administer)?;
            if input.contains_phi == Some(false) && project.contains_phi {
                return Err(DxError::invalid_input(
                    "containsPHI cannot be unset once it is set",
                ));
            }
            // A billTo the caller may not bill to is refused, as at creation.
            let billing_group_id = match &input.bill_to {
                Some(bill_to) => Some(billable(conn, user_id, bill_to)?.id),
                None => None,
            };
            let changes = ProjectChanges {
                name,
                description: input.description,
                billing_group_id,
                ..ProjectChanges::default()
            };
            projects::update(conn, project.id, &changes)?;
            let flags = ContainerChanges {
                summary: input.summary.as_deref(),
                properties: None,
                download_restricted: input.download_restricted,
                region: None,
                restricted: input.restricted,
                protected: input.protected,
                contains_phi: input.contains_phi,
            };
            dx_containers::change(conn, project.id, flags)?;
            Ok(())
        },
    )
    .await?;
    Ok(output)
}

/// `/project-xxxx/destroy`: ADMINISTER. The project goes with its folders and copies; objects
/// no other project holds go too.
#[utoipa::path(post, path = "/project-{project}/destroy", tag = "dx", params(("project" = String, Path, description = "The 24 characters after project-")), responses((status = 200, description = "The method's output")))]
pub(crate) async fn destroy(state: &AppState, call: Call, id: DxId) -> Result<Value, DxError> {
    let user_id = call.caller.user.id;
    let output = json!({ "id": id });
    db::write(
        &state.store,
        call.claim,
        move |conn| -> Result<(), DxError> {
            let Container { project, .. } = container(conn, user_id, &id, Level::Administer)?;
            // Emptying the root first also deletes the objects no other project holds.
            let root = projects::root_folder(conn, project.id)?;
            dx_folders::remove_tree(conn, &root)?;
            projects::delete(conn, project.id)?;
            Ok(())
        },
    )
    .await?;
    Ok(output)
}

/// A member named in an input: `user-<username>`. An e-mail address names no user Ferry
/// knows (DNAnexus would invite them by mail); orgs and PUBLIC are not members Ferry knows.
fn member_name(invitee: &str) -> Result<Username, DxError> {
    if invitee.contains('@') {
        return Err(DxError::entity_not_found(invitee));
    }
    let username = invitee.strip_prefix("user-").ok_or_else(|| {
        DxError::invalid_input(format!(
            "'{invitee}' is not a user id (user-<username>); only users can be members"
        ))
    })?;
    Username::parse(username).map_err(|_| DxError::entity_not_found(invitee))
}

/// What a DNAnexus level grants in the SBG dialect too: anyone who can view can copy (the
/// DNAnexus clone needs VIEW only), and CONTRIBUTE and up can run.
fn dx_permissions(level: Level) -> Permissions {
    Permissions {
        level,
        copy: true,
        execute: level >= Level::Contribute,
    }
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
struct InviteInput {
    invitee: String,
    #[schema(value_type = String)]
    level: Level,
}

/// `/project-xxxx/invite`: ADMINISTER. A member already at that level or above is left as is.
#[utoipa::path(post, path = "/project-{project}/invite", tag = "dx", params(("project" = String, Path, description = "The 24 characters after project-")), request_body = InviteInput, responses((status = 200, description = "The method's output")))]
pub(crate) async fn invite(state: &AppState, call: Call, id: DxId) -> Result<Value, DxError> {
    let input: InviteInput = parse(call.input)?;
    let username = member_name(&input.invitee)?;
    let who = call.caller;
    let user_id = who.user.id;
    let output = json!({ "id": input.invitee, "state": "member" });
    db::write(
        &state.store,
        call.claim,
        move |conn| -> Result<(), DxError> {
            let Container { project, .. } = container(conn, user_id, &id, Level::Administer)?;
            projects::lock(conn, &project.sbg_id)?;
            let invitee = users::find_by_username(conn, &username)?
                .ok_or_else(|| DxError::entity_not_found(&input.invitee))?;
            match members::get(conn, project.id, &username)? {
                None => members::add(conn, project.id, invitee.id, dx_permissions(input.level))?,
                Some((_, current)) if current.level < input.level => {
                    members::set_permissions(
                        conn,
                        project.id,
                        invitee.id,
                        dx_permissions(input.level),
                    )?;
                }
                Some(_) => {}
            }
            let detail = json!({"member": input.invitee, "level": input.level});
            Ok(audit::record(
                conn,
                &who,
                "dx.invite",
                id.as_str(),
                AuditOutcome::Ok,
                detail,
            )?)
        },
    )
    .await?;
    Ok(output)
}

/// `/project-xxxx/decreasePermissions`: `{"user-x": level | null}`, null revoking. Lowering
/// another member takes ADMINISTER; anyone may lower themselves. A project keeps an
/// administrator. Users who are not members are skipped: they hold nothing to lower; a user
/// that does not exist is `ResourceNotFound`.
#[utoipa::path(post, path = "/project-{project}/decreasePermissions", tag = "dx", params(("project" = String, Path, description = "The 24 characters after project-")), request_body = Object, responses((status = 200, description = "The method's output")))]
pub(crate) async fn decrease_permissions(
    state: &AppState,
    call: Call,
    id: DxId,
) -> Result<Value, DxError> {
    let input: BTreeMap<String, Option<Level>> = parse(call.input)?;
    let changes = input
        .into_iter()
        .map(|(member, level)| Ok((member_name(&member)?, member, level)))
        .collect::<Result<Vec<_>, DxError>>()?;
    let who = call.caller;
    let caller = who.user.clone();
    let output = json!({ "id": id });
    db::write(&state.store, call.claim, move |conn| -> Result<(), DxError> {
        let Container { project, level } = container(conn, caller.id, &id, Level::View)?;
        projects::lock(conn, &project.sbg_id)?;
        let current: HashMap<Username, (UserRowId, Level)> =
            members::list(conn, project.id, Page::ALL)?
                .0
                .into_iter()
                .map(|(user, permissions)| (user.username, (user.id, permissions.level)))
                .collect();
        let strangers: Vec<&Username> = changes
            .iter()
            .map(|(username, _, _)| username)
            .filter(|username| !current.contains_key(*username))
            .collect();
        let existing = users::existing(conn, &strangers)?;
        if let Some((_, member, _)) = changes
            .iter()
            .find(|(username, _, _)| strangers.contains(&username) && !existing.contains(username))
        {
            return Err(DxError::entity_not_found(member));
        }
        let mut lowered = Vec::with_capacity(changes.len());
        for (username, member, new_level) in &changes {
            if *username != caller.username && level < Level::Administer {
                return Err(DxError::permission_denied(format!(
                    "ADMINISTER permission is required in {id} to change {member}"
                )));
            }
            let Some(&(user_id, level)) = current.get(username) else {
                continue;
            };
            if new_level.is_some_and(|new| new > level) {
                return Err(DxError::invalid_input(format!(
                    "{member} has {level}: decreasePermissions cannot raise it"
                )));
            }
            lowered.push((user_id, *new_level));
        }
        let administrators_left = current
            .values()
            .filter(|(user_id, level)| {
                let after = lowered
                    .iter()
                    .find(|(lowered_id, _)| lowered_id == user_id)
                    .map_or(Some(*level), |(_, new_level)| *new_level);
                after == Some(Level::Administer)
            })
            .count();
        if administrators_left == 0 {
            return Err(DxError::invalid_state(format!(
                "{id} would be left without an administrator"
            )));
        }
        let detail = json!({"changes": changes.iter().map(|(_, member, level)| (member.clone(), *level)).collect::<BTreeMap<_, _>>(), "lowered": lowered.len()});
        for (user_id, new_level) in lowered {
            match new_level {
                Some(new) => {
                    members::set_permissions(conn, project.id, user_id, dx_permissions(new))?
                }
                None => members::remove(conn, project.id, user_id)?,
            }
        }
        Ok(audit::record(conn, &who, "dx.decrease_permissions", id.as_str(), AuditOutcome::Ok, detail)?)
    })
    .await?;
    Ok(output)
}

/// `/project-xxxx/leave`: any member, except the last administrator.
#[utoipa::path(post, path = "/project-{project}/leave", tag = "dx", params(("project" = String, Path, description = "The 24 characters after project-")), responses((status = 200, description = "The method's output")))]
pub(crate) async fn leave(state: &AppState, call: Call, id: DxId) -> Result<Value, DxError> {
    let who = call.caller;
    let caller_id = who.user.id;
    let output = json!({ "id": id });
    db::write(
        &state.store,
        call.claim,
        move |conn| -> Result<(), DxError> {
            let Container { project, level } = container(conn, caller_id, &id, Level::View)?;
            projects::lock(conn, &project.sbg_id)?;
            if level == Level::Administer
                && members::is_last_administrator(conn, project.id, caller_id)?
            {
                return Err(DxError::invalid_state(format!(
                    "You are the last administrator of {id}: destroy it instead"
                )));
            }
            members::remove(conn, project.id, caller_id)?;
            Ok(audit::record(
                conn,
                &who,
                "dx.leave",
                id.as_str(),
                AuditOutcome::Ok,
                json!({}),
            )?)
        },
    )
    .await?;
    Ok(output)
}
