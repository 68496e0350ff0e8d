//! Rate-limit reporting: the `X-RateLimit-*` headers on every `/v2` response, and
//! `GET /rate_limit`.
//!
//! CAVATICA allows 1000 requests per 5 minutes. Ferry counts each token's requests in fixed
//! 5-minute windows aligned on the epoch and reports what is left, but does not refuse
//! anything yet (enforcement, a 429 with code 1000, is a later step). The counts are kept in
//! memory, keyed by token id (never by secret), per process: with several `ferry serve`
//! processes each reports its own share, and a restart starts a fresh window. Requests without
//! a valid token are not counted and see the full limit. As documented, `GET /rate_limit` does
//! not count against the limit.

use super::{PREFIX, SbgCaller, request_caller};
use crate::AppState;
use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{Error, HttpResponse, web};
use chrono::Utc;
use serde_json::json;
use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};

/// Requests a token may make per window.
const LIMIT: u32 = 1000;
/// The window's length in seconds.
const WINDOW_SECONDS: i64 = 5 * 60;
/// The route that reports the limit, which does not count against it.
const ROUTE: &str = "/rate_limit";

pub(crate) fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route(ROUTE, web::get().to(rate_limit));
}

/// Requests per token in the current window.
#[derive(Debug, Default)]
pub(crate) struct RateLimits {
    window: Mutex<Window>,
}

#[derive(Debug, Default)]
struct Window {
    /// The window's start, in epoch seconds.
    start: i64,
    /// Requests per token id since `start`.
    counts: HashMap<i64, u32>,
}

/// What a token has left in the current window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Allowance {
    remaining: u32,
    /// When the window ends and the count starts again, in epoch seconds.
    reset: i64,
}

impl RateLimits {
    /// Counts one request by the token if `count`, and returns what it has left, at `now`
    /// (epoch seconds).
    fn allowance(&self, token_id: Option<i64>, count: bool, now: i64) -> Allowance {
        let start = now - now.rem_euclid(WINDOW_SECONDS);
        // The counters stay consistent whatever panicked while holding the lock.
        let mut window = self.window.lock().unwrap_or_else(PoisonError::into_inner);
        if window.start != start {
            // Fixed windows: a new one forgets every count, so idle tokens do not accumulate.
            window.start = start;
            window.counts.clear();
        }
        let used = match token_id {
            Some(id) if count => {
                let used = window.counts.entry(id).or_default();
                *used = used.saturating_add(1);
                *used
            }
            Some(id) => window.counts.get(&id).copied().unwrap_or(0),
            None => 0,
        };
        Allowance {
            remaining: LIMIT.saturating_sub(used),
            reset: start + WINDOW_SECONDS,
        }
    }
}

/// Middleware of the `/v2` scope: counts the request against its token and reports the
/// allowance in `X-RateLimit-Limit`, `-Remaining` and `-Reset` (epoch seconds, as the SDK's
/// `rate_limit_sleeper` expects), errors included.
pub(crate) async fn report(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let state = req
        .app_data::<web::Data<AppState>>()
        .expect("AppState is registered by ferry_api::app")
        .clone();
    // A store failure here is the handler's to report, when it authenticates in turn.
    let token_id = request_caller(req.request())
        .await
        .ok()
        .flatten()
        .map(|caller| caller.token.id);
    let counted = req.path().strip_prefix(PREFIX) != Some(ROUTE);
    let allowance = state
        .rate_limits
        .allowance(token_id, counted, Utc::now().timestamp());
    let mut res = next.call(req).await?;
    let headers = res.headers_mut();
    headers.insert(
        HeaderName::from_static("x-ratelimit-limit"),
        HeaderValue::from(LIMIT),
    );
    headers.insert(
        HeaderName::from_static("x-ratelimit-remaining"),
        HeaderValue::from(allowance.remaining),
    );
    headers.insert(
        HeaderName::from_static("x-ratelimit-reset"),
        HeaderValue::from(allowance.reset),
    );
    Ok(res)
}

/// `GET /rate_limit`. There is no per-instance limit, which CAVATICA shows as -1.
#[utoipa::path(get, path = "/v2/rate_limit", tag = "sbg", responses((status = 200, description = "The caller's allowance")))]
async fn rate_limit(state: web::Data<AppState>, caller: SbgCaller) -> HttpResponse {
    let allowance =
        state
            .rate_limits
            .allowance(Some(caller.0.token.id), false, Utc::now().timestamp());
    HttpResponse::Ok().json(json!({
        "rate": {"limit": LIMIT, "remaining": allowance.remaining, "reset": allowance.reset},
        "instance_limit": {"limit": -1, "remaining": -1},
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_per_token_in_fixed_windows() {
        let limits = RateLimits::default();
        let now = 10 * WINDOW_SECONDS + 7;
        let reset = 11 * WINDOW_SECONDS;
        let first = limits.allowance(Some(1), true, now);
        assert_eq!(
            first,
            Allowance {
                remaining: LIMIT - 1,
                reset
            }
        );
        limits.allowance(Some(1), true, now + 1);
        assert_eq!(
            limits.allowance(Some(1), false, now + 2).remaining,
            LIMIT - 2
        );
        assert_eq!(limits.allowance(Some(2), true, now).remaining, LIMIT - 1);
        assert_eq!(limits.allowance(None, true, now).remaining, LIMIT);

        let next = limits.allowance(Some(1), true, reset);
        assert_eq!(
            next,
            Allowance {
                remaining: LIMIT - 1,
                reset: reset + WINDOW_SECONDS
            }
        );
    }

    #[test]
    fn the_count_stops_at_zero() {
        let limits = RateLimits::default();
        for _ in 0..LIMIT + 5 {
            limits.allowance(Some(1), true, 0);
        }
        assert_eq!(limits.allowance(Some(1), false, 0).remaining, 0);
    }
}
