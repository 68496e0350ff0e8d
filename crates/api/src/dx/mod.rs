//! The DNAnexus dialect: `POST /{id-or-class}/{method}`, a JSON object in and out.
//!
//! Contract: `shared/reference/dx-api.md`. Dispatch is on the path's first segment: `system`, a
//! class (`/record/new`), or an entity id (`/project-xxxx/clone`), so `container-…` and
//! `project-…` reach the same methods. Unknown keys in the input are ignored, responses are
//! never compressed, and every error is `{"error": {"type", "message"}}` with a 4xx (5xx only for
//! outages and bugs: dxpy retries them, 503 forever).

mod clone;
mod describe;
pub(crate) mod doc;
mod error;
mod folders;
mod input;
mod objects;
mod project_tags;
mod projects;
mod refusals;
mod resolve;
mod system;
mod toolkit;
mod upload;
mod users;

use crate::AppState;
use crate::auth::{Caller, authenticate};
use crate::db::RequestClaim;
use actix_web::http::header::ContentType;
use actix_web::web::Bytes;
use actix_web::{HttpRequest, HttpResponse, web};
use ferry_domain::ids::{DxClass, DxId, Username};
use futures_util::StreamExt;
use serde_json::Value;

pub use error::{DxError, DxErrorType};

/// What a method answers: a JSON value, or JSON text rendered straight from store rows where
/// building a `Value` first would cost more than finding the rows (`listProjects` of an object
/// in thousands of projects: docs/performance.md).
pub(crate) enum Answer {
    Value(Value),
    Rendered(String),
}

/// What the path's first segment names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Target {
    /// `/system/{method}`.
    System,
    /// `/{class}/new`, e.g. `/record/new`.
    Class(DxClass),
    /// `/{class}-{id}/{method}`.
    Entity(DxId),
    /// `/user-{handle}/{method}`: users are not entities of a class.
    User(Username),
}

impl Target {
    fn parse(segment: &str) -> Result<Target, DxError> {
        if segment == "system" {
            return Ok(Target::System);
        }
        if let Ok(class) = segment.parse::<DxClass>() {
            return Ok(Target::Class(class));
        }
        if let Some(handle) = segment.strip_prefix("user-") {
            return Username::parse(handle).map(Target::User).map_err(|_| {
                DxError::resource_not_found(format!("The entity {segment} could not be found"))
            });
        }
        DxId::parse(segment).map(Target::Entity).map_err(|_| {
            DxError::resource_not_found(format!("The entity {segment} could not be found"))
        })
    }
}

/// One call: who makes it, on what, with which input.
#[derive(Debug)]
pub(crate) struct Call {
    pub caller: Caller,
    /// The request's `Idempotency-Key` claim, for the call's unit of work.
    pub claim: RequestClaim,
    pub target: Target,
    pub method: String,
    pub input: Value,
}

pub(crate) fn routes(cfg: &mut web::ServiceConfig) {
    cfg.configure(upload::routes)
        .route("/{target}/{method}", web::post().to(dispatch));
}

async fn dispatch(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<(String, String)>,
    payload: web::Payload,
) -> Result<HttpResponse, DxError> {
    let (target, method) = path.into_inner();
    let body = read_body(payload, state.config.max_body_bytes).await?;
    let caller = authenticate(&req).await?.ok_or_else(|| {
        DxError::new(
            DxErrorType::InvalidAuthentication,
            "The token could not be found",
        )
    })?;
    let now = chrono::Utc::now().timestamp();
    let allowance = state.dx_rate.admit(caller.token.id.get(), now);
    if !allowance.admitted {
        // dxpy waits `Retry-After` seconds (stretched a little on each attempt) and retries for
        // ever, so a refused client resumes soon after the window ends.
        let mut refused = DxError::new(
            DxErrorType::RateLimitConditional,
            format!(
                "Too many requests: at most {} per token per window. Retry after the window ends.",
                allowance.limit
            ),
        )
        .into_response();
        refused.headers_mut().insert(
            actix_web::http::header::RETRY_AFTER,
            actix_web::http::header::HeaderValue::from(allowance.retry_after(now)),
        );
        return Ok(refused);
    }
    let call = Call {
        caller,
        claim: RequestClaim::of(&req),
        target: Target::parse(&target)?,
        input: parse_input(&method, &body)?,
        method,
    };
    match route(&state, call).await? {
        Answer::Value(output) => Ok(HttpResponse::Ok().json(output)),
        Answer::Rendered(json) => Ok(HttpResponse::Ok()
            .content_type(ContentType::json())
            .body(json)),
    }
}

/// The whole body, refusing (413, in this dialect's shape) one larger than `limit`.
async fn read_body(mut payload: web::Payload, limit: usize) -> Result<Bytes, DxError> {
    let mut body = web::BytesMut::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|e| {
            DxError::new(
                DxErrorType::MalformedJSON,
                format!("The body could not be read: {e}"),
            )
        })?;
        if body.len() + chunk.len() > limit {
            return Err(DxError::new(
                DxErrorType::PayloadTooLarge,
                format!("The request body is larger than {limit} bytes"),
            ));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body.freeze())
}

/// The body as JSON: `{}` when empty. Only `setDetails` takes a non-object (the details value).
fn parse_input(method: &str, body: &[u8]) -> Result<Value, DxError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(Value::Object(serde_json::Map::new()));
    }
    let input: Value = serde_json::from_slice(body).map_err(|e| {
        DxError::new(
            DxErrorType::MalformedJSON,
            format!("The input could not be parsed as JSON: {e}"),
        )
    })?;
    if !input.is_object() && method != "setDetails" {
        return Err(DxError::new(
            DxErrorType::InvalidInput,
            "The input must be a JSON object",
        ));
    }
    Ok(input)
}

/// The method table. Each arm hands the call to the module that owns that method.
async fn route(state: &AppState, call: Call) -> Result<Answer, DxError> {
    let target = call.target.clone();
    let output = match (target, call.method.as_str()) {
        (Target::System, "whoami") => Ok(system::whoami(&call)),
        (Target::System, "greet") => Ok(toolkit::greet()),
        (Target::System, "findApps") => Ok(toolkit::find_apps()),
        (Target::System, "findGlobalWorkflows") => Ok(toolkit::find_global_workflows()),
        (Target::System, "findExecutions") => Ok(toolkit::find_executions()),
        (Target::System, "findProjects") => system::find_projects(state, call).await,
        (Target::User(username), "describe") => users::describe(&call, &username),
        (Target::System, "findDataObjects") => system::find_data_objects(state, call).await,
        (Target::System, "describeDataObjects") => system::describe_data_objects(state, call).await,
        (Target::System, "resolveDataObjects") => resolve::resolve_data_objects(state, call).await,
        (Target::Class(DxClass::Project), "new") => projects::new(state, call).await,
        (Target::Class(class), "new") if class.is_data_object() => {
            objects::new(state, class, call).await
        }
        (Target::Entity(id), method) if id.class().is_container() => match method {
            "describe" => projects::describe(state, call, id).await,
            "update" => projects::update(state, call, id).await,
            "destroy" => projects::destroy(state, call, id).await,
            "invite" => projects::invite(state, call, id).await,
            "decreasePermissions" => projects::decrease_permissions(state, call, id).await,
            "leave" => projects::leave(state, call, id).await,
            "addTags" => project_tags::add_tags(state, call, id).await,
            "removeTags" => project_tags::remove_tags(state, call, id).await,
            "setProperties" => project_tags::set_properties(state, call, id).await,
            "newFolder" => folders::new_folder(state, call, id).await,
            "listFolder" => folders::list_folder(state, call, id).await,
            "removeFolder" => folders::remove_folder(state, call, id).await,
            "move" => folders::move_items(state, call, id).await,
            "renameFolder" => folders::rename_folder(state, call, id).await,
            "removeObjects" => folders::remove_objects(state, call, id).await,
            "clone" => clone::clone(state, call, id).await,
            "updateSponsorship" => clone::update_sponsorship(state, call, id).await,
            _ => Err(route_not_found(&call)),
        },
        (Target::Entity(id), method) if id.class().is_data_object() => match method {
            "describe" => objects::describe(state, call, id).await,
            "close" => objects::close(state, call, id).await,
            "getDetails" => objects::get_details(state, call, id).await,
            "setDetails" => objects::set_details(state, call, id).await,
            "setVisibility" => objects::set_visibility(state, call, id).await,
            "rename" => objects::rename(state, call, id).await,
            "addTags" => objects::add_tags(state, call, id).await,
            "removeTags" => objects::remove_tags(state, call, id).await,
            "setProperties" => objects::set_properties(state, call, id).await,
            "addTypes" => objects::add_types(state, call, id).await,
            "removeTypes" => objects::remove_types(state, call, id).await,
            "upload" if id.class() == DxClass::File => upload::upload(state, call, id).await,
            "download" if id.class() == DxClass::File => upload::download(state, call, id).await,
            "listProjects" => return clone::list_projects(state, call, id).await,
            _ => Err(route_not_found(&call)),
        },
        _ => Err(route_not_found(&call)),
    }?;
    Ok(Answer::Value(output))
}

fn route_not_found(call: &Call) -> DxError {
    let target = match &call.target {
        Target::System => "system".to_owned(),
        Target::Class(class) => class.as_str().to_owned(),
        Target::Entity(id) => id.to_string(),
        Target::User(username) => format!("user-{username}"),
    };
    DxError::resource_not_found(format!(
        "The route /{target}/{} could not be found",
        call.method
    ))
}
