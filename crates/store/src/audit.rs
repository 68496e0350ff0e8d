//! The audit trail: one row per audited request (a batch is one row, its counts in `detail`),
//! read back by administrators and pruned after the retention period.

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use ferry_domain::model::{AuditEvent, AuditOutcome};
use ferry_domain::row_ids::{AuditEventRowId, UserRowId};

use crate::convert::{corrupt, from_db_time, from_json, now, to_db_time};
use crate::db::DbConnection;
use crate::error::StoreError;
use crate::page::{Page, Paginate};
use crate::schema::audit_events;

/// An event to record; the time is the store's.
#[derive(Debug, Clone, PartialEq)]
pub struct NewEvent {
    pub request_id: Option<String>,
    pub user_id: Option<UserRowId>,
    pub token_label: Option<String>,
    pub action: &'static str,
    pub target: Option<String>,
    pub outcome: AuditOutcome,
    pub detail: serde_json::Value,
}

/// Which events to read: all bounds optional, newest first.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Query {
    /// Events at or after this time.
    pub since: Option<DateTime<Utc>>,
    /// Events before this time.
    pub until: Option<DateTime<Utc>>,
    pub user_id: Option<UserRowId>,
    pub action: Option<String>,
    pub page: Page,
}

#[derive(Debug, Queryable, Selectable)]
#[diesel(table_name = audit_events, check_for_backend(diesel::pg::Pg, diesel::sqlite::Sqlite))]
struct EventRow {
    id: i64,
    at: NaiveDateTime,
    request_id: Option<String>,
    user_id: Option<i64>,
    token_label: Option<String>,
    action: String,
    target: Option<String>,
    outcome: String,
    detail: String,
}

impl TryFrom<EventRow> for AuditEvent {
    type Error = StoreError;

    fn try_from(row: EventRow) -> Result<AuditEvent, StoreError> {
        Ok(AuditEvent {
            outcome: row
                .outcome
                .parse()
                .map_err(|e| corrupt("audit_events", row.id, e))?,
            detail: from_json("audit_events", row.id, &row.detail)?,
            id: AuditEventRowId::new(row.id),
            at: from_db_time(row.at),
            request_id: row.request_id,
            user_id: row.user_id.map(UserRowId::new),
            token_label: row.token_label,
            action: row.action,
            target: row.target,
        })
    }
}

/// Records one event: inside the caller's transaction when it audits a change, so that the
/// change and its record commit together.
pub fn record(conn: &mut DbConnection, event: &NewEvent) -> Result<(), StoreError> {
    diesel::insert_into(audit_events::table)
        .values((
            audit_events::at.eq(now()),
            audit_events::request_id.eq(event.request_id.as_deref()),
            audit_events::user_id.eq(event.user_id.map(UserRowId::get)),
            audit_events::token_label.eq(event.token_label.as_deref()),
            audit_events::action.eq(event.action),
            audit_events::target.eq(event.target.as_deref()),
            audit_events::outcome.eq(event.outcome.as_str()),
            audit_events::detail.eq(event.detail.to_string()),
        ))
        .execute(conn)?;
    Ok(())
}

/// The events `query` selects, newest first, and how many match in all.
pub fn list(conn: &mut DbConnection, query: &Query) -> Result<(Vec<AuditEvent>, i64), StoreError> {
    let filtered = || {
        let mut q = audit_events::table.into_boxed();
        if let Some(since) = query.since {
            q = q.filter(audit_events::at.ge(to_db_time(since)));
        }
        if let Some(until) = query.until {
            q = q.filter(audit_events::at.lt(to_db_time(until)));
        }
        if let Some(user_id) = query.user_id {
            q = q.filter(audit_events::user_id.eq(user_id.get()));
        }
        if let Some(action) = &query.action {
            q = q.filter(audit_events::action.eq(action.clone()));
        }
        q
    };
    let total = filtered().count().get_result(conn)?;
    let events = filtered()
        .order((audit_events::at.desc(), audit_events::id.desc()))
        .paginate(query.page)
        .select(EventRow::as_select())
        .load(conn)?
        .into_iter()
        .map(AuditEvent::try_from)
        .collect::<Result<_, _>>()?;
    Ok((events, total))
}

/// Deletes up to `limit` events older than `cutoff`, oldest first (two statements whatever the
/// count); returns how many. The cap keeps each sweep a short write, however far behind the
/// pruning is.
pub fn prune_before(
    conn: &mut DbConnection,
    cutoff: DateTime<Utc>,
    limit: i64,
) -> Result<usize, StoreError> {
    let expired: Vec<i64> = audit_events::table
        .filter(audit_events::at.lt(to_db_time(cutoff)))
        .order(audit_events::id)
        .limit(limit)
        .select(audit_events::id)
        .load(conn)?;
    if expired.is_empty() {
        return Ok(0);
    }
    Ok(
        diesel::delete(audit_events::table.filter(audit_events::id.eq_any(&expired)))
            .execute(conn)?,
    )
}
