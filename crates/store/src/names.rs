//! The names taken in a folder that can collide with a batch of wanted names, for the
//! CAVATICA `N_name` rule (`ferry_domain::naming::allocate_names`).
//!
//! A wanted name `w` can only collide with `w` itself or with `k_w`. Placements keep the name
//! with one `k_` prefix stripped in `name_stem`, so those are exactly `name IN W OR name_stem IN W`,
//! both indexed. The `k_w` are not read one by one: per `w` the database counts them and finds
//! the largest `k`, and when the two agree, `1_w` … `k_w` are all there and travel as one
//! number. Only a `w` with gaps (a copy deleted or renamed) has its `k_w` names read.
//! Sub-folders share the namespace of files in SBG; they are few, and the ones that can collide
//! either have a wanted name or start with a digit.

use diesel::dsl::{count_star, sql};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Bool, Nullable};
use ferry_domain::naming::TakenNames;

use crate::db::DbConnection;
use crate::error::StoreError;
use crate::schema::{folders, placements};

/// Names per query: twice this many parameters stays far below both backends' limits.
const NAMES_PER_QUERY: usize = 5_000;

/// `name` is `k_<name_stem>` with `k` written as `allocate_names` writes it: no leading zero,
/// and short enough for a BIGINT (`name_stem` guarantees the prefix is digits). Portable SQL.
const NUMBERED: &str = "name <> name_stem AND substr(name, 1, 1) <> '0' \
                        AND length(name) - length(name_stem) <= 19";
/// The `k` of such a name.
const NUMBER: &str = "MAX(CAST(substr(name, 1, length(name) - length(name_stem) - 1) AS BIGINT))";

/// The names in folder `folder_id` (files and sub-folders) that `allocate_names` must treat
/// as taken for `wanted`. Costs three queries per 5,000 wanted names, and a fourth when some
/// wanted name's numbered copies have gaps.
pub fn taken_in_folder(
    conn: &mut DbConnection,
    folder_id: i64,
    wanted: &[&str],
) -> Result<TakenNames, StoreError> {
    let mut taken = TakenNames::default();
    for chunk in wanted.chunks(NAMES_PER_QUERY) {
        let in_folder = placements::folder_id.eq(folder_id);
        let same: Vec<String> = placements::table
            .filter(in_folder)
            .filter(placements::name.eq_any(chunk))
            .select(placements::name)
            .load(conn)?;
        taken.extend(same);

        let runs: Vec<(String, i64, Option<i64>)> = placements::table
            .filter(in_folder)
            .filter(placements::name_stem.eq_any(chunk))
            .filter(sql::<Bool>(NUMBERED))
            .group_by(placements::name_stem)
            .select((
                placements::name_stem,
                count_star(),
                sql::<Nullable<BigInt>>(NUMBER),
            ))
            .load(conn)?;
        let mut gapped = Vec::new();
        for (base, count, largest) in runs {
            match u64::try_from(count) {
                Ok(through) if largest == Some(count) => taken.insert_numbered(base, through),
                _ => gapped.push(base),
            }
        }
        if !gapped.is_empty() {
            let names: Vec<String> = placements::table
                .filter(in_folder)
                .filter(placements::name_stem.eq_any(&gapped))
                .filter(sql::<Bool>(NUMBERED))
                .select(placements::name)
                .load(conn)?;
            taken.extend(names);
        }

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
