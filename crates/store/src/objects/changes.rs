//! Changes to objects and their copies: open objects changed and closed, copies renamed, moved, removed.

use super::*;
use ferry_domain::row_ids::{FolderRowId, ObjectRowId, PlacementRowId, ProjectRowId};

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
    object_id: ObjectRowId,
    change: &OpenObjectChange,
) -> Result<bool, StoreError> {
    let open = objects::table
        .filter(objects::id.eq(object_id.get()))
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
        diesel::delete(object_links::table.filter(object_links::object_id.eq(object_id.get())))
            .execute(conn)?;
        insert_links(conn, object_id, linked_ids(details).iter())?;
    }
    Ok(updated == 1)
}

/// Closes the object if it is open, with the file content assembled from its parts (none for
/// other classes); returns whether it was open.
pub fn close(
    conn: &mut DbConnection,
    object_id: ObjectRowId,
    content: Option<&ContentInfo>,
) -> Result<bool, StoreError> {
    let open = objects::table
        .filter(objects::id.eq(object_id.get()))
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
    object_id: ObjectRowId,
    content_key: &str,
    size: u64,
) -> Result<bool, StoreError> {
    let size = i64::try_from(size)
        .map_err(|_| StoreError::Invalid(format!("file of {size} bytes is too large")))?;
    let updated = diesel::update(
        objects::table
            .filter(objects::id.eq(object_id.get()))
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
pub(super) struct CopyChangeset<'a> {
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
    placement_id: PlacementRowId,
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
    diesel::update(placements::table.find(placement_id.get()))
        .set(changeset)
        .execute(conn)?;
    Ok(())
}

/// Puts these placements into folder `folder_id`, one statement per 900.
pub fn move_copies(
    conn: &mut DbConnection,
    placement_ids: &[PlacementRowId],
    folder_id: FolderRowId,
) -> Result<(), StoreError> {
    let placement_ids: Vec<i64> = placement_ids.iter().map(|id| id.get()).collect();
    let placement_ids = placement_ids.as_slice();
    let now = now();
    for chunk in placement_ids.chunks(IDS_PER_QUERY) {
        diesel::update(placements::table.filter(placements::id.eq_any(chunk)))
            .set((
                placements::folder_id.eq(folder_id.get()),
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
    object_ids: &[ObjectRowId],
) -> Result<HashSet<ObjectRowId>, StoreError> {
    let object_ids: Vec<i64> = object_ids.iter().map(|id| id.get()).collect();
    let object_ids = object_ids.as_slice();
    let mut sponsored = HashSet::new();
    for chunk in object_ids.chunks(IDS_PER_QUERY) {
        sponsored.extend(
            sponsored_objects::table
                .filter(sponsored_objects::object_id.eq_any(chunk))
                .select(sponsored_objects::object_id)
                .load::<i64>(conn)?
                .into_iter()
                .map(ObjectRowId::new),
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
    project_id: ProjectRowId,
    placement_ids: &[PlacementRowId],
) -> Result<(), StoreError> {
    let keys: Vec<i64> = placement_ids.iter().map(|id| id.get()).collect();
    remove_copy_keys(conn, project_id, &keys)
}

/// [`remove_copies`] by the placements' keys, as the store's own queries read them.
pub(crate) fn remove_copy_keys(
    conn: &mut DbConnection,
    project_id: ProjectRowId,
    placement_ids: &[i64],
) -> Result<(), StoreError> {
    let mut removed = placement_ids.to_vec();
    removed.extend(unreachable_hidden(conn, project_id, placement_ids)?);
    files::delete_placement_keys(conn, &removed)
}

/// The placements of the hidden objects of the project that removing `removed` leaves without
/// a user: those linked from a removed object, directly or through other such hidden objects,
/// unless an object that stays in the project links to them (directly or through such hidden
/// objects). A hidden object kept only by another unused hidden object stays: the test looks one
/// step beyond what is removed, never at the whole project.
///
/// Two queries per level of links followed, and one more to find the objects that stay.
pub(super) fn unreachable_hidden(
    conn: &mut DbConnection,
    project_id: ProjectRowId,
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
                    .filter(placements::project_id.eq(project_id.get()))
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
            .filter(placements::project_id.eq(project_id.get()))
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
