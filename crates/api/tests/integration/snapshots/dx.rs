//! The DNAnexus dialect's response shapes.

use super::{World, assert_reply};
use crate::support::Reply;
use actix_web::http::Method;
use ferry_testkit::{ProjectBuilder, backends};
use serde_json::{Value, json};

impl World {
    async fn call(&self, path: &str, body: Value) -> Reply {
        self.ctx.post(path, &self.token, body).await
    }

    /// Snapshots the answer to `method` on `target`.
    async fn snap(&self, name: &str, target: &str, method: &str, body: Value) -> Reply {
        let reply = self.call(&format!("/{target}/{method}"), body).await;
        assert_reply(name, &reply);
        reply
    }
}

backends!(#[actix_web::test] async dx_system_routes);
async fn dx_system_routes(w: World) {
    w.snap("dx_whoami", "system", "whoami", json!({})).await;
    w.snap(
        "dx_find_projects",
        "system",
        "findProjects",
        json!({"describe": true}),
    )
    .await;
    w.snap(
        "dx_find_data_objects",
        "system",
        "findDataObjects",
        json!({"scope": {"project": w.project.dx_id.to_string()}, "describe": true}),
    )
    .await;
    w.snap(
        "dx_describe_data_objects",
        "system",
        "describeDataObjects",
        json!({"objects": [w.dx_file]}),
    )
    .await;
}

backends!(#[actix_web::test] async dx_projects_and_folders);
async fn dx_projects_and_folders(w: World) {
    let project = w.project.dx_id.to_string();
    let created = w
        .snap("dx_project_new", "project", "new", json!({"name": "Other"}))
        .await;
    w.snap("dx_project_describe", &project, "describe", json!({}))
        .await;
    w.snap(
        "dx_project_update",
        &project,
        "update",
        json!({"description": "d"}),
    )
    .await;
    w.snap(
        "dx_new_folder",
        &project,
        "newFolder",
        json!({"folder": "/results/run1", "parents": true}),
    )
    .await;
    w.snap(
        "dx_list_folder",
        &project,
        "listFolder",
        json!({"folder": "/data", "describe": true}),
    )
    .await;
    w.snap(
        "dx_move",
        &project,
        "move",
        json!({"objects": [w.dx_file], "destination": "/results"}),
    )
    .await;
    w.snap(
        "dx_rename_folder",
        &project,
        "renameFolder",
        json!({"folder": "/results/run1", "name": "run2"}),
    )
    .await;
    w.snap(
        "dx_remove_folder",
        &project,
        "removeFolder",
        json!({"folder": "/results/run2"}),
    )
    .await;
    w.snap(
        "dx_remove_objects",
        &project,
        "removeObjects",
        json!({"objects": [w.dx_file]}),
    )
    .await;
    let other = created.json["id"].as_str().unwrap().to_owned();
    w.snap("dx_project_destroy", &other, "destroy", json!({}))
        .await;
}

backends!(#[actix_web::test] async dx_files);
async fn dx_files(w: World) {
    let project = w.project.dx_id.to_string();
    w.snap("dx_file_describe", &w.dx_file, "describe", json!({}))
        .await;
    w.snap(
        "dx_file_add_tags",
        &w.dx_file,
        "addTags",
        json!({"project": project, "tags": ["t"]}),
    )
    .await;
    w.snap(
        "dx_file_rename",
        &w.dx_file,
        "rename",
        json!({"project": project, "name": "renamed.bam"}),
    )
    .await;
    w.snap("dx_file_get_details", &w.dx_file, "getDetails", json!({}))
        .await;
    w.snap(
        "dx_file_list_projects",
        &w.dx_file,
        "listProjects",
        json!({}),
    )
    .await;
    w.snap(
        "dx_file_download",
        &w.dx_file,
        "download",
        json!({"project": project}),
    )
    .await;
    let created = w
        .snap(
            "dx_file_new",
            "file",
            "new",
            json!({"project": project, "name": "up.txt", "nonce": "n"}),
        )
        .await;
    let open = created.json["id"].as_str().unwrap().to_owned();
    w.snap(
        "dx_file_upload",
        &open,
        "upload",
        json!({"index": 1, "size": 0, "md5": "d41d8cd98f00b204e9800998ecf8427e"}),
    )
    .await;
    w.snap("dx_file_describe_open", &open, "describe", json!({}))
        .await;
    w.snap("dx_file_close", &open, "close", json!({})).await;
}

backends!(#[actix_web::test] async dx_clone);
async fn dx_clone(w: World) {
    let target = ProjectBuilder::new(&w.alice, "Target").create(w.ctx.db.store());
    w.snap(
        "dx_clone",
        w.project.dx_id.as_ref(),
        "clone",
        json!({"objects": [w.dx_file], "folders": [], "project": target.dx_id.to_string(), "destination": "/"}),
    )
    .await;
}

backends!(#[actix_web::test] async dx_errors);
async fn dx_errors(w: World) {
    let anonymous = w
        .ctx
        .send(Method::POST, "/system/whoami", None, Some(json!({})))
        .await;
    assert_reply("dx_error_unauthenticated", &anonymous);
    w.snap("dx_error_unknown_method", "system", "nothing", json!({}))
        .await;
    w.snap(
        "dx_error_unknown_entity",
        &format!("project-{}", "B".repeat(24)),
        "describe",
        json!({}),
    )
    .await;
    w.snap(
        "dx_error_invalid_input",
        w.project.dx_id.as_ref(),
        "newFolder",
        json!({"folder": 7}),
    )
    .await;
    let malformed = w
        .ctx
        .send_bytes(Method::POST, "/system/whoami", &w.token, b"{".to_vec())
        .await;
    assert_reply("dx_error_malformed_json", &malformed);
}
