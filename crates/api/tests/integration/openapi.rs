//! `GET /openapi.json`: an OpenAPI 3.1 document that describes every route the application
//! serves. The served routes are read from the code that registers them (the `routes`
//! functions, and the DNAnexus method table in `dx::route`), so a route added without a
//! description fails here, and so does a description of a route that is not served.

use crate::support::Ctx;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

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

/// The value of the constant `name` (`const NAME: &str = "…";`) declared in `source`.
fn constant<'a>(source: &'a str, name: &str) -> &'a str {
    let declared = format!("const {name}: &str = \"");
    let at = source.find(&declared).expect("the constant's declaration") + declared.len();
    literal(&source[at..]).0
}

/// The path a call's argument names: a string literal, or a constant declared in `source`.
/// `None` for anything else (a method route such as `.route(web::get()…)` on a resource).
fn path_argument<'a>(source: &'a str, after: &'a str) -> Option<(String, &'a str)> {
    if let Some(quoted) = after.strip_prefix('"') {
        let (path, rest) = literal(quoted);
        return Some((path.to_owned(), rest));
    }
    let name_len = after
        .find(|c: char| !(c.is_ascii_uppercase() || c == '_'))
        .unwrap_or(0);
    let name = &after[..name_len];
    (!name.is_empty()).then(|| (constant(source, name).to_owned(), &after[name_len..]))
}

/// The routes registered in `body` (a function of `source`) under `prefix`:
/// `resource(&["/a", "/a/"])` or `.route("/a", …)` sets the paths, and each method call
/// (`.get(`, `web::post()`, …) that follows adds a route for each of them.
fn registered(source: &str, body: &str, prefix: &str) -> BTreeSet<Route> {
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
        if let Some((path, after)) = rest
            .strip_prefix("route(")
            .and_then(|after| path_argument(source, after))
        {
            current = vec![path];
            rest = after;
            continue;
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

/// The file of module `module` declared by the file `from`.
fn module_file(from: &Path, module: &str) -> PathBuf {
    let name = from.file_name().unwrap().to_str().unwrap();
    let dir = if name == "lib.rs" || name == "mod.rs" {
        from.parent().unwrap().to_owned()
    } else {
        from.with_extension("")
    };
    let flat = dir.join(format!("{module}.rs"));
    if flat.exists() {
        flat
    } else {
        dir.join(module).join("mod.rs")
    }
}

/// The functions that configured the application, by file: their byte ranges in the file.
type Visited = BTreeMap<PathBuf, Vec<(usize, usize)>>;

/// Follows the application's configuration from `function` of `file` under `prefix`: the
/// routes it registers, a `web::scope(…)` it opens (its prefix holds for the rest of the
/// function), and every `.configure(module::routes)` and `module::scope(…)` it calls.
fn configured(
    file: &Path,
    function: &str,
    prefix: &str,
    routes: &mut BTreeSet<Route>,
    visited: &mut Visited,
) {
    let source = std::fs::read_to_string(file).unwrap();
    let body = fn_body(&source, function);
    let start = body.as_ptr() as usize - source.as_ptr() as usize;
    visited
        .entry(file.to_owned())
        .or_default()
        .push((start, start + body.len()));
    let mut prefix = prefix.to_owned();
    if let Some(at) = body.find("web::scope(") {
        let (scope, _) = path_argument(&source, &body[at + "web::scope(".len()..])
            .expect("a scope's path is a literal or a constant");
        prefix.push_str(&scope);
    }
    routes.extend(registered(&source, body, &prefix));
    for (at, _) in body.match_indices(".configure(") {
        let target = &body[at + ".configure(".len()..];
        let target = &target[..target.find(')').expect("the end of .configure(")];
        let (module, function) = target.rsplit_once("::").unwrap_or(("", target));
        let next = if module.is_empty() {
            file.to_owned()
        } else {
            module
                .split("::")
                .fold(file.to_owned(), |from, m| module_file(&from, m))
        };
        configured(&next, function, &prefix, routes, visited);
    }
    for (at, _) in body.match_indices("::scope(") {
        let module_start = body[..at]
            .rfind(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .map_or(0, |i| i + 1);
        let module = &body[module_start..at];
        if module != "web" {
            configured(
                &module_file(file, module),
                "scope",
                &prefix,
                routes,
                visited,
            );
        }
    }
}

/// Every `.rs` file under `dir`.
fn sources(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files.extend(sources(&path));
        } else if path.extension().is_some_and(|e| e == "rs") {
            files.push(path);
        }
    }
    files
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

/// Every route the application serves, read from its source: the configuration is followed
/// from `ferry_api::app`, so a route is read wherever its module is wired in. Any route
/// registration (`.route(`, `resource(&[`, `web::scope(`) outside the functions followed fails
/// here: this test could not read it, so it could not check it is described.
fn served() -> BTreeSet<Route> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut routes = BTreeSet::new();
    let mut visited = Visited::new();
    configured(&src.join("lib.rs"), "app", "", &mut routes, &mut visited);
    for file in sources(&src) {
        let source = std::fs::read_to_string(&file).unwrap();
        let spans = visited.get(&file).map(Vec::as_slice).unwrap_or_default();
        for pattern in [".route(", "resource(&[", "web::scope("] {
            for (at, _) in source.match_indices(pattern) {
                let line_start = source[..at].rfind('\n').map_or(0, |i| i + 1);
                if source[line_start..at].trim_start().starts_with("//") {
                    continue;
                }
                assert!(
                    spans.iter().any(|&(start, end)| (start..end).contains(&at)),
                    "{} registers a route at byte {at} outside the configuration this test \
                     follows from ferry_api::app",
                    file.display()
                );
            }
        }
    }
    let dispatch = ("POST".to_owned(), "/{}/{}".to_owned());
    assert!(
        routes.remove(&dispatch),
        "dx::routes registers the dispatch route"
    );
    let dx = std::fs::read_to_string(src.join("dx/mod.rs")).unwrap();
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
