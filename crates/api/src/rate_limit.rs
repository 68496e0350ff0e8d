//! Requests per token in fixed windows, shared by both dialects (each has its own limiter and
//! its own limit).
//!
//! Windows are aligned on the epoch, so every process agrees when one ends; the counts are kept
//! in memory, keyed by token id (never by secret), per process: with several `ferry serve`
//! processes on one database each enforces the limit on its own share of the requests, and a
//! restart starts a fresh count. A request is one HTTP call, whatever it asks for: a batch copy
//! of 1,000 files or an async job counts one.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};

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
    /// Requests admitted per token id since `start`.
    counts: HashMap<i64, u32>,
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

    fn allowance(&self, token_id: i64, now: i64, count: bool) -> Allowance {
        let start = self.window_start(now);
        // The counters stay consistent whatever panicked while holding the lock.
        let mut window = self.window.lock().unwrap_or_else(PoisonError::into_inner);
        if window.start != start {
            // A new window forgets every count, so idle tokens do not accumulate.
            window.start = start;
            window.counts.clear();
        }
        let used = window.counts.entry(token_id).or_default();
        let admitted = !count || *used < self.limit.requests;
        if count && admitted {
            *used += 1;
        }
        Allowance {
            limit: self.limit.requests,
            remaining: self.limit.requests.saturating_sub(*used),
            reset: start + i64::from(self.limit.window_seconds),
            admitted,
        }
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
}
