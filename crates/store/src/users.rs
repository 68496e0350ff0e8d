//! Users. Creating one also creates their personal billing group.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use ferry_domain::ids::Username;
use ferry_domain::model::User;
use ferry_domain::row_ids::UserRowId;
use std::collections::HashSet;

use crate::billing;
use crate::convert::{corrupt, from_db_time, now};
use crate::db::DbConnection;
use crate::error::StoreError;
use crate::schema::users;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = users, check_for_backend(diesel::pg::Pg, diesel::sqlite::Sqlite))]
pub(crate) struct UserRow {
    pub id: i64,
    pub username: String,
    pub name: String,
    pub email: Option<String>,
    pub created_at: NaiveDateTime,
    pub is_admin: bool,
}

impl TryFrom<UserRow> for User {
    type Error = StoreError;

    fn try_from(row: UserRow) -> Result<User, StoreError> {
        Ok(User {
            id: UserRowId::new(row.id),
            username: Username::parse(&row.username).map_err(|e| corrupt("users", row.id, e))?,
            name: row.name,
            email: row.email,
            created_at: from_db_time(row.created_at),
            is_admin: row.is_admin,
        })
    }
}

/// Creates a user and their personal billing group. A taken username is a `Conflict`.
pub fn create(
    conn: &mut DbConnection,
    username: &Username,
    name: &str,
    email: Option<&str>,
) -> Result<User, StoreError> {
    let created = conn.transaction(|conn| {
        let row: UserRow = diesel::insert_into(users::table)
            .values((
                users::username.eq(username.as_str()),
                users::name.eq(name),
                users::email.eq(email),
                users::created_at.eq(now()),
            ))
            .returning(users::all_columns)
            .get_result(conn)?;
        let user = User::try_from(row)?;
        billing::create_personal(conn, &user)?;
        Ok(user)
    });
    created.map_err(|e| match e {
        StoreError::Conflict(_) => {
            StoreError::Conflict(format!("user '{username}' already exists"))
        }
        e => e,
    })
}

pub fn find_by_username(
    conn: &mut DbConnection,
    username: &Username,
) -> Result<Option<User>, StoreError> {
    users::table
        .filter(users::username.eq(username.as_str()))
        .select(UserRow::as_select())
        .first(conn)
        .optional()?
        .map(User::try_from)
        .transpose()
}

/// Which of `usernames` have an account: one query per 900 names.
pub fn existing(
    conn: &mut DbConnection,
    usernames: &[&Username],
) -> Result<HashSet<Username>, StoreError> {
    let names: Vec<&str> = usernames.iter().map(|name| name.as_str()).collect();
    let mut found = HashSet::new();
    for chunk in names.chunks(900) {
        let rows: Vec<String> = users::table
            .filter(users::username.eq_any(chunk))
            .select(users::username)
            .load(conn)?;
        for row in rows {
            found.insert(Username::parse(&row).map_err(|e| corrupt("users", &row, e))?);
        }
    }
    Ok(found)
}

/// The user with this id; `NotFound` if there is none.
pub fn get(conn: &mut DbConnection, id: UserRowId) -> Result<User, StoreError> {
    users::table
        .find(id.get())
        .select(UserRow::as_select())
        .first(conn)?
        .try_into()
}

/// Serialises writers that read-then-write rows owned by this user (their project slugs). On
/// PostgreSQL, locks the user's row until the end of the transaction; on SQLite, the write
/// transaction ([`crate::Store::write`]) already holds the database's write lock.
pub(crate) fn lock(conn: &mut DbConnection, id: UserRowId) -> Result<(), StoreError> {
    if let DbConnection::Pg(pg) = conn {
        users::table
            .find(id.get())
            .select(users::id)
            .for_update()
            .first::<i64>(pg)?;
    }
    Ok(())
}

/// Grants or withdraws the right to read the audit trail; `NotFound` if there is no such user.
pub fn set_admin(
    conn: &mut DbConnection,
    id: UserRowId,
    is_admin: bool,
) -> Result<User, StoreError> {
    diesel::update(users::table.find(id.get()))
        .set(users::is_admin.eq(is_admin))
        .returning(users::all_columns)
        .get_result::<UserRow>(conn)?
        .try_into()
}
