//! Errors in the SBG dialect: `{"status", "code", "message", "more_info"}` with the HTTP status.
//!
//! [`SbgError`] is the catalogue: each variant is one error, and [`SbgError::parts`] gives its
//! HTTP status, SBG code and message in one place. Codes and wording follow SBG's table
//! (`shared/reference/sbg-api.md` §2.3), extended with what Ferry can say about the case.
//!
//! `status` and `code` are integers because the SDK validates them as such. Code 0 is never sent
//! with a 503: the SDK reads it as "maintenance" and sleeps 300 s before retrying, forever.

use crate::store_failure::StoreFailure;
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use ferry_store::StoreError;
use ferry_store::page::PageError;
use std::borrow::Cow;
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

/// Every error the SBG dialect answers, by what went wrong. Parameters are shown in the
/// message; names are quoted as JSON strings are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SbgError {
    /// 429 (1000): over the token's request budget.
    RateLimited,
    /// 404 (2002).
    UserNotFound,
    /// 403 (3001): the caller is not an administrator of the project.
    NotProjectAdmin,
    /// 403 (3001): the caller may not write to a copy's destination project.
    DestinationNotWritable,
    /// 404 (3002): a project or member that does not exist or that the caller may not see.
    ProjectNotFound,
    /// 409 (3003).
    AlreadyMember { username: String },
    /// 400 (3005).
    MemberUsernameRequired,
    /// 400 (3007).
    ProjectNameRequired,
    /// 400 (3011): a request that must carry permissions but has none.
    PermissionsRequired,
    /// 400 (3012).
    MalformedProjectId,
    /// 400 (3012): the owner or the short name in a project path, with why it is refused.
    MalformedProjectIdPart(String),
    /// 404 (4002).
    BillingGroupNotFound,
    /// 403 (5001): the caller may not change the file.
    FileNotWritable,
    /// 404 (5002).
    FileNotFound,
    /// 404 (5002): an async job's copy, deleted since.
    CopyGone,
    /// 409 (5003): an upload's name is taken in its folder.
    UploadNameTaken { name: String },
    /// 409 (5003): a rename's name is taken in its folder.
    NameTaken { name: String },
    /// 400 (5004).
    FileIdRequired,
    /// 400 (5005).
    MalformedProjectQuery,
    /// 400 (5006), with why.
    InvalidMetadata(String),
    /// 400 (5012): only folders are created through `POST /files`.
    InvalidType,
    /// 403 (5014).
    CopyRefused,
    /// 400 (5018): a folder given to the single-file copy calls.
    FolderCopyRefused,
    /// 400 (5018): a folder given to the move call.
    FolderMoveRefused,
    /// 409 (5021).
    FolderNotEmpty,
    /// 400 (5022).
    NotAFolder,
    /// 400 (5024), with why.
    InvalidName(String),
    /// 400 (5024): a copy's name, once renamed to be unique, would be too long.
    CopyNameTooLong { name: String },
    /// 400 (5024): a moved file's name, once renamed to be unique, would be too long.
    MoveNameTooLong { name: String },
    /// 404 (5026).
    DestinationNotFound,
    /// 400 (5029): neither a destination folder nor a project.
    ParentOrProjectMissing,
    /// 409 (5030): a new folder's name is taken in its parent.
    FolderExists { name: String },
    /// 400 (5031).
    ParentAndProject,
    /// 400 (10229).
    CopyIntoItself,
    /// 400 (10230): an async copy without items.
    NoItems,
    /// 400 (90000): an async copy of a project's root folder.
    RootFolderCopyRefused,
    /// 400 (90000): a move to another project's folder.
    MoveAcrossProjects,
    /// 400 (90000): a move without the folder to move to.
    MoveParentRequired,
    /// 400 (90000): a request Ferry cannot read, with why.
    BadRequest(String),
    /// 413 (90000), with the limit.
    BodyTooLarge(String),
    /// A refused CORS preflight (90000), with actix-cors's status and reason.
    PreflightRefused { status: StatusCode, message: String },
    /// 401 (90001): no token, or one that is unknown, revoked or expired.
    Unauthorized,
    /// 403 (90002): `/admin` for a caller who is not an administrator.
    AdministratorsOnly,
    /// 403 (90002).
    PartUrlInvalid,
    /// 403 (90002).
    DownloadLinkInvalid,
    /// 403 (90002): the file's project is download-restricted.
    DownloadRestricted,
    /// 404 (90003): no route has this path.
    RouteNotFound,
    /// 404 (90003).
    UploadNotFound,
    /// 404 (90003).
    JobNotFound,
    /// 405 (90006).
    MethodNotAllowed,
    /// 409 (90007): another request is completing the upload.
    UploadBeingCompleted,
    /// 409 (90007): a part changed while the upload was being completed.
    PartResent,
    /// 409 (90007): an async job's item that was never copied.
    ItemCancelled,
    /// 409 (90007): the project's last administrator may be neither removed nor demoted.
    LastAdministrator { username: String, project: String },
    /// 409 (90007): a request with the same Idempotency-Key is still running, with the
    /// middleware's message (both dialects say the same).
    IdempotencyKeyInUse(&'static str),
    /// 415 (90008).
    UnsupportedMediaType,
    /// 400 (90009): a body that is not JSON of the expected shape, with why.
    UndecodableBody(String),
    /// 500 (90010): a bug, logged where it happened and never described to the client.
    Internal,
    /// 500 (90010): an async job's item that failed every attempt.
    GaveUp { attempts: i64 },
    /// 503 (90011): the database or the content store is out of reach.
    Unavailable,
    /// 422 (90012, Ferry's): an Idempotency-Key reused for another request, with the
    /// middleware's message.
    IdempotencyKeyReused(&'static str),
    /// 409 (90013, Ferry's): the request with this Idempotency-Key was done and its response
    /// lost, with the middleware's message.
    IdempotentResponseLost(&'static str),
    /// An error of the item at `index` of an async copy request: its message says which.
    AtItem { index: usize, error: Box<SbgError> },
}

impl SbgError {
    /// The error's HTTP status, SBG code and message.
    fn parts(&self) -> (StatusCode, u32, Cow<'_, str>) {
        use StatusCode as S;
        match self {
            Self::RateLimited => (
                S::TOO_MANY_REQUESTS,
                1000,
                "Rate limit exceeded! Check response headers.".into(),
            ),
            Self::UserNotFound => (S::NOT_FOUND, 2002, "Requested user does not exist.".into()),
            Self::NotProjectAdmin => (
                S::FORBIDDEN,
                3001,
                "Not enough privileges to access the requested project/member.".into(),
            ),
            Self::DestinationNotWritable => (
                S::FORBIDDEN,
                3001,
                "Not enough privileges to write to the destination project.".into(),
            ),
            Self::ProjectNotFound => (
                S::NOT_FOUND,
                3002,
                "Requested project or member does not exist.".into(),
            ),
            Self::AlreadyMember { username } => (
                S::CONFLICT,
                3003,
                format!("Requested project/member already exists: '{username}' is a member.")
                    .into(),
            ),
            Self::MemberUsernameRequired => (
                S::BAD_REQUEST,
                3005,
                "Member username must not be null or empty string.".into(),
            ),
            Self::ProjectNameRequired => (
                S::BAD_REQUEST,
                3007,
                "Project name must not be null or empty string.".into(),
            ),
            Self::PermissionsRequired => (
                S::BAD_REQUEST,
                3011,
                "Project permissions must not be null or an empty value.".into(),
            ),
            Self::MalformedProjectId => (
                S::BAD_REQUEST,
                3012,
                "Malformed project id. Expecting `owner/project`.".into(),
            ),
            Self::MalformedProjectIdPart(reason) => (
                S::BAD_REQUEST,
                3012,
                format!("Malformed project id. Expecting `owner/project`: {reason}.").into(),
            ),
            Self::BillingGroupNotFound => (
                S::NOT_FOUND,
                4002,
                "Requested billing group/invoice does not exist.".into(),
            ),
            Self::FileNotWritable => (
                S::FORBIDDEN,
                5001,
                "Insufficient privileges to access the requested file.".into(),
            ),
            Self::FileNotFound => (S::NOT_FOUND, 5002, "Requested file does not exist.".into()),
            Self::CopyGone => (
                S::NOT_FOUND,
                5002,
                "The copy was made, but no longer exists.".into(),
            ),
            Self::UploadNameTaken { name } => (
                S::CONFLICT,
                5003,
                format!("Requested file already exists: {name:?} is taken in this folder.").into(),
            ),
            Self::NameTaken { name } => (
                S::CONFLICT,
                5003,
                format!("A file or folder named {name:?} already exists here.").into(),
            ),
            Self::FileIdRequired => (
                S::BAD_REQUEST,
                5004,
                "File id must not be null or an empty string.".into(),
            ),
            Self::MalformedProjectQuery => (
                S::BAD_REQUEST,
                5005,
                "Malformed project query parameter. Expecting `?project=owner/project`.".into(),
            ),
            Self::InvalidMetadata(reason) => (
                S::BAD_REQUEST,
                5006,
                format!("Metadata validation failed: {reason}").into(),
            ),
            Self::InvalidType => (
                S::BAD_REQUEST,
                5012,
                "Invalid `type` supplied. Allowed values: [folder].".into(),
            ),
            Self::CopyRefused => (
                S::FORBIDDEN,
                5014,
                "Insufficient privileges to copy the requested file.".into(),
            ),
            Self::FolderCopyRefused => (
                S::BAD_REQUEST,
                5018,
                "Copying folders is not supported by this call; use POST /v2/async/files/copy."
                    .into(),
            ),
            Self::FolderMoveRefused => (
                S::BAD_REQUEST,
                5018,
                "Moving folders is not supported.".into(),
            ),
            Self::FolderNotEmpty => (
                S::CONFLICT,
                5021,
                "Deleting non-empty folders is not supported.".into(),
            ),
            Self::NotAFolder => (
                S::BAD_REQUEST,
                5022,
                "The parent specified is not a folder.".into(),
            ),
            Self::InvalidName(reason) => (
                S::BAD_REQUEST,
                5024,
                format!("Invalid name parameter: {reason}").into(),
            ),
            Self::CopyNameTooLong { name } => (
                S::BAD_REQUEST,
                5024,
                format!(
                    "Invalid name parameter: the copy would be named {name:?}, longer than 255 \
                     characters."
                )
                .into(),
            ),
            Self::MoveNameTooLong { name } => (
                S::BAD_REQUEST,
                5024,
                format!(
                    "Invalid name parameter: the file would be named {name:?}, longer than 255 \
                     characters."
                )
                .into(),
            ),
            Self::DestinationNotFound => (
                S::NOT_FOUND,
                5026,
                "Destination folder is not found.".into(),
            ),
            Self::ParentOrProjectMissing => (
                S::BAD_REQUEST,
                5029,
                "Missing `parent` or `project` field.".into(),
            ),
            Self::FolderExists { name } => (
                S::CONFLICT,
                5030,
                format!("A file or folder named {name:?} already exists here.").into(),
            ),
            Self::ParentAndProject => (
                S::BAD_REQUEST,
                5031,
                "Providing both `parent` and `project` is not allowed.".into(),
            ),
            Self::CopyIntoItself => (
                S::BAD_REQUEST,
                10229,
                "Cannot copy a folder into itself or below itself, nor merge it into itself."
                    .into(),
            ),
            Self::NoItems => (
                S::BAD_REQUEST,
                10230,
                "Sources cannot be empty or null: `items` must list at least one item.".into(),
            ),
            Self::RootFolderCopyRefused => (
                S::BAD_REQUEST,
                90000,
                "Copying the project root folder is not allowed.".into(),
            ),
            Self::MoveAcrossProjects => (
                S::BAD_REQUEST,
                90000,
                "A file moves only within its project; copy it to another project instead.".into(),
            ),
            Self::MoveParentRequired => (
                S::BAD_REQUEST,
                90000,
                "parent is required: the folder to move the file to.".into(),
            ),
            Self::BadRequest(message) => (S::BAD_REQUEST, 90000, message.into()),
            Self::BodyTooLarge(message) => (S::PAYLOAD_TOO_LARGE, 90000, message.into()),
            Self::PreflightRefused { status, message } => (*status, 90000, message.into()),
            Self::Unauthorized => (S::UNAUTHORIZED, 90001, "Unauthorized.".into()),
            Self::AdministratorsOnly => (
                S::FORBIDDEN,
                90002,
                "Forbidden: the audit trail is for administrators.".into(),
            ),
            Self::PartUrlInvalid => (
                S::FORBIDDEN,
                90002,
                "The part URL is invalid or has expired.".into(),
            ),
            Self::DownloadLinkInvalid => (
                S::FORBIDDEN,
                90002,
                "The download link is invalid or has expired.".into(),
            ),
            Self::DownloadRestricted => (
                S::FORBIDDEN,
                90002,
                "Files of this project may not be downloaded: it is download-restricted.".into(),
            ),
            Self::RouteNotFound => (S::NOT_FOUND, 90003, "Not found.".into()),
            Self::UploadNotFound => (
                S::NOT_FOUND,
                90003,
                "Requested upload does not exist.".into(),
            ),
            Self::JobNotFound => (
                S::NOT_FOUND,
                90003,
                "Requested async job does not exist.".into(),
            ),
            Self::MethodNotAllowed => (S::METHOD_NOT_ALLOWED, 90006, "Method not allowed.".into()),
            Self::UploadBeingCompleted => (
                S::CONFLICT,
                90007,
                "The upload is being completed by another request.".into(),
            ),
            Self::PartResent => (
                S::CONFLICT,
                90007,
                "A part was sent again while the upload was being completed; complete it again."
                    .into(),
            ),
            Self::ItemCancelled => (
                S::CONFLICT,
                90007,
                "The job was cancelled before this item was copied.".into(),
            ),
            Self::LastAdministrator { username, project } => (
                S::CONFLICT,
                90007,
                format!(
                    "'{username}' is the last administrator of {project}: make another member an \
                     administrator first."
                )
                .into(),
            ),
            Self::IdempotencyKeyInUse(message) => (S::CONFLICT, 90007, (*message).into()),
            Self::UnsupportedMediaType => (
                S::UNSUPPORTED_MEDIA_TYPE,
                90008,
                "Unsupported Media Type: send application/json.".into(),
            ),
            Self::UndecodableBody(reason) => (
                S::BAD_REQUEST,
                90009,
                format!("An error occurred during the decoding of the request content: {reason}")
                    .into(),
            ),
            Self::Internal => (
                S::INTERNAL_SERVER_ERROR,
                90010,
                "Internal server error.".into(),
            ),
            Self::GaveUp { attempts } => (
                S::INTERNAL_SERVER_ERROR,
                90010,
                format!("Copying this item failed {attempts} times; Ferry gave up on it.").into(),
            ),
            Self::Unavailable => (
                S::SERVICE_UNAVAILABLE,
                90011,
                "Service temporarily unavailable. Try again later.".into(),
            ),
            Self::IdempotencyKeyReused(message) => {
                (S::UNPROCESSABLE_ENTITY, 90012, (*message).into())
            }
            Self::IdempotentResponseLost(message) => (S::CONFLICT, 90013, (*message).into()),
            Self::AtItem { index, error } => {
                let (status, code, message) = error.parts();
                (status, code, format!("items[{index}]: {message}").into())
            }
        }
    }

    /// A 400 (90000) for a request Ferry cannot read.
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::BadRequest(message.into())
    }

    pub fn status(&self) -> StatusCode {
        self.parts().0
    }

    pub fn code(&self) -> u32 {
        self.parts().1
    }

    pub fn message(&self) -> String {
        self.parts().2.into_owned()
    }

    /// The JSON body, as the SDK parses it.
    pub fn body(&self) -> serde_json::Value {
        let (status, code, message) = self.parts();
        serde_json::to_value(SbgErrorBody {
            status: status.as_u16(),
            code,
            message: message.into_owned(),
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
        let (status, code, message) = self.parts();
        write!(f, "{} {code}: {message}", status.as_u16())
    }
}

impl ResponseError for SbgError {
    fn status_code(&self) -> StatusCode {
        self.status()
    }

    fn error_response(&self) -> HttpResponse {
        let status = self.status();
        let mut response = HttpResponse::build(status);
        if status == StatusCode::SERVICE_UNAVAILABLE {
            // An outage: tell clients and proxies when a retry is worth it.
            response.insert_header(("Retry-After", "5"));
        }
        response.json(self.body())
    }
}

/// Store failures that reach a handler unhandled, as [`StoreFailure`] classifies them: outages
/// are 503s (the SDK may retry them), bugs 500s.
impl From<StoreError> for SbgError {
    fn from(e: StoreError) -> Self {
        match StoreFailure::from(e) {
            StoreFailure::Outage => Self::Unavailable,
            StoreFailure::Bug => Self::Internal,
        }
    }
}

/// A client's `offset` or `limit` that is out of range.
impl From<PageError> for SbgError {
    fn from(e: PageError) -> Self {
        Self::BadRequest(e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn body_has_the_four_fields_the_sdk_reads_with_integer_status_and_code() {
        let body = SbgError::Unauthorized.body();
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
            assert_eq!(e.status(), StatusCode::SERVICE_UNAVAILABLE);
            assert_ne!(e.code(), 0);
        }
    }

    #[test]
    fn parameters_are_shown_as_plain_values() {
        let exists = SbgError::FolderExists {
            name: "newdir".into(),
        };
        assert_eq!(
            exists.message(),
            r#"A file or folder named "newdir" already exists here."#
        );
        let last = SbgError::LastAdministrator {
            username: "alice".into(),
            project: "alice/p".into(),
        };
        assert_eq!(
            last.message(),
            "'alice' is the last administrator of alice/p: make another member an administrator first."
        );
    }

    #[test]
    fn an_item_error_keeps_its_status_and_code_and_names_its_index() {
        let e = SbgError::AtItem {
            index: 3,
            error: Box::new(SbgError::ParentAndProject),
        };
        assert_eq!((e.status(), e.code()), (StatusCode::BAD_REQUEST, 5031));
        assert_eq!(
            e.message(),
            "items[3]: Providing both `parent` and `project` is not allowed."
        );
    }
}
