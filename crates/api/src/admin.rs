//! The operators' API under `/admin`, for users marked administrators (`ferry user admin`).
//! Its errors take the SBG shape (`{status, code, message, more_info}`): 401 (90001) without a
//! valid token, 403 (90002) for a user who is not an administrator, 400 (90000) for a bad query.
//!
//! `GET /admin/audit?since=&until=&user=&action=&limit=&offset=`: the audit trail, newest first.
//! `since` and `until` are RFC 3339 times (`since` inclusive, `until` exclusive), `user` a
//! username, `action` an exact action name; `limit` 1 to 1,000 (100 by default).

use crate::auth::authenticate;
use crate::sbg::SbgError;
use crate::{AppState, db};
use actix_web::{HttpRequest, HttpResponse, web};
use chrono::{DateTime, Utc};
use ferry_domain::ids::Username;
use ferry_domain::model::AuditEvent;
use ferry_domain::row_ids::UserRowId;
use ferry_store::page::{Page, PageLimits};
use ferry_store::{audit, users};
use serde::Deserialize;
use serde_json::{Value, json};

/// Pages of the audit trail: 100 events by default, 1,000 at most.
const LIMITS: PageLimits = PageLimits {
    default: 100,
    max: 1000,
};
const PREFIX: &str = "/admin";

/// Whether `path` is under `/admin`, whose errors take the SBG shape.
pub(crate) fn owns_path(path: &str) -> bool {
    path == PREFIX || path.starts_with("/admin/")
}

/// `/admin` in the OpenAPI document; `crate::openapi` adds the SBG error shape and security.
#[derive(utoipa::OpenApi)]
#[openapi(paths(audit_trail))]
pub(crate) struct AdminDoc;

pub(crate) fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::scope(PREFIX)
            .app_data(web::QueryConfig::default().error_handler(|e, _| {
                SbgError::bad_request(format!("Malformed query string: {e}.")).into()
            }))
            .route("/audit", web::get().to(audit_trail))
            .default_service(web::to(|| async {
                SbgError::RouteNotFound.into_response()
            })),
    );
}

#[derive(Debug, Deserialize)]
struct AuditParams {
    since: Option<DateTime<Utc>>,
    until: Option<DateTime<Utc>>,
    user: Option<String>,
    action: Option<String>,
    limit: Option<i64>,
    offset: Option<i64>,
}

fn render(event: AuditEvent) -> Value {
    json!({
        "id": event.id.get(),
        "at": event.at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
        "request_id": event.request_id,
        "user_id": event.user_id.map(UserRowId::get),
        "token_label": event.token_label,
        "action": event.action,
        "target": event.target,
        "outcome": event.outcome.as_str(),
        "detail": event.detail,
    })
}

/// The audit trail, newest first. For administrators only.
#[utoipa::path(get, path = "/admin/audit", tag = "admin",
    params(
        ("since" = Option<String>, Query, description = "RFC 3339 time; events at or after it"),
        ("until" = Option<String>, Query, description = "RFC 3339 time; events before it"),
        ("user" = Option<String>, Query, description = "The username of the acting user"),
        ("action" = Option<String>, Query, description = "An exact action name, e.g. `sbg.files.copy`"),
        ("limit" = Option<i64>, Query, minimum = 1, maximum = 1000, description = "Events per page, 1 to 1,000 (100)"),
        ("offset" = Option<i64>, Query, minimum = 0, description = "Events to skip"),
    ),
    responses(
        (status = 200, description = "`{items: [{id, at, request_id, user_id, token_label, action, target, outcome, detail}], total, limit, offset}`", content_type = "application/json"),
        (status = 400, description = "A bad query (SBG code 90000)"),
        (status = 401, description = "No valid token (SBG code 90001)"),
        (status = 403, description = "The caller is not an administrator (SBG code 90002)"),
    ))]
async fn audit_trail(
    state: web::Data<AppState>,
    req: HttpRequest,
    params: web::Query<AuditParams>,
) -> Result<HttpResponse, SbgError> {
    let caller = authenticate(&req).await?.ok_or(SbgError::Unauthorized)?;
    if !caller.user.is_admin {
        return Err(SbgError::AdministratorsOnly);
    }
    let params = params.into_inner();
    let page = Page::parse(params.offset, params.limit, LIMITS)?;
    let user = params
        .user
        .as_deref()
        .map(Username::parse)
        .transpose()
        .map_err(|e| SbgError::bad_request(format!("Invalid user: {e}.")))?;
    let mut query = audit::Query {
        since: params.since,
        until: params.until,
        user_id: None,
        action: params.action,
        page,
    };
    let (events, total) = db::read(&state.store, move |conn| -> Result<_, SbgError> {
        if let Some(username) = &user {
            match users::find_by_username(conn, username)? {
                Some(user) => query.user_id = Some(user.id),
                // Nobody by that name did anything.
                None => return Ok((Vec::new(), 0)),
            }
        }
        Ok(audit::list(conn, &query)?)
    })
    .await?;
    Ok(HttpResponse::Ok().json(json!({
        "items": events.into_iter().map(render).collect::<Vec<_>>(),
        "total": total,
        "limit": page.limit(),
        "offset": page.offset(),
    })))
}
