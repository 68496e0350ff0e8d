//! Rate-limit counts shared by the processes of one database: each process counts requests in
//! memory and, about once a second, adds its new counts here and reads the totals back. The
//! cost is one short write transaction of three statements per sync, whatever the number of
//! tokens; never one per request.

use diesel::prelude::*;
use diesel::upsert::excluded;

use crate::db::DbConnection;
use crate::each_backend;
use crate::error::StoreError;
use crate::schema::rate_limit_counts;
use crate::unit_of_work::atomic;

/// Rows per multi-row INSERT, under SQLite's 32,766 bound parameters at four per row.
const INSERT_CHUNK: usize = 1000;

/// Adds `deltas` (token id, requests) to the counts of `dialect`'s window starting at
/// `window_start` (epoch seconds), forgets that dialect's earlier windows, and returns every
/// token's total in the window, all processes included.
pub fn add_and_read(
    conn: &mut DbConnection,
    dialect: &str,
    window_start: i64,
    deltas: &[(i64, i64)],
) -> Result<Vec<(i64, i64)>, StoreError> {
    // Rows are locked in token order, so that two processes upserting the same tokens cannot
    // deadlock on PostgreSQL.
    let mut deltas = deltas.to_vec();
    deltas.sort_unstable();
    // A write transaction: on SQLite it queues fairly with the other writers of the process.
    atomic(conn, |conn| {
        for chunk in deltas.chunks(INSERT_CHUNK) {
            let rows: Vec<_> = chunk
                .iter()
                .map(|&(token_id, requests)| {
                    (
                        rate_limit_counts::dialect.eq(dialect),
                        rate_limit_counts::window_start.eq(window_start),
                        rate_limit_counts::token_id.eq(token_id),
                        rate_limit_counts::requests.eq(requests),
                    )
                })
                .collect();
            each_backend!(conn, |c| diesel::insert_into(rate_limit_counts::table)
                .values(&rows)
                .on_conflict((
                    rate_limit_counts::dialect,
                    rate_limit_counts::window_start,
                    rate_limit_counts::token_id,
                ))
                .do_update()
                .set(
                    rate_limit_counts::requests
                        .eq(rate_limit_counts::requests + excluded(rate_limit_counts::requests)),
                )
                .execute(c))?;
        }
        diesel::delete(
            rate_limit_counts::table
                .filter(rate_limit_counts::dialect.eq(dialect))
                .filter(rate_limit_counts::window_start.lt(window_start)),
        )
        .execute(conn)?;
        Ok(rate_limit_counts::table
            .filter(rate_limit_counts::dialect.eq(dialect))
            .filter(rate_limit_counts::window_start.eq(window_start))
            .select((rate_limit_counts::token_id, rate_limit_counts::requests))
            .load(conn)?)
    })
}
