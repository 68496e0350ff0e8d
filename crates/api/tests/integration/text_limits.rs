//! Free text past its limit (`domain::text`, docs/sbg.md, docs/dx.md) in both dialects: names,
//! descriptions and summaries, tags, properties, details and types of a megabyte or a thousand
//! are refused with the dialect's 4xx, and nothing is written; text at its limit is taken.

use actix_web::http::Method;
use serde_json::{Value, json};

use crate::support::{Ctx, assert_dx_error, assert_sbg_error};
use ferry_domain::text::{MAX_DESCRIPTION_BYTES, MAX_TAGS};
use ferry_testkit::backends;

/// Past every limit (the largest, details', is a mebibyte).
fn huge() -> String {
    "x".repeat(1024 * 1024 + 1)
}

backends!(#[actix_web::test] async sbg_refuses_free_text_past_its_limits);
async fn sbg_refuses_free_text_past_its_limits(ctx: Ctx) {
    let (alice, token) = ctx.user("alice");
    let project = ferry_testkit::project(ctx.db.store(), &alice, "Limits");
    let file = ctx.seed_file(&alice, &project, "/", "a.bam", b"a");
    let count = || async {
        ctx.get("/v2/projects", &token)
            .await
            .headers
            .get("X-Total-Matching-Query")
            .unwrap()
            .to_str()
            .unwrap()
            .to_owned()
    };
    let before = count().await;
    let many_tags: Vec<String> = (0..=MAX_TAGS).map(|i| format!("t{i}")).collect();
    for body in [
        json!({"name": huge()}),
        json!({"name": "ok", "description": huge()}),
        json!({"name": "ok", "tags": [huge()]}),
        json!({"name": "ok", "tags": many_tags}),
        json!({"name": "tab\there"}),
    ] {
        assert_sbg_error(&ctx.post("/v2/projects", &token, body).await, 400, 90000);
    }
    let path = format!("/v2/projects/{}", project.sbg_id);
    for body in [
        json!({"name": huge()}),
        json!({"description": huge()}),
        json!({"tags": [huge()]}),
    ] {
        assert_sbg_error(&ctx.patch(&path, &token, body).await, 400, 90000);
    }
    let file_path = format!("/v2/files/{file}");
    let reply = ctx
        .patch(&file_path, &token, json!({"tags": [huge()]}))
        .await;
    assert_sbg_error(&reply, 400, 90000);
    let reply = ctx
        .put(&format!("{file_path}/tags"), &token, json!(many_tags))
        .await;
    assert_eq!(reply.status, 400, "{}", reply.json);

    assert_eq!(count().await, before, "a refused project was made");
    let shown = ctx.get(&path, &token).await.json;
    assert_eq!(
        (&shown["name"], &shown["tags"]),
        (&json!("Limits"), &json!([]))
    );
    assert_eq!(ctx.get(&file_path, &token).await.json["tags"], json!([]));

    // At the limits: taken.
    let longest = json!({
        "name": "n".repeat(255),
        "description": "d".repeat(MAX_DESCRIPTION_BYTES),
        "tags": ["t".repeat(256)],
    });
    let reply = ctx.post("/v2/projects", &token, longest).await;
    assert_eq!(reply.status, 201, "{}", reply.json);
}

backends!(#[actix_web::test] async dx_refuses_free_text_past_its_limits);
async fn dx_refuses_free_text_past_its_limits(ctx: Ctx) {
    let (alice, token) = ctx.user("alice");
    let project = ferry_testkit::project(ctx.db.store(), &alice, "Limits");
    let dx = |path: String, body: Value| {
        let token = token.clone();
        let ctx = &ctx;
        async move {
            ctx.send_bytes(Method::POST, &path, &token, body.to_string().into_bytes())
                .await
        }
    };
    let pid = project.dx_id.to_string();
    let record = dx("/record/new".into(), json!({"project": pid})).await.json["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let projects = || async {
        dx("/system/findProjects".into(), json!({})).await.json["results"]
            .as_array()
            .unwrap()
            .len()
    };
    let before = projects().await;
    let many_types: Vec<String> = (0..=100).map(|i| format!("T{i}")).collect();
    for (path, body) in [
        ("/project/new".to_owned(), json!({"name": huge()})),
        (
            "/project/new".to_owned(),
            json!({"name": "ok", "summary": huge()}),
        ),
        (
            "/project/new".to_owned(),
            json!({"name": "ok", "description": huge()}),
        ),
        (
            "/project/new".to_owned(),
            json!({"name": "ok", "tags": [huge()]}),
        ),
        (format!("/{pid}/update"), json!({"name": huge()})),
        (format!("/{pid}/update"), json!({"description": huge()})),
        (
            "/record/new".to_owned(),
            json!({"project": pid, "details": {"d": huge()}}),
        ),
        (
            "/record/new".to_owned(),
            json!({"project": pid, "types": many_types}),
        ),
        (
            "/record/new".to_owned(),
            json!({"project": pid, "tags": [huge()]}),
        ),
        (
            "/record/new".to_owned(),
            json!({"project": pid, "properties": {"k": huge()}}),
        ),
        (
            "/record/new".to_owned(),
            json!({"project": pid, "properties": {huge(): "v"}}),
        ),
        (
            format!("/{record}/addTags"),
            json!({"project": pid, "tags": [huge()]}),
        ),
        (format!("/{record}/addTypes"), json!({"types": [huge()]})),
        (
            format!("/{record}/setProperties"),
            json!({"project": pid, "properties": {"k": huge()}}),
        ),
        (format!("/{record}/setDetails"), json!({"d": huge()})),
    ] {
        assert_dx_error(&dx(path.clone(), body).await, 422, "InvalidInput");
    }
    assert_eq!(projects().await, before, "a refused project was made");
    let described = dx(
        format!("/{record}/describe"),
        json!({"details": true, "properties": true}),
    )
    .await
    .json;
    assert_eq!(
        (
            &described["tags"],
            &described["types"],
            &described["properties"],
            &described["details"]
        ),
        (&json!([]), &json!([]), &json!({}), &json!({})),
        "{described}"
    );
    let shown = dx(format!("/{pid}/describe"), json!({})).await.json;
    assert_eq!(shown["name"], "Limits");
    let listed = dx(format!("/{pid}/listFolder"), json!({"folder": "/"}))
        .await
        .json;
    assert_eq!(listed["objects"].as_array().unwrap().len(), 1, "{listed}");
}
