//! The SBG dialect's response shapes.

use super::{World, assert_reply};
use actix_web::http::Method;
use ferry_domain::permission::Level;
use ferry_testkit::{JobBuilder, MemberBuilder, ProjectBuilder, backends};
use serde_json::json;

impl World {
    async fn get(&self, name: &str, path: &str) {
        assert_reply(name, &self.ctx.get(path, &self.token).await);
    }

    async fn post(&self, name: &str, path: &str, body: serde_json::Value) {
        assert_reply(name, &self.ctx.post(path, &self.token, body).await);
    }
}

backends!(#[actix_web::test] async sbg_users_billing_and_rate_limit);
async fn sbg_users_billing_and_rate_limit(w: World) {
    w.get("sbg_user", "/v2/user").await;
    w.get("sbg_users_by_name", "/v2/users/alice").await;
    w.get("sbg_billing_groups", "/v2/billing/groups").await;
    let group = w.ctx.get("/v2/billing/groups", &w.token).await.json["items"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    w.get("sbg_billing_group", &format!("/v2/billing/groups/{group}"))
        .await;
    w.get("sbg_rate_limit", "/v2/rate_limit").await;
}

backends!(#[actix_web::test] async sbg_projects);
async fn sbg_projects(w: World) {
    let group = w.ctx.get("/v2/billing/groups", &w.token).await.json["items"][0]["id"].clone();
    w.post(
        "sbg_project_created",
        "/v2/projects",
        json!({"name": "New one", "billing_group": group, "description": "d"}),
    )
    .await;
    w.get("sbg_projects_listed", "/v2/projects").await;
    w.get("sbg_projects_of_owner", "/v2/projects/alice").await;
    w.get("sbg_project", "/v2/projects/alice/snap").await;
    let patch = w
        .ctx
        .patch(
            "/v2/projects/alice/snap",
            &w.token,
            json!({"description": "new"}),
        )
        .await;
    assert_reply("sbg_project_updated", &patch);
}

backends!(#[actix_web::test] async sbg_members);
async fn sbg_members(w: World) {
    let (bob, _) = w.ctx.user("bob");
    w.ctx.user("carol");
    MemberBuilder::new(&w.project, &bob)
        .level(Level::Contribute)
        .can_copy()
        .create(w.ctx.db.store());
    let members = "/v2/projects/alice/snap/members";
    w.get("sbg_members_listed", members).await;
    w.post(
        "sbg_member_added",
        members,
        json!({"username": "carol", "permissions": {"read": true, "write": false}}),
    )
    .await;
    w.get("sbg_member", &format!("{members}/bob")).await;
    w.get(
        "sbg_member_permissions",
        &format!("{members}/bob/permissions"),
    )
    .await;
    let patched = w
        .ctx
        .patch(
            &format!("{members}/bob/permissions"),
            &w.token,
            json!({"write": false}),
        )
        .await;
    assert_reply("sbg_member_permissions_updated", &patched);
}

backends!(#[actix_web::test] async sbg_files_and_folders);
async fn sbg_files_and_folders(w: World) {
    let (file, folder) = (&w.sbg_file, &w.sbg_folder);
    w.get("sbg_files_listed", "/v2/files?project=alice/snap")
        .await;
    w.get("sbg_folder_listed", &format!("/v2/files/{folder}/list"))
        .await;
    w.get("sbg_file", &format!("/v2/files/{file}")).await;
    w.get("sbg_folder", &format!("/v2/files/{folder}")).await;
    w.post(
        "sbg_folder_created",
        "/v2/files",
        json!({"name": "results", "type": "folder", "parent": folder}),
    )
    .await;
    let path = format!("/v2/files/{file}");
    let patched = w
        .ctx
        .patch(
            &path,
            &w.token,
            json!({"tags": ["t"], "metadata": {"k": "v"}}),
        )
        .await;
    assert_reply("sbg_file_updated", &patched);
    w.get("sbg_file_metadata", &format!("{path}/metadata"))
        .await;
    let tags = w
        .ctx
        .put(&format!("{path}/tags"), &w.token, json!(["a", "b"]))
        .await;
    assert_reply("sbg_file_tags_replaced", &tags);
    w.get("sbg_file_download_info", &format!("{path}/download_info"))
        .await;
    w.post(
        "sbg_bulk_get",
        "/v2/bulk/files/get",
        json!({"file_ids": [file, "000000000000000000000000"]}),
    )
    .await;
    let deleted = w.ctx.delete(&path, &w.token).await;
    assert_reply("sbg_file_deleted", &deleted);
}

backends!(#[actix_web::test] async sbg_copies);
async fn sbg_copies(w: World) {
    let target = ProjectBuilder::new(&w.alice, "Target").create(w.ctx.db.store());
    w.post(
        "sbg_file_copied",
        &format!("/v2/files/{}/actions/copy", w.sbg_file),
        json!({"project": target.sbg_id.as_str(), "name": "copy.bam"}),
    )
    .await;
    w.post(
        "sbg_batch_copied",
        "/v2/action/files/copy",
        json!({"file_ids": [w.sbg_file, "000000000000000000000000"], "project": target.sbg_id.as_str()}),
    )
    .await;
}

backends!(#[actix_web::test] async sbg_async_jobs);
async fn sbg_async_jobs(w: World) {
    let target = ProjectBuilder::new(&w.alice, "Target").create(w.ctx.db.store());
    w.post(
        "sbg_async_copy_submitted",
        "/v2/async/files/copy",
        json!({"items": [{"file": w.sbg_file, "project": target.sbg_id.as_str()}]}),
    )
    .await;
    let source = ferry_domain::ids::SbgId::parse(&w.sbg_file).unwrap();
    let job = JobBuilder::new(&w.alice)
        .copy_to_project(&source, &target)
        .create(w.ctx.db.store());
    let path = format!("/v2/async/files/copy/{}", job.public_id);
    w.get("sbg_async_copy_pending", &path).await;
    ferry_usecases::jobs::worker::run_until_idle(w.ctx.db.store(), "snapshots").unwrap();
    w.get("sbg_async_copy_finished", &path).await;
    w.get("sbg_async_copy_items", &format!("{path}/items"))
        .await;
    w.get("sbg_async_jobs_listed", "/v2/async/files?limit=1")
        .await;
    w.post(
        "sbg_async_copy_cancelled",
        &format!("{path}/cancel"),
        json!({}),
    )
    .await;
}

backends!(#[actix_web::test] async sbg_uploads);
async fn sbg_uploads(w: World) {
    let started = w
        .ctx
        .post(
            "/v2/upload/multipart",
            &w.token,
            json!({"project": "alice/snap", "name": "up.bam", "size": 10, "part_size": 5 * 1024 * 1024}),
        )
        .await;
    assert_reply("sbg_upload_started", &started);
    let id = started.json["upload_id"].as_str().unwrap();
    let path = format!("/v2/upload/multipart/{id}");
    w.get("sbg_upload", &path).await;
    w.get("sbg_upload_part_url", &format!("{path}/part/1"))
        .await;
    w.post(
        "sbg_upload_incomplete",
        &format!("{path}/complete"),
        json!({}),
    )
    .await;
    assert_reply("sbg_upload_aborted", &w.ctx.delete(&path, &w.token).await);
}

backends!(#[actix_web::test] async sbg_errors);
async fn sbg_errors(w: World) {
    let anonymous = w.ctx.send(Method::GET, "/v2/user", None, None).await;
    assert_reply("sbg_error_unauthenticated", &anonymous);
    w.get("sbg_error_unknown_route", "/v2/nowhere").await;
    w.get(
        "sbg_error_file_not_found",
        "/v2/files/000000000000000000000000",
    )
    .await;
    w.get("sbg_error_malformed_id", "/v2/files/not-an-id").await;
    w.get("sbg_error_project_not_found", "/v2/projects/alice/none")
        .await;
    let method = w.ctx.delete("/v2/async/files/copy", &w.token).await;
    assert_reply("sbg_error_method_not_allowed", &method);
    w.post(
        "sbg_error_invalid_folder_name",
        "/v2/files",
        json!({"name": "a/b", "type": "folder", "parent": w.sbg_folder}),
    )
    .await;
    let body = w
        .ctx
        .send_bytes(Method::POST, "/v2/files", &w.token, b"{not json".to_vec())
        .await;
    assert_reply("sbg_error_malformed_body", &body);
}
