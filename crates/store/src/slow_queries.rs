//! Statements slower than a threshold, logged with their SQL text (`tracing::warn!`), on every
//! connection the pool opens: the log then names the query that made a request slow. The bound
//! values are never logged: they can hold secrets (token hashes, signed URLs, user metadata).

use std::time::{Duration, Instant};

use diesel::connection::{DebugQuery, Instrumentation, InstrumentationEvent};

/// What counts as slow: far above any indexed lookup (docs/performance.md has the figures),
/// below what a client notices.
pub(crate) const SLOW_QUERY_THRESHOLD: Duration = Duration::from_millis(500);

/// Diesel writes a query as `<SQL> -- binds: [<values>]`.
const BINDS_MARKER: &str = " -- binds: ";

/// Times each statement of one connection (they run one at a time) and logs the slow ones.
#[derive(Debug)]
pub(crate) struct SlowQueries {
    threshold: Duration,
    started: Option<Instant>,
}

impl SlowQueries {
    pub(crate) fn new(threshold: Duration) -> SlowQueries {
        SlowQueries {
            threshold,
            started: None,
        }
    }
}

impl Default for SlowQueries {
    fn default() -> SlowQueries {
        SlowQueries::new(SLOW_QUERY_THRESHOLD)
    }
}

impl Instrumentation for SlowQueries {
    fn on_connection_event(&mut self, event: InstrumentationEvent<'_>) {
        match event {
            InstrumentationEvent::StartQuery { .. } => self.started = Some(Instant::now()),
            InstrumentationEvent::FinishQuery { query, error, .. } => {
                let Some(started) = self.started.take() else {
                    return;
                };
                let elapsed = started.elapsed();
                if elapsed >= self.threshold {
                    tracing::warn!(
                        elapsed_ms = u64::try_from(elapsed.as_millis()).unwrap_or(u64::MAX),
                        failed = error.is_some(),
                        sql = sql_text(query),
                        "slow database statement"
                    );
                }
            }
            _ => {}
        }
    }
}

/// The statement's SQL without its bound values: everything from the first marker on is cut,
/// so no value shows whatever it holds.
fn sql_text(query: &dyn DebugQuery) -> String {
    let mut text = query.to_string();
    if let Some(at) = text.find(BINDS_MARKER) {
        text.truncate(at);
    }
    text
}

#[cfg(test)]
mod tests {
    use diesel::sql_types::Text;
    use diesel::sqlite::Sqlite;

    use super::sql_text;

    #[test]
    fn the_sql_text_leaves_out_the_bound_values() {
        let query = diesel::sql_query("SELECT 1 WHERE ? <> ''").bind::<Text, _>("hunter2");
        let rendered = diesel::debug_query::<Sqlite, _>(&query);
        assert!(rendered.to_string().contains("hunter2"), "{rendered}");
        assert_eq!(sql_text(&rendered), "SELECT 1 WHERE ? <> ''");
    }
}
