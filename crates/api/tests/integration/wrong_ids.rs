//! Every route of `/openapi.json` that takes an id in its path, sent ids of the wrong shape (a
//! NUL byte, bytes that are not UTF-8, a thousand characters, blanks): each answer is a 4xx in
//! its dialect's error shape, never a 5xx, on every backend, and says `nosniff`. PostgreSQL
//! refuses a NUL byte in text with an error of its own, so an id that reaches a query unparsed
//! is found here.

use actix_web::http::Method;

use crate::support::{Ctx, Reply};
use ferry_testkit::backends;

/// Ids no route takes, percent-encoded as they go into a path.
fn wrong_ids() -> Vec<String> {
    vec![
        "%00".to_owned(),
        "a%00b".to_owned(),
        "%FF%FE".to_owned(),
        "%20".to_owned(),
        "x".repeat(1000),
    ]
}

/// `pattern` (an OpenAPI path) with every `{param}` replaced by `id`.
fn with_ids(pattern: &str, id: &str) -> String {
    let mut path = String::new();
    let mut rest = pattern;
    while let Some(open) = rest.find('{') {
        let close = rest[open..].find('}').expect("a parameter closes") + open;
        path.push_str(&rest[..open]);
        path.push_str(id);
        rest = &rest[close + 1..];
    }
    path.push_str(rest);
    path
}

/// Why `reply` is not a 4xx in the dialect's error shape, if it is not.
fn wrong(method: &Method, path: &str, reply: &Reply) -> Option<String> {
    let status = reply.status.as_u16();
    let shaped = if *method == Method::HEAD {
        true
    } else if path.starts_with("/v2/") {
        reply.json["code"].is_number() && reply.json["status"] == status
    } else {
        reply.json["error"]["type"].is_string()
    };
    let nosniff = reply
        .headers
        .get("X-Content-Type-Options")
        .is_some_and(|value| value == "nosniff");
    // A 401 would mean the id was never looked at.
    (!(400..500).contains(&status) || status == 401 || !shaped || !nosniff)
        .then(|| format!("{method} {path} → {status} {}", reply.json))
}

backends!(#[actix_web::test] async every_id_route_refuses_ids_of_the_wrong_shape);
async fn every_id_route_refuses_ids_of_the_wrong_shape(ctx: Ctx) {
    let (alice, token) = ctx.user("alice");
    let project = ferry_testkit::project(ctx.db.store(), &alice, "Shapes");
    ctx.seed_file(&alice, &project, "/", "reads.bam", b"x");
    let document = ctx.send(Method::GET, "/openapi.json", None, None).await;
    assert_eq!(
        document.headers.get("X-Content-Type-Options").unwrap(),
        "nosniff"
    );
    let document = document.json;
    let mut sent = 0;
    let mut failures = Vec::new();
    for (pattern, item) in document["paths"].as_object().unwrap() {
        if !pattern.contains('{') {
            continue;
        }
        for method in item.as_object().unwrap().keys() {
            let method = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            for id in wrong_ids() {
                let path = with_ids(pattern, &id);
                let reply = ctx
                    .send_bytes(method.clone(), &path, &token, b"{}".to_vec())
                    .await;
                sent += 1;
                failures.extend(wrong(&method, &path, &reply));
            }
        }
    }
    assert!(sent > 200, "only {sent} requests: was the document read?");
    assert!(
        failures.is_empty(),
        "{} of {sent} answers are not the dialect's 4xx:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
