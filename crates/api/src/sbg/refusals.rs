//! The use cases' refusals as SBG errors: the one place where a copy refusal (of a copy or of an
//! async job's item) or an upload's refusal gets its SBG code, status and message (through the
//! catalogue, `sbg::error`).

use std::fmt::Debug;

use ferry_domain::moving::MoveRefusal;
use ferry_domain::upload::UploadRefusal;
use ferry_usecases::copy::CopyRefusal;
use ferry_usecases::failure::Failure;

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

impl From<UploadRefusal> for SbgError {
    fn from(refusal: UploadRefusal) -> Self {
        match refusal {
            UploadRefusal::ProjectNotFound => SbgError::ProjectNotFound,
            UploadRefusal::DestinationNotFound => SbgError::DestinationNotFound,
            UploadRefusal::NotAFolder => SbgError::NotAFolder,
            UploadRefusal::DestinationNotWritable => SbgError::FileNotWritable,
            UploadRefusal::NameTaken { name } => SbgError::UploadNameTaken { name },
            UploadRefusal::UploadNotFound => SbgError::UploadNotFound,
            UploadRefusal::PartOutOfRange { given, parts } => SbgError::bad_request(format!(
                "Part number {given:?} is out of range: this upload has parts 1 to {parts}."
            )),
            UploadRefusal::ReportWithoutEtag { part } => {
                SbgError::bad_request(format!("The report of part {part} has no ETag header."))
            }
            UploadRefusal::PartNotUploaded { part } => {
                SbgError::bad_request(format!("Part {part} has not been uploaded."))
            }
            UploadRefusal::EtagMismatch {
                part,
                reported,
                received,
            } => SbgError::bad_request(format!(
                "The ETag reported for part {part} ({reported:?}) is not that of the bytes received ({received:?})."
            )),
            UploadRefusal::PartWrongLength {
                part,
                sent,
                planned,
            } => SbgError::bad_request(format!(
                "Part {part} has {sent} bytes; the upload's plan gives it {planned}."
            )),
            UploadRefusal::Incomplete { missing, parts } => {
                let missing: Vec<String> = missing.iter().map(u32::to_string).collect();
                SbgError::bad_request(format!(
                    "The upload is not complete: part(s) {} of {parts} have not been uploaded and reported.",
                    missing.join(", ")
                ))
            }
            UploadRefusal::PartResent => SbgError::PartResent,
            UploadRefusal::BeingCompleted => SbgError::UploadBeingCompleted,
            UploadRefusal::PartsRefusedByStore { reason } => SbgError::bad_request(format!(
                "The object store refused the parts as reported: {reason}"
            )),
            UploadRefusal::WrongSize { sent, planned } => SbgError::bad_request(format!(
                "The parts sent make {sent} bytes; the upload was started for {planned}."
            )),
        }
    }
}

impl From<MoveRefusal> for SbgError {
    fn from(refusal: MoveRefusal) -> Self {
        match refusal {
            MoveRefusal::SourceNotFound => SbgError::FileNotFound,
            MoveRefusal::SourceIsFolder => SbgError::FolderMoveRefused,
            MoveRefusal::NotWritable => SbgError::FileNotWritable,
            MoveRefusal::DestinationNotFound => SbgError::DestinationNotFound,
            MoveRefusal::NotAFolder => SbgError::NotAFolder,
            MoveRefusal::OtherProject => SbgError::MoveAcrossProjects,
            MoveRefusal::NameTooLong { name } => SbgError::MoveNameTooLong { name },
        }
    }
}

impl<R: Debug> From<Failure<R>> for SbgError
where
    SbgError: From<R>,
{
    fn from(failure: Failure<R>) -> Self {
        match failure {
            Failure::Refused(refusal) => refusal.into(),
            Failure::Store(e) => e.into(),
        }
    }
}
