//! `POST /v2/files/{id}/actions/copy` and `POST /v2/action/files/copy`.

use crate::support::{Ctx, assert_sbg_error};
use ferry_domain::model::Project;
use ferry_store::projects;
use ferry_testkit::backends;
use serde_json::{Value, json};

/// The names of the files at the root of a project, through the listing.
async fn root_names(ctx: &Ctx, token: &str, project: &Project) -> Vec<String> {
    let reply = ctx
        .get(
            &format!("/v2/files?project={}&limit=100", project.sbg_id),
            token,
        )
        .await;
    assert_eq!(reply.status, 200, "{}", reply.json);
    let mut names: Vec<String> = reply.json["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["type"] == "file")
        .map(|f| f["name"].as_str().unwrap().to_owned())
        .collect();
    names.sort();
    names
}

backends!(#[actix_web::test] async a_single_copy_gets_a_new_id_and_keeps_the_name_unless_taken);
async fn a_single_copy_gets_a_new_id_and_keeps_the_name_unless_taken(ctx: Ctx) {
    let (alice, token) = ctx.user("alice");
    let source = ferry_testkit::project(ctx.db.store(), &alice, "Source");
    let target = ferry_testkit::project(ctx.db.store(), &alice, "Target");
    let file = ctx.seed_file(&alice, &source, "/", "sorted.bam", b"sorted.bam");
    let path = format!("/v2/files/{file}/actions/copy");

    let first = ctx
        .post(&path, &token, json!({"project": target.sbg_id.as_str()}))
        .await;
    assert_eq!(first.status, 200, "{}", first.json);
    assert_ne!(first.json["id"], file.as_str());
    assert_eq!(first.json["name"], "sorted.bam");
    assert_eq!(first.json["project"], target.sbg_id.as_str());
    assert_eq!(first.json["type"], "file");
    let href = first.json["href"].as_str().unwrap();
    assert!(href.starts_with("http://ferry.test/v2/files/"), "{href}");

    let second = ctx
        .post(&path, &token, json!({"project": target.sbg_id.as_str()}))
        .await;
    assert_eq!(second.json["name"], "1_sorted.bam");

    let named = ctx
        .post(
            &path,
            &token,
            json!({"project": target.sbg_id.as_str(), "name": "sorted.bam"}),
        )
        .await;
    assert_eq!(
        named.json["name"], "2_sorted.bam",
        "an explicit name follows the rule"
    );
    let renamed = ctx
        .post(
            &path,
            &token,
            json!({"project": target.sbg_id.as_str(), "name": "renamed.bam"}),
        )
        .await;
    assert_eq!(renamed.json["name"], "renamed.bam");

    let folder = ctx.folder_id(&target, "/sub");
    let into_folder = ctx
        .post(&path, &token, json!({"parent": folder, "name": "x.bam"}))
        .await;
    assert_eq!(into_folder.status, 200, "{}", into_folder.json);
    assert_eq!(into_folder.json["parent"], folder.as_str());
    assert_eq!(into_folder.json["name"], "x.bam");

    assert_eq!(
        root_names(&ctx, &token, &target).await,
        ["1_sorted.bam", "2_sorted.bam", "renamed.bam", "sorted.bam"]
    );
}

backends!(#[actix_web::test] async single_copy_errors_are_sbg_errors_and_write_nothing);
async fn single_copy_errors_are_sbg_errors_and_write_nothing(ctx: Ctx) {
    let (alice, token) = ctx.user("alice");
    let (bob, bob_token) = ctx.user("bob");
    let source = ferry_testkit::project(ctx.db.store(), &alice, "Source");
    let target = ferry_testkit::project(ctx.db.store(), &alice, "Target");
    let bobs = ferry_testkit::project(ctx.db.store(), &bob, "Bobs");
    let file = ctx.seed_file(&alice, &source, "/", "a.txt", b"a.txt");
    let folder = ctx.folder_id(&source, "/dir");
    let path = format!("/v2/files/{file}/actions/copy");
    let to_target = json!({"project": target.sbg_id.as_str()});

    let both = json!({"project": target.sbg_id.as_str(), "parent": folder});
    assert_sbg_error(&ctx.post(&path, &token, both).await, 400, 5031);
    assert_sbg_error(&ctx.post(&path, &token, json!({})).await, 400, 5029);
    assert_sbg_error(
        &ctx.post(&path, &token, json!({"project": "nope"})).await,
        400,
        3012,
    );
    let missing = json!({"project": "alice/no-such-project"});
    assert_sbg_error(&ctx.post(&path, &token, missing).await, 404, 3002);
    // Bob's project exists, but Alice is not a member: the same 404.
    let foreign = json!({"project": bobs.sbg_id.as_str()});
    assert_sbg_error(&ctx.post(&path, &token, foreign).await, 404, 3002);
    let unknown_folder = json!({"parent": "0123456789abcdef01234567"});
    assert_sbg_error(&ctx.post(&path, &token, unknown_folder).await, 404, 5026);
    let no_source = "/v2/files/0123456789abcdef01234567/actions/copy";
    assert_sbg_error(
        &ctx.post(no_source, &token, to_target.clone()).await,
        404,
        5002,
    );
    let malformed = "/v2/files/not-an-id/actions/copy";
    assert_sbg_error(
        &ctx.post(malformed, &token, to_target.clone()).await,
        404,
        5002,
    );
    // Bob cannot see Alice's file: not found, never forbidden.
    let bob_copy = json!({"project": bobs.sbg_id.as_str()});
    assert_sbg_error(&ctx.post(&path, &bob_token, bob_copy).await, 404, 5002);
    let folder_copy = format!("/v2/files/{folder}/actions/copy");
    assert_sbg_error(
        &ctx.post(&folder_copy, &token, to_target.clone()).await,
        400,
        5018,
    );
    // A name given must name something: empty and blank ones are refused.
    for name in ["a/b", "", " ", "\t \u{3000}"] {
        let bad_name = json!({"project": target.sbg_id.as_str(), "name": name});
        assert_sbg_error(&ctx.post(&path, &token, bad_name).await, 400, 5024);
    }
    let wrong_type = json!({"project": 7});
    assert_sbg_error(&ctx.post(&path, &token, wrong_type).await, 400, 90009);
    let unauthenticated = ctx
        .send(actix_web::http::Method::POST, &path, None, Some(to_target))
        .await;
    assert_sbg_error(&unauthenticated, 401, 90001);

    assert!(
        root_names(&ctx, &token, &target).await.is_empty(),
        "nothing was written"
    );
}

backends!(#[actix_web::test] async a_batch_copies_each_file_once_renames_collisions_and_reports_failures);
async fn a_batch_copies_each_file_once_renames_collisions_and_reports_failures(ctx: Ctx) {
    let (alice, token) = ctx.user("alice");
    let source = ferry_testkit::project(ctx.db.store(), &alice, "Source");
    let target = ferry_testkit::project(ctx.db.store(), &alice, "Target");
    let a = ctx.seed_file(&alice, &source, "/", "a.txt", b"a.txt");
    let b = ctx.seed_file(&alice, &source, "/deep", "a.txt", b"a.txt");
    let c = ctx.seed_file(&alice, &source, "/", "c.txt", b"c.txt");
    let folder = ctx.folder_id(&source, "/deep");
    let unknown = "0123456789abcdef01234567";
    let body = json!({
        "project": target.sbg_id.as_str(),
        "file_ids": [a, b, c, a, folder, unknown, "garbage"],
    });

    let reply = ctx.post("/v2/action/files/copy", &token, body).await;
    assert_eq!(reply.status, 200, "{}", reply.json);
    let result = reply.json.as_object().unwrap();
    assert_eq!(
        result.len(),
        6,
        "a file listed twice is copied once: {}",
        reply.json
    );
    assert_eq!(result[&a]["status"], "OK");
    assert_eq!(result[&a]["new_file_name"], "a.txt");
    assert_eq!(
        result[&b]["new_file_name"], "1_a.txt",
        "earlier names in the batch count"
    );
    assert_eq!(result[&c]["new_file_name"], "c.txt");
    let new_ids: Vec<&Value> = [&a, &b, &c]
        .iter()
        .map(|id| &result[*id]["new_file_id"])
        .collect();
    assert!(
        new_ids
            .iter()
            .all(|id| id.as_str().is_some_and(|s| s.len() == 24))
    );
    assert_ne!(new_ids[0], new_ids[1]);
    let entry = |id: &str| &result[id];
    assert_eq!(entry(&folder)["status"], 400);
    assert_eq!(entry(&folder)["code"], 5018);
    for id in [unknown, "garbage"] {
        assert_eq!(entry(id)["status"], 404);
        assert_eq!(entry(id)["code"], 5002);
        assert!(entry(id)["message"].is_string());
    }
    assert_eq!(
        root_names(&ctx, &token, &target).await,
        ["1_a.txt", "a.txt", "c.txt"]
    );

    let again = json!({"project": target.sbg_id.as_str(), "file_ids": [a, c]});
    let reply = ctx.post("/v2/action/files/copy", &token, again).await;
    assert_eq!(reply.json[&a]["new_file_name"], "2_a.txt");
    assert_eq!(reply.json[&c]["new_file_name"], "1_c.txt");
}

backends!(#[actix_web::test] async batch_request_errors_are_refused_whole);
async fn batch_request_errors_are_refused_whole(ctx: Ctx) {
    let (alice, token) = ctx.user("alice");
    let (bob, _) = ctx.user("bob");
    let source = ferry_testkit::project(ctx.db.store(), &alice, "Source");
    let bobs = ferry_testkit::project(ctx.db.store(), &bob, "Bobs");
    let file = ctx.seed_file(&alice, &source, "/", "a.txt", b"a.txt");
    let url = "/v2/action/files/copy";
    let project = source.sbg_id.as_str();

    let empty = ctx
        .post(url, &token, json!({"project": project, "file_ids": []}))
        .await;
    assert_sbg_error(&empty, 400, 90000);
    let many: Vec<String> = (0..1001).map(|i| format!("{i:024x}")).collect();
    let too_many = ctx
        .post(url, &token, json!({"project": project, "file_ids": many}))
        .await;
    assert_sbg_error(&too_many, 400, 90000);
    assert!(
        too_many.json["message"]
            .as_str()
            .unwrap()
            .contains("/v2/async/files/copy")
    );
    let no_project = ctx.post(url, &token, json!({"file_ids": [file]})).await;
    assert_sbg_error(&no_project, 400, 3012);
    let foreign = ctx
        .post(
            url,
            &token,
            json!({"project": bobs.sbg_id.as_str(), "file_ids": [file]}),
        )
        .await;
    assert_sbg_error(&foreign, 404, 3002);
    let not_a_list = ctx
        .post(url, &token, json!({"project": project, "file_ids": "x"}))
        .await;
    assert_sbg_error(&not_a_list, 400, 90009);
    let mut conn = ctx.db.store().conn().unwrap();
    let root = projects::root_folder(&mut conn, bobs.id).unwrap();
    assert!(
        ferry_store::names::taken_in_folder(&mut conn, root.id, &["a.txt"])
            .unwrap()
            .is_empty(),
        "a refused batch writes nothing"
    );
}

#[actix_web::test]
async fn an_oversized_body_is_a_413_in_the_sbg_shape() {
    let ctx = Ctx::new(ferry_testkit::TestDb::sqlite());
    let (_, token) = ctx.user("alice");
    let huge = "x".repeat(17 * 1024 * 1024);
    let reply = ctx
        .post(
            "/v2/action/files/copy",
            &token,
            json!({"project": huge, "file_ids": []}),
        )
        .await;
    assert_sbg_error(&reply, 413, 90000);
}

backends!(#[actix_web::test] async copy_needs_copy_permission_on_the_source_and_write_on_the_destination);
async fn copy_needs_copy_permission_on_the_source_and_write_on_the_destination(ctx: Ctx) {
    use ferry_domain::permission::Level;
    use ferry_testkit::MemberBuilder;
    let (alice, _) = ctx.user("alice");
    let (bob, bob_token) = ctx.user("bob");
    let source = ferry_testkit::project(ctx.db.store(), &alice, "Source");
    let readonly = ferry_testkit::project(ctx.db.store(), &alice, "Read only");
    let bobs = ferry_testkit::project(ctx.db.store(), &bob, "Bobs");
    let file = ctx.seed_file(&alice, &source, "/", "a.txt", b"a.txt");
    MemberBuilder::new(&source, &bob)
        .level(Level::Contribute)
        .create(ctx.db.store());
    MemberBuilder::new(&readonly, &bob)
        .can_copy()
        .create(ctx.db.store());
    let path = format!("/v2/files/{file}/actions/copy");
    let into_bobs = json!({"project": bobs.sbg_id.as_str()});
    assert_sbg_error(&ctx.post(&path, &bob_token, into_bobs).await, 403, 5014);
    let batch = json!({"project": bobs.sbg_id.as_str(), "file_ids": [file]});
    let reply = ctx.post("/v2/action/files/copy", &bob_token, batch).await;
    assert_eq!(reply.status, 200);
    assert_eq!(reply.json[&file]["status"], 403);
    assert_eq!(reply.json[&file]["code"], 5014);
    let into_readonly = json!({"project": readonly.sbg_id.as_str()});
    assert_sbg_error(&ctx.post(&path, &bob_token, into_readonly).await, 403, 3001);
    assert!(root_names(&ctx, &bob_token, &bobs).await.is_empty());
}
