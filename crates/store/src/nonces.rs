//! DNAnexus nonces: a creation sent again with the same nonce and the same input gets the
//! response of the first; with another input it is refused. The nonce is reserved in the
//! transaction of the creation, so a creation and its nonce commit together.

use diesel::prelude::*;
use ferry_domain::row_ids::UserRowId;
use serde_json::Value;

use crate::convert::{from_json, now};
use crate::db::DbConnection;
use crate::error::StoreError;
use crate::schema::nonces;

/// What was recorded for a nonce.
#[derive(Debug, Clone, PartialEq)]
pub struct UsedNonce {
    /// The digest of the request that used it.
    pub request_sha256: String,
    /// Its response; `Null` while the request's transaction is still running.
    pub response: Value,
}

pub fn find(
    conn: &mut DbConnection,
    user_id: UserRowId,
    nonce: &str,
) -> Result<Option<UsedNonce>, StoreError> {
    let row: Option<(String, String)> = nonces::table
        .find((user_id.get(), nonce))
        .select((nonces::request_sha256, nonces::response))
        .first(conn)
        .optional()?;
    row.map(|(request_sha256, response)| {
        Ok(UsedNonce {
            request_sha256,
            response: from_json("nonces", user_id.get(), &response)?,
        })
    })
    .transpose()
}

/// Reserves the nonce for the request with this digest. If another transaction holds it, this
/// waits for that one to end (PostgreSQL) and then fails with `Conflict`, in a savepoint so
/// that the caller's transaction can go on to read what the other recorded.
pub fn reserve(
    conn: &mut DbConnection,
    user_id: UserRowId,
    nonce: &str,
    request_sha256: &str,
) -> Result<(), StoreError> {
    conn.transaction(|conn| {
        diesel::insert_into(nonces::table)
            .values((
                nonces::user_id.eq(user_id.get()),
                nonces::nonce.eq(nonce),
                nonces::request_sha256.eq(request_sha256),
                nonces::response.eq(Value::Null.to_string()),
                nonces::created_at.eq(now()),
            ))
            .execute(conn)?;
        Ok(())
    })
}

/// Records the response of the request that reserved the nonce.
pub fn record_response(
    conn: &mut DbConnection,
    user_id: UserRowId,
    nonce: &str,
    response: &Value,
) -> Result<(), StoreError> {
    diesel::update(nonces::table.find((user_id.get(), nonce)))
        .set(nonces::response.eq(response.to_string()))
        .execute(conn)?;
    Ok(())
}
