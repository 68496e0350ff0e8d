//! The use cases' refusals as SBG errors: the one place where a copy refusal, of a copy or of an
//! async job's item, gets its SBG code, status and message (through the catalogue,
//! `sbg::error`).

use ferry_usecases::copy::{CopyError, CopyRefusal};

use super::SbgError;

impl From<CopyRefusal> for SbgError {
    fn from(refusal: CopyRefusal) -> Self {
        match refusal {
            CopyRefusal::ProjectNotFound => SbgError::ProjectNotFound,
            CopyRefusal::DestinationNotFound => SbgError::DestinationNotFound,
            CopyRefusal::DestinationNotWritable => SbgError::DestinationNotWritable,
            CopyRefusal::SourceNotFound => SbgError::FileNotFound,
            CopyRefusal::SourceIsFolder => SbgError::FolderCopyRefused,
            CopyRefusal::SourceNotCopyable => SbgError::CopyRefused,
            CopyRefusal::RootFolder => SbgError::RootFolderCopyRefused,
            CopyRefusal::IntoItself => SbgError::CopyIntoItself,
            CopyRefusal::InvalidName(reason) => SbgError::InvalidName(reason),
            CopyRefusal::NameTooLong { name } => SbgError::CopyNameTooLong { name },
            CopyRefusal::GaveUp { attempts } => SbgError::GaveUp { attempts },
        }
    }
}

impl From<CopyError> for SbgError {
    fn from(e: CopyError) -> Self {
        match e {
            CopyError::Refused(refusal) => refusal.into(),
            CopyError::Store(e) => e.into(),
        }
    }
}
