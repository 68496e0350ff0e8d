//! DNAnexus data objects (records, files, applets, workflows): creation with their links and
//! class-specific fields. Every object made here also gets a placement with its own SBG id, so
//! that it shows in the SBG dialect too: one store, two dialects.

use std::collections::{HashMap, HashSet};

use diesel::prelude::*;
use ferry_domain::glob::{Glob, Token};
use ferry_domain::ids::{DxClass, DxId, Username};
use ferry_domain::links::{bundled_depends, linked_ids};
use ferry_domain::model::{Folder, Object, ObjectState, Placement};
use ferry_domain::naming::{name_number, name_stem};
use ferry_domain::path::FolderPath;
use ferry_domain::permission::Level;
use serde_json::{Map, Value};

use crate::content::ContentInfo;
use crate::convert::{corrupt, escape_like, from_json, now};
use crate::db::DbConnection;
use crate::each_backend;
use crate::error::StoreError;
use crate::files;
use crate::files::{ObjectRow, PlacementRow};
use crate::folders::path_digest;
use crate::placing::{ObjectSpec, PlacementSpec, insert_placed};
use crate::schema::{
    folders, object_class_fields, object_links, objects, placements, project_members, projects,
    sponsored_objects, users,
};

/// A data object to create, placed in one project's folder.
#[derive(Debug, Clone)]
pub struct NewDataObject<'a> {
    pub class: DxClass,
    pub project_id: i64,
    pub folder: &'a Folder,
    /// The name in the project; empty for the DNAnexus default, the object's own id.
    pub name: &'a str,
    pub details: Value,
    pub hidden: bool,
    pub types: Vec<String>,
    pub tags: Vec<String>,
    pub properties: Map<String, Value>,
    pub state: ObjectState,
    pub created_by: i64,
}

/// Creates the object, its links (from its details) and its placement; see
/// [`create_with_class_fields`].
pub fn create(
    conn: &mut DbConnection,
    new: &NewDataObject<'_>,
) -> Result<(Object, Placement), StoreError> {
    create_with_class_fields(conn, new, &Map::new())
}

/// Creates the object with the fields of its class that `describe` shows (an applet's
/// `runSpec`, a file's `media`, ...), its links and its placement, with a new DNAnexus id and a
/// new SBG id. The links are the ids linked from the details and, for an applet, its
/// `runSpec.bundledDepends`. Does not check names: DNAnexus allows two objects of one name in a
/// folder.
pub fn create_with_class_fields(
    conn: &mut DbConnection,
    new: &NewDataObject<'_>,
    class_fields: &Map<String, Value>,
) -> Result<(Object, Placement), StoreError> {
    debug_assert_eq!(
        new.folder.project_id, new.project_id,
        "the folder is in another project"
    );
    let mut links = linked_ids(&new.details);
    if new.class == DxClass::Applet {
        links.extend(
            class_fields
                .get("runSpec")
                .map(bundled_depends)
                .unwrap_or_default(),
        );
    }
    let object = ObjectSpec {
        class: new.class,
        state: new.state,
        hidden: new.hidden,
        details: new.details.to_string(),
        types: Value::from(new.types.clone()).to_string(),
        size: 0,
        content_sha256: None,
        md5: None,
        content_key: None,
        created_by: new.created_by,
    };
    let placement = PlacementSpec {
        project_id: new.project_id,
        folder_id: new.folder.id,
        name: new.name,
        tags: Value::from(new.tags.clone()).to_string(),
        properties: Value::Object(new.properties.clone()).to_string(),
        metadata: Value::Object(Map::new()).to_string(),
    };
    conn.transaction(|conn| {
        let (object, mut placement) = insert_placed(conn, &[(object, placement)])?
            .pop()
            .ok_or_else(|| StoreError::Corrupt("the new object was not returned".to_owned()))?;
        if new.name.is_empty() {
            // The id is made by the insert, so the default name follows it.
            placement.name.clone_from(&object.dx_id);
            change_copy(
                conn,
                placement.id,
                CopyChanges {
                    name: Some(&placement.name),
                    ..CopyChanges::default()
                },
            )?;
        }
        insert_links(conn, object.id, links.iter())?;
        if !class_fields.is_empty() {
            diesel::insert_into(object_class_fields::table)
                .values((
                    object_class_fields::object_id.eq(object.id),
                    object_class_fields::fields.eq(Value::Object(class_fields.clone()).to_string()),
                ))
                .execute(conn)?;
        }
        Ok((object.try_into()?, placement.try_into()?))
    })
}

/// Rows per multi-row INSERT of links: two parameters a row.
const LINKS_PER_INSERT: usize = 5_000;

/// Records that `object_id` links to `targets`, one multi-row INSERT per 5,000 links.
fn insert_links<'a>(
    conn: &mut DbConnection,
    object_id: i64,
    targets: impl Iterator<Item = &'a DxId>,
) -> Result<(), StoreError> {
    let rows: Vec<_> = targets
        .map(|target| {
            (
                object_links::object_id.eq(object_id),
                object_links::target_dx_id.eq(target.as_str()),
            )
        })
        .collect();
    for chunk in rows.chunks(LINKS_PER_INSERT) {
        each_backend!(conn, |c| diesel::insert_into(object_links::table)
            .values(chunk)
            .execute(c))?;
    }
    Ok(())
}

/// A copy of a data object (the object in one project) as a member of that project sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct ObjectCopy {
    pub object: Object,
    pub placement: Placement,
    /// The DNAnexus id of the project holding this copy.
    pub project: DxId,
    pub folder: FolderPath,
    /// Who created the object.
    pub created_by: Username,
    /// The caller's level in the project.
    pub level: Level,
}

/// Which copies [`visible_copies`] reads.
#[derive(Debug, Clone, Copy)]
pub enum CopyScope<'a> {
    /// The objects with these ids, in every project or in project `project_id` only.
    Objects {
        ids: &'a [DxId],
        project_id: Option<i64>,
    },
    /// The objects of a folder, by name then id; the hidden ones only if `include_hidden`.
    Folder {
        folder_id: i64,
        include_hidden: bool,
    },
    /// These placements, by id.
    Placements(&'a [i64]),
}

/// Ids per query: below SQLite's historical limit of 999 parameters.
const IDS_PER_QUERY: usize = 900;

/// A placement with its object, project id, folder path, creator and the caller's level.
type CopyRecord = (PlacementRow, ObjectRow, String, String, String, i16);

/// The copies in `scope` that `user_id` can see (those in projects they are a member of), one
/// query per 900 ids. Folder listings come by name then id, the rest by placement id.
pub fn visible_copies(
    conn: &mut DbConnection,
    user_id: i64,
    scope: CopyScope<'_>,
) -> Result<Vec<ObjectCopy>, StoreError> {
    let mut found = Vec::new();
    match scope {
        CopyScope::Objects { ids, project_id } => {
            for chunk in ids.chunks(IDS_PER_QUERY) {
                let chunk: Vec<&str> = chunk.iter().map(DxId::as_str).collect();
                found.extend(load_copies(
                    conn,
                    user_id,
                    LoadScope::DxIds(&chunk, project_id),
                )?);
            }
        }
        CopyScope::Folder {
            folder_id,
            include_hidden,
        } => found = load_copies(conn, user_id, LoadScope::Folder(folder_id, include_hidden))?,
        CopyScope::Placements(ids) => {
            for chunk in ids.chunks(IDS_PER_QUERY) {
                found.extend(load_copies(conn, user_id, LoadScope::PlacementIds(chunk))?);
            }
        }
    }
    found.into_iter().map(copy_from_record).collect()
}

/// One query's worth of a [`CopyScope`].
enum LoadScope<'a> {
    DxIds(&'a [&'a str], Option<i64>),
    Folder(i64, bool),
    PlacementIds(&'a [i64]),
}

/// One query: placements with their object, project, folder, creator and the caller's level,
/// in the projects `user_id` is a member of.
fn load_copies(
    conn: &mut DbConnection,
    user_id: i64,
    scope: LoadScope<'_>,
) -> Result<Vec<CopyRecord>, StoreError> {
    let membership = project_members::table.on(project_members::project_id
        .eq(placements::project_id)
        .and(project_members::user_id.eq(user_id)));
    let creator = users::table.on(users::id.eq(objects::created_by_user_id));
    let query = placements::table
        .inner_join(objects::table)
        .inner_join(projects::table)
        .inner_join(folders::table)
        .inner_join(creator)
        .inner_join(membership)
        .select((
            PlacementRow::as_select(),
            ObjectRow::as_select(),
            projects::dx_id,
            folders::path,
            users::username,
            project_members::level,
        ))
        .into_boxed();
    let query = match scope {
        LoadScope::DxIds(ids, project_id) => {
            let query = query
                .filter(objects::dx_id.eq_any(ids))
                .order(placements::id);
            match project_id {
                Some(project_id) => query.filter(placements::project_id.eq(project_id)),
                None => query,
            }
        }
        LoadScope::Folder(folder_id, include_hidden) => {
            let query = query
                .filter(placements::folder_id.eq(folder_id))
                .order((placements::name, placements::id));
            if include_hidden {
                query
            } else {
                query.filter(objects::hidden.eq(false))
            }
        }
        LoadScope::PlacementIds(ids) => query
            .filter(placements::id.eq_any(ids))
            .order(placements::id),
    };
    Ok(query.load(conn)?)
}

fn copy_from_record(
    (placement, object, project, folder, created_by, level): CopyRecord,
) -> Result<ObjectCopy, StoreError> {
    let bad = |e| corrupt("placements", placement.id, e);
    Ok(ObjectCopy {
        project: DxId::parse(&project).map_err(bad)?,
        folder: FolderPath::parse(&folder).map_err(bad)?,
        created_by: Username::parse(&created_by).map_err(bad)?,
        level: Level::from_i16(level).map_err(bad)?,
        placement: placement.try_into()?,
        object: object.try_into()?,
    })
}

/// The class fields of these objects (see [`create_with_class_fields`]), for those that have
/// some. One query per 900 objects.
pub fn class_fields(
    conn: &mut DbConnection,
    object_ids: &[i64],
) -> Result<HashMap<i64, Map<String, Value>>, StoreError> {
    let mut found = HashMap::new();
    for chunk in object_ids.chunks(IDS_PER_QUERY) {
        let rows: Vec<(i64, String)> = object_class_fields::table
            .filter(object_class_fields::object_id.eq_any(chunk))
            .select((object_class_fields::object_id, object_class_fields::fields))
            .load(conn)?;
        for (id, fields) in rows {
            found.insert(id, from_json("object_class_fields", id, &fields)?);
        }
    }
    Ok(found)
}

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
    pub project_id: Option<i64>,
    pub folder: Option<(&'a FolderPath, bool)>,
    pub name: Option<&'a NameFilter>,
    pub class: Option<DxClass>,
    /// Only hidden (`Some(true)`) or only visible (`Some(false)`) objects.
    pub hidden: Option<bool>,
    /// The placement to start at: the `next` of the previous page.
    pub starting: Option<i64>,
    pub limit: usize,
}

/// One page of the copies that match, by placement id, and the placement the next page starts
/// at. Two queries: the matching placement ids (all candidates when a glob needs deciding here,
/// else one page), then the page's copies.
pub fn find(
    conn: &mut DbConnection,
    user_id: i64,
    search: &ObjectSearch<'_>,
) -> Result<(Vec<ObjectCopy>, Option<i64>), StoreError> {
    let membership = project_members::table.on(project_members::project_id
        .eq(placements::project_id)
        .and(project_members::user_id.eq(user_id)));
    let mut query = placements::table
        .inner_join(objects::table)
        .inner_join(membership)
        .select((placements::id, placements::name))
        .order(placements::id)
        .into_boxed();
    if let Some(project_id) = search.project_id {
        query = query.filter(placements::project_id.eq(project_id));
        let in_project = folders::table
            .filter(folders::project_id.eq(project_id))
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
        query = query.filter(placements::id.ge(starting));
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
    let mut page: Vec<i64> = candidates
        .into_iter()
        .filter(|(_, name)| search.name.is_none_or(|filter| filter.matches(name)))
        .map(|(id, _)| id)
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
) -> Result<Option<i64>, StoreError> {
    Ok(placements::table
        .inner_join(objects::table)
        .inner_join(projects::table)
        .filter(projects::dx_id.eq(project.as_str()))
        .filter(objects::dx_id.eq(object.as_str()))
        .select(placements::id)
        .first(conn)
        .optional()?)
}

/// Serialises read-then-write changes to an object and its placements until the end of the
/// transaction. On PostgreSQL, locks the object's row; on SQLite, the write transaction
/// ([`crate::Store::write`]) already holds the database's write lock.
pub fn lock(conn: &mut DbConnection, dx_id: &DxId) -> Result<(), StoreError> {
    if let DbConnection::Pg(pg) = conn {
        objects::table
            .filter(objects::dx_id.eq(dx_id.as_str()))
            .select(objects::id)
            .for_update()
            .load::<i64>(pg)?;
    }
    Ok(())
}

/// A change to what belongs to an object, allowed only while it is open.
#[derive(Debug, Clone, PartialEq)]
pub enum OpenObjectChange {
    /// New details; the links are extracted again.
    Details(Value),
    Hidden(bool),
    Types(Vec<String>),
}

/// Applies `change` if the object is still open; returns whether it was.
pub fn change_open(
    conn: &mut DbConnection,
    object_id: i64,
    change: &OpenObjectChange,
) -> Result<bool, StoreError> {
    let open = objects::table
        .filter(objects::id.eq(object_id))
        .filter(objects::state.eq(ObjectState::Open.as_str()));
    let stamp = objects::modified_at.eq(now());
    let updated = match change {
        OpenObjectChange::Details(details) => diesel::update(open)
            .set((objects::details.eq(details.to_string()), stamp))
            .execute(conn)?,
        OpenObjectChange::Hidden(hidden) => diesel::update(open)
            .set((objects::hidden.eq(hidden), stamp))
            .execute(conn)?,
        OpenObjectChange::Types(types) => diesel::update(open)
            .set((
                objects::types.eq(Value::from(types.clone()).to_string()),
                stamp,
            ))
            .execute(conn)?,
    };
    if updated == 1
        && let OpenObjectChange::Details(details) = change
    {
        diesel::delete(object_links::table.filter(object_links::object_id.eq(object_id)))
            .execute(conn)?;
        insert_links(conn, object_id, linked_ids(details).iter())?;
    }
    Ok(updated == 1)
}

/// Closes the object if it is open, with the file content assembled from its parts (none for
/// other classes); returns whether it was open.
pub fn close(
    conn: &mut DbConnection,
    object_id: i64,
    content: Option<&ContentInfo>,
) -> Result<bool, StoreError> {
    let open = objects::table
        .filter(objects::id.eq(object_id))
        .filter(objects::state.eq(ObjectState::Open.as_str()));
    let closed = (
        objects::state.eq(ObjectState::Closed.as_str()),
        objects::modified_at.eq(now()),
    );
    let updated = match content {
        Some(content) => {
            let size = i64::try_from(content.size).map_err(|_| {
                StoreError::Invalid(format!("file of {} bytes is too large", content.size))
            })?;
            diesel::update(open)
                .set((
                    closed,
                    objects::size.eq(size),
                    objects::content_sha256.eq(&content.sha256),
                    objects::md5.eq(&content.md5),
                ))
                .execute(conn)?
        }
        None => diesel::update(open).set(closed).execute(conn)?,
    };
    Ok(updated == 1)
}

/// Closes the open file `object_id` over bytes the content store holds at `content_key`, not
/// hashed yet: it is `closing` until a job worker settles it (`content_hashing`). False if it
/// was not open.
pub fn close_over_key(
    conn: &mut DbConnection,
    object_id: i64,
    content_key: &str,
    size: u64,
) -> Result<bool, StoreError> {
    let size = i64::try_from(size)
        .map_err(|_| StoreError::Invalid(format!("file of {size} bytes is too large")))?;
    let updated = diesel::update(
        objects::table
            .filter(objects::id.eq(object_id))
            .filter(objects::state.eq(ObjectState::Open.as_str())),
    )
    .set((
        objects::state.eq(ObjectState::Closing.as_str()),
        objects::size.eq(size),
        objects::content_key.eq(content_key),
        objects::modified_at.eq(now()),
    ))
    .execute(conn)?;
    Ok(updated == 1)
}

/// The per-project fields of one copy to change; `None` leaves a field as it is.
#[derive(Debug, Clone, Copy, Default)]
pub struct CopyChanges<'a> {
    pub name: Option<&'a str>,
    pub tags: Option<&'a [String]>,
    pub properties: Option<&'a Map<String, Value>>,
}

#[derive(AsChangeset)]
#[diesel(table_name = placements)]
struct CopyChangeset<'a> {
    name: Option<&'a str>,
    name_stem: Option<&'a str>,
    /// `Some(None)` clears it: a new name without a number.
    name_number: Option<Option<i64>>,
    tags: Option<String>,
    properties: Option<String>,
    modified_at: chrono::NaiveDateTime,
}

/// Changes one copy's name, tags or properties and stamps it modified.
pub fn change_copy(
    conn: &mut DbConnection,
    placement_id: i64,
    changes: CopyChanges<'_>,
) -> Result<(), StoreError> {
    let changeset = CopyChangeset {
        name: changes.name,
        name_stem: changes.name.map(name_stem),
        name_number: changes.name.map(name_number),
        tags: changes.tags.map(|tags| Value::from(tags).to_string()),
        properties: changes
            .properties
            .map(|properties| Value::Object(properties.clone()).to_string()),
        modified_at: now(),
    };
    diesel::update(placements::table.find(placement_id))
        .set(changeset)
        .execute(conn)?;
    Ok(())
}

/// Puts these placements into folder `folder_id`, one statement per 900.
pub fn move_copies(
    conn: &mut DbConnection,
    placement_ids: &[i64],
    folder_id: i64,
) -> Result<(), StoreError> {
    let now = now();
    for chunk in placement_ids.chunks(IDS_PER_QUERY) {
        diesel::update(placements::table.filter(placements::id.eq_any(chunk)))
            .set((
                placements::folder_id.eq(folder_id),
                placements::modified_at.eq(now),
            ))
            .execute(conn)?;
    }
    Ok(())
}

/// Of these objects, those whose storage the operator sponsors (DNAnexus's `sponsored`). One
/// query per 900 objects.
pub fn operator_sponsored(
    conn: &mut DbConnection,
    object_ids: &[i64],
) -> Result<HashSet<i64>, StoreError> {
    let mut sponsored = HashSet::new();
    for chunk in object_ids.chunks(IDS_PER_QUERY) {
        sponsored.extend(
            sponsored_objects::table
                .filter(sponsored_objects::object_id.eq_any(chunk))
                .select(sponsored_objects::object_id)
                .load::<i64>(conn)?,
        );
    }
    Ok(sponsored)
}

/// The object with this id, wherever it is placed.
pub fn get(conn: &mut DbConnection, dx_id: &DxId) -> Result<Option<Object>, StoreError> {
    objects::table
        .filter(objects::dx_id.eq(dx_id.as_str()))
        .select(ObjectRow::as_select())
        .first(conn)
        .optional()?
        .map(Object::try_from)
        .transpose()
}

/// Removes these copies (placements) from project `project_id`, with the hidden objects of the
/// project that only they kept in use (dx-api.md §5.9, §5.11), and the objects no project
/// holds any more. See [`unreachable_hidden`] for what "in use" means.
pub fn remove_copies(
    conn: &mut DbConnection,
    project_id: i64,
    placement_ids: &[i64],
) -> Result<(), StoreError> {
    let mut removed = placement_ids.to_vec();
    removed.extend(unreachable_hidden(conn, project_id, placement_ids)?);
    files::delete_placements(conn, &removed)
}

/// The placements of the hidden objects of the project that removing `removed` leaves without
/// a user: those linked from a removed object, directly or through other such hidden objects,
/// unless an object that stays in the project links to them (directly or through such hidden
/// objects). A hidden object kept only by another unused hidden object stays: the test looks one
/// step beyond what is removed, never at the whole project.
///
/// Two queries per level of links followed, and one more to find the objects that stay.
fn unreachable_hidden(
    conn: &mut DbConnection,
    project_id: i64,
    removed: &[i64],
) -> Result<Vec<i64>, StoreError> {
    let removed_set: HashSet<i64> = removed.iter().copied().collect();
    let mut frontier: Vec<i64> = Vec::new();
    for chunk in removed.chunks(IDS_PER_QUERY) {
        frontier.extend(
            placements::table
                .filter(placements::id.eq_any(chunk))
                .select(placements::object_id)
                .load::<i64>(conn)?,
        );
    }
    // Hidden placements reached, by object dx id: (placement id, object id).
    let mut reached: HashMap<String, (i64, i64)> = HashMap::new();
    // Links between reached objects: object id -> dx ids it links to.
    let mut links_of: HashMap<i64, Vec<String>> = HashMap::new();
    while !frontier.is_empty() {
        let mut links: Vec<(i64, String)> = Vec::new();
        for chunk in frontier.chunks(IDS_PER_QUERY) {
            links.extend(
                object_links::table
                    .filter(object_links::object_id.eq_any(chunk))
                    .select((object_links::object_id, object_links::target_dx_id))
                    .load::<(i64, String)>(conn)?,
            );
        }
        let targets: Vec<&str> = links
            .iter()
            .map(|(_, target)| target.as_str())
            .filter(|target| !reached.contains_key(*target))
            .collect();
        let mut hidden: Vec<(i64, i64, String)> = Vec::new();
        for chunk in targets.chunks(IDS_PER_QUERY) {
            hidden.extend(
                placements::table
                    .inner_join(objects::table)
                    .filter(placements::project_id.eq(project_id))
                    .filter(objects::hidden.eq(true))
                    .filter(objects::dx_id.eq_any(chunk))
                    .select((placements::id, objects::id, objects::dx_id))
                    .load::<(i64, i64, String)>(conn)?,
            );
        }
        for (source, target) in links {
            links_of.entry(source).or_default().push(target);
        }
        frontier = Vec::new();
        for (placement, object, dx_id) in hidden {
            if !removed_set.contains(&placement) && !reached.contains_key(&dx_id) {
                reached.insert(dx_id, (placement, object));
                frontier.push(object);
            }
        }
    }
    if reached.is_empty() {
        return Ok(Vec::new());
    }
    // What objects staying in the project link to stays in use, with what that links to.
    let reached_placements: HashSet<i64> =
        reached.values().map(|(placement, _)| *placement).collect();
    let reached_ids: Vec<&str> = reached.keys().map(String::as_str).collect();
    let mut in_use: Vec<String> = Vec::new();
    for chunk in reached_ids.chunks(IDS_PER_QUERY) {
        let referrers: Vec<(i64, String)> = object_links::table
            .inner_join(placements::table.on(placements::object_id.eq(object_links::object_id)))
            .filter(placements::project_id.eq(project_id))
            .filter(object_links::target_dx_id.eq_any(chunk))
            .select((placements::id, object_links::target_dx_id))
            .load(conn)?;
        in_use.extend(
            referrers
                .into_iter()
                .filter(|(referrer, _)| {
                    !removed_set.contains(referrer) && !reached_placements.contains(referrer)
                })
                .map(|(_, target)| target),
        );
    }
    while let Some(dx_id) = in_use.pop() {
        if let Some((_, object)) = reached.remove(&dx_id) {
            in_use.extend(links_of.remove(&object).unwrap_or_default());
        }
    }
    Ok(reached
        .into_values()
        .map(|(placement, _)| placement)
        .collect())
}
