//! Not written yet.

use actix_web::web;

pub(crate) fn routes(_cfg: &mut web::ServiceConfig) {}
