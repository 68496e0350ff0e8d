//! `GET /billing/groups` and `GET /billing/groups/{id}`: the groups the caller may bill
//! projects to, which are those they own.

use super::listing::{PageQuery, envelope};
use super::query::LastValues;
use super::{SbgCaller, SbgError, href, resource};
use crate::{AppState, db};
use actix_web::{HttpResponse, web};
use ferry_domain::ids::Username;
use ferry_domain::model::BillingGroup;
use ferry_store::billing;
use serde_json::{Value, json};

pub(crate) fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(resource(&["/billing/groups", "/billing/groups/"]).get(list))
        .service(resource(&["/billing/groups/{id}"]).get(get));
}

/// The canonical spelling of a billing group id (lowercase, hyphenated), as stored; `None` if
/// it is not a UUID, so it names no group.
pub(super) fn canonical_id(id: &str) -> Option<String> {
    uuid::Uuid::parse_str(id).ok().map(|id| id.to_string())
}

#[utoipa::path(get, path = "/v2/billing/groups", tag = "sbg", params(PageQuery), responses((status = 200, description = "The caller's billing groups")))]
async fn list(
    state: web::Data<AppState>,
    caller: SbgCaller,
    query: LastValues<PageQuery>,
) -> Result<HttpResponse, SbgError> {
    let page = query.into_inner().page()?;
    let user_id = caller.0.user.id;
    let (groups, total) = db::read(&state.store, move |conn| -> Result<_, SbgError> {
        Ok(billing::list_for_user(conn, user_id, page)?)
    })
    .await?;
    let owner = &caller.0.user.username;
    let items = groups
        .iter()
        .map(|group| render(&state, group, owner))
        .collect();
    Ok(envelope(
        &href(&state, "/billing/groups"),
        &[],
        page,
        items,
        total,
    ))
}

#[utoipa::path(get, path = "/v2/billing/groups/{id}", tag = "sbg", params(("id" = String, Path, description = "A billing group UUID")), responses((status = 200, description = "The group")))]
async fn get(
    state: web::Data<AppState>,
    caller: SbgCaller,
    id: web::Path<String>,
) -> Result<HttpResponse, SbgError> {
    let id = canonical_id(&id).ok_or(SbgError::BillingGroupNotFound)?;
    let user_id = caller.0.user.id;
    let group = db::read(&state.store, move |conn| -> Result<_, SbgError> {
        billing::get_by_uuid(conn, user_id, &id)?.ok_or(SbgError::BillingGroupNotFound)
    })
    .await?;
    Ok(HttpResponse::Ok().json(render(&state, &group, &caller.0.user.username)))
}

/// Ferry does not charge: every group is a regular, enabled one with nothing to pay.
fn render(state: &AppState, group: &BillingGroup, owner: &Username) -> Value {
    json!({
        "href": href(state, &format!("/billing/groups/{}", group.uuid)),
        "id": group.uuid,
        "owner": owner.as_str(),
        "name": group.name,
        "type": "regular",
        "pending": false,
        "disabled": false,
        "balance": {"currency": "USD", "amount": "0.00"},
    })
}
