//! Hostile input by hand, in both dialects: bodies too large, too deep, too long or not UTF-8,
//! NUL bytes, 10,000-character names, path traversal, and SQL metacharacters. Each is refused
//! with the dialect's 4xx and writes nothing, or (the metacharacters) is stored verbatim.

use actix_web::http::Method;
use diesel::{ExpressionMethods, QueryDsl, RunQueryDsl};
use ferry_domain::model::Project;
use ferry_store::schema::{folders, placements};
use serde_json::{Value, json};

use crate::support::{Ctx, assert_dx_error, assert_sbg_error};
use ferry_testkit::backends;

/// The SQL an attacker hopes to run; it must come back as the name it is.
const SQL: &str = "'; DROP TABLE placements;--";

fn big_body() -> Vec<u8> {
    // Past the 16 MiB limit, and valid JSON so that only the size can be refused.
    let mut body = b"{\"pad\": \"".to_vec();
    body.resize(17 * 1024 * 1024, b'a');
    body.extend_from_slice(b"\"}");
    body
}

fn deep_body() -> Vec<u8> {
    vec![b'['; 100_000]
}

/// `{` then bytes that are not UTF-8 in a string, then `}`.
fn not_utf8() -> Vec<u8> {
    b"{\"name\": \"\xff\xfe\xc3\x28\"}".to_vec()
}

/// Rows of a project: placements and folders. Refused requests must leave both as they were.
fn rows(ctx: &Ctx, project: &Project) -> (i64, i64) {
    let mut conn = ctx.db.store().conn().unwrap();
    let placed = placements::table
        .filter(placements::project_id.eq(project.id.get()))
        .count()
        .get_result(&mut *conn)
        .unwrap();
    let folders = folders::table
        .filter(folders::project_id.eq(project.id.get()))
        .count()
        .get_result(&mut *conn)
        .unwrap();
    (placed, folders)
}

backends!(#[actix_web::test] async sbg_refuses_hostile_bodies_and_names_and_stores_sql_verbatim);
async fn sbg_refuses_hostile_bodies_and_names_and_stores_sql_verbatim(ctx: Ctx) {
    let (alice, token) = ctx.user("alice");
    let project = ferry_testkit::project(ctx.db.store(), &alice, "Hostile");
    let file = ctx.seed_file(&alice, &project, "/", "reads.bam", b"x");
    let root = ctx.get(&format!("/v2/files/{file}"), &token).await.json["parent"].clone();
    let before = rows(&ctx, &project);
    let copy = "/v2/action/files/copy";
    let send = |path: &'static str, body: Vec<u8>| ctx.send_bytes(Method::POST, path, &token, body);

    assert_sbg_error(&send(copy, big_body()).await, 413, 90000);
    assert_sbg_error(&send(copy, deep_body()).await, 400, 90009);
    assert_sbg_error(&send(copy, not_utf8()).await, 400, 90009);
    // 100,000 ids: the batch limit is 1,000.
    let ids: Vec<String> = (0..100_000).map(|i| format!("{i:024x}")).collect();
    let huge = json!({"project": project.sbg_id.to_string(), "file_ids": ids});
    let reply = send(copy, huge.to_string().into_bytes()).await;
    assert_eq!(reply.status, 400, "{}", reply.json);
    assert_eq!(reply.json["status"], 400, "{}", reply.json);

    // Names: NUL, 10,000 characters, traversal. Files are renamed with PATCH, folders made
    // with POST /files.
    let path = format!("/v2/files/{file}");
    for name in ["a\0b", &"n".repeat(10_000), "..", "a/b", "../../etc/passwd"] {
        let reply = ctx.patch(&path, &token, json!({"name": name})).await;
        assert_sbg_error(&reply, 400, 5024);
    }
    for name in [
        "..",
        ".",
        "a/b",
        "a\\b",
        "..\\..",
        "a\0b",
        &"d".repeat(10_000),
        SQL,
    ] {
        let body = json!({"name": name, "parent": root, "type": "folder"});
        let reply = ctx.post("/v2/files", &token, body).await;
        assert_sbg_error(&reply, 400, 5024);
    }
    assert_eq!(rows(&ctx, &project), before, "a refused request wrote");

    // SQL metacharacters are a name like any other, stored and answered as sent.
    let reply = ctx
        .patch(&path, &token, json!({"name": SQL, "tags": [SQL]}))
        .await;
    assert_eq!(reply.status, 200, "{}", reply.json);
    let got = ctx.get(&path, &token).await.json;
    assert_eq!(got["name"], SQL);
    assert_eq!(got["tags"], json!([SQL]));
    let listed = ctx
        .get(&format!("/v2/files?project={}", project.sbg_id), &token)
        .await;
    let names: Vec<&Value> = listed.json["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| &i["name"])
        .collect();
    assert_eq!(names, [SQL]);
}

backends!(#[actix_web::test] async dx_refuses_hostile_bodies_and_paths_and_stores_sql_verbatim);
async fn dx_refuses_hostile_bodies_and_paths_and_stores_sql_verbatim(ctx: Ctx) {
    let (alice, token) = ctx.user("alice");
    let project = ferry_testkit::project(ctx.db.store(), &alice, "Hostile");
    let dx = |path: String, body: Value| {
        let token = token.clone();
        let ctx = &ctx;
        async move {
            ctx.send_bytes(Method::POST, &path, &token, body.to_string().into_bytes())
                .await
        }
    };
    let file = dx(
        "/file/new".into(),
        json!({"project": project.dx_id.to_string(), "name": "reads.bam"}),
    )
    .await
    .json["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let before = rows(&ctx, &project);
    let new_folder = format!("/{}/newFolder", project.dx_id);
    let raw = |body: Vec<u8>| ctx.send_bytes(Method::POST, &new_folder, &token, body);

    assert_dx_error(&raw(big_body()).await, 413, "InvalidInput");
    assert_dx_error(&raw(deep_body()).await, 400, "MalformedJSON");
    assert_dx_error(&raw(not_utf8()).await, 400, "MalformedJSON");
    // A huge array where a string belongs.
    let huge = json!({"folder": vec![0; 100_000]});
    assert_dx_error(&dx(new_folder.clone(), huge).await, 422, "InvalidInput");

    // Folder paths: traversal, NUL, a 10,000-character folder name.
    let long = format!("/{}", "d".repeat(10_000));
    for folder in ["/a/../b", "/..", "/a/./b", "relative/b", "/a\0b", &long] {
        let reply = dx(
            new_folder.clone(),
            json!({"folder": folder, "parents": true}),
        )
        .await;
        assert_dx_error(&reply, 422, "InvalidInput");
    }
    // File names: NUL, '/', 10,000 characters.
    let rename = format!("/{file}/rename");
    for name in ["a\0b", "a/b", "..", &"n".repeat(10_000)] {
        let body = json!({"project": project.dx_id.to_string(), "name": name});
        assert_dx_error(&dx(rename.clone(), body).await, 422, "InvalidInput");
    }
    assert_eq!(rows(&ctx, &project), before, "a refused request wrote");

    // SQL metacharacters (and a backslash, which is no separator here) are stored verbatim.
    let folder = format!("/{SQL}/a\\..\\b");
    let reply = dx(
        new_folder.clone(),
        json!({"folder": folder, "parents": true}),
    )
    .await;
    assert_eq!(reply.status, 200, "{}", reply.json);
    let body = json!({"project": project.dx_id.to_string(), "name": SQL});
    assert_eq!(dx(rename.clone(), body).await.status, 200);
    let described = dx(format!("/{file}/describe"), json!({})).await.json;
    assert_eq!(described["name"], SQL);
    let listed = dx(
        format!("/{}/listFolder", project.dx_id),
        json!({"folder": format!("/{SQL}")}),
    )
    .await
    .json;
    assert_eq!(listed["folders"], json!([folder]));
}
