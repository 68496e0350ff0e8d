//! The SBG dialect's operations in the OpenAPI document; `crate::openapi` adds what they share.

use utoipa::OpenApi;

#[derive(OpenApi)]
#[openapi(
    components(schemas(super::error::SbgErrorBody)),
    paths(
        super::users::me,
        super::users::by_name,
        super::billing::list,
        super::billing::get,
        super::projects::list,
        super::projects::create,
        super::projects::list_owned,
        super::projects::get,
        super::projects::update,
        super::projects::delete,
        super::members::list,
        super::members::add,
        super::members::get,
        super::members::update,
        super::members::update_permissions,
        super::members::remove,
        super::files::list,
        super::files::create_folder,
        super::files::get,
        super::files::update,
        super::files::delete,
        super::files::list_children,
        super::files::get_metadata,
        super::files::replace_metadata,
        super::files::merge_metadata,
        super::files::replace_tags,
        super::files::download_info,
        super::files::download,
        super::bulk::get,
        super::bulk::update,
        super::bulk::edit,
        super::bulk::delete,
        super::copy::copy_one,
        super::copy::copy_batch,
        super::async_jobs::list,
        super::async_jobs::submit,
        super::async_jobs::get,
        super::async_jobs::cancel,
        super::async_jobs::items,
        super::rate_limit::rate_limit,
    )
)]
pub(crate) struct SbgDoc;
