//! API tokens. A secret is shown once, at creation; the store keeps only its SHA-256, so a
//! leaked database gives no usable token.

use chrono::{DateTime, NaiveDateTime, TimeDelta, Utc};
use diesel::prelude::*;
use ferry_domain::model::{Token, User};
use ferry_domain::row_ids::{TokenRowId, UserRowId};
use rand::Rng;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::convert::{from_db_time, now, to_db_time};
use crate::db::DbConnection;
use crate::error::StoreError;
use crate::schema::{tokens, users};
use crate::users::UserRow;

/// `last_used_at` is refreshed at most this often, so that authenticating is not a write per
/// request.
const LAST_USED_GRANULARITY: TimeDelta = TimeDelta::minutes(1);

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = tokens, check_for_backend(diesel::pg::Pg, diesel::sqlite::Sqlite))]
pub(crate) struct TokenRow {
    pub id: i64,
    pub user_id: i64,
    pub secret_sha256: String,
    pub label: Option<String>,
    pub last4: String,
    pub created_at: NaiveDateTime,
    pub expires_at: Option<NaiveDateTime>,
    pub revoked_at: Option<NaiveDateTime>,
    pub last_used_at: Option<NaiveDateTime>,
}

impl From<TokenRow> for Token {
    fn from(row: TokenRow) -> Token {
        Token {
            id: TokenRowId::new(row.id),
            user_id: UserRowId::new(row.user_id),
            label: row.label,
            last4: row.last4,
            created_at: from_db_time(row.created_at),
            expires_at: row.expires_at.map(from_db_time),
            revoked_at: row.revoked_at.map(from_db_time),
            last_used_at: row.last_used_at.map(from_db_time),
        }
    }
}

/// A new secret: 32 lowercase hex characters (128 random bits), the shape of CAVATICA's.
fn new_secret() -> String {
    hex::encode(rand::rng().random::<[u8; 16]>())
}

fn secret_digest(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// Creates a token and returns it with its secret, which is not stored and cannot be shown
/// again.
pub fn create(
    conn: &mut DbConnection,
    user_id: UserRowId,
    label: Option<&str>,
    expires_at: Option<DateTime<Utc>>,
) -> Result<(Token, String), StoreError> {
    let secret = new_secret();
    let last4 = &secret[secret.len() - 4..];
    let row: TokenRow = diesel::insert_into(tokens::table)
        .values((
            tokens::user_id.eq(user_id.get()),
            tokens::secret_sha256.eq(secret_digest(&secret)),
            tokens::label.eq(label),
            tokens::last4.eq(last4),
            tokens::created_at.eq(now()),
            tokens::expires_at.eq(expires_at.map(to_db_time)),
        ))
        .returning(tokens::all_columns)
        .get_result(conn)?;
    Ok((row.into(), secret))
}

/// The user's tokens, revoked and expired ones included, oldest first.
pub fn list(conn: &mut DbConnection, user_id: UserRowId) -> Result<Vec<Token>, StoreError> {
    let rows = tokens::table
        .filter(tokens::user_id.eq(user_id.get()))
        .order(tokens::id)
        .select(TokenRow::as_select())
        .load(conn)?;
    Ok(rows.into_iter().map(Token::from).collect())
}

/// Revokes one of the user's tokens. Revoking a revoked token changes nothing and returns it;
/// another user's token is `NotFound`, as is an unknown one.
pub fn revoke(
    conn: &mut DbConnection,
    user_id: UserRowId,
    token_id: TokenRowId,
) -> Result<Token, StoreError> {
    let owned = tokens::table
        .filter(tokens::id.eq(token_id.get()))
        .filter(tokens::user_id.eq(user_id.get()));
    let revoked: Option<TokenRow> = diesel::update(owned.filter(tokens::revoked_at.is_null()))
        .set(tokens::revoked_at.eq(now()))
        .returning(tokens::all_columns)
        .get_result(conn)
        .optional()?;
    let row = match revoked {
        Some(row) => row,
        None => owned.select(TokenRow::as_select()).first(conn)?,
    };
    Ok(row.into())
}

/// The user and token that `secret` belongs to, if the token is neither revoked nor expired
/// at `now`. Refreshes the token's `last_used_at` when it is a minute old or more.
pub fn authenticate(
    conn: &mut DbConnection,
    secret: &str,
    now: DateTime<Utc>,
) -> Result<Option<(User, Token)>, StoreError> {
    let digest = secret_digest(secret);
    let found: Option<(TokenRow, UserRow)> = tokens::table
        .inner_join(users::table)
        .filter(tokens::secret_sha256.eq(&digest))
        .select((TokenRow::as_select(), UserRow::as_select()))
        .first(conn)
        .optional()?;
    let Some((mut token, user)) = found else {
        return Ok(None);
    };
    // The index lookup compared digests already; this comparison does not leak timing.
    if !bool::from(token.secret_sha256.as_bytes().ct_eq(digest.as_bytes())) {
        return Ok(None);
    }
    let now = to_db_time(now);
    if token.revoked_at.is_some() || token.expires_at.is_some_and(|expiry| expiry <= now) {
        return Ok(None);
    }
    if token
        .last_used_at
        .is_none_or(|used| now - used >= LAST_USED_GRANULARITY)
    {
        diesel::update(tokens::table.find(token.id))
            .set(tokens::last_used_at.eq(now))
            .execute(conn)?;
        token.last_used_at = Some(now);
    }
    Ok(Some((user.try_into()?, token.into())))
}
