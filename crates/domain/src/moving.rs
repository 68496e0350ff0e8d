//! Why a move of a file to another folder (SBG `POST /files/{id}/actions/move`) is refused.

/// A refused move.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MoveRefusal {
    /// The file does not exist, or the caller cannot see it.
    SourceNotFound,
    /// The id is a folder's: folders are not moved.
    SourceIsFolder,
    /// The caller may not change the file's project.
    NotWritable,
    /// The destination folder does not exist, or the caller cannot see it.
    DestinationNotFound,
    /// The destination id is a file's.
    NotAFolder,
    /// The destination is in another project: a file moves within its project.
    OtherProject,
    /// The name, once made unique by the `N_name` rule, would be longer than a name may be.
    NameTooLong { name: String },
}
