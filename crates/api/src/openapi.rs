//! The OpenAPI 3.1 description of both dialects, served at `GET /openapi.json`.
//!
//! Each handler carries its own `#[utoipa::path]`; each dialect lists its handlers (`sbg::doc`,
//! `dx::doc`, and `admin::AdminDoc` for `/admin`). What every operation of a dialect shares is
//! added here once, by the path: the error responses in the shape that path answers
//! (`Dialect::of_path`) and the token security schemes.

use crate::dialect::Dialect;
use actix_web::{HttpResponse, web};
use std::sync::OnceLock;
use utoipa::openapi::path::Operation;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, SecurityScheme};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityRequirement};
use utoipa::openapi::{ContentBuilder, OpenApi as Document, Ref, ResponseBuilder};
use utoipa::{Modify, OpenApi};

/// Routes that need no token.
const PUBLIC: &[&str] = &["/healthz", "/readyz", "/openapi.json"];

/// Routes that authorise themselves with a signed query instead of a token.
const SIGNED: &[&str] = &[
    "/v2/files/{id}/download",
    "/upload/{id}/{index}",
    "/download/{id}/{expires}/{signature}/{name}",
];

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Ferry",
        description = "The Seven Bridges / CAVATICA v2 API under /v2 and the DNAnexus API \
                       (POST /{id}/{method}) over one store."
    ),
    paths(crate::health::healthz, crate::health::readyz, openapi_json),
    tags(
        (name = "sbg", description = "Seven Bridges / CAVATICA v2"),
        (name = "dx", description = "DNAnexus"),
        (name = "admin", description = "The operators' API; errors in the SBG shape"),
        (name = "ops", description = "Health and this description"),
    )
)]
struct Base;

/// The whole document: the base, both dialects, and what their operations share.
pub fn document() -> Document {
    let mut doc = Base::openapi();
    doc.merge(crate::sbg::doc::SbgDoc::openapi());
    doc.merge(crate::dx::doc::DxDoc::openapi());
    doc.merge(crate::admin::AdminDoc::openapi());
    Dialects.modify(&mut doc);
    doc
}

struct Dialects;

impl Modify for Dialects {
    fn modify(&self, doc: &mut Document) {
        let components = doc.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "sbg_token",
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::new("X-SBG-Auth-Token"))),
        );
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
        for (path, item) in doc.paths.paths.iter_mut() {
            let dialect = Dialect::of_path(path);
            let public = PUBLIC.contains(&path.as_str());
            let signed = SIGNED.contains(&path.as_str());
            for (method, operation) in operations(item) {
                // Unique, as the specification wants and client generators name functions by it.
                operation.operation_id = Some(operation_id(method, path));
                if !public && !signed {
                    operation.security = Some(vec![
                        SecurityRequirement::new("sbg_token", Vec::<String>::new()),
                        SecurityRequirement::new("bearer", Vec::<String>::new()),
                    ]);
                }
                if !public {
                    add_error_response(operation, dialect);
                }
            }
        }
    }
}

fn operations(
    item: &mut utoipa::openapi::PathItem,
) -> impl Iterator<Item = (&'static str, &mut Operation)> {
    [
        ("get", &mut item.get),
        ("put", &mut item.put),
        ("post", &mut item.post),
        ("delete", &mut item.delete),
        ("patch", &mut item.patch),
    ]
    .into_iter()
    .filter_map(|(method, operation)| Some((method, operation.as_mut()?)))
}

/// An operation's id from its method and path, in camel case: `GET /v2/files/{id}` is
/// `getV2FilesId`, `POST /project-{project}/clone` is `postProjectProjectClone`.
fn operation_id(method: &str, path: &str) -> String {
    let mut id = method.to_owned();
    for word in path.split(|c: char| !c.is_ascii_alphanumeric()) {
        let mut chars = word.chars();
        if let Some(first) = chars.next() {
            id.push(first.to_ascii_uppercase());
            id.extend(chars);
        }
    }
    id
}

/// Every 4xx answer in the dialect's own JSON shape.
fn add_error_response(operation: &mut Operation, dialect: Dialect) {
    let (schema, description) = match dialect {
        Dialect::Sbg => (
            "SbgErrorBody",
            "An SBG error: {status, code, message, more_info}",
        ),
        Dialect::Dx => ("DxErrorBody", "A DNAnexus error: {error: {type, message}}"),
    };
    let response = ResponseBuilder::new()
        .description(description)
        .content(
            "application/json",
            ContentBuilder::new()
                .schema(Some(Ref::from_schema_name(schema)))
                .build(),
        )
        .build();
    operation
        .responses
        .responses
        .insert("4XX".to_owned(), response.into());
}

/// The document, rendered once.
fn rendered() -> &'static str {
    static JSON: OnceLock<String> = OnceLock::new();
    JSON.get_or_init(|| document().to_json().expect("the document serialises"))
}

pub(crate) fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/openapi.json", web::get().to(openapi_json));
}

/// This description. No token needed.
#[utoipa::path(get, path = "/openapi.json", tag = "ops",
    responses((status = 200, description = "The OpenAPI 3.1 document", content_type = "application/json")))]
async fn openapi_json() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/json")
        .body(rendered())
}
