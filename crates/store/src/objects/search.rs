//! `findDataObjects`: objects found by class, state, id, link, times, region, level, name,
//! tags, types, properties and folder.

use super::*;
use ferry_domain::dx_query::{PropertyQuery, SetQuery, TimeRange};
use ferry_domain::row_ids::{PlacementRowId, ProjectRowId, UserRowId};

use crate::convert::to_db_time;

/// How a search matches names: exactly, by a glob (`*`, `?`), or by a regular expression.
#[derive(Debug, Clone)]
pub enum NameFilter {
    Exact(String),
    Glob(Glob),
    Regexp(regex::Regex),
}

impl PartialEq for NameFilter {
    fn eq(&self, other: &NameFilter) -> bool {
        match (self, other) {
            (NameFilter::Exact(a), NameFilter::Exact(b)) => a == b,
            (NameFilter::Glob(a), NameFilter::Glob(b)) => a == b,
            (NameFilter::Regexp(a), NameFilter::Regexp(b)) => a.as_str() == b.as_str(),
            _ => false,
        }
    }
}

impl NameFilter {
    pub fn matches(&self, name: &str) -> bool {
        match self {
            NameFilter::Exact(exact) => exact == name,
            NameFilter::Glob(glob) => glob.matches(name),
            NameFilter::Regexp(regexp) => regexp.is_match(name),
        }
    }

    /// A `LIKE` pattern (escape `\`) that every match satisfies. It may match more: `LIKE`
    /// ignores ASCII case on SQLite, so [`NameFilter::matches`] decides.
    pub(crate) fn like_pattern(&self) -> String {
        match self {
            NameFilter::Exact(exact) => escape_like(exact),
            NameFilter::Regexp(_) => "%".to_owned(),
            NameFilter::Glob(glob) => glob
                .tokens()
                .iter()
                .map(|token| match token {
                    Token::AnyRun => "%".to_owned(),
                    Token::AnyOne => "_".to_owned(),
                    Token::Literal(c) => escape_like(&c.to_string()),
                })
                .collect(),
        }
    }
}

/// What [`find`] looks for, among the copies the caller can see.
#[derive(Debug, Clone, Copy, Default)]
pub struct ObjectSearch<'a> {
    /// Only in this project, and then only in this folder (with its sub-folders if the flag is
    /// set) when one is given.
    pub project_id: Option<ProjectRowId>,
    pub folder: Option<(&'a FolderPath, bool)>,
    pub name: Option<&'a NameFilter>,
    pub class: Option<DxClass>,
    /// Only hidden (`Some(true)`) or only visible (`Some(false)`) objects.
    pub hidden: Option<bool>,
    pub state: Option<ObjectState>,
    /// Only these objects.
    pub ids: Option<&'a [DxId]>,
    /// Only objects that link to this one (`$dnanexus_link` in their details).
    pub link: Option<&'a DxId>,
    /// Created, and last modified, within these bounds (inclusive).
    pub created: TimeRange,
    pub modified: TimeRange,
    /// Only in projects of this region.
    pub region: Option<&'a str>,
    /// Only in projects where the caller holds this level at least.
    pub level: Option<Level>,
    pub tags: Option<&'a SetQuery>,
    pub types: Option<&'a SetQuery>,
    pub properties: Option<&'a PropertyQuery>,
    /// The placement to start at: the `next` of the previous page.
    pub starting: Option<PlacementRowId>,
    pub limit: usize,
}

/// What is decided here rather than in SQL: a glob's or a regular expression's case and
/// classes, and the conditions on JSON columns (tags, types, properties), which the two
/// backends read with different functions.
#[derive(Queryable)]
struct Candidate {
    id: i64,
    name: String,
    tags: String,
    properties: String,
    types: String,
}

impl ObjectSearch<'_> {
    /// Whether a candidate page can be cut in SQL: nothing is left to decide here.
    fn decided_in_sql(&self) -> bool {
        matches!(self.name, None | Some(NameFilter::Exact(_)))
            && self.tags.is_none()
            && self.types.is_none()
            && self.properties.is_none()
    }

    fn keeps(&self, candidate: &Candidate) -> Result<bool, StoreError> {
        let json = |text: &str| from_json::<Value>("placements", candidate.id, text);
        if self
            .name
            .is_some_and(|filter| !filter.matches(&candidate.name))
        {
            return Ok(false);
        }
        if let Some(tags) = self.tags {
            let stored: Vec<String> = from_json("placements", candidate.id, &candidate.tags)?;
            if !tags.matches(&stored) {
                return Ok(false);
            }
        }
        if let Some(types) = self.types {
            let stored: Vec<String> = from_json("objects", candidate.id, &candidate.types)?;
            if !types.matches(&stored) {
                return Ok(false);
            }
        }
        if let Some(properties) = self.properties {
            let stored = json(&candidate.properties)?;
            let stored = stored.as_object().cloned().unwrap_or_default();
            if !properties.matches(&stored) {
                return Ok(false);
            }
        }
        Ok(true)
    }
}

/// One page of the copies that match, by placement id, and the placement the next page starts
/// at. Two queries: the matching placement ids (all candidates when a condition is decided
/// here, see [`Candidate`], else one page), then the page's copies.
pub fn find(
    conn: &mut DbConnection,
    user_id: UserRowId,
    search: &ObjectSearch<'_>,
) -> Result<(Vec<ObjectCopy>, Option<PlacementRowId>), StoreError> {
    let membership = project_members::table.on(project_members::project_id
        .eq(placements::project_id)
        .and(project_members::user_id.eq(user_id.get())));
    let mut query = placements::table
        .inner_join(objects::table)
        .inner_join(membership)
        .select((
            placements::id,
            placements::name,
            placements::tags,
            placements::properties,
            objects::types,
        ))
        .order(placements::id)
        .into_boxed();
    if let Some(project_id) = search.project_id {
        query = query.filter(placements::project_id.eq(project_id.get()));
        let in_project = folders::table
            .filter(folders::project_id.eq(project_id.get()))
            .select(folders::id);
        match search.folder {
            None => {}
            Some((folder, false)) => {
                let exactly = in_project.filter(folders::path_digest.eq(path_digest(folder)));
                query = query.filter(placements::folder_id.eq_any(exactly));
            }
            // The whole project.
            Some((folder, true)) if folder.is_root() => {}
            Some((folder, true)) => {
                let below = folders::path
                    .like(format!("{}/%", escape_like(folder.as_str())))
                    .escape('\\');
                let within = in_project.filter(folders::path.eq(folder.as_str()).or(below));
                query = query.filter(placements::folder_id.eq_any(within));
            }
        }
    }
    if let Some(class) = search.class {
        query = query.filter(objects::class.eq(class.as_str()));
    }
    if let Some(hidden) = search.hidden {
        query = query.filter(objects::hidden.eq(hidden));
    }
    if let Some(state) = search.state {
        query = query.filter(objects::state.eq(state.as_str()));
    }
    if let Some(ids) = search.ids {
        let ids: Vec<&str> = ids.iter().map(DxId::as_str).collect();
        query = query.filter(objects::dx_id.eq_any(ids));
    }
    if let Some(link) = search.link {
        let linking = object_links::table
            .filter(object_links::target_dx_id.eq(link.as_str()))
            .select(object_links::object_id);
        query = query.filter(objects::id.eq_any(linking));
    }
    if let Some(after) = search.created.after {
        query = query.filter(objects::created_at.ge(to_db_time(after)));
    }
    if let Some(before) = search.created.before {
        query = query.filter(objects::created_at.le(to_db_time(before)));
    }
    if let Some(after) = search.modified.after {
        query = query.filter(objects::modified_at.ge(to_db_time(after)));
    }
    if let Some(before) = search.modified.before {
        query = query.filter(objects::modified_at.le(to_db_time(before)));
    }
    if let Some(region) = search.region {
        // A subquery, so that a search without a region joins no projects.
        let in_region = projects::table
            .filter(projects::region.eq(region.to_owned()))
            .select(projects::id);
        query = query.filter(placements::project_id.eq_any(in_region));
    }
    if let Some(level) = search.level {
        query = query.filter(project_members::level.ge(level.as_i16()));
    }
    if let Some(starting) = search.starting {
        query = query.filter(placements::id.ge(starting.get()));
    }
    if let Some(NameFilter::Exact(name)) = search.name {
        query = query.filter(placements::name.eq(name));
    } else if let Some(filter) = search.name {
        query = query.filter(placements::name.like(filter.like_pattern()).escape('\\'));
    }
    let wanted = search.limit.saturating_add(1);
    if search.decided_in_sql() {
        query = query.limit(i64::try_from(wanted).unwrap_or(i64::MAX));
    }
    let mut page = Vec::with_capacity(wanted);
    for candidate in query.load::<Candidate>(conn)? {
        if page.len() == wanted {
            break;
        }
        if search.keeps(&candidate)? {
            page.push(PlacementRowId::new(candidate.id));
        }
    }
    let next = (page.len() > search.limit).then(|| page.pop()).flatten();
    let copies = visible_copies(conn, user_id, CopyScope::Placements(&page))?;
    Ok((copies, next))
}

/// The objects named one of `names` in folder `folder` of project `project_id`, hidden ones
/// included, by name, in the order they were placed (`resolveDataObjects`): the folder, then
/// one query per 900 names.
pub fn named_in_folder(
    conn: &mut DbConnection,
    project_id: ProjectRowId,
    folder: &FolderPath,
    names: &[&str],
) -> Result<Vec<(String, DxId)>, StoreError> {
    let Some(folder) = crate::folders::get_by_path(conn, project_id, folder)? else {
        return Ok(Vec::new());
    };
    let mut found = Vec::new();
    for chunk in names.chunks(IDS_PER_QUERY) {
        let rows: Vec<(String, String)> = placements::table
            .inner_join(objects::table)
            .filter(placements::folder_id.eq(folder.id.get()))
            .filter(placements::name.eq_any(chunk))
            .order(placements::id)
            .select((placements::name, objects::dx_id))
            .load(conn)?;
        for (name, id) in rows {
            let id = DxId::parse(&id).map_err(|e| corrupt("objects", &id, e))?;
            found.push((name, id));
        }
    }
    Ok(found)
}

/// The id of the placement of object `object` in project `project`, if there is one: where a
/// page of [`find`] starts.
pub fn placement_id(
    conn: &mut DbConnection,
    project: &DxId,
    object: &DxId,
) -> Result<Option<PlacementRowId>, StoreError> {
    let id: Option<i64> = placements::table
        .inner_join(objects::table)
        .inner_join(projects::table)
        .filter(projects::dx_id.eq(project.as_str()))
        .filter(objects::dx_id.eq(object.as_str()))
        .select(placements::id)
        .first(conn)
        .optional()?;
    Ok(id.map(PlacementRowId::new))
}
