//! Project members: which users may do what in a project. A project keeps at least one
//! administrator; callers check [`is_last_administrator`] before removing or demoting one,
//! inside the transaction that holds the project's lock ([`crate::projects::lock`]).

use diesel::dsl::count_star;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Bool, SmallInt, Timestamp};
use ferry_domain::ids::Username;
use ferry_domain::model::User;
use ferry_domain::permission::{Level, Permissions};
use ferry_domain::row_ids::{ProjectRowId, UserRowId};

use crate::convert::{corrupt, now};
use crate::db::DbConnection;
use crate::error::StoreError;
use crate::page::{Page, Paginate};
use crate::schema::{project_members, projects, users};
use crate::users::UserRow;

/// The permission columns of a membership.
#[derive(Debug, Clone, Copy, Queryable, Selectable)]
#[diesel(table_name = project_members, check_for_backend(diesel::pg::Pg, diesel::sqlite::Sqlite))]
pub(crate) struct PermissionsRow {
    pub project_id: i64,
    pub user_id: i64,
    pub level: i16,
    pub can_copy: bool,
    pub can_execute: bool,
}

impl TryFrom<PermissionsRow> for Permissions {
    type Error = StoreError;

    fn try_from(row: PermissionsRow) -> Result<Permissions, StoreError> {
        let level = Level::from_i16(row.level).map_err(|e| {
            corrupt(
                "project_members",
                format!("({}, {})", row.project_id, row.user_id),
                e,
            )
        })?;
        Ok(Permissions {
            level,
            copy: row.can_copy,
            execute: row.can_execute,
        })
    }
}

fn member_from_rows(
    (user, permissions): (UserRow, PermissionsRow),
) -> Result<(User, Permissions), StoreError> {
    Ok((user.try_into()?, permissions.try_into()?))
}

/// One page of the project's members with their permissions, in the order they joined, and
/// the number of members in all pages.
pub fn list(
    conn: &mut DbConnection,
    project_id: ProjectRowId,
    page: Page,
) -> Result<(Vec<(User, Permissions)>, i64), StoreError> {
    let total = project_members::table
        .filter(project_members::project_id.eq(project_id.get()))
        .select(count_star())
        .get_result(conn)?;
    let members = project_members::table
        .inner_join(users::table)
        .filter(project_members::project_id.eq(project_id.get()))
        .order((project_members::created_at, project_members::user_id))
        .paginate(page)
        .select((UserRow::as_select(), PermissionsRow::as_select()))
        .load(conn)?
        .into_iter()
        .map(member_from_rows)
        .collect::<Result<_, _>>()?;
    Ok((members, total))
}

/// The member called `username` and their permissions; `None` if no such user is a member.
pub fn get(
    conn: &mut DbConnection,
    project_id: ProjectRowId,
    username: &Username,
) -> Result<Option<(User, Permissions)>, StoreError> {
    project_members::table
        .inner_join(users::table)
        .filter(project_members::project_id.eq(project_id.get()))
        .filter(users::username.eq(username.as_str()))
        .select((UserRow::as_select(), PermissionsRow::as_select()))
        .first(conn)
        .optional()?
        .map(member_from_rows)
        .transpose()
}

/// Makes the user a member. One who is a member already is a `Conflict`; `NotFound` if the
/// project does not exist.
///
/// The membership keeps the project's DNAnexus id (migration 000011): one statement that
/// reads it from the project as it inserts.
pub fn add(
    conn: &mut DbConnection,
    project_id: ProjectRowId,
    user_id: UserRowId,
    permissions: Permissions,
) -> Result<(), StoreError> {
    let membership = projects::table
        .filter(projects::id.eq(project_id.get()))
        .select((
            projects::id,
            user_id.get().into_sql::<BigInt>(),
            permissions.level.as_i16().into_sql::<SmallInt>(),
            permissions.copy.into_sql::<Bool>(),
            permissions.execute.into_sql::<Bool>(),
            now().into_sql::<Timestamp>(),
            projects::dx_id,
        ));
    let added = diesel::insert_into(project_members::table)
        .values(membership)
        .into_columns((
            project_members::project_id,
            project_members::user_id,
            project_members::level,
            project_members::can_copy,
            project_members::can_execute,
            project_members::created_at,
            project_members::project_dx_id,
        ))
        .execute(conn)?;
    if added == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

/// Replaces a member's permissions; `NotFound` if the user is not a member.
pub fn set_permissions(
    conn: &mut DbConnection,
    project_id: ProjectRowId,
    user_id: UserRowId,
    permissions: Permissions,
) -> Result<(), StoreError> {
    let updated = diesel::update(project_members::table.find((project_id.get(), user_id.get())))
        .set((
            project_members::level.eq(permissions.level.as_i16()),
            project_members::can_copy.eq(permissions.copy),
            project_members::can_execute.eq(permissions.execute),
        ))
        .execute(conn)?;
    if updated == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

/// Removes a member; `NotFound` if the user is not a member.
pub fn remove(
    conn: &mut DbConnection,
    project_id: ProjectRowId,
    user_id: UserRowId,
) -> Result<(), StoreError> {
    let deleted = diesel::delete(project_members::table.find((project_id.get(), user_id.get())))
        .execute(conn)?;
    if deleted == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

/// Whether the user is the project's only administrator, so that removing or demoting them
/// would leave the project without one.
pub fn is_last_administrator(
    conn: &mut DbConnection,
    project_id: ProjectRowId,
    user_id: UserRowId,
) -> Result<bool, StoreError> {
    let administrators: Vec<i64> = project_members::table
        .filter(project_members::project_id.eq(project_id.get()))
        .filter(project_members::level.eq(Level::Administer.as_i16()))
        .select(project_members::user_id)
        .limit(2)
        .load(conn)?;
    Ok(administrators == [user_id.get()])
}
