//! The Seven Bridges / CAVATICA v2 dialect, under `/v2`.
//!
//! Contract: `shared/reference/sbg-api.md`. Every href is absolute, every list carries
//! `X-Total-Matching-Query`, every error is `{status, code, message, more_info}`, and the bodies
//! the SDK sends with GET (`null`) and DELETE (`{}`) are ignored.

mod billing;
mod bulk;
mod copy;
mod error;
mod files;
mod listing;
mod members;
mod projects;
mod rate_limit;
mod users;

use crate::AppState;
use crate::auth::{Caller, authenticate};
use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest, Scope, web};
use std::future::Future;
use std::pin::Pin;

pub use error::SbgError;

pub(crate) const PREFIX: &str = "/v2";

/// Whether a path belongs to this dialect (for unknown-route errors).
pub(crate) fn owns_path(path: &str) -> bool {
    path == PREFIX || path.starts_with("/v2/")
}

pub(crate) fn scope() -> Scope {
    web::scope(PREFIX)
        .app_data(web::JsonConfig::default().error_handler(|e, _| {
            SbgError::new(
                actix_web::http::StatusCode::BAD_REQUEST,
                90009,
                format!("An error occurred during the decoding of the request content: {e}"),
            )
            .into()
        }))
        .configure(users::routes)
        .configure(billing::routes)
        .configure(projects::routes)
        .configure(members::routes)
        .configure(files::routes)
        .configure(bulk::routes)
        .configure(copy::routes)
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
                .ok_or_else(SbgError::unauthorized)
        })
    }
}
