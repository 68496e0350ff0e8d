//! Files and folders: `/v2/files…` and `/v2/bulk/files/…`, every endpoint and every error, on
//! every backend.

use crate::support::{Ctx, PUBLIC_URL, Reply, assert_sbg_error};
use actix_web::http::Method;
use diesel::prelude::*;
use ferry_domain::model::{Project, User};
use ferry_domain::permission::Level;
use ferry_store::projects;
use ferry_store::schema::objects;
use ferry_testkit::MemberBuilder;
use ferry_testkit::backends;
use serde_json::{Value, json};

fn root_id(ctx: &Ctx, project: &Project) -> String {
    let mut conn = ctx.db.store().conn().unwrap();
    projects::root_folder(&mut conn, project.id)
        .unwrap()
        .sbg_id
        .to_string()
}

/// Makes `user` a member of `project` at `level`.
fn add_member(ctx: &Ctx, project: &Project, user: &User, level: Level) {
    MemberBuilder::new(project, user)
        .level(level)
        .create(ctx.db.store());
}

fn object_count(ctx: &Ctx) -> i64 {
    let mut conn = ctx.db.store().conn().unwrap();
    objects::table.count().get_result(&mut conn).unwrap()
}

/// The path and query of an absolute href of this server.
fn local(href: &Value) -> String {
    let href = href.as_str().expect("href is a string");
    href.strip_prefix(PUBLIC_URL)
        .unwrap_or_else(|| panic!("{href} is not absolute"))
        .to_owned()
}

fn names(reply: &Reply) -> Vec<String> {
    reply.json["items"]
        .as_array()
        .unwrap_or_else(|| panic!("no items: {}", reply.json))
        .iter()
        .map(|item| item["name"].as_str().unwrap().to_owned())
        .collect()
}

fn next_link(reply: &Reply) -> Option<String> {
    reply.json["links"]
        .as_array()
        .unwrap()
        .iter()
        .find(|link| link["rel"] == "next")
        .map(|link| local(&link["href"]))
}

/// A GET without a token.
async fn anonymous_get(ctx: &Ctx, path: &str) -> Reply {
    ctx.send(Method::GET, path, None, None).await
}

/// Every name of a listing, the way the SDK's `.all()` reads it: the envelope's href again, then
/// each `next` link until there is none.
async fn all_names(ctx: &Ctx, token: &str, path: &str) -> Vec<String> {
    let first = ctx.get(path, token).await;
    assert_eq!(first.status, 200, "{}", first.json);
    let mut page = ctx.get(&local(&first.json["href"]), token).await;
    let mut all = names(&page);
    while let Some(next) = next_link(&page) {
        page = ctx.get(&next, token).await;
        assert_eq!(page.status, 200, "{}", page.json);
        all.extend(names(&page));
    }
    all
}

backends!(#[actix_web::test] async a_file_and_a_folder_render_every_field);
async fn a_file_and_a_folder_render_every_field(ctx: Ctx) {
    let (alice, token) = ctx.user("alice");
    let project = ferry_testkit::project(ctx.db.store(), &alice, "Reads");
    let file = ctx.seed_file(&alice, &project, "/", "a.bam", b"ACGT");
    let root = root_id(&ctx, &project);

    let reply = ctx.get(&format!("/v2/files/{file}"), &token).await;
    assert_eq!(reply.status, 200, "{}", reply.json);
    let json = &reply.json;
    let keys: Vec<&str> = json
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    for key in [
        "href",
        "id",
        "name",
        "size",
        "project",
        "parent",
        "type",
        "created_on",
        "modified_on",
        "storage",
        "origin",
        "tags",
        "metadata",
        "_secondary_files",
    ] {
        assert!(keys.contains(&key), "{key} missing from {json}");
    }
    assert_eq!(json["href"], format!("{PUBLIC_URL}/v2/files/{file}"));
    assert_eq!(json["id"], file.as_str());
    assert_eq!(json["name"], "a.bam");
    assert_eq!(json["size"], 4);
    assert_eq!(json["project"], project.sbg_id.as_str());
    assert_eq!(json["parent"], root.as_str());
    assert_eq!(json["type"], "file");
    assert!(json["created_on"].as_str().unwrap().ends_with('Z'));
    assert!(json["modified_on"].as_str().unwrap().ends_with('Z'));
    assert_eq!(
        json["storage"],
        json!({"type": "PLATFORM", "volume": null, "location": null})
    );
    assert_eq!(json["origin"], json!({}));
    assert_eq!((&json["tags"], &json["metadata"]), (&json!([]), &json!({})));
    assert_eq!(json["_secondary_files"], Value::Null);

    let reply = ctx.get(&format!("/v2/files/{root}"), &token).await;
    assert_eq!(reply.status, 200, "{}", reply.json);
    assert_eq!(reply.json["type"], "folder");
    assert_eq!(reply.json["parent"], Value::Null);
    assert_eq!(reply.json["size"], Value::Null);
    assert_eq!(reply.json["name"], project.sbg_id.slug().as_str());

    let sub = ctx.folder_id(&project, "/runs");
    let reply = ctx.get(&format!("/v2/files/{sub}"), &token).await;
    assert_eq!(reply.json["name"], "runs");
    assert_eq!(reply.json["parent"], root.as_str());
    assert_eq!(reply.json["href"], format!("{PUBLIC_URL}/v2/files/{sub}"));

    // The SDK sends `null` as the body of every GET.
    let reply = ctx
        .send(
            Method::GET,
            &format!("/v2/files/{file}"),
            Some(&token),
            Some(Value::Null),
        )
        .await;
    assert_eq!(reply.status, 200, "{}", reply.json);
}

backends!(#[actix_web::test] async unknown_malformed_and_foreign_ids_are_all_not_found);
async fn unknown_malformed_and_foreign_ids_are_all_not_found(ctx: Ctx) {
    let (alice, _) = ctx.user("alice");
    let (_, mallory) = ctx.user("mallory");
    let project = ferry_testkit::project(ctx.db.store(), &alice, "Private");
    let file = ctx.seed_file(&alice, &project, "/", "secret.vcf", b"x");
    let folder = ctx.folder_id(&project, "/hidden");
    for id in [
        file.as_str(),
        folder.as_str(),
        "000000000000000000000000",
        "not-an-id",
        "ABCDEF012345678901234567",
    ] {
        assert_sbg_error(
            &ctx.get(&format!("/v2/files/{id}"), &mallory).await,
            404,
            5002,
        );
    }
    assert_sbg_error(
        &anonymous_get(&ctx, &format!("/v2/files/{file}")).await,
        401,
        90001,
    );
    assert_sbg_error(
        &ctx.post(&format!("/v2/files/{file}"), &mallory, json!({}))
            .await,
        405,
        90006,
    );
}

backends!(#[actix_web::test] async a_listing_shows_folders_first_then_files_by_name_across_pages);
async fn a_listing_shows_folders_first_then_files_by_name_across_pages(ctx: Ctx) {
    let (alice, token) = ctx.user("alice");
    let project = ferry_testkit::project(ctx.db.store(), &alice, "Big");
    for name in ["c.bam", "a.bam", "b.bam"] {
        ctx.seed_file(&alice, &project, "/", name, name.as_bytes());
    }
    ctx.folder_id(&project, "/zeta");
    ctx.folder_id(&project, "/alpha");
    ctx.seed_file(&alice, &project, "/alpha", "inner.bam", b"i");
    let expected = ["alpha", "zeta", "a.bam", "b.bam", "c.bam"];

    let path = format!(
        "/v2/files?limit=2&fields=_all&project={}",
        project.sbg_id.as_str().replace('/', "%2F")
    );
    let first = ctx.get(&path, &token).await;
    assert_eq!(first.status, 200, "{}", first.json);
    assert_eq!(first.total(), 5);
    assert_eq!(names(&first), ["alpha", "zeta"]);
    assert_eq!(first.json["items"][0]["type"], "folder");
    assert_eq!(
        first.json["href"],
        format!(
            "{PUBLIC_URL}/v2/files?fields=_all&project={}&offset=0&limit=2",
            project.sbg_id.as_str().replace('/', "%2F")
        )
    );
    assert_eq!(all_names(&ctx, &token, &path).await, expected);

    // The page that straddles folders and files, and the last one, which has no next link.
    let middle = ctx.get(&format!("{path}&offset=1"), &token).await;
    assert_eq!(names(&middle), ["zeta", "a.bam"]);
    let last = ctx.get(&format!("{path}&offset=4"), &token).await;
    assert_eq!(names(&last), ["c.bam"]);
    assert_eq!(next_link(&last), None);
    assert!(
        last.json["links"]
            .as_array()
            .unwrap()
            .iter()
            .any(|l| l["rel"] == "prev")
    );

    let trailing = ctx
        .get(&format!("/v2/files/?project={}", project.sbg_id), &token)
        .await;
    assert_eq!(names(&trailing), expected);

    // By parent, and through /files/{id}/list: the same listing of one folder.
    let alpha = ctx.folder_id(&project, "/alpha");
    let by_parent = ctx.get(&format!("/v2/files?parent={alpha}"), &token).await;
    assert_eq!(names(&by_parent), ["inner.bam"]);
    assert_eq!(by_parent.json["items"][0]["parent"], alpha.as_str());
    let listed = ctx
        .get(&format!("/v2/files/{alpha}/list?offset=0&limit=5"), &token)
        .await;
    assert_eq!(listed.status, 200, "{}", listed.json);
    assert_eq!(listed.total(), 1);
    assert_eq!(
        listed.json["href"],
        format!("{PUBLIC_URL}/v2/files/{alpha}/list?offset=0&limit=5")
    );
    let root = root_id(&ctx, &project);
    assert_eq!(
        all_names(&ctx, &token, &format!("/v2/files/{root}/list?limit=1")).await,
        expected
    );

    for bad in ["limit=0", "limit=101", "offset=-1", "limit=x"] {
        assert_sbg_error(&ctx.get(&format!("{path}&{bad}"), &token).await, 400, 90000);
    }
}

backends!(#[actix_web::test] async listing_errors);
async fn listing_errors(ctx: Ctx) {
    let (alice, token) = ctx.user("alice");
    let (_, mallory) = ctx.user("mallory");
    let project = ferry_testkit::project(ctx.db.store(), &alice, "Mine");
    let file = ctx.seed_file(&alice, &project, "/", "a.bam", b"a");
    let root = root_id(&ctx, &project);
    let id = project.sbg_id.as_str();

    assert_sbg_error(
        &ctx.get(&format!("/v2/files?project={id}&parent={root}"), &token)
            .await,
        400,
        5031,
    );
    let neither = ctx.get("/v2/files?fields=_all", &token).await;
    assert_sbg_error(&neither, 400, 5029);
    // One wording for 5029 wherever it is answered: SBG's.
    assert_eq!(
        neither.json["message"],
        "Missing `parent` or `project` field."
    );
    assert_sbg_error(
        &ctx.get("/v2/files?project=no-slash", &token).await,
        400,
        5005,
    );
    assert_sbg_error(
        &ctx.get("/v2/files?project=alice/nothing", &token).await,
        404,
        3002,
    );
    assert_sbg_error(
        &ctx.get(&format!("/v2/files?project={id}"), &mallory).await,
        404,
        3002,
    );
    assert_sbg_error(
        &ctx.get(&format!("/v2/files?parent={root}"), &mallory).await,
        404,
        5002,
    );
    assert_sbg_error(
        &ctx.get("/v2/files?parent=000000000000000000000000", &token)
            .await,
        404,
        5002,
    );
    assert_sbg_error(
        &ctx.get(&format!("/v2/files?parent={file}"), &token).await,
        400,
        5022,
    );
    assert_sbg_error(
        &ctx.get(&format!("/v2/files/{file}/list"), &token).await,
        400,
        5022,
    );
    assert_sbg_error(
        &ctx.get(&format!("/v2/files/{root}/list"), &mallory).await,
        404,
        5002,
    );
}

backends!(#[actix_web::test] async listings_filter_by_name_tag_and_metadata);
async fn listings_filter_by_name_tag_and_metadata(ctx: Ctx) {
    let (alice, token) = ctx.user("alice");
    let project = ferry_testkit::project(ctx.db.store(), &alice, "Filtered");
    let one = ctx.seed_file(&alice, &project, "/", "one.bam", b"1");
    let two = ctx.seed_file(&alice, &project, "/", "two words.bam", b"2");
    let three = ctx.seed_file(&alice, &project, "/", "three.bam", b"3");
    ctx.folder_id(&project, "/one.bam.d");
    for (id, tags, metadata) in [
        (
            &one,
            json!(["WGS", "hg38"]),
            json!({"sample_id": "S1", "lane": 1}),
        ),
        (&two, json!(["wgs"]), json!({"sample_id": "S2", "lane": 2})),
        (
            &three,
            json!(["WGS"]),
            json!({"sample_id": "S1", "lane": "2", "note": "100%_done"}),
        ),
    ] {
        let reply = ctx
            .patch(
                &format!("/v2/files/{id}"),
                &token,
                json!({"tags": tags, "metadata": metadata}),
            )
            .await;
        assert_eq!(reply.status, 200, "{}", reply.json);
    }
    let base = format!("/v2/files?project={}", project.sbg_id);
    let listed = |query: &str| format!("{base}&{query}");

    let reply = ctx
        .get(
            &listed("name=one.bam&name=two+words.bam&name=one.bam.d"),
            &token,
        )
        .await;
    assert_eq!(names(&reply), ["one.bam.d", "one.bam", "two words.bam"]);
    assert_eq!(reply.total(), 3);
    // Tags match exactly (case too) and repeat as OR; folders have none.
    let reply = ctx.get(&listed("tag=WGS"), &token).await;
    assert_eq!(names(&reply), ["one.bam", "three.bam"]);
    let reply = ctx.get(&listed("tag=hg38&tag=wgs"), &token).await;
    assert_eq!(names(&reply), ["one.bam", "two words.bam"]);
    // Metadata: AND across keys, values compared as text, OR within a key.
    let reply = ctx
        .get(&listed("metadata.sample_id=S1&metadata.lane=2"), &token)
        .await;
    assert_eq!(names(&reply), ["three.bam"]);
    let reply = ctx
        .get(&listed("metadata.lane=1&metadata.lane=2"), &token)
        .await;
    assert_eq!(reply.total(), 3);
    let reply = ctx.get(&listed("metadata.note=100%25_done"), &token).await;
    assert_eq!(names(&reply), ["three.bam"]);
    let reply = ctx.get(&listed("metadata.note=100%25"), &token).await;
    assert_eq!(reply.total(), 0);
    // Filters combine with names and paginate; the links carry every filter.
    let reply = ctx
        .get(&listed("metadata.sample_id=S1&limit=1"), &token)
        .await;
    assert_eq!(
        (names(&reply), reply.total()),
        (vec!["one.bam".to_owned()], 2)
    );
    assert_eq!(
        all_names(&ctx, &token, &listed("metadata.sample_id=S1&limit=1")).await,
        ["one.bam", "three.bam"]
    );
    let reply = ctx.get(&listed("tag=WGS&name=three.bam"), &token).await;
    assert_eq!(names(&reply), ["three.bam"]);
    // Nothing here comes from a task.
    let reply = ctx.get(&listed("origin.task=T1"), &token).await;
    assert_eq!((reply.total(), names(&reply).len()), (0, 0));
}

backends!(#[actix_web::test] async patch_renames_and_sets_tags_and_metadata);
async fn patch_renames_and_sets_tags_and_metadata(ctx: Ctx) {
    let (alice, token) = ctx.user("alice");
    let project = ferry_testkit::project(ctx.db.store(), &alice, "Edits");
    let file = ctx.seed_file(&alice, &project, "/", "a.bam", b"a");
    ctx.seed_file(&alice, &project, "/", "taken.bam", b"t");
    ctx.folder_id(&project, "/dir");
    let path = format!("/v2/files/{file}");

    let reply = ctx.patch(&path, &token, json!({"name": "new.bam"})).await;
    assert_eq!(reply.status, 200, "{}", reply.json);
    assert_eq!(
        (&reply.json["name"], &reply.json["id"]),
        (&json!("new.bam"), &json!(file))
    );
    let reply = ctx
        .patch(
            &path,
            &token,
            json!({"metadata": {"a": "1"}, "tags": ["x"]}),
        )
        .await;
    assert_eq!(
        (&reply.json["metadata"], &reply.json["tags"]),
        (&json!({"a": "1"}), &json!(["x"]))
    );
    // PATCH sets the whole metadata: keys left out go.
    let reply = ctx
        .patch(&path, &token, json!({"metadata": {"b": 2}}))
        .await;
    assert_eq!(reply.json["metadata"], json!({"b": 2}));
    assert_eq!(reply.json["tags"], json!(["x"]));
    // Renaming to its own name is no conflict.
    assert_eq!(
        ctx.patch(&path, &token, json!({"name": "new.bam"}))
            .await
            .status,
        200
    );

    assert_sbg_error(
        &ctx.patch(&path, &token, json!({"name": "taken.bam"})).await,
        409,
        5003,
    );
    assert_sbg_error(
        &ctx.patch(&path, &token, json!({"name": "dir"})).await,
        409,
        5003,
    );
    for bad in ["a/b", "", "..", "x\ny"] {
        assert_sbg_error(
            &ctx.patch(&path, &token, json!({"name": bad})).await,
            400,
            5024,
        );
    }
    assert_sbg_error(
        &ctx.patch(&path, &token, json!({"metadata": {"a": [1]}}))
            .await,
        400,
        5006,
    );
    assert_sbg_error(
        &ctx.patch(&path, &token, json!({"tags": ["a,b"]})).await,
        400,
        90000,
    );
    assert_sbg_error(
        &ctx.patch(&path, &token, json!({"tags": "x"})).await,
        400,
        90009,
    );
    let folder = ctx.folder_id(&project, "/dir");
    assert_sbg_error(
        &ctx.patch(
            &format!("/v2/files/{folder}"),
            &token,
            json!({"name": "d2"}),
        )
        .await,
        400,
        90000,
    );
    assert_sbg_error(
        &ctx.patch(
            "/v2/files/000000000000000000000000",
            &token,
            json!({"name": "x"}),
        )
        .await,
        404,
        5002,
    );

    let (viewer, viewer_token) = ctx.user("viewer");
    add_member(&ctx, &project, &viewer, Level::View);
    assert_eq!(ctx.get(&path, &viewer_token).await.status, 200);
    assert_sbg_error(
        &ctx.patch(&path, &viewer_token, json!({"name": "v.bam"}))
            .await,
        403,
        5001,
    );
    let (_, stranger) = ctx.user("stranger");
    assert_sbg_error(
        &ctx.patch(&path, &stranger, json!({"name": "s.bam"})).await,
        404,
        5002,
    );

    let reply = ctx.get(&path, &token).await;
    assert_eq!(reply.json["name"], "new.bam");
    let listed = ctx
        .get(
            &format!("/v2/files?project={}&name=new.bam", project.sbg_id),
            &token,
        )
        .await;
    assert_eq!(listed.total(), 1);
}

backends!(#[actix_web::test] async metadata_is_replaced_by_put_and_merged_by_patch);
async fn metadata_is_replaced_by_put_and_merged_by_patch(ctx: Ctx) {
    let (alice, token) = ctx.user("alice");
    let project = ferry_testkit::project(ctx.db.store(), &alice, "Meta");
    let file = ctx.seed_file(&alice, &project, "/", "a.bam", b"a");
    let path = format!("/v2/files/{file}/metadata");

    assert_eq!(ctx.get(&path, &token).await.json, json!({}));
    let reply = ctx
        .put(
            &path,
            &token,
            json!({"sample_id": "S1", "lane": 1, "paired": true}),
        )
        .await;
    assert_eq!(reply.status, 200, "{}", reply.json);
    assert_eq!(
        reply.json,
        json!({"sample_id": "S1", "lane": 1, "paired": true})
    );
    let reply = ctx
        .patch(&path, &token, json!({"sample_id": "S9", "lane": null}))
        .await;
    assert_eq!(reply.json, json!({"sample_id": "S9", "paired": true}));
    let reply = ctx
        .put(&path, &token, json!({"only": "this", "dropped": null}))
        .await;
    assert_eq!(reply.json, json!({"only": "this"}));
    assert_eq!(ctx.get(&path, &token).await.json, json!({"only": "this"}));
    assert_eq!(
        ctx.get(&format!("/v2/files/{file}"), &token).await.json["metadata"],
        json!({"only": "this"})
    );

    for bad in [
        json!({"a": {"b": 1}}),
        json!({"a": [1]}),
        json!({"": "x"}),
        json!({"a": "v".repeat(301)}),
        json!({"k".repeat(101): "v"}),
    ] {
        assert_sbg_error(&ctx.put(&path, &token, bad.clone()).await, 400, 5006);
        assert_sbg_error(&ctx.patch(&path, &token, bad).await, 400, 5006);
    }
    let many: serde_json::Map<String, Value> =
        (0..1001).map(|i| (format!("k{i}"), json!(i))).collect();
    assert_sbg_error(
        &ctx.put(&path, &token, Value::Object(many)).await,
        400,
        5006,
    );
    assert_sbg_error(
        &ctx.put(&path, &token, json!(["not", "an", "object"])).await,
        400,
        90009,
    );

    let folder = ctx.folder_id(&project, "/dir");
    assert_eq!(
        ctx.get(&format!("/v2/files/{folder}/metadata"), &token)
            .await
            .json,
        json!({})
    );
    assert_sbg_error(
        &ctx.put(
            &format!("/v2/files/{folder}/metadata"),
            &token,
            json!({"a": "1"}),
        )
        .await,
        400,
        90000,
    );
    let (viewer, viewer_token) = ctx.user("viewer");
    add_member(&ctx, &project, &viewer, Level::View);
    assert_eq!(
        ctx.get(&path, &viewer_token).await.json,
        json!({"only": "this"})
    );
    assert_sbg_error(
        &ctx.patch(&path, &viewer_token, json!({"a": "1"})).await,
        403,
        5001,
    );
    assert_sbg_error(
        &ctx.get("/v2/files/000000000000000000000000/metadata", &token)
            .await,
        404,
        5002,
    );
}

backends!(#[actix_web::test] async tags_are_replaced_by_put);
async fn tags_are_replaced_by_put(ctx: Ctx) {
    let (alice, token) = ctx.user("alice");
    let project = ferry_testkit::project(ctx.db.store(), &alice, "Tags");
    let file = ctx.seed_file(&alice, &project, "/", "a.bam", b"a");
    let path = format!("/v2/files/{file}/tags");

    let reply = ctx.put(&path, &token, json!(["x", "y"])).await;
    assert_eq!(
        (reply.status.as_u16(), &reply.json),
        (200, &json!(["x", "y"]))
    );
    let reply = ctx.put(&path, &token, json!([])).await;
    assert_eq!(reply.json, json!([]));
    assert_eq!(
        ctx.get(&format!("/v2/files/{file}"), &token).await.json["tags"],
        json!([])
    );

    assert_sbg_error(&ctx.put(&path, &token, json!(["a,b"])).await, 400, 90000);
    assert_sbg_error(
        &ctx.put(&path, &token, json!({"tags": ["a"]})).await,
        400,
        90009,
    );
    let (viewer, viewer_token) = ctx.user("viewer");
    add_member(&ctx, &project, &viewer, Level::View);
    assert_sbg_error(
        &ctx.put(&path, &viewer_token, json!(["v"])).await,
        403,
        5001,
    );
    assert_sbg_error(
        &ctx.put("/v2/files/000000000000000000000000/tags", &token, json!([]))
            .await,
        404,
        5002,
    );
}

backends!(#[actix_web::test] async delete_removes_files_and_empty_folders_only);
async fn delete_removes_files_and_empty_folders_only(ctx: Ctx) {
    let (alice, token) = ctx.user("alice");
    let project = ferry_testkit::project(ctx.db.store(), &alice, "Deletes");
    let file = ctx.seed_file(&alice, &project, "/", "a.bam", b"a");
    let inner = ctx.seed_file(&alice, &project, "/full", "inner.bam", b"i");
    let full = ctx.folder_id(&project, "/full");
    let empty = ctx.folder_id(&project, "/empty");
    let root = root_id(&ctx, &project);
    let (viewer, viewer_token) = ctx.user("viewer");
    add_member(&ctx, &project, &viewer, Level::View);

    assert_sbg_error(
        &ctx.delete(&format!("/v2/files/{file}"), &viewer_token)
            .await,
        403,
        5001,
    );
    let objects_before = object_count(&ctx);
    let reply = ctx.delete(&format!("/v2/files/{file}"), &token).await;
    assert_eq!(reply.status, 204, "{}", reply.json);
    assert_sbg_error(
        &ctx.get(&format!("/v2/files/{file}"), &token).await,
        404,
        5002,
    );
    assert_sbg_error(
        &ctx.delete(&format!("/v2/files/{file}"), &token).await,
        404,
        5002,
    );
    // The object went with its last placement.
    assert_eq!(object_count(&ctx), objects_before - 1);

    assert_sbg_error(
        &ctx.delete(&format!("/v2/files/{full}"), &token).await,
        409,
        5021,
    );
    assert_eq!(
        ctx.get(&format!("/v2/files/{inner}"), &token).await.status,
        200
    );
    assert_sbg_error(
        &ctx.delete(&format!("/v2/files/{root}"), &token).await,
        400,
        90000,
    );
    assert_eq!(
        ctx.delete(&format!("/v2/files/{empty}"), &token)
            .await
            .status,
        204
    );
    assert_sbg_error(
        &ctx.get(&format!("/v2/files/{empty}"), &token).await,
        404,
        5002,
    );
    assert_sbg_error(&ctx.delete("/v2/files/bad", &token).await, 404, 5002);
    // DELETE carries `{}` from the SDK.
    let reply = ctx
        .send(
            Method::DELETE,
            &format!("/v2/files/{inner}"),
            Some(&token),
            Some(json!({})),
        )
        .await;
    assert_eq!(reply.status, 204);
    assert_eq!(
        ctx.delete(&format!("/v2/files/{full}"), &token)
            .await
            .status,
        204
    );
}

backends!(#[actix_web::test] async folders_are_created_under_a_project_or_a_folder);
async fn folders_are_created_under_a_project_or_a_folder(ctx: Ctx) {
    let (alice, token) = ctx.user("alice");
    let project = ferry_testkit::project(ctx.db.store(), &alice, "Folders");
    let root = root_id(&ctx, &project);
    let id = project.sbg_id.as_str();

    let reply = ctx
        .post(
            "/v2/files",
            &token,
            json!({"name": "runs", "type": "folder", "project": id}),
        )
        .await;
    assert_eq!(reply.status, 201, "{}", reply.json);
    assert_eq!(
        (&reply.json["type"], &reply.json["name"]),
        (&json!("folder"), &json!("runs"))
    );
    assert_eq!(
        (&reply.json["parent"], &reply.json["project"]),
        (&json!(root), &json!(id))
    );
    let runs = reply.json["id"].as_str().unwrap().to_owned();
    assert_eq!(
        ctx.get(&format!("/v2/files/{runs}"), &token).await.json,
        reply.json
    );

    let reply = ctx
        .post(
            "/v2/files",
            &token,
            json!({"name": "2024-01_run.v2", "type": "folder", "parent": runs}),
        )
        .await;
    assert_eq!(reply.status, 201, "{}", reply.json);
    assert_eq!(reply.json["parent"], runs.as_str());
    // The type in any case, as Seven Bridges' own recipes send it.
    let shouted = json!({"name": "SHOUTED", "type": "FOLDER", "parent": runs});
    let reply = ctx.post("/v2/files", &token, shouted).await;
    assert_eq!(reply.status, 201, "{}", reply.json);
    assert_eq!(reply.json["type"], "folder");
    let listed = ctx.get(&format!("/v2/files/{runs}/list"), &token).await;
    assert_eq!(names(&listed), ["2024-01_run.v2", "SHOUTED"]);

    let folder = |name: &str| json!({"name": name, "type": "folder", "project": id});
    let taken = ctx.post("/v2/files", &token, folder("runs")).await;
    assert_sbg_error(&taken, 409, 5030);
    // The name as the client wrote it, not the Debug text of Ferry's type.
    assert_eq!(
        taken.json["message"],
        r#"A file or folder named "runs" already exists here."#
    );
    ctx.seed_file(&alice, &project, "/", "a.bam", b"a");
    assert_sbg_error(
        &ctx.post("/v2/files", &token, folder("a.bam")).await,
        409,
        5030,
    );
    for bad in ["", "a b", "__x", "..", ".", "a/b", "é", &"a".repeat(256)] {
        assert_sbg_error(&ctx.post("/v2/files", &token, folder(bad)).await, 400, 5024);
    }
    assert_sbg_error(
        &ctx.post(
            "/v2/files",
            &token,
            json!({"type": "folder", "project": id}),
        )
        .await,
        400,
        5024,
    );
    assert_sbg_error(
        &ctx.post(
            "/v2/files",
            &token,
            json!({"name": "x", "type": "file", "project": id}),
        )
        .await,
        400,
        5012,
    );
    assert_sbg_error(
        &ctx.post("/v2/files", &token, json!({"name": "x", "project": id}))
            .await,
        400,
        5012,
    );
    assert_sbg_error(
        &ctx.post(
            "/v2/files",
            &token,
            json!({"name": "x", "type": "folder", "project": id, "parent": root}),
        )
        .await,
        400,
        5031,
    );
    assert_sbg_error(
        &ctx.post("/v2/files", &token, json!({"name": "x", "type": "folder"}))
            .await,
        400,
        5029,
    );
    assert_sbg_error(
        &ctx.post(
            "/v2/files",
            &token,
            json!({"name": "x", "type": "folder", "project": "bad"}),
        )
        .await,
        400,
        3012,
    );
    assert_sbg_error(
        &ctx.post(
            "/v2/files",
            &token,
            json!({"name": "x", "type": "folder", "project": "alice/none"}),
        )
        .await,
        404,
        3002,
    );
    let unknown = json!({"name": "x", "type": "folder", "parent": "000000000000000000000000"});
    assert_sbg_error(&ctx.post("/v2/files", &token, unknown).await, 404, 5026);
    let file = ctx.seed_file(&alice, &project, "/", "b.bam", b"b");
    assert_sbg_error(
        &ctx.post(
            "/v2/files",
            &token,
            json!({"name": "x", "type": "folder", "parent": file}),
        )
        .await,
        400,
        5022,
    );

    let (viewer, viewer_token) = ctx.user("viewer");
    add_member(&ctx, &project, &viewer, Level::View);
    assert_sbg_error(
        &ctx.post("/v2/files", &viewer_token, folder("v")).await,
        403,
        5001,
    );
    let (_, stranger) = ctx.user("stranger");
    assert_sbg_error(
        &ctx.post("/v2/files", &stranger, folder("s")).await,
        404,
        3002,
    );
}

backends!(#[actix_web::test] async concurrent_creations_of_one_folder_make_one);
async fn concurrent_creations_of_one_folder_make_one(ctx: Ctx) {
    let (alice, token) = ctx.user("alice");
    let project = ferry_testkit::project(ctx.db.store(), &alice, "Race");
    let body = json!({"name": "same", "type": "folder", "project": project.sbg_id.as_str()});
    let replies =
        futures_util::future::join_all((0..6).map(|_| ctx.post("/v2/files", &token, body.clone())))
            .await;
    let created = replies.iter().filter(|r| r.status == 201).count();
    assert_eq!(
        created,
        1,
        "{:?}",
        replies.iter().map(|r| &r.json).collect::<Vec<_>>()
    );
    for reply in replies.iter().filter(|r| r.status != 201) {
        assert_sbg_error(reply, 409, 5030);
    }
}

backends!(#[actix_web::test] async a_download_link_serves_the_bytes_without_a_token);
async fn a_download_link_serves_the_bytes_without_a_token(ctx: Ctx) {
    let (alice, token) = ctx.user("alice");
    let project = ferry_testkit::project(ctx.db.store(), &alice, "Downloads");
    let bytes: Vec<u8> = (0..600_000u32).map(|i| (i % 251) as u8).collect();
    let file = ctx.seed_file(&alice, &project, "/", "big.bin", &bytes);

    let reply = ctx
        .get(&format!("/v2/files/{file}/download_info"), &token)
        .await;
    assert_eq!(reply.status, 200, "{}", reply.json);
    let url = local(&reply.json["url"]);
    assert!(
        url.starts_with(&format!("/v2/files/{file}/download?token=")),
        "{url}"
    );

    let app = actix_web::test::init_service(ferry_api::app(ctx.state.clone())).await;
    let request = actix_web::test::TestRequest::get().uri(&url).to_request();
    let response = actix_web::test::call_service(&app, request).await;
    assert_eq!(response.status(), 200);
    let header = |name: &str| {
        response
            .headers()
            .get(name)
            .unwrap()
            .to_str()
            .unwrap()
            .to_owned()
    };
    assert_eq!(header("content-type"), "application/octet-stream");
    assert!(header("content-disposition").contains("big.bin"));
    assert_eq!(actix_web::test::read_body(response).await, bytes);

    let (prefix, signature) = url.rsplit_once('.').unwrap();
    let tampered = format!("{prefix}.{}", signature.replace(|c: char| c != '0', "0"));
    assert_sbg_error(&anonymous_get(&ctx, &tampered).await, 403, 90002);
    assert_sbg_error(
        &anonymous_get(&ctx, &format!("/v2/files/{file}/download")).await,
        403,
        90002,
    );
    let other = ctx.seed_file(&alice, &project, "/", "other.bin", b"o");
    let token_part = url.split_once("token=").unwrap().1;
    assert_sbg_error(
        &anonymous_get(
            &ctx,
            &format!("/v2/files/{other}/download?token={token_part}"),
        )
        .await,
        403,
        90002,
    );

    let folder = ctx.folder_id(&project, "/dir");
    assert_sbg_error(
        &ctx.get(&format!("/v2/files/{folder}/download_info"), &token)
            .await,
        400,
        90000,
    );
    let (_, stranger) = ctx.user("stranger");
    assert_sbg_error(
        &ctx.get(&format!("/v2/files/{file}/download_info"), &stranger)
            .await,
        404,
        5002,
    );
    // A link outlives nothing: once the file is gone, so is the download.
    assert_eq!(
        ctx.delete(&format!("/v2/files/{file}"), &token)
            .await
            .status,
        204
    );
    assert_sbg_error(&anonymous_get(&ctx, &url).await, 404, 5002);
}

backends!(#[actix_web::test] async a_download_link_serves_byte_ranges);
/// What `sevenbridges-python` does for any file over 5 MiB: one ranged GET per part. The link
/// used to ignore `Range` and send the whole file each time, which the SDK wrote at each part's
/// offset: a silently corrupt download.
async fn a_download_link_serves_byte_ranges(ctx: Ctx) {
    let (alice, token) = ctx.user("alice");
    let project = ferry_testkit::project(ctx.db.store(), &alice, "Ranges");
    let bytes: Vec<u8> = (0..10_000u32).map(|i| (i % 251) as u8).collect();
    let file = ctx.seed_file(&alice, &project, "/", "ranged.bin", &bytes);
    let reply = ctx
        .get(&format!("/v2/files/{file}/download_info"), &token)
        .await;
    let url = local(&reply.json["url"]);
    let app = actix_web::test::init_service(ferry_api::app(ctx.state.clone())).await;
    let fetch = |method: Method, range: Option<&str>| {
        let mut request = actix_web::test::TestRequest::default()
            .method(method)
            .uri(&url);
        if let Some(range) = range {
            request = request.insert_header(("range", range));
        }
        actix_web::test::call_service(&app, request.to_request())
    };
    fn header<B>(response: &actix_web::dev::ServiceResponse<B>, name: &str) -> Option<String> {
        response
            .headers()
            .get(name)
            .map(|value| value.to_str().unwrap().to_owned())
    }
    for (range, start, end) in [
        ("bytes=1000-1999", 1000, 1999),
        ("bytes=9000-", 9000, 9999),
        ("bytes=-10", 9990, 9999),
        ("bytes=9990-20000", 9990, 9999),
        ("bytes=0-0", 0, 0),
    ] {
        let response = fetch(Method::GET, Some(range)).await;
        assert_eq!(response.status(), 206, "{range}");
        assert_eq!(
            header(&response, "content-range").unwrap(),
            format!("bytes {start}-{end}/10000"),
            "{range}"
        );
        assert_eq!(header(&response, "accept-ranges").unwrap(), "bytes");
        let body = actix_web::test::read_body(response).await;
        assert_eq!(body, bytes[start..=end], "{range}");
    }
    let response = fetch(Method::GET, Some("bytes=10000-")).await;
    assert_eq!(response.status(), 416);
    assert_eq!(header(&response, "content-range").unwrap(), "bytes */10000");

    // A HEAD says what a GET would send, and sends nothing.
    let response = fetch(Method::HEAD, None).await;
    assert_eq!(response.status(), 200);
    let sha256 = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(&bytes));
    assert_eq!(header(&response, "etag").unwrap(), format!("\"{sha256}\""));
    assert!(
        header(&response, "content-disposition")
            .unwrap()
            .contains("ranged.bin")
    );
    assert!(actix_web::test::read_body(response).await.is_empty());

    // Bytes changed behind the store's back are never served whole: the body is cut short.
    let path = ctx.db.store().content().path_of(&sha256).unwrap();
    let mut corrupt = bytes.clone();
    corrupt[5000] ^= 1;
    std::fs::write(&path, &corrupt).unwrap();
    let response = fetch(Method::GET, None).await;
    assert_eq!(response.status(), 200);
    assert!(
        actix_web::body::to_bytes(response.into_body())
            .await
            .is_err()
    );
}

backends!(#[actix_web::test] async bulk_get_answers_each_id_in_order);
async fn bulk_get_answers_each_id_in_order(ctx: Ctx) {
    let (alice, token) = ctx.user("alice");
    let (bob, _) = ctx.user("bob");
    let project = ferry_testkit::project(ctx.db.store(), &alice, "Bulk");
    let foreign = ferry_testkit::project(ctx.db.store(), &bob, "Foreign");
    let file = ctx.seed_file(&alice, &project, "/", "a.bam", b"a");
    let folder = ctx.folder_id(&project, "/dir");
    let hidden = ctx.seed_file(&bob, &foreign, "/", "b.bam", b"b");

    let ids = json!([
        file,
        folder,
        hidden,
        "000000000000000000000000",
        "bad",
        file
    ]);
    let reply = ctx
        .post("/v2/bulk/files/get", &token, json!({"file_ids": ids}))
        .await;
    assert_eq!(reply.status, 200, "{}", reply.json);
    let items = reply.json["items"].as_array().unwrap();
    assert_eq!(items.len(), 6);
    assert_eq!(
        items[0]["resource"],
        ctx.get(&format!("/v2/files/{file}"), &token).await.json
    );
    assert_eq!(items[1]["resource"]["type"], "folder");
    for item in &items[2..5] {
        assert_eq!(
            (&item["error"]["status"], &item["error"]["code"]),
            (&json!(404), &json!(5002))
        );
        assert!(item["error"]["message"].is_string() && item["error"]["more_info"].is_string());
    }
    assert_eq!(items[5]["resource"]["id"], file.as_str());

    assert_sbg_error(
        &ctx.post("/v2/bulk/files/get", &token, json!({"file_ids": []}))
            .await,
        400,
        90000,
    );
    let too_many: Vec<String> = (0..101).map(|_| file.clone()).collect();
    assert_sbg_error(
        &ctx.post("/v2/bulk/files/get", &token, json!({"file_ids": too_many}))
            .await,
        400,
        90000,
    );
    assert_sbg_error(
        &ctx.post("/v2/bulk/files/get", &token, json!({"files": [file]}))
            .await,
        400,
        90009,
    );
}

backends!(#[actix_web::test] async bulk_update_replaces_and_bulk_edit_merges);
async fn bulk_update_replaces_and_bulk_edit_merges(ctx: Ctx) {
    let (alice, token) = ctx.user("alice");
    let project = ferry_testkit::project(ctx.db.store(), &alice, "Bulk");
    let a = ctx.seed_file(&alice, &project, "/", "a.bam", b"a");
    let b = ctx.seed_file(&alice, &project, "/", "b.bam", b"b");
    ctx.seed_file(&alice, &project, "/", "taken.bam", b"t");
    let folder = ctx.folder_id(&project, "/dir");
    for id in [&a, &b] {
        ctx.patch(
            &format!("/v2/files/{id}"),
            &token,
            json!({"tags": ["t"], "metadata": {"k": "v", "x": "1"}}),
        )
        .await;
    }

    let reply = ctx
        .post(
            "/v2/bulk/files/edit",
            &token,
            json!({"items": [
                {"id": a, "metadata": {"x": "2", "k": null}},
                {"id": b, "name": "b2.bam"},
            ]}),
        )
        .await;
    assert_eq!(reply.status, 200, "{}", reply.json);
    let items = &reply.json["items"];
    assert_eq!(items[0]["resource"]["metadata"], json!({"x": "2"}));
    assert_eq!(items[0]["resource"]["tags"], json!(["t"]));
    assert_eq!(items[1]["resource"]["name"], "b2.bam");
    assert_eq!(
        items[1]["resource"]["metadata"],
        json!({"k": "v", "x": "1"})
    );

    let reply = ctx
        .post(
            "/v2/bulk/files/update",
            &token,
            json!({"items": [
                {"id": a, "name": "a.bam", "metadata": {"only": "1"}},
                {"id": b, "tags": ["new"]},
                {"id": "000000000000000000000000", "name": "x"},
                {"id": folder, "name": "y"},
                {"id": a, "name": "taken.bam"},
                {"id": b, "metadata": {"bad": [1]}},
                {"id": b, "name": "bad/name"},
            ]}),
        )
        .await;
    assert_eq!(reply.status, 200, "{}", reply.json);
    let items = reply.json["items"].as_array().unwrap();
    assert_eq!(items.len(), 7);
    assert_eq!(items[0]["resource"]["metadata"], json!({"only": "1"}));
    assert_eq!(items[0]["resource"]["tags"], json!([]));
    assert_eq!(items[1]["resource"]["tags"], json!(["new"]));
    assert_eq!(items[1]["resource"]["metadata"], json!({}));
    assert_eq!(items[1]["resource"]["name"], "b2.bam");
    let codes: Vec<(&Value, &Value)> = items[2..]
        .iter()
        .map(|i| (&i["error"]["status"], &i["error"]["code"]))
        .collect();
    assert_eq!(
        codes,
        [
            (&json!(404), &json!(5002)),
            (&json!(400), &json!(90000)),
            (&json!(409), &json!(5003)),
            (&json!(400), &json!(5006)),
            (&json!(400), &json!(5024))
        ]
    );
    let stored = ctx.get(&format!("/v2/files/{a}"), &token).await.json;
    assert_eq!(
        (&stored["name"], &stored["metadata"]),
        (&json!("a.bam"), &json!({"only": "1"}))
    );

    // Renames within one call see each other: a name freed earlier may be taken later, a
    // name taken earlier may not.
    let reply = ctx
        .post(
            "/v2/bulk/files/edit",
            &token,
            json!({"items": [
                {"id": a, "name": "a-old.bam"},
                {"id": b, "name": "a.bam"},
                {"id": a, "name": "a.bam"},
            ]}),
        )
        .await;
    let items = reply.json["items"].as_array().unwrap();
    assert_eq!(items[0]["resource"]["name"], "a-old.bam");
    assert_eq!(items[1]["resource"]["name"], "a.bam");
    assert_eq!(items[2]["error"]["code"], 5003);

    let (viewer, viewer_token) = ctx.user("viewer");
    add_member(&ctx, &project, &viewer, Level::View);
    let reply = ctx
        .post(
            "/v2/bulk/files/update",
            &viewer_token,
            json!({"items": [{"id": a, "name": "v.bam"}]}),
        )
        .await;
    assert_eq!(reply.json["items"][0]["error"]["code"], 5001);
    assert_sbg_error(
        &ctx.post("/v2/bulk/files/update", &token, json!({"items": []}))
            .await,
        400,
        90000,
    );
    let too_many: Vec<Value> = (0..101).map(|_| json!({"id": a})).collect();
    assert_sbg_error(
        &ctx.post("/v2/bulk/files/edit", &token, json!({"items": too_many}))
            .await,
        400,
        90000,
    );
}

backends!(#[actix_web::test] async bulk_delete_deletes_what_it_may_and_says_why_not_for_the_rest);
async fn bulk_delete_deletes_what_it_may_and_says_why_not_for_the_rest(ctx: Ctx) {
    let (alice, token) = ctx.user("alice");
    let project = ferry_testkit::project(ctx.db.store(), &alice, "Bulk");
    let a = ctx.seed_file(&alice, &project, "/", "a.bam", b"a");
    let inner = ctx.seed_file(&alice, &project, "/gone", "inner.bam", b"i");
    let gone = ctx.folder_id(&project, "/gone");
    // /kept/sub holds a file that stays, so neither /kept/sub nor /kept can go.
    ctx.seed_file(&alice, &project, "/kept/sub", "stays.bam", b"s");
    let kept = ctx.folder_id(&project, "/kept");
    let sub = ctx.folder_id(&project, "/kept/sub");
    let root = root_id(&ctx, &project);

    let ids = json!([a, gone, inner, kept, sub, root, "000000000000000000000000"]);
    let reply = ctx
        .post("/v2/bulk/files/delete", &token, json!({"file_ids": ids}))
        .await;
    assert_eq!(reply.status, 200, "{}", reply.json);
    let items = reply.json["items"].as_array().unwrap();
    assert_eq!(items[0]["resource"]["id"], a.as_str());
    assert_eq!(items[1]["resource"]["type"], "folder");
    assert_eq!(items[2]["resource"]["name"], "inner.bam");
    let codes: Vec<&Value> = items[3..].iter().map(|i| &i["error"]["code"]).collect();
    assert_eq!(
        codes,
        [&json!(5021), &json!(5021), &json!(90000), &json!(5002)]
    );
    for id in [&a, &gone, &inner] {
        assert_sbg_error(
            &ctx.get(&format!("/v2/files/{id}"), &token).await,
            404,
            5002,
        );
    }
    for id in [&kept, &sub] {
        assert_eq!(
            ctx.get(&format!("/v2/files/{id}"), &token).await.status,
            200
        );
    }

    let (viewer, viewer_token) = ctx.user("viewer");
    add_member(&ctx, &project, &viewer, Level::View);
    let reply = ctx
        .post(
            "/v2/bulk/files/delete",
            &viewer_token,
            json!({"file_ids": [sub]}),
        )
        .await;
    assert_eq!(reply.json["items"][0]["error"]["code"], 5001);
    assert_sbg_error(
        &ctx.post("/v2/bulk/files/delete", &token, json!({"file_ids": []}))
            .await,
        400,
        90000,
    );
}
