//! In-process tests of the HTTP layer: the real application over a real store, on every backend
//! `TestDb::all()` yields. One test binary, one module per area.

mod support;
mod sbg_projects;
mod sbg_files;
mod sbg_copy;
