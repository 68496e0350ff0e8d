//! The DNAnexus dialect's operations in the OpenAPI document. `POST /{id}/{method}` is one route
//! dispatched by [`super::route`]; each method is described as its own path, on a project
//! (`/project-{project}/…`), a data object (`/file-{file}/…`, the same for every data class),
//! a class (`/project/new`, `/{class}/new`) or `/system`.

use utoipa::OpenApi;

#[derive(OpenApi)]
#[openapi(
    paths(
        super::system::whoami,
        super::users::describe,
        super::toolkit::greet,
        super::toolkit::find_apps,
        super::toolkit::find_global_workflows,
        super::toolkit::find_executions,
        super::system::find_projects,
        super::system::find_data_objects,
        super::system::describe_data_objects,
        super::resolve::resolve_data_objects,
        super::projects::new,
        super::objects::new,
        super::projects::describe,
        super::projects::update,
        super::projects::destroy,
        super::projects::invite,
        super::projects::decrease_permissions,
        super::projects::leave,
        super::project_tags::add_tags,
        super::project_tags::remove_tags,
        super::project_tags::set_properties,
        super::folders::new_folder,
        super::folders::list_folder,
        super::folders::remove_folder,
        super::folders::move_items,
        super::folders::rename_folder,
        super::folders::remove_objects,
        super::clone::clone,
        super::clone::update_sponsorship,
        super::objects::describe,
        super::objects::close,
        super::objects::get_details,
        super::objects::set_details,
        super::objects::set_visibility,
        super::objects::rename,
        super::objects::add_tags,
        super::objects::remove_tags,
        super::objects::set_properties,
        super::objects::add_types,
        super::objects::remove_types,
        super::upload::upload,
        super::upload::download,
        super::clone::list_projects,
        super::upload::put_part,
        super::upload::download_bytes,
    ),
    components(schemas(super::error::DxErrorBody))
)]
pub(crate) struct DxDoc;
