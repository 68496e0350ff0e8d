//! The audit trail: one row per copy, job, clone and membership change, with who (user, token
//! label, request id), what and how it ended; every 401 and 403; the admin API that reads it;
//! and the workers' sweep that prunes it.

use ferry_domain::row_ids::UserRowId;
use std::time::{Duration, Instant};

use actix_web::http::Method;
use chrono::Utc;
use diesel::prelude::*;
use ferry_domain::model::{AuditEvent, AuditOutcome};
use ferry_domain::name::FileName;
use ferry_domain::path::FolderPath;
use ferry_store::audit::{self, NewEvent, Query};
use ferry_store::page::Page;
use ferry_store::schema::audit_events;
use ferry_store::{files, folders, users};
use ferry_usecases::jobs::worker::{JobSettings, JobWorkers, run_until_idle};
use serde_json::{Value, json};

use crate::support::{Ctx, Reply, assert_sbg_error};
use ferry_testkit::backends;

/// The events recorded for `action`, oldest first, and the total the listing counted; the two
/// agree unless a writer ran between the listing's two statements.
fn listed(ctx: &Ctx, action: &str) -> (Vec<AuditEvent>, usize) {
    let query = Query {
        action: Some(action.to_owned()),
        page: Page::ALL,
        ..Query::default()
    };
    let mut conn = ctx.db.store().conn().unwrap();
    let (mut events, total) = audit::list(&mut conn, &query).unwrap();
    events.reverse();
    (events, usize::try_from(total).unwrap())
}

/// The events recorded for `action`, oldest first, with nothing else writing.
fn events(ctx: &Ctx, action: &str) -> Vec<AuditEvent> {
    let (events, total) = listed(ctx, action);
    assert_eq!(total, events.len());
    events
}

/// The only event recorded for `action`.
#[track_caller]
fn only(ctx: &Ctx, action: &str) -> AuditEvent {
    let mut events = events(ctx, action);
    assert_eq!(events.len(), 1, "{action}: {events:?}");
    events.remove(0)
}

fn request_id(reply: &Reply) -> String {
    reply
        .headers
        .get("x-request-id")
        .unwrap()
        .to_str()
        .unwrap()
        .to_owned()
}

backends!(#[actix_web::test] async copies_jobs_and_member_changes_are_recorded_with_who_what_and_outcome);
async fn copies_jobs_and_member_changes_are_recorded_with_who_what_and_outcome(ctx: Ctx) {
    let (alice, token) = ctx.user("alice");
    let (bob, _) = ctx.user("bob");
    let source = ferry_testkit::project(ctx.db.store(), &alice, "Source");
    let dest = ferry_testkit::project(ctx.db.store(), &alice, "Dest");
    let f1 = ctx.seed_file(&alice, &source, "/", "a.txt", b"a");
    let f2 = ctx.seed_file(&alice, &source, "/", "b.txt", b"b");
    let dest_id = dest.sbg_id.as_str();

    // A batch is one row, its counts in `detail`.
    let missing = "0123456789abcdef01234567";
    let reply = ctx
        .post(
            "/v2/action/files/copy",
            &token,
            json!({"project": dest_id, "file_ids": [f1, f2, missing]}),
        )
        .await;
    assert_eq!(reply.status, 200, "{}", reply.json);
    let batch = only(&ctx, "sbg.files.copy");
    assert_eq!(batch.user_id, Some(alice.id));
    assert_eq!(batch.token_label.as_deref(), Some("test"));
    assert_eq!(batch.request_id, Some(request_id(&reply)));
    assert_eq!(batch.target.as_deref(), Some(dest_id));
    assert_eq!(batch.outcome, AuditOutcome::Partial);
    assert_eq!(
        batch.detail,
        json!({"requested": 3, "copied": 2, "failed": 1})
    );

    let path = format!("/v2/files/{f1}/actions/copy");
    let reply = ctx.post(&path, &token, json!({"project": dest_id})).await;
    assert_eq!(reply.status, 200, "{}", reply.json);
    let path = format!("/v2/files/{missing}/actions/copy");
    let failed = ctx.post(&path, &token, json!({"project": dest_id})).await;
    assert_eq!(failed.status, 404);
    // The refused copy wrote nothing, its audit row included.
    let single = only(&ctx, "sbg.file.copy");
    assert_eq!(single.target.as_deref(), Some(f1.as_str()));
    assert_eq!(single.outcome, AuditOutcome::Ok);
    assert_eq!(single.detail["project"], dest_id);

    let reply = ctx
        .post(
            "/v2/async/files/copy",
            &token,
            json!({"items": [{"file": f2, "project": dest_id}]}),
        )
        .await;
    assert_eq!(reply.status, 200, "{}", reply.json);
    let job_id = reply.json["id"].as_str().unwrap().to_owned();
    let submitted = only(&ctx, "sbg.async_copy.submit");
    assert_eq!(submitted.target.as_deref(), Some(job_id.as_str()));
    assert_eq!(submitted.detail, json!({"items": 1}));
    assert!(events(&ctx, "sbg.async_copy.end").is_empty());
    run_until_idle(ctx.db.store(), "audit-test").unwrap();
    let ended = only(&ctx, "sbg.async_copy.end");
    assert_eq!(ended.user_id, Some(alice.id));
    assert_eq!(ended.request_id, None);
    assert_eq!(ended.target.as_deref(), Some(job_id.as_str()));
    assert_eq!(ended.outcome, AuditOutcome::Ok);
    assert_eq!(ended.detail["completed"], 1);

    let members = format!("/v2/projects/{dest_id}/members");
    let reply = ctx
        .post(
            &members,
            &token,
            json!({"username": "bob", "permissions": {"read": true}}),
        )
        .await;
    assert_eq!(reply.status, 201, "{}", reply.json);
    let reply = ctx
        .patch(
            &format!("{members}/bob/permissions"),
            &token,
            json!({"write": true}),
        )
        .await;
    assert_eq!(reply.status, 200, "{}", reply.json);
    let reply = ctx.delete(&format!("{members}/bob"), &token).await;
    assert_eq!(reply.status.as_u16() / 100, 2, "{}", reply.json);
    for (action, write) in [
        ("sbg.member.add", Some(false)),
        ("sbg.member.update", Some(true)),
        ("sbg.member.remove", None),
    ] {
        let event = only(&ctx, action);
        assert_eq!(event.target.as_deref(), Some(dest_id), "{action}");
        assert_eq!(event.detail["member"], bob.username.as_str(), "{action}");
        assert_eq!(
            event.detail["permissions"]["write"].as_bool(),
            write,
            "{action}"
        );
    }
}

backends!(#[actix_web::test] async dx_clones_and_membership_changes_are_recorded);
async fn dx_clones_and_membership_changes_are_recorded(ctx: Ctx) {
    let (alice, token) = ctx.user("alice");
    ctx.user("bob");
    let source = ferry_testkit::project(ctx.db.store(), &alice, "Source");
    let dest = ferry_testkit::project(ctx.db.store(), &alice, "Dest");
    let object = {
        let store = ctx.db.store();
        let content = store.content().put_bytes(b"x").unwrap();
        let mut conn = store.conn().unwrap();
        let root =
            folders::ensure_path(&mut conn, source.id, &FolderPath::parse("/").unwrap()).unwrap();
        let name = FileName::parse("x.txt").unwrap();
        files::create_closed_file(&mut conn, alice.id, source.id, &root, &name, &content)
            .unwrap()
            .0
    };
    let reply = ctx
        .post(
            &format!("/{}/clone", source.dx_id),
            &token,
            json!({"project": dest.dx_id.as_str(), "objects": [object.dx_id.as_str()]}),
        )
        .await;
    assert_eq!(reply.status, 200, "{}", reply.json);
    let cloned = only(&ctx, "dx.clone");
    assert_eq!(cloned.user_id, Some(alice.id));
    assert_eq!(cloned.request_id, Some(request_id(&reply)));
    assert_eq!(cloned.target.as_deref(), Some(source.dx_id.as_str()));
    assert_eq!(cloned.detail["placed"], 1);
    assert_eq!(cloned.detail["project"], dest.dx_id.as_str());

    let invite = format!("/{}/invite", dest.dx_id);
    let reply = ctx
        .post(
            &invite,
            &token,
            json!({"invitee": "user-bob", "level": "VIEW"}),
        )
        .await;
    assert_eq!(reply.status, 200, "{}", reply.json);
    let invited = only(&ctx, "dx.invite");
    assert_eq!(
        invited.detail,
        json!({"member": "user-bob", "level": "VIEW"})
    );
    let decrease = format!("/{}/decreasePermissions", dest.dx_id);
    let reply = ctx.post(&decrease, &token, json!({"user-bob": null})).await;
    assert_eq!(reply.status, 200, "{}", reply.json);
    let lowered = only(&ctx, "dx.decrease_permissions");
    assert_eq!(lowered.target.as_deref(), Some(dest.dx_id.as_str()));
    assert_eq!(lowered.detail["changes"], json!({"user-bob": null}));
}

backends!(#[actix_web::test] async denied_requests_are_recorded_with_the_caller_when_known);
async fn denied_requests_are_recorded_with_the_caller_when_known(ctx: Ctx) {
    let (alice, alice_token) = ctx.user("alice");
    let (bob, bob_token) = ctx.user("bob");
    let team = ferry_testkit::project(ctx.db.store(), &alice, "Team");
    let team_id = team.sbg_id.as_str();

    let anonymous = ctx.send(Method::GET, "/v2/user", None, None).await;
    assert_sbg_error(&anonymous, 401, 90001);
    let bad_token = ctx.post("/system/whoami", "not-a-token", json!({})).await;
    assert_eq!(bad_token.status, 401);
    // Bob may read Team but not write to it.
    let reply = ctx
        .post(
            &format!("/v2/projects/{team_id}/members"),
            &alice_token,
            json!({"username": "bob", "permissions": {"read": true}}),
        )
        .await;
    assert_eq!(reply.status, 201, "{}", reply.json);
    let forbidden = ctx
        .patch(
            &format!("/v2/projects/{team_id}"),
            &bob_token,
            json!({"name": "Mine"}),
        )
        .await;
    assert_eq!(forbidden.status, 403, "{}", forbidden.json);

    let denied = events(&ctx, "denied");
    let seen: Vec<(Option<UserRowId>, Option<&str>, &str, Value)> = denied
        .iter()
        .map(|e| {
            assert_eq!(e.outcome, AuditOutcome::Denied);
            (
                e.user_id,
                e.token_label.as_deref(),
                e.target.as_deref().unwrap(),
                e.detail["status"].clone(),
            )
        })
        .collect();
    let patched = format!("PATCH /v2/projects/{team_id}");
    assert_eq!(
        seen,
        vec![
            (None, None, "GET /v2/user", json!(401)),
            (None, None, "POST /system/whoami", json!(401)),
            (Some(bob.id), Some("test"), patched.as_str(), json!(403)),
        ]
    );
    assert_eq!(denied[0].request_id, Some(request_id(&anonymous)));
}

backends!(#[actix_web::test] async the_admin_api_filters_and_pages_for_administrators_only);
async fn the_admin_api_filters_and_pages_for_administrators_only(ctx: Ctx) {
    let (alice, alice_token) = ctx.user("alice");
    let (root, root_token) = ctx.user("root");
    users::set_admin(&mut ctx.db.store().conn().unwrap(), root.id, true).unwrap();
    for _ in 0..3 {
        let reply = ctx.send(Method::GET, "/v2/user", None, None).await;
        assert_eq!(reply.status, 401);
    }
    let refused = ctx.get("/admin/audit", &alice_token).await;
    assert_sbg_error(&refused, 403, 90002);
    let anonymous = ctx.send(Method::GET, "/admin/audit", None, None).await;
    assert_sbg_error(&anonymous, 401, 90001);
    // Five denials so far: three on /v2/user, alice's 403 and the anonymous 401.

    let all = ctx.get("/admin/audit", &root_token).await;
    assert_eq!(all.status, 200, "{}", all.json);
    assert_eq!(all.json["total"], 5);
    let items = all.json["items"].as_array().unwrap();
    assert_eq!(items.len(), 5);
    // Newest first.
    assert_eq!(items[0]["target"], "GET /admin/audit");
    assert_eq!(items[1]["target"], "GET /admin/audit");
    assert_eq!(items[1]["user_id"], alice.id.get());
    assert_eq!(items[1]["token_label"], "test");
    assert_eq!(items[1]["outcome"], "denied");
    assert_eq!(items[1]["action"], "denied");
    assert_eq!(items[1]["detail"], json!({"status": 403}));
    assert!(items[1]["request_id"].is_string());
    assert!(items[1]["at"].as_str().unwrap().ends_with('Z'));

    let by_alice = ctx.get("/admin/audit?user=alice", &root_token).await;
    assert_eq!(by_alice.json["total"], 1);
    let page = ctx
        .get("/admin/audit?action=denied&limit=2&offset=1", &root_token)
        .await;
    assert_eq!(page.json["total"], 5);
    assert_eq!(page.json["items"].as_array().unwrap().len(), 2);
    assert_eq!(page.json["items"][0]["id"], items[1]["id"]);
    let none = ctx.get("/admin/audit?action=dx.clone", &root_token).await;
    assert_eq!(none.json["total"], 0);
    let nobody = ctx.get("/admin/audit?user=nobody", &root_token).await;
    assert_eq!(nobody.json["total"], 0);
    let future = (Utc::now() + chrono::Duration::hours(1)).to_rfc3339();
    let past = (Utc::now() - chrono::Duration::hours(1)).to_rfc3339();
    let since = ctx
        .get(
            &format!("/admin/audit?since={}", urlencode(&future)),
            &root_token,
        )
        .await;
    assert_eq!(since.json["total"], 0, "{}", since.json);
    let until = ctx
        .get(
            &format!("/admin/audit?until={}", urlencode(&past)),
            &root_token,
        )
        .await;
    assert_eq!(until.json["total"], 0, "{}", until.json);
    let window = ctx
        .get(
            &format!(
                "/admin/audit?since={}&until={}",
                urlencode(&past),
                urlencode(&future)
            ),
            &root_token,
        )
        .await;
    assert_eq!(window.json["total"], 5, "{}", window.json);

    for bad in [
        "limit=0",
        "limit=1001",
        "offset=-1",
        "since=yesterday",
        "user=Not%20A%20Name",
    ] {
        let reply = ctx.get(&format!("/admin/audit?{bad}"), &root_token).await;
        assert_sbg_error(&reply, 400, 90000);
    }
    let unknown = ctx.get("/admin/nothing", &root_token).await;
    assert_sbg_error(&unknown, 404, 90003);
}

fn urlencode(s: &str) -> String {
    s.replace('+', "%2B").replace(':', "%3A")
}

backends!(#[actix_web::test] async the_worker_sweep_prunes_events_past_their_retention);
async fn the_worker_sweep_prunes_events_past_their_retention(ctx: Ctx) {
    let store = ctx.db.store();
    let event = |action| NewEvent {
        request_id: None,
        user_id: None,
        token_label: None,
        action,
        target: None,
        outcome: AuditOutcome::Denied,
        detail: json!({}),
    };
    {
        let mut conn = store.conn().unwrap();
        audit::record(&mut conn, &event("old")).unwrap();
        audit::record(&mut conn, &event("recent")).unwrap();
        let old_enough = (Utc::now() - chrono::Duration::days(11)).naive_utc();
        diesel::update(audit_events::table.filter(audit_events::action.eq("old")))
            .set(audit_events::at.eq(old_enough))
            .execute(&mut conn)
            .unwrap();
    }
    let settings = JobSettings {
        workers: 1,
        retention: chrono::TimeDelta::days(90),
        audit_retention: chrono::TimeDelta::days(10),
        upload_expiry: chrono::TimeDelta::days(1),
        content_grace: Duration::from_secs(3600),
    };
    let workers = JobWorkers::start(store, settings).unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    // The sweep may delete between the listing's count and its rows: polled without comparing.
    while !listed(&ctx, "old").0.is_empty() && Instant::now() < deadline {
        actix_web::rt::time::sleep(Duration::from_millis(50)).await;
    }
    workers.stop();
    assert!(events(&ctx, "old").is_empty(), "not pruned in 10 s");
    assert_eq!(events(&ctx, "recent").len(), 1);
}
