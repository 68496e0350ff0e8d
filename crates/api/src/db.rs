//! The only way handlers reach the database.

use actix_web::web;
use ferry_store::idempotency::{self, Applying};
use ferry_store::{DbConnection, Store, StoreError};

tokio::task_local! {
    /// The `Idempotency-Key` claim the current request's handler runs under (set by
    /// `crate::idempotency` around the handler only).
    pub(crate) static CLAIM: Applying;
}

/// Runs `work` on a pooled connection in actix's blocking pool, inside the request's span: one
/// closure, one connection checkout, one unit of work. Open any transaction inside `work`.
/// `E` is the caller's error type, so a handler can fail with its dialect's error from inside.
/// Under a request's `Idempotency-Key` claim, `work`'s write transactions mark the key applied
/// as they commit (`ferry_store::idempotency::applying`).
pub(crate) async fn run<T, E, F>(store: &Store, work: F) -> Result<T, E>
where
    F: FnOnce(&mut DbConnection) -> Result<T, E> + Send + 'static,
    T: Send + 'static,
    E: From<StoreError> + Send + 'static,
{
    let store = store.clone();
    let span = tracing::Span::current();
    let claim = CLAIM.try_with(Applying::clone).ok();
    web::block(move || {
        let _entered = span.enter();
        idempotency::applying(claim, || {
            let mut conn = store.conn()?;
            work(&mut conn)
        })
    })
    .await
    .map_err(|_| {
        E::from(StoreError::Unavailable(
            "the blocking pool is shut down".into(),
        ))
    })?
}
