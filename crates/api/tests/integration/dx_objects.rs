//! The DNAnexus dialect but clone and listProjects: every method and every error, on every
//! backend, over HTTP with `Authorization: Bearer` as dxpy sends it; and what the SBG dialect
//! sees of it.

use actix_web::http::{Method, StatusCode, header};
use actix_web::test;
use ferry_domain::model::{Project, User};
use ferry_domain::permission::{Level, Permissions};
use ferry_store::members;
use serde_json::{Value, json};

use crate::support::{Ctx, PUBLIC_URL, Reply, assert_dx_error, assert_sbg_error};
use ferry_api::{ApiConfig, AppState};
use ferry_testkit::{MemberBuilder, TestDb, backends};

/// Alice with a token, and the context.
struct Dx {
    ctx: Ctx,
    alice: User,
    token: String,
}

/// Alice and her token, over one backend.
impl From<TestDb> for Dx {
    fn from(db: TestDb) -> Dx {
        let ctx = Ctx::new(db);
        let (alice, token) = ctx.user("alice");
        Dx { ctx, alice, token }
    }
}

impl Dx {
    /// `POST path` with a JSON body, as alice.
    async fn call(&self, path: &str, body: Value) -> Reply {
        call(
            &self.ctx,
            path,
            Some(&self.token),
            body.to_string().into_bytes(),
        )
        .await
    }

    /// `POST path` as alice, expecting success; returns the output.
    async fn ok(&self, path: &str, body: Value) -> Value {
        let reply = self.call(path, body).await;
        assert_eq!(reply.status, StatusCode::OK, "{path}: {}", reply.json);
        reply.json
    }

    /// A new project of alice's; returns its id.
    async fn project(&self, name: &str) -> String {
        let id = self.ok("/project/new", json!({ "name": name })).await["id"].clone();
        id.as_str().unwrap().to_owned()
    }

    /// A new record; returns its id.
    async fn record(&self, body: Value) -> String {
        let id = self.ok("/record/new", body).await["id"].clone();
        id.as_str().unwrap().to_owned()
    }

    async fn describe(&self, id: &str, body: Value) -> Value {
        self.ok(&format!("/{id}/describe"), body).await
    }

    /// The project row behind a DNAnexus project id.
    fn project_row(&self, id: &str) -> Project {
        let mut conn = self.ctx.db.store().conn().unwrap();
        let id = id.parse().unwrap();
        ferry_store::projects::get_by_dx_id(&mut conn, &id)
            .unwrap()
            .unwrap()
    }

    /// Makes `user` a member of the project at `level`.
    fn add_member(&self, project: &str, user: &User, level: Level) {
        let project = self.project_row(project);
        MemberBuilder::new(&project, user)
            .level(level)
            .can_copy()
            .create(self.ctx.db.store());
    }
}

/// One request through the whole application; the bearer token as dxpy sends it.
async fn call(ctx: &Ctx, path: &str, token: Option<&str>, body: Vec<u8>) -> Reply {
    let mut request = test::TestRequest::post()
        .uri(path)
        .insert_header((header::CONTENT_TYPE, "application/json"))
        .set_payload(body);
    if let Some(token) = token {
        request = request.insert_header((header::AUTHORIZATION, format!("Bearer {token}")));
    }
    let (status, headers, bytes) = send_raw(&ctx.state, request).await;
    let json = serde_json::from_slice(&bytes)
        .unwrap_or_else(|e| panic!("non-JSON body ({e}): {}", String::from_utf8_lossy(&bytes)));
    Reply {
        status,
        headers,
        json,
    }
}

/// One request to a server process with this state.
async fn send_raw(
    state: &AppState,
    request: test::TestRequest,
) -> (StatusCode, header::HeaderMap, actix_web::web::Bytes) {
    let app = test::init_service(ferry_api::app(state.clone())).await;
    let response = test::call_service(&app, request.to_request()).await;
    let status = response.status();
    let headers = response.headers().clone();
    (status, headers, test::read_body(response).await)
}

fn strings(value: &Value) -> Vec<String> {
    value
        .as_array()
        .unwrap_or_else(|| panic!("not an array: {value}"))
        .iter()
        .map(|v| v.as_str().unwrap().to_owned())
        .collect()
}

/// The ids of a listing's or a search's results.
fn ids(list: &Value) -> Vec<String> {
    list.as_array()
        .unwrap_or_else(|| panic!("not an array: {list}"))
        .iter()
        .map(|entry| entry["id"].as_str().unwrap().to_owned())
        .collect()
}

fn sorted(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v
}

backends!(#[actix_web::test] async the_cli_s_greeting_and_its_app_and_job_searches_find_nothing);
/// `dx login` greets; `dx describe PATH` also looks PATH up as an app and as a job. Ferry runs
/// neither, so the searches answer an empty last page, whatever they ask.
async fn the_cli_s_greeting_and_its_app_and_job_searches_find_nothing(dx: Dx) {
    let greeting = json!({"client": "dxclient", "version": "v0.417.1"});
    assert_eq!(
        dx.ok("/system/greet", greeting).await,
        json!({"messages": []})
    );
    let search = json!({"name": "reads.bam", "describe": true, "limit": 1});
    for method in ["findApps", "findGlobalWorkflows", "findExecutions"] {
        assert_eq!(
            dx.ok(&format!("/system/{method}"), search.clone()).await,
            json!({"results": [], "next": null}),
            "{method}"
        );
        assert_dx_error(
            &dx.call(&format!("/system/{method}"), json!([1])).await,
            422,
            "InvalidInput",
        );
    }
}

backends!(#[actix_web::test] async whoami_authentication_and_malformed_calls);
async fn whoami_authentication_and_malformed_calls(dx: Dx) {
    assert_eq!(
        dx.ok("/system/whoami", json!({})).await,
        json!({"id": "user-alice"})
    );
    // `dx whoami` prints the handle of the caller's description; nobody else is described.
    let me = dx.ok("/user-alice/describe", json!({})).await;
    assert_eq!(
        (&me["id"], &me["class"], &me["handle"]),
        (&json!("user-alice"), &json!("user"), &json!("alice"))
    );
    dx.ctx.user("bob");
    for other in ["bob", "nobody"] {
        let reply = dx.call(&format!("/user-{other}/describe"), json!({})).await;
        assert_dx_error(&reply, 404, "ResourceNotFound");
    }
    assert_dx_error(
        &dx.call("/user-alice/destroy", json!({})).await,
        404,
        "ResourceNotFound",
    );
    let lowercase = test::TestRequest::post()
        .uri("/system/whoami")
        .insert_header((header::AUTHORIZATION, format!("bearer {}", dx.token)));
    let (status, _, body) = send_raw(&dx.ctx.state, lowercase).await;
    assert_eq!(
        (status, &body[..]),
        (StatusCode::OK, &br#"{"id":"user-alice"}"#[..])
    );

    let anonymous = call(&dx.ctx, "/system/whoami", None, b"{}".to_vec()).await;
    assert_dx_error(&anonymous, 401, "InvalidAuthentication");
    let unknown = call(&dx.ctx, "/system/whoami", Some("nope"), b"{}".to_vec()).await;
    assert_dx_error(&unknown, 401, "InvalidAuthentication");

    let malformed = call(&dx.ctx, "/system/whoami", Some(&dx.token), b"{".to_vec()).await;
    assert_dx_error(&malformed, 400, "MalformedJSON");
    assert_dx_error(
        &dx.call("/system/whoami", json!([1])).await,
        422,
        "InvalidInput",
    );
    assert_dx_error(
        &dx.call("/system/nothing", json!({})).await,
        404,
        "ResourceNotFound",
    );
    assert_dx_error(
        &dx.call("/None/describe", json!({})).await,
        404,
        "ResourceNotFound",
    );
    let unknown_project = dx
        .call("/project-123456789012345678901234/describe", json!({}))
        .await;
    assert_dx_error(&unknown_project, 404, "ResourceNotFound");
    assert_eq!(
        unknown_project.json["error"]["message"],
        "The entity project-123456789012345678901234 could not be found"
    );
    let project = dx.project("p").await;
    assert_dx_error(
        &dx.call(&format!("/{project}/frobnicate"), json!({})).await,
        404,
        "ResourceNotFound",
    );
    // A record id where a container is expected.
    let record = dx.record(json!({"project": project})).await;
    assert_dx_error(
        &dx.call("/record/new", json!({"project": record})).await,
        422,
        "InvalidType",
    );
}

backends!(#[actix_web::test] async projects_are_created_described_updated_and_destroyed);
async fn projects_are_created_described_updated_and_destroyed(dx: Dx) {
    let created = dx
        .ok(
            "/project/new",
            json!({"name": "My Project", "summary": "short", "description": "long",
                   "region": "aws:eu-central-1", "protected": true, "tags": ["t1"],
                   "billTo": "user-alice", "unknown": 1}),
        )
        .await;
    let id = created["id"].as_str().unwrap().to_owned();
    assert!(id.starts_with("project-"), "{created}");
    let described = dx.describe(&id, json!({})).await;
    for (key, value) in [
        ("id", json!(id)),
        ("class", json!("project")),
        ("name", json!("My Project")),
        ("summary", json!("short")),
        ("description", json!("long")),
        ("region", json!("aws:eu-central-1")),
        ("protected", json!(true)),
        ("restricted", json!(false)),
        ("containsPHI", json!(false)),
        ("level", json!("ADMINISTER")),
        ("billTo", json!("user-alice")),
        ("createdBy", json!({"user": "user-alice"})),
        ("tags", json!(["t1"])),
        ("atSpendingLimit", json!(false)),
    ] {
        assert_eq!(described[key], value, "{key} in {described}");
    }
    assert!(described["created"].as_i64().unwrap() > 1_700_000_000_000);
    assert!(described.get("fileUploadParameters").is_none());
    assert!(described.get("folders").is_none());

    // `fields` selects; the legacy `folders` flag adds the folder list.
    let upload = dx
        .describe(&id, json!({"fields": {"fileUploadParameters": true}}))
        .await;
    assert_eq!(upload.as_object().unwrap().len(), 2, "{upload}");
    assert_eq!(upload["fileUploadParameters"]["emptyLastPartAllowed"], true);
    assert_eq!(upload["fileUploadParameters"]["minimumPartSize"], 1);
    dx.ok(
        &format!("/{id}/newFolder"),
        json!({"folder": "/a/b", "parents": true}),
    )
    .await;
    let folders = dx.describe(&id, json!({"folders": true})).await;
    assert_eq!(folders["folders"], json!(["/", "/a", "/a/b"]));
    assert_eq!(folders["name"], "My Project");
    let permissions = dx
        .describe(&id, json!({"fields": {"permissions": true, "name": false}}))
        .await;
    assert_eq!(
        permissions,
        json!({"id": id, "permissions": {"user-alice": "ADMINISTER"}})
    );

    // The same project in the SBG dialect, with a short name made from its name.
    let listed = dx
        .ctx
        .get("/v2/projects?name=My%20Project", &dx.token)
        .await;
    assert_eq!(
        listed.json["items"][0]["id"], "alice/my-project",
        "{}",
        listed.json
    );

    let updated = dx
        .ok(
            &format!("/{id}/update"),
            json!({"name": "Renamed", "summary": "s2", "restricted": true,
                   "protected": false, "containsPHI": true}),
        )
        .await;
    assert_eq!(updated, json!({ "id": id }));
    let described = dx.describe(&id, json!({})).await;
    assert_eq!(
        (
            &described["name"],
            &described["summary"],
            &described["restricted"],
            &described["protected"],
            &described["containsPHI"],
            &described["description"],
        ),
        (
            &json!("Renamed"),
            &json!("s2"),
            &json!(true),
            &json!(false),
            &json!(true),
            &json!("long")
        )
    );
    let unset_phi = dx
        .call(&format!("/{id}/update"), json!({"containsPHI": false}))
        .await;
    assert_dx_error(&unset_phi, 422, "InvalidInput");
    assert_dx_error(
        &dx.call(&format!("/{id}/update"), json!({"name": " "}))
            .await,
        422,
        "InvalidInput",
    );

    for bad in [
        json!({}),
        json!({"name": ""}),
        json!({"name": 5}),
        json!({"name": "x", "region": "nowhere"}),
        json!({"name": "x", "protected": "yes"}),
    ] {
        assert_dx_error(&dx.call("/project/new", bad).await, 422, "InvalidInput");
    }
    let (bob, bob_token) = dx.ctx.user("bob");
    let not_mine = dx
        .call("/project/new", json!({"name": "x", "billTo": "user-bob"}))
        .await;
    assert_dx_error(&not_mine, 403, "PermissionDenied");
    // A billTo that does not exist, or is not the caller's, is refused by update too.
    for bill_to in ["user-bob", "org-nowhere"] {
        let body = json!({"billTo": bill_to, "name": "Never"});
        let refused = dx.call(&format!("/{id}/update"), body).await;
        assert_dx_error(&refused, 403, "PermissionDenied");
    }
    let described = dx.describe(&id, json!({})).await;
    assert_eq!(
        (&described["billTo"], &described["name"]),
        (&json!("user-alice"), &json!("Renamed")),
        "{described}"
    );
    let kept = json!({"billTo": "user-alice"});
    dx.ok(&format!("/{id}/update"), kept).await;

    // Bob sees nothing until he is a member, and may not change what he only views.
    let as_bob = |path: String, body: Value| {
        let token = bob_token.clone();
        let ctx = &dx.ctx;
        async move { call(ctx, &path, Some(&token), body.to_string().into_bytes()).await }
    };
    assert_dx_error(
        &as_bob(format!("/{id}/describe"), json!({})).await,
        404,
        "ResourceNotFound",
    );
    assert_dx_error(
        &as_bob(format!("/{id}/destroy"), json!({})).await,
        404,
        "ResourceNotFound",
    );
    dx.add_member(&id, &bob, Level::Contribute);
    assert_eq!(
        as_bob(format!("/{id}/describe"), json!({})).await.json["level"],
        "CONTRIBUTE"
    );
    assert_dx_error(
        &as_bob(format!("/{id}/update"), json!({"name": "b"})).await,
        403,
        "PermissionDenied",
    );
    assert_dx_error(
        &as_bob(format!("/{id}/destroy"), json!({})).await,
        403,
        "PermissionDenied",
    );

    // Destroying takes the objects only this project holds.
    let record = dx.record(json!({"project": id, "folder": "/a"})).await;
    assert_eq!(
        dx.ok(&format!("/{id}/destroy"), json!({})).await,
        json!({ "id": id })
    );
    assert_dx_error(
        &dx.call(&format!("/{id}/describe"), json!({})).await,
        404,
        "ResourceNotFound",
    );
    let mut conn = dx.ctx.db.store().conn().unwrap();
    let gone = ferry_store::objects::get(&mut conn, &record.parse().unwrap()).unwrap();
    assert_eq!(gone, None);
}

backends!(#[actix_web::test] async a_project_s_tags_and_properties_are_set_and_described);
/// `dx tag PROJECT` and `dx set_properties PROJECT`: CONTRIBUTE; tags stay once, a null
/// property goes, and both show in `describe`.
async fn a_project_s_tags_and_properties_are_set_and_described(dx: Dx) {
    let body = json!({"name": "Tagged", "tags": ["a"], "properties": {"k0": "v0"}});
    let project = dx.ok("/project/new", body).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let dx = &dx;
    let call = |method: &str, body: Value| {
        let path = format!("/{project}/{method}");
        async move { dx.call(&path, body).await }
    };
    let answer = call("addTags", json!({"tags": ["b", "a", "c"]})).await;
    assert_eq!(answer.json, json!({"id": project}));
    call("removeTags", json!({"tags": ["c", "absent"]})).await;
    call(
        "setProperties",
        json!({"properties": {"k1": "v1", "k0": null}}),
    )
    .await;
    let described = dx.describe(&project, json!({})).await;
    assert_eq!(described["tags"], json!(["a", "b"]));
    assert_eq!(described["properties"], json!({"k1": "v1"}));
    let only = dx
        .describe(&project, json!({"fields": {"properties": true}}))
        .await;
    assert_eq!(only, json!({"id": project, "properties": {"k1": "v1"}}));

    for (method, body) in [
        ("addTags", json!({"tags": ["x".repeat(300)]})),
        ("addTags", json!({"tags": "not a list"})),
        ("setProperties", json!({"properties": {"k": 1}})),
        (
            "setProperties",
            json!({"properties": {"k": "v".repeat(20_000)}}),
        ),
    ] {
        assert_dx_error(&call(method, body).await, 422, "InvalidInput");
    }
    let (bob, bob_token) = dx.ctx.user("bob");
    dx.add_member(&project, &bob, Level::Upload);
    let path = format!("/{project}/addTags");
    let body = json!({"tags": ["bob's"]}).to_string().into_bytes();
    let refused = super::dx_objects::call(&dx.ctx, &path, Some(&bob_token), body).await;
    assert_dx_error(&refused, 403, "PermissionDenied");
    let described = dx.describe(&project, json!({})).await;
    assert_eq!(
        (&described["tags"], &described["properties"]),
        (&json!(["a", "b"]), &json!({"k1": "v1"}))
    );
}

backends!(#[actix_web::test] async members_are_invited_lowered_and_leave);
async fn members_are_invited_lowered_and_leave(dx: Dx) {
    let project = dx.project("shared").await;
    let (_bob, bob_token) = dx.ctx.user("bob");
    let bob = |path: String, body: Value| {
        let token = bob_token.clone();
        let ctx = &dx.ctx;
        async move { call(ctx, &path, Some(&token), body.to_string().into_bytes()).await }
    };
    let invite = format!("/{project}/invite");
    let invited = dx
        .ok(&invite, json!({"invitee": "user-bob", "level": "VIEW"}))
        .await;
    assert_eq!(invited, json!({"id": "user-bob", "state": "member"}));
    assert_eq!(
        bob(format!("/{project}/describe"), json!({})).await.json["level"],
        "VIEW"
    );
    let new_folder = json!({"folder": "/x", "parents": true});
    assert_dx_error(
        &bob(format!("/{project}/newFolder"), new_folder.clone()).await,
        403,
        "PermissionDenied",
    );
    assert_dx_error(
        &bob(
            invite.clone(),
            json!({"invitee": "user-alice", "level": "VIEW"}),
        )
        .await,
        403,
        "PermissionDenied",
    );

    // Inviting again raises, never lowers.
    dx.ok(&invite, json!({"invitee": "user-bob", "level": "UPLOAD"}))
        .await;
    dx.ok(&invite, json!({"invitee": "user-bob", "level": "VIEW"}))
        .await;
    assert_eq!(
        bob(format!("/{project}/describe"), json!({})).await.json["level"],
        "UPLOAD"
    );
    assert_eq!(
        bob(format!("/{project}/newFolder"), new_folder)
            .await
            .status,
        StatusCode::OK
    );

    assert_dx_error(
        &dx.call(&invite, json!({"invitee": "user-carol", "level": "VIEW"}))
            .await,
        404,
        "ResourceNotFound",
    );
    // An e-mail address names no user Ferry knows.
    assert_dx_error(
        &dx.call(
            &invite,
            json!({"invitee": "carol@example.org", "level": "VIEW"}),
        )
        .await,
        404,
        "ResourceNotFound",
    );
    assert_dx_error(
        &dx.call(&invite, json!({"invitee": "PUBLIC", "level": "VIEW"}))
            .await,
        422,
        "InvalidInput",
    );
    assert_dx_error(
        &dx.call(&invite, json!({"invitee": "user-bob", "level": "OWNER"}))
            .await,
        422,
        "InvalidInput",
    );

    let decrease = format!("/{project}/decreasePermissions");
    // A user that does not exist is not found; one who is not a member holds nothing to lower.
    let unknown = json!({"user-bob": "VIEW", "user-nobody": null});
    assert_dx_error(&dx.call(&decrease, unknown).await, 404, "ResourceNotFound");
    dx.ctx.user("dave");
    assert_eq!(
        dx.ok(&decrease, json!({"user-dave": null})).await,
        json!({ "id": project })
    );
    assert_eq!(
        bob(format!("/{project}/describe"), json!({})).await.json["level"],
        "UPLOAD",
        "a refused decrease changed nothing"
    );
    assert_eq!(
        dx.ok(&decrease, json!({"user-bob": "VIEW"})).await,
        json!({ "id": project })
    );
    assert_eq!(
        bob(format!("/{project}/describe"), json!({})).await.json["level"],
        "VIEW"
    );
    assert_dx_error(
        &dx.call(&decrease, json!({"user-bob": "CONTRIBUTE"})).await,
        422,
        "InvalidInput",
    );
    assert_dx_error(
        &bob(decrease.clone(), json!({"user-alice": "VIEW"})).await,
        403,
        "PermissionDenied",
    );
    assert_dx_error(
        &dx.call(&decrease, json!({"user-alice": "VIEW"})).await,
        422,
        "InvalidState",
    );
    // Anyone may lower themselves; null revokes.
    assert_eq!(
        bob(decrease.clone(), json!({"user-bob": null}))
            .await
            .status,
        StatusCode::OK
    );
    assert_dx_error(
        &bob(format!("/{project}/describe"), json!({})).await,
        404,
        "ResourceNotFound",
    );

    dx.ok(&invite, json!({"invitee": "user-bob", "level": "VIEW"}))
        .await;
    assert_eq!(
        bob(format!("/{project}/leave"), json!({})).await.json,
        json!({ "id": project })
    );
    assert_dx_error(
        &bob(format!("/{project}/describe"), json!({})).await,
        404,
        "ResourceNotFound",
    );
    assert_dx_error(
        &dx.call(&format!("/{project}/leave"), json!({})).await,
        422,
        "InvalidState",
    );
}

backends!(#[actix_web::test] async folders_are_made_listed_and_removed);
async fn folders_are_made_listed_and_removed(dx: Dx) {
    let project = dx.project("folders").await;
    let path = |method: &str| format!("/{project}/{method}");
    assert_eq!(
        dx.ok(
            &path("newFolder"),
            json!({"folder": "/a/b/", "parents": true})
        )
        .await,
        json!({ "id": project })
    );
    dx.ok(
        &path("newFolder"),
        json!({"folder": "/a/b", "parents": true}),
    )
    .await;
    dx.ok(&path("newFolder"), json!({"folder": "/", "parents": true}))
        .await;
    dx.ok(
        &path("newFolder"),
        json!({"folder": "/a/c", "parents": false}),
    )
    .await;
    assert_dx_error(
        &dx.call(&path("newFolder"), json!({"folder": "/a/c"})).await,
        422,
        "InvalidState",
    );
    assert_dx_error(
        &dx.call(&path("newFolder"), json!({"folder": "/x/y"})).await,
        404,
        "ResourceNotFound",
    );
    for bad in [
        json!({}),
        json!({"folder": "a"}),
        json!({"folder": "/a/../b"}),
        json!({"folder": "/a", "parents": 1}),
    ] {
        assert_dx_error(&dx.call(&path("newFolder"), bad).await, 422, "InvalidInput");
    }

    let record = dx
        .record(json!({"project": project, "folder": "/a", "name": "r"}))
        .await;
    let hidden = dx
        .record(json!({"project": project, "folder": "/a", "name": "h", "hidden": true}))
        .await;
    let all = dx.ok(&path("listFolder"), json!({"folder": "/a"})).await;
    assert_eq!(
        all,
        json!({"folders": ["/a/b", "/a/c"], "objects": [{"id": record}]})
    );
    let with_hidden = dx
        .ok(&path("listFolder"), json!({"folder": "/a", "includeHidden": true, "only": "objects", "describe": {"fields": {"name": true}}}))
        .await;
    assert_eq!(
        with_hidden,
        json!({"objects": [
            {"id": hidden, "describe": {"id": hidden, "name": "h"}},
            {"id": record, "describe": {"id": record, "name": "r"}},
        ]})
    );
    let described = dx
        .ok(
            &path("listFolder"),
            json!({"folder": "/a", "describe": true}),
        )
        .await;
    assert_eq!(described["objects"][0]["describe"]["folder"], "/a");
    let folders_only = dx.ok(&path("listFolder"), json!({"only": "folders"})).await;
    assert_eq!(folders_only, json!({"folders": ["/a"]}));
    let missing = dx
        .call(&path("listFolder"), json!({"folder": "/nope"}))
        .await;
    assert_dx_error(&missing, 404, "ResourceNotFound");
    assert_eq!(
        missing.json["error"]["message"],
        format!("The specified folder could not be found in {project}")
    );
    assert_dx_error(
        &dx.call(&path("listFolder"), json!({"only": "some"})).await,
        422,
        "InvalidInput",
    );

    let remove = path("removeFolder");
    assert_dx_error(
        &dx.call(&remove, json!({"folder": "/a"})).await,
        422,
        "InvalidState",
    );
    assert_dx_error(
        &dx.call(&remove, json!({"folder": "/"})).await,
        422,
        "InvalidInput",
    );
    assert_dx_error(
        &dx.call(&remove, json!({"folder": "/gone"})).await,
        404,
        "ResourceNotFound",
    );
    assert_eq!(
        dx.ok(&remove, json!({"folder": "/gone", "force": true}))
            .await,
        json!({"id": project, "completed": true})
    );
    assert_eq!(
        dx.ok(&remove, json!({"folder": "/a/c"})).await,
        json!({"id": project, "completed": true})
    );
    dx.ok(
        &remove,
        json!({"folder": "/a", "recurse": true, "partial": true}),
    )
    .await;
    assert_eq!(
        dx.ok(&path("listFolder"), json!({})).await,
        json!({"folders": [], "objects": []})
    );
    assert_dx_error(
        &dx.call(&format!("/{record}/describe"), json!({})).await,
        404,
        "ResourceNotFound",
    );
    assert_dx_error(
        &dx.call(&format!("/{hidden}/describe"), json!({})).await,
        404,
        "ResourceNotFound",
    );

    // "/" with recurse empties the project and keeps its root.
    dx.record(json!({"project": project, "folder": "/z", "parents": true}))
        .await;
    dx.ok(&remove, json!({"folder": "/", "recurse": true}))
        .await;
    assert_eq!(
        dx.ok(&path("listFolder"), json!({})).await,
        json!({"folders": [], "objects": []})
    );

    // Removing takes CONTRIBUTE, and ADMINISTER in a protected project.
    let (bob, bob_token) = dx.ctx.user("bob");
    dx.add_member(&project, &bob, Level::Upload);
    dx.ok(&path("newFolder"), json!({"folder": "/k"})).await;
    let as_bob = call(
        &dx.ctx,
        &remove,
        Some(&bob_token),
        json!({"folder": "/k"}).to_string().into_bytes(),
    )
    .await;
    assert_dx_error(&as_bob, 403, "PermissionDenied");
    {
        let project_row = dx.project_row(&project);
        let mut conn = dx.ctx.db.store().conn().unwrap();
        let contributor = Permissions {
            level: Level::Contribute,
            copy: true,
            execute: true,
        };
        members::set_permissions(&mut conn, project_row.id, bob.id, contributor).unwrap();
    }
    dx.ok(&path("update"), json!({"protected": true})).await;
    let protected = call(
        &dx.ctx,
        &remove,
        Some(&bob_token),
        json!({"folder": "/k"}).to_string().into_bytes(),
    )
    .await;
    assert_dx_error(&protected, 403, "PermissionDenied");
    dx.ok(&path("update"), json!({"protected": false})).await;
    let allowed = call(
        &dx.ctx,
        &remove,
        Some(&bob_token),
        json!({"folder": "/k"}).to_string().into_bytes(),
    )
    .await;
    assert_eq!(allowed.status, StatusCode::OK, "{}", allowed.json);
}

backends!(#[actix_web::test] async records_are_created_described_and_closed);
async fn records_are_created_described_and_closed(dx: Dx) {
    let project = dx.project("records").await;
    dx.ok(&format!("/{project}/newFolder"), json!({"folder": "/data"}))
        .await;
    let hidden = dx
        .record(
            json!({"project": project, "folder": "/data", "name": "index", "hidden": true,
                       "details": {"kind": "index"}, "close": true, "types": ["Index"]}),
        )
        .await;
    assert!(hidden.starts_with("record-"));
    let link = json!({"$dnanexus_link": hidden});
    let visible = dx
        .record(json!({"project": project, "folder": "/data", "name": "sample",
                       "details": {"index": link, "again": {"$dnanexus_link": {"project": project, "id": hidden}}},
                       "tags": ["a"], "properties": {"k": "v"}}))
        .await;

    let described = dx.describe(&visible, json!({"project": project})).await;
    for (key, value) in [
        ("id", json!(visible)),
        ("project", json!(project)),
        ("class", json!("record")),
        ("name", json!("sample")),
        ("folder", json!("/data")),
        ("state", json!("open")),
        ("hidden", json!(false)),
        ("links", json!([hidden])),
        ("types", json!([])),
        ("tags", json!(["a"])),
        ("sponsored", json!(false)),
        ("createdBy", json!({"user": "user-alice"})),
    ] {
        assert_eq!(described[key], value, "{key} in {described}");
    }
    assert!(described.get("details").is_none() && described.get("properties").is_none());
    assert!(described["modified"].as_i64() >= described["created"].as_i64());
    let full = dx
        .describe(
            &visible,
            json!({"project": project, "details": true, "properties": true}),
        )
        .await;
    assert_eq!(full["details"]["index"], link);
    assert_eq!(full["properties"], json!({"k": "v"}));
    let fields = dx
        .describe(
            &visible,
            json!({"fields": {"state": true, "details": true}}),
        )
        .await;
    assert_eq!(fields.as_object().unwrap().len(), 3, "{fields}");
    let defaults_too = dx
        .describe(
            &visible,
            json!({"fields": {"properties": true}, "defaultFields": true}),
        )
        .await;
    assert_eq!(defaults_too["properties"], json!({"k": "v"}));
    assert_eq!(defaults_too["name"], "sample");
    let closed_hidden = dx.describe(&hidden, json!({})).await;
    assert_eq!(
        (
            &closed_hidden["state"],
            &closed_hidden["hidden"],
            &closed_hidden["types"]
        ),
        (&json!("closed"), &json!(true), &json!(["Index"]))
    );

    assert_eq!(
        dx.ok(&format!("/{visible}/close"), json!({})).await,
        json!({ "id": visible })
    );
    assert_eq!(dx.describe(&visible, json!({})).await["state"], "closed");
    assert_eq!(
        dx.ok(&format!("/{visible}/close"), json!({})).await,
        json!({ "id": visible })
    );
    assert_eq!(
        dx.ok(&format!("/{visible}/getDetails"), json!({})).await["index"],
        link
    );

    // The default name is the new id; parents makes the folder.
    let unnamed = dx
        .record(json!({"project": project, "folder": "/new/deep", "parents": true}))
        .await;
    let unnamed_description = dx.describe(&unnamed, json!({})).await;
    assert_eq!(unnamed_description["name"], json!(unnamed));
    assert_eq!(unnamed_description["folder"], "/new/deep");
    assert_eq!(
        dx.ok(&format!("/{unnamed}/getDetails"), json!({})).await,
        json!({})
    );

    let new = |body: Value| dx.call("/record/new", body);
    assert_dx_error(
        &new(json!({"project": project, "folder": "/none"})).await,
        404,
        "ResourceNotFound",
    );
    assert_dx_error(
        &new(json!({"project": "project-123456789012345678901234"})).await,
        404,
        "ResourceNotFound",
    );
    for bad in [
        json!({}),
        json!({"project": project, "name": "a/b"}),
        json!({"project": project, "name": ""}),
        json!({"project": project, "details": "text"}),
        json!({"project": project, "details": {"$dnanexus_link": 5}}),
        json!({"project": project, "details": {"$dnanexus_link": hidden, "x": 1}}),
        json!({"project": project, "properties": {"k": 1}}),
        json!({"project": project, "hidden": "no"}),
        json!({"project": project, "tags": "t"}),
        json!({"project": project, "nonce": ""}),
    ] {
        assert_dx_error(&new(bad).await, 422, "InvalidInput");
    }
    let (bob, bob_token) = dx.ctx.user("bob");
    let body = json!({"project": project}).to_string().into_bytes();
    assert_dx_error(
        &call(&dx.ctx, "/record/new", Some(&bob_token), body.clone()).await,
        404,
        "ResourceNotFound",
    );
    assert_dx_error(
        &call(
            &dx.ctx,
            &format!("/{visible}/describe"),
            Some(&bob_token),
            b"{}".to_vec(),
        )
        .await,
        404,
        "ResourceNotFound",
    );
    dx.add_member(&project, &bob, Level::View);
    assert_dx_error(
        &call(&dx.ctx, "/record/new", Some(&bob_token), body).await,
        403,
        "PermissionDenied",
    );
    assert_dx_error(
        &call(
            &dx.ctx,
            &format!("/{unnamed}/close"),
            Some(&bob_token),
            b"{}".to_vec(),
        )
        .await,
        403,
        "PermissionDenied",
    );
    assert_dx_error(
        &dx.call(&format!("/{visible}/nothing"), json!({})).await,
        404,
        "ResourceNotFound",
    );
    assert_dx_error(
        &dx.call(&format!("/{visible}/upload"), json!({})).await,
        404,
        "ResourceNotFound",
    );
}

backends!(#[actix_web::test] async a_nonce_makes_a_creation_idempotent);
async fn a_nonce_makes_a_creation_idempotent(dx: Dx) {
    let project = dx.project("nonces").await;
    let body = json!({"project": project, "name": "once", "nonce": "n-1"});
    let first = dx.record(body.clone()).await;
    assert_eq!(dx.record(body.clone()).await, first);
    let listed = dx.ok(&format!("/{project}/listFolder"), json!({})).await;
    assert_eq!(ids(&listed["objects"]), [first.as_str()]);

    let other = json!({"project": project, "name": "twice", "nonce": "n-1"});
    let reused = dx.call("/record/new", other).await;
    assert_dx_error(&reused, 422, "InvalidInput");
    assert_eq!(
        reused.json["error"]["message"],
        "Nonce was reused for an earlier API request that had a different input"
    );
    // The same body for another class is another input.
    assert_dx_error(
        &dx.call("/file/new", body.clone()).await,
        422,
        "InvalidInput",
    );

    // Nonces are per user.
    let (bob, bob_token) = dx.ctx.user("bob");
    dx.add_member(&project, &bob, Level::Upload);
    let bobs = call(
        &dx.ctx,
        "/record/new",
        Some(&bob_token),
        body.to_string().into_bytes(),
    )
    .await;
    assert_eq!(bobs.status, StatusCode::OK, "{}", bobs.json);
    assert_ne!(bobs.json["id"], json!(first));
}

backends!(#[actix_web::test] async open_objects_change_and_copies_keep_their_own_metadata);
async fn open_objects_change_and_copies_keep_their_own_metadata(dx: Dx) {
    let project = dx.project("changes").await;
    let target = dx.record(json!({"project": project, "close": true})).await;
    let id = dx
        .record(json!({"project": project, "name": "r", "tags": ["a", "b"]}))
        .await;
    let method = |name: &str| format!("/{id}/{name}");

    // setDetails takes the raw value as its body, an array too.
    let details = json!([{"$dnanexus_link": target}, 1]);
    assert_eq!(
        dx.ok(&method("setDetails"), details.clone()).await,
        json!({ "id": id })
    );
    assert_eq!(dx.ok(&method("getDetails"), json!({})).await, details);
    assert_eq!(dx.describe(&id, json!({})).await["links"], json!([target]));
    assert_dx_error(
        &dx.call(&method("setDetails"), json!("text")).await,
        422,
        "InvalidInput",
    );
    assert_dx_error(
        &dx.call(&method("setDetails"), json!({"$dnanexus_link": "x"}))
            .await,
        422,
        "InvalidInput",
    );

    dx.ok(&method("setVisibility"), json!({"hidden": true}))
        .await;
    let listed = dx.ok(&format!("/{project}/listFolder"), json!({})).await;
    assert_eq!(ids(&listed["objects"]), [target.as_str()]);
    dx.ok(&method("setVisibility"), json!({"hidden": false}))
        .await;
    assert_dx_error(
        &dx.call(&method("setVisibility"), json!({})).await,
        422,
        "InvalidInput",
    );

    dx.ok(&method("addTypes"), json!({"types": ["A", "B", "A"]}))
        .await;
    dx.ok(&method("removeTypes"), json!({"types": ["A", "Z"]}))
        .await;
    assert_eq!(dx.describe(&id, json!({})).await["types"], json!(["B"]));

    dx.ok(
        &method("addTags"),
        json!({"project": project, "tags": ["b", "c"]}),
    )
    .await;
    dx.ok(
        &method("removeTags"),
        json!({"project": project, "tags": ["a"]}),
    )
    .await;
    dx.ok(
        &method("setProperties"),
        json!({"project": project, "properties": {"x": "1", "y": "2"}}),
    )
    .await;
    dx.ok(
        &method("setProperties"),
        json!({"project": project, "properties": {"x": null}}),
    )
    .await;
    dx.ok(
        &method("rename"),
        json!({"project": project, "name": "renamed"}),
    )
    .await;
    let described = dx.describe(&id, json!({"properties": true})).await;
    assert_eq!(
        (
            &described["tags"],
            &described["properties"],
            &described["name"]
        ),
        (&json!(["b", "c"]), &json!({"y": "2"}), &json!("renamed"))
    );
    assert_dx_error(
        &dx.call(&method("setProperties"), json!({"properties": {"x": 1}}))
            .await,
        422,
        "InvalidInput",
    );
    assert_dx_error(
        &dx.call(&method("rename"), json!({"name": "a/b"})).await,
        422,
        "InvalidInput",
    );

    // Once closed, what belongs to the object is fixed; the copy's metadata is not.
    dx.ok(&method("close"), json!({})).await;
    for (name, body) in [
        ("setDetails", json!({})),
        ("setVisibility", json!({"hidden": true})),
        ("addTypes", json!({"types": ["C"]})),
        ("removeTypes", json!({"types": ["B"]})),
    ] {
        assert_dx_error(&dx.call(&method(name), body).await, 422, "InvalidState");
    }
    dx.ok(
        &method("rename"),
        json!({"project": project, "name": "closed-name"}),
    )
    .await;
    dx.ok(&method("addTags"), json!({"tags": ["d"]})).await;

    // A clone shares the object; its name, tags and properties are its own.
    let other = dx.project("other").await;
    dx.ok(
        &format!("/{project}/clone"),
        json!({"objects": [id], "project": other}),
    )
    .await;
    dx.ok(
        &method("rename"),
        json!({"project": other, "name": "there"}),
    )
    .await;
    assert_eq!(
        dx.describe(&id, json!({"project": project})).await["name"],
        "closed-name"
    );
    let there = dx.describe(&id, json!({"project": other})).await;
    assert_eq!(
        (&there["name"], &there["project"]),
        (&json!("there"), &json!(other))
    );
    assert_dx_error(
        &dx.call(
            &method("rename"),
            json!({"project": "project-123456789012345678901234", "name": "x"}),
        )
        .await,
        404,
        "ResourceNotFound",
    );

    // The project is a hint: a copy elsewhere answers, naming its own project.
    let elsewhere = dx.project("elsewhere").await;
    let only_here = dx.record(json!({"project": project})).await;
    let hinted = dx.describe(&only_here, json!({"project": elsewhere})).await;
    assert_eq!(hinted["project"], json!(project));
    let (bob, bob_token) = dx.ctx.user("bob");
    dx.add_member(&other, &bob, Level::View);
    let bobs = call(
        &dx.ctx,
        &method("describe"),
        Some(&bob_token),
        json!({"project": project}).to_string().into_bytes(),
    )
    .await;
    assert_eq!(
        bobs.json["project"],
        json!(other),
        "bob sees the copy he may see"
    );
    assert_dx_error(
        &call(
            &dx.ctx,
            &method("rename"),
            Some(&bob_token),
            json!({"project": other, "name": "b"})
                .to_string()
                .into_bytes(),
        )
        .await,
        403,
        "PermissionDenied",
    );
    assert_dx_error(
        &call(
            &dx.ctx,
            &method("rename"),
            Some(&bob_token),
            json!({"project": project, "name": "b"})
                .to_string()
                .into_bytes(),
        )
        .await,
        404,
        "ResourceNotFound",
    );
}

backends!(#[actix_web::test] async applets_and_workflows_keep_their_class_fields);
async fn applets_and_workflows_keep_their_class_fields(dx: Dx) {
    let project = dx.project("code").await;
    let asset = dx
        .record(json!({"project": project, "hidden": true, "close": true}))
        .await;
    let run_spec = json!({"interpreter": "bash", "code": "echo",
                          "bundledDepends": [{"name": "asset", "id": {"$dnanexus_link": asset}}]});
    let applet = dx
        .ok(
            "/applet/new",
            json!({"project": project, "name": "app", "dxapi": "1.0.0",
                                  "runSpec": run_spec, "title": "T"}),
        )
        .await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(applet.starts_with("applet-"));
    let described = dx.describe(&applet, json!({})).await;
    assert_eq!(
        (
            &described["state"],
            &described["runSpec"],
            &described["dxapi"],
            &described["title"]
        ),
        (&json!("closed"), &run_spec, &json!("1.0.0"), &json!("T"))
    );
    assert_dx_error(
        &dx.call("/applet/new", json!({"project": project, "dxapi": "1.0.0"}))
            .await,
        422,
        "InvalidInput",
    );
    assert_dx_error(
        &dx.call(
            "/applet/new",
            json!({"project": project, "dxapi": "1.0.0", "runSpec": 1}),
        )
        .await,
        422,
        "InvalidInput",
    );

    // Cloning the applet brings its hidden bundled dependency.
    let other = dx.project("other").await;
    dx.ok(
        &format!("/{project}/clone"),
        json!({"objects": [applet], "project": other}),
    )
    .await;
    let cloned = dx
        .ok(
            &format!("/{other}/listFolder"),
            json!({"includeHidden": true}),
        )
        .await;
    assert_eq!(
        sorted(ids(&cloned["objects"])),
        sorted(vec![applet.clone(), asset.clone()])
    );

    let workflow = dx
        .ok(
            "/workflow/new",
            json!({"project": project, "stages": [{"id": "s1"}], "title": "W"}),
        )
        .await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let described = dx.describe(&workflow, json!({})).await;
    assert_eq!(
        (
            &described["state"],
            &described["stages"],
            &described["title"],
            &described["class"]
        ),
        (
            &json!("open"),
            &json!([{"id": "s1"}]),
            &json!("W"),
            &json!("workflow")
        )
    );
    dx.ok(&format!("/{workflow}/close"), json!({})).await;
    assert_eq!(dx.describe(&workflow, json!({})).await["state"], "closed");
    assert_dx_error(
        &dx.call("/job/new", json!({})).await,
        404,
        "ResourceNotFound",
    );
}

/// The path and query of a URL of this server.
fn local(url: &Value) -> String {
    let url = url.as_str().expect("a URL");
    url.strip_prefix(PUBLIC_URL)
        .unwrap_or_else(|| panic!("{url} is not on {PUBLIC_URL}"))
        .to_owned()
}

/// PUT `bytes` to an upload URL, with the headers it came with and no token.
async fn put(state: &AppState, upload: &Value, bytes: &[u8]) -> (StatusCode, Value) {
    let mut request = test::TestRequest::default()
        .method(Method::PUT)
        .uri(&local(&upload["url"]))
        .set_payload(bytes.to_vec());
    for (name, value) in upload["headers"].as_object().unwrap() {
        request = request.insert_header((name.as_str(), value.as_str().unwrap()));
    }
    let (status, _, body) = send_raw(state, request).await;
    (status, serde_json::from_slice(&body).unwrap_or(Value::Null))
}

/// GET a download URL, with an optional Range; no token.
async fn get(
    ctx: &Ctx,
    url: &str,
    range: Option<&str>,
) -> (StatusCode, header::HeaderMap, Vec<u8>) {
    let mut request = test::TestRequest::get().uri(url);
    if let Some(range) = range {
        request = request.insert_header((header::RANGE, range));
    }
    let (status, headers, body) = send_raw(&ctx.state, request).await;
    (status, headers, body.to_vec())
}

/// The MD5s of the parts the tests upload.
const HELLO_MD5: &str = "f814893777bcc2295fff05f00e508da6";
const WORLD_MD5: &str = "591785b794601e212b260e25925636fd";

backends!(#[actix_web::test] async files_are_uploaded_in_parts_closed_and_downloaded);
async fn files_are_uploaded_in_parts_closed_and_downloaded(dx: Dx) {
    let project = dx.project("files").await;
    let file = dx
        .ok(
            "/file/new",
            json!({"project": project, "name": "hello.txt", "media": "text/plain", "nonce": "f"}),
        )
        .await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let open = dx.describe(&file, json!({})).await;
    assert_eq!(
        (
            &open["class"],
            &open["state"],
            &open["media"],
            open.get("size")
        ),
        (&json!("file"), &json!("open"), &json!("text/plain"), None)
    );
    let upload_path = format!("/{file}/upload");
    let upload = |body: Value| dx.ok(&upload_path, body);
    // Parts may come in any order; a part sent again replaces the first.
    let second = upload(json!({"index": 2, "size": 6, "md5": WORLD_MD5})).await;
    assert!(second["expires"].as_i64().unwrap() > 0);
    assert_eq!(
        put(&dx.ctx.state, &second, b"world\n").await.0,
        StatusCode::OK
    );
    let first = upload(json!({"index": 1})).await;
    assert_eq!(
        put(&dx.ctx.state, &first, b"HELLO ").await.0,
        StatusCode::OK
    );
    let first = upload(json!({"index": 1, "size": 6, "md5": HELLO_MD5})).await;
    let (status, _) = put(&dx.ctx.state, &first, b"hello!").await;
    assert_eq!(
        status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "the md5 was announced"
    );
    let (status, _) = put(&dx.ctx.state, &first, b"hello").await;
    assert_eq!(
        status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "the size was announced"
    );
    assert_eq!(
        put(&dx.ctx.state, &first, b"hello ").await.0,
        StatusCode::OK
    );
    let mut forged = first.clone();
    forged["url"] = json!(first["url"].as_str().unwrap().replace("/1?", "/3?"));
    assert_eq!(
        put(&dx.ctx.state, &forged, b"hello ").await.0,
        StatusCode::FORBIDDEN
    );
    let parts = dx.describe(&file, json!({"fields": {"parts": true}})).await;
    assert_eq!(
        parts["parts"]["1"],
        json!({"state": "complete", "size": 6, "md5": HELLO_MD5})
    );
    assert_eq!(parts["parts"]["2"]["size"], 6);

    for bad in [
        json!({"index": 0}),
        json!({"index": 10_001}),
        json!({"md5": "xyz"}),
        json!({"size": 1u64 << 40}),
    ] {
        assert_dx_error(
            &dx.call(&format!("/{file}/upload"), bad).await,
            422,
            "InvalidInput",
        );
    }
    assert_dx_error(
        &dx.call(&format!("/{file}/download"), json!({})).await,
        422,
        "InvalidState",
    );

    dx.ok(&format!("/{file}/close"), json!({})).await;
    let closed = dx
        .describe(
            &file,
            json!({"fields": {"state": true, "size": true, "parts": true}}),
        )
        .await;
    // Uploaded in parts, it keeps them, sizes and MD5s, as DNAnexus shows them.
    assert_eq!(closed["state"], "closed");
    assert_eq!(closed["size"], 12);
    assert_eq!(
        closed["parts"]["1"],
        json!({"state": "complete", "size": 6, "md5": HELLO_MD5})
    );
    assert_eq!(closed["parts"]["2"]["size"], 6);
    assert_eq!(closed["parts"].as_object().unwrap().len(), 2);
    assert_dx_error(
        &dx.call(&format!("/{file}/upload"), json!({"index": 3}))
            .await,
        422,
        "InvalidState",
    );
    assert_eq!(
        put(&dx.ctx.state, &second, b"world\n").await.0,
        StatusCode::UNPROCESSABLE_ENTITY
    );

    let download = dx
        .ok(&format!("/{file}/download"), json!({"project": project}))
        .await;
    assert_eq!(download["headers"], json!({}));
    let url = local(&download["url"]);
    // The name last and no query, so that `wget URL` saves the file under its name.
    let name = dx.describe(&file, json!({})).await["name"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(url.ends_with(&format!("/{name}")), "{url}");
    assert!(!url.contains('?'), "{url}");
    let (status, headers, body) = get(&dx.ctx, &url, None).await;
    assert_eq!(
        (status, body.as_slice()),
        (StatusCode::OK, &b"hello world\n"[..])
    );
    assert_eq!(headers.get(header::ACCEPT_RANGES).unwrap(), "bytes");
    let (status, headers, body) = get(&dx.ctx, &url, Some("bytes=0-4")).await;
    assert_eq!(
        (status, body.as_slice()),
        (StatusCode::PARTIAL_CONTENT, &b"hello"[..])
    );
    assert_eq!(headers.get(header::CONTENT_RANGE).unwrap(), "bytes 0-4/12");
    let (status, _, body) = get(&dx.ctx, &url, Some("bytes=6-")).await;
    assert_eq!(
        (status, body.as_slice()),
        (StatusCode::PARTIAL_CONTENT, &b"world\n"[..])
    );
    let (status, _, body) = get(&dx.ctx, &url, Some("bytes=-3")).await;
    assert_eq!(
        (status, body.as_slice()),
        (StatusCode::PARTIAL_CONTENT, &b"ld\n"[..])
    );
    let (status, headers, _) = get(&dx.ctx, &url, Some("bytes=12-")).await;
    assert_eq!(status, StatusCode::RANGE_NOT_SATISFIABLE);
    assert_eq!(headers.get(header::CONTENT_RANGE).unwrap(), "bytes */12");
    // `.../{signature}/{name}`: another signature.
    let parts: Vec<&str> = url.rsplitn(3, '/').collect();
    let tampered = format!("{}/00{}/{}", parts[2], parts[1], parts[0]);
    assert_eq!(get(&dx.ctx, &tampered, None).await.0, StatusCode::FORBIDDEN);

    // Download names its project strictly.
    let other = dx.project("other").await;
    assert_dx_error(
        &dx.call(&format!("/{file}/download"), json!({"project": other}))
            .await,
        404,
        "ResourceNotFound",
    );

    // A file closed without parts is empty.
    let empty = dx
        .ok("/file/new", json!({"project": project, "name": "empty"}))
        .await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    dx.ok(&format!("/{empty}/close"), json!({})).await;
    assert_eq!(dx.describe(&empty, json!({})).await["size"], 0);
    let url = local(&dx.ok(&format!("/{empty}/download"), json!({})).await["url"]);
    let (status, _, body) = get(&dx.ctx, &url, None).await;
    assert_eq!((status, body.len()), (StatusCode::OK, 0));

    // The SBG dialect serves the same bytes under the file's own 24-hex id.
    let sbg_project = format!("alice/{}", dx.project_row(&project).sbg_id.slug());
    let listed = dx
        .ctx
        .get(
            &format!("/v2/files?project={sbg_project}&name=hello.txt"),
            &dx.token,
        )
        .await;
    let sbg_id = listed.json["items"][0]["id"].as_str().unwrap().to_owned();
    assert_eq!(sbg_id.len(), 24);
    assert!(sbg_id.bytes().all(|b| b.is_ascii_hexdigit()));
    let info = dx
        .ctx
        .get(&format!("/v2/files/{sbg_id}/download_info"), &dx.token)
        .await;
    let (status, _, body) = get(&dx.ctx, &local(&info.json["url"]), None).await;
    assert_eq!(
        (status, body.as_slice()),
        (StatusCode::OK, &b"hello world\n"[..])
    );
}

backends!(#[actix_web::test] async upload_urls_work_on_every_process_sharing_the_database);
async fn upload_urls_work_on_every_process_sharing_the_database(dx: Dx) {
    let project = dx.project("p").await;
    let file = dx.ok("/file/new", json!({"project": project})).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let upload = dx.ok(&format!("/{file}/upload"), json!({"index": 1})).await;
    // Another server process (or this one restarted): a new state over the same database.
    let other_process = AppState::new(dx.ctx.db.store().clone(), ApiConfig::new(PUBLIC_URL));
    assert_eq!(put(&other_process, &upload, b"abc").await.0, StatusCode::OK);
    dx.ok(&format!("/{file}/close"), json!({})).await;
    assert_eq!(dx.describe(&file, json!({})).await["size"], 3);
}

backends!(#[actix_web::test] async searches_find_projects_and_objects_page_by_page);
async fn searches_find_projects_and_objects_page_by_page(dx: Dx) {
    let alpha = dx.project("alpha one").await;
    let beta = dx.project("beta").await;
    let (bob, _) = dx.ctx.user("bob");
    let bobs = ferry_testkit::project(dx.ctx.db.store(), &bob, "bob's");
    let all = dx.ok("/system/findProjects", json!({})).await;
    assert_eq!(ids(&all["results"]), [alpha.clone(), beta.clone()]);
    assert_eq!(all["next"], Value::Null);
    assert_eq!(
        all["results"][0],
        json!({"id": alpha, "level": "ADMINISTER", "permissionSources": ["user-alice"], "public": false})
    );
    assert!(!ids(&all["results"]).contains(&bobs.dx_id.to_string()));
    let exact = dx
        .ok(
            "/system/findProjects",
            json!({"name": "beta", "describe": true}),
        )
        .await;
    assert_eq!(ids(&exact["results"]), [beta.as_str()]);
    assert_eq!(exact["results"][0]["describe"]["name"], "beta");
    let glob = dx
        .ok("/system/findProjects", json!({"name": {"glob": "ALPHA*"}}))
        .await;
    assert!(ids(&glob["results"]).is_empty(), "globs are case-sensitive");
    let glob = dx
        .ok("/system/findProjects", json!({"name": {"glob": "al?ha *"}}))
        .await;
    assert_eq!(ids(&glob["results"]), [alpha.as_str()]);
    let page = dx.ok("/system/findProjects", json!({"limit": 1})).await;
    assert_eq!(
        (ids(&page["results"]), &page["next"]),
        (vec![alpha.clone()], &json!(beta))
    );
    let rest = dx
        .ok(
            "/system/findProjects",
            json!({"limit": 1, "starting": page["next"]}),
        )
        .await;
    assert_eq!(
        (ids(&rest["results"]), &rest["next"]),
        (vec![beta.clone()], &Value::Null)
    );
    dx.add_member(bobs.dx_id.as_str(), &dx.alice, Level::View);
    let administered = dx
        .ok("/system/findProjects", json!({"level": "CONTRIBUTE"}))
        .await;
    assert_eq!(ids(&administered["results"]), [alpha.clone(), beta.clone()]);
    let viewable = dx
        .ok("/system/findProjects", json!({"level": "VIEW"}))
        .await;
    assert_eq!(viewable["results"].as_array().unwrap().len(), 3);
    assert_dx_error(
        &dx.call("/system/findProjects", json!({"limit": 0})).await,
        422,
        "InvalidInput",
    );
    // Names by a regular expression, case-insensitive with flag "i".
    let by_regexp = dx
        .ok(
            "/system/findProjects",
            json!({"name": {"regexp": "^ALPHA", "flags": "i"}}),
        )
        .await;
    assert_eq!(ids(&by_regexp["results"]), [alpha.as_str()]);
    assert_dx_error(
        &dx.call("/system/findProjects", json!({"name": {"regexp": "["}}))
            .await,
        422,
        "InvalidInput",
    );

    let top = dx
        .record(json!({"project": alpha, "name": "sample.bam"}))
        .await;
    let deep = dx
        .record(json!({"project": alpha, "name": "deep.bam", "folder": "/x/y", "parents": true}))
        .await;
    let hidden = dx
        .record(json!({"project": alpha, "name": "hidden.bam", "folder": "/x", "hidden": true}))
        .await;
    let file = dx
        .ok(
            "/file/new",
            json!({"project": alpha, "name": "notes.txt", "folder": "/x"}),
        )
        .await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let elsewhere = dx
        .record(json!({"project": beta, "name": "other.bam"}))
        .await;
    let find = |body: Value| dx.ok("/system/findDataObjects", body);
    let everything = find(json!({})).await;
    assert_eq!(
        sorted(ids(&everything["results"])),
        sorted(vec![
            top.clone(),
            deep.clone(),
            file.clone(),
            elsewhere.clone()
        ])
    );
    let in_alpha = find(json!({"scope": {"project": alpha}, "visibility": "either"})).await;
    assert_eq!(in_alpha["results"].as_array().unwrap().len(), 4);
    assert!(
        in_alpha["results"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["project"] == json!(alpha))
    );
    let x_only = find(json!({"scope": {"project": alpha, "folder": "/x", "recurse": false}})).await;
    assert_eq!(ids(&x_only["results"]), [file.as_str()]);
    let x_down =
        find(json!({"scope": {"project": alpha, "folder": "/x"}, "class": "record"})).await;
    assert_eq!(ids(&x_down["results"]), [deep.as_str()]);
    let hidden_only = find(json!({"visibility": "hidden"})).await;
    assert_eq!(ids(&hidden_only["results"]), [hidden.as_str()]);
    let bams =
        find(json!({"name": {"glob": "*.bam"}, "describe": {"fields": {"name": true}}})).await;
    assert_eq!(
        ids(&bams["results"]),
        [top.clone(), deep.clone(), elsewhere.clone()]
    );
    assert_eq!(
        bams["results"][0]["describe"],
        json!({"id": top, "name": "sample.bam"})
    );
    let exact = find(json!({"name": "notes.txt"})).await;
    assert_eq!(ids(&exact["results"]), [file.as_str()]);

    let mut seen = Vec::new();
    let mut query = json!({"limit": 2});
    loop {
        let page = find(query.clone()).await;
        seen.extend(ids(&page["results"]));
        if page["next"].is_null() {
            break;
        }
        query["starting"] = page["next"].clone();
    }
    assert_eq!(seen, ids(&everything["results"]));

    assert_dx_error(
        &dx.call("/system/findDataObjects", json!({"class": "project"}))
            .await,
        422,
        "InvalidInput",
    );
    assert_dx_error(
        &dx.call("/system/findDataObjects", json!({"visibility": "some"}))
            .await,
        422,
        "InvalidInput",
    );
    assert_dx_error(
        &dx.call("/system/findDataObjects", json!({"limit": 1001}))
            .await,
        422,
        "InvalidInput",
    );
    let hidden_scope = json!({"scope": {"project": bobs.dx_id.to_string()}});
    assert_eq!(find(hidden_scope).await["results"], json!([]));
    let unknown_scope = json!({"scope": {"project": "project-123456789012345678901234"}});
    assert_dx_error(
        &dx.call("/system/findDataObjects", unknown_scope).await,
        404,
        "ResourceNotFound",
    );

    let described = dx
        .ok(
            "/system/describeDataObjects",
            json!({"objects": [top, {"id": deep, "project": beta}, "record-123456789012345678901234",
                               {"id": file, "describe": {"fields": {"state": true}}}],
                   "classDescribeOptions": {"*": {"fields": {"name": true}},
                                            "record": {"fields": {"folder": true}}}}),
        )
        .await;
    assert_eq!(
        described["results"],
        json!([
            {"describe": {"id": top, "folder": "/"}},
            {"describe": {"id": deep, "folder": "/x/y"}},
            {"error": {"type": "ResourceNotFound", "message": "The entity record-123456789012345678901234 could not be found"}},
            {"describe": {"id": file, "state": "open"}},
        ])
    );
    let plain = dx
        .ok("/system/describeDataObjects", json!({"objects": [file]}))
        .await;
    assert_eq!(plain["results"][0]["describe"]["name"], "notes.txt");
    assert_dx_error(
        &dx.call("/system/describeDataObjects", json!({"objects": ["junk"]}))
            .await,
        422,
        "InvalidInput",
    );
}

backends!(#[actix_web::test] async objects_and_folders_move_rename_and_go);
async fn objects_and_folders_move_rename_and_go(dx: Dx) {
    let project = dx.project("moves").await;
    let path = |method: &str| format!("/{project}/{method}");
    dx.ok(
        &path("newFolder"),
        json!({"folder": "/a/b/c/d", "parents": true}),
    )
    .await;
    let r0 = dx.record(json!({"project": project, "name": "r0"})).await;
    let r1 = dx
        .record(json!({"project": project, "name": "r1", "folder": "/a/b"}))
        .await;
    let in_d = dx
        .record(json!({"project": project, "name": "in-d", "folder": "/a/b/c/d"}))
        .await;

    // As dxpy's test: the records and /a/b/c/d go to /a.
    let moved = dx
        .ok(
            &path("move"),
            json!({"objects": [r0, r1], "folders": ["/a/b/c/d"], "destination": "/a"}),
        )
        .await;
    assert_eq!(moved, json!({ "id": project }));
    let listed = dx.ok(&path("listFolder"), json!({"folder": "/a"})).await;
    assert_eq!(listed["folders"], json!(["/a/b", "/a/d"]));
    assert_eq!(
        sorted(ids(&listed["objects"])),
        sorted(vec![r0.clone(), r1.clone()])
    );
    assert_eq!(dx.describe(&in_d, json!({})).await["folder"], "/a/d");

    // A folder with its subtree, and a listed folder inside a listed one.
    dx.ok(
        &path("newFolder"),
        json!({"folder": "/a/b/c/e", "parents": true}),
    )
    .await;
    dx.ok(&path("newFolder"), json!({"folder": "/t"})).await;
    dx.ok(
        &path("move"),
        json!({"folders": ["/a/b", "/a/b/c/e"], "destination": "/t"}),
    )
    .await;
    let all = dx.describe(&project, json!({"folders": true})).await["folders"].clone();
    assert_eq!(
        strings(&all),
        ["/", "/a", "/a/d", "/t", "/t/b", "/t/b/c", "/t/e"]
    );
    assert_dx_error(
        &dx.call(
            &path("move"),
            json!({"folders": ["/t"], "destination": "/t/b"}),
        )
        .await,
        422,
        "InvalidInput",
    );
    assert_dx_error(
        &dx.call(
            &path("move"),
            json!({"folders": ["/"], "destination": "/t"}),
        )
        .await,
        422,
        "InvalidInput",
    );
    assert_dx_error(
        &dx.call(
            &path("move"),
            json!({"folders": ["/nope"], "destination": "/t"}),
        )
        .await,
        404,
        "ResourceNotFound",
    );
    assert_dx_error(
        &dx.call(
            &path("move"),
            json!({"objects": [r0], "destination": "/nope"}),
        )
        .await,
        404,
        "ResourceNotFound",
    );
    assert_dx_error(
        &dx.call(
            &path("move"),
            json!({"objects": ["record-123456789012345678901234"], "destination": "/"}),
        )
        .await,
        404,
        "ResourceNotFound",
    );
    dx.ok(&path("newFolder"), json!({"folder": "/d"})).await;
    assert_dx_error(
        &dx.call(
            &path("move"),
            json!({"folders": ["/a/d"], "destination": "/"}),
        )
        .await,
        422,
        "InvalidState",
    );
    assert_dx_error(
        &dx.call(
            &path("move"),
            json!({"folders": ["/a/d", "/d"], "destination": "/t/b"}),
        )
        .await,
        422,
        "InvalidState",
    );
    assert_eq!(
        strings(&dx.describe(&project, json!({"folders": true})).await["folders"]).len(),
        8,
        "refused moves change nothing"
    );

    // Renaming a folder renames its subtree.
    dx.ok(
        &path("renameFolder"),
        json!({"folder": "/t/b", "name": "bee"}),
    )
    .await;
    let all = dx.describe(&project, json!({"folders": true})).await["folders"].clone();
    assert!(strings(&all).contains(&"/t/bee/c".to_owned()), "{all}");
    assert_eq!(dx.describe(&r1, json!({})).await["folder"], "/a");
    assert_dx_error(
        &dx.call(
            &path("renameFolder"),
            json!({"folder": "/t/bee", "name": "e"}),
        )
        .await,
        422,
        "InvalidState",
    );
    assert_dx_error(
        &dx.call(&path("renameFolder"), json!({"folder": "/", "name": "x"}))
            .await,
        422,
        "InvalidInput",
    );
    assert_dx_error(
        &dx.call(
            &path("renameFolder"),
            json!({"folder": "/t", "name": "x/y"}),
        )
        .await,
        422,
        "InvalidInput",
    );
    assert_dx_error(
        &dx.call(&path("renameFolder"), json!({"folder": "/zz", "name": "x"}))
            .await,
        404,
        "ResourceNotFound",
    );
    // `dx mv /t/bee /a/bee2` sends newpath: renamed and moved, with its subtree.
    dx.ok(
        &path("renameFolder"),
        json!({"folder": "/t/bee", "newpath": "/a/bee2"}),
    )
    .await;
    let all = strings(&dx.describe(&project, json!({"folders": true})).await["folders"]);
    assert!(all.contains(&"/a/bee2/c".to_owned()), "{all:?}");
    assert!(
        !all.iter().any(|path| path.starts_with("/t/bee")),
        "{all:?}"
    );
    let listed = dx
        .ok(
            &path("listFolder"),
            json!({"folder": "/a", "only": "folders"}),
        )
        .await;
    assert!(
        strings(&listed["folders"]).contains(&"/a/bee2".to_owned()),
        "{listed}"
    );
    for (body, status, kind) in [
        (
            json!({"folder": "/a/bee2", "newpath": "/a/bee2/c/in"}),
            422,
            "InvalidInput",
        ),
        (
            json!({"folder": "/a/bee2", "newpath": "/nowhere/x"}),
            404,
            "ResourceNotFound",
        ),
        (
            json!({"folder": "/a/bee2", "name": "n", "newpath": "/n"}),
            422,
            "InvalidInput",
        ),
        (json!({"folder": "/a/bee2"}), 422, "InvalidInput"),
    ] {
        assert_dx_error(&dx.call(&path("renameFolder"), body).await, status, kind);
    }

    // removeObjects: CONTRIBUTE; unknown objects refused unless forced.
    let remove = path("removeObjects");
    assert_dx_error(
        &dx.call(
            &remove,
            json!({"objects": [r0, "record-123456789012345678901234"]}),
        )
        .await,
        404,
        "ResourceNotFound",
    );
    assert_eq!(
        dx.describe(&r0, json!({})).await["name"],
        "r0",
        "nothing removed"
    );
    dx.ok(
        &remove,
        json!({"objects": [r0, "record-123456789012345678901234"], "force": true}),
    )
    .await;
    assert_dx_error(
        &dx.call(&format!("/{r0}/describe"), json!({})).await,
        404,
        "ResourceNotFound",
    );
    let (bob, bob_token) = dx.ctx.user("bob");
    dx.add_member(&project, &bob, Level::Upload);
    let body = json!({"objects": [r1]}).to_string().into_bytes();
    assert_dx_error(
        &call(&dx.ctx, &remove, Some(&bob_token), body).await,
        403,
        "PermissionDenied",
    );
    let body = json!({"objects": [r1], "destination": "/"})
        .to_string()
        .into_bytes();
    assert_eq!(
        call(&dx.ctx, &path("move"), Some(&bob_token), body)
            .await
            .status,
        StatusCode::OK
    );
}

backends!(#[actix_web::test] async the_sbg_dialect_sees_dx_objects_and_its_copies_are_new_dx_objects);
async fn the_sbg_dialect_sees_dx_objects_and_its_copies_are_new_dx_objects(dx: Dx) {
    let project = dx.project("Cross Dialect").await;
    let record = dx.record(json!({"project": project, "name": "rec"})).await;
    let file = dx
        .ok("/file/new", json!({"project": project, "name": "data.txt"}))
        .await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let upload = dx.ok(&format!("/{file}/upload"), json!({"index": 1})).await;
    put(&dx.ctx.state, &upload, b"ACGT").await;
    dx.ok(&format!("/{file}/close"), json!({})).await;

    let listed = dx
        .ctx
        .get("/v2/files?project=alice/cross-dialect", &dx.token)
        .await;
    assert_eq!(listed.status, StatusCode::OK, "{}", listed.json);
    let items = listed.json["items"].as_array().unwrap();
    let names: Vec<&str> = items
        .iter()
        .map(|item| item["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["data.txt", "rec"]);
    for item in items {
        let id = item["id"].as_str().unwrap();
        assert!(
            id.len() == 24 && id.bytes().all(|b| b.is_ascii_hexdigit()),
            "{item}"
        );
        assert_ne!(id, record);
    }
    let file_sbg_id = items[0]["id"].as_str().unwrap().to_owned();
    assert_eq!(items[0]["size"], 4);

    // An SBG copy is a new object: a new DNAnexus id, found by listing the destination.
    let dest = dx.project("Copy Dest").await;
    let copied = dx
        .ctx
        .post(
            "/v2/action/files/copy",
            &dx.token,
            json!({"project": "alice/copy-dest", "file_ids": [file_sbg_id]}),
        )
        .await;
    assert_eq!(copied.json[&file_sbg_id]["status"], "OK", "{}", copied.json);
    let in_dest = dx
        .ok(&format!("/{dest}/listFolder"), json!({"describe": true}))
        .await;
    let objects = in_dest["objects"].as_array().unwrap();
    assert_eq!(objects.len(), 1);
    let copy_id = objects[0]["id"].as_str().unwrap().to_owned();
    assert!(copy_id.starts_with("file-") && copy_id != file, "{copy_id}");
    let described = dx.describe(&copy_id, json!({})).await;
    assert_eq!(
        (
            &described["name"],
            &described["state"],
            &described["size"],
            &described["project"]
        ),
        (
            &json!("data.txt"),
            &json!("closed"),
            &json!(4),
            &json!(dest)
        )
    );
    let url = local(&dx.ok(&format!("/{copy_id}/download"), json!({})).await["url"]);
    assert_eq!(get(&dx.ctx, &url, None).await.2, b"ACGT");
}

backends!(#[actix_web::test] async removing_objects_takes_the_hidden_objects_only_they_used);
async fn removing_objects_takes_the_hidden_objects_only_they_used(dx: Dx) {
    let project = dx.project("cascade").await;
    let hidden = |name: &str, links: &[&str]| {
        let details: Vec<Value> = links
            .iter()
            .map(|id| json!({"$dnanexus_link": id}))
            .collect();
        json!({"project": project, "name": name, "hidden": true, "folder": "/hidden",
               "parents": true, "details": details, "close": true})
    };
    let deep = dx.record(hidden("deep", &[])).await;
    let only_v = dx.record(hidden("only-v", &[&deep])).await;
    let shared = dx.record(hidden("shared", &[])).await;
    let v = dx
        .record(
            json!({"project": project, "folder": "/data", "parents": true,
                       "details": [{"$dnanexus_link": only_v}, {"$dnanexus_link": shared}]}),
        )
        .await;
    let w = dx
        .record(json!({"project": project, "details": {"x": {"$dnanexus_link": shared}}}))
        .await;
    let list_folder = format!("/{project}/listFolder");
    let listed = |folder: &str| {
        dx.ok(
            &list_folder,
            json!({"folder": folder, "includeHidden": true}),
        )
    };

    dx.ok(
        &format!("/{project}/removeObjects"),
        json!({"objects": [v]}),
    )
    .await;
    assert_eq!(ids(&listed("/hidden").await["objects"]), [shared.as_str()]);
    for gone in [&only_v, &deep] {
        assert_dx_error(
            &dx.call(&format!("/{gone}/describe"), json!({})).await,
            404,
            "ResourceNotFound",
        );
    }

    // A removed folder takes what its objects alone used elsewhere in the project.
    dx.ok(
        &format!("/{project}/move"),
        json!({"objects": [w], "destination": "/data"}),
    )
    .await;
    dx.ok(
        &format!("/{project}/removeFolder"),
        json!({"folder": "/data", "recurse": true}),
    )
    .await;
    assert_eq!(listed("/hidden").await["objects"], json!([]));
}

backends!(#[actix_web::test] async data_usage_counts_each_content_once);
/// `dataUsage`, in GB: the bytes of the project's files, the same content once.
async fn data_usage_counts_each_content_once(dx: Dx) {
    let project = dx.project("Usage").await;
    assert_eq!(
        dx.describe(&project, json!({})).await["dataUsage"],
        json!(0.0)
    );
    let row = dx.project_row(&project);
    dx.ctx.seed_file(&dx.alice, &row, "/", "a.txt", b"abc");
    dx.ctx
        .seed_file(&dx.alice, &row, "/copies", "a.txt", b"abc");
    dx.ctx.seed_file(&dx.alice, &row, "/", "b.txt", b"hello");
    let usage = dx.describe(&project, json!({})).await["dataUsage"]
        .as_f64()
        .unwrap();
    assert!((usage - 8e-9).abs() < 1e-15, "{usage}");
}

backends!(#[actix_web::test] async a_download_restricted_project_gives_no_download_link);
/// `downloadRestricted`: neither dialect hands out a link to a file of the project, until it is
/// lifted.
async fn a_download_restricted_project_gives_no_download_link(dx: Dx) {
    let body = json!({"name": "Locked", "downloadRestricted": true});
    let project = dx.ok("/project/new", body).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        dx.describe(&project, json!({})).await["downloadRestricted"],
        true
    );
    let row = dx.project_row(&project);
    let sbg_file = dx.ctx.seed_file(&dx.alice, &row, "/", "a.txt", b"abc");
    let listed = dx
        .ok(&format!("/{project}/listFolder"), json!({"folder": "/"}))
        .await;
    let file = listed["objects"][0]["id"].as_str().unwrap().to_owned();
    let download = format!("/{file}/download");
    assert_dx_error(
        &dx.call(&download, json!({})).await,
        403,
        "PermissionDenied",
    );
    let info = format!("/v2/files/{sbg_file}/download_info");
    assert_sbg_error(&dx.ctx.get(&info, &dx.token).await, 403, 90002);

    let lifted = json!({"downloadRestricted": false});
    dx.ok(&format!("/{project}/update"), lifted).await;
    assert_eq!(
        dx.describe(&project, json!({})).await["downloadRestricted"],
        false
    );
    assert!(dx.ok(&download, json!({})).await["url"].is_string());
    assert_eq!(dx.ctx.get(&info, &dx.token).await.status, 200);
}
