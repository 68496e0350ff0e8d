//! `/system/{whoami, findProjects, findDataObjects, describeDataObjects}` (dx-api.md §5.1,
//! §5.17). Searches page with `limit` and `starting`: `next` is what to send as `starting` for
//! the next page, `null` after the last.

use ferry_domain::row_ids::ProjectRowId;
use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Utc};
use ferry_domain::dx_query::{SetQuery, TimeRange};
use ferry_domain::ids::{DxClass, DxId};
use ferry_domain::model::ObjectState;
use ferry_domain::path::FolderPath;
use ferry_domain::permission::Level;
use ferry_store::dx_containers::{self, ProjectSearch};
use ferry_store::objects::{self, CopyScope, NameFilter, ObjectCopy, ObjectSearch};
use ferry_store::projects;
use ferry_usecases::access::{ProjectHint, container, pick_copy};
use serde::Deserialize;
use serde_json::{Value, json};

use super::describe::{self, ObjectExtras, user_id, wants_parts};
use super::input::{DescribeOptions, DescribeRequest, NameQuery, ObjectRef, parse, property_query};
use super::{Call, DxError};
use crate::{AppState, db};

/// The most results one page holds, and the default.
const MAX_PAGE: usize = 1_000;

/// `/system/whoami`: `{"id": "user-<username>"}`.
#[utoipa::path(post, path = "/system/whoami", tag = "dx", responses((status = 200, description = "{id}")))]
pub(crate) fn whoami(call: &Call) -> Value {
    json!({ "id": user_id(&call.caller.user.username) })
}

fn page_size(limit: Option<usize>) -> Result<usize, DxError> {
    match limit {
        None => Ok(MAX_PAGE),
        Some(limit) if (1..=MAX_PAGE).contains(&limit) => Ok(limit),
        Some(_) => Err(DxError::invalid_input(format!(
            "limit must be between 1 and {MAX_PAGE}"
        ))),
    }
}

fn name_filter(name: Option<NameQuery>) -> Result<Option<NameFilter>, DxError> {
    name.map(NameQuery::filter).transpose()
}

/// Every filter dxpy's `find_projects` sends; another key is `InvalidInput`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct FindProjectsInput {
    name: Option<NameQuery>,
    #[schema(value_type = Option<String>)]
    level: Option<Level>,
    #[schema(value_type = Option<Object>)]
    tags: Option<Value>,
    #[schema(value_type = Option<Object>)]
    properties: Option<Value>,
    created: Option<TimeBounds>,
    modified: Option<TimeBounds>,
    region: Option<String>,
    #[serde(rename = "containsPHI")]
    contains_phi: Option<bool>,
    bill_to: Option<String>,
    /// Every membership in Ferry is explicit, no project is public, and none restricts
    /// external uploads: `false`, `false` and `true` find nothing.
    explicit_permission: Option<bool>,
    public: Option<bool>,
    external_upload_restricted: Option<bool>,
    #[serde(default)]
    describe: DescribeRequest,
    limit: Option<usize>,
    #[schema(value_type = Option<String>)]
    starting: Option<DxId>,
}

/// `/system/findProjects`: the caller's projects, oldest first.
#[utoipa::path(post, path = "/system/findProjects", tag = "dx", request_body = FindProjectsInput, responses((status = 200, description = "The method's output")))]
pub(crate) async fn find_projects(state: &AppState, call: Call) -> Result<Value, DxError> {
    let mut input: FindProjectsInput = parse(call.input)?;
    let limit = page_size(input.limit)?;
    let name = name_filter(input.name.take())?;
    let tags = input
        .tags
        .as_ref()
        .map(|tags| SetQuery::parse("tags", tags))
        .transpose()?;
    let properties = property_query(input.properties.as_ref())?;
    let created = TimeBounds::range(input.created.take())?;
    let modified = TimeBounds::range(input.modified.take())?;
    let none_match = input.explicit_permission == Some(false)
        || input.public == Some(true)
        || input.external_upload_restricted == Some(true);
    let describe_options = input.describe.options();
    let user = call.caller.user;
    let to_bucket = state.store.content().is_remote();
    db::read(&state.store, move |conn| {
        let starting = match &input.starting {
            Some(id) => Some(
                projects::get_by_dx_id(conn, id)?
                    .ok_or_else(|| DxError::invalid_input(format!("starting: unknown {id}")))?
                    .id,
            ),
            None => None,
        };
        if none_match {
            return Ok(json!({"results": [], "next": null}));
        }
        let search = ProjectSearch {
            name: name.as_ref(),
            level: input.level,
            tags: tags.as_ref(),
            properties: properties.as_ref(),
            created,
            modified,
            region: input.region.as_deref(),
            contains_phi: input.contains_phi,
            bill_to: input.bill_to.as_deref(),
            starting: starting.map(ProjectRowId::get),
            limit,
        };
        let (found, next) = dx_containers::find(conn, user.id, &search)?;
        let mut results = Vec::with_capacity(found.len());
        for (project, permissions) in &found {
            let mut result = json!({
                "id": project.dx_id,
                "level": permissions.level.as_str(),
                "permissionSources": [user_id(&user.username)],
                "public": false,
            });
            if let Some(options) = &describe_options {
                result["describe"] =
                    describe::project(conn, project, permissions.level, options, to_bucket)?;
            }
            results.push(result);
        }
        Ok(json!({ "results": results, "next": next }))
    })
    .await
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
struct Scope {
    #[schema(value_type = String)]
    project: DxId,
    #[serde(default = "FolderPath::root")]
    #[schema(value_type = String)]
    folder: FolderPath,
    #[serde(default = "recurse_by_default")]
    recurse: bool,
}

fn recurse_by_default() -> bool {
    true
}

/// `visibility`: which objects a search keeps.
#[derive(Debug, Clone, Copy, Default, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
enum Visibility {
    Hidden,
    #[default]
    Visible,
    Either,
}

/// Where a page of `findDataObjects` starts: the `next` of the previous page.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
struct Starting {
    #[schema(value_type = String)]
    project: DxId,
    #[schema(value_type = String)]
    id: DxId,
}

/// `created` or `modified`: milliseconds since the epoch, or before now when negative.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct TimeBounds {
    after: Option<i64>,
    before: Option<i64>,
}

impl TimeBounds {
    fn range(bounds: Option<TimeBounds>) -> Result<TimeRange, DxError> {
        let Some(bounds) = bounds else {
            return Ok(TimeRange::default());
        };
        let at = |ms: Option<i64>| {
            ms.map(|ms| {
                let ms = if ms < 0 {
                    Utc::now().timestamp_millis() + ms
                } else {
                    ms
                };
                DateTime::from_timestamp_millis(ms)
                    .ok_or_else(|| DxError::invalid_input(format!("{ms} is not a time")))
            })
            .transpose()
        };
        Ok(TimeRange {
            after: at(bounds.after)?,
            before: at(bounds.before)?,
        })
    }
}

/// Every filter dxpy's `find_data_objects` sends; another key is `InvalidInput`, never
/// ignored.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct FindDataObjectsInput {
    scope: Option<Scope>,
    name: Option<NameQuery>,
    class: Option<String>,
    state: Option<String>,
    #[serde(default)]
    visibility: Visibility,
    #[schema(value_type = Option<Vec<String>>)]
    id: Option<Vec<DxId>>,
    #[schema(value_type = Option<String>)]
    link: Option<DxId>,
    /// A tag, or `{"$and": [...]}` / `{"$or": [...]}`.
    #[schema(value_type = Option<Object>)]
    tags: Option<Value>,
    /// One tag, the older spelling.
    tag: Option<String>,
    #[serde(rename = "type")]
    #[schema(value_type = Option<Object>)]
    types: Option<Value>,
    #[schema(value_type = Option<Object>)]
    properties: Option<Value>,
    created: Option<TimeBounds>,
    modified: Option<TimeBounds>,
    region: Option<String>,
    #[schema(value_type = Option<String>)]
    level: Option<Level>,
    /// Ferry's objects are all `live`.
    archival_state: Option<String>,
    #[serde(default)]
    describe: DescribeRequest,
    limit: Option<usize>,
    starting: Option<Starting>,
}

/// `/system/findDataObjects`: the copies the caller can see that match, one result per copy,
/// in the order they were placed.
#[utoipa::path(post, path = "/system/findDataObjects", tag = "dx", request_body = FindDataObjectsInput, responses((status = 200, description = "The method's output")))]
pub(crate) async fn find_data_objects(state: &AppState, call: Call) -> Result<Value, DxError> {
    let mut input: FindDataObjectsInput = parse(call.input)?;
    let limit = page_size(input.limit)?;
    let name = name_filter(input.name)?;
    let class = input
        .class
        .map(|class| {
            class
                .parse::<DxClass>()
                .ok()
                .filter(|class| class.is_data_object())
                .ok_or_else(|| DxError::invalid_input(format!("class: unknown class '{class}'")))
        })
        .transpose()?;
    let hidden = match input.visibility {
        Visibility::Hidden => Some(true),
        Visibility::Visible => Some(false),
        Visibility::Either => None,
    };
    let tags = match (&input.tags, &input.tag) {
        (Some(tags), _) => Some(SetQuery::parse("tags", tags)?),
        (None, Some(tag)) => Some(SetQuery::Has(tag.clone())),
        (None, None) => None,
    };
    let types = input
        .types
        .as_ref()
        .map(|types| SetQuery::parse("type", types))
        .transpose()?;
    let properties = property_query(input.properties.as_ref())?;
    let object_state = input
        .state
        .as_deref()
        .map(str::parse::<ObjectState>)
        .transpose()?;
    let created = TimeBounds::range(input.created.take())?;
    let modified = TimeBounds::range(input.modified.take())?;
    let archived_only = match input.archival_state.as_deref() {
        None | Some("live" | "any") => false,
        Some("archival" | "archived" | "unarchiving") => true,
        Some(other) => {
            return Err(DxError::invalid_input(format!(
                "archivalState must be live, archival, archived, unarchiving or any, not {other:?}"
            )));
        }
    };
    let describe_options = input.describe.options();
    let user_id = call.caller.user.id;
    db::read(&state.store, move |conn| {
        let project_id = match &input.scope {
            Some(scope) => Some(
                container(conn, user_id, &scope.project, Level::View)?
                    .project
                    .id,
            ),
            None => None,
        };
        let starting = match &input.starting {
            Some(starting) => Some(
                objects::placement_id(conn, &starting.project, &starting.id)?
                    .ok_or_else(|| DxError::invalid_input("starting: no such object"))?,
            ),
            None => None,
        };
        let search = ObjectSearch {
            project_id,
            folder: input
                .scope
                .as_ref()
                .map(|scope| (&scope.folder, scope.recurse)),
            name: name.as_ref(),
            class,
            hidden,
            state: object_state,
            ids: input.id.as_deref(),
            link: input.link.as_ref(),
            created,
            modified,
            region: input.region.as_deref(),
            level: input.level,
            tags: tags.as_ref(),
            types: types.as_ref(),
            properties: properties.as_ref(),
            starting,
            limit,
        };
        if archived_only {
            return Ok(json!({"results": [], "next": null}));
        }
        let (found, next) = objects::find(conn, user_id, &search)?;
        let next = match next {
            Some(next) => objects::visible_copies(conn, user_id, CopyScope::Placements(&[next]))?
                .pop()
                .map(|copy| json!({"project": copy.project, "id": copy.object.dx_id})),
            None => None,
        };
        let extras = match &describe_options {
            Some(options) => ObjectExtras::load(conn, &found, wants_parts([options]))?,
            None => ObjectExtras::default(),
        };
        let results: Vec<Value> = found
            .iter()
            .map(|copy| {
                let mut result = json!({"project": copy.project, "id": copy.object.dx_id});
                if let Some(options) = &describe_options {
                    result["describe"] = describe::object(copy, &extras, options);
                }
                result
            })
            .collect();
        Ok(json!({ "results": results, "next": next }))
    })
    .await
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
struct DescribeDataObjectsInput {
    objects: Vec<ObjectRef>,
    #[serde(default)]
    class_describe_options: BTreeMap<String, DescribeOptions>,
}

/// `/system/describeDataObjects`: one result per requested object, in order:
/// `{"describe": …}`, or `{"error": …}` for one the caller cannot see. Each object is
/// described with its own options, else those of its class (or `"*"`) in
/// `classDescribeOptions`.
#[utoipa::path(post, path = "/system/describeDataObjects", tag = "dx", request_body = DescribeDataObjectsInput, responses((status = 200, description = "The method's output")))]
pub(crate) async fn describe_data_objects(state: &AppState, call: Call) -> Result<Value, DxError> {
    let input: DescribeDataObjectsInput = parse(call.input)?;
    let user_id = call.caller.user.id;
    db::read(&state.store, move |conn| {
        let ids: Vec<DxId> = input
            .objects
            .iter()
            .map(|object| object.id().clone())
            .collect();
        let scope = CopyScope::Objects {
            ids: &ids,
            project_id: None,
        };
        let mut copies_of: HashMap<DxId, Vec<ObjectCopy>> = HashMap::new();
        for copy in objects::visible_copies(conn, user_id, scope)? {
            copies_of
                .entry(copy.object.dx_id.clone())
                .or_default()
                .push(copy);
        }
        let chosen: Vec<Option<(ObjectCopy, DescribeOptions)>> = input
            .objects
            .iter()
            .map(|object| {
                let copies = copies_of.get(object.id()).cloned().unwrap_or_default();
                let copy = pick_copy(copies, ProjectHint::Prefer(object.project()))?;
                let options = describe_options_for(object, &copy, &input.class_describe_options);
                Some((copy, options))
            })
            .collect();
        let described = chosen.iter().flatten();
        let with_parts = wants_parts(described.clone().map(|(_, options)| options));
        let extras = ObjectExtras::load(conn, described.map(|(copy, _)| copy), with_parts)?;
        let results: Vec<Value> = input
            .objects
            .iter()
            .zip(&chosen)
            .map(|(object, chosen)| match chosen {
                Some((copy, options)) => {
                    json!({"describe": describe::object(copy, &extras, options)})
                }
                None => json!({"error": DxError::entity_not_found(object.id()).body()["error"]}),
            })
            .collect();
        Ok(json!({ "results": results }))
    })
    .await
}

/// The options one object is described with: its own, else its class's, else `"*"`'s.
fn describe_options_for(
    object: &ObjectRef,
    copy: &ObjectCopy,
    by_class: &BTreeMap<String, DescribeOptions>,
) -> DescribeOptions {
    if let ObjectRef::Scoped {
        describe: Some(DescribeRequest::Options(options)),
        ..
    } = object
    {
        return options.clone();
    }
    by_class
        .get(copy.object.class.as_str())
        .or_else(|| by_class.get("*"))
        .cloned()
        .unwrap_or_default()
}
