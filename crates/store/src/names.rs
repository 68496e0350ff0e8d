//! The names taken in a folder that can collide with a batch of wanted names, for the
//! CAVATICA `N_name` rule (`ferry_domain::naming::allocate_names`).
//!
//! A wanted name `w` can only collide with `w` itself, and a renamed copy of it needs the
//! highest `k` of a `k_w` in the folder. Placements keep the name with one `k_` prefix
//! stripped in `name_stem` and that `k` in `name_number`, so the highest is one probe of the
//! index `(folder_id, name_stem, name_number)` per wanted name, however many copies exist.
//! Sub-folders share the namespace of files in SBG; they are few, and the ones that can collide
//! either have a wanted name or start with a digit.

use ferry_domain::collision::Holder;
use ferry_domain::ids::SbgId;
use ferry_domain::row_ids::FolderRowId;
use std::collections::{BTreeSet, HashMap};

use diesel::prelude::*;
use diesel::sql_types::{Array, BigInt, Bool, Nullable, Text};
use ferry_domain::naming::{SATURATED, TakenNames, name_number, name_stem};

use crate::convert::corrupt;
use crate::db::DbConnection;
use crate::error::StoreError;
use crate::schema::{folders, objects, placements};

/// Names per query: twice this many parameters stays far below both backends' limits.
const NAMES_PER_QUERY: usize = 5_000;

#[derive(QueryableByName)]
struct Probe {
    #[diesel(sql_type = Text)]
    base: String,
    #[diesel(sql_type = Bool)]
    same: bool,
    #[diesel(sql_type = Nullable<BigInt>)]
    highest: Option<i64>,
}

/// The names in folder `folder_id` (files and sub-folders) that `allocate_names` must treat
/// as taken for `wanted`. Costs two queries per 5,000 distinct wanted names, and a third when
/// a wanted name has copies numbered past 18 digits.
pub fn taken_in_folder(
    conn: &mut DbConnection,
    folder_id: FolderRowId,
    wanted: &[&str],
) -> Result<TakenNames, StoreError> {
    let distinct = distinct(wanted);
    let mut taken = TakenNames::default();
    for chunk in distinct.chunks(NAMES_PER_QUERY) {
        let mut saturated = Vec::new();
        for Probe {
            base,
            same,
            highest,
        } in probe_names(conn, folder_id, chunk)?
        {
            if let Some(highest) = highest.and_then(|k| u64::try_from(k).ok()) {
                if highest == SATURATED {
                    saturated.push(base.clone());
                }
                taken.insert_highest(base.as_str(), highest);
            }
            if same {
                taken.insert(base);
            }
        }
        if !saturated.is_empty() {
            // Numbers of more than 18 digits all read as SATURATED: those names one by one.
            let names: Vec<String> = placements::table
                .filter(placements::folder_id.eq(folder_id.get()))
                .filter(placements::name_stem.eq_any(&saturated))
                .filter(placements::name_number.eq(i64::MAX))
                .select(placements::name)
                .load(conn)?;
            taken.extend(names);
        }

        let subfolders: Vec<String> = folders::table
            .filter(folders::parent_id.eq(folder_id.get()))
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

/// What holds each of `wanted` in folder `folder_id`, by name: a file (with its content's
/// SHA-256, if known) or a sub-folder. For a copy's collision policy other than `rename`: two
/// queries per 5,000 distinct names (the placements through the `(folder_id, name)` index, then
/// the sub-folders), whatever the folder holds.
pub fn holders_in_folder(
    conn: &mut DbConnection,
    folder_id: FolderRowId,
    wanted: &[&str],
) -> Result<HashMap<String, Holder>, StoreError> {
    let distinct = distinct(wanted);
    let mut holders = HashMap::new();
    for chunk in distinct.chunks(NAMES_PER_QUERY) {
        let files: Vec<(String, String, Option<String>)> = placements::table
            .inner_join(objects::table)
            .filter(placements::folder_id.eq(folder_id.get()))
            .filter(placements::name.eq_any(chunk))
            .select((
                placements::name,
                placements::sbg_id,
                objects::content_sha256,
            ))
            .load(conn)?;
        let subfolders: Vec<(String, String)> = folders::table
            .filter(folders::parent_id.eq(folder_id.get()))
            .filter(folders::name.eq_any(chunk))
            .select((folders::name, folders::sbg_id))
            .load(conn)?;
        for (name, id) in subfolders {
            let id = SbgId::parse(&id).map_err(|e| corrupt("folders", &id, e))?;
            holders.insert(name, Holder::Folder { id });
        }
        for (name, id, sha256) in files {
            let id = SbgId::parse(&id).map_err(|e| corrupt("placements", &id, e))?;
            holders.insert(name, Holder::File { id, sha256 });
        }
    }
    Ok(holders)
}

/// The names, each once, sorted.
fn distinct<'a>(names: &[&'a str]) -> Vec<&'a str> {
    names
        .iter()
        .copied()
        .collect::<BTreeSet<&str>>()
        .into_iter()
        .collect()
}

/// Per wanted name, whether a placement in the folder has it, and the highest `name_number`
/// of its numbered copies: two scalar subqueries, which each backend runs once per name as one
/// index probe.
///
/// Every condition of an index that a probe can use is a key of that index: a probe that knew
/// only `folder_id` of some index would read the whole folder. PostgreSQL chose just that, with
/// the name as a filter, once its statistics said the folder was new and empty (a batch of
/// 1,000 names into a folder of 20,000 placements took 7 s; docs/performance.md). So the exact
/// name is looked up under its stem and number too, which `(folder_id, name_stem,
/// name_number)` can answer as well as `(folder_id, name)`, and the highest number is a `MAX`
/// that only the former serves. `IN (...)` would be one scan for all names, and a bitmap scan
/// of the whole folder when estimates are off.
///
/// The names are a table of their own on each backend: `unnest` of arrays, `json_each` of a
/// JSON array of `[name, stem, number]`.
fn probe_names(
    conn: &mut DbConnection,
    folder_id: FolderRowId,
    names: &[&str],
) -> Result<Vec<Probe>, StoreError> {
    const PER_NAME: &str = "CASE WHEN w.number IS NULL \
        THEN (SELECT COUNT(*) FROM placements p WHERE p.folder_id = $1 \
              AND p.name_stem = w.stem AND p.name_number IS NULL AND p.name = w.base) \
        ELSE (SELECT COUNT(*) FROM placements p WHERE p.folder_id = $1 \
              AND p.name_stem = w.stem AND p.name_number = w.number AND p.name = w.base) \
        END > 0 AS same, \
        (SELECT MAX(p.name_number) FROM placements p \
         WHERE p.folder_id = $1 AND p.name_stem = w.base) AS highest";
    let stems: Vec<&str> = names.iter().map(|name| name_stem(name)).collect();
    let numbers: Vec<Option<i64>> = names.iter().map(|name| name_number(name)).collect();
    let rows = match conn {
        DbConnection::Pg(c) => diesel::sql_query(format!(
            "SELECT w.base, {PER_NAME} \
             FROM unnest($2::text[], $3::text[], $4::bigint[]) AS w(base, stem, number)"
        ))
        .bind::<BigInt, _>(folder_id.get())
        .bind::<Array<Text>, _>(names)
        .bind::<Array<Text>, _>(&stems)
        .bind::<Array<Nullable<BigInt>>, _>(&numbers)
        .load(c)?,
        DbConnection::Sqlite(c) => {
            let triples: Vec<(&str, &str, Option<i64>)> = names
                .iter()
                .zip(&stems)
                .zip(&numbers)
                .map(|((name, stem), number)| (*name, *stem, *number))
                .collect();
            diesel::sql_query(format!(
                "SELECT w.base, {PER_NAME} FROM (SELECT value ->> 0 AS base, \
                 value ->> 1 AS stem, value ->> 2 AS number FROM json_each($2)) AS w"
            ))
            .bind::<BigInt, _>(folder_id.get())
            .bind::<Text, _>(serde_json::to_string(&triples).expect("names serialise"))
            .load(c)?
        }
    };
    Ok(rows)
}
