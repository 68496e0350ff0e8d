//! Secrets that every process serving one database shares, such as the key that signs upload
//! and download URLs: made once, by whichever process needs it first.

use diesel::prelude::*;

use crate::convert::now;
use crate::db::DbConnection;
use crate::each_backend;
use crate::error::StoreError;
use crate::schema::server_secrets;

/// The secret called `name`; if there is none yet, stores `generate()` first. Two processes
/// racing to make it agree on the one stored first.
pub fn get_or_create(
    conn: &mut DbConnection,
    name: &str,
    generate: impl FnOnce() -> String,
) -> Result<String, StoreError> {
    let row = (
        server_secrets::name.eq(name),
        server_secrets::secret.eq(generate()),
        server_secrets::created_at.eq(now()),
    );
    each_backend!(conn, |c| diesel::insert_into(server_secrets::table)
        .values(&row)
        .on_conflict_do_nothing()
        .execute(c))?;
    Ok(server_secrets::table
        .find(name)
        .select(server_secrets::secret)
        .first(conn)?)
}
