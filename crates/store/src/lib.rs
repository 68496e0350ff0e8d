//! Ferry's store: the database (SQLite or PostgreSQL, chosen by the URL) behind one Diesel
//! `MultiConnection`, the repositories over it, and the content store for file bytes.
//!
//! Repository functions take `&mut DbConnection`, so they run alike inside or outside a
//! caller's transaction; those that write several rows open their own (a savepoint when
//! nested). They return domain entities, never rows.

pub mod audit;
pub mod billing;
mod case;
pub mod clone;
pub mod containers;
pub mod content;
pub mod content_gc;
pub mod content_hashing;
pub mod content_s3;
mod convert;
pub mod copy;
pub mod db;
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
mod placing;
pub mod projects;
pub mod rate_counts;
pub mod sbg_uploads;
pub mod schema;
pub mod scratch;
pub mod secrets;
mod slow_queries;
pub mod sponsorship;
pub mod tokens;
pub mod upload_digest;
pub mod uploads;
pub mod users;
pub mod views;

pub use content::{ContentInfo, ContentStore, Located};
pub use db::{Backend, DbConnection, DbManager, Store, redact_url, write_transaction};
pub use error::StoreError;
