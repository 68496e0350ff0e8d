//! The reads and writes of a DNAnexus clone (`/project-xxxx/clone`), and `listProjects`, over
//! the shared model; the clone's rules, and the order they are checked in, are the use case's
//! (`ferry_usecases::clone`). A clone
//! gives the same object (same DNAnexus id) a new placement in the destination container, with a
//! copy of the source placement's name, tags, properties and SBG metadata and a new SBG file id,
//! so the clone shows in both dialects. Bytes and details are never copied. The contract is
//! `shared/seeds/dnanexus-clone.txt`; what it leaves open is decided in `docs/dx-clone.md`.
//!
//! Every refusal is found before the first write, and the writes commit in one transaction.
//! The use case calls these in this order, whose cost is a constant number of statements per level of the hidden-link closure and per
//! 1,000 rows written (a few per 10,000 ids read), whatever the number of objects:
//!
//! 1. both containers with their billing group and the caller's level, in one query;
//! 2. on PostgreSQL, a lock on the destination's root folder row, so that clones into one
//!    container run one at a time (SQLite's `BEGIN IMMEDIATE` already serialises writers);
//! 3. the listed objects; the source folders inside the listed folders; the visible objects in
//!    them; the destination folders that matter (the destination's chain and the folders to
//!    create);
//! 4. the closure, breadth-first: per level one query for the frontier's links and one for
//!    which of their targets are hidden and placed in the source;
//! 5. the objects already in the destination, and sponsorship if the destination is sponsored;
//! 6. the writes: folders (per depth), placements, and for open workflows new replica objects.

use std::collections::{BTreeSet, HashMap, HashSet};

use diesel::expression::BoxableExpression;
use diesel::prelude::*;
use diesel::sql_types::Bool;
use ferry_domain::clone::SponsorshipConflict;
use ferry_domain::ids::{DxClass, DxId};
use ferry_domain::model::ObjectState;
use ferry_domain::path::FolderPath;
use ferry_domain::permission::Level;
use ferry_domain::row_ids::{BillingGroupRowId, FolderRowId, ObjectRowId, ProjectRowId};

use crate::convert::{corrupt, escape_like};
use crate::copy::copy_links;
use crate::db::{DbConnection, MultiBackend};
use crate::each_backend;
use crate::error::StoreError;
use crate::files::{ObjectRow, PlacementRow};
use crate::folders::{insert_tree, path_digest};
use crate::placing::{ObjectSpec, PlacementSpec, insert_placed, insert_placements};
use crate::schema::{
    billing_groups, folders, object_class_fields, object_links, objects, placements,
    project_members, projects,
};
use crate::sponsorship;

mod gather;
mod holding;
mod replicate;

pub use gather::*;
pub use holding::*;
pub use replicate::*;

/// Ids per query: below both backends' parameter limits (SQLite 32,766, PostgreSQL 65,535) with
/// room for a statement's other parameters, so a clone of 10,000 objects reads each kind of row
/// in one statement.
pub(crate) const IDS_PER_QUERY: usize = 30_000;

/// Listed folders per query for their subtrees: two parameters each.
const FOLDERS_PER_QUERY: usize = 1_000;

/// A container as a clone sees it: flags, region, who pays, and the caller's level.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(check_for_backend(diesel::pg::Pg, diesel::sqlite::Sqlite))]
struct ContainerRow {
    #[diesel(select_expression = projects::id)]
    id: i64,
    #[diesel(select_expression = projects::dx_id)]
    dx_id: String,
    #[diesel(select_expression = projects::region)]
    region: String,
    #[diesel(select_expression = projects::restricted)]
    restricted: bool,
    #[diesel(select_expression = projects::contains_phi)]
    contains_phi: bool,
    #[diesel(select_expression = projects::sponsored_until)]
    sponsored_until: Option<chrono::NaiveDateTime>,
    #[diesel(select_expression = projects::billing_group_id)]
    billing_group_id: i64,
    #[diesel(select_expression = billing_groups::bill_to)]
    bill_to: String,
    #[diesel(select_expression = billing_groups::spending_limit_cents)]
    spending_limit_cents: Option<i64>,
    #[diesel(select_expression = billing_groups::spent_cents)]
    spent_cents: i64,
    #[diesel(select_expression = project_members::level.nullable())]
    level: Option<i16>,
}

impl ContainerRow {
    fn key(&self) -> ProjectRowId {
        ProjectRowId::new(self.id)
    }

    fn level(&self) -> Result<Option<Level>, StoreError> {
        self.level
            .map(Level::from_i16)
            .transpose()
            .map_err(|e| corrupt("project_members", self.id, e))
    }

    fn at_spending_limit(&self) -> bool {
        self.spending_limit_cents
            .is_some_and(|limit| self.spent_cents >= limit)
    }
}

/// A container as a clone's rules see it: flags, region, who pays, and the caller's level
/// (`None`: not a member).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CloneContainer {
    pub key: ProjectRowId,
    pub region: String,
    pub restricted: bool,
    pub contains_phi: bool,
    /// A third party sponsors its objects' storage now.
    pub sponsored: bool,
    pub billing_group: BillingGroupRowId,
    pub bill_to: String,
    /// Its billing group has reached its spending limit.
    pub at_spending_limit: bool,
    pub level: Option<Level>,
}

impl TryFrom<ContainerRow> for CloneContainer {
    type Error = StoreError;

    fn try_from(row: ContainerRow) -> Result<CloneContainer, StoreError> {
        Ok(CloneContainer {
            key: row.key(),
            level: row.level()?,
            at_spending_limit: row.at_spending_limit(),
            sponsored: sponsorship::is_sponsored(row.sponsored_until),
            region: row.region,
            restricted: row.restricted,
            contains_phi: row.contains_phi,
            billing_group: BillingGroupRowId::new(row.billing_group_id),
            bill_to: row.bill_to,
        })
    }
}

/// An object to clone, with its placement in the source: what the clone's rules read of it,
/// and what its writes copy (name, tags, properties, class fields).
#[derive(Debug, Clone)]
pub struct CloneSource {
    object: ObjectRow,
    placement: PlacementRow,
}

impl CloneSource {
    pub fn key(&self) -> ObjectRowId {
        ObjectRowId::new(self.object.id)
    }

    pub fn dx_id(&self) -> Result<DxId, StoreError> {
        parse_dx_id(&self.object)
    }

    /// The id as stored: sorting by it is sorting by [`DxId`], whose order is its text's.
    pub fn dx_id_text(&self) -> &str {
        &self.object.dx_id
    }

    pub fn state(&self) -> Result<ObjectState, StoreError> {
        self.object
            .state
            .parse()
            .map_err(|e| corrupt("objects", self.object.id, e))
    }

    /// An open workflow is not refused: the seed has it replicated, a new workflow object.
    pub fn is_open_workflow(&self) -> bool {
        is_open_workflow(&self.object)
    }

    /// The source folder it is placed in.
    pub fn folder(&self) -> FolderRowId {
        FolderRowId::new(self.placement.folder_id)
    }
}

impl From<(ObjectRow, PlacementRow)> for CloneSource {
    fn from((object, placement): (ObjectRow, PlacementRow)) -> Self {
        CloneSource { object, placement }
    }
}
