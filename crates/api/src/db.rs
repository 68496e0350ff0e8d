//! The only way handlers reach the database.

use actix_web::web;
use ferry_store::{DbConnection, Store, StoreError};

/// Runs `work` on a pooled connection in actix's blocking pool, inside the request's span: one
/// closure, one connection checkout, one unit of work. Open any transaction inside `work`.
/// `E` is the caller's error type, so a handler can fail with its dialect's error from inside.
pub(crate) async fn run<T, E, F>(store: &Store, work: F) -> Result<T, E>
where
    F: FnOnce(&mut DbConnection) -> Result<T, E> + Send + 'static,
    T: Send + 'static,
    E: From<StoreError> + Send + 'static,
{
    let store = store.clone();
    let span = tracing::Span::current();
    web::block(move || {
        let _entered = span.enter();
        let mut conn = store.conn()?;
        work(&mut conn)
    })
    .await
    .map_err(|_| {
        E::from(StoreError::Unavailable(
            "the blocking pool is shut down".into(),
        ))
    })?
}
