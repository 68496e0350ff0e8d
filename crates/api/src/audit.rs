//! What the handlers write to the audit trail: who (user and token label), which request, what,
//! and how it ended. Changes are recorded by their handlers inside their own transaction
//! ([`record`]); refusals (401, 403) by the [`record_denials`] middleware, one small insert each.

use crate::auth::{Caller, authenticated, request_id};
use crate::db::RequestClaim;
use crate::{AppState, db};
use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::StatusCode;
use actix_web::middleware::Next;
use actix_web::{Error, web};
use ferry_domain::model::AuditOutcome;
use ferry_store::audit::{self, NewEvent};
use ferry_store::{DbConnection, StoreError};
use serde_json::{Value, json};

/// Records an action of `caller`; call it inside the transaction of the change it records.
pub(crate) fn record(
    conn: &mut DbConnection,
    caller: &Caller,
    action: &'static str,
    target: impl Into<String>,
    outcome: AuditOutcome,
    detail: Value,
) -> Result<(), StoreError> {
    let event = NewEvent {
        request_id: caller.request_id.clone(),
        user_id: Some(caller.user.id),
        token_label: caller.token.label.clone(),
        action,
        target: Some(target.into()),
        outcome,
        detail,
    };
    audit::record(conn, &event)
}

/// Middleware of the whole application: records every 401 and 403, with the caller when the
/// token was valid. A failure to record is logged and does not change the answer.
pub(crate) async fn record_denials(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let res = next.call(req).await?;
    let status = res.status();
    if status != StatusCode::UNAUTHORIZED && status != StatusCode::FORBIDDEN {
        return Ok(res);
    }
    let req = res.request();
    let caller = authenticated(req);
    let event = NewEvent {
        request_id: request_id(req),
        user_id: caller.as_ref().map(|c| c.user.id),
        token_label: caller.and_then(|c| c.token.label),
        action: "denied",
        // The path only: a query string may carry anything.
        target: Some(format!("{} {}", req.method(), req.path())),
        outcome: AuditOutcome::Denied,
        detail: json!({ "status": status.as_u16() }),
    };
    let state = req
        .app_data::<web::Data<AppState>>()
        .expect("AppState is registered by ferry_api::app")
        .clone();
    let recorded = db::write(
        &state.store,
        RequestClaim::none(),
        move |conn| -> Result<_, StoreError> { audit::record(conn, &event) },
    )
    .await;
    if let Err(error) = recorded {
        tracing::warn!(%error, "recording a denied request failed");
    }
    Ok(res)
}
