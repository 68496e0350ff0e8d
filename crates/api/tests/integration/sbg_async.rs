//! Async copy jobs: `POST /v2/async/files/copy`, `GET /v2/async/files/copy/{id}`, the items,
//! cancel and list endpoints. The jobs are worked in the test's thread with
//! `ferry_usecases::jobs::worker::run_until_idle`, so every step is deterministic.

use std::time::Duration;

use crate::support::{Ctx, PUBLIC_URL, assert_sbg_error};
use ferry_domain::model::{Project, User};
use ferry_store::jobs;
use ferry_testkit::MemberBuilder;
use ferry_testkit::backends;
use ferry_usecases::jobs::worker::{LEASE, run_until_idle, work_one};
use serde_json::{Value, json};

const WORKER: &str = "test-worker";

/// Closed files named `names` in `folder` (created if missing) of `project`; their SBG ids.
fn seed_files(
    ctx: &Ctx,
    user: &User,
    project: &Project,
    folder: &str,
    names: &[&str],
) -> Vec<String> {
    names
        .iter()
        .map(|name| ctx.seed_file(user, project, folder, name, b"async bytes\n"))
        .collect()
}

fn numbered(prefix: &str, count: usize) -> Vec<String> {
    (0..count).map(|i| format!("{prefix}-{i:03}.txt")).collect()
}

fn as_strs(names: &[String]) -> Vec<&str> {
    names.iter().map(String::as_str).collect()
}

async fn submit(ctx: &Ctx, token: &str, items: Value) -> Value {
    let reply = ctx
        .post("/v2/async/files/copy", token, json!({ "items": items }))
        .await;
    assert_eq!(reply.status, 200, "{}", reply.json);
    assert_eq!(reply.json["type"], "COPY");
    assert_eq!(reply.json["state"], "SUBMITTED");
    reply.json
}

async fn job(ctx: &Ctx, token: &str, id: &str) -> Value {
    let reply = ctx.get(&format!("/v2/async/files/copy/{id}"), token).await;
    assert_eq!(reply.status, 200, "{}", reply.json);
    reply.json
}

/// Every item of a list, following `next` links from `path`; asserts the total header.
async fn list_all(ctx: &Ctx, token: &str, path: &str) -> Vec<Value> {
    let mut items = Vec::new();
    let mut next = Some(path.to_owned());
    let mut total = None;
    while let Some(path) = next.take() {
        let reply = ctx.get(&path, token).await;
        assert_eq!(reply.status, 200, "{path}: {}", reply.json);
        total = Some(reply.total());
        items.extend(reply.json["items"].as_array().unwrap().iter().cloned());
        next = reply.json["links"]
            .as_array()
            .unwrap()
            .iter()
            .find(|link| link["rel"] == "next")
            .map(|link| {
                link["href"]
                    .as_str()
                    .unwrap()
                    .strip_prefix(PUBLIC_URL)
                    .unwrap()
                    .to_owned()
            });
    }
    assert_eq!(Some(i64::try_from(items.len()).unwrap()), total, "{path}");
    items
}

/// Names and types in a folder (or a project's root), sorted.
async fn contents(ctx: &Ctx, token: &str, query: &str) -> Vec<(String, String)> {
    let mut found: Vec<(String, String)> =
        list_all(ctx, token, &format!("/v2/files?{query}&limit=100"))
            .await
            .iter()
            .map(|f| {
                (
                    f["name"].as_str().unwrap().to_owned(),
                    f["type"].as_str().unwrap().to_owned(),
                )
            })
            .collect();
    found.sort();
    found
}

fn entry(name: &str, kind: &str) -> (String, String) {
    (name.to_owned(), kind.to_owned())
}

fn states(items: &[Value]) -> Vec<String> {
    let mut states: Vec<String> = items
        .iter()
        .map(|i| i["state"].as_str().unwrap().to_owned())
        .collect();
    states.sort();
    states
}

backends!(#[actix_web::test] async bad_requests_are_refused_up_front_naming_the_item_and_create_no_job);
async fn bad_requests_are_refused_up_front_naming_the_item_and_create_no_job(ctx: Ctx) {
    let (alice, token) = ctx.user("alice");
    let project = ferry_testkit::project(ctx.db.store(), &alice, "P");
    let file = seed_files(&ctx, &alice, &project, "/", &["a.txt"]).remove(0);
    let good = json!({"file": file, "project": project.sbg_id.as_str()});
    let cases: Vec<(Value, u16, u64, Option<&str>)> = vec![
        (json!({"items": []}), 400, 10230, None),
        (json!({}), 400, 10230, None),
        (
            json!({"items": [good, "x"]}),
            400,
            90000,
            Some("items[1]: "),
        ),
        (
            json!({"items": [good, {"project": project.sbg_id.as_str()}]}),
            400,
            5004,
            Some("items[1]: "),
        ),
        (
            json!({"items": [{"file": "", "project": "a/b"}]}),
            400,
            5004,
            Some("items[0]: "),
        ),
        (
            json!({"items": [good, {"file": 7, "project": "a/b"}]}),
            400,
            90000,
            Some("items[1]: "),
        ),
        (
            json!({"items": [{"file": "not-an-id", "project": "a/b"}]}),
            400,
            90000,
            Some("items[0]: "),
        ),
        (
            json!({"items": [good, good, {"file": file, "project": "a/b", "parent": file}]}),
            400,
            5031,
            Some("items[2]: "),
        ),
        (
            json!({"items": [{"file": file, "project": "", "parent": ""}]}),
            400,
            5029,
            Some("items[0]: "),
        ),
        (
            json!({"items": [{"file": file, "project": "no-slash"}]}),
            400,
            3012,
            Some("items[0]: "),
        ),
        (
            json!({"items": [{"file": file, "parent": "nope"}]}),
            404,
            5026,
            Some("items[0]: "),
        ),
        (
            json!({"items": [{"file": file, "project": "a/b", "name": "x/y"}]}),
            400,
            5024,
            Some("items[0]: "),
        ),
    ];
    for (body, status, code, prefix) in cases {
        let reply = ctx.post("/v2/async/files/copy", &token, body.clone()).await;
        assert_sbg_error(&reply, status, code);
        if let Some(prefix) = prefix {
            let message = reply.json["message"].as_str().unwrap();
            assert!(message.starts_with(prefix), "{body}: {message}");
        }
    }
    let too_many: Vec<Value> = std::iter::repeat_n(good.clone(), 100_001).collect();
    let reply = ctx
        .post("/v2/async/files/copy", &token, json!({ "items": too_many }))
        .await;
    assert_sbg_error(&reply, 400, 90000);
    let reply = ctx
        .send(
            actix_web::http::Method::POST,
            "/v2/async/files/copy",
            None,
            Some(json!({"items": [good]})),
        )
        .await;
    assert_sbg_error(&reply, 401, 90001);

    let listed = ctx.get("/v2/async/files", &token).await;
    assert_eq!(
        listed.total(),
        0,
        "a refused request created a job: {}",
        listed.json
    );
    let unknown = ctx
        .get("/v2/async/files/copy/0123456789abcdef", &token)
        .await;
    assert_sbg_error(&unknown, 404, 90003);
    let method = ctx.delete("/v2/async/files/copy", &token).await;
    assert_sbg_error(&method, 405, 90006);
}

backends!(#[actix_web::test] async a_250_file_job_copies_every_file_in_request_order_with_integer_counters);
async fn a_250_file_job_copies_every_file_in_request_order_with_integer_counters(ctx: Ctx) {
    let (alice, token) = ctx.user("alice");
    let source = ferry_testkit::project(ctx.db.store(), &alice, "Source");
    let target = ferry_testkit::project(ctx.db.store(), &alice, "Target");
    let names = numbered("reads", 250);
    let ids = seed_files(&ctx, &alice, &source, "/", &as_strs(&names));
    let items: Vec<Value> = ids
        .iter()
        .rev()
        .map(|id| json!({"file": id, "project": target.sbg_id.as_str(), "parent": "", "name": ""}))
        .collect();
    let submitted = submit(&ctx, &token, json!(items)).await;
    assert_eq!(submitted["total_files"], 250);
    assert!(submitted["total_files"].is_i64() && submitted["completed_files"].is_i64());
    assert_eq!(submitted["result"], json!([]));
    let id = submitted["id"].as_str().unwrap();
    assert_eq!(
        submitted["href"],
        format!("{PUBLIC_URL}/v2/async/files/copy/{id}")
    );
    let pending = list_all(
        &ctx,
        &token,
        &format!("/v2/async/files/copy/{id}/items?limit=100"),
    )
    .await;
    assert_eq!(states(&pending), vec!["pending"; 250]);

    assert_eq!(
        run_until_idle(ctx.db.store(), WORKER).unwrap(),
        1,
        "250 items are one chunk"
    );
    let done = job(&ctx, &token, id).await;
    assert_eq!(done["state"], "FINISHED");
    assert_eq!(done["outcome"], "completed");
    assert_eq!(
        (
            done["total_files"].as_i64(),
            done["completed_files"].as_i64()
        ),
        (Some(250), Some(250))
    );
    assert_eq!(
        (
            done["failed_files"].as_i64(),
            done["cancelled_files"].as_i64()
        ),
        (Some(0), Some(0))
    );
    assert!(done["started_on"].as_str().unwrap().ends_with('Z'));
    assert!(done["finished_on"].as_str().unwrap().ends_with('Z'));
    let result = done["result"].as_array().unwrap();
    let result_names: Vec<&str> = result
        .iter()
        .map(|r| r["resource"]["name"].as_str().unwrap())
        .collect();
    let expected: Vec<&str> = names.iter().rev().map(String::as_str).collect();
    assert_eq!(
        result_names, expected,
        "one entry per item, in request order"
    );
    assert!(
        result
            .iter()
            .all(|r| r["resource"]["project"] == target.sbg_id.as_str()
                && r["resource"]["type"] == "file")
    );

    let copied = contents(&ctx, &token, &format!("project={}", target.sbg_id)).await;
    let expected: Vec<(String, String)> = names.iter().map(|n| entry(n, "file")).collect();
    assert_eq!(copied, expected);
    let listed = ctx.get("/v2/async/files?limit=5", &token).await;
    assert_eq!(listed.total(), 1);
    assert_eq!(listed.json["items"][0]["id"], id);
    assert_eq!(
        listed.json["items"][0]["result"],
        Value::Null,
        "lists leave results out"
    );
    // Another user sees neither the job nor its items.
    let (_, bob) = ctx.user("bob");
    assert_sbg_error(
        &ctx.get(&format!("/v2/async/files/copy/{id}"), &bob).await,
        404,
        90003,
    );
    assert_sbg_error(
        &ctx.get(&format!("/v2/async/files/copy/{id}/items"), &bob)
            .await,
        404,
        90003,
    );
    assert_eq!(ctx.get("/v2/async/files", &bob).await.total(), 0);
}

backends!(#[actix_web::test] async items_that_cannot_be_copied_fail_alone);
async fn items_that_cannot_be_copied_fail_alone(ctx: Ctx) {
    let (alice, token) = ctx.user("alice");
    let (bob, _) = ctx.user("bob");
    let source = ferry_testkit::project(ctx.db.store(), &alice, "Source");
    let target = ferry_testkit::project(ctx.db.store(), &alice, "Target");
    let hidden = ferry_testkit::project(ctx.db.store(), &bob, "Hidden");
    let no_copy = ferry_testkit::project(ctx.db.store(), &bob, "NoCopy");
    let read_only = ferry_testkit::project(ctx.db.store(), &bob, "ReadOnly");
    MemberBuilder::new(&no_copy, &alice).create(ctx.db.store());
    MemberBuilder::new(&read_only, &alice)
        .can_copy()
        .create(ctx.db.store());
    let good = seed_files(&ctx, &alice, &source, "/", &["good.txt", "also.txt"]);
    let secret = seed_files(&ctx, &bob, &hidden, "/", &["secret.txt"]).remove(0);
    let uncopyable = seed_files(&ctx, &bob, &no_copy, "/", &["locked.txt"]).remove(0);
    let data = ctx.folder_id(&source, "/data");
    seed_files(&ctx, &alice, &source, "/data/sub", &["deep.txt"]);
    let sub = ctx.folder_id(&source, "/data/sub");
    let root = ctx.folder_id(&source, "/");
    let to = target.sbg_id.as_str();
    let items = json!([
        {"file": good[0], "project": to},
        {"file": secret, "project": to},
        {"file": uncopyable, "project": to},
        {"file": good[1], "project": read_only.sbg_id.as_str()},
        {"file": good[1], "project": "nobody/nothing"},
        {"file": "0123456789abcdef01234567", "project": to},
        {"file": root, "project": to},
        {"file": data, "parent": sub},
        {"file": data, "project": source.sbg_id.as_str()},
        {"file": data, "project": source.sbg_id.as_str(), "name": "data-copy"},
        {"file": good[1], "parent": ctx.folder_id(&target, "/inbox"), "name": "renamed.txt"},
        {"file": data, "project": to, "name": "no spaces in folder names"},
    ]);
    let id = submit(&ctx, &token, items).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    run_until_idle(ctx.db.store(), WORKER).unwrap();
    let done = job(&ctx, &token, &id).await;
    assert_eq!(done["outcome"], "completed_with_failures", "{done}");
    let result = done["result"].as_array().unwrap();
    let errors: Vec<(i64, i64)> = result
        .iter()
        .filter(|r| !r["error"].is_null())
        .map(|r| {
            (
                r["error"]["status"].as_i64().unwrap(),
                r["error"]["code"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        errors,
        [
            (404, 5002),
            (403, 5014),
            (403, 3001),
            (404, 3002),
            (404, 5002),
            (400, 90000),
            (400, 10229),
            (400, 10229),
            (400, 5024)
        ]
    );
    assert_eq!(result[0]["resource"]["name"], "good.txt");
    assert_eq!(result[9]["resource"]["name"], "data-copy");
    assert_eq!(result[9]["resource"]["type"], "folder");
    assert_eq!(result[10]["resource"]["name"], "renamed.txt");
    // data-copy holds sub, which holds deep.txt: three more items.
    assert_eq!(
        (
            done["completed_files"].as_i64(),
            done["failed_files"].as_i64()
        ),
        (Some(5), Some(9))
    );
    assert_eq!(done["total_files"], 14);
    let copy = contents(
        &ctx,
        &token,
        &format!("parent={}", result[9]["resource"]["id"].as_str().unwrap()),
    )
    .await;
    assert_eq!(copy, [entry("sub", "folder")]);
    assert_eq!(
        contents(&ctx, &token, &format!("project={}", source.sbg_id)).await,
        [
            entry("also.txt", "file"),
            entry("data", "folder"),
            entry("data-copy", "folder"),
            entry("good.txt", "file")
        ],
        "a refused folder copy leaves nothing behind"
    );
}

backends!(#[actix_web::test] async a_folder_tree_three_levels_deep_is_copied_merged_and_renamed);
async fn a_folder_tree_three_levels_deep_is_copied_merged_and_renamed(ctx: Ctx) {
    let (alice, token) = ctx.user("alice");
    let source = ferry_testkit::project(ctx.db.store(), &alice, "Source");
    let target = ferry_testkit::project(ctx.db.store(), &alice, "Target");
    seed_files(&ctx, &alice, &source, "/data", &["a.txt", "b.txt"]);
    seed_files(&ctx, &alice, &source, "/data/sub", &["c.txt"]);
    seed_files(
        &ctx,
        &alice,
        &source,
        "/data/sub/deeper",
        &["d.txt", "e.txt"],
    );
    ctx.folder_id(&source, "/data/empty");
    let data = ctx.folder_id(&source, "/data");
    // The target already has /data (merged into) holding a.txt (the copy becomes 1_a.txt),
    // /data/sub (merged into) and a file named `empty` (the folder becomes 1_empty).
    seed_files(&ctx, &alice, &target, "/data", &["a.txt", "empty"]);
    let target_sub = ctx.folder_id(&target, "/data/sub");
    let target_data = ctx.folder_id(&target, "/data");

    let submitted = submit(
        &ctx,
        &token,
        json!([{"file": data, "project": target.sbg_id.as_str()}]),
    )
    .await;
    let id = submitted["id"].as_str().unwrap();
    run_until_idle(ctx.db.store(), WORKER).unwrap();
    let done = job(&ctx, &token, id).await;
    assert_eq!(done["outcome"], "completed", "{done}");
    assert_eq!(
        done["result"][0]["resource"]["id"],
        target_data.as_str(),
        "merged into /data"
    );
    assert_eq!(done["result"][0]["resource"]["type"], "folder");
    // data, its 4 entries (a, b, sub, empty), sub's 2 (c, deeper), deeper's 2 (d, e).
    assert_eq!(
        (
            done["total_files"].as_i64(),
            done["completed_files"].as_i64()
        ),
        (Some(9), Some(9))
    );

    assert_eq!(
        contents(&ctx, &token, &format!("parent={target_data}")).await,
        [
            entry("1_a.txt", "file"),
            entry("1_empty", "folder"),
            entry("a.txt", "file"),
            entry("b.txt", "file"),
            entry("empty", "file"),
            entry("sub", "folder"),
        ]
    );
    assert_eq!(
        contents(&ctx, &token, &format!("parent={target_sub}")).await,
        [entry("c.txt", "file"), entry("deeper", "folder")]
    );
    let deeper = list_all(
        &ctx,
        &token,
        &format!("/v2/files?parent={target_sub}&name=deeper"),
    )
    .await;
    let deeper = deeper[0]["id"].as_str().unwrap();
    assert_eq!(
        contents(&ctx, &token, &format!("parent={deeper}")).await,
        [entry("d.txt", "file"), entry("e.txt", "file")]
    );
    let items = list_all(
        &ctx,
        &token,
        &format!("/v2/async/files/copy/{id}/items?limit=4"),
    )
    .await;
    let outcome = |name: &str| {
        let item = items.iter().find(|i| i["source_name"] == name).unwrap();
        (
            item["state"].as_str().unwrap().to_owned(),
            item["new_name"].as_str().unwrap().to_owned(),
        )
    };
    assert_eq!(outcome("data"), ("merged".to_owned(), "data".to_owned()));
    assert_eq!(outcome("sub"), ("merged".to_owned(), "sub".to_owned()));
    assert_eq!(
        outcome("a.txt"),
        ("renamed".to_owned(), "1_a.txt".to_owned())
    );
    assert_eq!(
        outcome("empty"),
        ("renamed".to_owned(), "1_empty".to_owned())
    );
    assert_eq!(
        outcome("deeper"),
        ("copied".to_owned(), "deeper".to_owned())
    );
    assert_eq!(outcome("e.txt"), ("copied".to_owned(), "e.txt".to_owned()));
    assert_eq!(items[0]["index"], 0);
    assert!(
        items[1..].iter().all(|i| i["index"].is_null()),
        "entries of copied folders have no index"
    );
}

backends!(#[actix_web::test] async cancel_stops_the_job_at_a_chunk_boundary_and_reports_what_was_done);
async fn cancel_stops_the_job_at_a_chunk_boundary_and_reports_what_was_done(ctx: Ctx) {
    let (alice, token) = ctx.user("alice");
    let source = ferry_testkit::project(ctx.db.store(), &alice, "Source");
    let target = ferry_testkit::project(ctx.db.store(), &alice, "Target");
    let names = numbered("part", 600);
    let ids = seed_files(&ctx, &alice, &source, "/", &as_strs(&names));
    let items: Vec<Value> = ids
        .iter()
        .map(|id| json!({"file": id, "project": target.sbg_id.as_str()}))
        .collect();
    let id = submit(&ctx, &token, json!(items)).await["id"]
        .as_str()
        .unwrap()
        .to_owned();

    assert!(work_one(ctx.db.store(), WORKER).unwrap());
    let running = job(&ctx, &token, &id).await;
    assert_eq!(
        (
            running["state"].as_str(),
            running["completed_files"].as_i64()
        ),
        (Some("RESOLVING"), Some(250))
    );
    assert_eq!(running["outcome"], Value::Null);

    let reply = ctx
        .post(
            &format!("/v2/async/files/copy/{id}/cancel"),
            &token,
            json!({}),
        )
        .await;
    assert_eq!(reply.status, 200, "{}", reply.json);
    let cancelled = reply.json;
    assert_eq!(
        (cancelled["state"].as_str(), cancelled["outcome"].as_str()),
        (Some("FINISHED"), Some("cancelled"))
    );
    assert_eq!(cancelled["completed_files"], 250);
    assert_eq!(cancelled["cancelled_files"], 350);
    assert_eq!(cancelled["failed_files"], 0);
    let result = cancelled["result"].as_array().unwrap();
    assert_eq!(result.len(), 600);
    assert!(
        result[..250]
            .iter()
            .all(|r| r["resource"]["type"] == "file")
    );
    assert!(result[250..].iter().all(|r| r["error"]["status"] == 409));

    assert_eq!(
        run_until_idle(ctx.db.store(), WORKER).unwrap(),
        0,
        "nothing is left to work"
    );
    assert_eq!(
        contents(&ctx, &token, &format!("project={}", target.sbg_id))
            .await
            .len(),
        250
    );
    let again = ctx
        .post(
            &format!("/v2/async/files/copy/{id}/cancel"),
            &token,
            json!({}),
        )
        .await;
    assert_eq!(
        again.json["cancelled_files"], 350,
        "cancelling a finished job changes nothing"
    );
    let items = list_all(
        &ctx,
        &token,
        &format!("/v2/async/files/copy/{id}/items?limit=100"),
    )
    .await;
    let mut expected = vec!["cancelled"; 350];
    expected.extend(vec!["copied"; 250]);
    assert_eq!(states(&items), expected);
}

backends!(#[actix_web::test] async the_items_endpoint_pages_through_every_outcome);
async fn the_items_endpoint_pages_through_every_outcome(ctx: Ctx) {
    let (alice, token) = ctx.user("alice");
    let source = ferry_testkit::project(ctx.db.store(), &alice, "Source");
    let target = ferry_testkit::project(ctx.db.store(), &alice, "Target");
    let files = seed_files(&ctx, &alice, &source, "/", &["x.txt", "y.txt"]);
    seed_files(&ctx, &alice, &source, "/tree", &["in.txt"]);
    seed_files(&ctx, &alice, &target, "/", &["y.txt"]);
    ctx.folder_id(&target, "/tree");
    let tree = ctx.folder_id(&source, "/tree");
    let to = target.sbg_id.as_str();
    let items = json!([
        {"file": files[0], "project": to},
        {"file": files[1], "project": to},
        {"file": tree, "project": to},
        {"file": "0123456789abcdef01234567", "project": to},
    ]);
    let id = submit(&ctx, &token, items).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    run_until_idle(ctx.db.store(), WORKER).unwrap();

    let path = format!("/v2/async/files/copy/{id}/items?limit=2");
    let items = list_all(&ctx, &token, &path).await;
    let seen: Vec<(&str, &str)> = items
        .iter()
        .map(|i| {
            (
                i["source_name"].as_str().unwrap_or("?"),
                i["state"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        seen,
        [
            ("x.txt", "copied"),
            ("y.txt", "renamed"),
            ("tree", "merged"),
            ("?", "failed"),
            ("in.txt", "copied")
        ]
    );
    assert_eq!(items[1]["new_name"], "1_y.txt");
    assert_eq!(items[3]["error"]["code"], 5002);
    assert_eq!(items[3]["error"]["status"], 404);
    assert_eq!(
        items[4]["parent"], items[2]["new_id"],
        "an entry is copied into its folder's copy"
    );
    assert!(items.iter().all(|i| i["worker"] == WORKER));
    let bad_page = ctx
        .get(&format!("/v2/async/files/copy/{id}/items?limit=0"), &token)
        .await;
    assert_sbg_error(&bad_page, 400, 90000);
}

backends!(#[actix_web::test] async a_lapsed_claim_cannot_commit_and_a_chunk_that_keeps_failing_is_given_up);
async fn a_lapsed_claim_cannot_commit_and_a_chunk_that_keeps_failing_is_given_up(ctx: Ctx) {
    let (alice, token) = ctx.user("alice");
    let source = ferry_testkit::project(ctx.db.store(), &alice, "Source");
    let file = seed_files(&ctx, &alice, &source, "/", &["f.txt"]).remove(0);
    let items = json!([{"file": file, "project": source.sbg_id.as_str(), "name": "g.txt"}]);
    let id = submit(&ctx, &token, items).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let store = ctx.db.store();
    let mut conn = store.conn().unwrap();
    // Five workers claim the chunk in turn, each lease lapsing at once; the first cannot
    // work it any more, and the sixth claim gives up.
    let chunk = jobs::claim(&mut conn, "first", Duration::ZERO)
        .unwrap()
        .unwrap();
    for worker in ["second", "third", "fourth", "fifth"] {
        assert_eq!(
            jobs::claim(&mut conn, worker, Duration::ZERO).unwrap(),
            Some(chunk)
        );
    }
    assert_eq!(jobs::lock_claimed(&mut conn, chunk, "first").unwrap(), None);
    assert_eq!(jobs::claim(&mut conn, "sixth", LEASE).unwrap(), Some(chunk));
    assert_eq!(
        jobs::claim(&mut conn, "seventh", LEASE).unwrap(),
        None,
        "the lease holds"
    );
    drop(conn);
    // The sixth worker holds it; reclaim it as the test's worker once its lease is gone.
    let mut conn = store.conn().unwrap();
    jobs::release_claims(&mut conn).unwrap();
    drop(conn);
    assert!(work_one(store, WORKER).unwrap());
    let done = job(&ctx, &token, &id).await;
    assert_eq!(done["outcome"], "completed_with_failures");
    assert_eq!(done["result"][0]["error"]["status"], 500);
    assert_eq!(
        contents(&ctx, &token, &format!("project={}", source.sbg_id)).await,
        [entry("f.txt", "file")]
    );
}

backends!(#[actix_web::test] async finished_jobs_are_purged_after_the_retention_period);
async fn finished_jobs_are_purged_after_the_retention_period(ctx: Ctx) {
    let (alice, token) = ctx.user("alice");
    let source = ferry_testkit::project(ctx.db.store(), &alice, "Source");
    let file = seed_files(&ctx, &alice, &source, "/", &["f.txt"]).remove(0);
    let items = json!([{"file": file, "project": source.sbg_id.as_str()}]);
    let finished = submit(&ctx, &token, items.clone()).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    run_until_idle(ctx.db.store(), WORKER).unwrap();
    let unfinished = submit(&ctx, &token, items).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let mut conn = ctx.db.store().conn().unwrap();
    let now = chrono::Utc::now();
    assert_eq!(
        jobs::purge_finished_before(&mut conn, now - chrono::TimeDelta::days(1), 10).unwrap(),
        0
    );
    assert_eq!(
        jobs::purge_finished_before(&mut conn, now + chrono::TimeDelta::seconds(1), 10).unwrap(),
        1
    );
    assert_sbg_error(
        &ctx.get(&format!("/v2/async/files/copy/{finished}"), &token)
            .await,
        404,
        90003,
    );
    assert_eq!(job(&ctx, &token, &unfinished).await["state"], "SUBMITTED");
}
