//! Identifiers of both dialects: DNAnexus `class-xxxx` ids, SBG hex ids, usernames, project
//! slugs and SBG project ids (`owner/slug`).

use std::sync::LazyLock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use rand::Rng;
use strum::{Display, EnumString, IntoStaticStr, VariantArray};

use crate::error::{DomainError, string_newtype};

/// The classes of DNAnexus entity that Ferry knows, spelt in lowercase before the `-` of an id.
///
/// `User` and `Org` are named entities (`user-<handle>`, `org-<handle>`), not random ids, so
/// [`DxId`] refuses them; they are here so that a `class-...` string can always be classified.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Display,
    EnumString,
    IntoStaticStr,
    VariantArray,
)]
#[strum(
    serialize_all = "lowercase",
    parse_err_ty = DomainError,
    parse_err_fn = unknown_class
)]
pub enum DxClass {
    Project,
    Container,
    File,
    Record,
    Applet,
    Workflow,
    Job,
    Analysis,
    User,
    Org,
}

impl DxClass {
    /// The class as it appears before the `-` of an id.
    pub fn as_str(self) -> &'static str {
        self.into()
    }

    /// Data objects live in containers and can be cloned between them.
    pub fn is_data_object(self) -> bool {
        matches!(
            self,
            DxClass::File | DxClass::Record | DxClass::Applet | DxClass::Workflow
        )
    }

    /// Data containers hold folders and data objects.
    pub fn is_container(self) -> bool {
        matches!(self, DxClass::Project | DxClass::Container)
    }

    /// Whether ids of this class are random `class-<24 chars>` strings (everything but users
    /// and orgs).
    fn has_random_ids(self) -> bool {
        !matches!(self, DxClass::User | DxClass::Org)
    }
}

fn unknown_class(s: &str) -> DomainError {
    DomainError::invalid("class", format!("unknown class '{s}'"))
}

/// Where new ids of both dialects come from. Both vendors' ids start with the time (SBG's are
/// MongoDB ObjectIds; DNAnexus ids of later years start with later letters), and so do
/// Ferry's: ids made together share a prefix, so a batch of new rows lands on a few pages of
/// each unique index instead of one random page per row (docs/performance.md). After the time
/// come a value drawn once per process, so that processes sharing a database do not collide,
/// and a counter that starts at a random value.
struct IdSequence {
    process: u64,
    counter: AtomicU64,
}

static SEQUENCE: LazyLock<IdSequence> = LazyLock::new(|| {
    let mut rng = rand::rng();
    IdSequence {
        process: rng.random(),
        counter: AtomicU64::new(rng.random()),
    }
});

impl IdSequence {
    /// (seconds since the epoch, this process's draw, the next count); each id takes the
    /// low bits it has room for.
    fn next(&self) -> (u64, u64, u64) {
        let seconds = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        (
            seconds,
            self.process,
            self.counter.fetch_add(1, Ordering::Relaxed),
        )
    }
}

/// Length of the random part of a DNAnexus id.
const DX_ID_LEN: usize = 24;

/// The alphabet DNAnexus generates ids from (no vowels, no look-alikes). Ferry generates from it
/// too, but accepts any `[0-9A-Za-z]{24}` as dxpy does, answering 404 for unknown ids.
const DX_ALPHABET: &[u8; 32] = b"0123456789BFGJKPQVXYZbfgjkpqvxyz";

/// A DNAnexus entity id, `<class>-<24 chars of [0-9A-Za-z]>`, e.g. `file-B2b1QKQ0Fv9K1pQjXkJ8fF0x`.
///
/// A cloned data object keeps its id across projects, so this id names the object, not a copy.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct DxId {
    id: String,
    class: DxClass,
}

impl DxId {
    /// Parses a full id. Users and orgs (`user-<handle>`) are not ids and are refused.
    pub fn parse(s: &str) -> Result<Self, DomainError> {
        const WHAT: &str = "id";
        let Some((class, rest)) = s.split_once('-') else {
            return Err(DomainError::invalid(
                WHAT,
                "expected '<class>-<24 characters>'",
            ));
        };
        let class: DxClass = class
            .parse()
            .map_err(|_| DomainError::invalid(WHAT, format!("unknown class '{class}'")))?;
        if !class.has_random_ids() {
            return Err(DomainError::invalid(
                WHAT,
                format!("'{class}-...' is not an object id"),
            ));
        }
        if rest.len() != DX_ID_LEN || !rest.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return Err(DomainError::invalid(
                WHAT,
                "expected 24 letters or digits after the class",
            ));
        }
        Ok(DxId {
            id: s.to_owned(),
            class,
        })
    }

    /// A fresh id of the given class, ordered like DNAnexus's own: time, then this process's
    /// draw, then a counter (see [`IdSequence`]).
    ///
    /// # Panics
    /// If `class` is `User` or `Org`, which have no random ids.
    pub fn generate(class: DxClass) -> DxId {
        assert!(class.has_random_ids(), "{class} has no random ids");
        DxId::from_parts(class, SEQUENCE.next())
    }

    fn from_parts(class: DxClass, (seconds, process, counter): (u64, u64, u64)) -> DxId {
        let mut id = String::with_capacity(class.as_str().len() + 1 + DX_ID_LEN);
        id.push_str(class.as_str());
        id.push('-');
        // 7 + 10 + 7 symbols of 5 bits: 35 bits of seconds, 50 of the draw, 35 of the counter.
        for (value, symbols) in [(seconds, 7), (process, 10), (counter, 7)] {
            for shift in (0..symbols).rev() {
                let symbol = (value >> (5 * shift)) & 0x1f;
                id.push(char::from(DX_ALPHABET[symbol as usize]));
            }
        }
        DxId { id, class }
    }

    /// The class before the `-`.
    pub fn class(&self) -> DxClass {
        self.class
    }

    /// The whole id, `class-xxxx`.
    pub fn as_str(&self) -> &str {
        &self.id
    }
}

string_newtype!(DxId);

/// Length of an SBG id in hex digits (12 bytes, like a MongoDB ObjectId).
const SBG_ID_LEN: usize = 24;

/// The id of an SBG file or folder: 24 lowercase hex characters.
///
/// Unlike DNAnexus, SBG gives each copy of a file its own id.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SbgId(String);

impl SbgId {
    /// Accepts exactly 24 characters of `[0-9a-f]`; uppercase is refused so that one id has one
    /// spelling.
    pub fn parse(s: &str) -> Result<Self, DomainError> {
        if s.len() != SBG_ID_LEN || !s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
            return Err(DomainError::invalid(
                "id",
                "expected 24 lowercase hex characters",
            ));
        }
        Ok(SbgId(s.to_owned()))
    }

    /// A fresh id laid out like a MongoDB ObjectId, as SBG's are: 4 bytes of seconds, 5 of
    /// this process's draw, 3 of a counter (see [`IdSequence`]).
    pub fn generate() -> SbgId {
        SbgId::from_parts(SEQUENCE.next())
    }

    fn from_parts((seconds, process, counter): (u64, u64, u64)) -> SbgId {
        const HEX: &[u8; 16] = b"0123456789abcdef";
        let mut s = String::with_capacity(SBG_ID_LEN);
        for (value, digits) in [(seconds, 8), (process, 10), (counter, 6)] {
            for shift in (0..digits).rev() {
                s.push(char::from(HEX[((value >> (4 * shift)) & 0xf) as usize]));
            }
        }
        SbgId(s)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

string_newtype!(SbgId);

/// Length of the ids Ferry draws itself for async jobs and uploads: a UUID v4 in its simple
/// form.
const DRAWN_ID_LEN: usize = 32;

/// An id Ferry draws itself, 32 lowercase hex digits, parsed so where it comes in: a path
/// segment of any other shape (a NUL byte, which PostgreSQL refuses in text, included) is
/// refused before it reaches a query.
macro_rules! drawn_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash)]
        pub struct $name(String);

        impl $name {
            /// Accepts exactly 32 characters of `[0-9a-f]`.
            pub fn parse(s: &str) -> Result<Self, DomainError> {
                if s.len() != DRAWN_ID_LEN
                    || !s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
                {
                    return Err(DomainError::invalid(
                        "id",
                        "expected 32 lowercase hex characters",
                    ));
                }
                Ok($name(s.to_owned()))
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        string_newtype!($name);
    };
}

drawn_id!(
    /// An async copy job's id (SBG `/async/files/copy/{id}`).
    JobId
);
drawn_id!(
    /// An SBG multipart upload's id (`/upload/multipart/{upload_id}`).
    UploadId
);

/// Longest username and longest project slug.
const MAX_HANDLE_LEN: usize = 64;

/// A username, the same in both dialects (`rfranklin`, DNAnexus `user-rfranklin`).
///
/// 1..=64 characters of `[A-Za-z0-9_.-]`, starting with a letter or digit, so that it is safe in
/// a URL path, in `owner/slug` and after `user-`. Case-sensitive.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Username(String);

impl Username {
    pub fn parse(s: &str) -> Result<Self, DomainError> {
        const WHAT: &str = "username";
        let Some(first) = s.chars().next() else {
            return Err(DomainError::invalid(WHAT, "must not be empty"));
        };
        if s.len() > MAX_HANDLE_LEN {
            return Err(DomainError::invalid(WHAT, "must be at most 64 characters"));
        }
        if !first.is_ascii_alphanumeric() {
            return Err(DomainError::invalid(
                WHAT,
                "must start with a letter or digit",
            ));
        }
        if !s
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'))
        {
            return Err(DomainError::invalid(
                WHAT,
                "may only contain letters, digits, '_', '.' and '-'",
            ));
        }
        Ok(Username(s.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

string_newtype!(Username);

/// A project's short name, the second half of an SBG project id `owner/slug`.
///
/// 1..=64 characters of `[a-z0-9_-]`, starting with `[a-z0-9]`: lowercase so that it is stable
/// in URLs, and unique per owner.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Slug(String);

impl Slug {
    pub fn parse(s: &str) -> Result<Self, DomainError> {
        const WHAT: &str = "project short name";
        let Some(first) = s.bytes().next() else {
            return Err(DomainError::invalid(WHAT, "must not be empty"));
        };
        if s.len() > MAX_HANDLE_LEN {
            return Err(DomainError::invalid(WHAT, "must be at most 64 characters"));
        }
        if !(first.is_ascii_lowercase() || first.is_ascii_digit()) {
            return Err(DomainError::invalid(
                WHAT,
                "must start with a lowercase letter or digit",
            ));
        }
        if !s.bytes().all(is_slug_byte) {
            return Err(DomainError::invalid(
                WHAT,
                "may only contain lowercase letters, digits, '_' and '-'",
            ));
        }
        Ok(Slug(s.to_owned()))
    }

    /// Derives a slug from a free-form project name, as SBG does when a project is created
    /// with a name only: lowercase, every run of other characters becomes one `-`, leading and
    /// trailing separators are trimmed, at most 64 characters, and `project` if nothing is left.
    pub fn from_name(name: &str) -> Slug {
        let mut out = String::with_capacity(name.len().min(MAX_HANDLE_LEN));
        let mut in_run = false;
        for c in name.chars().flat_map(char::to_lowercase) {
            if c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' {
                out.push(c);
                in_run = false;
            } else if !in_run {
                out.push('-');
                in_run = true;
            }
        }
        // A slug may not start with '_' either, so leading underscores go with the dashes.
        let trimmed = out.trim_start_matches(['-', '_']).trim_end_matches('-');
        let truncated = trimmed[..trimmed.len().min(MAX_HANDLE_LEN)].trim_end_matches('-');
        if truncated.is_empty() {
            Slug("project".to_owned())
        } else {
            Slug(truncated.to_owned())
        }
    }

    /// `slug-n`, for making a slug unique per owner (`slug`, `slug-2`, `slug-3`, ...). The base
    /// is shortened when needed so that the result stays within 64 characters.
    pub fn with_suffix(&self, n: u32) -> Slug {
        let suffix = format!("-{n}");
        let keep = self.0.len().min(MAX_HANDLE_LEN - suffix.len());
        // The first character is alphanumeric, so the base never becomes empty.
        let base = self.0[..keep].trim_end_matches('-');
        Slug(format!("{base}{suffix}"))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

fn is_slug_byte(b: u8) -> bool {
    b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-'
}

string_newtype!(Slug);

/// An SBG project id, `owner/slug`: the project's owner and its short name.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SbgProjectId {
    owner: Username,
    slug: Slug,
    /// `owner/slug`, kept so that `as_str` can hand out a `&str`.
    full: String,
}

impl SbgProjectId {
    pub fn new(owner: Username, slug: Slug) -> Self {
        let full = format!("{owner}/{slug}");
        SbgProjectId { owner, slug, full }
    }

    /// Parses `owner/slug`, with exactly one `/`.
    pub fn parse(s: &str) -> Result<Self, DomainError> {
        let mut parts = s.split('/');
        let (Some(owner), Some(slug), None) = (parts.next(), parts.next(), parts.next()) else {
            return Err(DomainError::invalid(
                "project id",
                "expected 'owner/short-name'",
            ));
        };
        Ok(SbgProjectId::new(
            Username::parse(owner)?,
            Slug::parse(slug)?,
        ))
    }

    pub fn owner(&self) -> &Username {
        &self.owner
    }

    pub fn slug(&self) -> &Slug {
        &self.slug
    }

    /// `owner/slug`.
    pub fn as_str(&self) -> &str {
        &self.full
    }
}

string_newtype!(SbgProjectId);

/// The DNAnexus `billTo` of a user's own projects: `user-<username>`.
pub fn bill_to_for_user(user: &Username) -> String {
    format!("user-{user}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn drawn_ids_are_32_lowercase_hex_digits() {
        let drawn = "0123456789abcdef0123456789abcdef";
        assert_eq!(JobId::parse(drawn).unwrap().as_str(), drawn);
        assert_eq!(UploadId::parse(drawn).unwrap().to_string(), drawn);
        let upper = drawn.to_uppercase();
        let nul = format!("{}\0", &drawn[..31]);
        for wrong in ["", "\0", &drawn[..31], &upper, &nul, &format!("{drawn}0")] {
            assert!(JobId::parse(wrong).is_err(), "{wrong:?}");
            assert!(UploadId::parse(wrong).is_err(), "{wrong:?}");
        }
    }

    #[test]
    fn dx_class_round_trips() {
        let spelt: Vec<&str> = DxClass::VARIANTS.iter().map(|c| c.as_str()).collect();
        assert_eq!(
            spelt,
            [
                "project",
                "container",
                "file",
                "record",
                "applet",
                "workflow",
                "job",
                "analysis",
                "user",
                "org"
            ]
        );
        for &c in DxClass::VARIANTS {
            assert_eq!(c.as_str().parse::<DxClass>(), Ok(c));
            assert_eq!(c.to_string(), c.as_str());
        }
        assert_eq!(
            "database".parse::<DxClass>().unwrap_err().to_string(),
            "invalid class: unknown class 'database'"
        );
        assert!("database".parse::<DxClass>().is_err());
        assert!("File".parse::<DxClass>().is_err());
        assert!(DxClass::File.is_data_object() && !DxClass::File.is_container());
        assert!(DxClass::Container.is_container() && !DxClass::Project.is_data_object());
        assert!(!DxClass::Job.is_data_object() && !DxClass::Job.is_container());
    }

    #[test]
    fn dx_id_accepts_any_alphanumeric_24() {
        let id = DxId::parse("project-123456789012345678901234").unwrap();
        assert_eq!(id.class(), DxClass::Project);
        assert_eq!(id.as_str(), "project-123456789012345678901234");
        assert_eq!(id.to_string(), id.as_str());
        let id: DxId = "file-aAzZ09aAzZ09aAzZ09aAzZ09".parse().unwrap();
        assert_eq!(id.class(), DxClass::File);
    }

    #[test]
    fn dx_id_refuses_bad_input() {
        for bad in [
            "",
            "file",
            "file-",
            "file-12345678901234567890123",   // 23
            "file-1234567890123456789012345", // 25
            "file-12345678901234567890123_",
            "file-12345678901234567890123é",
            "File-123456789012345678901234",
            "database-123456789012345678901234",
            "user-123456789012345678901234",
            "org-123456789012345678901234",
            "None",
            "file--12345678901234567890123",
        ] {
            assert!(DxId::parse(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn dx_id_generate_uses_the_dx_alphabet() {
        for &class in DxClass::VARIANTS.iter().filter(|c| c.has_random_ids()) {
            let id = DxId::generate(class);
            assert_eq!(id.class(), class);
            assert_eq!(DxId::parse(id.as_str()), Ok(id.clone()));
            let rest = id.as_str().strip_prefix(&format!("{class}-")).unwrap();
            assert_eq!(rest.len(), 24);
            assert!(rest.bytes().all(|b| DX_ALPHABET.contains(&b)));
        }
        assert_ne!(DxId::generate(DxClass::File), DxId::generate(DxClass::File));
    }

    #[test]
    fn new_ids_sort_by_time_then_count() {
        let (t, p) = (1_795_000_000, 0x3_1234_5678_9abc);
        let dx = |t, c| DxId::from_parts(DxClass::File, (t, p, c));
        let sbg = |t, c| SbgId::from_parts((t, p, c));
        assert!(dx(t, 7) < dx(t, 8) && dx(t, 8) < dx(t + 1, 0));
        assert!(sbg(t, 7) < sbg(t, 8) && sbg(t, 8) < sbg(t + 1, 0));
        // An SBG id reads like a MongoDB ObjectId: its first 4 bytes are the seconds.
        let id = sbg(t, 7);
        assert_eq!(u64::from_str_radix(&id.as_str()[..8], 16), Ok(t));
        assert_eq!(&id.as_str()[18..], "000007");
        assert_eq!(DxId::parse(dx(t, 7).as_str()), Ok(dx(t, 7)));
    }

    #[test]
    #[should_panic(expected = "no random ids")]
    fn dx_id_generate_refuses_users() {
        DxId::generate(DxClass::User);
    }

    #[test]
    fn dx_id_serde_is_the_string() {
        let id = DxId::parse("record-B2b1QKQ0Fv9K1pQjXkJ8fF0x").unwrap();
        let json = serde_json::to_string(&id).unwrap();
        assert_eq!(json, "\"record-B2b1QKQ0Fv9K1pQjXkJ8fF0x\"");
        assert_eq!(serde_json::from_str::<DxId>(&json).unwrap(), id);
        assert!(serde_json::from_str::<DxId>("\"user-alice\"").is_err());
    }

    #[test]
    fn sbg_id() {
        let id = SbgId::parse("567890abc9b0307bc0414164").unwrap();
        assert_eq!(id.as_str(), "567890abc9b0307bc0414164");
        for bad in [
            "",
            "567890abc9b0307bc041416",
            "567890abc9b0307bc04141645",
            "567890ABC9B0307BC0414164",
            "567890abc9b0307bc041416g",
            "567890abc9b0307bc041416 ",
        ] {
            assert!(SbgId::parse(bad).is_err(), "{bad:?} accepted");
        }
        let g = SbgId::generate();
        assert_eq!(SbgId::parse(g.as_str()), Ok(g.clone()));
        assert_ne!(g, SbgId::generate());
        let json = serde_json::to_string(&id).unwrap();
        assert_eq!(serde_json::from_str::<SbgId>(&json).unwrap(), id);
        assert!(serde_json::from_str::<SbgId>("\"ABC\"").is_err());
    }

    #[test]
    fn username() {
        for ok in [
            "a",
            "rfranklin",
            "R.Franklin_2-x",
            "9lives",
            &"a".repeat(64),
        ] {
            assert_eq!(Username::parse(ok).unwrap().as_str(), ok);
        }
        for bad in [
            "",
            "_a",
            ".a",
            "-a",
            "a b",
            "a/b",
            "é",
            "a\0",
            &"a".repeat(65),
        ] {
            assert!(Username::parse(bad).is_err(), "{bad:?} accepted");
        }
        assert_ne!(
            Username::parse("Bob").unwrap(),
            Username::parse("bob").unwrap()
        );
        assert_eq!(
            bill_to_for_user(&Username::parse("bob").unwrap()),
            "user-bob"
        );
    }

    #[test]
    fn slug_parse() {
        for ok in ["a", "my-project_2", "0x", &"a".repeat(64)] {
            assert_eq!(Slug::parse(ok).unwrap().as_str(), ok);
        }
        for bad in [
            "",
            "-a",
            "_a",
            "A",
            "my project",
            "a.b",
            "a/b",
            &"a".repeat(65),
        ] {
            assert!(Slug::parse(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn slug_from_name() {
        let cases = [
            ("My Project", "my-project"),
            ("  My -- Project!! ", "my-project"),
            ("snake_case_name", "snake_case_name"),
            ("__hidden", "hidden"),
            ("Ünïcode Ωmega", "n-code-mega"),
            ("", "project"),
            ("!!!", "project"),
            ("___", "project"),
        ];
        for (name, slug) in cases {
            assert_eq!(Slug::from_name(name).as_str(), slug, "from {name:?}");
        }
        let long = format!("{}-{}", "a".repeat(63), "b".repeat(10));
        assert_eq!(Slug::from_name(&long).as_str(), "a".repeat(63));
        for name in ["x", "Hello World", &"é-".repeat(100), &"Ab ".repeat(50)] {
            let s = Slug::from_name(name);
            assert_eq!(Slug::parse(s.as_str()), Ok(s.clone()));
        }
    }

    #[test]
    fn slug_with_suffix() {
        let s = Slug::parse("proj").unwrap();
        assert_eq!(s.with_suffix(2).as_str(), "proj-2");
        assert_eq!(s.with_suffix(17).as_str(), "proj-17");
        let long = Slug::parse(&"a".repeat(64)).unwrap();
        let suffixed = long.with_suffix(123);
        assert_eq!(suffixed.as_str(), format!("{}-123", "a".repeat(60)));
        assert_eq!(Slug::parse(suffixed.as_str()), Ok(suffixed.clone()));
        let dashy = Slug::parse(&format!("{}-b", "a".repeat(61))).unwrap();
        assert_eq!(
            dashy.with_suffix(10).as_str(),
            format!("{}-10", "a".repeat(61))
        );
        let max = Slug::parse("a").unwrap().with_suffix(u32::MAX);
        assert_eq!(Slug::parse(max.as_str()), Ok(max.clone()));
    }

    #[test]
    fn sbg_project_id() {
        let id = SbgProjectId::parse("rfranklin/roundtrip-dest").unwrap();
        assert_eq!(id.owner().as_str(), "rfranklin");
        assert_eq!(id.slug().as_str(), "roundtrip-dest");
        assert_eq!(id.to_string(), "rfranklin/roundtrip-dest");
        assert_eq!(
            id,
            SbgProjectId::new(
                Username::parse("rfranklin").unwrap(),
                Slug::parse("roundtrip-dest").unwrap()
            )
        );
        for bad in ["", "rfranklin", "/x", "a/", "a/b/c", "a/B", "_a/b", "a//b"] {
            assert!(SbgProjectId::parse(bad).is_err(), "{bad:?} accepted");
        }
        let json = serde_json::to_string(&id).unwrap();
        assert_eq!(json, "\"rfranklin/roundtrip-dest\"");
        assert_eq!(serde_json::from_str::<SbgProjectId>(&json).unwrap(), id);
    }
}
