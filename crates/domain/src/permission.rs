//! Project membership permissions, and their mapping between the two dialects.
//!
//! Ferry stores the DNAnexus model (an ordered level plus two flags) because it is the richer
//! one on write access; the SBG dialect's five booleans are derived from it and mapped back.

use serde::{Deserialize, Serialize};
use strum::{Display, EnumString, IntoStaticStr, VariantArray};

use crate::error::DomainError;

/// A DNAnexus access level. The derived order is the level order:
/// `View < Upload < Contribute < Administer`, so "at least X" is `level >= X`.
///
/// Spelt `VIEW`, `UPLOAD`, `CONTRIBUTE`, `ADMINISTER` on the wire, and parsed only so (in
/// uppercase), as DNAnexus does.
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
    serialize_all = "UPPERCASE",
    parse_err_ty = DomainError,
    parse_err_fn = unknown_level
)]
pub enum Level {
    View,
    Upload,
    Contribute,
    Administer,
}

impl Level {
    pub fn as_str(self) -> &'static str {
        self.into()
    }

    /// The stored value, 1..=4 in level order, so that SQL can compare levels too.
    pub fn as_i16(self) -> i16 {
        match self {
            Level::View => 1,
            Level::Upload => 2,
            Level::Contribute => 3,
            Level::Administer => 4,
        }
    }

    /// The inverse of [`Level::as_i16`]; anything outside 1..=4 is an error.
    pub fn from_i16(v: i16) -> Result<Level, DomainError> {
        match v {
            1 => Ok(Level::View),
            2 => Ok(Level::Upload),
            3 => Ok(Level::Contribute),
            4 => Ok(Level::Administer),
            _ => Err(DomainError::invalid(
                "permission level",
                format!("unknown level {v}"),
            )),
        }
    }
}

fn unknown_level(_: &str) -> DomainError {
    DomainError::invalid(
        "permission level",
        "expected VIEW, UPLOAD, CONTRIBUTE or ADMINISTER",
    )
}

impl Serialize for Level {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Level {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = String::deserialize(deserializer)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// What one member may do in one project, as stored.
///
/// `copy` (copy data out of the project) and `execute` (run tasks) are separate rights in SBG;
/// DNAnexus has no such flags and ignores them. An administrator always has both.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Permissions {
    pub level: Level,
    pub copy: bool,
    pub execute: bool,
}

/// The SBG dialect's member permission object.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct SbgPermissions {
    pub read: bool,
    pub write: bool,
    pub copy: bool,
    pub execute: bool,
    pub admin: bool,
}

impl Permissions {
    /// What a project's creator gets: everything.
    pub fn owner() -> Self {
        Permissions {
            level: Level::Administer,
            copy: true,
            execute: true,
        }
    }

    /// The SBG view. SBG has no UPLOAD level, so UPLOAD shows as `write` (it may add data).
    pub fn to_sbg(&self) -> SbgPermissions {
        let admin = self.level == Level::Administer;
        SbgPermissions {
            read: true,
            write: self.level >= Level::Upload,
            copy: self.copy || admin,
            execute: self.execute || admin,
            admin,
        }
    }

    /// From the SBG view: `admin` is ADMINISTER (with copy and execute), else `write` is
    /// CONTRIBUTE, else VIEW. `read` is implied by membership and ignored.
    pub fn from_sbg(sbg: &SbgPermissions) -> Self {
        let level = if sbg.admin {
            Level::Administer
        } else if sbg.write {
            Level::Contribute
        } else {
            Level::View
        };
        Permissions {
            level,
            copy: sbg.copy || sbg.admin,
            execute: sbg.execute || sbg.admin,
        }
    }

    /// Every member may read.
    pub fn can_read(&self) -> bool {
        true
    }

    /// UPLOAD and above may add data.
    pub fn can_write(&self) -> bool {
        self.level >= Level::Upload
    }

    /// The copy flag; an administrator may always copy (as in [`Permissions::to_sbg`]).
    pub fn can_copy(&self) -> bool {
        self.copy || self.can_admin()
    }

    /// The execute flag; an administrator may always execute (as in [`Permissions::to_sbg`]).
    pub fn can_execute(&self) -> bool {
        self.execute || self.can_admin()
    }

    pub fn can_admin(&self) -> bool {
        self.level == Level::Administer
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn level_order_and_spelling() {
        assert!(Level::View < Level::Upload);
        assert!(Level::Upload < Level::Contribute);
        assert!(Level::Contribute < Level::Administer);
        for &l in Level::VARIANTS {
            assert_eq!(l.as_str().parse::<Level>(), Ok(l));
            assert_eq!(Level::from_i16(l.as_i16()), Ok(l));
            assert_eq!(
                serde_json::to_string(&l).unwrap(),
                format!("\"{}\"", l.as_str())
            );
            assert_eq!(
                serde_json::from_str::<Level>(&format!("\"{l}\"")).unwrap(),
                l
            );
        }
        let spelt: Vec<&str> = Level::VARIANTS.iter().map(|l| l.as_str()).collect();
        assert_eq!(spelt, ["VIEW", "UPLOAD", "CONTRIBUTE", "ADMINISTER"]);
        assert_eq!(
            "view".parse::<Level>().unwrap_err().to_string(),
            "invalid permission level: expected VIEW, UPLOAD, CONTRIBUTE or ADMINISTER"
        );
        for bad in ["view", "Admin", "", "NONE", " VIEW"] {
            assert!(bad.parse::<Level>().is_err(), "{bad:?} accepted");
        }
        for bad in [0, 5, -1, i16::MAX] {
            assert!(Level::from_i16(bad).is_err());
        }
        let stored: Vec<i16> = Level::VARIANTS.iter().map(|l| l.as_i16()).collect();
        assert_eq!(stored, [1, 2, 3, 4]);
    }

    #[test]
    fn to_sbg() {
        let p = |level, copy, execute| {
            Permissions {
                level,
                copy,
                execute,
            }
            .to_sbg()
        };
        let s = |read, write, copy, execute, admin| SbgPermissions {
            read,
            write,
            copy,
            execute,
            admin,
        };
        assert_eq!(
            p(Level::View, false, false),
            s(true, false, false, false, false)
        );
        assert_eq!(
            p(Level::View, true, false),
            s(true, false, true, false, false)
        );
        assert_eq!(
            p(Level::Upload, false, true),
            s(true, true, false, true, false)
        );
        assert_eq!(
            p(Level::Contribute, true, true),
            s(true, true, true, true, false)
        );
        assert_eq!(
            p(Level::Administer, false, false),
            s(true, true, true, true, true)
        );
        assert_eq!(
            Permissions::owner().to_sbg(),
            s(true, true, true, true, true)
        );
    }

    #[test]
    fn from_sbg() {
        let f = |write, copy, execute, admin| {
            Permissions::from_sbg(&SbgPermissions {
                read: true,
                write,
                copy,
                execute,
                admin,
            })
        };
        let p = |level, copy, execute| Permissions {
            level,
            copy,
            execute,
        };
        assert_eq!(f(false, false, false, false), p(Level::View, false, false));
        assert_eq!(f(false, true, true, false), p(Level::View, true, true));
        assert_eq!(
            f(true, false, true, false),
            p(Level::Contribute, false, true)
        );
        assert_eq!(f(false, false, false, true), Permissions::owner());
        assert_eq!(f(true, true, true, true), Permissions::owner());
    }

    #[test]
    fn sbg_round_trip_is_stable() {
        // Every SBG object maps to Ferry and back to itself once normalised (read set, admin
        // implying write, copy and execute).
        for bits in 0..16u8 {
            let sbg = SbgPermissions {
                read: true,
                write: bits & 1 != 0,
                copy: bits & 2 != 0,
                execute: bits & 4 != 0,
                admin: bits & 8 != 0,
            };
            let once = Permissions::from_sbg(&sbg).to_sbg();
            assert_eq!(Permissions::from_sbg(&once).to_sbg(), once);
            if !sbg.admin {
                assert_eq!(once, sbg);
            }
        }
    }

    #[test]
    fn predicates() {
        let view = Permissions {
            level: Level::View,
            copy: false,
            execute: false,
        };
        assert!(view.can_read() && !view.can_write() && !view.can_copy() && !view.can_admin());
        assert!(!view.can_execute());
        let upload = Permissions {
            level: Level::Upload,
            copy: true,
            execute: false,
        };
        assert!(upload.can_write() && upload.can_copy() && !upload.can_admin());
        let admin = Permissions {
            level: Level::Administer,
            copy: false,
            execute: false,
        };
        assert!(admin.can_write() && admin.can_copy() && admin.can_execute() && admin.can_admin());
        let owner = Permissions::owner();
        assert!(owner.can_read() && owner.can_write() && owner.can_copy() && owner.can_admin());
    }

    #[test]
    fn sbg_serde_shape() {
        let json = serde_json::to_value(Permissions::owner().to_sbg()).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"read": true, "write": true, "copy": true, "execute": true,
                "admin": true})
        );
    }
}
