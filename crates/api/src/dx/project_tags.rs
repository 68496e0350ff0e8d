//! A project's tags and properties: `/project-xxxx/{addTags, removeTags, setProperties}`
//! (`dx tag PROJECT`, `dx set_properties PROJECT`). CONTRIBUTE, as on DNAnexus; the limits are
//! `domain::text`'s.

use ferry_domain::ids::DxId;
use ferry_domain::permission::Level;
use ferry_domain::text;
use ferry_store::dx_containers::{self, ContainerChanges};
use ferry_store::projects::{self, ProjectChanges};
use ferry_usecases::access::container;
use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::input::{self, PropertyChanges, parse};
use super::{Call, DxError};
use crate::{AppState, db};

#[derive(Debug, Deserialize, utoipa::ToSchema)]
struct ProjectTagsInput {
    tags: Vec<String>,
}

/// `/project-xxxx/addTags`: tags already there stay once.
#[utoipa::path(post, path = "/project-{project}/addTags", tag = "dx", params(("project" = String, Path, description = "The 24 characters after project-")), request_body = ProjectTagsInput, responses((status = 200, description = "{id}")))]
pub(crate) async fn add_tags(state: &AppState, call: Call, id: DxId) -> Result<Value, DxError> {
    change_tags(state, call, id, input::add_tags).await
}

/// `/project-xxxx/removeTags`: tags not there are ignored.
#[utoipa::path(post, path = "/project-{project}/removeTags", tag = "dx", params(("project" = String, Path, description = "The 24 characters after project-")), request_body = ProjectTagsInput, responses((status = 200, description = "{id}")))]
pub(crate) async fn remove_tags(state: &AppState, call: Call, id: DxId) -> Result<Value, DxError> {
    change_tags(state, call, id, input::remove_tags).await
}

async fn change_tags(
    state: &AppState,
    call: Call,
    id: DxId,
    edit: fn(&mut Vec<String>, Vec<String>),
) -> Result<Value, DxError> {
    let input: ProjectTagsInput = parse(call.input)?;
    let user_id = call.caller.user.id;
    let output = json!({ "id": id });
    db::write(
        &state.store,
        call.claim,
        move |conn| -> Result<(), DxError> {
            let found = container(conn, user_id, &id, Level::Contribute)?;
            let mut tags = found.project.tags;
            edit(&mut tags, input.tags);
            let changes = ProjectChanges {
                tags: Some(text::tags(tags)?),
                ..ProjectChanges::default()
            };
            projects::update(conn, found.project.id, &changes)?;
            Ok(())
        },
    )
    .await?;
    Ok(output)
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
struct ProjectPropertiesInput {
    #[schema(value_type = Object)]
    properties: Map<String, Value>,
}

/// `/project-xxxx/setProperties`: `{key: string}` sets, `{key: null}` removes.
#[utoipa::path(post, path = "/project-{project}/setProperties", tag = "dx", params(("project" = String, Path, description = "The 24 characters after project-")), request_body = ProjectPropertiesInput, responses((status = 200, description = "{id}")))]
pub(crate) async fn set_properties(
    state: &AppState,
    call: Call,
    id: DxId,
) -> Result<Value, DxError> {
    let input: ProjectPropertiesInput = parse(call.input)?;
    let changes = PropertyChanges::parse(input.properties)?;
    let user_id = call.caller.user.id;
    let output = json!({ "id": id });
    db::write(
        &state.store,
        call.claim,
        move |conn| -> Result<(), DxError> {
            let found = container(conn, user_id, &id, Level::Contribute)?;
            let properties =
                changes.applied_to(dx_containers::properties(conn, found.project.id)?)?;
            let changes = ContainerChanges {
                properties: Some(&properties),
                ..ContainerChanges::default()
            };
            dx_containers::change(conn, found.project.id, changes)?;
            Ok(())
        },
    )
    .await?;
    Ok(output)
}
