//! Who pays for storing an object, beyond the billTo of the projects holding it.
//!
//! - A project is **third-party sponsored** while `projects.sponsored_until` lies ahead (set by
//!   `/project-xxxx/updateSponsorship`); its objects are then third-party sponsored in it.
//! - An object is **sponsored by the operator** (DNAnexus-sponsored, in the dialect's words) when
//!   it has a row in `sponsored_objects` ([`sponsor_by_operator`]).
//!
//! A third-party sponsored project takes no object that already has a sponsor (the operator, or
//! another sponsored project): a clone into it, or its becoming sponsored, is refused with
//! InvalidState (`shared/seeds/dnanexus-clone.txt`).

use ferry_domain::row_ids::{ObjectRowId, ProjectRowId};
use std::collections::BTreeSet;

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::dsl::{exists, not};
use diesel::prelude::*;
use ferry_domain::clone::SponsorshipConflict;
use ferry_domain::ids::DxId;

use crate::clone::IDS_PER_QUERY;
use crate::convert::{corrupt, now, to_db_time};
use crate::db::DbConnection;
use crate::error::StoreError;
use crate::schema::{objects, placements, projects, sponsored_objects};
use crate::unit_of_work::atomic;

#[derive(Debug, thiserror::Error)]
pub enum SponsorshipError {
    #[error("the objects already have a sponsor: {0:?}")]
    Conflict(SponsorshipConflict),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<diesel::result::Error> for SponsorshipError {
    fn from(e: diesel::result::Error) -> Self {
        SponsorshipError::Store(e.into())
    }
}

/// Whether a project whose `sponsored_until` is this is third-party sponsored now.
pub(crate) fn is_sponsored(sponsored_until: Option<NaiveDateTime>) -> bool {
    sponsored_until.is_some_and(|until| until > now())
}

/// Why the project `sponsor_id` cannot sponsor the objects `object_ids` (row ids): those the
/// operator sponsors, else those another project sponsors. Two queries per 30,000 objects.
pub(crate) fn conflicts(
    conn: &mut DbConnection,
    sponsor_id: ProjectRowId,
    object_ids: &[i64],
) -> Result<Option<SponsorshipConflict>, StoreError> {
    let mut by_operator = BTreeSet::new();
    let mut elsewhere = BTreeSet::new();
    let now = now();
    for chunk in object_ids.chunks(IDS_PER_QUERY) {
        by_operator.extend(
            sponsored_objects::table
                .inner_join(objects::table)
                .filter(sponsored_objects::object_id.eq_any(chunk))
                .select((objects::id, objects::dx_id))
                .load::<(i64, String)>(conn)?,
        );
        elsewhere.extend(
            placements::table
                .inner_join(objects::table)
                .inner_join(projects::table)
                .filter(placements::object_id.eq_any(chunk))
                .filter(placements::project_id.ne(sponsor_id.get()))
                .filter(projects::sponsored_until.gt(now))
                .select((objects::id, objects::dx_id, projects::dx_id))
                .load::<(i64, String, String)>(conn)?,
        );
    }
    if !by_operator.is_empty() {
        let ids = by_operator
            .into_iter()
            .map(|(id, dx_id)| parse(ObjectRowId::new(id), &dx_id))
            .collect::<Result<_, _>>()?;
        return Ok(Some(SponsorshipConflict::OperatorSponsored(ids)));
    }
    if !elsewhere.is_empty() {
        let pairs = elsewhere
            .into_iter()
            .map(|(id, dx_id, project)| {
                Ok((
                    parse(ObjectRowId::new(id), &dx_id)?,
                    parse(ObjectRowId::new(id), &project)?,
                ))
            })
            .collect::<Result<_, StoreError>>()?;
        return Ok(Some(SponsorshipConflict::AlreadySponsored(pairs)));
    }
    Ok(None)
}

fn parse(object_id: ObjectRowId, dx_id: &str) -> Result<DxId, StoreError> {
    DxId::parse(dx_id).map_err(|e| corrupt("objects", object_id, e))
}

/// Makes the project third-party sponsored until `until`, or ends its sponsorship (`None`, or a
/// time already past). Refused while any object it holds has another sponsor.
pub fn sponsor_project(
    conn: &mut DbConnection,
    project_id: ProjectRowId,
    until: Option<DateTime<Utc>>,
) -> Result<(), SponsorshipError> {
    atomic(conn, |conn| {
        let until = until.map(to_db_time);
        if is_sponsored(until) {
            let object_ids: Vec<i64> = placements::table
                .filter(placements::project_id.eq(project_id.get()))
                .select(placements::object_id)
                .load(conn)?;
            if let Some(conflict) = conflicts(conn, project_id, &object_ids)? {
                return Err(SponsorshipError::Conflict(conflict));
            }
        }
        let updated = diesel::update(projects::table.find(project_id.get()))
            .set(projects::sponsored_until.eq(until))
            .execute(conn)?;
        if updated == 0 {
            return Err(StoreError::NotFound.into());
        }
        Ok(())
    })
}

/// The operator sponsors every object the project holds from now on (objects sponsored already
/// stay so). One statement.
pub fn sponsor_by_operator(
    conn: &mut DbConnection,
    project_id: ProjectRowId,
) -> Result<(), StoreError> {
    let already = sponsored_objects::table
        .filter(sponsored_objects::object_id.eq(placements::object_id))
        .select(sponsored_objects::object_id);
    let unsponsored = placements::table
        .filter(placements::project_id.eq(project_id.get()))
        .filter(not(exists(already)))
        .select((
            placements::object_id,
            now().into_sql::<diesel::sql_types::Timestamp>(),
        ));
    diesel::insert_into(sponsored_objects::table)
        .values(unsponsored)
        .into_columns((sponsored_objects::object_id, sponsored_objects::created_at))
        .execute(conn)?;
    Ok(())
}
