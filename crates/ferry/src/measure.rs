//! `ferry bench` and `ferry load`, whose work is the `ferry-bench` crate's: the global flags
//! handed over, and its failures turned into this binary's.

use ferry_bench::{BenchArgs, LoadArgs};

use crate::Failure;
use crate::cli::StoreArgs;

pub fn bench(store: &StoreArgs, args: BenchArgs) -> Result<(), Failure> {
    ferry_bench::bench::run(
        &store.database_url,
        store.db_pool_size,
        store.content_store.as_deref(),
        args,
    )
    .map_err(Failure::from)
}

/// The load tool starts `ferry serve` of this very binary.
pub fn load(store: &StoreArgs, args: LoadArgs) -> Result<(), Failure> {
    let ferry = std::env::current_exe()
        .map_err(|e| Failure::Setup(format!("cannot start ferry serve: {e}")))?;
    ferry_bench::load::run(&store.database_url, &ferry, args).map_err(Failure::from)
}

impl From<ferry_bench::Failure> for Failure {
    fn from(failure: ferry_bench::Failure) -> Self {
        match failure {
            ferry_bench::Failure::Setup(message) => Failure::Setup(message),
            ferry_bench::Failure::Work(message) => Failure::Work(message),
        }
    }
}
