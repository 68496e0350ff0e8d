//! In-process tests of the HTTP layer: the real application over a real store, each on every
//! backend (`ferry_testkit::backends!`). One test binary, one module per area.

mod access;
mod audit;
mod cors;
mod dx_clone;
mod dx_objects;
mod dx_search;
mod dx_upload_s3;
mod hostile;
mod idempotency;
mod openapi;
mod rate_limits;
mod sbg_async;
mod sbg_collisions;
mod sbg_copy;
mod sbg_files;
mod sbg_move;
mod sbg_projects;
mod sbg_upload;
mod sbg_upload_s3;
mod snapshots;
mod support;
mod text_limits;
mod wrong_ids;
