//! The use cases' refusals as DNAnexus errors: the one place where an access or open-file
//! refusal gets its error type and message (the clone's are in `dx::clone`, which words them
//! with the source's id).

use std::fmt::Debug;

use ferry_domain::access::AccessRefusal;
use ferry_domain::upload::OpenFileRefusal;
use ferry_usecases::failure::Failure;

use super::{DxError, DxErrorType};

impl From<AccessRefusal> for DxError {
    fn from(refusal: AccessRefusal) -> Self {
        match refusal {
            AccessRefusal::NotFound(id) => DxError::entity_not_found(id),
            AccessRefusal::NotAContainer(id) => DxError::new(
                DxErrorType::InvalidType,
                format!("{id} is not a data container"),
            ),
            AccessRefusal::DownloadRestricted => DxError::permission_denied(
                "Files of this project may not be downloaded: it is download-restricted",
            ),
            AccessRefusal::LevelTooLow {
                needed,
                held,
                container,
            } => DxError::permission_denied(format!(
                "{needed} permission is required in {container}, but you have {held}"
            )),
        }
    }
}

impl From<OpenFileRefusal> for DxError {
    fn from(refusal: OpenFileRefusal) -> Self {
        match refusal {
            OpenFileRefusal::Access(refusal) => refusal.into(),
            OpenFileRefusal::NotOpen(id) => {
                DxError::invalid_state(format!("{id} is not in the open state"))
            }
            OpenFileRefusal::PartUnannounced => DxError::invalid_input(
                "size and md5 are required: the part goes straight to the object store",
            ),
            OpenFileRefusal::PartsRefusedByStore { reason } => DxError::invalid_input(reason),
        }
    }
}

impl<R: Debug> From<Failure<R>> for DxError
where
    DxError: From<R>,
{
    fn from(failure: Failure<R>) -> Self {
        match failure {
            Failure::Refused(refusal) => refusal.into(),
            Failure::Store(e) => e.into(),
        }
    }
}
