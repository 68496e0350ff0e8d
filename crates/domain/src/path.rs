//! Folder paths inside a project.

use crate::error::{DomainError, string_newtype};

// The limits are DNAnexus's folder limits (peers.md §2.2, "folders-and-deletion"): a folder
// name is 1..=2,048 characters and not `.`/`..`/control characters, a path is shorter than
// 10,240 characters and at most 128 levels deep. DNAnexus is the stricter of the two dialects
// on depth and length, and both dialects see the same folders, so a folder that one dialect
// accepts must be valid in the other; SBG folder names are further limited by the SBG layer.

/// Longest folder name, in characters.
pub const MAX_COMPONENT_CHARS: usize = 2048;
/// A normalised path must be shorter than this many characters.
pub const MAX_PATH_CHARS: usize = 10_240;
/// Deepest folder: the number of components below the root.
pub const MAX_DEPTH: usize = 128;

const WHAT: &str = "folder path";

/// An absolute, normalised folder path: `/` for the root, else `/a/b` with no empty, `.` or `..`
/// components and no trailing `/`. Normalised so that one folder has one spelling, which makes
/// string equality and prefix tests on paths sound.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FolderPath(String);

impl FolderPath {
    /// Parses and normalises: `/a//b/` becomes `/a/b`. Relative paths are refused.
    pub fn parse(s: &str) -> Result<Self, DomainError> {
        if !s.starts_with('/') {
            return Err(DomainError::invalid(WHAT, "must start with '/'"));
        }
        let mut out = String::with_capacity(s.len());
        let mut depth = 0;
        for component in s.split('/').filter(|c| !c.is_empty()) {
            check_component(component)?;
            depth += 1;
            out.push('/');
            out.push_str(component);
        }
        if out.is_empty() {
            out.push('/');
        }
        check_whole(&out, depth)?;
        Ok(FolderPath(out))
    }

    /// The root folder, `/`.
    pub fn root() -> Self {
        FolderPath("/".to_owned())
    }

    pub fn is_root(&self) -> bool {
        self.0 == "/"
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The folder names from the top down; none for the root.
    pub fn components(&self) -> impl Iterator<Item = &str> {
        self.0.split('/').filter(|c| !c.is_empty())
    }

    /// The number of components: 0 for the root.
    pub fn depth(&self) -> usize {
        self.components().count()
    }

    /// The last component; `None` for the root.
    pub fn name(&self) -> Option<&str> {
        if self.is_root() {
            None
        } else {
            self.0.rsplit('/').next()
        }
    }

    /// The folder that contains this one; `None` for the root.
    pub fn parent(&self) -> Option<FolderPath> {
        if self.is_root() {
            return None;
        }
        let cut = self.0.rfind('/').unwrap_or(0);
        Some(if cut == 0 {
            FolderPath::root()
        } else {
            FolderPath(self.0[..cut].to_owned())
        })
    }

    /// The child folder `component` of this one. `component` must be one valid folder name
    /// (no `/`), and the result must stay within the depth and length limits.
    pub fn join(&self, component: &str) -> Result<FolderPath, DomainError> {
        if component.is_empty() {
            return Err(DomainError::invalid(WHAT, "folder name must not be empty"));
        }
        if component.contains('/') {
            return Err(DomainError::invalid(
                WHAT,
                "folder name must not contain '/'",
            ));
        }
        check_component(component)?;
        let joined = if self.is_root() {
            format!("/{component}")
        } else {
            format!("{}/{component}", self.0)
        };
        check_whole(&joined, self.depth() + 1)?;
        Ok(FolderPath(joined))
    }

    /// True if this folder is `ancestor` or lies somewhere below it. Compares whole
    /// components: `/ab` is not within `/a`.
    pub fn is_within(&self, ancestor: &FolderPath) -> bool {
        if ancestor.is_root() {
            return true;
        }
        match self.0.strip_prefix(ancestor.as_str()) {
            Some(rest) => rest.is_empty() || rest.starts_with('/'),
            None => false,
        }
    }

    /// Every proper ancestor, from the root down: for `/a/b/c`, `/`, `/a`, `/a/b`. Empty for
    /// the root. Useful for creating missing parents top-down.
    pub fn ancestors(&self) -> Vec<FolderPath> {
        if self.is_root() {
            return Vec::new();
        }
        let mut out = vec![FolderPath::root()];
        out.extend(
            self.0
                .match_indices('/')
                .skip(1)
                .map(|(i, _)| FolderPath(self.0[..i].to_owned())),
        );
        out
    }

    /// Moves this path from under `from` to under `onto`: `/src/x/y` rebased from `/src` onto
    /// `/dst` is `/dst/x/y`. Fails if this path is not within `from`, or if the result breaks
    /// the depth or length limits.
    pub fn rebase(&self, from: &FolderPath, onto: &FolderPath) -> Result<FolderPath, DomainError> {
        if !self.is_within(from) {
            return Err(DomainError::invalid(
                WHAT,
                format!("'{self}' is not within '{from}'"),
            ));
        }
        let rest = if from.is_root() {
            &self.0[..]
        } else {
            &self.0[from.0.len()..]
        };
        if rest.is_empty() || rest == "/" {
            return Ok(onto.clone());
        }
        let joined = if onto.is_root() {
            rest.to_owned()
        } else {
            format!("{}{rest}", onto.0)
        };
        let depth = onto.depth() + self.depth() - from.depth();
        check_whole(&joined, depth)?;
        Ok(FolderPath(joined))
    }
}

/// Checks one non-empty folder name.
fn check_component(component: &str) -> Result<(), DomainError> {
    if component == "." || component == ".." {
        return Err(DomainError::invalid(WHAT, "'.' and '..' are not allowed"));
    }
    if component.chars().any(char::is_control) {
        return Err(DomainError::invalid(
            WHAT,
            "must not contain control characters",
        ));
    }
    if component.chars().count() > MAX_COMPONENT_CHARS {
        return Err(DomainError::invalid(
            WHAT,
            "a folder name must be at most 2048 characters",
        ));
    }
    Ok(())
}

/// Checks the limits on a whole normalised path.
fn check_whole(path: &str, depth: usize) -> Result<(), DomainError> {
    if depth > MAX_DEPTH {
        return Err(DomainError::invalid(
            WHAT,
            "must be at most 128 folders deep",
        ));
    }
    // Byte length bounds char count from above, so count chars only when it matters.
    if path.len() >= MAX_PATH_CHARS && path.chars().count() >= MAX_PATH_CHARS {
        return Err(DomainError::invalid(
            WHAT,
            "must be shorter than 10240 characters",
        ));
    }
    Ok(())
}

string_newtype!(FolderPath);

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> FolderPath {
        FolderPath::parse(s).unwrap()
    }

    #[test]
    fn normalises() {
        let cases = [
            ("/", "/"),
            ("//", "/"),
            ("/a", "/a"),
            ("/a/", "/a"),
            ("/a//b/", "/a/b"),
            ("///a///b///", "/a/b"),
            ("/a b/.c/...", "/a b/.c/..."),
            ("/é/名前", "/é/名前"),
        ];
        for (raw, norm) in cases {
            assert_eq!(p(raw).as_str(), norm, "from {raw:?}");
        }
    }

    #[test]
    fn refuses_bad_paths() {
        let too_deep = "/a".repeat(129);
        let long_component = format!("/{}", "a".repeat(2049));
        for bad in [
            "",
            "a",
            "a/b",
            "/a/./b",
            "/a/../b",
            "/..",
            "/.",
            "/a\0",
            "/a\nb",
            "/\u{1b}[31m",
            &too_deep,
            &long_component,
        ] {
            assert!(FolderPath::parse(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn limits() {
        assert_eq!(p(&"/a".repeat(128)).depth(), 128);
        assert!(FolderPath::parse(&"/a".repeat(129)).is_err());
        assert!(FolderPath::parse(&format!("/{}", "é".repeat(2048))).is_ok());
        assert!(FolderPath::parse(&format!("/{}", "é".repeat(2049))).is_err());
        // 4 components of 2048 plus their slashes = 8196; "/" and 2043 more chars make 10240.
        let base = format!("/{}", "a".repeat(2048)).repeat(4);
        assert!(FolderPath::parse(&format!("{base}/{}", "a".repeat(2042))).is_ok());
        assert!(FolderPath::parse(&format!("{base}/{}", "a".repeat(2043))).is_err());
        // Redundant slashes do not count against the length.
        assert!(FolderPath::parse(&format!("{base}//{}/", "a".repeat(2042))).is_ok());
    }

    #[test]
    fn root() {
        let r = FolderPath::root();
        assert!(r.is_root());
        assert_eq!(r, p("/"));
        assert_eq!(r.depth(), 0);
        assert_eq!(r.components().count(), 0);
        assert_eq!(r.name(), None);
        assert_eq!(r.parent(), None);
        assert!(r.ancestors().is_empty());
    }

    #[test]
    fn navigation() {
        let abc = p("/a/b/c");
        assert!(!abc.is_root());
        assert_eq!(abc.components().collect::<Vec<_>>(), ["a", "b", "c"]);
        assert_eq!(abc.depth(), 3);
        assert_eq!(abc.name(), Some("c"));
        assert_eq!(abc.parent(), Some(p("/a/b")));
        assert_eq!(p("/a").parent(), Some(FolderPath::root()));
        assert_eq!(abc.ancestors(), [p("/"), p("/a"), p("/a/b")]);
        assert_eq!(p("/a").ancestors(), [p("/")]);
    }

    #[test]
    fn join() {
        assert_eq!(FolderPath::root().join("a").unwrap(), p("/a"));
        assert_eq!(p("/a").join("b c").unwrap(), p("/a/b c"));
        for bad in ["", "b/c", "/", ".", "..", "x\0", &"a".repeat(2049)] {
            assert!(p("/a").join(bad).is_err(), "{bad:?} accepted");
        }
        let deep = p(&"/a".repeat(128));
        assert!(deep.join("b").is_err());
        assert!(deep.parent().unwrap().join("b").is_ok());
    }

    #[test]
    fn is_within() {
        let a = p("/a");
        assert!(a.is_within(&a));
        assert!(p("/a/b").is_within(&a));
        assert!(p("/a/b/c").is_within(&a));
        assert!(!p("/ab").is_within(&a));
        assert!(!p("/b/a").is_within(&a));
        assert!(!FolderPath::root().is_within(&a));
        assert!(a.is_within(&FolderPath::root()));
        assert!(FolderPath::root().is_within(&FolderPath::root()));
    }

    #[test]
    fn rebase() {
        let (src, dst) = (p("/src"), p("/dst"));
        assert_eq!(p("/src/x/y").rebase(&src, &dst).unwrap(), p("/dst/x/y"));
        assert_eq!(src.rebase(&src, &dst).unwrap(), dst);
        assert_eq!(
            p("/src/x").rebase(&src, &FolderPath::root()).unwrap(),
            p("/x")
        );
        assert_eq!(
            p("/x/y").rebase(&FolderPath::root(), &dst).unwrap(),
            p("/dst/x/y")
        );
        assert_eq!(
            FolderPath::root()
                .rebase(&FolderPath::root(), &dst)
                .unwrap(),
            dst
        );
        assert_eq!(
            FolderPath::root()
                .rebase(&FolderPath::root(), &FolderPath::root())
                .unwrap(),
            FolderPath::root()
        );
        assert!(p("/srcx/y").rebase(&src, &dst).is_err());
        assert!(p("/other").rebase(&src, &dst).is_err());
        // Going deeper can break the depth limit.
        let deep_dst = p(&"/d".repeat(127));
        assert!(p("/src/x").rebase(&src, &deep_dst).is_ok());
        assert!(p("/src/x/y").rebase(&src, &deep_dst).is_err());
    }

    #[test]
    fn traits() {
        let a: FolderPath = "/a//b/".parse().unwrap();
        assert_eq!(a.to_string(), "/a/b");
        assert_eq!(serde_json::to_string(&a).unwrap(), "\"/a/b\"");
        assert_eq!(serde_json::from_str::<FolderPath>("\"/a//b/\"").unwrap(), a);
        assert!(serde_json::from_str::<FolderPath>("\"a\"").is_err());
    }

    mod properties {
        use super::*;
        use proptest::prelude::*;

        /// A folder name: printable, no '/', not '.' or '..' (those are refused, not names).
        fn component() -> impl Strategy<Value = String> {
            "[^/\\p{Cc}]{1,12}".prop_filter("not . or ..", |c| c != "." && c != "..")
        }

        proptest! {
            #[test]
            fn never_panics_on_any_string(s in "\\PC*|[/.a\\x00]{0,40}") {
                let _ = FolderPath::parse(&s);
            }

            /// Rendering a parsed path and parsing it again gives the same path, with the same
            /// components, whatever slashes the input doubled or left trailing.
            #[test]
            fn parse_render_round_trip(
                parts in prop::collection::vec(component(), 0..10),
                slashes in prop::collection::vec(1usize..3, 10),
                trailing in any::<bool>(),
            ) {
                let mut raw = String::new();
                for (part, n) in parts.iter().zip(&slashes) {
                    raw.push_str(&"/".repeat(*n));
                    raw.push_str(part);
                }
                if trailing || raw.is_empty() {
                    raw.push('/');
                }
                let path = FolderPath::parse(&raw).unwrap();
                let components: Vec<&str> = path.components().collect();
                prop_assert_eq!(&components, &parts);
                prop_assert_eq!(FolderPath::parse(path.as_str()).unwrap(), path.clone());
                prop_assert_eq!(path.depth(), parts.len());
            }

            /// Whatever is accepted is normalised: absolute, no empty, '.' or '..' segment, no
            /// trailing '/' but the root's, nothing that could climb out of a folder.
            #[test]
            fn accepted_paths_are_normalised(s in "[/.ab]{0,16}|/[^\\p{Cc}]{0,30}") {
                if let Ok(path) = FolderPath::parse(&s) {
                    let text = path.as_str();
                    prop_assert!(text.starts_with('/'));
                    prop_assert!(path.is_root() || !text.ends_with('/'));
                    for c in path.components() {
                        prop_assert!(!c.is_empty() && c != "." && c != "..", "{:?}", text);
                    }
                }
            }

            /// A '..' or '.' segment anywhere refuses the whole path.
            #[test]
            fn dot_segments_are_refused(
                before in prop::collection::vec(component(), 0..4),
                dots in "\\.{1,2}",
                after in prop::collection::vec(component(), 0..4),
            ) {
                let raw = format!("/{}", before.iter().chain([&dots]).chain(&after).cloned().collect::<Vec<_>>().join("/"));
                prop_assert!(FolderPath::parse(&raw).is_err(), "{:?} accepted", raw);
            }
        }
    }
}
