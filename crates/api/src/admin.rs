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
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use chrono::{DateTime, Utc};
use ferry_domain::ids::Username;
use ferry_domain::model::AuditEvent;
use ferry_store::{audit, users};
use serde::Deserialize;
use serde_json::{Value, json};

const DEFAULT_LIMIT: i64 = 100;
const MAX_LIMIT: i64 = 1000;

pub(crate) fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::scope("/admin")
            .app_data(web::QueryConfig::default().error_handler(|e, _| {
                SbgError::bad_request(format!("Malformed query string: {e}.")).into()
            }))
            .route("/audit", web::get().to(audit_trail))
            .default_service(web::to(|| async {
                SbgError::route_not_found().into_response()
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
        "id": event.id,
        "at": event.at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
        "request_id": event.request_id,
        "user_id": event.user_id,
        "token_label": event.token_label,
        "action": event.action,
        "target": event.target,
        "outcome": event.outcome.as_str(),
        "detail": event.detail,
    })
}

async fn audit_trail(
    state: web::Data<AppState>,
    req: HttpRequest,
    params: web::Query<AuditParams>,
) -> Result<HttpResponse, SbgError> {
    let caller = authenticate(&req)
        .await?
        .ok_or_else(SbgError::unauthorized)?;
    if !caller.user.is_admin {
        return Err(SbgError::new(
            StatusCode::FORBIDDEN,
            90002,
            "Forbidden: the audit trail is for administrators.",
        ));
    }
    let params = params.into_inner();
    let limit = params.limit.unwrap_or(DEFAULT_LIMIT);
    if !(1..=MAX_LIMIT).contains(&limit) {
        return Err(SbgError::bad_request(format!(
            "limit must be between 1 and {MAX_LIMIT}."
        )));
    }
    let offset = params.offset.unwrap_or(0);
    if offset < 0 {
        return Err(SbgError::bad_request("offset must not be negative."));
    }
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
        limit,
        offset,
    };
    let (events, total) = db::run(&state.store, move |conn| -> Result<_, SbgError> {
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
        "limit": limit,
        "offset": offset,
    })))
}
