//! `GET /openapi.json`: an OpenAPI 3.1 document that describes every route the application
//! serves. The served routes are asked of the running application: its resources from actix's
//! resource map, each resource's methods by sending it every method, and the DNAnexus methods
//! behind `POST /{target}/{method}` by calling each method the document names on every kind of
//! target. So a route added without a description fails here, and so does a description of a
//! route that is not served.

use crate::support::Ctx;
use actix_web::body::MessageBody;
use actix_web::dev::ServiceResponse;
use actix_web::http::{Method, StatusCode};
use actix_web::test;
use ferry_testkit::TestDb;
use std::collections::BTreeSet;

/// (METHOD, path) with every `{param}` written `{}`.
type Route = (String, String);

/// The route that dispatches every DNAnexus method.
const DX_DISPATCH: &str = "/{}/{}";

/// The methods of the DNAnexus API (`shared/reference/dx-api.md`) on the targets Ferry
/// serves, sent to every target besides the methods the document names: a method the
/// dispatcher knows but the document leaves out is found so.
const DX_API_METHODS: [&str; 38] = [
    "whoami",
    "findProjects",
    "findDataObjects",
    "describeDataObjects",
    "resolveDataObjects",
    "new",
    "describe",
    "update",
    "destroy",
    "invite",
    "decreasePermissions",
    "leave",
    "transfer",
    "newFolder",
    "listFolder",
    "removeFolder",
    "move",
    "renameFolder",
    "removeObjects",
    "clone",
    "updateSponsorship",
    "close",
    "getDetails",
    "setDetails",
    "setVisibility",
    "rename",
    "addTags",
    "removeTags",
    "setProperties",
    "addTypes",
    "removeTypes",
    "upload",
    "download",
    "listProjects",
    "addDeveloper",
    "removeDeveloper",
    "run",
    "terminate",
];

/// Every method a resource is sent.
const METHODS: [Method; 6] = [
    Method::GET,
    Method::HEAD,
    Method::POST,
    Method::PUT,
    Method::PATCH,
    Method::DELETE,
];

fn normalise(path: &str) -> String {
    let mut out = String::new();
    let mut in_param = false;
    for c in path.trim_end_matches('/').chars() {
        match c {
            '{' => {
                in_param = true;
                out.push_str("{}");
            }
            '}' => in_param = false,
            c if !in_param => out.push(c),
            _ => {}
        }
    }
    if out.is_empty() { "/".to_owned() } else { out }
}

/// A path that `pattern` (normalised) matches: each parameter given a value.
fn concrete(pattern: &str) -> String {
    pattern.replace("{}", "1")
}

/// The full pattern of every resource in actix's resource map (its `Debug` form is the one
/// view of the tree that actix offers): a scope's pattern prefixes those of its nodes, and a
/// resource of several patterns (`/files` and `/files/`) gives each.
fn resource_patterns(map: &actix_web::dev::ResourceMap) -> BTreeSet<String> {
    let tree = format!("{map:#?}");
    let mut patterns = BTreeSet::new();
    // (indentation of a `ResourceMap {`, its patterns): the ancestors of the current line.
    let mut stack: Vec<(usize, Vec<String>)> = Vec::new();
    let mut in_patterns = false;
    for line in tree.lines() {
        let indent = line.len() - line.trim_start().len();
        let line = line.trim();
        if line.ends_with("ResourceMap {") {
            stack.retain(|(at, _)| *at < indent);
            stack.push((indent, Vec::new()));
        } else if line.starts_with("patterns: ") {
            in_patterns = true;
        } else if line.starts_with("is_prefix: ") {
            in_patterns = false;
        } else if in_patterns && line.starts_with('"') {
            let pattern = line.trim_end_matches(',').trim_matches('"').to_owned();
            stack
                .last_mut()
                .expect("a pattern in a ResourceMap")
                .1
                .push(pattern);
        } else if line == "nodes: None," {
            let (own, ancestors) = stack.split_last().expect("a resource in a ResourceMap");
            let prefix: String = ancestors
                .iter()
                .map(|(_, p)| p.first().map_or("", String::as_str))
                .collect();
            for pattern in &own.1 {
                patterns.insert(normalise(&format!("{prefix}{pattern}")));
            }
        }
    }
    patterns
}

/// A request of `method` to `path` with a `{}` body, authenticated for both dialects.
fn request(method: Method, path: &str, token: &str) -> test::TestRequest {
    test::TestRequest::default()
        .method(method)
        .uri(path)
        .insert_header(("Authorization", format!("Bearer {token}")))
        .insert_header(("Content-Type", "application/json"))
        .set_payload("{}")
}

/// Whether the request to `path` reached a route: a resource matched the whole path (the
/// application's default service leaves it unmatched), did not refuse the method as one it does
/// not have, and, for the DNAnexus dispatcher, knew the method.
async fn routed<B: MessageBody>(response: ServiceResponse<B>, path: &str) -> bool {
    let matched = response.request().match_info().unprocessed().is_empty();
    let status = response.status();
    let body: serde_json::Value =
        serde_json::from_slice(&test::read_body(response).await).unwrap_or_default();
    let unknown_method = status == StatusCode::NOT_FOUND
        && body["error"]["message"] == format!("The route {path} could not be found").as_str();
    matched && status != StatusCode::METHOD_NOT_ALLOWED && !unknown_method
}

/// The document's path of a DNAnexus `method` on `target`, as `dx::doc` describes it: one path
/// for projects and containers, one for every data class.
fn dx_documented_path(target: &str, method: &str) -> String {
    match target.split_once('-') {
        Some(("project" | "container", _)) => format!("/project-{{}}/{method}"),
        Some(("user", _)) => format!("/user-{{}}/{method}"),
        Some(_) => format!("/file-{{}}/{method}"),
        None if target == "system" || target == "project" => format!("/{target}/{method}"),
        None => format!("/{{}}/{method}"),
    }
}

/// Every route the running application serves.
async fn served(ctx: &Ctx, documented: &BTreeSet<Route>) -> BTreeSet<Route> {
    let (_, token) = ctx.user("prober");
    let app = test::init_service(ferry_api::app(ctx.state.clone())).await;
    let call = |method: Method, path: &str| {
        test::call_service(&app, request(method, path, &token).to_request())
    };
    let map = call(Method::GET, "/healthz")
        .await
        .request()
        .resource_map()
        .clone();
    let patterns = resource_patterns(&map);
    assert!(
        patterns.contains(DX_DISPATCH) && patterns.contains("/v2/files/{}"),
        "the resource map was read: {patterns:?}"
    );
    let mut routes = BTreeSet::new();
    for pattern in patterns.iter().filter(|p| *p != DX_DISPATCH) {
        for method in METHODS {
            let path = concrete(pattern);
            if routed(call(method.clone(), &path).await, &path).await {
                routes.insert((method.to_string(), pattern.clone()));
            }
        }
    }
    // The DNAnexus methods: each one the document or the DNAnexus API names, on every kind of
    // target, so that a method served where it is not described is found too.
    let dx_methods: BTreeSet<&str> = documented
        .iter()
        .filter_map(|(_, path)| path.rsplit_once('/').map(|(_, method)| method))
        .filter(|method| method.bytes().all(|b| b.is_ascii_alphabetic()))
        .chain(DX_API_METHODS)
        .collect();
    let id = "B".repeat(24);
    let mut targets: Vec<String> = ["system", "project", "file", "record"]
        .map(str::to_owned)
        .into();
    for class in ["project", "container", "file", "record"] {
        targets.push(format!("{class}-{id}"));
    }
    targets.push("user-prober".to_owned());
    for target in &targets {
        for method in &dx_methods {
            let path = format!("/{target}/{method}");
            if routed(call(Method::POST, &path).await, &path).await {
                routes.insert(("POST".to_owned(), dx_documented_path(target, method)));
            }
        }
    }
    routes
}

#[actix_web::test]
async fn the_document_describes_every_route_the_application_serves() {
    let ctx = Ctx::new(TestDb::sqlite());
    let reply = ctx.send(Method::GET, "/openapi.json", None, None).await;
    assert_eq!(reply.status, 200);
    assert_eq!(reply.json["openapi"], "3.1.0");
    let mut described = BTreeSet::new();
    for (path, item) in reply.json["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            described.insert((method.to_uppercase(), normalise(path)));
        }
    }
    let mut served = served(&ctx, &described).await;
    // HEAD is GET without the body (RFC 9110): a GET described describes its HEAD.
    served.retain(|(method, path)| {
        method != "HEAD" || !described.contains(&("GET".to_owned(), path.clone()))
    });
    assert!(
        served.len() > 70,
        "found {} routes: {served:?}",
        served.len()
    );
    let undescribed: Vec<_> = served.difference(&described).collect();
    let unserved: Vec<_> = described.difference(&served).collect();
    assert!(
        undescribed.is_empty(),
        "served but not described: {undescribed:?}"
    );
    assert!(
        unserved.is_empty(),
        "described but not served: {unserved:?}"
    );
}

#[actix_web::test]
async fn every_operation_has_its_dialects_error_shape_and_security() {
    let ctx = Ctx::new(TestDb::sqlite());
    let doc = ctx
        .send(Method::GET, "/openapi.json", None, None)
        .await
        .json;
    let schemes = &doc["components"]["securitySchemes"];
    assert_eq!(schemes["sbg_token"]["name"], "X-SBG-Auth-Token");
    assert_eq!(schemes["bearer"]["scheme"], "bearer");
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            let error =
                &operation["responses"]["4XX"]["content"]["application/json"]["schema"]["$ref"];
            match path.as_str() {
                "/healthz" | "/readyz" | "/openapi.json" => {
                    assert!(operation.get("security").is_none(), "{method} {path}");
                }
                p if p.starts_with("/v2/") || p.starts_with("/admin/") => {
                    assert_eq!(
                        error, "#/components/schemas/SbgErrorBody",
                        "{method} {path}"
                    )
                }
                _ => assert_eq!(error, "#/components/schemas/DxErrorBody", "{method} {path}"),
            }
        }
    }
    let dx_error = &doc["components"]["schemas"]["DxErrorBody"];
    assert_eq!(
        dx_error["properties"]["error"]["$ref"],
        "#/components/schemas/DxErrorDetail"
    );
    let sbg_error = &doc["components"]["schemas"]["SbgErrorBody"]["required"];
    for field in ["status", "code", "message", "more_info"] {
        assert!(
            sbg_error.as_array().unwrap().contains(&field.into()),
            "{field}"
        );
    }
}
