//! End-to-end tests of the real `ferry` binary: CLI, server start-up, health, auth, logs, shutdown.
//! Each test runs on every backend (`ferry_testkit::backends!`: SQLite, and PostgreSQL when configured).

mod async_jobs;
mod cli;
mod content;
mod copy;
mod faults;
mod full_disk;
mod idempotency;
mod import;
mod server;
mod support;
mod two_servers;
