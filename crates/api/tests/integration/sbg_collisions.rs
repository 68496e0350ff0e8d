//! Ferry's collision policy on the SBG copies (`?collision=`, docs/sbg.md "Collisions") and
//! their dry run (`?dry_run=true`): each policy does what it says to a name held by an
//! identical file, another file, a folder, and to a free name; each dry run answers exactly
//! what the real run that follows it does, and writes nothing.

use ferry_domain::model::{Project, User};
use serde_json::{Value, json};

use crate::support::{Ctx, Reply, assert_sbg_error};
use ferry_testkit::backends;

/// The names in a project's root, sorted.
async fn root(ctx: &Ctx, token: &str, project: &Project) -> Vec<String> {
    let reply = ctx
        .get(
            &format!("/v2/files?project={}&limit=100", project.sbg_id),
            token,
        )
        .await;
    let mut names: Vec<String> = reply.json["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|item| item["name"].as_str().unwrap().to_owned())
        .collect();
    names.sort();
    names
}

/// A project whose root holds `a.txt` (the same bytes as the source's), `b.txt` (other bytes)
/// and a folder `c.txt`; returns it with the ids of what holds `a.txt`, `b.txt` and `c.txt`.
fn target(ctx: &Ctx, alice: &User, name: &str) -> (Project, [String; 3]) {
    let project = ferry_testkit::project(ctx.db.store(), alice, name);
    let a = ctx.seed_file(alice, &project, "/", "a.txt", b"A");
    let b = ctx.seed_file(alice, &project, "/", "b.txt", b"other");
    let c = ctx.folder_id(&project, "/c.txt");
    (project, [a, b, c])
}

/// A batch's answer with the new copies' ids left out: a dry run draws ids the real run does
/// not keep.
fn without_new_ids(reply: &Reply) -> Value {
    let mut json = reply.json.clone();
    for entry in json.as_object_mut().unwrap().values_mut() {
        if let Some(id) = entry.get_mut("new_file_id") {
            *id = json!("<new>");
        }
    }
    json
}

backends!(#[actix_web::test] async each_collision_policy_does_what_it_says_and_its_dry_run_matches);
async fn each_collision_policy_does_what_it_says_and_its_dry_run_matches(ctx: Ctx) {
    let (alice, token) = ctx.user("alice");
    let source = ferry_testkit::project(ctx.db.store(), &alice, "Source");
    let ids = [
        ctx.seed_file(&alice, &source, "/", "a.txt", b"A"),
        ctx.seed_file(&alice, &source, "/", "b.txt", b"B"),
        ctx.seed_file(&alice, &source, "/", "c.txt", b"C"),
        ctx.seed_file(&alice, &source, "/", "d.txt", b"D"),
    ];
    let ok = |name: &str| json!({"status": "OK", "new_file_id": "<new>", "new_file_name": name});
    let skipped = |name: &str, existing: &str| json!({"status": "SKIPPED", "existing_file_id": existing, "name": name});
    let taken = |name: &str| {
        json!({"status": 409, "code": 5003,
               "message": format!("A file or folder named {name:?} already exists here."),
               "more_info": "https://docs.sevenbridges.com/docs/api-status-codes"})
    };
    for (i, policy) in ["rename", "skip", "fail", "skip_identical"]
        .iter()
        .enumerate()
    {
        let (project, [a, b, c]) = target(&ctx, &alice, &format!("Target {i}"));
        let expected = match *policy {
            "rename" => [ok("1_a.txt"), ok("1_b.txt"), ok("1_c.txt"), ok("d.txt")],
            "skip" => [
                skipped("a.txt", &a),
                skipped("b.txt", &b),
                skipped("c.txt", &c),
                ok("d.txt"),
            ],
            "fail" => [taken("a.txt"), taken("b.txt"), taken("c.txt"), ok("d.txt")],
            _ => [
                skipped("a.txt", &a),
                ok("1_b.txt"),
                ok("1_c.txt"),
                ok("d.txt"),
            ],
        };
        let expected: serde_json::Map<String, Value> = ids.iter().cloned().zip(expected).collect();
        let body = json!({"project": project.sbg_id.to_string(), "file_ids": ids});
        let before = root(&ctx, &token, &project).await;

        let path = format!("/v2/action/files/copy?collision={policy}&dry_run=true");
        let rehearsed = ctx.post(&path, &token, body.clone()).await;
        assert_eq!(rehearsed.status, 200, "{policy}: {}", rehearsed.json);
        assert_eq!(rehearsed.headers.get("Ferry-Dry-Run").unwrap(), "true");
        assert_eq!(
            root(&ctx, &token, &project).await,
            before,
            "{policy}: the dry run wrote"
        );

        let path = format!("/v2/action/files/copy?collision={policy}");
        let done = ctx.post(&path, &token, body).await;
        assert_eq!(done.status, 200, "{policy}: {}", done.json);
        assert!(done.headers.get("Ferry-Dry-Run").is_none());
        assert_eq!(without_new_ids(&done), Value::Object(expected), "{policy}");
        assert_eq!(
            without_new_ids(&rehearsed),
            without_new_ids(&done),
            "{policy}"
        );
        assert_ne!(root(&ctx, &token, &project).await, before, "{policy}");
    }
}

backends!(#[actix_web::test] async a_single_copy_says_whether_it_copied_renamed_or_skipped);
async fn a_single_copy_says_whether_it_copied_renamed_or_skipped(ctx: Ctx) {
    let (alice, token) = ctx.user("alice");
    let source = ferry_testkit::project(ctx.db.store(), &alice, "Source");
    let file = ctx.seed_file(&alice, &source, "/", "a.txt", b"A");
    let (project, [a, _, _]) = target(&ctx, &alice, "Target");
    let to = json!({"project": project.sbg_id.to_string()});
    let copy = |query: &str| format!("/v2/files/{file}/actions/copy?{query}");
    let outcome = |reply: &Reply| {
        reply
            .headers
            .get("Ferry-Copy-Outcome")
            .map(|value| value.to_str().unwrap().to_owned())
    };
    let before = root(&ctx, &token, &project).await;

    let skipped = ctx
        .post(&copy("collision=skip_identical"), &token, to.clone())
        .await;
    assert_eq!(skipped.status, 200, "{}", skipped.json);
    assert_eq!(outcome(&skipped).as_deref(), Some("skipped"));
    assert_eq!(
        skipped.json["id"],
        a.as_str(),
        "the file that holds the name"
    );
    let failed = ctx.post(&copy("collision=fail"), &token, to.clone()).await;
    assert_sbg_error(&failed, 409, 5003);
    let rehearsed = ctx
        .post(&copy("dry_run=true&collision=rename"), &token, to.clone())
        .await;
    assert_eq!(outcome(&rehearsed).as_deref(), Some("renamed"));
    assert_eq!(rehearsed.json["name"], "1_a.txt");
    assert_eq!(
        root(&ctx, &token, &project).await,
        before,
        "nothing was written"
    );

    let renamed = ctx.post(&copy(""), &token, to.clone()).await;
    assert_eq!(outcome(&renamed).as_deref(), Some("renamed"));
    assert_eq!(renamed.json["name"], "1_a.txt");
    let body = json!({"project": project.sbg_id.to_string(), "name": "new.txt"});
    let copied = ctx.post(&copy("collision=fail"), &token, body).await;
    assert_eq!(outcome(&copied).as_deref(), Some("copied"));
    assert_eq!(copied.json["name"], "new.txt");

    for query in ["collision=merge", "collision=", "dry_run=maybe"] {
        assert_sbg_error(
            &ctx.post(&copy(query), &token, to.clone()).await,
            400,
            90000,
        );
    }
    assert_eq!(
        root(&ctx, &token, &project).await,
        ["1_a.txt", "a.txt", "b.txt", "c.txt", "new.txt"]
    );
}
