//! Ferry's HTTP layer: one actix-web application that speaks two dialects over one store.
//!
//! - `sbg`: the Seven Bridges / CAVATICA v2 API under `/v2`.
//! - `dx`: the DNAnexus API, `POST /{id}/{method}` at the root.
//!
//! Each dialect parses its own JSON into domain types, calls the store through [`db::write`] or [`db::read`], and
//! renders its own JSON, errors included. Nothing here holds a database connection across an
//! `.await`: blocking Diesel work runs in `web::block`, one closure per unit of work.

mod admin;
mod audit;
mod auth;
mod config;
mod db;
mod dialect;
mod download;
pub mod dx;
mod health;
mod idempotency;
pub mod openapi;
mod rate_limit;
mod receive;
mod request_log;
pub mod sbg;
mod signing;
mod store_failure;

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ServiceFactory, ServiceRequest, ServiceResponse};
use actix_web::http::Method;
use actix_web::http::header::CONTENT_TYPE;
use actix_web::middleware::{DefaultHeaders, Next, from_fn};
use actix_web::{App, HttpRequest, HttpResponse, web};
use dialect::Dialect;
use ferry_store::Store;
use std::sync::Arc;

pub use config::ApiConfig;
pub use rate_limit::{RateLimit, share_counts, share_counts_forever};

/// What every handler can reach: the store, the configuration, and the key that signs download
/// links.
#[derive(Clone, Debug)]
pub struct AppState {
    pub store: Store,
    pub config: Arc<ApiConfig>,
    /// Requests per token in the current rate-limit window of each dialect, shared by the
    /// workers.
    pub(crate) sbg_rate: Arc<rate_limit::RateLimiter>,
    pub(crate) dx_rate: Arc<rate_limit::RateLimiter>,
    /// Signs the URLs that authorise themselves, with the key all processes share.
    pub(crate) url_signing_key: signing::SharedKey,
    /// The digests of this process's SBG uploads, hashed as their parts arrive.
    pub(crate) upload_digests: Arc<ferry_store::upload_digest::UploadDigests>,
}

impl AppState {
    pub fn new(store: Store, config: ApiConfig) -> Self {
        Self {
            store,
            sbg_rate: Arc::new(rate_limit::RateLimiter::new(config.sbg_rate_limit)),
            dx_rate: Arc::new(rate_limit::RateLimiter::new(config.dx_rate_limit)),
            config: Arc::new(config),
            url_signing_key: signing::SharedKey::default(),
            upload_digests: Arc::default(),
        }
    }
}

/// The whole application, shared by the server and the in-process tests.
pub fn app(
    state: AppState,
) -> App<
    impl ServiceFactory<
        ServiceRequest,
        Config = (),
        Response = ServiceResponse<impl MessageBody>,
        Error = actix_web::Error,
        InitError = (),
    >,
> {
    let cors = config::cors(&state.config);
    let sbg = sbg::scope(&state.config);
    App::new()
        .app_data(web::Data::new(state))
        .wrap(from_fn(idempotency::idempotent))
        .wrap(from_fn(audit::record_denials))
        .app_data(web::PathConfig::default().error_handler(|e, req| bad_request(req, &e)))
        .app_data(web::QueryConfig::default().error_handler(|e, req| bad_request(req, &e)))
        .wrap(cors)
        .wrap(from_fn(json_preflight_refusals))
        .wrap(from_fn(request_log::log_request))
        // Outermost, so that every answer has it: no browser reads a JSON error or a
        // downloaded file as HTML.
        .wrap(DefaultHeaders::new().add(("X-Content-Type-Options", "nosniff")))
        .configure(health::routes)
        .configure(admin::routes)
        .configure(openapi::routes)
        .service(sbg)
        .configure(dx::routes)
        .default_service(web::to(unknown_route))
}

/// A path or query string its route cannot read: a 400 in the dialect the path belongs to
/// (actix's own answer is plain text, which the SDKs cannot read).
fn bad_request(req: &HttpRequest, cause: &dyn std::fmt::Display) -> actix_web::Error {
    match Dialect::of_path(req.path()) {
        Dialect::Sbg => sbg::SbgError::bad_request(format!("Malformed request: {cause}.")).into(),
        Dialect::Dx => {
            dx::DxError::invalid_input(format!("The request could not be read: {cause}")).into()
        }
    }
}

/// actix-cors refuses a preflight (a disallowed origin, method or header) in plain text; the
/// SDKs and browsers' callers read JSON errors, so the refusal is given in the path's dialect,
/// with the same status and message.
async fn json_preflight_refusals(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, actix_web::Error> {
    let preflight = req.method() == Method::OPTIONS;
    let res = next.call(req).await?;
    let is_json = res
        .headers()
        .get(CONTENT_TYPE)
        .is_some_and(|value| value.as_bytes().starts_with(b"application/json"));
    if !preflight || !res.status().is_client_error() || is_json {
        return Ok(res.map_into_left_body());
    }
    let status = res.status();
    let (req, res) = res.into_parts();
    let text = actix_web::body::to_bytes(res.into_body())
        .await
        .map(|bytes| String::from_utf8_lossy(&bytes).trim().to_owned())
        .unwrap_or_default();
    let message = if text.is_empty() {
        status.canonical_reason().unwrap_or("Refused").to_owned()
    } else {
        text
    };
    let body = match Dialect::of_path(req.path()) {
        Dialect::Sbg => sbg::SbgError::PreflightRefused { status, message }.body(),
        Dialect::Dx => dx::DxError::invalid_input(message).body(),
    };
    let response = HttpResponse::build(status).json(body);
    Ok(ServiceResponse::new(req, response).map_into_right_body())
}

/// Unknown routes answer JSON in the dialect their path belongs to: SDKs turn a non-JSON error
/// body into an unhelpful exception.
async fn unknown_route(req: HttpRequest) -> HttpResponse {
    match Dialect::of_path(req.path()) {
        Dialect::Sbg => sbg::SbgError::RouteNotFound.into_response(),
        Dialect::Dx => {
            dx::DxError::resource_not_found(format!("unknown route {}", req.path())).into_response()
        }
    }
}
