//! The Seven Bridges / CAVATICA v2 dialect, under `/v2`.
//!
//! Contract: `shared/reference/sbg-api.md`. Every href is absolute, every list carries
//! `X-Total-Matching-Query`, every error is `{status, code, message, more_info}`, and the bodies
//! the SDK sends with GET (`null`) and DELETE (`{}`) are ignored.

mod async_jobs;
mod billing;
mod bulk;
mod copy;
pub(crate) mod doc;
mod error;
mod files;
mod listing;
mod members;
mod moving;
mod projects;
mod query;
mod rate_limit;
mod refusals;
mod upload;
mod users;

use crate::auth::{Caller, authenticate};
use crate::{ApiConfig, AppState};
use actix_web::body::MessageBody;
use actix_web::dev::{Payload, ServiceFactory, ServiceRequest, ServiceResponse};
use actix_web::error::JsonPayloadError;
use actix_web::middleware::from_fn;
use actix_web::{FromRequest, HttpRequest, HttpResponse, Resource, Scope, web};
use ferry_domain::ids::SbgProjectId;
use ferry_domain::row_ids::UserRowId;
use ferry_store::DbConnection;
use ferry_store::projects::{self as project_repo, VisibleProject};
use std::future::Future;
use std::pin::Pin;

pub use error::SbgError;

pub(crate) const PREFIX: &str = "/v2";

/// Whether a path belongs to this dialect (see `crate::dialect`).
pub(crate) fn owns_path(path: &str) -> bool {
    path == PREFIX || path.starts_with("/v2/")
}

/// Bodies that cannot be read as the handler's JSON: too large (413), not JSON (415), or not
/// of the expected shape (400).
fn json_error(e: JsonPayloadError, _: &HttpRequest) -> actix_web::Error {
    let error = match e {
        JsonPayloadError::Overflow { limit }
        | JsonPayloadError::OverflowKnownLength { limit, .. } => {
            SbgError::BodyTooLarge(format!("The request body is larger than {limit} bytes."))
        }
        JsonPayloadError::ContentType => SbgError::UnsupportedMediaType,
        other => SbgError::UndecodableBody(other.to_string()),
    };
    error.into()
}

pub(crate) fn scope(
    config: &ApiConfig,
) -> Scope<
    impl ServiceFactory<
        ServiceRequest,
        Config = (),
        Response = ServiceResponse<impl MessageBody + use<>>,
        Error = actix_web::Error,
        InitError = (),
    > + use<>,
> {
    web::scope(PREFIX)
        .app_data(
            web::JsonConfig::default()
                .limit(config.max_body_bytes)
                .error_handler(json_error),
        )
        .wrap(from_fn(rate_limit::enforce))
        .configure(users::routes)
        .configure(billing::routes)
        .configure(projects::routes)
        .configure(members::routes)
        .configure(files::routes)
        .configure(upload::routes)
        .configure(bulk::routes)
        .configure(copy::routes)
        .configure(moving::routes)
        .configure(async_jobs::routes)
        .configure(rate_limit::routes)
}

/// Timestamps as the SDK parses them: `YYYY-MM-DDTHH:MM:SSZ`, never an offset.
pub(crate) fn timestamp(t: chrono::DateTime<chrono::Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// The absolute href of a path under `/v2`.
pub(crate) fn href(state: &AppState, path: &str) -> String {
    format!("{}{PREFIX}{path}", state.config.public_url)
}

/// A resource at `paths` (one or more) whose unsupported methods answer a JSON 405 (90006):
/// actix's own answer has no body, and the SDK only raises typed errors for JSON ones.
pub(crate) fn resource(paths: &[&str]) -> Resource {
    web::resource(paths.to_vec()).default_service(web::to(|| async {
        HttpResponse::from_error(SbgError::MethodNotAllowed)
    }))
}

/// The project `id` names, as the user sees it: 404 (3002) when it does not exist and, alike,
/// when they are not a member, so that a project's existence is never revealed.
pub(crate) fn visible_project(
    conn: &mut DbConnection,
    user_id: UserRowId,
    id: &SbgProjectId,
) -> Result<VisibleProject, SbgError> {
    project_repo::find_for_member(conn, user_id, id)?.ok_or(SbgError::ProjectNotFound)
}

/// An authenticated SBG caller; a missing, unknown, revoked or expired token is a 401 (90001).
#[derive(Debug)]
pub struct SbgCaller(pub Caller);

impl FromRequest for SbgCaller {
    type Error = SbgError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, SbgError>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move {
            authenticate(&req)
                .await?
                .map(SbgCaller)
                .ok_or(SbgError::Unauthorized)
        })
    }
}
