//! The SBG dialect's billing groups, projects, members and rate-limit reporting.

use actix_web::http::Method;
use ferry_store::{StoreError, billing, projects};
use serde_json::{Value, json};

use crate::support::{Ctx, PUBLIC_URL, Reply, assert_sbg_error};
use ferry_testkit::backends;

/// Creates a project through the API and returns its JSON.
async fn create(ctx: &Ctx, token: &str, body: Value) -> Value {
    let reply = ctx.post("/v2/projects", token, body).await;
    assert_eq!(reply.status, 201, "{}", reply.json);
    reply.json
}

/// Adds `username` to the project with the given SBG permission keys.
async fn add_member(ctx: &Ctx, token: &str, project: &str, username: &str, permissions: Value) {
    let reply = ctx
        .post(
            &format!("/v2/projects/{project}/members"),
            token,
            json!({"username": username, "type": "USER", "permissions": permissions}),
        )
        .await;
    assert_eq!(reply.status, 201, "{}", reply.json);
}

fn ids(reply: &Reply) -> Vec<&str> {
    reply.json["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|item| item["id"].as_str().expect("id"))
        .collect()
}

fn link(reply: &Reply, rel: &str) -> Option<String> {
    reply.json["links"]
        .as_array()
        .expect("links")
        .iter()
        .find(|l| l["rel"] == rel)
        .map(|l| l["href"].as_str().unwrap().to_owned())
}

fn all_permissions() -> Value {
    json!({"read": true, "write": true, "copy": true, "execute": true, "admin": true})
}

backends!(#[actix_web::test] async billing_groups_are_the_callers_own);
async fn billing_groups_are_the_callers_own(ctx: Ctx) {
    let (alice, alice_token) = ctx.user("alice");
    let (bob, _) = ctx.user("bob");
    let mut conn = ctx.db.store().conn().unwrap();
    let personal = billing::personal(&mut conn, alice.id).unwrap();
    let bobs = billing::personal(&mut conn, bob.id).unwrap();

    for path in ["/v2/billing/groups", "/v2/billing/groups/"] {
        let reply = ctx.get(path, &alice_token).await;
        assert_eq!(reply.status, 200, "{}", reply.json);
        assert_eq!(reply.total(), 1);
        assert_eq!(
            reply.json["href"],
            format!("{PUBLIC_URL}/v2/billing/groups?offset=0&limit=50")
        );
        assert_eq!(ids(&reply), [personal.uuid.as_str()]);
    }

    let reply = ctx
        .get(
            &format!("/v2/billing/groups/{}", personal.uuid),
            &alice_token,
        )
        .await;
    assert_eq!(reply.status, 200);
    assert_eq!(
        reply.json,
        json!({
            "href": format!("{PUBLIC_URL}/v2/billing/groups/{}", personal.uuid),
            "id": personal.uuid,
            "owner": "alice",
            "name": personal.name,
            "type": "regular",
            "pending": false,
            "disabled": false,
            "balance": {"currency": "USD", "amount": "0.00"},
        })
    );
    // The same id in capitals is the same group.
    let upper = personal.uuid.to_uppercase();
    let reply = ctx
        .get(&format!("/v2/billing/groups/{upper}"), &alice_token)
        .await;
    assert_eq!(reply.json["id"], personal.uuid);

    let reply = ctx
        .get(&format!("/v2/billing/groups/{}", bobs.uuid), &alice_token)
        .await;
    assert_sbg_error(&reply, 404, 4002);
    let reply = ctx.get("/v2/billing/groups/not-a-uuid", &alice_token).await;
    assert_sbg_error(&reply, 404, 4002);
    let reply = ctx
        .send(Method::GET, "/v2/billing/groups", None, None)
        .await;
    assert_sbg_error(&reply, 401, 90001);
    let reply = ctx.get("/v2/billing/groups?limit=0", &alice_token).await;
    assert_sbg_error(&reply, 400, 90000);
}

backends!(#[actix_web::test] async a_created_project_has_every_field_the_sdk_reads);
async fn a_created_project_has_every_field_the_sdk_reads(ctx: Ctx) {
    let (alice, token) = ctx.user("alice");
    let mut conn = ctx.db.store().conn().unwrap();
    let personal = billing::personal(&mut conn, alice.id).unwrap();

    let project = create(&ctx, &token, json!({"name": "rfranklin's Demo Project"})).await;
    let created = projects::get_by_sbg_id(
        &mut conn,
        &"alice/rfranklin-s-demo-project".parse().unwrap(),
    )
    .unwrap()
    .expect("stored");
    let root = projects::root_folder(&mut conn, created.id).unwrap();
    let created_on = project["created_on"].as_str().unwrap().to_owned();
    assert!(
        created_on.ends_with('Z') && created_on.len() == 20,
        "{created_on}"
    );
    assert_eq!(
        project,
        json!({
            "href": format!("{PUBLIC_URL}/v2/projects/alice/rfranklin-s-demo-project"),
            "id": "alice/rfranklin-s-demo-project",
            "name": "rfranklin's Demo Project",
            "billing_group": personal.uuid,
            "description": "",
            "type": "v2",
            "tags": [],
            "settings": {},
            "root_folder": root.sbg_id.as_str(),
            "created_by": "alice",
            "created_on": created_on,
            "modified_on": created_on,
            "category": "PRIVATE",
            "permissions": all_permissions(),
        })
    );

    // The trailing-slash route, every optional key, and a second project of the same name.
    let reply = ctx
        .post(
            "/v2/projects/",
            &token,
            json!({
                "name": "rfranklin's Demo Project",
                "billing_group": personal.uuid.to_uppercase(),
                "description": "About it.",
                "tags": ["a", "b"],
                "settings": {"locked": false, "intermediate_files": {"retention": "LIMITED"}},
            }),
        )
        .await;
    assert_eq!(reply.status, 201, "{}", reply.json);
    assert_eq!(reply.json["id"], "alice/rfranklin-s-demo-project-2");
    assert_eq!(reply.json["billing_group"], personal.uuid);
    assert_eq!(reply.json["description"], "About it.");
    assert_eq!(reply.json["tags"], json!(["a", "b"]));
    assert_eq!(
        reply.json["settings"],
        json!({"locked": false, "intermediate_files": {"retention": "LIMITED"}})
    );
    // `null` is absent, as older SDKs send it.
    let project = create(&ctx, &token, json!({"name": "N", "billing_group": null})).await;
    assert_eq!(project["billing_group"], personal.uuid);

    let reply = ctx
        .get("/v2/projects/alice/rfranklin-s-demo-project-2", &token)
        .await;
    assert_eq!(reply.status, 200);
    assert_eq!(reply.json["tags"], json!(["a", "b"]));
    assert_eq!(
        reply.json["settings"]["intermediate_files"]["retention"],
        "LIMITED"
    );
}

backends!(#[actix_web::test] async creating_a_project_checks_its_name_and_billing_group);
async fn creating_a_project_checks_its_name_and_billing_group(ctx: Ctx) {
    let (_, token) = ctx.user("alice");
    let (bob, _) = ctx.user("bob");
    let bobs_group = {
        let mut conn = ctx.db.store().conn().unwrap();
        billing::personal(&mut conn, bob.id).unwrap()
    };
    for body in [
        json!({}),
        json!({"name": null}),
        json!({"name": ""}),
        json!({"name": "  "}),
    ] {
        let reply = ctx.post("/v2/projects", &token, body).await;
        assert_sbg_error(&reply, 400, 3007);
    }
    let reply = ctx
        .post(
            "/v2/projects",
            &token,
            json!({"name": "P", "billing_group": "nope"}),
        )
        .await;
    assert_sbg_error(&reply, 400, 90000);
    let reply = ctx
        .post(
            "/v2/projects",
            &token,
            json!({"name": "P", "billing_group": bobs_group.uuid}),
        )
        .await;
    assert_sbg_error(&reply, 404, 4002);
    let reply = ctx
        .post(
            "/v2/projects",
            &token,
            json!({"name": "P", "tags": "not a list"}),
        )
        .await;
    assert_sbg_error(&reply, 400, 90009);
    let reply = ctx
        .send(
            Method::POST,
            "/v2/projects",
            None,
            Some(json!({"name": "P"})),
        )
        .await;
    assert_sbg_error(&reply, 401, 90001);

    // None of the refused requests created anything.
    let reply = ctx.get("/v2/projects", &token).await;
    assert_eq!(reply.total(), 0);
}

backends!(#[actix_web::test] async the_project_list_shows_the_callers_projects_a_page_at_a_time);
async fn the_project_list_shows_the_callers_projects_a_page_at_a_time(ctx: Ctx) {
    let (_, alice) = ctx.user("alice");
    let (_, bob) = ctx.user("bob");
    for name in ["One", "Two", "One", "Three"] {
        create(&ctx, &alice, json!({"name": name})).await;
    }
    create(&ctx, &bob, json!({"name": "One"})).await;
    create(&ctx, &bob, json!({"name": "Bob's Data"})).await;

    // The SDK sends `fields=_all` and a GET body of `null`; both are ignored.
    let reply = ctx
        .send(
            Method::GET,
            "/v2/projects/?fields=_all",
            Some(&alice),
            Some(Value::Null),
        )
        .await;
    assert_eq!(reply.status, 200, "{}", reply.json);
    assert_eq!(reply.total(), 4);
    assert_eq!(
        ids(&reply),
        ["alice/one", "alice/two", "alice/one-2", "alice/three"]
    );
    assert_eq!(reply.json["links"], json!([]));
    assert_eq!(reply.json["items"][0]["type"], "v2");

    let reply = ctx.get("/v2/projects?offset=1&limit=2", &alice).await;
    assert_eq!(reply.total(), 4);
    assert_eq!(ids(&reply), ["alice/two", "alice/one-2"]);
    assert_eq!(
        reply.json["href"],
        format!("{PUBLIC_URL}/v2/projects?offset=1&limit=2")
    );
    assert_eq!(
        link(&reply, "next").as_deref(),
        Some(format!("{PUBLIC_URL}/v2/projects?offset=3&limit=2").as_str())
    );
    assert!(link(&reply, "prev").is_some());

    let reply = ctx.get("/v2/projects/?name=One&limit=1", &alice).await;
    assert_eq!(reply.total(), 2);
    assert_eq!(ids(&reply), ["alice/one"]);
    let next = link(&reply, "next").expect("a next link");
    assert_eq!(
        next,
        format!("{PUBLIC_URL}/v2/projects?name=One&offset=1&limit=1")
    );
    let reply = ctx
        .get(next.strip_prefix(PUBLIC_URL).unwrap(), &alice)
        .await;
    assert_eq!(ids(&reply), ["alice/one-2"]);
    assert_eq!(link(&reply, "next"), None);

    // Names are matched exactly, `+` is a space.
    let reply = ctx.get("/v2/projects?name=Bob%27s+Data", &bob).await;
    assert_eq!(ids(&reply), ["bob/bob-s-data"]);
    let reply = ctx.get("/v2/projects?name=one", &alice).await;
    assert_eq!(reply.total(), 0);

    for bad in ["limit=0", "limit=101", "offset=-1", "limit=abc"] {
        let reply = ctx.get(&format!("/v2/projects?{bad}"), &alice).await;
        assert_sbg_error(&reply, 400, 90000);
    }
    let reply = ctx.send(Method::GET, "/v2/projects", None, None).await;
    assert_sbg_error(&reply, 401, 90001);
}

backends!(#[actix_web::test] async an_owner_listing_shows_the_owners_projects_the_caller_can_see);
async fn an_owner_listing_shows_the_owners_projects_the_caller_can_see(ctx: Ctx) {
    let (_, alice) = ctx.user("alice");
    let (_, bob) = ctx.user("bob");
    create(&ctx, &alice, json!({"name": "Mine"})).await;
    create(&ctx, &bob, json!({"name": "Shared"})).await;
    create(&ctx, &bob, json!({"name": "Private"})).await;
    add_member(&ctx, &bob, "bob/shared", "alice", json!({"read": true})).await;

    let reply = ctx
        .get("/v2/projects/bob?offset=0&limit=10&fields=_all", &alice)
        .await;
    assert_eq!(reply.status, 200, "{}", reply.json);
    assert_eq!(reply.total(), 1);
    assert_eq!(ids(&reply), ["bob/shared"]);
    assert_eq!(
        reply.json["href"],
        format!("{PUBLIC_URL}/v2/projects/bob?offset=0&limit=10")
    );
    assert_eq!(
        reply.json["items"][0]["permissions"],
        json!({"read": true, "write": false, "copy": false, "execute": false, "admin": false})
    );
    let reply = ctx.get("/v2/projects/alice", &alice).await;
    assert_eq!(ids(&reply), ["alice/mine"]);
    let reply = ctx.get("/v2/projects", &alice).await;
    assert_eq!(ids(&reply), ["alice/mine", "bob/shared"]);
    let reply = ctx.get("/v2/projects/nobody", &alice).await;
    assert_eq!(reply.total(), 0);
    let reply = ctx.get("/v2/projects/bad%20owner", &alice).await;
    assert_sbg_error(&reply, 400, 90000);
}

backends!(#[actix_web::test] async a_project_is_visible_to_its_members_only);
async fn a_project_is_visible_to_its_members_only(ctx: Ctx) {
    let (_, alice) = ctx.user("alice");
    let (_, bob) = ctx.user("bob");
    let project = create(&ctx, &alice, json!({"name": "Secret"})).await;

    let reply = ctx.get("/v2/projects/alice/secret", &alice).await;
    assert_eq!(reply.status, 200);
    assert_eq!(reply.json, project);

    // Not a member, or no such project: the same answer.
    let hidden = ctx.get("/v2/projects/alice/secret", &bob).await;
    assert_sbg_error(&hidden, 404, 3002);
    let missing = ctx.get("/v2/projects/alice/nothing", &bob).await;
    assert_eq!(hidden.json, missing.json);
    let reply = ctx
        .patch("/v2/projects/alice/secret", &bob, json!({"name": "x"}))
        .await;
    assert_sbg_error(&reply, 404, 3002);
    assert_sbg_error(
        &ctx.delete("/v2/projects/alice/secret", &bob).await,
        404,
        3002,
    );

    for malformed in ["/v2/projects/alice/Secret", "/v2/projects/-alice/secret"] {
        assert_sbg_error(&ctx.get(malformed, &alice).await, 400, 3012);
    }
    let reply = ctx
        .put("/v2/projects/alice/secret", &alice, json!({}))
        .await;
    assert_sbg_error(&reply, 405, 90006);
    let reply = ctx
        .send(Method::GET, "/v2/projects/alice/secret", None, None)
        .await;
    assert_sbg_error(&reply, 401, 90001);
}

backends!(#[actix_web::test] async administrators_update_projects);
async fn administrators_update_projects(ctx: Ctx) {
    let (alice, alice_token) = ctx.user("alice");
    let (bob_user, bob) = ctx.user("bob");
    let (alices_group, bobs_group) = {
        let mut conn = ctx.db.store().conn().unwrap();
        (
            billing::personal(&mut conn, alice.id).unwrap(),
            billing::personal(&mut conn, bob_user.id).unwrap(),
        )
    };
    create(
        &ctx,
        &alice_token,
        json!({"name": "Before", "settings": {"locked": false, "use_memoization": true}}),
    )
    .await;
    let path = "/v2/projects/alice/before";
    add_member(
        &ctx,
        &alice_token,
        "alice/before",
        "bob",
        json!({"write": true}),
    )
    .await;

    let reply = ctx
        .patch(
            path,
            &alice_token,
            json!({"name": "After", "description": "d", "tags": ["q"], "settings": {"locked": true}}),
        )
        .await;
    assert_eq!(reply.status, 200, "{}", reply.json);
    assert_eq!(reply.json["id"], "alice/before", "the id stays");
    assert_eq!(reply.json["name"], "After");
    assert_eq!(reply.json["description"], "d");
    assert_eq!(reply.json["tags"], json!(["q"]));
    assert_eq!(
        reply.json["settings"],
        json!({"locked": true, "use_memoization": true})
    );
    let reply = ctx.get(path, &alice_token).await;
    assert_eq!(reply.json["name"], "After");

    // Only the keys sent change; `type` and `category` are ignored.
    let reply = ctx
        .patch(
            path,
            &alice_token,
            json!({"type": "v2", "category": "PRIVATE"}),
        )
        .await;
    assert_eq!(reply.status, 200);
    assert_eq!(
        (&reply.json["name"], &reply.json["tags"]),
        (&json!("After"), &json!(["q"]))
    );

    // A group of the caller's own.
    let reply = ctx
        .patch(
            path,
            &alice_token,
            json!({"billing_group": alices_group.uuid}),
        )
        .await;
    assert_eq!(reply.status, 200, "{}", reply.json);
    assert_eq!(reply.json["billing_group"], alices_group.uuid);

    let reply = ctx.patch(path, &bob, json!({"name": "Bob's"})).await;
    assert_sbg_error(&reply, 403, 3001);
    let reply = ctx.patch(path, &alice_token, json!({"name": ""})).await;
    assert_sbg_error(&reply, 400, 3007);
    let reply = ctx
        .patch(
            path,
            &alice_token,
            json!({"billing_group": bobs_group.uuid}),
        )
        .await;
    assert_sbg_error(&reply, 404, 4002);
    let reply = ctx
        .patch(path, &alice_token, json!({"billing_group": "x"}))
        .await;
    assert_sbg_error(&reply, 400, 90000);
    let reply = ctx.patch(path, &alice_token, json!({"tags": {}})).await;
    assert_sbg_error(&reply, 400, 90009);
    let reply = ctx.get(path, &alice_token).await;
    assert_eq!(
        reply.json["name"], "After",
        "refused updates changed nothing"
    );
}

backends!(#[actix_web::test] async administrators_delete_projects_with_their_members_and_folders);
async fn administrators_delete_projects_with_their_members_and_folders(ctx: Ctx) {
    let (alice_user, alice) = ctx.user("alice");
    let (_, bob) = ctx.user("bob");
    create(&ctx, &alice, json!({"name": "Doomed"})).await;
    add_member(&ctx, &alice, "alice/doomed", "bob", json!({"write": true})).await;
    let id = {
        let mut conn = ctx.db.store().conn().unwrap();
        projects::get_by_sbg_id(&mut conn, &"alice/doomed".parse().unwrap())
            .unwrap()
            .unwrap()
            .id
    };

    assert_sbg_error(
        &ctx.delete("/v2/projects/alice/doomed", &bob).await,
        403,
        3001,
    );
    let reply = ctx
        .send(
            Method::DELETE,
            "/v2/projects/alice/doomed",
            Some(&alice),
            Some(json!({})),
        )
        .await;
    assert_eq!(reply.status, 204);
    assert_eq!(reply.json, Value::Null);

    assert_sbg_error(
        &ctx.get("/v2/projects/alice/doomed", &alice).await,
        404,
        3002,
    );
    assert_sbg_error(
        &ctx.delete("/v2/projects/alice/doomed", &alice).await,
        404,
        3002,
    );
    assert_eq!(ctx.get("/v2/projects", &bob).await.total(), 0);
    let mut conn = ctx.db.store().conn().unwrap();
    assert!(matches!(
        projects::root_folder(&mut conn, id),
        Err(StoreError::NotFound)
    ));
    assert_eq!(
        projects::membership(&mut conn, id, alice_user.id).unwrap(),
        None
    );
    // The short name is free again.
    drop(conn);
    let again = create(&ctx, &alice, json!({"name": "Doomed"})).await;
    assert_eq!(again["id"], "alice/doomed");
}

backends!(#[actix_web::test] async members_are_listed_added_read_changed_and_removed);
async fn members_are_listed_added_read_changed_and_removed(ctx: Ctx) {
    let (_, alice) = ctx.user("alice");
    let (_, bob) = ctx.user("bob");
    ctx.user("carol");
    create(&ctx, &alice, json!({"name": "Team"})).await;
    let members = "/v2/projects/alice/team/members";

    let reply = ctx
        .post(
            members,
            &alice,
            json!({"username": "bob", "type": "USER", "permissions": {"read": true, "write": false}}),
        )
        .await;
    assert_eq!(reply.status, 201, "{}", reply.json);
    assert_eq!(
        reply.json,
        json!({
            "href": format!("{PUBLIC_URL}/v2/projects/alice/team/members/bob"),
            "id": "bob",
            "username": "bob",
            "email": "bob@example.com",
            "type": "USER",
            "permissions": {"read": true, "write": false, "copy": false, "execute": false, "admin": false},
        })
    );

    let reply = ctx.get(&format!("{members}?limit=5"), &bob).await;
    assert_eq!(reply.status, 200, "{}", reply.json);
    assert_eq!(reply.total(), 2);
    assert_eq!(ids(&reply), ["alice", "bob"]);
    assert_eq!(
        reply.json["href"],
        format!("{PUBLIC_URL}{members}?offset=0&limit=5")
    );
    assert_eq!(reply.json["items"][0]["permissions"], all_permissions());
    let reply = ctx
        .get(&format!("{members}/?offset=1&limit=1"), &alice)
        .await;
    assert_eq!(ids(&reply), ["bob"]);
    assert!(link(&reply, "prev").is_some() && link(&reply, "next").is_none());

    let reply = ctx.get(&format!("{members}/bob"), &bob).await;
    assert_eq!(reply.status, 200);
    assert_eq!(reply.json["username"], "bob");

    // The SDK's member.save(): only the changed keys, merged.
    let reply = ctx
        .patch(
            &format!("{members}/bob/permissions"),
            &alice,
            json!({"copy": true}),
        )
        .await;
    assert_eq!(reply.status, 200, "{}", reply.json);
    assert_eq!(
        reply.json,
        json!({"read": true, "write": false, "copy": true, "execute": false, "admin": false})
    );
    let reply = ctx
        .patch(
            &format!("{members}/bob"),
            &alice,
            json!({"permissions": {"write": true, "execute": true}}),
        )
        .await;
    assert_eq!(reply.status, 200, "{}", reply.json);
    assert_eq!(
        reply.json["permissions"],
        json!({"read": true, "write": true, "copy": true, "execute": true, "admin": false})
    );

    let reply = ctx
        .send(
            Method::DELETE,
            &format!("{members}/bob"),
            Some(&alice),
            Some(json!({})),
        )
        .await;
    assert_eq!(reply.status, 204);
    assert_sbg_error(&ctx.get(&format!("{members}/bob"), &alice).await, 404, 3002);
    assert_sbg_error(&ctx.get("/v2/projects/alice/team", &bob).await, 404, 3002);
}

backends!(#[actix_web::test] async member_changes_are_checked_before_anything_is_written);
async fn member_changes_are_checked_before_anything_is_written(ctx: Ctx) {
    let (_, alice) = ctx.user("alice");
    let (_, bob) = ctx.user("bob");
    let (_, carol) = ctx.user("carol");
    create(&ctx, &alice, json!({"name": "Team"})).await;
    let members = "/v2/projects/alice/team/members";
    add_member(&ctx, &alice, "alice/team", "bob", json!({"write": true})).await;
    let add = |username: &str| json!({"username": username, "permissions": {"read": true}});

    assert_sbg_error(&ctx.post(members, &alice, add("bob")).await, 409, 3003);
    assert_sbg_error(&ctx.post(members, &alice, add("nobody")).await, 404, 3002);
    assert_sbg_error(&ctx.post(members, &bob, add("carol")).await, 403, 3001);
    assert_sbg_error(&ctx.post(members, &carol, add("carol")).await, 404, 3002);
    assert_sbg_error(&ctx.get(members, &carol).await, 404, 3002);
    assert_sbg_error(&ctx.get(&format!("{members}/bob"), &carol).await, 404, 3002);
    assert_sbg_error(
        &ctx.post(members, &alice, add("bad name")).await,
        400,
        90000,
    );
    for body in [
        json!({"permissions": {"read": true}}),
        json!({"username": null, "permissions": {"read": true}}),
    ] {
        assert_sbg_error(&ctx.post(members, &alice, body).await, 400, 3005);
    }
    let reply = ctx
        .post(members, &alice, json!({"username": "carol"}))
        .await;
    assert_sbg_error(&reply, 400, 3011);
    let reply = ctx
        .post(
            members,
            &alice,
            json!({"username": "carol", "type": "TEAM", "permissions": {"read": true}}),
        )
        .await;
    assert_sbg_error(&reply, 400, 90000);
    let reply = ctx
        .post(
            members,
            &alice,
            json!({"email": "carol@example.com", "permissions": {"read": true}}),
        )
        .await;
    assert_sbg_error(&reply, 400, 90000);
    let reply = ctx
        .post(
            members,
            &alice,
            json!({"username": "carol", "permissions": {"admn": true}}),
        )
        .await;
    assert_sbg_error(&reply, 400, 90009);
    assert_sbg_error(
        &ctx.post("/v2/projects/alice/Team/members", &alice, add("carol"))
            .await,
        400,
        3012,
    );

    let bob_permissions = format!("{members}/bob/permissions");
    assert_sbg_error(
        &ctx.patch(&bob_permissions, &bob, json!({"admin": true}))
            .await,
        403,
        3001,
    );
    assert_sbg_error(
        &ctx.patch(
            &format!("{members}/carol/permissions"),
            &alice,
            json!({"copy": true}),
        )
        .await,
        404,
        3002,
    );
    assert_sbg_error(
        &ctx.patch(
            &format!("{members}/bad%20name"),
            &alice,
            json!({"permissions": {}}),
        )
        .await,
        404,
        3002,
    );
    assert_sbg_error(
        &ctx.patch(&format!("{members}/bob"), &alice, json!({}))
            .await,
        400,
        3011,
    );
    assert_sbg_error(
        &ctx.delete(&format!("{members}/alice"), &bob).await,
        403,
        3001,
    );
    assert_sbg_error(
        &ctx.delete(&format!("{members}/carol"), &alice).await,
        404,
        3002,
    );

    let reply = ctx.get(members, &alice).await;
    assert_eq!(
        ids(&reply),
        ["alice", "bob"],
        "nothing was added or removed"
    );
    assert_eq!(reply.json["items"][1]["permissions"]["admin"], false);
}

backends!(#[actix_web::test] async the_last_administrator_is_neither_removed_nor_demoted);
async fn the_last_administrator_is_neither_removed_nor_demoted(ctx: Ctx) {
    let (_, alice) = ctx.user("alice");
    let (_, bob) = ctx.user("bob");
    create(&ctx, &alice, json!({"name": "Team"})).await;
    let members = "/v2/projects/alice/team/members";
    add_member(&ctx, &alice, "alice/team", "bob", json!({"write": true})).await;

    let demote = ctx
        .patch(
            &format!("{members}/alice/permissions"),
            &alice,
            json!({"admin": false}),
        )
        .await;
    assert_sbg_error(&demote, 409, 90007);
    assert!(
        demote.json["message"]
            .as_str()
            .unwrap()
            .contains("last administrator")
    );
    assert_sbg_error(
        &ctx.delete(&format!("{members}/alice"), &alice).await,
        409,
        90007,
    );
    // A change that keeps the administrator is fine.
    let reply = ctx
        .patch(
            &format!("{members}/alice/permissions"),
            &alice,
            json!({"write": true}),
        )
        .await;
    assert_eq!(reply.status, 200);

    let reply = ctx
        .patch(
            &format!("{members}/bob/permissions"),
            &alice,
            json!({"admin": true}),
        )
        .await;
    assert_eq!(reply.json, all_permissions());
    let reply = ctx.delete(&format!("{members}/alice"), &bob).await;
    assert_eq!(reply.status, 204);
    assert_sbg_error(&ctx.get("/v2/projects/alice/team", &alice).await, 404, 3002);
    assert_sbg_error(
        &ctx.delete(&format!("{members}/bob"), &bob).await,
        409,
        90007,
    );
    let reply = ctx.get("/v2/projects/alice/team", &bob).await;
    assert_eq!(reply.json["permissions"], all_permissions());
}

/// The rate-limit headers as numbers: limit, remaining, reset.
fn rate_headers(reply: &Reply) -> (i64, i64, i64) {
    let header = |name| {
        reply
            .headers
            .get(name)
            .unwrap_or_else(|| panic!("{name} on {} {}", reply.status, reply.json))
            .to_str()
            .unwrap()
            .parse::<i64>()
            .unwrap()
    };
    (
        header("x-ratelimit-limit"),
        header("x-ratelimit-remaining"),
        header("x-ratelimit-reset"),
    )
}

backends!(#[actix_web::test] async every_v2_response_reports_the_rate_limit);
async fn every_v2_response_reports_the_rate_limit(ctx: Ctx) {
    let (_, alice) = ctx.user("alice");
    let (_, bob) = ctx.user("bob");
    let now = chrono::Utc::now().timestamp();

    let (limit, first, reset) = rate_headers(&ctx.get("/v2/user", &alice).await);
    assert_eq!(limit, 1000);
    assert!(first < 1000);
    assert!(
        reset > now && reset <= now + 300 + 1 && reset % 300 == 0,
        "{reset}"
    );

    // Errors too, unknown routes included; each of the token's requests counts.
    let reply = ctx.get("/v2/projects/alice/none", &alice).await;
    assert_sbg_error(&reply, 404, 3002);
    assert_eq!(rate_headers(&reply).1, first - 1);
    let reply = ctx.get("/v2/no/such/route", &alice).await;
    assert_sbg_error(&reply, 404, 90003);
    assert_eq!(rate_headers(&reply).1, first - 2);
    let reply = ctx.post("/v2/projects", &alice, json!({})).await;
    assert_eq!(rate_headers(&reply).1, first - 3);

    // Other tokens are counted apart; requests without a valid one are not counted.
    assert_eq!(rate_headers(&ctx.get("/v2/user", &bob).await).1, 999);
    let reply = ctx.send(Method::GET, "/v2/user", None, None).await;
    assert_sbg_error(&reply, 401, 90001);
    assert_eq!(rate_headers(&reply).1, 1000);
    let reply = ctx.send(Method::GET, "/v2/user", Some("wrong"), None).await;
    assert_eq!(rate_headers(&reply).1, 1000);
    let reply = ctx.get("/v2/user", &alice).await;
    assert_eq!(rate_headers(&reply).1, first - 4);
}

backends!(#[actix_web::test] async rate_limit_reports_without_counting);
async fn rate_limit_reports_without_counting(ctx: Ctx) {
    let (_, alice) = ctx.user("alice");
    let before = rate_headers(&ctx.get("/v2/user", &alice).await);
    for _ in 0..2 {
        let reply = ctx.get("/v2/rate_limit", &alice).await;
        assert_eq!(reply.status, 200, "{}", reply.json);
        assert_eq!(
            reply.json,
            json!({
                "rate": {"limit": 1000, "remaining": before.1, "reset": before.2},
                "instance_limit": {"limit": -1, "remaining": -1},
            })
        );
        assert_eq!(rate_headers(&reply).1, before.1);
    }
    let reply = ctx.send(Method::GET, "/v2/rate_limit", None, None).await;
    assert_sbg_error(&reply, 401, 90001);
}

backends!(#[actix_web::test] async concurrent_removals_leave_an_administrator);
async fn concurrent_removals_leave_an_administrator(ctx: Ctx) {
    let (_, alice) = ctx.user("alice");
    let (_, bob) = ctx.user("bob");
    for round in 0..5 {
        let name = format!("Race {round}");
        let project = create(&ctx, &alice, json!({"name": name})).await;
        let id = project["id"].as_str().unwrap();
        add_member(&ctx, &alice, id, "bob", all_permissions()).await;
        let members = format!("/v2/projects/{id}/members");
        let (remove_bob, remove_alice) = (format!("{members}/bob"), format!("{members}/alice"));
        let (first, second) = tokio::join!(
            ctx.delete(&remove_bob, &alice),
            ctx.delete(&remove_alice, &bob),
        );
        let mut statuses = [first.status.as_u16(), second.status.as_u16()];
        statuses.sort_unstable();
        assert_eq!(statuses, [204, 404], "{} {}", first.json, second.json);
        let survivor = if first.status == 204 { &alice } else { &bob };
        let reply = ctx.get(&members, survivor).await;
        assert_eq!(reply.total(), 1);
        assert_eq!(reply.json["items"][0]["permissions"], all_permissions());
    }
}

backends!(#[actix_web::test] async a_repeated_parameter_takes_its_last_value_on_every_list_route);
/// `offset` and `limit` given twice: every list route takes the last of each (Django's rule),
/// where some answered 400 and `/files` took the last.
async fn a_repeated_parameter_takes_its_last_value_on_every_list_route(ctx: Ctx) {
    let (alice, token) = ctx.user("alice");
    let project = ferry_testkit::project(ctx.db.store(), &alice, "Repeats");
    ferry_testkit::project(ctx.db.store(), &alice, "Second");
    ctx.seed_file(&alice, &project, "/", "a.bam", b"a");
    ctx.seed_file(&alice, &project, "/", "b.bam", b"b");
    let id = project.sbg_id.as_str();
    let repeated = "offset=5&limit=7&offset=0&limit=1";
    for route in [
        "/v2/projects?".to_owned(),
        "/v2/projects/alice?".to_owned(),
        "/v2/billing/groups?".to_owned(),
        format!("/v2/projects/{id}/members?"),
        "/v2/async/files?".to_owned(),
        format!("/v2/files?project={id}&"),
    ] {
        let reply = ctx.get(&format!("{route}{repeated}"), &token).await;
        assert_eq!(reply.status, 200, "{route}: {}", reply.json);
        let href = reply.json["href"].as_str().unwrap();
        assert!(href.ends_with("offset=0&limit=1"), "{route}: {href}");
        assert!(
            reply.json["items"].as_array().unwrap().len() <= 1,
            "{route}: {}",
            reply.json
        );
    }
    // Two projects and two files: a page of one has a next link.
    for route in [
        "/v2/projects?".to_owned(),
        format!("/v2/files?project={id}&"),
    ] {
        let reply = ctx.get(&format!("{route}{repeated}"), &token).await;
        assert_eq!(reply.json["items"].as_array().unwrap().len(), 1, "{route}");
        assert_eq!(reply.json["links"][0]["rel"], "next", "{route}");
    }
    let malformed = ctx.get("/v2/projects?limit=1&limit=x", &token).await;
    assert_sbg_error(&malformed, 400, 90000);
}
