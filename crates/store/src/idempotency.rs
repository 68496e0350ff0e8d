//! Idempotency keys: a mutating request that carries `Idempotency-Key` claims the key for its
//! user before it runs, and records its response after; the same key sent again by the same
//! user within [`RETENTION`] gets that response instead of running again.
//!
//! A claim is a lease: a process that dies between claiming and recording leaves the key
//! `in_flight`, and once `claimed_until` has passed the next request with the key takes it over.
//! Each claim carries its own id, so a holder whose lease was taken over can no longer record
//! or release the key.
//!
//! The request's own writes mark the key `applied` in their transaction ([`Applying`]): a key
//! that is applied and has no response lost its answer (the process died between the commit
//! and the recording), and a retry is told so ([`Claim::Lost`]) instead of running again. A
//! holder whose claim was taken over cannot commit: its mark finds no row and its transaction
//! rolls back.

use chrono::{DateTime, TimeDelta, Utc};
use diesel::dsl;
use diesel::prelude::*;
use ferry_domain::row_ids::UserRowId;

use crate::convert::to_db_time;
use crate::db::DbConnection;
use crate::each_backend;
use crate::error::StoreError;
use crate::schema::idempotency_keys;
use crate::unit_of_work::atomic;

/// How long a key is remembered; older rows are ignored and deleted.
pub const RETENTION: TimeDelta = TimeDelta::hours(24);

const IN_FLIGHT: &str = "in_flight";
const DONE: &str = "done";

/// One user's key for one request.
#[derive(Debug, Clone, Copy)]
pub struct KeyedRequest<'a> {
    pub user_id: UserRowId,
    pub key: &'a str,
    /// SHA-256 (hex) of what identifies the request: method, path, query and body.
    pub request_sha256: &'a str,
}

/// The response recorded for a key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredResponse {
    pub status: u16,
    pub content_type: Option<String>,
    pub body: Vec<u8>,
}

/// What claiming a key found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Claim {
    /// The key is this request's, under the claim id given, until the lease lapses.
    Granted,
    /// A request with this key and fingerprint finished: its response.
    Done(StoredResponse),
    /// A request with this key and fingerprint holds a lease that has not lapsed yet.
    InFlight,
    /// A request with this key and fingerprint committed its writes, and its response was
    /// never recorded (its process died in between, or it answered a server error). It must
    /// not run again.
    Lost,
    /// The key was used for a request with another fingerprint.
    Mismatch,
}

/// Claims `request.key` for `claim_id` until `now + lease`, in one short transaction of its own:
/// prunes the expired keys, inserts the claim unless the key exists (`ON CONFLICT DO
/// NOTHING`), and otherwise reads what holds it, taking over a lapsed lease.
pub fn claim(
    conn: &mut DbConnection,
    request: KeyedRequest<'_>,
    claim_id: &str,
    lease: TimeDelta,
    now: DateTime<Utc>,
) -> Result<Claim, StoreError> {
    let claimed_until = to_db_time(now + lease);
    atomic(conn, |conn| {
        prune(conn, now)?;
        let row = (
            idempotency_keys::user_id.eq(request.user_id.get()),
            idempotency_keys::idempotency_key.eq(request.key),
            idempotency_keys::request_sha256.eq(request.request_sha256),
            idempotency_keys::state.eq(IN_FLIGHT),
            idempotency_keys::claim.eq(claim_id),
            idempotency_keys::claimed_until.eq(claimed_until),
            idempotency_keys::created_at.eq(to_db_time(now)),
        );
        let inserted = each_backend!(conn, |c| diesel::insert_into(idempotency_keys::table)
            .values(&row)
            .on_conflict_do_nothing()
            .execute(c))?;
        if inserted == 1 {
            return Ok(Claim::Granted);
        }
        let found = idempotency_keys::table
            .find((request.user_id.get(), request.key))
            .select((
                idempotency_keys::request_sha256,
                idempotency_keys::state,
                idempotency_keys::claim,
                idempotency_keys::claimed_until,
                idempotency_keys::response_status,
                idempotency_keys::response_content_type,
                idempotency_keys::response_body,
                idempotency_keys::applied,
            ))
            .first::<(
                String,
                String,
                String,
                chrono::NaiveDateTime,
                Option<i32>,
                Option<String>,
                Option<Vec<u8>>,
                bool,
            )>(conn)
            .optional()?;
        // The conflicting row was deleted after the insert saw it: the caller tries again.
        let Some((sha, state, holder, until, status, content_type, body, applied)) = found else {
            return Ok(Claim::InFlight);
        };
        if sha != request.request_sha256 {
            return Ok(Claim::Mismatch);
        }
        if state == DONE {
            let (Some(status), Some(body)) = (status, body) else {
                return Err(StoreError::Corrupt(format!(
                    "idempotency key of user {} is done without a response",
                    request.user_id
                )));
            };
            let status = u16::try_from(status).map_err(|e| {
                StoreError::Corrupt(format!("idempotency response status {status}: {e}"))
            })?;
            return Ok(Claim::Done(StoredResponse {
                status,
                content_type,
                body,
            }));
        }
        if until >= to_db_time(now) {
            return Ok(Claim::InFlight);
        }
        if applied {
            return Ok(Claim::Lost);
        }
        // The holder's lease lapsed: its process died or hung. Only one taker can win, as the
        // update names the claim it replaces.
        let taken = diesel::update(
            idempotency_keys::table
                .find((request.user_id.get(), request.key))
                .filter(idempotency_keys::claim.eq(&holder))
                .filter(idempotency_keys::state.eq(IN_FLIGHT)),
        )
        .set((
            idempotency_keys::claim.eq(claim_id),
            idempotency_keys::claimed_until.eq(claimed_until),
        ))
        .execute(conn)?;
        Ok(if taken == 1 {
            Claim::Granted
        } else {
            Claim::InFlight
        })
    })
}

/// Records the response of the request that holds the key under `claim_id`. `false` when the
/// claim was taken over meanwhile (its lease had lapsed), in which case nothing is written.
pub fn complete(
    conn: &mut DbConnection,
    request: KeyedRequest<'_>,
    claim_id: &str,
    response: &StoredResponse,
) -> Result<bool, StoreError> {
    let updated = diesel::update(held(request.user_id, request.key, claim_id))
        .set((
            idempotency_keys::state.eq(DONE),
            idempotency_keys::response_status.eq(i32::from(response.status)),
            idempotency_keys::response_content_type.eq(response.content_type.as_deref()),
            idempotency_keys::response_body.eq(&response.body),
        ))
        .execute(conn)?;
    Ok(updated == 1)
}

/// Gives the key up after a server error, so that the next request with it runs again,
/// unless the request's writes committed (the key is applied): then its lease ends at `now`,
/// and the next request with the key is told the answer was lost ([`Claim::Lost`]).
pub fn release(
    conn: &mut DbConnection,
    request: KeyedRequest<'_>,
    claim_id: &str,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let held = || held(request.user_id, request.key, claim_id);
    let released =
        diesel::delete(held().filter(idempotency_keys::applied.eq(false))).execute(conn)?;
    if released == 0 {
        diesel::update(held())
            .set(idempotency_keys::claimed_until.eq(to_db_time(now)))
            .execute(conn)?;
    }
    Ok(())
}

/// The claim a keyed request's writes run under: [`crate::Store::write`] marks it applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Applying {
    pub user_id: UserRowId,
    pub key: String,
    pub claim_id: String,
}

/// Marks the key of `claim` applied, in the caller's transaction. One single-row `UPDATE`
/// that cannot fail on a constraint, so it never aborts a PostgreSQL transaction; a claim
/// that was taken over (its lease lapsed while the request ran: the taker runs it) matches no
/// row, and the transaction must not commit.
pub(crate) fn mark_applied(conn: &mut DbConnection, claim: &Applying) -> Result<(), StoreError> {
    let marked = diesel::update(held(claim.user_id, &claim.key, &claim.claim_id))
        .set(idempotency_keys::applied.eq(true))
        .execute(conn)?;
    if marked == 1 {
        Ok(())
    } else {
        Err(StoreError::ClaimTakenOver)
    }
}

/// The query for a key's row while one claim holds it in flight.
type Held<'a> = dsl::Filter<
    dsl::Filter<
        dsl::Find<idempotency_keys::table, (i64, &'a str)>,
        dsl::Eq<idempotency_keys::claim, &'a str>,
    >,
    dsl::Eq<idempotency_keys::state, &'static str>,
>;

/// The key's row while `claim_id` holds it in flight.
fn held<'a>(user_id: UserRowId, key: &'a str, claim_id: &'a str) -> Held<'a> {
    idempotency_keys::table
        .find((user_id.get(), key))
        .filter(idempotency_keys::claim.eq(claim_id))
        .filter(idempotency_keys::state.eq(IN_FLIGHT))
}

/// Deletes every key older than [`RETENTION`] at `now`, of every user: one statement on the
/// `created_at` index. Returns how many went.
pub fn prune(conn: &mut DbConnection, now: DateTime<Utc>) -> Result<usize, StoreError> {
    Ok(diesel::delete(
        idempotency_keys::table
            .filter(idempotency_keys::created_at.lt(to_db_time(now - RETENTION))),
    )
    .execute(conn)?)
}
