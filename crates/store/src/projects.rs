//! Projects: one row known by both its DNAnexus id (`project-...`) and its SBG id
//! (`owner/slug`, the owner's username and a slug unique per owner), with its members.

use ferry_domain::row_ids::{BillingGroupRowId, ProjectRowId, UserRowId};
use std::collections::HashSet;

use chrono::NaiveDateTime;
use diesel::dsl::count_star;
use diesel::prelude::*;
use ferry_domain::ids::{DxClass, DxId, SbgId, SbgProjectId, Slug, Username};
use ferry_domain::model::{Folder, Project, User};
use ferry_domain::path::FolderPath;
use ferry_domain::permission::Permissions;
use serde_json::{Map, Value};

use crate::convert::{corrupt, escape_like, from_db_time, from_json, now};
use crate::db::DbConnection;
use crate::error::StoreError;
use crate::members::{self, PermissionsRow};
use crate::page::{Page, Paginate};
use crate::schema::{billing_groups, folders as folder_rows, project_members, projects, users};
use crate::unit_of_work::atomic;
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
    pub tags: String,
    pub settings: String,
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
            id: ProjectRowId::new(row.id),
            dx_id: DxId::parse(&row.dx_id).map_err(bad)?,
            sbg_id: SbgProjectId::new(owner, slug),
            owner_user_id: UserRowId::new(row.owner_user_id),
            name: row.name,
            description: row.description,
            region: row.region,
            billing_group_id: BillingGroupRowId::new(row.billing_group_id),
            restricted: row.restricted,
            protected: row.protected,
            contains_phi: row.contains_phi,
            sponsored_until: row.sponsored_until.map(from_db_time),
            tags: from_json("projects", row.id, &row.tags)?,
            settings: from_json("projects", row.id, &row.settings)?,
            created_at: from_db_time(row.created_at),
            modified_at: from_db_time(row.modified_at),
        })
    }
}

/// What a new project is made of, besides its owner.
#[derive(Debug, Clone, Copy)]
pub struct NewProject<'a> {
    pub name: &'a str,
    pub description: &'a str,
    pub billing_group_id: BillingGroupRowId,
    pub tags: &'a [String],
    pub settings: &'a Map<String, Value>,
}

/// Creates a project without tags or settings; see [`create_with`].
pub fn create(
    conn: &mut DbConnection,
    owner: &User,
    name: &str,
    description: &str,
    billing_group_id: BillingGroupRowId,
) -> Result<Project, StoreError> {
    let settings = Map::new();
    let new = NewProject {
        name,
        description,
        billing_group_id,
        tags: &[],
        settings: &settings,
    };
    create_with(conn, owner, &new)
}

/// Creates a project owned by `owner`, with its root folder and the owner as its
/// administrator. The slug comes from the name, made unique among the owner's projects
/// (`my-project`, `my-project-2`, ...).
pub fn create_with(
    conn: &mut DbConnection,
    owner: &User,
    new: &NewProject<'_>,
) -> Result<Project, StoreError> {
    atomic(conn, |conn| {
        // Two concurrent creations by one owner would otherwise pick the same free slug.
        user_repo::lock(conn, owner.id)?;
        let slug = free_slug(conn, owner.id.get(), &Slug::from_name(new.name))?;
        let now = now();
        let row: ProjectRow = diesel::insert_into(projects::table)
            .values((
                projects::dx_id.eq(DxId::generate(DxClass::Project).as_str()),
                projects::owner_user_id.eq(owner.id.get()),
                projects::slug.eq(slug.as_str()),
                projects::name.eq(new.name),
                projects::description.eq(new.description),
                projects::billing_group_id.eq(new.billing_group_id.get()),
                projects::tags.eq(tags_json(new.tags)),
                projects::settings.eq(settings_json(new.settings)),
                projects::created_at.eq(now),
                projects::modified_at.eq(now),
            ))
            .returning(projects::all_columns)
            .get_result(conn)?;
        folders::insert(conn, ProjectRowId::new(row.id), None, &FolderPath::root())?;
        members::add(
            conn,
            ProjectRowId::new(row.id),
            owner.id,
            Permissions::owner(),
        )?;
        ProjectRecord {
            project: row,
            owner: owner.username.to_string(),
        }
        .try_into()
    })
}

fn tags_json(tags: &[String]) -> String {
    Value::from(tags).to_string()
}

fn settings_json(settings: &Map<String, Value>) -> String {
    Value::Object(settings.clone()).to_string()
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

/// A project as one of its members sees it: with their permissions, and with the SBG ids of
/// its billing group and root folder, which the SBG dialect shows beside it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VisibleProject {
    pub project: Project,
    /// The member's permissions.
    pub permissions: Permissions,
    pub billing_group_uuid: String,
    pub root_folder: SbgId,
}

/// The columns of a [`VisibleProject`]: a project joined with its owner, the member's
/// permissions, its billing group and its root folder.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(check_for_backend(diesel::pg::Pg, diesel::sqlite::Sqlite))]
struct VisibleProjectRow {
    #[diesel(embed)]
    record: ProjectRecord,
    #[diesel(embed)]
    permissions: PermissionsRow,
    #[diesel(select_expression = billing_groups::uuid)]
    billing_group_uuid: String,
    #[diesel(select_expression = folder_rows::sbg_id)]
    root_folder: String,
}

impl TryFrom<VisibleProjectRow> for VisibleProject {
    type Error = StoreError;

    fn try_from(row: VisibleProjectRow) -> Result<VisibleProject, StoreError> {
        let root_folder = SbgId::parse(&row.root_folder).map_err(|e| {
            corrupt(
                "projects",
                row.record.project.id,
                format!("root folder: {e}"),
            )
        })?;
        Ok(VisibleProject {
            project: row.record.try_into()?,
            permissions: row.permissions.try_into()?,
            billing_group_uuid: row.billing_group_uuid,
            root_folder,
        })
    }
}

/// Which of a member's projects to list; `None` matches any.
#[derive(Debug, Clone, Copy, Default)]
pub struct ProjectFilter<'a> {
    /// Exactly this name.
    pub name: Option<&'a str>,
    /// Owned by this user.
    pub owner: Option<&'a Username>,
}

/// The project `sbg_id` names, if the user is a member of it: `None` alike when it does not
/// exist and when they are not a member.
pub fn find_for_member(
    conn: &mut DbConnection,
    user_id: UserRowId,
    sbg_id: &SbgProjectId,
) -> Result<Option<VisibleProject>, StoreError> {
    visible_to(user_id.get())
        .filter(users::username.eq(sbg_id.owner().as_str()))
        .filter(projects::slug.eq(sbg_id.slug().as_str()))
        .select(VisibleProjectRow::as_select())
        .first(conn)
        .optional()?
        .map(VisibleProject::try_from)
        .transpose()
}

/// One page of the projects the user is a member of that pass `filter`, oldest first, and the
/// number of such projects in all pages.
pub fn list_for_member(
    conn: &mut DbConnection,
    user_id: UserRowId,
    filter: ProjectFilter<'_>,
    page: Page,
) -> Result<(Vec<VisibleProject>, i64), StoreError> {
    let mut count = visible_to(user_id.get()).select(count_star()).into_boxed();
    let mut listed = visible_to(user_id.get())
        .select(VisibleProjectRow::as_select())
        .order(projects::id)
        .paginate(page)
        .into_boxed();
    if let Some(name) = filter.name {
        count = count.filter(projects::name.eq(name));
        listed = listed.filter(projects::name.eq(name));
    }
    if let Some(owner) = filter.owner {
        count = count.filter(users::username.eq(owner.as_str()));
        listed = listed.filter(users::username.eq(owner.as_str()));
    }
    let total = count.get_result(conn)?;
    let projects = listed
        .load(conn)?
        .into_iter()
        .map(VisibleProject::try_from)
        .collect::<Result<_, _>>()?;
    Ok((projects, total))
}

/// The projects the user is a member of, joined with what a [`VisibleProjectRow`] reads:
/// their owner, the user's membership, their billing group and their root folder (the only
/// folder without a parent).
#[diesel::dsl::auto_type]
fn visible_to(user_id: i64) -> _ {
    projects::table
        .inner_join(users::table)
        .inner_join(
            project_members::table.on(project_members::project_id
                .eq(projects::id)
                .and(project_members::user_id.eq(user_id))),
        )
        .inner_join(billing_groups::table.on(billing_groups::id.eq(projects::billing_group_id)))
        .inner_join(
            folder_rows::table.on(folder_rows::project_id
                .eq(projects::id)
                .and(folder_rows::parent_id.is_null())),
        )
}

/// The user's permissions in the project; `None` if they are not a member.
pub fn membership(
    conn: &mut DbConnection,
    project_id: ProjectRowId,
    user_id: UserRowId,
) -> Result<Option<Permissions>, StoreError> {
    project_members::table
        .find((project_id.get(), user_id.get()))
        .select(PermissionsRow::as_select())
        .first(conn)
        .optional()?
        .map(Permissions::try_from)
        .transpose()
}

/// The fields an update changes; `None` leaves a field as it is.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ProjectChanges {
    pub name: Option<String>,
    pub description: Option<String>,
    pub billing_group_id: Option<BillingGroupRowId>,
    pub tags: Option<Vec<String>>,
    /// Replaces all the settings.
    pub settings: Option<Map<String, Value>>,
}

#[derive(AsChangeset)]
#[diesel(table_name = projects)]
struct ProjectChangeset<'a> {
    name: Option<&'a str>,
    description: Option<&'a str>,
    billing_group_id: Option<i64>,
    tags: Option<String>,
    settings: Option<String>,
    modified_at: NaiveDateTime,
}

/// Applies `changes` to the project and marks it modified; `NotFound` if there is no such
/// project.
pub fn update(
    conn: &mut DbConnection,
    project_id: ProjectRowId,
    changes: &ProjectChanges,
) -> Result<(), StoreError> {
    let changeset = ProjectChangeset {
        name: changes.name.as_deref(),
        description: changes.description.as_deref(),
        billing_group_id: changes.billing_group_id.map(BillingGroupRowId::get),
        tags: changes.tags.as_deref().map(tags_json),
        settings: changes.settings.as_ref().map(settings_json),
        modified_at: now(),
    };
    let updated = diesel::update(projects::table.find(project_id.get()))
        .set(changeset)
        .execute(conn)?;
    if updated == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

/// Deletes the project with its members, folders and placements (by cascade); the objects
/// stay, placed elsewhere or nowhere. `NotFound` if there is no such project.
pub fn delete(conn: &mut DbConnection, project_id: ProjectRowId) -> Result<(), StoreError> {
    let deleted = diesel::delete(projects::table.find(project_id.get())).execute(conn)?;
    if deleted == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

/// Serialises writers that read-then-write a project's members or fields (the last
/// administrator rule). On PostgreSQL, locks the project's row, if there is one, until the end
/// of the transaction; on SQLite, the write transaction ([`Store::write`](crate::Store::write)) already holds
/// the database's write lock. Call it before reading what the write depends on.
pub fn lock(conn: &mut DbConnection, sbg_id: &SbgProjectId) -> Result<(), StoreError> {
    if let DbConnection::Pg(pg) = conn {
        let owner = users::table
            .filter(users::username.eq(sbg_id.owner().as_str()))
            .select(users::id);
        projects::table
            .filter(projects::owner_user_id.eq_any(owner))
            .filter(projects::slug.eq(sbg_id.slug().as_str()))
            .select(projects::id)
            .for_update()
            .load::<i64>(pg)?;
    }
    Ok(())
}

/// The project's root folder, `/`.
pub fn root_folder(
    conn: &mut DbConnection,
    project_id: ProjectRowId,
) -> Result<Folder, StoreError> {
    folders::get_by_path(conn, project_id, &FolderPath::root())?.ok_or(StoreError::NotFound)
}
