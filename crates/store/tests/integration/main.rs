//! Repository tests. Each runs on SQLite, and on PostgreSQL too when
//! `FERRY_TEST_POSTGRES_URL` is set (see `ferry_testkit::TestDb`).

mod audit;
mod content;
mod content_gc;
mod content_s3;
mod copy;
mod files;
mod folders;
mod idempotency;
mod migrations;
mod objects;
mod open;
mod projects;
mod sbg_views;
mod scratch;
mod slow_queries;
mod tokens;
mod users;
