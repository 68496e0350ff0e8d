//! The names taken in a folder that can collide with a batch of wanted names, for the
//! CAVATICA `N_name` rule (`ferry_domain::naming::allocate_names`).
//!
//! A wanted name `w` can only collide with `w` itself or with `k_w`. Placements keep the name
//! with one `k_` prefix stripped in `name_stem`, so those are exactly `name IN W OR name_stem IN W`,
//! both indexed. Sub-folders share the namespace of files in SBG; they are few, and the ones that
//! can collide either have a wanted name or start with a digit.

use std::collections::HashSet;

use diesel::prelude::*;

use crate::db::DbConnection;
use crate::error::StoreError;
use crate::schema::{folders, placements};

/// Names per query: twice this many parameters stays far below both backends' limits.
const NAMES_PER_QUERY: usize = 5_000;

/// The names in folder `folder_id` (files and sub-folders) that `allocate_names` must treat
/// as taken for `wanted`. Costs two queries per 5,000 wanted names.
pub fn taken_in_folder(
    conn: &mut DbConnection,
    folder_id: i64,
    wanted: &[&str],
) -> Result<HashSet<String>, StoreError> {
    let mut taken = HashSet::new();
    for chunk in wanted.chunks(NAMES_PER_QUERY) {
        let files: Vec<String> = placements::table
            .filter(placements::folder_id.eq(folder_id))
            .filter(
                placements::name
                    .eq_any(chunk)
                    .or(placements::name_stem.eq_any(chunk)),
            )
            .select(placements::name)
            .load(conn)?;
        taken.extend(files);
        let subfolders: Vec<String> = folders::table
            .filter(folders::parent_id.eq(folder_id))
            .filter(
                folders::name
                    .eq_any(chunk)
                    .or(folders::name.ge("0").and(folders::name.lt(":"))),
            )
            .select(folders::name)
            .load(conn)?;
        taken.extend(subfolders);
    }
    Ok(taken)
}
