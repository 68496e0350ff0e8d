//! Billing groups: SBG `billing_group`, DNAnexus `billTo`. Every user has a personal one.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use ferry_domain::ids::bill_to_for_user;
use ferry_domain::model::{BillingGroup, User};
use ferry_domain::row_ids::{BillingGroupRowId, UserRowId};

use crate::convert::{from_db_time, now};
use crate::db::DbConnection;
use crate::error::StoreError;
use crate::page::{Page, Paginate};
use crate::schema::billing_groups;
use crate::users;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = billing_groups, check_for_backend(diesel::pg::Pg, diesel::sqlite::Sqlite))]
pub(crate) struct BillingGroupRow {
    pub id: i64,
    pub uuid: String,
    pub name: String,
    pub owner_user_id: i64,
    pub bill_to: String,
    pub spending_limit_cents: Option<i64>,
    pub spent_cents: i64,
    pub created_at: NaiveDateTime,
}

impl From<BillingGroupRow> for BillingGroup {
    fn from(row: BillingGroupRow) -> BillingGroup {
        BillingGroup {
            id: BillingGroupRowId::new(row.id),
            uuid: row.uuid,
            name: row.name,
            owner_user_id: UserRowId::new(row.owner_user_id),
            bill_to: row.bill_to,
            spending_limit_cents: row.spending_limit_cents,
            spent_cents: row.spent_cents,
            created_at: from_db_time(row.created_at),
        }
    }
}

/// Creates the user's personal group, billed to `user-<username>`, without a spending limit.
pub(crate) fn create_personal(
    conn: &mut DbConnection,
    owner: &User,
) -> Result<BillingGroup, StoreError> {
    let row: BillingGroupRow = diesel::insert_into(billing_groups::table)
        .values((
            billing_groups::uuid.eq(uuid::Uuid::new_v4().to_string()),
            billing_groups::name.eq(format!("{}'s billing group", owner.username)),
            billing_groups::owner_user_id.eq(owner.id.get()),
            billing_groups::bill_to.eq(bill_to_for_user(&owner.username)),
            billing_groups::created_at.eq(now()),
        ))
        .returning(billing_groups::all_columns)
        .get_result(conn)?;
    Ok(row.into())
}

/// One page of the groups the user may bill to (those they own), oldest first, and the number
/// of such groups in all pages.
pub fn list_for_user(
    conn: &mut DbConnection,
    user_id: UserRowId,
    page: Page,
) -> Result<(Vec<BillingGroup>, i64), StoreError> {
    let owned = billing_groups::table.filter(billing_groups::owner_user_id.eq(user_id.get()));
    let total = owned.count().get_result(conn)?;
    let rows = owned
        .order(billing_groups::id)
        .paginate(page)
        .select(BillingGroupRow::as_select())
        .load(conn)?;
    Ok((rows.into_iter().map(BillingGroup::from).collect(), total))
}

/// The group with this SBG id, if the user owns it.
pub fn get_by_uuid(
    conn: &mut DbConnection,
    user_id: UserRowId,
    uuid: &str,
) -> Result<Option<BillingGroup>, StoreError> {
    let row = billing_groups::table
        .filter(billing_groups::uuid.eq(uuid))
        .filter(billing_groups::owner_user_id.eq(user_id.get()))
        .select(BillingGroupRow::as_select())
        .first(conn)
        .optional()?;
    Ok(row.map(BillingGroup::from))
}

/// The user's personal group, billed to `user-<username>`; `NotFound` if there is no such
/// user.
pub fn personal(conn: &mut DbConnection, user_id: UserRowId) -> Result<BillingGroup, StoreError> {
    let owner = users::get(conn, user_id)?;
    let row = billing_groups::table
        .filter(billing_groups::bill_to.eq(bill_to_for_user(&owner.username)))
        .filter(billing_groups::owner_user_id.eq(owner.id.get()))
        .select(BillingGroupRow::as_select())
        .first(conn)?;
    Ok(row.into())
}
