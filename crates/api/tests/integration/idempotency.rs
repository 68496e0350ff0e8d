//! `Idempotency-Key` on mutating requests of both dialects.

use crate::support::{Ctx, Reply, assert_dx_error, assert_sbg_error};
use actix_web::http::{Method, StatusCode, header};
use actix_web::test;
use diesel::prelude::*;
use ferry_domain::model::Project;
use ferry_store::schema::{idempotency_keys, placements};
use ferry_testkit::backends;
use serde_json::{Value, json};

/// How a request authenticates: an SBG token or a DNAnexus bearer token.
#[derive(Clone, Copy)]
enum Auth<'a> {
    Sbg(&'a str),
    Bearer(&'a str),
}

/// One request with an optional `Idempotency-Key`; the body is sent as these exact bytes.
async fn send(
    ctx: &Ctx,
    method: Method,
    path: &str,
    auth: Auth<'_>,
    key: Option<&[u8]>,
    body: &Value,
) -> Reply {
    let app = test::init_service(ferry_api::app(ctx.state.clone())).await;
    let mut request = test::TestRequest::default()
        .method(method)
        .uri(path)
        .insert_header((header::CONTENT_TYPE, "application/json"))
        .set_payload(body.to_string());
    request = match auth {
        Auth::Sbg(token) => request.insert_header(("X-SBG-Auth-Token", token)),
        Auth::Bearer(token) => {
            request.insert_header((header::AUTHORIZATION, format!("Bearer {token}")))
        }
    };
    if let Some(key) = key {
        request = request.insert_header((
            "Idempotency-Key",
            header::HeaderValue::from_bytes(key).unwrap(),
        ));
    }
    let response = test::call_service(&app, request.to_request()).await;
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = test::read_body(response).await;
    let json = serde_json::from_slice(&bytes)
        .unwrap_or_else(|e| panic!("non-JSON body ({e}): {}", String::from_utf8_lossy(&bytes)));
    Reply {
        status,
        headers,
        json,
    }
}

fn replayed(reply: &Reply) -> bool {
    reply
        .headers
        .get("idempotent-replayed")
        .is_some_and(|value| value == "true")
}

fn count_placements(ctx: &Ctx) -> i64 {
    let mut conn = ctx.db.store().conn().unwrap();
    placements::table.count().get_result(&mut conn).unwrap()
}

fn count_keys(ctx: &Ctx) -> i64 {
    let mut conn = ctx.db.store().conn().unwrap();
    idempotency_keys::table
        .count()
        .get_result(&mut conn)
        .unwrap()
}

/// Alice's token, an empty target project of hers, and the SBG ids of `files` files (`f0.bam`,
/// `f1.bam`, …) in a source project of hers.
fn copy_setup(ctx: &Ctx, files: usize) -> (String, Project, Vec<String>) {
    let (alice, token) = ctx.user("alice");
    let source = ferry_testkit::project(ctx.db.store(), &alice, "Source");
    let target = ferry_testkit::project(ctx.db.store(), &alice, "Target");
    let files = (0..files)
        .map(|i| ctx.seed_file(&alice, &source, "/", &format!("f{i}.bam"), b"x"))
        .collect();
    (token, target, files)
}

backends!(#[actix_web::test] async an_sbg_replay_returns_the_first_response_and_copies_nothing_more);
async fn an_sbg_replay_returns_the_first_response_and_copies_nothing_more(ctx: Ctx) {
    let (token, target, files) = copy_setup(&ctx, 3);
    let batch = json!({"project": target.sbg_id.as_str(), "file_ids": files});
    let single = json!({"project": target.sbg_id.as_str()});
    let single_path = format!("/v2/files/{}/actions/copy", files[0]);
    let before = count_placements(&ctx);

    let first = send(
        &ctx,
        Method::POST,
        "/v2/action/files/copy",
        Auth::Sbg(&token),
        Some(b"batch-1"),
        &batch,
    )
    .await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.json);
    assert!(!replayed(&first));
    let one = send(
        &ctx,
        Method::POST,
        &single_path,
        Auth::Sbg(&token),
        Some(b"single-1"),
        &single,
    )
    .await;
    assert_eq!(one.status, StatusCode::OK, "{}", one.json);
    assert_eq!(one.json["name"], "1_f0.bam");
    assert_eq!(count_placements(&ctx), before + 4, "{:?}", ctx.db.backend());

    for _ in 0..2 {
        let again = send(
            &ctx,
            Method::POST,
            "/v2/action/files/copy",
            Auth::Sbg(&token),
            Some(b"batch-1"),
            &batch,
        )
        .await;
        assert_eq!(again.status, StatusCode::OK);
        assert!(replayed(&again), "{:?}", again.headers);
        assert_eq!(again.json, first.json);
        assert_eq!(
            again.headers.get(header::CONTENT_TYPE).unwrap(),
            "application/json"
        );
        let one_again = send(
            &ctx,
            Method::POST,
            &single_path,
            Auth::Sbg(&token),
            Some(b"single-1"),
            &single,
        )
        .await;
        assert!(replayed(&one_again));
        assert_eq!(one_again.json, one.json);
    }
    assert_eq!(count_placements(&ctx), before + 4, "{:?}", ctx.db.backend());

    // Without a key, the same request copies again.
    let unkeyed = send(
        &ctx,
        Method::POST,
        &single_path,
        Auth::Sbg(&token),
        None,
        &single,
    )
    .await;
    assert_eq!(unkeyed.json["name"], "2_f0.bam");
    assert!(!replayed(&unkeyed));
}

backends!(#[actix_web::test] async a_4xx_is_replayed_too_and_a_safe_method_ignores_the_key);
async fn a_4xx_is_replayed_too_and_a_safe_method_ignores_the_key(ctx: Ctx) {
    let (alice, token) = ctx.user("alice");
    let target = ferry_testkit::project(ctx.db.store(), &alice, "Target");
    let body = json!({"project": target.sbg_id.as_str()});
    let path = "/v2/files/0123456789abcdef01234567/actions/copy";
    let first = send(
        &ctx,
        Method::POST,
        path,
        Auth::Sbg(&token),
        Some(b"k"),
        &body,
    )
    .await;
    assert_sbg_error(&first, 404, 5002);
    let again = send(
        &ctx,
        Method::POST,
        path,
        Auth::Sbg(&token),
        Some(b"k"),
        &body,
    )
    .await;
    assert_sbg_error(&again, 404, 5002);
    assert!(replayed(&again));

    let get = send(
        &ctx,
        Method::GET,
        "/v2/user",
        Auth::Sbg(&token),
        Some(&[b'k'; 300]),
        &Value::Null,
    )
    .await;
    assert_eq!(get.status, StatusCode::OK, "{}", get.json);
    assert!(!replayed(&get));
    assert_eq!(count_keys(&ctx), 1);
}

backends!(#[actix_web::test] async the_same_key_on_another_request_is_a_422_in_each_dialect);
async fn the_same_key_on_another_request_is_a_422_in_each_dialect(ctx: Ctx) {
    let (token, target, files) = copy_setup(&ctx, 1);
    let file = &files[0];
    let path = format!("/v2/files/{file}/actions/copy");
    let first = send(
        &ctx,
        Method::POST,
        &path,
        Auth::Sbg(&token),
        Some(b"k1"),
        &json!({"project": target.sbg_id.as_str()}),
    )
    .await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.json);
    let before = count_placements(&ctx);

    let renamed = json!({"project": target.sbg_id.as_str(), "name": "b.bam"});
    let other = send(
        &ctx,
        Method::POST,
        &path,
        Auth::Sbg(&token),
        Some(b"k1"),
        &renamed,
    )
    .await;
    assert_sbg_error(&other, 422, 90012);
    assert!(!replayed(&other));
    // Another path with the same body is another request too.
    let other_path = send(
        &ctx,
        Method::POST,
        "/v2/action/files/copy",
        Auth::Sbg(&token),
        Some(b"k1"),
        &renamed,
    )
    .await;
    assert_sbg_error(&other_path, 422, 90012);
    assert_eq!(count_placements(&ctx), before);

    let dx_project = send(
        &ctx,
        Method::POST,
        "/project/new",
        Auth::Bearer(&token),
        Some(b"p1"),
        &json!({"name": "dx"}),
    )
    .await;
    assert_eq!(dx_project.status, StatusCode::OK, "{}", dx_project.json);
    let again = send(
        &ctx,
        Method::POST,
        "/project/new",
        Auth::Bearer(&token),
        Some(b"p1"),
        &json!({"name": "dx"}),
    )
    .await;
    assert!(replayed(&again));
    assert_eq!(again.json, dx_project.json);
    let project = dx_project.json["id"].as_str().unwrap().to_owned();
    let record = json!({"project": project, "name": "r"});
    let created = send(
        &ctx,
        Method::POST,
        "/record/new",
        Auth::Bearer(&token),
        Some(b"p1"),
        &record,
    )
    .await;
    assert_dx_error(&created, 422, "InvalidInput");
    let listed = send(
        &ctx,
        Method::POST,
        &format!("/{project}/listFolder"),
        Auth::Bearer(&token),
        None,
        &json!({}),
    )
    .await;
    assert_eq!(listed.json["objects"], json!([]), "{}", listed.json);
    let projects = send(
        &ctx,
        Method::POST,
        "/system/findProjects",
        Auth::Bearer(&token),
        None,
        &json!({"name": "dx"}),
    )
    .await;
    assert_eq!(
        projects.json["results"].as_array().unwrap().len(),
        1,
        "{}",
        projects.json
    );
}

backends!(#[actix_web::test] async two_users_with_one_key_never_meet);
async fn two_users_with_one_key_never_meet(ctx: Ctx) {
    let (alice, alice_token) = ctx.user("alice");
    let (bob, bob_token) = ctx.user("bob");
    for (user, token, name) in [(&alice, &alice_token, "a.bam"), (&bob, &bob_token, "b.bam")] {
        let source = ferry_testkit::project(ctx.db.store(), user, "Source");
        let target = ferry_testkit::project(ctx.db.store(), user, "Target");
        let file = ctx.seed_file(user, &source, "/", name, b"x");
        let reply = send(
            &ctx,
            Method::POST,
            &format!("/v2/files/{file}/actions/copy"),
            Auth::Sbg(token),
            Some(b"shared"),
            &json!({"project": target.sbg_id.as_str()}),
        )
        .await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.json);
        assert!(!replayed(&reply), "{:?}", ctx.db.backend());
        assert_eq!(reply.json["name"], name);
    }
    assert_eq!(count_keys(&ctx), 2);
}

backends!(#[actix_web::test] async an_invalid_key_is_a_400_in_each_dialect_and_writes_nothing);
async fn an_invalid_key_is_a_400_in_each_dialect_and_writes_nothing(ctx: Ctx) {
    let (alice, token) = ctx.user("alice");
    let target = ferry_testkit::project(ctx.db.store(), &alice, "Target");
    let folder = json!({"name": "sub", "project": target.sbg_id.as_str(), "type": "folder"});
    let long = [b'k'; 256];
    for key in [&long[..], b"", "clé".as_bytes(), b"a\tb"] {
        let sbg = send(
            &ctx,
            Method::POST,
            "/v2/files",
            Auth::Sbg(&token),
            Some(key),
            &folder,
        )
        .await;
        assert_sbg_error(&sbg, 400, 90000);
        let dx = send(
            &ctx,
            Method::POST,
            "/project/new",
            Auth::Bearer(&token),
            Some(key),
            &json!({"name": "dx"}),
        )
        .await;
        assert_dx_error(&dx, 400, "InvalidInput");
    }
    let longest = send(
        &ctx,
        Method::POST,
        "/v2/files",
        Auth::Sbg(&token),
        Some(&[b'k'; 255]),
        &folder,
    )
    .await;
    assert_eq!(longest.status, StatusCode::CREATED, "{}", longest.json);
    let listed = send(
        &ctx,
        Method::GET,
        &format!("/v2/files?project={}", target.sbg_id),
        Auth::Sbg(&token),
        None,
        &Value::Null,
    )
    .await;
    assert_eq!(
        listed.json["items"].as_array().unwrap().len(),
        1,
        "{}",
        listed.json
    );
    let projects = send(
        &ctx,
        Method::POST,
        "/system/findProjects",
        Auth::Bearer(&token),
        None,
        &json!({"name": "dx"}),
    )
    .await;
    assert_eq!(projects.json["results"], json!([]), "{}", projects.json);
    assert_eq!(count_keys(&ctx), 1);
}

backends!(#[actix_web::test] async a_request_without_a_valid_token_is_answered_by_its_handler_and_keeps_no_key);
async fn a_request_without_a_valid_token_is_answered_by_its_handler_and_keeps_no_key(ctx: Ctx) {
    let reply = send(
        &ctx,
        Method::POST,
        "/v2/files",
        Auth::Sbg("nope"),
        Some(b"k"),
        &json!({}),
    )
    .await;
    assert_sbg_error(&reply, 401, 90001);
    let dx = send(
        &ctx,
        Method::POST,
        "/project/new",
        Auth::Bearer("nope"),
        Some(b"k"),
        &json!({}),
    )
    .await;
    assert_dx_error(&dx, 401, "InvalidAuthentication");
    assert_eq!(count_keys(&ctx), 0);
}

backends!(#[actix_web::test] async copies_sent_at_once_with_one_key_run_once_and_the_others_wait_for_its_response);
async fn copies_sent_at_once_with_one_key_run_once_and_the_others_wait_for_its_response(ctx: Ctx) {
    let (token, target, files) = copy_setup(&ctx, 50);
    let batch = json!({"project": target.sbg_id.as_str(), "file_ids": files});
    let before = count_placements(&ctx);
    let copy = || {
        send(
            &ctx,
            Method::POST,
            "/v2/action/files/copy",
            Auth::Sbg(&token),
            Some(b"together"),
            &batch,
        )
    };
    let (a, b, c) = tokio::join!(copy(), copy(), copy());
    let replies = [a, b, c];
    for reply in &replies {
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.json);
        assert_eq!(reply.json, replies[0].json);
    }
    assert_eq!(
        replies.iter().filter(|reply| replayed(reply)).count(),
        2,
        "{:?}",
        ctx.db.backend()
    );
    assert_eq!(count_placements(&ctx), before + 50);
}

/// What a process that died after the handler's commit and before recording its answer leaves
/// behind: the key in flight without a response, its lease lapsed. `applied` is what the
/// handler's transaction wrote; `false` is the row as it was before that mark existed.
fn lose_the_answer(ctx: &Ctx, key: &str, applied: bool) {
    let mut conn = ctx.db.store().conn().unwrap();
    let lapsed = (chrono::Utc::now() - chrono::TimeDelta::seconds(61)).naive_utc();
    let row = idempotency_keys::table.filter(idempotency_keys::idempotency_key.eq(key));
    let changed = diesel::update(row)
        .set((
            idempotency_keys::state.eq("in_flight"),
            idempotency_keys::response_status.eq(None::<i32>),
            idempotency_keys::response_content_type.eq(None::<String>),
            idempotency_keys::response_body.eq(None::<Vec<u8>>),
            idempotency_keys::claimed_until.eq(lapsed),
            idempotency_keys::applied.eq(applied),
        ))
        .execute(&mut conn)
        .unwrap();
    assert_eq!(changed, 1);
}

fn is_applied(ctx: &Ctx, key: &str) -> bool {
    let mut conn = ctx.db.store().conn().unwrap();
    idempotency_keys::table
        .filter(idempotency_keys::idempotency_key.eq(key))
        .select(idempotency_keys::applied)
        .first(&mut conn)
        .unwrap()
}

backends!(#[actix_web::test] async a_retry_after_a_crash_between_the_commit_and_the_answer_never_writes_twice);
async fn a_retry_after_a_crash_between_the_commit_and_the_answer_never_writes_twice(ctx: Ctx) {
    let (token, target, files) = copy_setup(&ctx, 1);
    let file = &files[0];
    let path = format!("/v2/files/{file}/actions/copy");
    let body = json!({"project": target.sbg_id.as_str()});
    let copy = |key: &'static [u8]| {
        send(
            &ctx,
            Method::POST,
            &path,
            Auth::Sbg(&token),
            Some(key),
            &body,
        )
    };

    let first = copy(b"sbg").await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.json);
    // The handler's own transaction marked the key.
    assert!(is_applied(&ctx, "sbg"), "{:?}", ctx.db.backend());
    let copies = count_placements(&ctx);
    lose_the_answer(&ctx, "sbg", true);
    for _ in 0..2 {
        let retry = copy(b"sbg").await;
        assert_sbg_error(&retry, 409, 90013);
        assert!(!replayed(&retry));
    }
    assert_eq!(count_placements(&ctx), copies, "{:?}", ctx.db.backend());

    let project = send(
        &ctx,
        Method::POST,
        "/project/new",
        Auth::Bearer(&token),
        None,
        &json!({"name": "dx"}),
    )
    .await;
    let record = json!({"project": project.json["id"], "name": "r"});
    let new_record = || {
        send(
            &ctx,
            Method::POST,
            "/record/new",
            Auth::Bearer(&token),
            Some(b"dx"),
            &record,
        )
    };
    assert_eq!(new_record().await.status, StatusCode::OK);
    assert!(is_applied(&ctx, "dx"));
    let records = count_placements(&ctx);
    lose_the_answer(&ctx, "dx", true);
    assert_dx_error(&new_record().await, 422, "InvalidState");
    assert_eq!(count_placements(&ctx), records);

    // The mark is what holds: the same lost answer without it is taken over and run again.
    let unmarked = copy(b"unmarked").await;
    assert_eq!(unmarked.json["name"], "1_f0.bam", "{}", unmarked.json);
    lose_the_answer(&ctx, "unmarked", false);
    let rerun = copy(b"unmarked").await;
    assert_eq!(rerun.json["name"], "2_f0.bam", "{}", rerun.json);
}
