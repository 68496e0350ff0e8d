//! A throwaway PostgreSQL schema, for tests and benchmarks that must not touch real data: every
//! connection of a store opened on [`ScratchSchema::url`] works in it through `search_path`, the
//! embedded migrations included. Dropped (best effort) with the value.

use diesel::{Connection, PgConnection, RunQueryDsl};

use crate::db::redact_url;
use crate::error::StoreError;

#[derive(Debug)]
pub struct ScratchSchema {
    server: String,
    schema: String,
    url: String,
}

impl ScratchSchema {
    /// Creates `<prefix>_<random>` on the server `server_url` names.
    pub fn create(server_url: &str, prefix: &str) -> Result<ScratchSchema, StoreError> {
        let schema = format!("{prefix}_{}", uuid::Uuid::new_v4().simple());
        let mut admin = PgConnection::establish(server_url).map_err(|e| {
            StoreError::Unavailable(format!("cannot connect to {}: {e}", redact_url(server_url)))
        })?;
        diesel::sql_query(format!("CREATE SCHEMA {schema}")).execute(&mut admin)?;
        let separator = if server_url.contains('?') { '&' } else { '?' };
        Ok(ScratchSchema {
            url: format!("{server_url}{separator}options=-csearch_path%3D{schema}"),
            server: server_url.to_owned(),
            schema,
        })
    }

    /// The database URL whose connections work in this schema.
    pub fn url(&self) -> &str {
        &self.url
    }
}

impl Drop for ScratchSchema {
    fn drop(&mut self) {
        // Best effort: a schema left behind costs disk, not correctness.
        let dropped = PgConnection::establish(&self.server)
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
