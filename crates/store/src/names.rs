//! The names taken in a folder that can collide with a batch of wanted names, for the
//! CAVATICA `N_name` rule (`ferry_domain::naming::allocate_names`).
//!
//! A wanted name `w` can only collide with `w` itself, and a renamed copy of it needs the
//! highest `k` of a `k_w` in the folder. Placements keep the name with one `k_` prefix
//! stripped in `name_stem` and that `k` in `name_number`, so the highest is one probe of the
//! index `(folder_id, name_stem, name_number)` per wanted name, however many copies exist.
//! Sub-folders share the namespace of files in SBG; they are few, and the ones that can collide
//! either have a wanted name or start with a digit.

use diesel::prelude::*;
use diesel::sql_types::{BigInt, Nullable, Text};
use ferry_domain::naming::{SATURATED, TakenNames};

use crate::db::DbConnection;
use crate::error::StoreError;
use crate::schema::{folders, placements};

/// Names per query: twice this many parameters stays far below both backends' limits.
const NAMES_PER_QUERY: usize = 5_000;

#[derive(QueryableByName)]
struct Highest {
    #[diesel(sql_type = Text)]
    base: String,
    #[diesel(sql_type = Nullable<BigInt>)]
    highest: Option<i64>,
}

/// The names in folder `folder_id` (files and sub-folders) that `allocate_names` must treat
/// as taken for `wanted`. Costs three queries per 5,000 wanted names, and a fourth when a
/// wanted name has copies numbered past 18 digits.
pub fn taken_in_folder(
    conn: &mut DbConnection,
    folder_id: i64,
    wanted: &[&str],
) -> Result<TakenNames, StoreError> {
    let mut taken = TakenNames::default();
    for chunk in wanted.chunks(NAMES_PER_QUERY) {
        let same: Vec<String> = placements::table
            .filter(placements::folder_id.eq(folder_id))
            .filter(placements::name.eq_any(chunk))
            .select(placements::name)
            .load(conn)?;
        taken.extend(same);

        let mut saturated = Vec::new();
        for Highest { base, highest } in highest_numbers(conn, folder_id, chunk)? {
            if let Some(highest) = highest.and_then(|k| u64::try_from(k).ok()) {
                if highest == SATURATED {
                    saturated.push(base.clone());
                }
                taken.insert_highest(base, highest);
            }
        }
        if !saturated.is_empty() {
            // Numbers of more than 18 digits all read as SATURATED: those names one by one.
            let names: Vec<String> = placements::table
                .filter(placements::folder_id.eq(folder_id))
                .filter(placements::name_stem.eq_any(&saturated))
                .filter(placements::name_number.eq(i64::MAX))
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

/// Per wanted name, the highest `name_number` of its numbered copies: a correlated `MAX` that
/// each backend answers with one index probe. GROUP BY would read every copy instead. The list
/// of names is a table of its own on each backend: `unnest` of an array, `json_each` of a
/// JSON array.
fn highest_numbers(
    conn: &mut DbConnection,
    folder_id: i64,
    bases: &[&str],
) -> Result<Vec<Highest>, StoreError> {
    const PER_BASE: &str = "(SELECT MAX(p.name_number) FROM placements p \
                            WHERE p.folder_id = $1 AND p.name_stem = w.base) AS highest";
    let rows = match conn {
        DbConnection::Pg(c) => diesel::sql_query(format!(
            "SELECT w.base, {PER_BASE} FROM unnest($2::text[]) AS w(base)"
        ))
        .bind::<BigInt, _>(folder_id)
        .bind::<diesel::sql_types::Array<Text>, _>(bases)
        .load(c)?,
        DbConnection::Sqlite(c) => diesel::sql_query(format!(
            "SELECT w.base, {PER_BASE} FROM (SELECT value AS base FROM json_each($2)) AS w"
        ))
        .bind::<BigInt, _>(folder_id)
        .bind::<Text, _>(serde_json::to_string(bases).expect("strings serialise"))
        .load(c)?,
    };
    Ok(rows)
}
