//! The only way handlers reach the database: [`read`] and [`write`], each one closure, one
//! connection checkout and one unit of work ([`ferry_store::Store::write`]) in actix's
//! blocking pool.

use std::future::{Ready, ready};

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpMessage, HttpRequest, web};
use ferry_store::idempotency::Applying;
use ferry_store::{DbConnection, Store, StoreError};

/// The `Idempotency-Key` claim a request runs under, if it carries a key: set by
/// `crate::idempotency` on the request, taken by the handler as an argument, and handed to
/// [`write`], whose transaction marks the key applied as it commits.
#[derive(Debug, Clone)]
pub(crate) struct RequestClaim(Option<Applying>);

impl RequestClaim {
    /// No claim: the work of a request without a key, or of the middleware itself.
    pub(crate) fn none() -> RequestClaim {
        RequestClaim(None)
    }

    /// Puts `claim` on the request, for its handler.
    pub(crate) fn attach(req: &impl HttpMessage, claim: Applying) {
        req.extensions_mut().insert(claim);
    }

    /// The claim, for [`Store::write`].
    pub(crate) fn get(&self) -> Option<&Applying> {
        self.0.as_ref()
    }

    /// The claim on the request, if it has one.
    pub(crate) fn of(req: &HttpRequest) -> RequestClaim {
        RequestClaim(req.extensions().get::<Applying>().cloned())
    }
}

impl FromRequest for RequestClaim {
    type Error = actix_web::Error;
    type Future = Ready<Result<RequestClaim, actix_web::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(Ok(RequestClaim::of(req)))
    }
}

/// Runs `work` on a pooled connection, in no transaction, inside the request's span. `E` is
/// the caller's error type, so a handler can fail with its dialect's error from inside.
pub(crate) async fn read<T, E, F>(store: &Store, work: F) -> Result<T, E>
where
    F: FnOnce(&mut DbConnection) -> Result<T, E> + Send + 'static,
    T: Send + 'static,
    E: From<StoreError> + Send + 'static,
{
    blocking(store, move |store| store.read(work)).await
}

/// Runs `work` as one unit of work under the request's `claim`: its checks and its writes in
/// one transaction, which also marks the claim's key applied.
pub(crate) async fn write<T, E, F>(store: &Store, claim: RequestClaim, work: F) -> Result<T, E>
where
    F: FnOnce(&mut DbConnection) -> Result<T, E> + Send + 'static,
    T: Send + 'static,
    E: From<StoreError> + Send + 'static,
{
    blocking(store, move |store| store.write(claim.get(), work)).await
}

/// Runs `work` as [`write`] does, or, for a `dry_run`, rehearses it ([`Store::rehearse`]): the
/// same checks and writes, rolled back, so that the answer is the real run's and nothing is
/// written.
pub(crate) async fn write_or_rehearse<T, E, F>(
    store: &Store,
    claim: RequestClaim,
    dry_run: bool,
    work: F,
) -> Result<T, E>
where
    F: FnOnce(&mut DbConnection) -> Result<T, E> + Send + 'static,
    T: Send + 'static,
    E: From<StoreError> + Send + 'static,
{
    if dry_run {
        blocking(store, move |store| store.rehearse(work)).await
    } else {
        write(store, claim, work).await
    }
}

/// Runs `work` in actix's blocking pool, inside the request's span, with the store: for work
/// that reads, writes and touches file content in steps, each `Store::read` or `Store::write`
/// checking a connection out in turn (never two at once), so that a large file's bytes are
/// handled outside the write transaction.
pub(crate) async fn blocking<T, E>(
    store: &Store,
    work: impl FnOnce(&Store) -> Result<T, E> + Send + 'static,
) -> Result<T, E>
where
    T: Send + 'static,
    E: From<StoreError> + Send + 'static,
{
    let store = store.clone();
    let span = tracing::Span::current();
    web::block(move || {
        let _entered = span.enter();
        work(&store)
    })
    .await
    .map_err(|_| {
        E::from(StoreError::Unavailable(
            "the blocking pool is shut down".into(),
        ))
    })?
}
