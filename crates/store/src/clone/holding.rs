//! `listProjects`: the projects that hold a copy of an object, as the caller may see them.

use super::*;
use ferry_domain::row_ids::UserRowId;

/// `listProjects`: every project holding the object that the user is a member of, with the
/// user's level, in no particular order. Empty when the object does not exist or the user sees
/// none of its projects.
///
/// Two queries: the object's row id, then its placements joined to the user's memberships,
/// which keep the project's DNAnexus id (migration 000011). With the row id as a value (not a
/// join), PostgreSQL's custom plan estimates how many projects hold the object and hash-joins
/// them when there are many; on both backends the placements and the memberships are read from
/// indexes alone (migrations 000010 and 000011), one entry of each per project. No `ORDER BY`
/// and no sort here: the caller's answer is a JSON object, whose order means nothing, and
/// sorting 10,000 ids cost a tenth of the call (docs/performance.md).
pub fn projects_holding(
    conn: &mut DbConnection,
    user_id: UserRowId,
    object: &DxId,
) -> Result<Vec<(DxId, Level)>, StoreError> {
    let Some(object_id) = objects::table
        .filter(objects::dx_id.eq(object.as_str()))
        .select(objects::id)
        .first::<i64>(conn)
        .optional()?
    else {
        return Ok(Vec::new());
    };
    let rows: Vec<(String, i16)> = placements::table
        .inner_join(
            project_members::table.on(project_members::project_id
                .eq(placements::project_id)
                .and(project_members::user_id.eq(user_id.get()))),
        )
        .filter(placements::object_id.eq(object_id))
        .select((project_members::project_dx_id, project_members::level))
        .load(conn)?;
    rows.into_iter()
        .map(|(dx_id, level)| {
            let bad = |e| corrupt("projects", &dx_id, e);
            Ok((
                DxId::parse(&dx_id).map_err(bad)?,
                Level::from_i16(level).map_err(bad)?,
            ))
        })
        .collect()
}
