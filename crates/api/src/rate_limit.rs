//! Requests per token in fixed windows, shared by both dialects (each has its own limiter and
//! its own limit).
//!
//! Windows are aligned on the epoch, so every process agrees when one ends. Each process counts
//! in memory, keyed by token id (never by secret), and about once a second ([`SHARE_EVERY`])
//! adds its new counts to the database and reads back every process's totals
//! ([`share_counts`]): the limit holds across the processes of one database, give or take what
//! the others admitted since the last exchange. Never a database write per request. A request
//! is one HTTP call, whatever it asks for: a batch copy of 1,000 files or an async job counts one.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use ferry_store::{StoreError, rate_counts};

use crate::db::RequestClaim;
use crate::{AppState, db};

/// How often a process exchanges its counts with the others.
pub const SHARE_EVERY: Duration = Duration::from_secs(1);

/// A limit: `requests` per token per `window_seconds`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimit {
    pub requests: u32,
    pub window_seconds: u32,
}

impl RateLimit {
    /// CAVATICA's documented limit: 1,000 requests per 5 minutes.
    pub const CAVATICA: RateLimit = RateLimit {
        requests: 1000,
        window_seconds: 300,
    };

    /// No limit in practice, for benchmarks and load runs of one token.
    pub const UNLIMITED: RateLimit = RateLimit {
        requests: u32::MAX,
        window_seconds: 300,
    };
}

/// The counts of the current window.
#[derive(Debug)]
pub(crate) struct RateLimiter {
    limit: RateLimit,
    window: Mutex<Window>,
}

#[derive(Debug, Default)]
struct Window {
    /// The window's start, in epoch seconds.
    start: i64,
    /// Requests admitted by this process per token id since `start`.
    counts: HashMap<i64, u32>,
    /// The part of `counts` not yet added to the shared counts.
    unshared: HashMap<i64, u32>,
    /// Requests admitted by the other processes, as of the last exchange.
    others: HashMap<i64, u32>,
}

impl Window {
    fn used(&self, token_id: i64) -> u32 {
        let own = self.counts.get(&token_id).copied().unwrap_or(0);
        own.saturating_add(self.others.get(&token_id).copied().unwrap_or(0))
    }
}

/// What a process has to add to the shared counts of one window.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Unshared {
    window_start: i64,
    deltas: Vec<(i64, i64)>,
}

/// Where a token stands after a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Allowance {
    pub limit: u32,
    pub remaining: u32,
    /// When the window ends and the count starts again, in epoch seconds.
    pub reset: i64,
    /// False when the request is over the limit and must be refused.
    pub admitted: bool,
}

impl Allowance {
    /// Whole seconds until the window ends, at least 1: the `Retry-After` of a refusal.
    pub fn retry_after(&self, now: i64) -> i64 {
        (self.reset - now).max(1)
    }
}

impl RateLimiter {
    pub fn new(limit: RateLimit) -> Self {
        Self {
            limit: RateLimit {
                requests: limit.requests,
                window_seconds: limit.window_seconds.max(1),
            },
            window: Mutex::default(),
        }
    }

    /// Counts one request by `token_id` at `now` (epoch seconds) if it is within the limit; a
    /// refused request is not counted.
    pub fn admit(&self, token_id: i64, now: i64) -> Allowance {
        self.allowance(token_id, now, true)
    }

    /// Where `token_id` stands at `now`, counting nothing.
    pub fn peek(&self, token_id: i64, now: i64) -> Allowance {
        self.allowance(token_id, now, false)
    }

    /// The full allowance: what a request without a valid token is shown.
    pub fn unused(&self, now: i64) -> Allowance {
        Allowance {
            limit: self.limit.requests,
            remaining: self.limit.requests,
            reset: self.window_start(now) + i64::from(self.limit.window_seconds),
            admitted: true,
        }
    }

    fn window_start(&self, now: i64) -> i64 {
        now - now.rem_euclid(i64::from(self.limit.window_seconds))
    }

    /// The current window, started afresh if `now` is past the one held.
    fn window_at(&self, now: i64) -> std::sync::MutexGuard<'_, Window> {
        let start = self.window_start(now);
        // The counters stay consistent whatever panicked while holding the lock.
        let mut window = self.window.lock().unwrap_or_else(PoisonError::into_inner);
        if window.start != start {
            // A new window forgets every count, so idle tokens do not accumulate.
            *window = Window {
                start,
                ..Window::default()
            };
        }
        window
    }

    fn allowance(&self, token_id: i64, now: i64, count: bool) -> Allowance {
        let mut window = self.window_at(now);
        let admitted = !count || window.used(token_id) < self.limit.requests;
        if count && admitted {
            *window.counts.entry(token_id).or_default() += 1;
            *window.unshared.entry(token_id).or_default() += 1;
        }
        Allowance {
            limit: self.limit.requests,
            remaining: self.limit.requests.saturating_sub(window.used(token_id)),
            reset: window.start + i64::from(self.limit.window_seconds),
            admitted,
        }
    }

    /// The counts to add to the shared ones, taken out of `unshared`; `None` if this process
    /// admitted nothing in the current window, and so has nothing to add nor to learn.
    fn take_unshared(&self, now: i64) -> Option<Unshared> {
        let mut window = self.window_at(now);
        if window.counts.is_empty() {
            return None;
        }
        let deltas = window
            .unshared
            .drain()
            .map(|(token, n)| (token, i64::from(n)))
            .collect();
        Some(Unshared {
            window_start: window.start,
            deltas,
        })
    }

    /// Learns the totals of every process after adding `unshared`; if the exchange failed,
    /// keeps the counts to add them next time.
    fn settle(&self, unshared: Unshared, totals: Option<Vec<(i64, i64)>>) {
        let mut window = self.window.lock().unwrap_or_else(PoisonError::into_inner);
        if window.start != unshared.window_start {
            return;
        }
        let Some(totals) = totals else {
            for (token, n) in unshared.deltas {
                *window.unshared.entry(token).or_default() += u32::try_from(n).unwrap_or(u32::MAX);
            }
            return;
        };
        for (token, total) in totals {
            // What this process admitted and the total already includes.
            let shared = window.counts.get(&token).copied().unwrap_or(0)
                - window.unshared.get(&token).copied().unwrap_or(0);
            let others = u32::try_from(total.max(0))
                .unwrap_or(u32::MAX)
                .saturating_sub(shared);
            window.others.insert(token, others);
        }
    }
}

/// Exchanges both dialects' counts with the other processes: one connection, three
/// statements per dialect with something to share. A failure is logged and the counts are
/// kept for the next exchange.
pub async fn share_counts(state: &AppState) {
    let now = chrono::Utc::now().timestamp();
    let taken: Vec<_> = [("sbg", &state.sbg_rate), ("dx", &state.dx_rate)]
        .into_iter()
        .filter_map(|(dialect, limiter)| Some((dialect, limiter.take_unshared(now)?, limiter)))
        .collect();
    if taken.is_empty() {
        return;
    }
    let sent: Vec<_> = taken.iter().map(|(d, u, _)| (*d, u.clone())).collect();
    let exchanged = db::write(
        &state.store,
        RequestClaim::none(),
        move |conn| -> Result<_, StoreError> {
            sent.iter()
                .map(|(dialect, u)| {
                    rate_counts::add_and_read(conn, dialect, u.window_start, &u.deltas)
                })
                .collect::<Result<Vec<_>, _>>()
        },
    )
    .await;
    let totals: Vec<Option<_>> = match exchanged {
        Ok(totals) => totals.into_iter().map(Some).collect(),
        Err(error) => {
            tracing::warn!(%error, "sharing the rate-limit counts failed");
            vec![None; taken.len()]
        }
    };
    for ((_, unshared, limiter), totals) in taken.into_iter().zip(totals) {
        limiter.settle(unshared, totals);
    }
}

/// Shares the counts every [`SHARE_EVERY`] for as long as the server runs.
pub async fn share_counts_forever(state: AppState) {
    let mut every = actix_web::rt::time::interval(SHARE_EVERY);
    loop {
        every.tick().await;
        share_counts(&state).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIMIT: RateLimit = RateLimit {
        requests: 3,
        window_seconds: 10,
    };

    #[test]
    fn counts_per_token_in_fixed_windows_and_refuses_over_the_limit() {
        let limiter = RateLimiter::new(LIMIT);
        let now = 10 * 10 + 7;
        for left in [2, 1, 0] {
            let a = limiter.admit(1, now);
            assert!(a.admitted);
            assert_eq!((a.remaining, a.reset), (left, 110));
        }
        let refused = limiter.admit(1, now + 1);
        assert!(!refused.admitted);
        assert_eq!(refused.remaining, 0);
        assert_eq!(refused.retry_after(now + 1), 2);
        // Another token has its own count; peeking counts nothing.
        assert_eq!(limiter.admit(2, now).remaining, 2);
        assert_eq!(limiter.peek(2, now).remaining, 2);
        // The next window starts afresh.
        let next = limiter.admit(1, 110);
        assert!(next.admitted);
        assert_eq!((next.remaining, next.reset), (2, 120));
    }

    #[test]
    fn retry_after_is_at_least_a_second() {
        let limiter = RateLimiter::new(RateLimit {
            requests: 0,
            window_seconds: 1,
        });
        let refused = limiter.admit(1, 5);
        assert!(!refused.admitted);
        assert_eq!(refused.retry_after(5), 1);
        assert_eq!(limiter.unused(5).remaining, 0);
    }

    #[test]
    fn the_other_processes_counts_add_up_after_an_exchange() {
        let limiter = RateLimiter::new(LIMIT);
        assert_eq!(
            limiter.take_unshared(105),
            None,
            "nothing admitted, nothing to share"
        );
        limiter.admit(1, 105);
        let unshared = limiter.take_unshared(105).unwrap();
        assert_eq!(unshared.deltas, vec![(1, 1)]);
        // Admitted while the exchange ran: not in the total, still to share.
        limiter.admit(1, 105);
        // The total: this process's first request and one elsewhere.
        limiter.settle(unshared, Some(vec![(1, 2)]));
        assert_eq!(limiter.peek(1, 105).remaining, 0);
        assert!(!limiter.admit(1, 105).admitted);
        assert_eq!(limiter.take_unshared(105).unwrap().deltas, vec![(1, 1)]);

        // A failed exchange keeps the counts for the next one.
        let failed = RateLimiter::new(LIMIT);
        failed.admit(2, 105);
        let unshared = failed.take_unshared(105).unwrap();
        failed.settle(unshared, None);
        assert_eq!(failed.take_unshared(105).unwrap().deltas, vec![(2, 1)]);
        // An answer about a past window changes nothing.
        let late = failed.take_unshared(105).unwrap();
        failed.admit(2, 111);
        failed.settle(late, Some(vec![(2, 3)]));
        assert_eq!(failed.peek(2, 111).remaining, 2);
    }
}
