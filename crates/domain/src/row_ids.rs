//! Row ids: the database's keys of users, projects and the rest, which no client ever sees (the
//! dialects show `DxId`s and `SbgId`s). One newtype per table, so that a project's row id cannot
//! be passed where a user's is wanted, whatever the order of a function's arguments. Only the
//! store makes them, from the rows it reads.

use std::fmt;

macro_rules! row_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(i64);

        impl $name {
            /// The id of a row the store read or wrote.
            pub const fn new(id: i64) -> Self {
                $name(id)
            }

            /// The key as the database holds it.
            pub const fn get(self) -> i64 {
                self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }
    };
}

row_id!(
    /// A `users` row.
    UserRowId
);
row_id!(
    /// A `projects` row (a DNAnexus container, an SBG project).
    ProjectRowId
);
row_id!(
    /// A `folders` row.
    FolderRowId
);
row_id!(
    /// An `objects` row (a data object: a file, a record, an applet...).
    ObjectRowId
);
row_id!(
    /// A `placements` row (an object in one project's folder, under one name).
    PlacementRowId
);
row_id!(
    /// A `billing_groups` row.
    BillingGroupRowId
);
row_id!(
    /// A `tokens` row.
    TokenRowId
);
row_id!(
    /// A `jobs` row (an async copy job).
    JobRowId
);
row_id!(
    /// A `job_chunks` row (a part of a job, claimed and worked as one).
    ChunkRowId
);
row_id!(
    /// A `job_items` row (one file or folder of a job).
    JobItemRowId
);
row_id!(
    /// An `audit_events` row.
    AuditEventRowId
);
