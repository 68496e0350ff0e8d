//! DNAnexus uploads with an S3 content store, on every backend: part URLs are the bucket's
//! presigned ones, a part needs its size and MD5 announced, closing completes the bucket's upload
//! (refusing parts that are not as announced, the file left open), and the file is `closing`
//! until the worker's step settles it.

use actix_web::http::Method;
use ferry_domain::ids::DxId;
use ferry_domain::model::ObjectState;
use ferry_store::{content_hashing, objects};
use md5::{Digest, Md5};
use serde_json::{Value, json};

use crate::sbg_upload_s3::{get, put, s3_context};
use crate::support::{Ctx, Reply, assert_dx_error};
use ferry_testkit::{TestDb, backends};

const MIB: usize = 1024 * 1024;

async fn call(ctx: &Ctx, token: &str, path: &str, body: Value) -> Reply {
    ctx.send_bytes(Method::POST, path, token, body.to_string().into_bytes())
        .await
}

async fn ok(ctx: &Ctx, token: &str, path: &str, body: Value) -> Value {
    let reply = call(ctx, token, path, body).await;
    assert_eq!(reply.status, 200, "{path}: {}", reply.json);
    reply.json
}

fn md5_hex(bytes: &[u8]) -> String {
    hex::encode(Md5::digest(bytes))
}

fn object(ctx: &Ctx, id: &str) -> ferry_domain::model::Object {
    let id = DxId::parse(id).unwrap();
    objects::get(&mut ctx.db.store().conn().unwrap(), &id)
        .unwrap()
        .unwrap()
}

backends!(#[actix_web::test] async parts_go_to_the_bucket_and_close_completes_its_upload);
async fn parts_go_to_the_bucket_and_close_completes_its_upload(db: TestDb) {
    let ctx = s3_context(db);
    let (_, token) = ctx.user("alice");
    let project = ok(&ctx, &token, "/project/new", json!({"name": "up"})).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let file = ok(
        &ctx,
        &token,
        "/file/new",
        json!({"project": project, "name": "f.bin"}),
    )
    .await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let params = ok(
        &ctx,
        &token,
        &format!("/{project}/describe"),
        json!({"fields": {"fileUploadParameters": true}}),
    )
    .await;
    assert_eq!(params["fileUploadParameters"]["minimumPartSize"], 5 * MIB);
    let upload = format!("/{file}/upload");
    let refused = call(&ctx, &token, &upload, json!({"index": 1})).await;
    assert_dx_error(&refused, 422, "InvalidInput");

    let data: Vec<u8> = (0..5 * MIB + 7).map(|i| (i % 253) as u8).collect();
    let (first, second) = data.split_at(5 * MIB);
    // Part 2 announced with part 1's MD5: the bucket's object will not match.
    let wrong = ok(
        &ctx,
        &token,
        &upload,
        json!({"index": 2, "size": second.len(), "md5": md5_hex(first)}),
    )
    .await;
    let endpoint = std::env::var(ferry_testkit::S3_ENDPOINT_VAR).unwrap();
    let url = wrong["url"].as_str().unwrap().to_owned();
    assert!(url.starts_with(&format!("{endpoint}/")), "{url}");
    assert_eq!(put(url, second.to_vec()).await.0, 200);
    let part1 = ok(
        &ctx,
        &token,
        &upload,
        json!({"index": 1, "size": first.len(), "md5": md5_hex(first)}),
    )
    .await;
    assert_eq!(
        put(part1["url"].as_str().unwrap().to_owned(), first.to_vec())
            .await
            .0,
        200
    );
    let close = format!("/{file}/close");
    assert_dx_error(
        &call(&ctx, &token, &close, json!({})).await,
        422,
        "InvalidInput",
    );
    assert_eq!(object(&ctx, &file).state, ObjectState::Open);

    // Announced right (the bytes in the bucket were right all along; some servers keep the
    // upload for a new PUT, others made the object already): closing completes it, and the
    // file is closing, then closed.
    ok(
        &ctx,
        &token,
        &upload,
        json!({"index": 2, "size": second.len(), "md5": md5_hex(second)}),
    )
    .await;
    ok(&ctx, &token, &close, json!({})).await;
    let closing = object(&ctx, &file);
    assert_eq!(
        (closing.state, closing.size),
        (ObjectState::Closing, data.len() as i64)
    );
    let store = ctx.db.store().clone();
    let key = closing.content_key.clone().unwrap();
    actix_web::web::block(move || content_hashing::settle(&store, key))
        .await
        .unwrap()
        .unwrap();
    let closed = object(&ctx, &file);
    assert_eq!(closed.state, ObjectState::Closed);
    assert_eq!(closed.md5.as_deref(), Some(md5_hex(&data).as_str()));
    let download = ok(&ctx, &token, &format!("/{file}/download"), json!({})).await;
    assert!(get(download["url"].as_str().unwrap().to_owned()).await == data);
}
