//! Ferry's use cases: the rules a request follows, whichever dialect it came in, over the
//! store. A use case answers with domain values or with a refusal (a domain enum saying why
//! not, wrapped in [`failure::Failure`]); each dialect turns a refusal into its own error shape
//! in one place (`api::sbg::refusals`, `api::dx::refusals`). Nothing here knows actix, JSON or
//! a dialect's error codes; Diesel stays behind the store's functions.
//!
//! - [`copy`] and [`jobs`]: the SBG copies (synchronous and async) and the async jobs' workers;
//! - [`clone`]: the DNAnexus clone;
//! - [`moving`]: the SBG move of a file to another folder of its project;
//! - [`upload`] and [`open_file`]: the transfers, a multipart upload into a folder (SBG) and a
//!   file written in parts while open, then closed (DNAnexus);
//! - [`access`] and [`folders`]: what a caller may reach, by DNAnexus id or by SBG folder
//!   reference, which the others build on.

pub mod access;
pub mod clone;
pub mod copy;
pub mod failure;
pub mod folders;
pub mod jobs;
pub mod moving;
pub mod open_file;
pub mod upload;
