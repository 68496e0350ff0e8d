//! `ferry bench` and `ferry load`: Ferry measured through its real HTTP API, always on a fresh
//! database. What they seed, they seed through the store's public functions, as the server
//! would write it; only the bench's floor and its planner statistics are raw SQL, behind
//! `ferry_store::bench_support`. The `ferry` binary runs both as subcommands.

pub mod bench;
mod fresh;
pub mod load;
mod seed;

pub use bench::{BenchArgs, Measurement};
pub use load::LoadArgs;

/// How a tool failed: a setup problem (bad URL, unreachable database, no free port) or a
/// failure of the work itself (a request refused, a figure that cannot be taken). The binary
/// turns them into its exit codes 2 and 1.
#[derive(Debug)]
pub enum Failure {
    Setup(String),
    Work(String),
}

pub(crate) fn work(e: impl std::fmt::Display) -> Failure {
    Failure::Work(e.to_string())
}
