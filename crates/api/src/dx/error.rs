//! Errors in the DNAnexus dialect: `{"error": {"type", "message"}}` with a 4xx status.
//!
//! dxpy maps `type` to an exception class by name. It retries 5xx a few times and 503 and 429
//! forever, so a deterministic error must never be a 5xx.

use crate::store_failure::StoreFailure;
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use ferry_domain::DomainError;
use ferry_store::StoreError;
use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DxErrorType {
    MalformedJSON,
    InvalidInput,
    /// A body over the size limit: dxpy knows no such type, so it is named `InvalidInput`.
    PayloadTooLarge,
    /// A bad request header (such as `Idempotency-Key`): the input is fine, the request is not,
    /// so a 400 named `InvalidInput`.
    InvalidHeader,
    InvalidAuthentication,
    PermissionDenied,
    ResourceNotFound,
    InvalidState,
    InvalidType,
    SpendingLimitExceeded,
    /// Over the token's rate limit (429, with `Retry-After`): dxpy retries it for ever.
    RateLimitConditional,
    ServiceUnavailable,
    InternalError,
}

impl DxErrorType {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::MalformedJSON => "MalformedJSON",
            Self::InvalidInput | Self::PayloadTooLarge | Self::InvalidHeader => "InvalidInput",
            Self::InvalidAuthentication => "InvalidAuthentication",
            Self::PermissionDenied => "PermissionDenied",
            Self::ResourceNotFound => "ResourceNotFound",
            Self::InvalidState => "InvalidState",
            Self::InvalidType => "InvalidType",
            Self::SpendingLimitExceeded => "SpendingLimitExceeded",
            Self::RateLimitConditional => "RateLimitConditional",
            Self::ServiceUnavailable => "ServiceUnavailable",
            Self::InternalError => "InternalError",
        }
    }

    pub fn status(self) -> StatusCode {
        match self {
            Self::MalformedJSON | Self::InvalidHeader => StatusCode::BAD_REQUEST,
            Self::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Self::InvalidInput | Self::InvalidState | Self::InvalidType => {
                StatusCode::UNPROCESSABLE_ENTITY
            }
            Self::InvalidAuthentication => StatusCode::UNAUTHORIZED,
            Self::PermissionDenied | Self::SpendingLimitExceeded => StatusCode::FORBIDDEN,
            Self::ResourceNotFound => StatusCode::NOT_FOUND,
            Self::RateLimitConditional => StatusCode::TOO_MANY_REQUESTS,
            Self::ServiceUnavailable => StatusCode::SERVICE_UNAVAILABLE,
            Self::InternalError => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

/// The JSON body of an error: `{"error": {"type", "message", "details"?}}`.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub(crate) struct DxErrorBody {
    error: DxErrorDetail,
}

#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub(crate) struct DxErrorDetail {
    /// The error's class name, as dxpy maps it to an exception, e.g. `ResourceNotFound`.
    #[serde(rename = "type")]
    kind: &'static str,
    message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    details: Option<serde_json::Value>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DxError {
    pub kind: DxErrorType,
    pub message: String,
    /// Shown as `error.details` when set (dxpy prints it after the message).
    pub details: Option<serde_json::Value>,
}

impl DxError {
    pub fn new(kind: DxErrorType, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: message.into(),
            details: None,
        }
    }

    pub fn with_details(mut self, details: serde_json::Value) -> Self {
        self.details = Some(details);
        self
    }

    pub fn resource_not_found(message: impl Into<String>) -> Self {
        Self::new(DxErrorType::ResourceNotFound, message)
    }

    /// An entity that does not exist or that the caller may not see: the two are never told
    /// apart, so that existence is not revealed.
    pub fn entity_not_found(id: impl fmt::Display) -> Self {
        Self::resource_not_found(format!("The entity {id} could not be found"))
    }

    pub fn invalid_input(message: impl Into<String>) -> Self {
        Self::new(DxErrorType::InvalidInput, message)
    }

    pub fn invalid_state(message: impl Into<String>) -> Self {
        Self::new(DxErrorType::InvalidState, message)
    }

    /// An outage: the 503 dxpy retries.
    pub fn unavailable() -> Self {
        Self::new(
            DxErrorType::ServiceUnavailable,
            "The service is temporarily unavailable",
        )
    }

    /// A bug: the 500 every unexpected failure gets.
    pub fn internal_error() -> Self {
        Self::new(DxErrorType::InternalError, "Internal error")
    }

    pub fn permission_denied(message: impl Into<String>) -> Self {
        Self::new(DxErrorType::PermissionDenied, message)
    }

    pub fn body(&self) -> serde_json::Value {
        serde_json::to_value(DxErrorBody {
            error: DxErrorDetail {
                kind: self.kind.as_str(),
                message: self.message.clone(),
                details: self.details.clone(),
            },
        })
        .expect("an error body serialises")
    }

    pub fn into_response(self) -> HttpResponse {
        self.error_response()
    }
}

impl fmt::Display for DxError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.kind.as_str(), self.message)
    }
}

impl ResponseError for DxError {
    fn status_code(&self) -> StatusCode {
        self.kind.status()
    }

    fn error_response(&self) -> HttpResponse {
        let mut response = HttpResponse::build(self.status_code());
        if self.kind == DxErrorType::ServiceUnavailable {
            // dxpy waits Retry-After seconds between its endless 503 retries.
            response.insert_header(("Retry-After", "5"));
        }
        response.json(self.body())
    }
}

impl From<StoreError> for DxError {
    fn from(e: StoreError) -> Self {
        match StoreFailure::from(e) {
            StoreFailure::Outage => Self::unavailable(),
            StoreFailure::Bug => Self::internal_error(),
        }
    }
}

/// A value that did not parse into its domain type: the input is wrong.
impl From<DomainError> for DxError {
    fn from(e: DomainError) -> Self {
        Self::invalid_input(e.to_string())
    }
}

/// Reading or writing file content failed: like any store failure, the caller cannot fix it
/// (a full content store is a 503).
impl From<std::io::Error> for DxError {
    fn from(e: std::io::Error) -> Self {
        StoreError::from(e).into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn body_is_an_error_object_with_type_and_message() {
        let body = DxError::resource_not_found("no such thing").body();
        assert_eq!(body["error"]["type"], "ResourceNotFound");
        assert_eq!(body["error"]["message"], "no such thing");
        assert_eq!(
            DxErrorType::ResourceNotFound.status(),
            StatusCode::NOT_FOUND
        );
    }

    #[test]
    fn an_outage_and_a_claim_taken_over_are_503s() {
        for cause in [
            StoreError::Unavailable("down".into()),
            StoreError::ClaimTakenOver,
        ] {
            let e = DxError::from(cause);
            assert_eq!(e.body()["error"]["type"], "ServiceUnavailable");
        }
    }
}
