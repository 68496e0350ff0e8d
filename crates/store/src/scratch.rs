//! A throwaway PostgreSQL schema, for tests and benchmarks that must not touch real data: every
//! connection of a store opened on [`ScratchSchema::url`] works in it through `search_path`, the
//! embedded migrations included. Dropped (best effort) with the value.
//!
//! A process that is killed drops nothing, so each name carries its creation time
//! (`<prefix>_<unix seconds>_<random>`) and [`ScratchSchema::sweep`] drops those of a prefix
//! made before a cutoff.

use std::time::{SystemTime, UNIX_EPOCH};

use diesel::sql_types::Text;
use diesel::{Connection, PgConnection, QueryableByName, RunQueryDsl};

use crate::db::redact_url;
use crate::error::StoreError;

#[derive(Debug)]
pub struct ScratchSchema {
    server: String,
    schema: String,
    url: String,
}

#[derive(QueryableByName)]
struct SchemaName {
    #[diesel(sql_type = Text)]
    nspname: String,
}

impl ScratchSchema {
    /// Creates `<prefix>_<unix seconds>_<random>` on the server `server_url` names.
    pub fn create(server_url: &str, prefix: &str) -> Result<ScratchSchema, StoreError> {
        let created = unix_seconds(SystemTime::now());
        let schema = format!("{prefix}_{created}_{}", uuid::Uuid::new_v4().simple());
        let mut admin = connect(server_url)?;
        diesel::sql_query(format!("CREATE SCHEMA {schema}")).execute(&mut admin)?;
        let separator = if server_url.contains('?') { '&' } else { '?' };
        Ok(ScratchSchema {
            url: format!("{server_url}{separator}options=-csearch_path%3D{schema}"),
            server: server_url.to_owned(),
            schema,
        })
    }

    /// Drops the schemas of `prefix` created before `cutoff`, left by processes that did not
    /// drop their own; returns their names. Schemas of the prefix whose name carries no
    /// creation time (another tool's) are left alone.
    pub fn sweep(
        server_url: &str,
        prefix: &str,
        cutoff: SystemTime,
    ) -> Result<Vec<String>, StoreError> {
        let mut admin = connect(server_url)?;
        let cutoff = unix_seconds(cutoff);
        let names: Vec<SchemaName> =
            diesel::sql_query("SELECT nspname FROM pg_namespace WHERE starts_with(nspname, $1)")
                .bind::<Text, _>(format!("{prefix}_"))
                .load(&mut admin)?;
        let mut dropped = Vec::new();
        for SchemaName { nspname } in names {
            if created_at(&nspname, prefix).is_some_and(|created| created < cutoff) {
                diesel::sql_query(format!("DROP SCHEMA IF EXISTS {nspname} CASCADE"))
                    .execute(&mut admin)?;
                dropped.push(nspname);
            }
        }
        Ok(dropped)
    }

    /// The database URL whose connections work in this schema.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The schema's name.
    pub fn name(&self) -> &str {
        &self.schema
    }
}

fn connect(server_url: &str) -> Result<PgConnection, StoreError> {
    PgConnection::establish(server_url).map_err(|e| {
        StoreError::Unavailable(format!("cannot connect to {}: {e}", redact_url(server_url)))
    })
}

fn unix_seconds(time: SystemTime) -> u64 {
    time.duration_since(UNIX_EPOCH)
        .map_or(0, |since| since.as_secs())
}

/// The creation time in a name [`ScratchSchema::create`] made for `prefix`; `None` for any other
/// name.
fn created_at(name: &str, prefix: &str) -> Option<u64> {
    let (created, random) = name
        .strip_prefix(prefix)?
        .strip_prefix('_')?
        .split_once('_')?;
    let is_random = random.len() == 32 && random.bytes().all(|b| b.is_ascii_hexdigit());
    let is_time = !created.is_empty() && created.bytes().all(|b| b.is_ascii_digit());
    if is_random && is_time {
        created.parse().ok()
    } else {
        None
    }
}

impl Drop for ScratchSchema {
    fn drop(&mut self) {
        // Best effort: a schema left behind costs disk, not correctness, and the next sweep
        // takes it.
        let dropped = connect(&self.server)
            .map_err(|e| e.to_string())
            .and_then(|mut c| {
                diesel::sql_query(format!("DROP SCHEMA IF EXISTS {} CASCADE", self.schema))
                    .execute(&mut c)
                    .map_err(|e| e.to_string())
            });
        if let Err(e) = dropped {
            eprintln!("could not drop the scratch schema {}: {e}", self.schema);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::created_at;

    #[test]
    fn only_names_made_for_the_prefix_carry_a_creation_time() {
        let random = "0123456789abcdef0123456789abcdef";
        assert_eq!(
            created_at(&format!("test_1700000000_{random}"), "test"),
            Some(1_700_000_000)
        );
        for other in [
            format!("test_sdk_{random}"),
            format!("testing_1700000000_{random}"),
            format!("test_1700000000_{}", &random[..8]),
            format!("test_{random}"),
            format!("bench_1700000000_{random}"),
            "test_1700000000_".to_owned(),
        ] {
            assert_eq!(created_at(&other, "test"), None, "{other}");
        }
    }
}
