//! `findDataObjects`: objects found by class, name, state, tags, properties and folder.

use super::*;
use ferry_domain::row_ids::{PlacementRowId, ProjectRowId, UserRowId};

/// How a search matches names: exactly, or by a glob (`*`, `?`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NameFilter {
    Exact(String),
    Glob(Glob),
}

impl NameFilter {
    pub fn matches(&self, name: &str) -> bool {
        match self {
            NameFilter::Exact(exact) => exact == name,
            NameFilter::Glob(glob) => glob.matches(name),
        }
    }

    /// A `LIKE` pattern (escape `\`) that every match satisfies. It may match more: `LIKE`
    /// ignores ASCII case on SQLite, so [`NameFilter::matches`] decides.
    pub(crate) fn like_pattern(&self) -> String {
        match self {
            NameFilter::Exact(exact) => escape_like(exact),
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
#[derive(Debug, Clone, Copy)]
pub struct ObjectSearch<'a> {
    /// Only in this project, and then only in this folder (with its sub-folders if the flag is
    /// set) when one is given.
    pub project_id: Option<ProjectRowId>,
    pub folder: Option<(&'a FolderPath, bool)>,
    pub name: Option<&'a NameFilter>,
    pub class: Option<DxClass>,
    /// Only hidden (`Some(true)`) or only visible (`Some(false)`) objects.
    pub hidden: Option<bool>,
    /// The placement to start at: the `next` of the previous page.
    pub starting: Option<PlacementRowId>,
    pub limit: usize,
}

/// One page of the copies that match, by placement id, and the placement the next page starts
/// at. Two queries: the matching placement ids (all candidates when a glob needs deciding here,
/// else one page), then the page's copies.
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
        .select((placements::id, placements::name))
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
    if let Some(starting) = search.starting {
        query = query.filter(placements::id.ge(starting.get()));
    }
    let wanted = search.limit.saturating_add(1);
    let candidates: Vec<(i64, String)> = match search.name {
        Some(NameFilter::Exact(name)) => query
            .filter(placements::name.eq(name))
            .limit(i64::try_from(wanted).unwrap_or(i64::MAX))
            .load(conn)?,
        Some(glob) => query
            .filter(placements::name.like(glob.like_pattern()).escape('\\'))
            .load(conn)?,
        None => query
            .limit(i64::try_from(wanted).unwrap_or(i64::MAX))
            .load(conn)?,
    };
    let mut page: Vec<PlacementRowId> = candidates
        .into_iter()
        .filter(|(_, name)| search.name.is_none_or(|filter| filter.matches(name)))
        .map(|(id, _)| PlacementRowId::new(id))
        .take(wanted)
        .collect();
    let next = (page.len() > search.limit).then(|| page.pop()).flatten();
    let copies = visible_copies(conn, user_id, CopyScope::Placements(&page))?;
    Ok((copies, next))
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
