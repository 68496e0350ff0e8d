//! Rate limits in this dialect: every `/v2` response carries `X-RateLimit-Limit`, `-Remaining`
//! and `-Reset` (epoch seconds, as the SDK's `rate_limit_sleeper` reads it), a request over the
//! limit is refused with 429 (code 1000) and `Retry-After`, and `GET /rate_limit` reports the
//! allowance without counting against it, as documented.
//!
//! The counting is [`crate::rate_limit`]'s (per token, fixed windows; `FERRY_SBG_RATE_LIMIT`
//! requests per `FERRY_SBG_RATE_WINDOW_SECONDS`). Requests without a valid token are not counted
//! (the handler refuses them) and see the full limit.

use super::{PREFIX, SbgCaller, SbgError};
use crate::AppState;
use crate::auth::authenticate;
use crate::rate_limit::Allowance;
use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderMap, HeaderName, HeaderValue, RETRY_AFTER};
use actix_web::middleware::Next;
use actix_web::{Error, HttpResponse, web};
use chrono::Utc;
use serde_json::json;

/// The route that reports the limit, which does not count against it.
const ROUTE: &str = "/rate_limit";

pub(crate) fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route(ROUTE, web::get().to(rate_limit));
}

fn set_headers(headers: &mut HeaderMap, allowance: &Allowance) {
    headers.insert(
        HeaderName::from_static("x-ratelimit-limit"),
        HeaderValue::from(allowance.limit),
    );
    headers.insert(
        HeaderName::from_static("x-ratelimit-remaining"),
        HeaderValue::from(allowance.remaining),
    );
    headers.insert(
        HeaderName::from_static("x-ratelimit-reset"),
        HeaderValue::from(allowance.reset),
    );
}

/// Middleware of the `/v2` scope: counts the request against its token, refuses it over the
/// limit, and reports the allowance on every response, errors included.
pub(crate) async fn enforce(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, Error> {
    let state = req
        .app_data::<web::Data<AppState>>()
        .expect("AppState is registered by ferry_api::app")
        .clone();
    // A store failure here is the handler's to report, when it authenticates in turn.
    let token_id = authenticate(req.request())
        .await
        .ok()
        .flatten()
        .map(|caller| caller.token.id);
    let now = Utc::now().timestamp();
    let limiter = &state.sbg_rate;
    let allowance = match token_id {
        Some(id) if req.path().strip_prefix(PREFIX) == Some(ROUTE) => limiter.peek(id.get(), now),
        Some(id) => limiter.admit(id.get(), now),
        None => limiter.unused(now),
    };
    if !allowance.admitted {
        let mut refused = SbgError::RateLimited.into_response();
        set_headers(refused.headers_mut(), &allowance);
        refused
            .headers_mut()
            .insert(RETRY_AFTER, HeaderValue::from(allowance.retry_after(now)));
        return Ok(req.into_response(refused).map_into_right_body());
    }
    let mut res = next.call(req).await?;
    set_headers(res.headers_mut(), &allowance);
    Ok(res.map_into_left_body())
}

/// `GET /rate_limit`. There is no per-instance limit, which CAVATICA shows as -1.
#[utoipa::path(get, path = "/v2/rate_limit", tag = "sbg", responses((status = 200, description = "The caller's allowance")))]
async fn rate_limit(state: web::Data<AppState>, caller: SbgCaller) -> HttpResponse {
    let allowance = state
        .sbg_rate
        .peek(caller.0.token.id.get(), Utc::now().timestamp());
    HttpResponse::Ok().json(json!({
        "rate": {"limit": allowance.limit, "remaining": allowance.remaining, "reset": allowance.reset},
        "instance_limit": {"limit": -1, "remaining": -1},
    }))
}
