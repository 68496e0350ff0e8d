//! Ferry's store: the database (SQLite or PostgreSQL, chosen by the URL) behind one Diesel
//! `MultiConnection`, the repositories over it, and the content store for file bytes.
//!
//! Every write runs in one unit of work, [`Store::write`]: a transaction on one pooled
//! connection, which also marks a keyed request's `Idempotency-Key` applied. Repository
//! functions take `&mut DbConnection` and run inside it; those that write several rows wrap
//! them in a savepoint of their own, so that they stay atomic wherever they are called. They
//! return domain entities, never rows.

pub mod audit;
pub mod bench_support;
pub mod billing;
mod case;
pub mod clone;
pub mod content;
pub mod content_gc;
pub mod content_hashing;
pub mod content_s3;
mod convert;
pub mod copy;
pub mod db;
pub mod dx_containers;
pub mod dx_folders;
pub mod error;
pub mod files;
pub mod folders;
pub mod idempotency;
pub mod jobs;
pub mod members;
pub mod names;
pub mod nonces;
pub mod objects;
pub mod page;
mod placing;
pub mod projects;
pub mod rate_counts;
pub mod sbg_uploads;
// The table DSL is the store's own; tests that check rows directly reach it through the
// `test-support` feature.
pub mod sbg_views;
#[cfg(feature = "test-support")]
pub mod schema;
#[cfg(not(feature = "test-support"))]
mod schema;
pub mod scratch;
pub mod secrets;
mod slow_queries;
pub mod sponsorship;
pub mod tokens;
pub mod unit_of_work;
pub mod upload_digest;
pub mod uploads;
pub mod users;

pub use content::{ContentInfo, ContentStore, Located};
pub(crate) use db::each_backend;
pub use db::{Backend, DbConnection, DbManager, Store, redact_url};
pub use error::StoreError;
