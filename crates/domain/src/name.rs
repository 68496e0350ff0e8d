//! The name of a file (or other data object) inside a folder.

use crate::error::{DomainError, string_newtype};

/// Longest file name, in characters: the SBG limit (≤ 255, see `peers.md`), which is also the
/// usual filesystem limit, so a name can always be written out by a client.
pub const MAX_FILE_NAME_CHARS: usize = 255;

/// A file name: 1..=255 characters, not all of them blanks (a name no one can see or type),
/// no `/` (it would read as a folder), no control characters (NUL included: they break clients,
/// terminals and logs), and not `.` or `..`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FileName(String);

impl FileName {
    pub fn parse(name: impl Into<String>) -> Result<Self, DomainError> {
        const WHAT: &str = "file name";
        let name = name.into();
        if name.is_empty() {
            return Err(DomainError::invalid(WHAT, "must not be empty"));
        }
        if name.trim().is_empty() {
            return Err(DomainError::invalid(WHAT, "must not be only blanks"));
        }
        if name.chars().count() > MAX_FILE_NAME_CHARS {
            return Err(DomainError::invalid(WHAT, "must be at most 255 characters"));
        }
        if name.contains('/') {
            return Err(DomainError::invalid(WHAT, "must not contain '/'"));
        }
        if name.chars().any(char::is_control) {
            return Err(DomainError::invalid(
                WHAT,
                "must not contain control characters",
            ));
        }
        if name == "." || name == ".." {
            return Err(DomainError::invalid(WHAT, "must not be '.' or '..'"));
        }
        Ok(FileName(name))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

string_newtype!(FileName);

/// Why `name` may not name a folder made through the SBG dialect (a new folder, a copied one),
/// if it may not: SBG allows only `[A-Za-z0-9_.-]`, and no name starting with `__`.
pub fn folder_name_refusal(name: &FileName) -> Option<&'static str> {
    let allowed = |c: char| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-');
    if !name.as_str().chars().all(allowed) {
        return Some("a folder name may only hold letters, digits, '_', '.' and '-'.");
    }
    if name.as_str().starts_with("__") {
        return Some("a folder name must not start with '__'.");
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn valid_names() {
        for ok in [
            "a",
            "a.txt",
            "...",
            ".hidden",
            "1_a.txt",
            "with space",
            "naïve 名前.bam",
        ] {
            assert_eq!(FileName::parse(ok).unwrap().as_str(), ok);
        }
        let max = "a".repeat(255);
        assert_eq!(FileName::parse(max.clone()).unwrap().into_string(), max);
        // 255 characters, 510 bytes: the limit counts characters.
        let wide = "é".repeat(255);
        assert!(FileName::parse(wide).is_ok());
    }

    #[test]
    fn invalid_names() {
        for bad in [
            String::new(),
            "a".repeat(256),
            "é".repeat(256),
            "a/b".into(),
            "/".into(),
            ".".into(),
            "..".into(),
            "a\0b".into(),
            "a\nb".into(),
            "tab\t".into(),
            "del\u{7f}".into(),
            "c1\u{85}".into(),
            " ".into(),
            "   ".into(),
            "\u{3000}".into(),
        ] {
            assert!(FileName::parse(bad.clone()).is_err(), "{bad:?} accepted");
        }
        assert_eq!(
            FileName::parse("a/b").unwrap_err().to_string(),
            "invalid file name: must not contain '/'"
        );
    }

    #[test]
    fn traits() {
        let n: FileName = "x.bam".parse().unwrap();
        assert_eq!(n.to_string(), "x.bam");
        assert_eq!(AsRef::<str>::as_ref(&n), "x.bam");
        let json = serde_json::to_string(&n).unwrap();
        assert_eq!(json, "\"x.bam\"");
        assert_eq!(serde_json::from_str::<FileName>(&json).unwrap(), n);
        assert!(serde_json::from_str::<FileName>("\"a/b\"").is_err());
    }
}
