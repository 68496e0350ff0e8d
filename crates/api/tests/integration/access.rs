//! The outsider walk: every route of the OpenAPI document, called on another user's project,
//! file, folder and job. A missing, revoked or expired token is a 401 in the dialect's shape;
//! a valid token of a user who is not a member sees nothing: SBG answers 404 (never 403), DX
//! answers `ResourceNotFound` (404), as DNAnexus does for a container or object the caller
//! cannot see. Nothing is written, and the owner's view of their data is unchanged.

use crate::support::Ctx;
use actix_web::http::Method;
use actix_web::test;
use chrono::{Duration, Utc};
use diesel::sql_types::BigInt;
use diesel::{ExpressionMethods, QueryDsl, RunQueryDsl};
use ferry_store::{billing, tokens};
use ferry_testkit::backends;
use ferry_usecases::jobs::worker::run_until_idle;
use serde_json::{Value, json};
use std::collections::BTreeMap;

/// Records a failure instead of stopping at the first, so one run lists them all.
macro_rules! check {
    ($failures:expr, $cond:expr, $($msg:tt)+) => {
        if !$cond {
            $failures.push(format!($($msg)+));
        }
    };
}

/// What the walk points at: the victim's data.
struct Victim {
    username: String,
    token: String,
    slug: String,
    billing_group: String,
    /// SBG ids.
    file: String,
    folder: String,
    job: String,
    /// The victim's upload in progress.
    upload: String,
    /// DX ids.
    dx_project: String,
    dx_file: String,
    /// The outsider's own project, where a clone could go.
    outsiders_dx_project: String,
}

/// The tokens of the caller the walk plays.
struct Tokens {
    revoked: String,
    expired: String,
    outsider: String,
}

/// The routes that need no token.
const PUBLIC: &[&str] = &["/healthz", "/readyz", "/openapi.json"];
/// The routes that authorise themselves with a signed query: without one they refuse anyone.
const SIGNED: &[&str] = &[
    "/v2/files/{id}/download",
    "/upload/{id}/{index}",
    "/download/{id}/{expires}/{signature}/{name}",
    "/v2/upload/multipart/{upload_id}/part/{part_number}/data",
];
/// Routes that answer about the caller alone: the outsider gets an answer (2xx) that must not
/// mention the victim's data.
const CALLER_SCOPED: &[&str] = &[
    "GET /v2/user",
    "GET /v2/billing/groups",
    "GET /v2/projects",
    "GET /v2/projects/{owner}",
    "GET /v2/async/files",
    "GET /v2/rate_limit",
    "POST /v2/async/files/copy",
    "POST /v2/bulk/files/get",
    "POST /v2/bulk/files/update",
    "POST /v2/bulk/files/edit",
    "POST /v2/bulk/files/delete",
    "POST /system/whoami",
    "POST /system/greet",
    "POST /system/findApps",
    "POST /system/findGlobalWorkflows",
    "POST /system/findExecutions",
    "POST /system/findProjects",
    "POST /system/describeDataObjects",
];

/// Routes for administrators only: anyone else, the outsider included, gets 403 (90002).
const ADMIN_ONLY: &[&str] = &["GET /admin/audit"];

/// Routes that DNAnexus refuses with another error than `ResourceNotFound`, as documented:
/// billing a new project to someone else, and cloning out of a container without VIEW in it
/// ("VIEW access is required in the source container", dnanexus-clone seed), are
/// `PermissionDenied`. Neither answer shows anything the caller did not send.
fn refused_as(route: &str) -> Option<&'static str> {
    matches!(route, "POST /project/new" | "POST /project-{project}/clone")
        .then_some("PermissionDenied")
}

/// The body the outsider sends to `route`: a valid request aimed at the victim's data, so that
/// only the access check can refuse it.
fn body(route: &str, v: &Victim) -> Option<Value> {
    let project = format!("{}/{}", v.username, v.slug);
    let body = match route {
        "POST /v2/projects" => json!({"name": "Mine", "billing_group": v.billing_group}),
        "PATCH /v2/projects/{owner}/{slug}" => json!({"name": "Taken"}),
        "POST /v2/projects/{owner}/{slug}/members" => {
            json!({"username": v.username, "permissions": {"read": true}})
        }
        "PATCH /v2/projects/{owner}/{slug}/members/{username}" => {
            json!({"permissions": {"write": false}})
        }
        "PATCH /v2/projects/{owner}/{slug}/members/{username}/permissions" => {
            json!({"write": false})
        }
        "POST /v2/files" => json!({"name": "new", "type": "folder", "project": project}),
        "PATCH /v2/files/{id}" => json!({"name": "renamed.txt"}),
        "PUT /v2/files/{id}/metadata" | "PATCH /v2/files/{id}/metadata" => json!({"k": "v"}),
        "PUT /v2/files/{id}/tags" => json!(["t"]),
        "POST /v2/bulk/files/get" | "POST /v2/bulk/files/delete" => {
            json!({"file_ids": [v.file]})
        }
        "POST /v2/bulk/files/update" | "POST /v2/bulk/files/edit" => {
            json!({"items": [{"id": v.file, "name": "renamed.txt"}]})
        }
        "POST /v2/files/{id}/actions/copy" => json!({"project": project}),
        "POST /v2/files/{id}/actions/move" => json!({"parent": v.folder}),
        "POST /v2/action/files/copy" => json!({"project": project, "file_ids": [v.file]}),
        "POST /v2/async/files/copy" => {
            json!({"items": [{"file": v.file, "project": project}]})
        }
        "POST /system/findDataObjects" => json!({"scope": {"project": v.dx_project}}),
        "POST /system/describeDataObjects" => json!({"objects": [v.dx_file]}),
        "POST /system/resolveDataObjects" => {
            json!({"objects": [{"name": "a.txt"}], "project": v.dx_project})
        }
        "POST /project/new" => json!({"name": "Mine", "billTo": format!("user-{}", v.username)}),
        "POST /{class}/new" => json!({"project": v.dx_project}),
        "POST /project-{project}/update" => json!({"name": "Taken"}),
        "POST /project-{project}/invite" => json!({"invitee": "user-outsider", "level": "VIEW"}),
        "POST /project-{project}/decreasePermissions" => {
            json!({ format!("user-{}", v.username): "VIEW" })
        }
        "POST /project-{project}/newFolder" => json!({"folder": "/new"}),
        "POST /project-{project}/listFolder" => json!({"folder": "/"}),
        "POST /project-{project}/removeFolder" => json!({"folder": "/reads", "recurse": true}),
        "POST /project-{project}/move" => json!({"objects": [v.dx_file], "destination": "/reads"}),
        "POST /project-{project}/renameFolder" => json!({"folder": "/reads", "name": "r"}),
        "POST /project-{project}/removeObjects" => json!({"objects": [v.dx_file]}),
        "POST /project-{project}/clone" => {
            json!({"objects": [v.dx_file], "project": v.outsiders_dx_project})
        }
        "POST /project-{project}/updateSponsorship" => json!({"sponsoredUntil": null}),
        "POST /file-{file}/setDetails" => json!({"k": "v"}),
        "POST /file-{file}/setVisibility" => json!({"hidden": true}),
        "POST /file-{file}/rename" => json!({"name": "renamed.txt"}),
        "POST /file-{file}/addTags"
        | "POST /file-{file}/removeTags"
        | "POST /project-{project}/addTags"
        | "POST /project-{project}/removeTags" => json!({"tags": ["t"]}),
        "POST /file-{file}/setProperties" | "POST /project-{project}/setProperties" => {
            json!({"properties": {"k": "v"}})
        }
        "POST /file-{file}/addTypes" | "POST /file-{file}/removeTypes" => {
            json!({"types": ["t"]})
        }
        "PUT /upload/{id}/{index}" => return None,
        "POST /v2/upload/multipart" => json!({"project": project, "name": "new.txt", "size": 1}),
        "POST /v2/upload/multipart/{upload_id}/part" => {
            json!({"part_number": 1, "response": {"headers": {"ETag": "0f"}}})
        }
        route if route.starts_with("POST ") => json!({}),
        _ => return None,
    };
    Some(body)
}

/// The query string the outsider sends to `route`.
fn query(route: &str, v: &Victim) -> String {
    match route {
        "GET /v2/files" => format!("?project={}/{}", v.username, v.slug),
        _ => String::new(),
    }
}

/// The value of path parameter `name` in `path`, pointing at the victim's data.
fn param(path: &str, name: &str, v: &Victim) -> String {
    let dx_suffix = |id: &str| id.split_once('-').expect("a DX id").1.to_owned();
    match name {
        "owner" | "username" | "user" => v.username.clone(),
        "slug" => v.slug.clone(),
        "id" if path.starts_with("/v2/billing/") => v.billing_group.clone(),
        "id" if path.starts_with("/v2/async/") => v.job.clone(),
        "id" if path.ends_with("/list") => v.folder.clone(),
        "id" if path.starts_with("/v2/") => v.file.clone(),
        "id" => v.dx_file.clone(),
        "index" | "part_number" => "1".to_owned(),
        "expires" => "0".to_owned(),
        "signature" => "00".to_owned(),
        "upload_id" => v.upload.clone(),
        "name" => "a.txt".to_owned(),
        "project" => dx_suffix(&v.dx_project),
        "file" => dx_suffix(&v.dx_file),
        "class" => "record".to_owned(),
        other => panic!("no value for the path parameter {other} of {path}"),
    }
}

/// `path` with every `{param}` replaced.
fn fill(path: &str, v: &Victim) -> String {
    let mut out = String::new();
    let mut rest = path;
    while let Some(start) = rest.find('{') {
        let end = rest[start..].find('}').expect("a closed parameter") + start;
        out.push_str(&rest[..start]);
        out.push_str(&param(path, &rest[start + 1..end], v));
        rest = &rest[end + 1..];
    }
    out.push_str(rest);
    out
}

/// Whether `path` answers in the SBG shape: the SBG dialect, and `/admin`, which borrows it.
fn is_sbg(path: &str) -> bool {
    path.starts_with("/v2/") || path.starts_with("/admin/")
}

/// Rows per table: a refused request writes none.
fn row_counts(ctx: &Ctx) -> BTreeMap<&'static str, i64> {
    #[derive(diesel::QueryableByName)]
    struct Count {
        #[diesel(sql_type = BigInt)]
        n: i64,
    }
    let tables = [
        "users",
        "billing_groups",
        "tokens",
        "projects",
        "project_members",
        "folders",
        "objects",
        "object_links",
        "placements",
        // Not jobs, job_chunks, job_items: the outsider's own async copy is a job. Not
        // audit_events: every refusal is recorded there (checked after the walk).
        "project_summaries",
        "object_class_fields",
        "upload_parts",
        "sbg_uploads",
        "sbg_upload_parts",
        "nonces",
        "server_secrets",
        "sponsored_objects",
    ];
    let mut conn = ctx.db.store().conn().unwrap();
    tables
        .into_iter()
        .map(|table| {
            let count: Count = diesel::sql_query(format!("SELECT COUNT(*) AS n FROM {table}"))
                .get_result(&mut conn)
                .unwrap();
            (table, count.n)
        })
        .collect()
}

/// The victim's own view of their data: refused requests leave it as it was.
async fn owners_view(ctx: &Ctx, v: &Victim) -> Vec<Value> {
    let project = format!("/v2/projects/{}/{}", v.username, v.slug);
    let mut views = Vec::new();
    for path in [
        project.clone(),
        format!("{project}/members"),
        format!("/v2/files/{}", v.file),
        format!("/v2/files/{}/list", v.folder),
        format!("/v2/async/files/copy/{}", v.job),
    ] {
        views.push(ctx.get(&path, &v.token).await.json);
    }
    let listing = json!({"describe": {"fields": {"name": true, "tags": true, "properties": true, "hidden": true, "details": true}}});
    for path in [
        format!("/{}/listFolder", v.dx_project),
        format!("/{}/describe", v.dx_project),
    ] {
        views.push(ctx.post(&path, &v.token, listing.clone()).await.json);
    }
    views
}

async fn seed(ctx: &Ctx) -> (Victim, Tokens) {
    let (victim, token) = ctx.user("victim");
    let project = ferry_testkit::project(ctx.db.store(), &victim, "Secret Project");
    let file = ctx.seed_file(&victim, &project, "/", "a.txt", b"secret\n");
    ctx.seed_file(&victim, &project, "/reads", "r1.fastq", b"@r1\n");
    let folder = ctx.folder_id(&project, "/reads");
    // The key that signs links is made on first use: make it now, so the walk writes nothing.
    let link = ctx
        .get(&format!("/v2/files/{file}/download_info"), &token)
        .await;
    assert_eq!(link.status, 200, "{}", link.json);
    let job = ctx
        .post(
            "/v2/async/files/copy",
            &token,
            json!({"items": [{"file": file, "project": project.sbg_id.to_string()}]}),
        )
        .await;
    assert!(job.status.is_success(), "{}", job.json);
    let listing = ctx
        .post(
            &format!("/{}/listFolder", project.dx_id),
            &token,
            json!({"folder": "/"}),
        )
        .await;
    let upload = ctx
        .post(
            "/v2/upload/multipart",
            &token,
            json!({"project": project.sbg_id.to_string(), "name": "new.bin", "size": 1}),
        )
        .await;
    assert_eq!(upload.status, 201, "{}", upload.json);
    let dx_file = listing.json["objects"][0]["id"]
        .as_str()
        .expect("the file in the listing")
        .to_owned();
    let billing_group = {
        let mut conn = ctx.db.store().conn().unwrap();
        billing::personal(&mut conn, victim.id).unwrap().uuid
    };
    let (outsider, outsider_token) = ctx.user("outsider");
    let outsiders_project = ferry_testkit::project(ctx.db.store(), &outsider, "Mine");
    let mut conn = ctx.db.store().conn().unwrap();
    let (revoked, revoked_secret) = tokens::create(&mut conn, outsider.id, None, None).unwrap();
    tokens::revoke(&mut conn, outsider.id, revoked.id).unwrap();
    let past = Some(Utc::now() - Duration::hours(1));
    let (_, expired) = tokens::create(&mut conn, outsider.id, None, past).unwrap();
    let victim = Victim {
        username: victim.username.to_string(),
        token,
        slug: project.sbg_id.slug().to_string(),
        billing_group,
        file,
        folder,
        job: job.json["id"].as_str().unwrap().to_owned(),
        upload: upload.json["upload_id"].as_str().unwrap().to_owned(),
        dx_project: project.dx_id.to_string(),
        dx_file,
        outsiders_dx_project: outsiders_project.dx_id.to_string(),
    };
    let tokens = Tokens {
        revoked: revoked_secret,
        expired,
        outsider: outsider_token,
    };
    (victim, tokens)
}

backends!(#[actix_web::test] async every_route_refuses_bad_tokens_and_shows_an_outsider_nothing);
async fn every_route_refuses_bad_tokens_and_shows_an_outsider_nothing(ctx: Ctx) {
    let document = ferry_api::openapi::document();
    let (victim, tokens) = seed(&ctx).await;
    let app = test::init_service(ferry_api::app(ctx.state.clone())).await;
    let counts = row_counts(&ctx);
    let view = owners_view(&ctx, &victim).await;
    // What the outsider must never see (unless they sent it themselves, as in an error
    // naming the id asked for).
    let secrets = [
        victim.file.clone(),
        victim.dx_file.clone(),
        victim.folder.clone(),
        victim.job.clone(),
        victim.upload.clone(),
        "Secret Project".to_owned(),
        "r1.fastq".to_owned(),
    ];
    let mut walked = 0;
    let mut failures: Vec<String> = Vec::new();
    for (path, item) in &document.paths.paths {
        if PUBLIC.contains(&path.as_str()) {
            continue;
        }
        let methods = [
            (Method::GET, &item.get),
            (Method::PUT, &item.put),
            (Method::POST, &item.post),
            (Method::DELETE, &item.delete),
            (Method::PATCH, &item.patch),
        ];
        for (method, _) in methods.into_iter().filter(|(_, op)| op.is_some()) {
            let route = format!("{method} {path}");
            let uri = format!("{}{}", fill(path, &victim), query(&route, &victim));
            let body = body(&route, &victim);
            let send = |token: Option<&str>| {
                let mut request = test::TestRequest::default()
                    .method(method.clone())
                    .uri(&uri);
                // Each dialect's clients send the token their own way.
                if let Some(token) = token {
                    request = if is_sbg(path) {
                        request.insert_header(("X-SBG-Auth-Token", token))
                    } else {
                        request.insert_header(("Authorization", format!("Bearer {token}")))
                    };
                }
                if let Some(body) = &body {
                    request = request.set_json(body);
                }
                request.to_request()
            };
            let reply = |request| async {
                let response = test::call_service(&app, request).await;
                let status = response.status().as_u16();
                let bytes = test::read_body(response).await;
                let json: Value = serde_json::from_slice(&bytes).unwrap_or_else(|e| {
                    panic!(
                        "{route}: non-JSON body ({e}): {}",
                        String::from_utf8_lossy(&bytes)
                    )
                });
                (status, json)
            };
            let signed = SIGNED.contains(&path.as_str());
            for (label, token) in [
                ("no token", None),
                ("revoked token", Some(tokens.revoked.as_str())),
                ("expired token", Some(tokens.expired.as_str())),
            ] {
                let (status, json) = reply(send(token)).await;
                if signed {
                    check!(
                        failures,
                        (400..500).contains(&status),
                        "{route} ({label}): {status} {json}"
                    );
                } else {
                    check!(failures, status == 401, "{route} ({label}): {json}");
                }
                failures.extend(error_shape(path, status, &json, &route));
                if !signed && !is_sbg(path) {
                    check!(
                        failures,
                        json["error"]["type"] == "InvalidAuthentication",
                        "{route}"
                    );
                }
            }
            let (status, json) = reply(send(Some(&tokens.outsider))).await;
            let text = json.to_string();
            if let Some(kind) = refused_as(&route) {
                check!(
                    failures,
                    json["error"]["type"] == kind,
                    "{route} (outsider): {status} {json}"
                );
            } else if ADMIN_ONLY.contains(&route.as_str()) {
                check!(
                    failures,
                    status == 403 && json["code"] == 90002,
                    "{route} (outsider): {status} {json}"
                );
                failures.extend(error_shape(path, status, &json, &route));
            } else if CALLER_SCOPED.contains(&route.as_str()) {
                check!(
                    failures,
                    (200..300).contains(&status),
                    "{route} (outsider): {status} {json}"
                );
            } else if signed {
                check!(
                    failures,
                    (400..500).contains(&status),
                    "{route} (outsider): {status} {json}"
                );
                failures.extend(error_shape(path, status, &json, &route));
            } else {
                check!(failures, status == 404, "{route} (outsider): {json}");
                failures.extend(error_shape(path, status, &json, &route));
                if !is_sbg(path) {
                    check!(
                        failures,
                        json["error"]["type"] == "ResourceNotFound",
                        "{route}"
                    );
                }
            }
            let sent = format!(
                "{uri} {}",
                body.as_ref().map(Value::to_string).unwrap_or_default()
            );
            for secret in secrets
                .iter()
                .filter(|secret| !sent.contains(secret.as_str()))
            {
                check!(
                    failures,
                    !text.contains(secret.as_str()),
                    "{route} (outsider) shows {secret}: {json}"
                );
            }
            walked += 1;
        }
    }
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
    // The outsider's async copy is their own job: it is accepted, and each of its items
    // fails as a file that does not exist.
    let owners = owners_view(&ctx, &victim).await;
    assert_eq!(row_counts(&ctx), counts, "a refused request wrote rows");
    let denied: i64 = {
        use ferry_store::schema::audit_events::dsl::{audit_events, outcome};
        let mut conn = ctx.db.store().conn().unwrap();
        audit_events
            .filter(outcome.eq("denied"))
            .count()
            .get_result(&mut conn)
            .unwrap()
    };
    assert!(
        denied >= i64::from(walked),
        "{denied} denials recorded for {walked} routes walked without a token"
    );
    run_until_idle(ctx.db.store(), "access-walk").unwrap();
    let jobs = ctx.get("/v2/async/files", &tokens.outsider).await;
    let job = jobs.json["items"][0]["id"]
        .as_str()
        .expect("the outsider's job");
    let items = ctx
        .get(
            &format!("/v2/async/files/copy/{job}/items"),
            &tokens.outsider,
        )
        .await;
    assert_eq!(
        items.json["items"][0]["error"]["status"], 404,
        "{}",
        items.json
    );
    assert!(walked >= 70, "walked {walked} operations");
    assert_eq!(owners, view, "the owner's data changed");
}

/// A failure unless `json` is an error in the dialect's shape.
fn error_shape(path: &str, status: u16, json: &Value, route: &str) -> Option<String> {
    let ok = if is_sbg(path) {
        json["status"] == status && json["code"].is_u64() && json["message"].is_string()
    } else {
        json["error"]["type"].is_string() && json["error"]["message"].is_string()
    };
    (!ok).then(|| format!("{route}: not an error in its dialect's shape: {json}"))
}
