//! The `/system` methods the `dx` CLI calls around what Ferry implements: `greet` (at
//! `dx login`), and `findApps`, `findGlobalWorkflows` and `findExecutions` (`dx describe PATH`
//! looks a path up as an app, a global workflow and a job too, and exits 3 if a call fails).
//! Ferry runs no apps and no jobs, so every search finds nothing, whatever its filters
//! (docs/dx.md).

use serde_json::{Value, json};

/// `/system/greet`: no messages for the client.
#[utoipa::path(post, path = "/system/greet", tag = "dx", responses((status = 200, description = "{messages: []}")))]
pub(crate) fn greet() -> Value {
    json!({ "messages": [] })
}

/// `/system/findApps`: none; Ferry runs no apps.
#[utoipa::path(post, path = "/system/findApps", tag = "dx", responses((status = 200, description = "{results: [], next: null}")))]
pub(crate) fn find_apps() -> Value {
    nothing_found()
}

/// `/system/findGlobalWorkflows`: none; Ferry runs no workflows.
#[utoipa::path(post, path = "/system/findGlobalWorkflows", tag = "dx", responses((status = 200, description = "{results: [], next: null}")))]
pub(crate) fn find_global_workflows() -> Value {
    nothing_found()
}

/// `/system/findExecutions`: none; Ferry runs no jobs or analyses.
#[utoipa::path(post, path = "/system/findExecutions", tag = "dx", responses((status = 200, description = "{results: [], next: null}")))]
pub(crate) fn find_executions() -> Value {
    nothing_found()
}

/// A search's last (and only) page, empty.
fn nothing_found() -> Value {
    json!({ "results": [], "next": null })
}
