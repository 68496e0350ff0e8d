//! What a store failure that reaches a handler unhandled means to a client, whatever the
//! dialect: an outage (worth retrying: each dialect answers its 503) or a bug (its 500, the
//! cause logged here and never echoed). Each dialect's `From<StoreError>` maps the two.

use ferry_store::StoreError;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum StoreFailure {
    Outage,
    Bug,
}

impl From<StoreError> for StoreFailure {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Unavailable(cause) => {
                tracing::warn!(%cause, "database unavailable");
                StoreFailure::Outage
            }
            // A retry holds the request's key and runs it: this one wrote nothing.
            StoreError::ClaimTakenOver => {
                tracing::warn!("the Idempotency-Key claim was taken over");
                StoreFailure::Outage
            }
            other => {
                tracing::error!(error = ?other, "unexpected store error");
                StoreFailure::Bug
            }
        }
    }
}
