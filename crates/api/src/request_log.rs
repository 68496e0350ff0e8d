//! One span and one log line per request: request id, method, path, status, latency and user.
//!
//! The path is logged without its query string and no header is ever logged, so tokens never
//! reach the log. Handlers record the authenticated user on the current span.

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{Error, HttpMessage};
use std::time::Instant;
use tracing::Instrument;
use tracing::field::Empty;

/// The request's id, in its extensions for whoever records it (the audit trail).
#[derive(Debug, Clone)]
pub(crate) struct RequestId(pub String);

pub(crate) async fn log_request(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let request_id = uuid::Uuid::new_v4().simple().to_string();
    let span = tracing::info_span!(
        "request",
        request_id = %request_id,
        method = %req.method(),
        path = %req.path(),
        user = Empty,
        status = Empty,
        latency_ms = Empty,
    );
    req.extensions_mut().insert(RequestId(request_id.clone()));
    let started = Instant::now();
    let result = next.call(req).instrument(span.clone()).await;
    let latency_ms = started.elapsed().as_secs_f64() * 1000.0;
    span.record("latency_ms", format_args!("{latency_ms:.2}"));
    match result {
        Ok(mut res) => {
            let status = res.status().as_u16();
            span.record("status", status);
            if let Ok(value) = HeaderValue::from_str(&request_id) {
                res.headers_mut()
                    .insert(HeaderName::from_static("x-request-id"), value);
            }
            if status >= 500 {
                tracing::error!(parent: &span, "request failed");
            } else {
                tracing::info!(parent: &span, "request");
            }
            Ok(res)
        }
        Err(e) => {
            tracing::error!(parent: &span, error = %e, "request failed in middleware");
            Err(e)
        }
    }
}
