//! Where an SBG request sends a copy, a listing, a new folder or an upload: a project (meaning
//! its root folder) or a folder, by id. One type for the synchronous copies, the async copy
//! jobs (which store it) and the file routes.

use crate::error::DomainError;
use crate::ids::{SbgId, SbgProjectId};

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum FolderRef {
    /// The project's root folder.
    Project(SbgProjectId),
    Folder(SbgId),
}

/// Why a [`FolderRef`] leads to no folder the caller can see.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FolderRefusal {
    ProjectNotFound,
    FolderNotFound,
    /// The id is a file's.
    NotAFolder,
}

impl FolderRef {
    /// The id as written: the project's `owner/slug`, or the folder's id. Only a project id
    /// holds a `/`, which is how [`FolderRef::parse`] tells them apart.
    pub fn as_str(&self) -> &str {
        match self {
            FolderRef::Project(project) => project.as_str(),
            FolderRef::Folder(folder) => folder.as_str(),
        }
    }

    /// The reference [`FolderRef::as_str`] wrote.
    pub fn parse(s: &str) -> Result<FolderRef, DomainError> {
        if s.contains('/') {
            SbgProjectId::parse(s).map(FolderRef::Project)
        } else {
            SbgId::parse(s).map(FolderRef::Folder)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reference_reads_back_as_it_was_written() {
        let project = FolderRef::Project(SbgProjectId::parse("alice/p").unwrap());
        let folder = FolderRef::Folder(SbgId::parse("6b123b6dea89a66bc6e201ca").unwrap());
        for reference in [project, folder] {
            assert_eq!(FolderRef::parse(reference.as_str()).unwrap(), reference);
        }
        assert!(FolderRef::parse("not an id").is_err());
    }
}
