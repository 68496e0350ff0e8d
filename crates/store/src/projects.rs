//! Projects: one row known by both its DNAnexus id (`project-...`) and its SBG id
//! (`owner/slug`, the owner's username and a slug unique per owner), with its members.

use std::collections::HashSet;

use chrono::NaiveDateTime;
use diesel::dsl::count_star;
use diesel::prelude::*;
use ferry_domain::ids::{DxClass, DxId, SbgProjectId, Slug, Username};
use ferry_domain::model::{Folder, Project, User};
use ferry_domain::path::FolderPath;
use ferry_domain::permission::{Level, Permissions};

use crate::convert::{corrupt, from_db_time, now};
use crate::db::{DbConnection, write_transaction};
use crate::error::StoreError;
use crate::schema::{project_members, projects, users};
use crate::{folders, users as user_repo};

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = projects, check_for_backend(diesel::pg::Pg, diesel::sqlite::Sqlite))]
pub(crate) struct ProjectRow {
    pub id: i64,
    pub dx_id: String,
    pub owner_user_id: i64,
    pub slug: String,
    pub name: String,
    pub description: String,
    pub region: String,
    pub billing_group_id: i64,
    pub restricted: bool,
    pub protected: bool,
    pub contains_phi: bool,
    pub sponsored_until: Option<NaiveDateTime>,
    pub created_at: NaiveDateTime,
    pub modified_at: NaiveDateTime,
}

/// A project row with its owner's username, which the SBG id is made of. Selecting it needs a
/// join of `projects` with `users` on the owner.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(check_for_backend(diesel::pg::Pg, diesel::sqlite::Sqlite))]
pub(crate) struct ProjectRecord {
    #[diesel(embed)]
    pub project: ProjectRow,
    #[diesel(select_expression = users::username)]
    pub owner: String,
}

impl TryFrom<ProjectRecord> for Project {
    type Error = StoreError;

    fn try_from(record: ProjectRecord) -> Result<Project, StoreError> {
        let row = record.project;
        let bad = |e| corrupt("projects", row.id, e);
        let owner = Username::parse(&record.owner).map_err(bad)?;
        let slug = Slug::parse(&row.slug).map_err(bad)?;
        Ok(Project {
            id: row.id,
            dx_id: DxId::parse(&row.dx_id).map_err(bad)?,
            sbg_id: SbgProjectId::new(owner, slug),
            owner_user_id: row.owner_user_id,
            name: row.name,
            description: row.description,
            region: row.region,
            billing_group_id: row.billing_group_id,
            restricted: row.restricted,
            protected: row.protected,
            contains_phi: row.contains_phi,
            sponsored_until: row.sponsored_until.map(from_db_time),
            created_at: from_db_time(row.created_at),
            modified_at: from_db_time(row.modified_at),
        })
    }
}

/// Creates a project owned by `owner`, with its root folder and the owner as its
/// administrator. The slug comes from the name, made unique among the owner's projects
/// (`my-project`, `my-project-2`, ...).
pub fn create(
    conn: &mut DbConnection,
    owner: &User,
    name: &str,
    description: &str,
    billing_group_id: i64,
) -> Result<Project, StoreError> {
    write_transaction(conn, |conn| {
        // Two concurrent creations by one owner would otherwise pick the same free slug.
        user_repo::lock(conn, owner.id)?;
        let slug = free_slug(conn, owner.id, &Slug::from_name(name))?;
        let now = now();
        let row: ProjectRow = diesel::insert_into(projects::table)
            .values((
                projects::dx_id.eq(DxId::generate(DxClass::Project).as_str()),
                projects::owner_user_id.eq(owner.id),
                projects::slug.eq(slug.as_str()),
                projects::name.eq(name),
                projects::description.eq(description),
                projects::billing_group_id.eq(billing_group_id),
                projects::created_at.eq(now),
                projects::modified_at.eq(now),
            ))
            .returning(projects::all_columns)
            .get_result(conn)?;
        folders::insert(conn, row.id, None, &FolderPath::root())?;
        add_member(conn, row.id, owner.id, Permissions::owner())?;
        ProjectRecord {
            project: row,
            owner: owner.username.to_string(),
        }
        .try_into()
    })
}

/// The first of `base`, `base-2`, `base-3`, ... that none of the owner's projects uses.
fn free_slug(conn: &mut DbConnection, owner_id: i64, base: &Slug) -> Result<Slug, StoreError> {
    // `with_suffix` may shorten the base to fit the suffix, most for the longest suffix; every
    // candidate starts with what that one keeps, so one prefix query reads all that can clash.
    let longest = base.with_suffix(u32::MAX);
    let prefix = longest
        .as_str()
        .strip_suffix(&format!("-{}", u32::MAX))
        .expect("with_suffix appends -n");
    let taken: HashSet<String> = projects::table
        .filter(projects::owner_user_id.eq(owner_id))
        .filter(
            projects::slug
                .like(format!("{}%", escape_like(prefix)))
                .escape('\\'),
        )
        .select(projects::slug)
        .load(conn)?
        .into_iter()
        .collect();
    std::iter::once(base.clone())
        .chain((2..=u32::MAX).map(|n| base.with_suffix(n)))
        .find(|slug| !taken.contains(slug.as_str()))
        .ok_or_else(|| StoreError::Conflict(format!("no free short name for '{base}'")))
}

/// Escapes the LIKE wildcards `%` and `_` (and the escape character) with `\`.
fn escape_like(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

pub(crate) fn add_member(
    conn: &mut DbConnection,
    project_id: i64,
    user_id: i64,
    permissions: Permissions,
) -> Result<(), StoreError> {
    diesel::insert_into(project_members::table)
        .values((
            project_members::project_id.eq(project_id),
            project_members::user_id.eq(user_id),
            project_members::level.eq(permissions.level.as_i16()),
            project_members::can_copy.eq(permissions.copy),
            project_members::can_execute.eq(permissions.execute),
            project_members::created_at.eq(now()),
        ))
        .execute(conn)?;
    Ok(())
}

pub fn get_by_sbg_id(
    conn: &mut DbConnection,
    sbg_id: &SbgProjectId,
) -> Result<Option<Project>, StoreError> {
    projects::table
        .inner_join(users::table)
        .filter(users::username.eq(sbg_id.owner().as_str()))
        .filter(projects::slug.eq(sbg_id.slug().as_str()))
        .select(ProjectRecord::as_select())
        .first(conn)
        .optional()?
        .map(Project::try_from)
        .transpose()
}

pub fn get_by_dx_id(conn: &mut DbConnection, dx_id: &DxId) -> Result<Option<Project>, StoreError> {
    projects::table
        .inner_join(users::table)
        .filter(projects::dx_id.eq(dx_id.as_str()))
        .select(ProjectRecord::as_select())
        .first(conn)
        .optional()?
        .map(Project::try_from)
        .transpose()
}

/// One page of the projects the user is a member of, oldest first, optionally only those
/// named exactly `name_filter`, and the number of such projects in all pages.
pub fn list_for_user(
    conn: &mut DbConnection,
    user_id: i64,
    name_filter: Option<&str>,
    offset: i64,
    limit: i64,
) -> Result<(Vec<Project>, i64), StoreError> {
    let membership = project_members::table.on(project_members::project_id
        .eq(projects::id)
        .and(project_members::user_id.eq(user_id)));
    let mut count = projects::table
        .inner_join(membership)
        .select(count_star())
        .into_boxed();
    let mut page = projects::table
        .inner_join(users::table)
        .inner_join(membership)
        .select(ProjectRecord::as_select())
        .order(projects::id)
        .offset(offset)
        .limit(limit)
        .into_boxed();
    if let Some(name) = name_filter {
        count = count.filter(projects::name.eq(name));
        page = page.filter(projects::name.eq(name));
    }
    let total = count.get_result(conn)?;
    let projects = page
        .load(conn)?
        .into_iter()
        .map(Project::try_from)
        .collect::<Result<_, _>>()?;
    Ok((projects, total))
}

/// The user's permissions in the project; `None` if they are not a member.
pub fn membership(
    conn: &mut DbConnection,
    project_id: i64,
    user_id: i64,
) -> Result<Option<Permissions>, StoreError> {
    let row: Option<(i16, bool, bool)> = project_members::table
        .find((project_id, user_id))
        .select((
            project_members::level,
            project_members::can_copy,
            project_members::can_execute,
        ))
        .first(conn)
        .optional()?;
    row.map(|(level, copy, execute)| {
        let level = Level::from_i16(level)
            .map_err(|e| corrupt("project_members", format!("({project_id}, {user_id})"), e))?;
        Ok(Permissions {
            level,
            copy,
            execute,
        })
    })
    .transpose()
}

/// The project's root folder, `/`.
pub fn root_folder(conn: &mut DbConnection, project_id: i64) -> Result<Folder, StoreError> {
    folders::get_by_path(conn, project_id, &FolderPath::root())?.ok_or(StoreError::NotFound)
}
