//! SBG multipart upload with an S3 content store, on every backend: the part URLs are the
//! bucket's presigned ones (the bytes never pass through Ferry), a completion whose reported
//! ETags are not the parts' is a 400 that writes nothing, a good one makes a closing file that
//! downloads at once and is settled by the worker's step, and abort frees the bucket's upload.

use crate::sbg_upload::{bytes_of, complete, counts, sbg_project, start, stored_object};
use crate::support::{Ctx, assert_sbg_error};
use ferry_domain::model::ObjectState;
use ferry_store::content_hashing;
use ferry_testkit::TestDb;
use ferry_testkit::backends;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

const MIB: usize = 1024 * 1024;

pub(crate) fn s3_context(db: TestDb) -> Ctx {
    Ctx::new(db.on_s3())
}

/// A part URL of the upload, which must be the bucket's.
async fn part_url(ctx: &Ctx, token: &str, id: &str, n: usize) -> String {
    let reply = ctx
        .get(&format!("/v2/upload/multipart/{id}/part/{n}"), token)
        .await;
    assert_eq!(reply.status, 200, "{}", reply.json);
    let url = reply.json["url"].as_str().unwrap().to_owned();
    let endpoint = std::env::var(ferry_testkit::S3_ENDPOINT_VAR).unwrap();
    assert!(url.starts_with(&format!("{endpoint}/")), "{url}");
    assert!(url.contains("X-Amz-Signature=") && url.contains(&format!("partNumber={n}")));
    url
}

/// `PUT`s `body` to the bucket; the status and the ETag answered.
pub(crate) async fn put(url: String, body: Vec<u8>) -> (u16, String) {
    actix_web::web::block(move || {
        let sent = reqwest::blocking::Client::new()
            .put(url)
            .body(body)
            .send()
            .unwrap();
        let etag = sent
            .headers()
            .get("etag")
            .map(|etag| etag.to_str().unwrap().trim_matches('"').to_owned())
            .unwrap_or_default();
        (sent.status().as_u16(), etag)
    })
    .await
    .unwrap()
}

pub(crate) async fn get(url: String) -> Vec<u8> {
    actix_web::web::block(move || {
        reqwest::blocking::get(url)
            .unwrap()
            .error_for_status()
            .unwrap()
            .bytes()
            .unwrap()
            .to_vec()
    })
    .await
    .unwrap()
}

async fn report(ctx: &Ctx, token: &str, id: &str, n: usize, etag: &str) {
    let report = json!({"part_number": n, "response": {"headers": {"ETag": etag}}});
    let reply = ctx
        .post(&format!("/v2/upload/multipart/{id}/part"), token, report)
        .await;
    assert_eq!(reply.status, 204, "{}", reply.json);
}

backends!(#[actix_web::test] async parts_go_to_the_bucket_and_the_file_is_settled_after);
async fn parts_go_to_the_bucket_and_the_file_is_settled_after(db: TestDb) {
    let ctx = s3_context(db);
    let (owner, token) = ctx.user("alice");
    let project = ferry_testkit::project(ctx.db.store(), &owner, "Up");
    let data = bytes_of(5 * MIB + 3);
    let body = json!({"project": sbg_project(&project), "name": "big.bin", "size": data.len(), "part_size": 5 * MIB});
    let upload: Value = start(&ctx, &token, "", body).await.json;
    let id = upload["upload_id"].as_str().unwrap().to_owned();
    let (first, second) = data.split_at(5 * MIB);
    let (status, etag1) = put(part_url(&ctx, &token, &id, 1).await, first.to_vec()).await;
    assert_eq!(status, 200);
    let (status, etag2) = put(part_url(&ctx, &token, &id, 2).await, second.to_vec()).await;
    assert_eq!(status, 200);

    // Reported with part 2's ETag for part 1: the object the bucket made does not match.
    report(&ctx, &token, &id, 1, &etag2).await;
    report(&ctx, &token, &id, 2, &etag2).await;
    let refused = complete(&ctx, &token, &id).await;
    assert_sbg_error(&refused, 400, 90000);
    assert_eq!(counts(&ctx).0, 1, "the upload stays, for a retry");

    report(&ctx, &token, &id, 1, &etag1).await;
    let done = complete(&ctx, &token, &id).await;
    assert_eq!(done.status, 200, "{}", done.json);
    assert_eq!(done.json["size"], data.len());
    let file_id = done.json["id"].as_str().unwrap().to_owned();
    let object = stored_object(&ctx, &file_id);
    assert_eq!(object.state, ObjectState::Closing);
    assert_eq!(object.content_sha256, None);
    assert_eq!(counts(&ctx), (0, 0));

    // Downloads at once, straight from the bucket.
    let info = ctx
        .get(&format!("/v2/files/{file_id}/download_info"), &token)
        .await;
    let url = info.json["url"].as_str().unwrap().to_owned();
    assert!(get(url).await == data);

    // A copy made while it is closing points at the same bytes, and copies none.
    let copied = ctx
        .post(
            &format!("/v2/files/{file_id}/actions/copy"),
            &token,
            json!({"project": sbg_project(&project), "name": "copy.bin"}),
        )
        .await;
    assert_eq!(copied.status, 200, "{}", copied.json);
    let copy_id = copied.json["id"].as_str().unwrap().to_owned();
    let copy = stored_object(&ctx, &copy_id);
    assert_eq!(copy.state, ObjectState::Closing);
    assert_eq!(copy.content_key, object.content_key);

    // The worker's step closes both, with the checksums of the bytes.
    let store = ctx.db.store().clone();
    let key = object.content_key.clone().unwrap();
    let settled = actix_web::web::block(move || content_hashing::settle(&store, key))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(settled.objects, 2);
    let sha256 = hex::encode(Sha256::digest(&data));
    for id in [&file_id, &copy_id] {
        let object = stored_object(&ctx, id);
        assert_eq!(object.state, ObjectState::Closed);
        assert_eq!(object.content_sha256.as_deref(), Some(sha256.as_str()));
    }
}

backends!(#[actix_web::test] async abort_drops_the_buckets_upload);
async fn abort_drops_the_buckets_upload(db: TestDb) {
    let ctx = s3_context(db);
    let (owner, token) = ctx.user("bob");
    let project = ferry_testkit::project(ctx.db.store(), &owner, "Gone");
    let body = json!({"project": sbg_project(&project), "name": "x.bin", "size": 3});
    let upload: Value = start(&ctx, &token, "", body).await.json;
    let id = upload["upload_id"].as_str().unwrap().to_owned();
    let url = part_url(&ctx, &token, &id, 1).await;
    let aborted = ctx
        .delete(&format!("/v2/upload/multipart/{id}"), &token)
        .await;
    assert_eq!(aborted.status, 204);
    // The bucket no longer knows the upload: its part URL takes nothing.
    let (status, _) = put(url, b"abc".to_vec()).await;
    assert!((400..500).contains(&status), "{status}");
    assert_eq!(counts(&ctx), (0, 0));
}
