//! How a use case fails: refused by one of its rules, or the store failed.

use std::fmt::Debug;

use ferry_store::StoreError;

/// A use case that could not be done: `Refused` with the rule's reason, a domain value each
/// dialect maps to its error shape, or `Store` when the database or the content store failed.
#[derive(Debug, thiserror::Error)]
pub enum Failure<R: Debug> {
    #[error("refused: {0:?}")]
    Refused(R),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl<R: Debug> Failure<R> {
    /// The same failure, the refusal seen as another use case's.
    pub fn map_refusal<S: Debug>(self, map: impl FnOnce(R) -> S) -> Failure<S> {
        match self {
            Failure::Refused(refusal) => Failure::Refused(map(refusal)),
            Failure::Store(e) => Failure::Store(e),
        }
    }
}

/// `?` on a refusal makes it a [`Failure`]. A blanket `impl<R> From<R>` would overlap with
/// `From<StoreError>`, so each refusal type says so here.
macro_rules! refusal {
    ($($refusal:ty),* $(,)?) => {$(
        impl From<$refusal> for Failure<$refusal> {
            fn from(refusal: $refusal) -> Self {
                Failure::Refused(refusal)
            }
        }
    )*};
}

refusal!(
    ferry_domain::access::AccessRefusal,
    ferry_domain::clone::CloneRefusal,
    ferry_domain::copy::CopyRefusal,
    ferry_domain::moving::MoveRefusal,
    ferry_domain::upload::OpenFileRefusal,
    ferry_domain::upload::UploadRefusal,
);
