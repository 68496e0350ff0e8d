//! Ferry's use cases: the rules a request follows, whichever dialect it came in, over the
//! store. A use case answers with domain values or with a refusal (a domain enum saying why
//! not); each dialect turns a refusal into its own error shape in one place. Nothing here
//! knows actix, JSON or a dialect's error codes; Diesel stays behind the store's functions.
//!
//! It holds the copy rules the SBG copies (synchronous and async) share, and the async copy
//! jobs' workers, and the DNAnexus clone. The transfers' rules are still in the dialects'
//! handlers (docs/architecture.md, "Where each rule lives today").

pub mod clone;
pub mod copy;
pub mod jobs;
