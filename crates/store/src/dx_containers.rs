//! Projects as DNAnexus data containers: lookups by DNAnexus id for a member, the fields only
//! the DNAnexus dialect has (summary, flags, region), and the project search.

use diesel::prelude::*;
use diesel::upsert::excluded;
use ferry_domain::dx_query::{PropertyQuery, SetQuery, TimeRange};
use ferry_domain::ids::DxId;
use ferry_domain::model::{BillingGroup, Project};
use ferry_domain::permission::{Level, Permissions};
use ferry_domain::row_ids::{ProjectRowId, UserRowId};
use serde_json::{Map, Value};

use crate::billing::BillingGroupRow;
use crate::convert::{corrupt, from_json, now, to_db_time};
use crate::db::DbConnection;
use crate::each_backend;
use crate::error::StoreError;
use crate::members::PermissionsRow;
use crate::objects::NameFilter;
use crate::projects::{self as project_repo, ProjectRecord};
use crate::schema::{
    billing_groups, project_members, project_properties, project_restrictions, project_summaries,
    projects, users,
};

/// The project with this DNAnexus id and the user's permissions in it, if they are a member:
/// `None` alike when it does not exist and when they are not a member.
pub fn find_for_member(
    conn: &mut DbConnection,
    user_id: UserRowId,
    dx_id: &DxId,
) -> Result<Option<(Project, Permissions)>, StoreError> {
    let Some(project) = project_repo::get_by_dx_id(conn, dx_id)? else {
        return Ok(None);
    };
    Ok(project_repo::membership(conn, project.id, user_id)?
        .map(|permissions| (project, permissions)))
}

/// The project's summary; empty when it has none.
pub fn summary(conn: &mut DbConnection, project_id: ProjectRowId) -> Result<String, StoreError> {
    Ok(project_summaries::table
        .find(project_id.get())
        .select(project_summaries::summary)
        .first(conn)
        .optional()?
        .unwrap_or_default())
}

/// The project's DNAnexus properties; none when it has none.
pub fn properties(
    conn: &mut DbConnection,
    project_id: ProjectRowId,
) -> Result<Map<String, Value>, StoreError> {
    project_properties::table
        .find(project_id.get())
        .select(project_properties::properties)
        .first::<String>(conn)
        .optional()?
        .map_or(Ok(Map::new()), |json| {
            from_json("project_properties", project_id.get(), &json)
        })
}

/// Whether no file of the project may be downloaded (DNAnexus `downloadRestricted`).
pub fn download_restricted(
    conn: &mut DbConnection,
    project_id: ProjectRowId,
) -> Result<bool, StoreError> {
    Ok(project_restrictions::table
        .find(project_id.get())
        .select(project_restrictions::download_restricted)
        .first(conn)
        .optional()?
        .unwrap_or(false))
}

#[derive(QueryableByName)]
struct Bytes {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    bytes: i64,
}

/// The bytes the project holds, each content once however many files point at it (DNAnexus
/// `dataUsage`); content not hashed yet counts nothing. One query.
pub fn data_bytes(conn: &mut DbConnection, project_id: ProjectRowId) -> Result<i64, StoreError> {
    const SQL: &str = "SELECT CAST(COALESCE(SUM(size), 0) AS BIGINT) AS bytes FROM \
        (SELECT DISTINCT o.content_sha256, o.size FROM placements p \
         JOIN objects o ON o.id = p.object_id \
         WHERE p.project_id = $1 AND o.content_sha256 IS NOT NULL) AS contents";
    let found: Bytes = each_backend!(conn, |c| diesel::sql_query(SQL)
        .bind::<diesel::sql_types::BigInt, _>(project_id.get())
        .get_result(c))?;
    Ok(found.bytes)
}

/// The billing group the project is billed to.
pub fn billing_group(
    conn: &mut DbConnection,
    project: &Project,
) -> Result<BillingGroup, StoreError> {
    Ok(billing_groups::table
        .find(project.billing_group_id.get())
        .select(BillingGroupRow::as_select())
        .first(conn)?
        .into())
}

/// The billing group with this DNAnexus `billTo`, if the user owns it (a user may only bill
/// projects to their own groups).
pub fn billing_group_by_bill_to(
    conn: &mut DbConnection,
    owner_user_id: UserRowId,
    bill_to: &str,
) -> Result<Option<BillingGroup>, StoreError> {
    Ok(billing_groups::table
        .filter(billing_groups::bill_to.eq(bill_to))
        .filter(billing_groups::owner_user_id.eq(owner_user_id.get()))
        .select(BillingGroupRow::as_select())
        .first(conn)
        .optional()?
        .map(BillingGroup::from))
}

/// The DNAnexus-only fields of a project to change; `None` leaves a field as it is.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ContainerChanges<'a> {
    pub summary: Option<&'a str>,
    /// Replaces all the properties.
    pub properties: Option<&'a Map<String, Value>>,
    pub download_restricted: Option<bool>,
    pub region: Option<&'a str>,
    pub restricted: Option<bool>,
    pub protected: Option<bool>,
    pub contains_phi: Option<bool>,
}

#[derive(AsChangeset)]
#[diesel(table_name = projects)]
struct FlagsChangeset<'a> {
    region: Option<&'a str>,
    restricted: Option<bool>,
    protected: Option<bool>,
    contains_phi: Option<bool>,
    modified_at: chrono::NaiveDateTime,
}

/// Applies `changes` to the project (stamping it modified): one UPDATE, and one upsert each of
/// the summary, the download restriction and the properties when they change.
pub fn change(
    conn: &mut DbConnection,
    project_id: ProjectRowId,
    changes: ContainerChanges<'_>,
) -> Result<(), StoreError> {
    diesel::update(projects::table.find(project_id.get()))
        .set(FlagsChangeset {
            region: changes.region,
            restricted: changes.restricted,
            protected: changes.protected,
            contains_phi: changes.contains_phi,
            modified_at: now(),
        })
        .execute(conn)?;
    if let Some(summary) = changes.summary {
        let row = (
            project_summaries::project_id.eq(project_id.get()),
            project_summaries::summary.eq(summary),
        );
        each_backend!(conn, |c| diesel::insert_into(project_summaries::table)
            .values(&row)
            .on_conflict(project_summaries::project_id)
            .do_update()
            .set(project_summaries::summary.eq(excluded(project_summaries::summary)))
            .execute(c))?;
    }
    if let Some(restricted) = changes.download_restricted {
        let row = (
            project_restrictions::project_id.eq(project_id.get()),
            project_restrictions::download_restricted.eq(restricted),
        );
        each_backend!(conn, |c| diesel::insert_into(project_restrictions::table)
            .values(&row)
            .on_conflict(project_restrictions::project_id)
            .do_update()
            .set(
                project_restrictions::download_restricted
                    .eq(excluded(project_restrictions::download_restricted))
            )
            .execute(c))?;
    }
    if let Some(properties) = changes.properties {
        let row = (
            project_properties::project_id.eq(project_id.get()),
            project_properties::properties.eq(Value::Object(properties.clone()).to_string()),
        );
        each_backend!(conn, |c| diesel::insert_into(project_properties::table)
            .values(&row)
            .on_conflict(project_properties::project_id)
            .do_update()
            .set(project_properties::properties.eq(excluded(project_properties::properties)))
            .execute(c))?;
    }
    Ok(())
}

/// Ids per query: below SQLite's historical limit of 999 parameters.
const IDS_PER_QUERY: usize = 900;

/// What [`find`] looks for among the user's projects.
#[derive(Debug, Clone, Copy, Default)]
pub struct ProjectSearch<'a> {
    pub name: Option<&'a NameFilter>,
    /// At least this level.
    pub level: Option<Level>,
    pub tags: Option<&'a SetQuery>,
    pub properties: Option<&'a PropertyQuery>,
    pub created: TimeRange,
    pub modified: TimeRange,
    pub region: Option<&'a str>,
    pub contains_phi: Option<bool>,
    /// Billed to this billing group (`user-x`, `org-x`).
    pub bill_to: Option<&'a str>,
    /// The project (row id) to start at: the `next` of the previous page.
    pub starting: Option<i64>,
    pub limit: usize,
}

/// A page of projects with the caller's permissions, and where the next page starts.
pub type ProjectPage = (Vec<(Project, Permissions)>, Option<DxId>);

/// One page of the user's projects that match, oldest first, with the user's permissions, and
/// the project the next page starts at. Two queries: the matching ids (all candidates
/// when a glob, a regular expression, tags or properties need deciding here, else one page),
/// then the page.
pub fn find(
    conn: &mut DbConnection,
    user_id: UserRowId,
    search: &ProjectSearch<'_>,
) -> Result<ProjectPage, StoreError> {
    let mut query = projects::table
        .inner_join(project_members::table)
        .left_join(project_properties::table)
        .filter(project_members::user_id.eq(user_id.get()))
        .select((
            projects::id,
            projects::name,
            projects::dx_id,
            projects::tags,
            project_properties::properties.nullable(),
        ))
        .order(projects::id)
        .into_boxed();
    if let Some(level) = search.level {
        query = query.filter(project_members::level.ge(level.as_i16()));
    }
    if let Some(after) = search.created.after {
        query = query.filter(projects::created_at.ge(to_db_time(after)));
    }
    if let Some(before) = search.created.before {
        query = query.filter(projects::created_at.le(to_db_time(before)));
    }
    if let Some(after) = search.modified.after {
        query = query.filter(projects::modified_at.ge(to_db_time(after)));
    }
    if let Some(before) = search.modified.before {
        query = query.filter(projects::modified_at.le(to_db_time(before)));
    }
    if let Some(region) = search.region {
        query = query.filter(projects::region.eq(region));
    }
    if let Some(contains_phi) = search.contains_phi {
        query = query.filter(projects::contains_phi.eq(contains_phi));
    }
    if let Some(bill_to) = search.bill_to {
        // A subquery, so that a search without a billTo joins no billing groups.
        let billed = billing_groups::table
            .filter(billing_groups::bill_to.eq(bill_to.to_owned()))
            .select(billing_groups::id);
        query = query.filter(projects::billing_group_id.eq_any(billed));
    }
    if let Some(starting) = search.starting {
        query = query.filter(projects::id.ge(starting));
    }
    let wanted = search.limit.saturating_add(1);
    if let Some(NameFilter::Exact(name)) = search.name {
        query = query.filter(projects::name.eq(name));
    } else if let Some(filter) = search.name {
        query = query.filter(projects::name.like(filter.like_pattern()).escape('\\'));
    }
    let decided_in_sql = matches!(search.name, None | Some(NameFilter::Exact(_)))
        && search.tags.is_none()
        && search.properties.is_none();
    if decided_in_sql {
        query = query.limit(i64::try_from(wanted).unwrap_or(i64::MAX));
    }
    let mut page: Vec<(i64, String)> = Vec::with_capacity(wanted);
    for (id, name, dx_id, tags, properties) in
        query.load::<(i64, String, String, String, Option<String>)>(conn)?
    {
        if page.len() == wanted {
            break;
        }
        if search.name.is_some_and(|filter| !filter.matches(&name)) {
            continue;
        }
        if let Some(query) = search.tags {
            let tags: Vec<String> = from_json("projects", id, &tags)?;
            if !query.matches(&tags) {
                continue;
            }
        }
        if let Some(query) = search.properties {
            let properties: Map<String, Value> = match properties {
                Some(json) => from_json("project_properties", id, &json)?,
                None => Map::new(),
            };
            if !query.matches(&properties) {
                continue;
            }
        }
        page.push((id, dx_id));
    }
    let next = match (page.len() > search.limit).then(|| page.pop()).flatten() {
        Some((id, dx_id)) => Some(DxId::parse(&dx_id).map_err(|e| corrupt("projects", id, e))?),
        None => None,
    };
    let page: Vec<i64> = page.into_iter().map(|(id, _)| id).collect();
    let mut found = Vec::with_capacity(page.len());
    for chunk in page.chunks(IDS_PER_QUERY) {
        let rows: Vec<(ProjectRecord, PermissionsRow)> = projects::table
            .inner_join(users::table)
            .inner_join(project_members::table)
            .filter(project_members::user_id.eq(user_id.get()))
            .filter(projects::id.eq_any(chunk))
            .order(projects::id)
            .select((ProjectRecord::as_select(), PermissionsRow::as_select()))
            .load(conn)?;
        for (project, permissions) in rows {
            found.push((project.try_into()?, permissions.try_into()?));
        }
    }
    Ok((found, next))
}
