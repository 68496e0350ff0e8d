//! Ferry's entities as the rest of the program sees them: parsed, typed, and free of storage
//! details. The store converts its rows into these; the API renders them in either dialect.

use chrono::{DateTime, Utc};
use serde_json::{Map, Value};
use strum::{Display, EnumString, IntoStaticStr};

use crate::error::DomainError;
use crate::ids::{DxClass, DxId, SbgId, SbgProjectId, Username};
use crate::path::FolderPath;
use crate::permission::Permissions;
use crate::row_ids::{
    AuditEventRowId, BillingGroupRowId, FolderRowId, ObjectRowId, PlacementRowId, ProjectRowId,
    TokenRowId, UserRowId,
};

/// A person who can hold tokens and be a member of projects.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub id: UserRowId,
    pub username: Username,
    pub name: String,
    pub email: Option<String>,
    pub created_at: DateTime<Utc>,
    /// May read the audit trail (`GET /admin/audit`).
    pub is_admin: bool,
}

/// Who pays for a project: SBG `billing_group`, DNAnexus `billTo`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BillingGroup {
    pub id: BillingGroupRowId,
    /// The SBG billing group id.
    pub uuid: String,
    pub name: String,
    pub owner_user_id: UserRowId,
    /// The DNAnexus `billTo`: `user-<username>` for a personal group.
    pub bill_to: String,
    pub spending_limit_cents: Option<i64>,
    pub spent_cents: i64,
    pub created_at: DateTime<Utc>,
}

/// An API token, without its secret: the store keeps only a digest of that.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Token {
    pub id: TokenRowId,
    pub user_id: UserRowId,
    pub label: Option<String>,
    /// The secret's last four characters, so a user can tell their tokens apart.
    pub last4: String,
    pub created_at: DateTime<Utc>,
    pub expires_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
    pub last_used_at: Option<DateTime<Utc>>,
}

/// A project (DNAnexus data container), known by both its DNAnexus and its SBG id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Project {
    pub id: ProjectRowId,
    pub dx_id: DxId,
    /// `owner/slug`.
    pub sbg_id: SbgProjectId,
    pub owner_user_id: UserRowId,
    pub name: String,
    pub description: String,
    pub region: String,
    pub billing_group_id: BillingGroupRowId,
    pub restricted: bool,
    pub protected: bool,
    pub contains_phi: bool,
    /// Until when a third party sponsors the storage of this project's objects.
    pub sponsored_until: Option<DateTime<Utc>>,
    /// SBG project tags.
    pub tags: Vec<String>,
    /// SBG project settings, kept as the client sent them (`locked`, `intermediate_files`, ...).
    pub settings: Map<String, Value>,
    pub created_at: DateTime<Utc>,
    pub modified_at: DateTime<Utc>,
}

/// A user's membership of a project.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    pub project_id: ProjectRowId,
    pub user_id: UserRowId,
    pub username: Username,
    pub permissions: Permissions,
}

/// A folder of a project. Every project has a root folder, `/`, the only one without a parent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Folder {
    pub id: FolderRowId,
    /// The SBG id: SBG shows folders as files of type `folder`.
    pub sbg_id: SbgId,
    pub project_id: ProjectRowId,
    pub parent_id: Option<FolderRowId>,
    pub path: FolderPath,
    pub created_at: DateTime<Utc>,
    pub modified_at: DateTime<Utc>,
}

/// The life cycle of a data object: DNAnexus objects are written while open and immutable once
/// closed. Spelt `open`, `closing`, `closed` on the wire and in storage.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Display, EnumString, IntoStaticStr)]
#[strum(
    serialize_all = "lowercase",
    parse_err_ty = DomainError,
    parse_err_fn = unknown_object_state
)]
pub enum ObjectState {
    Open,
    Closing,
    Closed,
}

impl ObjectState {
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

fn unknown_object_state(s: &str) -> DomainError {
    DomainError::invalid("object state", format!("unknown state '{s}'"))
}

/// A data object: its identity and everything that is the same in every project holding it.
/// A DNAnexus clone shares one object; an SBG copy makes a new one over the same content.
#[derive(Debug, Clone, PartialEq)]
pub struct Object {
    pub id: ObjectRowId,
    pub dx_id: DxId,
    pub class: DxClass,
    pub state: ObjectState,
    pub hidden: bool,
    pub details: Value,
    pub types: Vec<String>,
    pub size: i64,
    /// The SHA-256 (hex) under which the content store keeps the bytes; `None` for objects
    /// without content (records, open files).
    pub content_sha256: Option<String>,
    pub md5: Option<String>,
    /// Where the content store holds bytes whose checksums are still being computed (an S3
    /// upload's object, while the file is `closing`); kept once they are.
    pub content_key: Option<String>,
    pub created_at: DateTime<Utc>,
    pub created_by_user_id: UserRowId,
    pub modified_at: DateTime<Utc>,
}

/// An object placed in a project: what a project "contains", with the per-project metadata.
#[derive(Debug, Clone, PartialEq)]
pub struct Placement {
    pub id: PlacementRowId,
    /// The SBG file id: each project's copy of a file has its own.
    pub sbg_id: SbgId,
    pub object_id: ObjectRowId,
    pub project_id: ProjectRowId,
    pub folder_id: FolderRowId,
    pub name: String,
    pub tags: Vec<String>,
    pub properties: Map<String, Value>,
    /// SBG metadata.
    pub metadata: Map<String, Value>,
    pub created_at: DateTime<Utc>,
    pub modified_at: DateTime<Utc>,
}

/// A file as the SBG dialect shows it: the placement and its object, with the SBG ids of the
/// project and of the folder holding it.
#[derive(Debug, Clone, PartialEq)]
pub struct FileView {
    pub placement: Placement,
    pub object: Object,
    pub project: SbgProjectId,
    /// The folder holding the file: the project's root folder for a top-level file.
    pub parent: SbgId,
}

/// A folder as the SBG dialect shows it, a file of type `folder`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FolderView {
    pub folder: Folder,
    pub project: SbgProjectId,
    /// The SBG id of the folder holding this one; `None` for the project's root folder.
    pub parent: Option<SbgId>,
}

/// One line of the audit trail: who did what, to what, and how it ended.
#[derive(Debug, Clone, PartialEq)]
pub struct AuditEvent {
    pub id: AuditEventRowId,
    pub at: DateTime<Utc>,
    /// The `X-Request-Id` of the request; `None` for work done outside one (a job's end).
    pub request_id: Option<String>,
    pub user_id: Option<UserRowId>,
    /// The label of the token the request used (never the secret).
    pub token_label: Option<String>,
    /// What was done, e.g. `sbg.files.copy`, `dx.clone`, `denied`.
    pub action: String,
    /// The ids acted on.
    pub target: Option<String>,
    pub outcome: AuditOutcome,
    /// Counts and other particulars, a JSON object.
    pub detail: Value,
}

/// How an audited action ended, stored as `ok`, `partial`, `failed` or `denied`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, EnumString, IntoStaticStr)]
#[strum(
    serialize_all = "lowercase",
    parse_err_ty = String,
    parse_err_fn = unknown_audit_outcome
)]
pub enum AuditOutcome {
    /// Done in full.
    Ok,
    /// Done for some items of a batch, refused for others.
    Partial,
    /// Nothing done.
    Failed,
    /// Refused for want of a token or of permission.
    Denied,
}

impl AuditOutcome {
    pub fn as_str(self) -> &'static str {
        self.into()
    }

    /// The outcome of a batch of `done` items out of `total`.
    pub fn of_batch(done: usize, total: usize) -> AuditOutcome {
        match done {
            0 if total > 0 => AuditOutcome::Failed,
            done if done < total => AuditOutcome::Partial,
            _ => AuditOutcome::Ok,
        }
    }
}

fn unknown_audit_outcome(s: &str) -> String {
    format!("unknown audit outcome {s:?}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn object_state_round_trips_and_refuses_unknown() {
        let states = [ObjectState::Open, ObjectState::Closing, ObjectState::Closed];
        assert_eq!(
            states.map(ObjectState::as_str),
            ["open", "closing", "closed"]
        );
        for state in states {
            assert_eq!(state.as_str().parse::<ObjectState>(), Ok(state));
            assert_eq!(state.to_string(), state.as_str());
        }
        assert!("Closed".parse::<ObjectState>().is_err());
    }

    #[test]
    fn audit_outcome_of_a_batch() {
        assert_eq!(AuditOutcome::of_batch(3, 3), AuditOutcome::Ok);
        assert_eq!(AuditOutcome::of_batch(1, 3), AuditOutcome::Partial);
        assert_eq!(AuditOutcome::of_batch(0, 3), AuditOutcome::Failed);
        let outcomes = [
            AuditOutcome::Ok,
            AuditOutcome::Partial,
            AuditOutcome::Failed,
            AuditOutcome::Denied,
        ];
        assert_eq!(
            outcomes.map(AuditOutcome::as_str),
            ["ok", "partial", "failed", "denied"]
        );
        assert_eq!("denied".parse(), Ok(AuditOutcome::Denied));
        assert_eq!(
            "Ok".parse::<AuditOutcome>(),
            Err(r#"unknown audit outcome "Ok""#.to_owned())
        );
    }
}
