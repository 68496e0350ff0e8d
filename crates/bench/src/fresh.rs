//! The fresh database both tools work on, so that they never touch real data.

use ferry_store::Backend;
use ferry_store::scratch::ScratchSchema;
use tempfile::TempDir;

use crate::Failure;

/// A database no one else uses, removed when dropped.
pub(crate) struct FreshDatabase {
    pub(crate) url: String,
    /// Holds the SQLite file (if any) and the content store.
    pub(crate) dir: TempDir,
    /// On PostgreSQL: the schema, dropped with this value.
    _pg_schema: Option<ScratchSchema>,
}

impl FreshDatabase {
    pub(crate) fn backend_name(&self) -> &'static str {
        if self._pg_schema.is_some() {
            "postgres"
        } else {
            "sqlite"
        }
    }

    /// A SQLite file in a new temporary directory, or a new schema on the PostgreSQL server
    /// the URL names (every connection of the store works in it through `search_path`).
    pub(crate) fn create(url: &str) -> Result<FreshDatabase, Failure> {
        let setup = |what: &str, e: &dyn std::fmt::Display| Failure::Setup(format!("{what}: {e}"));
        let dir =
            tempfile::tempdir().map_err(|e| setup("cannot create a temporary directory", &e))?;
        match Backend::from_url(url).map_err(|e| setup("bad database URL", &e))? {
            Backend::Sqlite => Ok(FreshDatabase {
                url: format!("sqlite://{}", dir.path().join("bench.db").display()),
                dir,
                _pg_schema: None,
            }),
            Backend::Postgres => {
                let schema = ScratchSchema::create(url, "bench")
                    .map_err(|e| setup("cannot create the bench schema", &e))?;
                Ok(FreshDatabase {
                    url: schema.url().to_owned(),
                    dir,
                    _pg_schema: Some(schema),
                })
            }
        }
    }
}
