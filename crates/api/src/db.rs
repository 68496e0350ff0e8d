//! The only way handlers reach the database.

use actix_web::web;
use ferry_store::{DbConnection, Store, StoreError};

/// Runs `work` on a pooled connection in actix's blocking pool, inside the request's span: one
/// closure, one connection checkout, one unit of work. Open any transaction inside `work`.
pub(crate) async fn run<T, F>(store: &Store, work: F) -> Result<T, StoreError>
where
    F: FnOnce(&mut DbConnection) -> Result<T, StoreError> + Send + 'static,
    T: Send + 'static,
{
    let store = store.clone();
    let span = tracing::Span::current();
    web::block(move || {
        let _entered = span.enter();
        let mut conn = store.conn()?;
        work(&mut conn)
    })
    .await
    .map_err(|_| StoreError::Unavailable("the blocking pool is shut down".into()))?
}
