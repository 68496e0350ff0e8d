//! Data objects: `/{record,file,applet,workflow}/new` and the methods every data object has
//! (dx-api.md §5.12–§5.16): describe, close, details, visibility, types (while open), and the
//! per-project name, tags and properties (any time).
//!
//! A creation that carries a `nonce` is idempotent: the same nonce with the same input answers
//! the first response again; with another input it is `InvalidInput`.

use ferry_domain::ids::{DxClass, DxId};
use ferry_domain::links::check_links;
use ferry_domain::model::ObjectState;
use ferry_domain::path::FolderPath;
use ferry_domain::permission::Level;
use ferry_domain::row_ids::UserRowId;
use ferry_domain::text;
use ferry_store::objects::{self, CopyChanges, NewDataObject, ObjectCopy, OpenObjectChange};
use ferry_store::{DbConnection, StoreError, folders, nonces};
use ferry_usecases::access::{ProjectHint, container, copy_to_change, object_copy};
use ferry_usecases::open_file;
use serde::Deserialize;
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};

use super::describe::{self, ObjectExtras, class_field_names, wants_parts};
use super::input::{
    self, DescribeOptions, PropertyChanges, checked_properties, object_name, parse,
};
use super::{Call, DxError};
use crate::db::RequestClaim;
use crate::{AppState, db};

/// Longest nonce accepted: dxpy's are 64 hex digits and a timestamp.
const MAX_NONCE_BYTES: usize = 128;

/// The keys every data object class takes on creation.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
struct NewObjectInput {
    #[schema(value_type = String)]
    project: DxId,
    #[serde(default = "FolderPath::root")]
    #[schema(value_type = String)]
    folder: FolderPath,
    #[serde(default)]
    parents: bool,
    name: Option<String>,
    #[serde(default = "empty_details")]
    details: Value,
    #[serde(default)]
    hidden: bool,
    #[serde(default)]
    types: Vec<String>,
    #[serde(default)]
    tags: Vec<String>,
    #[serde(default)]
    #[schema(value_type = Object)]
    properties: Map<String, Value>,
    /// Records only: create it closed.
    #[serde(default)]
    close: bool,
    nonce: Option<String>,
    /// Records only: a record whose name, details, types, tags, properties and visibility the
    /// new one starts from; the keys given win.
    #[serde(rename = "initializeFrom")]
    initialize_from: Option<InitializeFrom>,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
struct InitializeFrom {
    #[schema(value_type = Option<String>)]
    project: Option<DxId>,
    #[schema(value_type = String)]
    id: DxId,
}

fn empty_details() -> Value {
    json!({})
}

/// The fields of the class that the input gives, kept for `describe`.
fn class_fields(class: DxClass, input: &Map<String, Value>) -> Result<Map<String, Value>, DxError> {
    let keys = class_field_names(class);
    let fields: Map<String, Value> = keys
        .iter()
        .filter_map(|key| {
            input
                .get(*key)
                .map(|value| ((*key).to_owned(), value.clone()))
        })
        .collect();
    if class == DxClass::Applet {
        for required in ["runSpec", "dxapi"] {
            if !fields.contains_key(required) {
                return Err(DxError::invalid_input(format!(
                    "{required} is required to create an applet"
                )));
            }
        }
        if !fields["runSpec"].is_object() {
            return Err(DxError::invalid_input("runSpec must be an object"));
        }
    }
    if let Some(media) = fields.get("media")
        && !media.is_string()
    {
        return Err(DxError::invalid_input("media must be a string"));
    }
    Ok(fields)
}

/// `/{class}/new`: a record (open, or closed with `close`), a file (open until its parts are
/// uploaded and it is closed), an applet (closed at once) or a workflow (open).
#[utoipa::path(post, path = "/{class}/new", tag = "dx", params(("class" = String, Path, pattern = "^(file|record|applet|workflow)$", description = "A data object class")), request_body = NewObjectInput, responses((status = 200, description = "{id}")))]
pub(crate) async fn new(state: &AppState, class: DxClass, call: Call) -> Result<Value, DxError> {
    let raw = call.input.as_object().cloned().unwrap_or_default();
    let request_sha256 = hex::encode(Sha256::digest(format!("{class}\n{}", call.input)));
    let mut input: NewObjectInput = parse(call.input)?;
    let fields = class_fields(class, &raw)?;
    if !input.details.is_object() && !input.details.is_array() {
        return Err(DxError::invalid_input(
            "details must be an object or an array",
        ));
    }
    check_links(&input.details)?;
    text::details_len(input.details.to_string().len())?;
    checked_properties(&input.properties)?;
    input.tags = text::tags(std::mem::take(&mut input.tags))?;
    input.types = text::types(std::mem::take(&mut input.types))?;
    if input.initialize_from.is_some() && class != DxClass::Record {
        return Err(DxError::invalid_input(
            "initializeFrom is taken by record/new only",
        ));
    }
    let mut name = input.name.take().map(object_name).transpose()?;
    if let Some(nonce) = &input.nonce
        && (nonce.is_empty() || nonce.len() > MAX_NONCE_BYTES)
    {
        return Err(DxError::invalid_input(format!(
            "nonce must be 1 to {MAX_NONCE_BYTES} bytes long"
        )));
    }
    let state_on_creation = match class {
        DxClass::Applet => ObjectState::Closed,
        DxClass::Record if input.close => ObjectState::Closed,
        _ => ObjectState::Open,
    };
    let user_id = call.caller.user.id;
    db::write(
        &state.store,
        call.claim,
        move |conn| -> Result<Value, DxError> {
            let nonce = input.nonce.as_deref();
            if let Some(nonce) = nonce
                && let Some(used) = nonces::find(conn, user_id, nonce)?
            {
                return replay(used, &request_sha256);
            }
            let container = container(conn, user_id, &input.project, Level::Upload)?;
            let folder = match folders::get_by_path(conn, container.project.id, &input.folder)? {
                Some(folder) => folder,
                None if input.parents => {
                    folders::ensure_path(conn, container.project.id, &input.folder)?
                }
                None => {
                    return Err(DxError::resource_not_found(format!(
                        "The folder {} could not be found in {}",
                        input.folder, input.project
                    )));
                }
            };
            if let Some(nonce) = nonce {
                match nonces::reserve(conn, user_id, nonce, &request_sha256) {
                    // Another request with this nonce committed meanwhile.
                    Err(StoreError::Conflict(_)) => {
                        let used =
                            nonces::find(conn, user_id, nonce)?.ok_or(StoreError::NotFound)?;
                        return replay(used, &request_sha256);
                    }
                    reserved => reserved?,
                }
            }
            if let Some(from) = &input.initialize_from {
                let hint = ProjectHint::Exactly(from.project.as_ref());
                let source = object_copy(conn, user_id, &from.id, hint)?;
                if source.object.class != DxClass::Record {
                    return Err(DxError::invalid_input(format!(
                        "initializeFrom: {} is not a record",
                        from.id
                    )));
                }
                let given = |key: &str| raw.contains_key(key);
                if name.is_none() {
                    name = Some(object_name(source.placement.name.clone())?);
                }
                if !given("details") {
                    input.details = source.object.details.clone();
                }
                if !given("types") {
                    input.types = source.object.types.clone();
                }
                if !given("tags") {
                    input.tags = source.placement.tags.clone();
                }
                if !given("properties") {
                    input.properties = source.placement.properties.clone();
                }
                if !given("hidden") {
                    input.hidden = source.object.hidden;
                }
            }
            let new = NewDataObject {
                class,
                project_id: container.project.id,
                folder: &folder,
                name: name.as_ref().map_or("", |name| name.as_str()),
                details: input.details,
                hidden: input.hidden,
                types: input.types,
                tags: input.tags,
                properties: input.properties,
                state: state_on_creation,
                created_by: user_id,
            };
            let (object, _) = objects::create_with_class_fields(conn, &new, &fields)?;
            let response = json!({ "id": object.dx_id });
            if let Some(nonce) = nonce {
                nonces::record_response(conn, user_id, nonce, &response)?;
            }
            Ok(response)
        },
    )
    .await
}

/// The answer to a nonce used before: its response if the input is the same.
fn replay(used: nonces::UsedNonce, request_sha256: &str) -> Result<Value, DxError> {
    if used.request_sha256 != request_sha256 {
        return Err(DxError::invalid_input(
            "Nonce was reused for an earlier API request that had a different input",
        ));
    }
    Ok(used.response)
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
struct DescribeInput {
    #[schema(value_type = Option<String>)]
    project: Option<DxId>,
    #[serde(flatten)]
    options: DescribeOptions,
}

/// `/class-xxxx/describe`: the copy in `project` if the caller sees it there, else another
/// copy they see (and its project in `"project"`).
#[utoipa::path(post, path = "/file-{file}/describe", tag = "dx", params(("file" = String, Path, description = "The 24 characters after file-; every data object class (record-, applet-, workflow-) takes the same methods")), request_body = DescribeInput, responses((status = 200, description = "The method's output")))]
pub(crate) async fn describe(state: &AppState, call: Call, id: DxId) -> Result<Value, DxError> {
    let input: DescribeInput = parse(call.input)?;
    let user_id = call.caller.user.id;
    db::read(&state.store, move |conn| {
        let copy = object_copy(
            conn,
            user_id,
            &id,
            ProjectHint::Prefer(input.project.as_ref()),
        )?;
        let with_parts = wants_parts([&input.options]);
        let extras = ObjectExtras::load(conn, [&copy], with_parts)?;
        Ok(describe::object(&copy, &extras, &input.options))
    })
    .await
}

/// The project a change names, if any.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
struct ProjectInput {
    #[schema(value_type = Option<String>)]
    project: Option<DxId>,
}

fn not_open(id: &DxId) -> DxError {
    DxError::invalid_state(format!("{id} is not in the open state"))
}

/// `/class-xxxx/close`: UPLOAD. A file's uploaded parts become its content; every class is
/// closed at once. Closing a closed object changes nothing.
#[utoipa::path(post, path = "/file-{file}/close", tag = "dx", params(("file" = String, Path, description = "The 24 characters after file-; every data object class (record-, applet-, workflow-) takes the same methods")), request_body = ProjectInput, responses((status = 200, description = "The method's output")))]
pub(crate) async fn close(state: &AppState, call: Call, id: DxId) -> Result<Value, DxError> {
    let input: ProjectInput = parse(call.input)?;
    let user_id = call.caller.user.id;
    let output = json!({ "id": id });
    db::blocking(&state.store, move |store| {
        open_file::close(
            store,
            call.claim.get(),
            user_id,
            &id,
            input.project.as_ref(),
        )
    })
    .await?;
    Ok(output)
}

/// `/class-xxxx/getDetails`: the details, as they were set.
#[utoipa::path(post, path = "/file-{file}/getDetails", tag = "dx", params(("file" = String, Path, description = "The 24 characters after file-; every data object class (record-, applet-, workflow-) takes the same methods")), request_body = ProjectInput, responses((status = 200, description = "The method's output")))]
pub(crate) async fn get_details(state: &AppState, call: Call, id: DxId) -> Result<Value, DxError> {
    let input: ProjectInput = parse(call.input)?;
    let user_id = call.caller.user.id;
    db::read(&state.store, move |conn| {
        let copy = object_copy(
            conn,
            user_id,
            &id,
            ProjectHint::Prefer(input.project.as_ref()),
        )?;
        Ok(copy.object.details)
    })
    .await
}

/// Applies a change to what belongs to the object (not the copy), while it is open: UPLOAD.
async fn change_open_object(
    state: &AppState,
    claim: RequestClaim,
    call_user: UserRowId,
    id: DxId,
    change: impl FnOnce(&ObjectCopy) -> Result<OpenObjectChange, DxError> + Send + 'static,
) -> Result<Value, DxError> {
    let output = json!({ "id": id });
    db::write(&state.store, claim, move |conn| -> Result<(), DxError> {
        let copy = copy_to_change(conn, call_user, &id, None, Level::Upload)?;
        if copy.object.state != ObjectState::Open {
            return Err(not_open(&id));
        }
        let change = change(&copy)?;
        if !objects::change_open(conn, copy.object.id, &change)? {
            return Err(not_open(&id));
        }
        Ok(())
    })
    .await?;
    Ok(output)
}

/// `/class-xxxx/setDetails`: the body is the new details (an object or an array); its links
/// are read again.
#[utoipa::path(post, path = "/file-{file}/setDetails", tag = "dx", params(("file" = String, Path, description = "The 24 characters after file-; every data object class (record-, applet-, workflow-) takes the same methods")), request_body = Object, responses((status = 200, description = "The method's output")))]
pub(crate) async fn set_details(state: &AppState, call: Call, id: DxId) -> Result<Value, DxError> {
    let details = call.input;
    if !details.is_object() && !details.is_array() {
        return Err(DxError::invalid_input(
            "details must be an object or an array",
        ));
    }
    check_links(&details)?;
    text::details_len(details.to_string().len())?;
    change_open_object(state, call.claim, call.caller.user.id, id, move |_| {
        Ok(OpenObjectChange::Details(details))
    })
    .await
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
struct VisibilityInput {
    hidden: bool,
}

/// `/class-xxxx/setVisibility`.
#[utoipa::path(post, path = "/file-{file}/setVisibility", tag = "dx", params(("file" = String, Path, description = "The 24 characters after file-; every data object class (record-, applet-, workflow-) takes the same methods")), request_body = VisibilityInput, responses((status = 200, description = "The method's output")))]
pub(crate) async fn set_visibility(
    state: &AppState,
    call: Call,
    id: DxId,
) -> Result<Value, DxError> {
    let input: VisibilityInput = parse(call.input)?;
    change_open_object(state, call.claim, call.caller.user.id, id, move |_| {
        Ok(OpenObjectChange::Hidden(input.hidden))
    })
    .await
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
struct TypesInput {
    types: Vec<String>,
}

/// `/class-xxxx/addTypes`: types already there stay once.
#[utoipa::path(post, path = "/file-{file}/addTypes", tag = "dx", params(("file" = String, Path, description = "The 24 characters after file-; every data object class (record-, applet-, workflow-) takes the same methods")), request_body = TypesInput, responses((status = 200, description = "The method's output")))]
pub(crate) async fn add_types(state: &AppState, call: Call, id: DxId) -> Result<Value, DxError> {
    let input: TypesInput = parse(call.input)?;
    change_open_object(state, call.claim, call.caller.user.id, id, move |copy| {
        let mut types = copy.object.types.clone();
        types.extend(input.types);
        Ok(OpenObjectChange::Types(text::types(deduplicated(types))?))
    })
    .await
}

/// `/class-xxxx/removeTypes`: types not there are ignored.
#[utoipa::path(post, path = "/file-{file}/removeTypes", tag = "dx", params(("file" = String, Path, description = "The 24 characters after file-; every data object class (record-, applet-, workflow-) takes the same methods")), request_body = TypesInput, responses((status = 200, description = "The method's output")))]
pub(crate) async fn remove_types(state: &AppState, call: Call, id: DxId) -> Result<Value, DxError> {
    let input: TypesInput = parse(call.input)?;
    change_open_object(state, call.claim, call.caller.user.id, id, move |copy| {
        let mut types = copy.object.types.clone();
        types.retain(|kept| !input.types.contains(kept));
        Ok(OpenObjectChange::Types(types))
    })
    .await
}

/// The strings in their first order, each once.
fn deduplicated(strings: Vec<String>) -> Vec<String> {
    let mut seen = std::collections::HashSet::new();
    strings
        .into_iter()
        .filter(|s| seen.insert(s.clone()))
        .collect()
}

/// Applies a change to one copy's name, tags or properties: UPLOAD in its project, open or
/// closed.
async fn change_copy(
    state: &AppState,
    claim: RequestClaim,
    call_user: UserRowId,
    id: DxId,
    project: Option<DxId>,
    change: impl FnOnce(&ObjectCopy, &mut DbConnection) -> Result<(), DxError> + Send + 'static,
) -> Result<Value, DxError> {
    let output = json!({ "id": id });
    db::write(&state.store, claim, move |conn| -> Result<(), DxError> {
        let copy = copy_to_change(conn, call_user, &id, project.as_ref(), Level::Upload)?;
        change(&copy, conn)
    })
    .await?;
    Ok(output)
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
struct RenameInput {
    #[schema(value_type = Option<String>)]
    project: Option<DxId>,
    name: String,
}

/// `/class-xxxx/rename`: the name of the copy in `project`.
#[utoipa::path(post, path = "/file-{file}/rename", tag = "dx", params(("file" = String, Path, description = "The 24 characters after file-; every data object class (record-, applet-, workflow-) takes the same methods")), request_body = RenameInput, responses((status = 200, description = "The method's output")))]
pub(crate) async fn rename(state: &AppState, call: Call, id: DxId) -> Result<Value, DxError> {
    let input: RenameInput = parse(call.input)?;
    let name = object_name(input.name)?;
    change_copy(
        state,
        call.claim,
        call.caller.user.id,
        id,
        input.project,
        move |copy, conn| {
            let changes = CopyChanges {
                name: Some(name.as_str()),
                ..CopyChanges::default()
            };
            Ok(objects::change_copy(conn, copy.placement.id, changes)?)
        },
    )
    .await
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
struct TagsInput {
    #[schema(value_type = Option<String>)]
    project: Option<DxId>,
    tags: Vec<String>,
}

/// `/class-xxxx/addTags`: tags already there stay once.
#[utoipa::path(post, path = "/file-{file}/addTags", tag = "dx", params(("file" = String, Path, description = "The 24 characters after file-; every data object class (record-, applet-, workflow-) takes the same methods")), request_body = TagsInput, responses((status = 200, description = "The method's output")))]
pub(crate) async fn add_tags(state: &AppState, call: Call, id: DxId) -> Result<Value, DxError> {
    change_tags(state, call, id, input::add_tags).await
}

/// `/class-xxxx/removeTags`: tags not there are ignored.
#[utoipa::path(post, path = "/file-{file}/removeTags", tag = "dx", params(("file" = String, Path, description = "The 24 characters after file-; every data object class (record-, applet-, workflow-) takes the same methods")), request_body = TagsInput, responses((status = 200, description = "The method's output")))]
pub(crate) async fn remove_tags(state: &AppState, call: Call, id: DxId) -> Result<Value, DxError> {
    change_tags(state, call, id, input::remove_tags).await
}

/// Sets a copy's tags to what `edit` makes of its current tags and the tags given.
async fn change_tags(
    state: &AppState,
    call: Call,
    id: DxId,
    edit: fn(&mut Vec<String>, Vec<String>),
) -> Result<Value, DxError> {
    let input: TagsInput = parse(call.input)?;
    change_copy(
        state,
        call.claim,
        call.caller.user.id,
        id,
        input.project,
        move |copy, conn| {
            let mut tags = copy.placement.tags.clone();
            edit(&mut tags, input.tags);
            let tags = text::tags(tags)?;
            let changes = CopyChanges {
                tags: Some(&tags),
                ..CopyChanges::default()
            };
            Ok(objects::change_copy(conn, copy.placement.id, changes)?)
        },
    )
    .await
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
struct PropertiesInput {
    #[schema(value_type = Option<String>)]
    project: Option<DxId>,
    #[schema(value_type = Object)]
    properties: Map<String, Value>,
}

/// `/class-xxxx/setProperties`: `{key: string}` sets, `{key: null}` removes.
#[utoipa::path(post, path = "/file-{file}/setProperties", tag = "dx", params(("file" = String, Path, description = "The 24 characters after file-; every data object class (record-, applet-, workflow-) takes the same methods")), request_body = PropertiesInput, responses((status = 200, description = "The method's output")))]
pub(crate) async fn set_properties(
    state: &AppState,
    call: Call,
    id: DxId,
) -> Result<Value, DxError> {
    let input: PropertiesInput = parse(call.input)?;
    let changes = PropertyChanges::parse(input.properties)?;
    change_copy(
        state,
        call.claim,
        call.caller.user.id,
        id,
        input.project,
        move |copy, conn| {
            let properties = changes.applied_to(copy.placement.properties.clone())?;
            let changes = CopyChanges {
                properties: Some(&properties),
                ..CopyChanges::default()
            };
            Ok(objects::change_copy(conn, copy.placement.id, changes)?)
        },
    )
    .await
}
