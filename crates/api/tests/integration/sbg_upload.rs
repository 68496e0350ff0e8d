//! SBG multipart upload, `/v2/upload/multipart…`: the SDK's sequence, and every refusal, on
//! every backend.

use crate::support::{Ctx, PUBLIC_URL, Reply, assert_sbg_error};
use actix_web::http::Method;
use actix_web::test;
use diesel::prelude::*;
use ferry_domain::model::Project;
use ferry_store::sbg_uploads as uploads;
use ferry_store::schema::{sbg_upload_parts, sbg_uploads};
use ferry_testkit::MemberBuilder;
use ferry_testkit::backends;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

const MIB: usize = 1024 * 1024;

fn local(url: &Value) -> String {
    let url = url.as_str().expect("a URL is a string");
    url.strip_prefix(PUBLIC_URL)
        .unwrap_or_else(|| panic!("{url} is not absolute"))
        .to_owned()
}

pub(crate) fn bytes_of(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i * 31 % 251) as u8).collect()
}

pub(crate) fn counts(ctx: &Ctx) -> (i64, i64) {
    let mut conn = ctx.db.store().conn().unwrap();
    (
        sbg_uploads::table.count().get_result(&mut conn).unwrap(),
        sbg_upload_parts::table
            .count()
            .get_result(&mut conn)
            .unwrap(),
    )
}

/// PUTs bytes to a part URL, as the SDK's storage session does: no token.
async fn put_bytes(ctx: &Ctx, url: &str, body: Vec<u8>) -> (u16, Option<String>, Value) {
    let app = test::init_service(ferry_api::app(ctx.state.clone())).await;
    let request = test::TestRequest::put()
        .uri(url)
        .set_payload(body)
        .to_request();
    let response = test::call_service(&app, request).await;
    let status = response.status().as_u16();
    let etag = response
        .headers()
        .get("etag")
        .map(|v| v.to_str().unwrap().trim_matches('"').to_owned());
    let body = test::read_body(response).await;
    let json = serde_json::from_slice(&body).unwrap_or(Value::Null);
    (status, etag, json)
}

pub(crate) async fn start(ctx: &Ctx, token: &str, query: &str, body: Value) -> Reply {
    ctx.post(&format!("/v2/upload/multipart{query}"), token, body)
        .await
}

/// Sends part `n` of `data` (per the upload's part size) and reports it; returns the ETag.
async fn send_part(ctx: &Ctx, token: &str, upload: &Value, n: usize, data: &[u8]) -> String {
    let id = upload["upload_id"].as_str().unwrap();
    let part_size = upload["part_size"].as_u64().unwrap() as usize;
    let reply = ctx
        .get(&format!("/v2/upload/multipart/{id}/part/{n}"), token)
        .await;
    assert_eq!(reply.status, 200, "{}", reply.json);
    assert_eq!(reply.json["method"], "PUT");
    let start = (n - 1) * part_size;
    let end = (start + part_size).min(data.len());
    let (status, etag, body) =
        put_bytes(ctx, &local(&reply.json["url"]), data[start..end].to_vec()).await;
    assert_eq!(status, 200, "{body}");
    let etag = etag.expect("a part's PUT answers its ETag");
    let report = json!({"part_number": n, "response": {"headers": {"ETag": etag}}});
    let reply = ctx
        .post(&format!("/v2/upload/multipart/{id}/part/"), token, report)
        .await;
    assert_eq!(reply.status, 204, "{}", reply.json);
    etag
}

pub(crate) async fn complete(ctx: &Ctx, token: &str, upload_id: &str) -> Reply {
    ctx.post(
        &format!("/v2/upload/multipart/{upload_id}/complete"),
        token,
        json!({}),
    )
    .await
}

/// The object of the file with this SBG id.
pub(crate) fn stored_object(ctx: &Ctx, file_id: &str) -> ferry_domain::model::Object {
    let mut conn = ctx.db.store().conn().unwrap();
    let id = ferry_domain::ids::SbgId::parse(file_id).unwrap();
    let (_, object) = ferry_store::files::get_placement_by_sbg_id(&mut conn, &id)
        .unwrap()
        .unwrap();
    object
}

pub(crate) fn sbg_project(project: &Project) -> String {
    project.sbg_id.to_string()
}

backends!(#[actix_web::test] async a_file_is_uploaded_in_parts_and_completed);
async fn a_file_is_uploaded_in_parts_and_completed(ctx: Ctx) {
    let (alice, token) = ctx.user("alice");
    let project = ferry_testkit::project(ctx.db.store(), &alice, "Uploads");
    let data = bytes_of(2 * 5 * MIB + 100);
    let body = json!({
        "project": sbg_project(&project),
        "name": "reads.bam",
        "size": data.len(),
        "part_size": 5 * MIB,
    });
    let started = start(&ctx, &token, "", body).await;
    assert_eq!(started.status, 201, "{}", started.json);
    let upload = started.json;
    assert_eq!(upload["part_size"], 5 * MIB);
    assert_eq!(upload["parts"], 3);
    assert_eq!(upload["upload_size"], data.len());
    assert_eq!(upload["project"], sbg_project(&project));
    let id = upload["upload_id"].as_str().unwrap().to_owned();
    let info = ctx.get(&format!("/v2/upload/multipart/{id}"), &token).await;
    assert_eq!(info.json, upload);

    send_part(&ctx, &token, &upload, 1, &data).await;
    send_part(&ctx, &token, &upload, 3, &data).await;
    let incomplete = complete(&ctx, &token, &id).await;
    assert_sbg_error(&incomplete, 400, 90000);
    assert!(
        incomplete.json["message"]
            .as_str()
            .unwrap()
            .contains("part(s) 2 of 3"),
        "{}",
        incomplete.json
    );
    send_part(&ctx, &token, &upload, 2, &data).await;
    let file = complete(&ctx, &token, &id).await;
    assert_eq!(file.status, 200, "{}", file.json);
    assert_eq!(
        (&file.json["name"], &file.json["size"], &file.json["type"]),
        (&json!("reads.bam"), &json!(data.len()), &json!("file"))
    );
    assert_eq!(counts(&ctx), (0, 0), "the upload is gone once completed");

    // The bytes, back through the download link, and the checksums from them.
    let file_id = file.json["id"].as_str().unwrap();
    let info = ctx
        .get(&format!("/v2/files/{file_id}/download_info"), &token)
        .await;
    let app = test::init_service(ferry_api::app(ctx.state.clone())).await;
    let request = test::TestRequest::get()
        .uri(&local(&info.json["url"]))
        .to_request();
    let response = test::call_service(&app, request).await;
    let etag = response
        .headers()
        .get("etag")
        .unwrap()
        .to_str()
        .unwrap()
        .to_owned();
    assert_eq!(etag, format!("\"{}\"", hex::encode(Sha256::digest(&data))));
    assert!(test::read_body(response).await == data, "the bytes differ");
    let object = stored_object(&ctx, file_id);
    assert_eq!(
        object.md5.as_deref(),
        Some(hex::encode(md5::Md5::digest(&data)).as_str())
    );
    assert!(object.state == ferry_domain::model::ObjectState::Closed);

    // Gone: every route of it is a 404.
    assert_sbg_error(
        &ctx.get(&format!("/v2/upload/multipart/{id}"), &token).await,
        404,
        90003,
    );
}

backends!(#[actix_web::test] async an_empty_file_is_one_empty_part);
async fn an_empty_file_is_one_empty_part(ctx: Ctx) {
    let (alice, token) = ctx.user("alice");
    let project = ferry_testkit::project(ctx.db.store(), &alice, "Empty");
    let body = json!({"project": sbg_project(&project), "name": "empty.txt", "size": 0});
    let upload = start(&ctx, &token, "", body).await.json;
    assert_eq!(upload["parts"], 1);
    send_part(&ctx, &token, &upload, 1, &[]).await;
    let id = upload["upload_id"].as_str().unwrap();
    let file = complete(&ctx, &token, id).await;
    assert_eq!((file.status.as_u16(), &file.json["size"]), (200, &json!(0)));
}

backends!(#[actix_web::test] async a_taken_name_is_a_conflict_unless_overwrite);
async fn a_taken_name_is_a_conflict_unless_overwrite(ctx: Ctx) {
    let (alice, token) = ctx.user("alice");
    let project = ferry_testkit::project(ctx.db.store(), &alice, "Names");
    let old = ctx.seed_file(&alice, &project, "/", "a.txt", b"old bytes");
    ctx.post(
        "/v2/files",
        &token,
        json!({"name": "dir", "type": "folder", "project": sbg_project(&project)}),
    )
    .await;
    let body = |name: &str| json!({"project": sbg_project(&project), "name": name, "size": 3});
    assert_sbg_error(&start(&ctx, &token, "", body("a.txt")).await, 409, 5003);
    assert_sbg_error(
        &start(&ctx, &token, "?overwrite=false", body("a.txt")).await,
        409,
        5003,
    );
    // A folder is never overwritten.
    assert_sbg_error(
        &start(&ctx, &token, "?overwrite=True", body("dir")).await,
        409,
        5003,
    );
    assert_eq!(counts(&ctx), (0, 0));

    let upload = start(&ctx, &token, "?overwrite=True", body("a.txt")).await;
    assert_eq!(upload.status, 201, "{}", upload.json);
    send_part(&ctx, &token, &upload.json, 1, b"new").await;
    let id = upload.json["upload_id"].as_str().unwrap();
    let file = complete(&ctx, &token, id).await;
    assert_eq!(file.status, 200, "{}", file.json);
    let listed = ctx
        .get(
            &format!("/v2/files?project={}&name=a.txt", sbg_project(&project)),
            &token,
        )
        .await;
    assert_eq!(listed.json["items"].as_array().unwrap().len(), 1);
    assert_eq!(listed.json["items"][0]["id"], file.json["id"]);
    assert_ne!(file.json["id"], json!(old));
    assert_eq!(file.json["size"], 3);

    // Taken between the start and the completion: refused then too.
    let upload = start(&ctx, &token, "", body("late.txt")).await.json;
    send_part(&ctx, &token, &upload, 1, b"abc").await;
    ctx.seed_file(&alice, &project, "/", "late.txt", b"first");
    let id = upload["upload_id"].as_str().unwrap();
    assert_sbg_error(&complete(&ctx, &token, id).await, 409, 5003);
}

backends!(#[actix_web::test] async bad_uploads_are_refused_and_write_nothing);
async fn bad_uploads_are_refused_and_write_nothing(ctx: Ctx) {
    let (alice, token) = ctx.user("alice");
    let (bob, bob_token) = ctx.user("bob");
    let project = ferry_testkit::project(ctx.db.store(), &alice, "Refusals");
    MemberBuilder::new(&project, &bob).create(ctx.db.store());
    let p = sbg_project(&project);

    let refusals = [
        (json!({"name": "x", "size": 1}), 400, 5029),
        (
            json!({"project": p, "parent": "0".repeat(24), "name": "x", "size": 1}),
            400,
            5031,
        ),
        (
            json!({"project": "nobody", "name": "x", "size": 1}),
            400,
            3012,
        ),
        (json!({"project": p, "name": "a/b", "size": 1}), 400, 5024),
        (json!({"project": p, "name": "x"}), 400, 90000),
        (
            json!({"project": p, "name": "x", "size": 6u64 << 40}),
            400,
            90000,
        ),
        (
            json!({"parent": "0".repeat(24), "name": "x", "size": 1}),
            404,
            5026,
        ),
    ];
    for (body, status, code) in refusals {
        assert_sbg_error(&start(&ctx, &token, "", body).await, status, code);
    }
    let body = json!({"project": p, "name": "x", "size": 1});
    assert_sbg_error(&start(&ctx, &bob_token, "", body.clone()).await, 403, 5001);
    assert_sbg_error(
        &start(&ctx, &token, "?overwrite=maybe", body.clone()).await,
        400,
        90000,
    );
    assert_eq!(counts(&ctx), (0, 0));

    let data = bytes_of(5 * MIB + 10);
    let body = json!({"project": p, "name": "big", "size": data.len(), "part_size": 5 * MIB});
    let upload = start(&ctx, &token, "", body).await.json;
    let id = upload["upload_id"].as_str().unwrap().to_owned();
    // Another user's upload is not theirs to see or touch.
    for (method, path) in [
        (Method::GET, format!("/v2/upload/multipart/{id}")),
        (Method::GET, format!("/v2/upload/multipart/{id}/part/1")),
        (Method::POST, format!("/v2/upload/multipart/{id}/complete")),
        (Method::DELETE, format!("/v2/upload/multipart/{id}")),
        (Method::GET, "/v2/upload/multipart/nonexistent".to_owned()),
    ] {
        let reply = ctx
            .send(method, &path, Some(&bob_token), Some(json!({})))
            .await;
        assert_sbg_error(&reply, 404, 90003);
    }
    let report = json!({"part_number": 1, "response": {"headers": {"ETag": "x"}}});
    assert_sbg_error(
        &ctx.post(
            &format!("/v2/upload/multipart/{id}/part"),
            &bob_token,
            report,
        )
        .await,
        404,
        90003,
    );
    for n in ["0", "3", "x"] {
        assert_sbg_error(
            &ctx.get(&format!("/v2/upload/multipart/{id}/part/{n}"), &token)
                .await,
            400,
            90000,
        );
    }

    // A part must have the length the plan gives it.
    let url = local(
        &ctx.get(&format!("/v2/upload/multipart/{id}/part/1"), &token)
            .await
            .json["url"],
    );
    let (status, _, body) = put_bytes(&ctx, &url, data[..100].to_vec()).await;
    assert_eq!((status, &body["code"]), (400, &json!(90000)), "{body}");
    let (status, _, body) = put_bytes(&ctx, &url, data[..5 * MIB + 1].to_vec()).await;
    assert_eq!((status, &body["code"]), (400, &json!(90000)), "{body}");
    let tampered = url.replace("signature=", "signature=00");
    let (status, _, body) = put_bytes(&ctx, &tampered, data[..5 * MIB].to_vec()).await;
    assert_eq!((status, &body["code"]), (403, &json!(90002)), "{body}");
    assert_eq!(counts(&ctx), (1, 0), "no part was recorded");
    // Reporting a part not sent, or with another ETag, is refused.
    let report = |etag: &str| json!({"part_number": 1, "response": {"headers": {"ETag": etag}}});
    assert_sbg_error(
        &ctx.post(
            &format!("/v2/upload/multipart/{id}/part"),
            &token,
            report("x"),
        )
        .await,
        400,
        90000,
    );
    let (status, etag, _) = put_bytes(&ctx, &url, data[..5 * MIB].to_vec()).await;
    assert_eq!(status, 200);
    assert_sbg_error(
        &ctx.post(
            &format!("/v2/upload/multipart/{id}/part"),
            &token,
            report("0f"),
        )
        .await,
        400,
        90000,
    );
    assert_eq!(etag.unwrap(), hex::encode(Sha256::digest(&data[..5 * MIB])));

    // Aborted: gone, with its parts.
    let aborted = ctx
        .delete(&format!("/v2/upload/multipart/{id}"), &token)
        .await;
    assert_eq!(aborted.status, 204);
    assert_eq!(counts(&ctx), (0, 0));
    let (status, _, _) = put_bytes(&ctx, &url, data[..5 * MIB].to_vec()).await;
    assert_eq!(status, 404);
}

backends!(#[actix_web::test] async idle_uploads_expire_with_their_parts);
async fn idle_uploads_expire_with_their_parts(ctx: Ctx) {
    let (alice, token) = ctx.user("alice");
    let project = ferry_testkit::project(ctx.db.store(), &alice, "Idle");
    let body = json!({"project": sbg_project(&project), "name": "x", "size": 3});
    let idle = start(&ctx, &token, "", body.clone()).await.json;
    send_part(&ctx, &token, &idle, 1, b"abc").await;
    assert_eq!(counts(&ctx), (1, 1));
    let mut conn = ctx.db.store().conn().unwrap();
    let now = chrono::Utc::now();
    let expired = |conn: &mut _, cutoff| uploads::expire_idle_before(conn, cutoff, 100).unwrap();
    assert!(expired(&mut conn, now - chrono::TimeDelta::hours(1)).is_empty());
    let id = idle["upload_id"].as_str().unwrap();
    assert_eq!(
        expired(&mut conn, now + chrono::TimeDelta::seconds(1)),
        [(id.to_owned(), None)]
    );
    drop(conn);
    assert_eq!(counts(&ctx), (0, 0));
    assert_sbg_error(
        &ctx.get(&format!("/v2/upload/multipart/{id}"), &token).await,
        404,
        90003,
    );
}

backends!(#[actix_web::test] async a_failed_part_must_be_sent_again);
/// A part `PUT` that fails (too short) has already written some of its bytes in place: the part
/// is forgotten, so the upload cannot complete over them until the part is sent again.
async fn a_failed_part_must_be_sent_again(ctx: Ctx) {
    let (alice, token) = ctx.user("alice");
    let project = ferry_testkit::project(ctx.db.store(), &alice, "Resend");
    let data = bytes_of(10_000);
    let body = json!({"project": sbg_project(&project), "name": "r.bin", "size": data.len()});
    let upload = start(&ctx, &token, "", body).await.json;
    send_part(&ctx, &token, &upload, 1, &data).await;
    let id = upload["upload_id"].as_str().unwrap();
    let url = local(
        &ctx.get(&format!("/v2/upload/multipart/{id}/part/1"), &token)
            .await
            .json["url"],
    );
    let (status, _, _) = put_bytes(&ctx, &url, vec![0u8; 4096]).await;
    assert_eq!(status, 400);
    let refused = complete(&ctx, &token, id).await;
    assert_sbg_error(&refused, 400, 90000);
    send_part(&ctx, &token, &upload, 1, &data).await;
    let file = complete(&ctx, &token, id).await;
    assert_eq!(file.status, 200, "{}", file.json);
    let object = stored_object(&ctx, file.json["id"].as_str().unwrap());
    assert_eq!(
        object.content_sha256.unwrap(),
        hex::encode(Sha256::digest(&data))
    );
}
