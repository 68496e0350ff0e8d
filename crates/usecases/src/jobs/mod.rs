//! Async copy jobs, worked in the background: the workers that claim and work chunks
//! ([`worker`]), and the copy rules applied to one chunk ([`copy_chunk`]). A refused item
//! records a [`ferry_domain::copy::CopyRefusal`]; the SBG dialect renders it when it shows the
//! job. Submitting a job and showing it are the dialect's (`api::sbg::async_jobs`): they parse
//! and render, and the store (`ferry_store::jobs`) keeps the job.

pub mod copy_chunk;
pub mod worker;
