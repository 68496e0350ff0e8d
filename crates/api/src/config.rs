//! The HTTP layer's settings, filled in by the binary from flags and environment.

use crate::rate_limit::RateLimit;
use actix_cors::Cors;
use actix_web::http::header;

#[derive(Clone, Debug)]
pub struct ApiConfig {
    /// Absolute base of every href, without a trailing slash, e.g. `http://127.0.0.1:8080`.
    pub public_url: String,
    /// Origins allowed to call the API from a browser; `*` allows any.
    pub cors_origins: Vec<String>,
    /// Largest accepted request body; larger ones get a 413 in the dialect's shape.
    pub max_body_bytes: usize,
    /// Requests per token in the SBG dialect (`/v2`).
    pub sbg_rate_limit: RateLimit,
    /// Requests per token in the DNAnexus dialect.
    pub dx_rate_limit: RateLimit,
}

impl ApiConfig {
    pub fn new(public_url: &str) -> Self {
        Self {
            public_url: public_url.trim_end_matches('/').to_owned(),
            cors_origins: Vec::new(),
            max_body_bytes: 16 * 1024 * 1024,
            sbg_rate_limit: RateLimit::CAVATICA,
            dx_rate_limit: RateLimit::CAVATICA,
        }
    }
}

/// Browsers send `X-SBG-Auth-Token` on every call, so it must be allowed in preflights, and the
/// SDK-visible headers must be exposed for frontends to read them.
pub(crate) fn cors(config: &ApiConfig) -> Cors {
    let mut cors = Cors::default()
        .allowed_methods(["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"])
        .allowed_headers([
            header::AUTHORIZATION,
            header::CONTENT_TYPE,
            header::ACCEPT,
            header::HeaderName::from_static("x-sbg-auth-token"),
            header::HeaderName::from_static("idempotency-key"),
        ])
        .expose_headers([
            "x-total-matching-query",
            "x-ratelimit-limit",
            "x-ratelimit-remaining",
            "x-ratelimit-reset",
            "x-request-id",
            "idempotent-replayed",
        ])
        .max_age(3600);
    for origin in &config.cors_origins {
        cors = if origin == "*" {
            cors.allow_any_origin()
        } else {
            cors.allowed_origin(origin)
        };
    }
    cors
}
