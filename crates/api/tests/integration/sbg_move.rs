//! `POST /v2/files/{id}/actions/move`: the same file in another folder of its project, its name
//! made unique by the `N_name` rule; every refusal writes nothing.

use serde_json::json;

use crate::support::{Ctx, Reply, assert_sbg_error};
use ferry_testkit::{MemberBuilder, backends};

fn names(reply: &Reply) -> Vec<String> {
    reply.json["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|item| item["name"].as_str().unwrap().to_owned())
        .collect()
}

backends!(#[actix_web::test] async a_file_moves_to_a_folder_and_a_taken_name_becomes_n_name);
async fn a_file_moves_to_a_folder_and_a_taken_name_becomes_n_name(ctx: Ctx) {
    let (alice, token) = ctx.user("alice");
    let project = ferry_testkit::project(ctx.db.store(), &alice, "Moves");
    let file = ctx.seed_file(&alice, &project, "/", "reads.bam", b"reads");
    let other = ctx.seed_file(&alice, &project, "/", "other.bam", b"other");
    ctx.seed_file(&alice, &project, "/runs", "reads.bam", b"old");
    let runs = ctx.folder_id(&project, "/runs");
    let move_path = |id: &str| format!("/v2/files/{id}/actions/move");

    let moved = ctx
        .post(&move_path(&file), &token, json!({"parent": runs}))
        .await;
    assert_eq!(moved.status, 200, "{}", moved.json);
    assert_eq!(
        (
            &moved.json["id"],
            &moved.json["parent"],
            &moved.json["name"]
        ),
        (&json!(file), &json!(runs), &json!("1_reads.bam"))
    );
    assert_eq!(
        ctx.get(&format!("/v2/files/{file}"), &token).await.json,
        moved.json
    );
    let listed = ctx.get(&format!("/v2/files/{runs}/list"), &token).await;
    assert_eq!(names(&listed), ["1_reads.bam", "reads.bam"]);
    let root = ctx
        .get(&format!("/v2/files?project={}", project.sbg_id), &token)
        .await;
    assert_eq!(names(&root), ["runs", "other.bam"]);

    // A name given, and free.
    let body = json!({"parent": runs, "name": "renamed.bam"});
    let renamed = ctx.post(&move_path(&other), &token, body).await;
    assert_eq!(renamed.json["name"], "renamed.bam", "{}", renamed.json);
    // Where it is, as it is: nothing changes.
    let body = json!({"parent": runs, "name": "renamed.bam"});
    let again = ctx.post(&move_path(&other), &token, body).await;
    assert_eq!(again.json, renamed.json);
    // The bytes went with it.
    let info = ctx.get(&format!("/v2/files/{file}"), &token).await;
    assert_eq!(info.json["size"], 5);
}

backends!(#[actix_web::test] async a_refused_move_writes_nothing);
async fn a_refused_move_writes_nothing(ctx: Ctx) {
    let (alice, token) = ctx.user("alice");
    let (bob, bob_token) = ctx.user("bob");
    let project = ferry_testkit::project(ctx.db.store(), &alice, "Moves");
    let elsewhere = ferry_testkit::project(ctx.db.store(), &alice, "Elsewhere");
    MemberBuilder::new(&project, &bob).create(ctx.db.store());
    let file = ctx.seed_file(&alice, &project, "/", "reads.bam", b"reads");
    let sibling = ctx.seed_file(&alice, &project, "/", "sibling.bam", b"s");
    let runs = ctx.folder_id(&project, "/runs");
    let other_folder = ctx.folder_id(&elsewhere, "/in");
    let path = format!("/v2/files/{file}/actions/move");
    let before = ctx.get(&format!("/v2/files/{file}"), &token).await.json;

    assert_sbg_error(&ctx.post(&path, &token, json!({})).await, 400, 90000);
    let unknown = json!({"parent": "0123456789abcdef01234567"});
    assert_sbg_error(&ctx.post(&path, &token, unknown).await, 404, 5026);
    let malformed = json!({"parent": "not-an-id"});
    assert_sbg_error(&ctx.post(&path, &token, malformed).await, 404, 5026);
    let into_a_file = json!({"parent": sibling});
    assert_sbg_error(&ctx.post(&path, &token, into_a_file).await, 400, 5022);
    let across = json!({"parent": other_folder});
    assert_sbg_error(&ctx.post(&path, &token, across).await, 400, 90000);
    for name in ["", " ", "a/b"] {
        let body = json!({"parent": runs, "name": name});
        assert_sbg_error(&ctx.post(&path, &token, body).await, 400, 5024);
    }
    let folder_move = format!("/v2/files/{runs}/actions/move");
    let body = json!({"parent": runs});
    assert_sbg_error(&ctx.post(&folder_move, &token, body).await, 400, 5018);
    let unknown_file = "/v2/files/0123456789abcdef01234567/actions/move";
    let body = json!({"parent": runs});
    assert_sbg_error(&ctx.post(unknown_file, &token, body).await, 404, 5002);
    // Bob may read the project, not change it.
    let body = json!({"parent": runs});
    assert_sbg_error(&ctx.post(&path, &bob_token, body).await, 403, 5001);

    assert_eq!(
        ctx.get(&format!("/v2/files/{file}"), &token).await.json,
        before
    );
    let listed = ctx.get(&format!("/v2/files/{runs}/list"), &token).await;
    assert!(names(&listed).is_empty(), "{}", listed.json);
}
