//! `GET /openapi.json`: an OpenAPI 3.1 document that describes every route the application
//! serves. The served routes are read from the code that registers them (the `routes`
//! functions, and the DNAnexus method table in `dx::route`), so a route added without a
//! description fails here, and so does a description of a route that is not served.

use crate::support::Ctx;
use std::collections::BTreeSet;
use std::path::Path;

/// (METHOD, path) with every `{param}` written `{}`.
type Route = (String, String);

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

/// The string literal at the start of `s` (after its opening quote), and what follows it.
fn literal(s: &str) -> (&str, &str) {
    let end = s.find('"').expect("a closing quote");
    (&s[..end], &s[end + 1..])
}

/// The body of `fn name(` in `source`, up to the first line that is a lone `}`.
fn fn_body<'a>(source: &'a str, name: &str) -> &'a str {
    let start = source
        .find(&format!("fn {name}("))
        .unwrap_or_else(|| panic!("fn {name} in the source"));
    let end = source[start..].find("\n}\n").expect("the end of the fn") + start;
    &source[start..end]
}

/// The routes registered by the `routes` function of the file at `path`, under `prefix`:
/// `resource(&["/a", "/a/"])` or `.route("/a", …)` sets the paths, and each method call
/// (`.get(`, `web::post()`, …) that follows adds a route for each of them.
fn registered(path: &Path, prefix: &str) -> BTreeSet<Route> {
    let source = std::fs::read_to_string(path).unwrap();
    let body = fn_body(&source, "routes");
    let mut routes = BTreeSet::new();
    let mut current: Vec<String> = Vec::new();
    let mut rest = body;
    while !rest.is_empty() {
        if let Some(after) = rest.strip_prefix("resource(&[") {
            let end = after.find("])").expect("the end of the paths");
            current = after[..end]
                .split(',')
                .map(|p| p.trim().trim_matches('"').to_owned())
                .filter(|p| !p.is_empty())
                .collect();
            rest = &after[end..];
            continue;
        }
        if let Some(after) = rest.strip_prefix("route(") {
            if let Some(quoted) = after.strip_prefix('"') {
                let (path, after) = literal(quoted);
                current = vec![path.to_owned()];
                rest = after;
                continue;
            }
            // A constant: `const NAME: &str = "…";` in the same file.
            let name_len = after
                .find(|c: char| !(c.is_ascii_uppercase() || c == '_'))
                .unwrap_or(0);
            let name = &after[..name_len];
            if !name.is_empty() {
                let declared = format!("const {name}: &str = \"");
                let at = source.find(&declared).expect("the route's constant") + declared.len();
                current = vec![literal(&source[at..]).0.to_owned()];
                rest = &after[name.len()..];
                continue;
            }
        }
        for method in ["get", "post", "put", "patch", "delete"] {
            if rest.starts_with(&format!(".{method}("))
                || rest.starts_with(&format!("web::{method}()"))
            {
                for path in &current {
                    routes.insert((method.to_uppercase(), normalise(&format!("{prefix}{path}"))));
                }
            }
        }
        let mut chars = rest.chars();
        chars.next();
        rest = chars.as_str();
    }
    routes
}

/// The DNAnexus methods in `dx::route`'s table, each as the path the document gives it.
fn dx_methods(source: &str) -> BTreeSet<Route> {
    let body = fn_body(source, "route");
    let mut routes = BTreeSet::new();
    let mut entity = None;
    for line in body.lines().map(str::trim) {
        if line.starts_with("(Target::Entity(id), method) if id.class().is_container()") {
            entity = Some("/project-{}");
        } else if line.starts_with("(Target::Entity(id), method) if id.class().is_data_object()") {
            entity = Some("/file-{}");
        } else if let Some(rest) = line.strip_prefix("(Target::System, \"") {
            routes.insert(("POST".into(), format!("/system/{}", literal(rest).0)));
        } else if line.starts_with("(Target::Class(DxClass::Project), \"new\")") {
            routes.insert(("POST".into(), "/project/new".into()));
        } else if line.starts_with("(Target::Class(class), \"new\") if class.is_data_object()") {
            routes.insert(("POST".into(), "/{}/new".into()));
        } else if let (Some(prefix), Some(rest)) = (entity, line.strip_prefix('"')) {
            routes.insert(("POST".into(), format!("{prefix}/{}", literal(rest).0)));
        } else if line.starts_with('(') {
            panic!("an arm of dx::route this test cannot read: {line}");
        }
    }
    routes
}

/// Every route the application serves, read from its source.
fn served() -> BTreeSet<Route> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut routes = BTreeSet::new();
    for entry in std::fs::read_dir(src.join("sbg")).unwrap() {
        let path = entry.unwrap().path();
        if std::fs::read_to_string(&path)
            .unwrap()
            .contains("fn routes(")
        {
            routes.extend(registered(&path, "/v2"));
        }
    }
    for file in ["health.rs", "openapi.rs", "dx/upload.rs"] {
        routes.extend(registered(&src.join(file), ""));
    }
    let dx = std::fs::read_to_string(src.join("dx/mod.rs")).unwrap();
    let dispatch = registered(&src.join("dx/mod.rs"), "");
    assert_eq!(
        dispatch,
        BTreeSet::from([("POST".to_owned(), "/{}/{}".to_owned())]),
        "dx/mod.rs registers only the dispatch route"
    );
    routes.extend(dx_methods(&dx));
    routes
}

#[actix_web::test]
async fn the_document_describes_every_route_the_application_serves() {
    let ctx = Ctx::all().remove(0);
    let reply = ctx
        .send(actix_web::http::Method::GET, "/openapi.json", None, None)
        .await;
    assert_eq!(reply.status, 200);
    assert_eq!(reply.json["openapi"], "3.1.0");
    let mut described = BTreeSet::new();
    for (path, item) in reply.json["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            described.insert((method.to_uppercase(), normalise(path)));
        }
    }
    let served = served();
    assert!(
        served.len() > 70,
        "read {} routes from the source",
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
    let ctx = Ctx::all().remove(0);
    let doc = ctx
        .send(actix_web::http::Method::GET, "/openapi.json", None, None)
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
                p if p.starts_with("/v2/") => {
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
