//! Why a copy, or one item of it, is refused: the copy rules' answer, whichever copy asked (the
//! single and batch copies, or an async copy job's worker), in no dialect's words.

use strum::IntoStaticStr;

/// Why a copy, or one item of it, is refused. Stored with a failed job item as its snake-case
/// name ([`CopyRefusal::kind`]) and its [`CopyRefusal::detail`].
#[derive(Debug, Clone, PartialEq, Eq, IntoStaticStr)]
#[strum(serialize_all = "snake_case")]
pub enum CopyRefusal {
    /// The destination project does not exist, or the caller is not a member.
    ProjectNotFound,
    /// The destination folder does not exist, or the caller cannot see it.
    DestinationNotFound,
    /// The caller may not write to the destination.
    DestinationNotWritable,
    /// The source does not exist, or the caller cannot see it.
    SourceNotFound,
    /// The source is a folder, which only an async copy job copies.
    SourceIsFolder,
    /// The caller may not read or copy the source.
    SourceNotCopyable,
    /// The source is a project's root folder.
    RootFolder,
    /// A folder copied into (or merged into) itself, or below itself.
    IntoItself,
    /// The copy's name is not allowed, with why.
    InvalidName(String),
    /// The copy's name, once made unique, would be longer than a name may be.
    NameTooLong { name: String },
    /// Working the item failed this many times; it is not tried again.
    GaveUp { attempts: i64 },
}

impl CopyRefusal {
    /// The refusal's name, as stored.
    pub fn kind(&self) -> &'static str {
        self.into()
    }

    /// What the refusal carries besides its kind, as stored.
    pub fn detail(&self) -> Option<String> {
        match self {
            CopyRefusal::InvalidName(reason) => Some(reason.clone()),
            CopyRefusal::NameTooLong { name } => Some(name.clone()),
            CopyRefusal::GaveUp { attempts } => Some(attempts.to_string()),
            _ => None,
        }
    }

    /// The refusal of [`CopyRefusal::kind`] `kind` with [`CopyRefusal::detail`] `detail`; `None`
    /// if there is no such refusal.
    pub fn from_stored(kind: &str, detail: Option<&str>) -> Option<CopyRefusal> {
        Some(match (kind, detail) {
            ("project_not_found", None) => CopyRefusal::ProjectNotFound,
            ("destination_not_found", None) => CopyRefusal::DestinationNotFound,
            ("destination_not_writable", None) => CopyRefusal::DestinationNotWritable,
            ("source_not_found", None) => CopyRefusal::SourceNotFound,
            ("source_is_folder", None) => CopyRefusal::SourceIsFolder,
            ("source_not_copyable", None) => CopyRefusal::SourceNotCopyable,
            ("root_folder", None) => CopyRefusal::RootFolder,
            ("into_itself", None) => CopyRefusal::IntoItself,
            ("invalid_name", Some(reason)) => CopyRefusal::InvalidName(reason.to_owned()),
            ("name_too_long", Some(name)) => CopyRefusal::NameTooLong {
                name: name.to_owned(),
            },
            ("gave_up", Some(attempts)) => CopyRefusal::GaveUp {
                attempts: attempts.parse().ok()?,
            },
            _ => return None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_refusal_reads_back_as_stored() {
        let all = [
            CopyRefusal::ProjectNotFound,
            CopyRefusal::DestinationNotFound,
            CopyRefusal::DestinationNotWritable,
            CopyRefusal::SourceNotFound,
            CopyRefusal::SourceIsFolder,
            CopyRefusal::SourceNotCopyable,
            CopyRefusal::RootFolder,
            CopyRefusal::IntoItself,
            CopyRefusal::InvalidName("a folder name must not start with '__'.".into()),
            CopyRefusal::NameTooLong {
                name: "12_x".into(),
            },
            CopyRefusal::GaveUp { attempts: 5 },
        ];
        for refusal in all {
            let detail = refusal.detail();
            assert_eq!(
                CopyRefusal::from_stored(refusal.kind(), detail.as_deref()),
                Some(refusal.clone()),
                "{refusal:?}"
            );
        }
        assert_eq!(CopyRefusal::from_stored("gave_up", Some("often")), None);
        assert_eq!(CopyRefusal::from_stored("root_folder", Some("x")), None);
        assert_eq!(CopyRefusal::from_stored("unheard_of", None), None);
    }
}
