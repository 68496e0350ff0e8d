//! Errors in the SBG dialect: `{"status", "code", "message", "more_info"}` with the HTTP status.
//!
//! `status` and `code` are integers because the SDK validates them as such. Code 0 is never sent
//! with a 503: the SDK reads it as "maintenance" and sleeps 300 s before retrying, forever.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use ferry_store::StoreError;
use std::fmt;

const MORE_INFO: &str = "https://docs.sevenbridges.com/docs/api-status-codes";

/// The JSON body of an error, as the SDK parses it.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub(crate) struct SbgErrorBody {
    /// The HTTP status, again.
    status: u16,
    /// The SBG error code, e.g. 5002 for a file that does not exist.
    code: u32,
    message: String,
    more_info: &'static str,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SbgError {
    pub status: StatusCode,
    pub code: u32,
    pub message: String,
}

impl SbgError {
    pub fn new(status: StatusCode, code: u32, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
        }
    }

    pub fn unauthorized() -> Self {
        Self::new(StatusCode::UNAUTHORIZED, 90001, "Unauthorized.")
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, 90000, message)
    }

    pub fn route_not_found() -> Self {
        Self::new(StatusCode::NOT_FOUND, 90003, "Not found.")
    }

    pub fn unavailable() -> Self {
        Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            90011,
            "Service temporarily unavailable. Try again later.",
        )
    }

    pub fn internal() -> Self {
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            90010,
            "Internal server error.",
        )
    }

    /// The JSON body, as the SDK parses it.
    pub fn body(&self) -> serde_json::Value {
        serde_json::to_value(SbgErrorBody {
            status: self.status.as_u16(),
            code: self.code,
            message: self.message.clone(),
            more_info: MORE_INFO,
        })
        .expect("an error body serialises")
    }

    pub fn into_response(self) -> HttpResponse {
        self.error_response()
    }
}

impl fmt::Display for SbgError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {}: {}",
            self.status.as_u16(),
            self.code,
            self.message
        )
    }
}

impl ResponseError for SbgError {
    fn status_code(&self) -> StatusCode {
        self.status
    }

    fn error_response(&self) -> HttpResponse {
        let mut response = HttpResponse::build(self.status);
        if self.status == StatusCode::SERVICE_UNAVAILABLE {
            // An outage: tell clients and proxies when a retry is worth it.
            response.insert_header(("Retry-After", "5"));
        }
        response.json(self.body())
    }
}

/// Store failures that reach a handler unhandled: outages are 503s (the SDK may retry them),
/// anything else is a bug, logged here with its cause and never echoed to the client.
impl From<StoreError> for SbgError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Unavailable(cause) => {
                tracing::warn!(%cause, "database unavailable");
                Self::unavailable()
            }
            // A retry holds the request's key and runs it: this one wrote nothing.
            StoreError::ClaimTakenOver => {
                tracing::warn!("the Idempotency-Key claim was taken over");
                Self::unavailable()
            }
            other => {
                tracing::error!(error = ?other, "unexpected store error");
                Self::internal()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn body_has_the_four_fields_the_sdk_reads_with_integer_status_and_code() {
        let body = SbgError::unauthorized().body();
        assert_eq!(body["status"], 401);
        assert_eq!(body["code"], 90001);
        assert_eq!(body["message"], "Unauthorized.");
        assert!(body["more_info"].is_string());
    }

    #[test]
    fn outage_is_a_503_without_the_maintenance_code() {
        for cause in [
            StoreError::Unavailable("down".into()),
            StoreError::ClaimTakenOver,
        ] {
            let e = SbgError::from(cause);
            assert_eq!(e.status, StatusCode::SERVICE_UNAVAILABLE);
            assert_ne!(e.code, 0);
        }
    }
}
