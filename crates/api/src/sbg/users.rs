//! `GET /user` and `GET /users/{username}`.

use super::{SbgCaller, SbgError, href};
use crate::AppState;
use actix_web::{HttpResponse, web};
use ferry_domain::model::User;
use serde_json::{Value, json};

pub(crate) fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/user", web::get().to(me))
        .route("/user/", web::get().to(me))
        .route("/users/{username}", web::get().to(by_name));
}

#[utoipa::path(get, path = "/v2/user", tag = "sbg", responses((status = 200, description = "The caller")))]
async fn me(state: web::Data<AppState>, caller: SbgCaller) -> HttpResponse {
    HttpResponse::Ok().json(render(&state, &caller.0.user))
}

/// Only your own user is visible, as on CAVATICA.
#[utoipa::path(get, path = "/v2/users/{username}", tag = "sbg", params(("username" = String, Path)), responses((status = 200, description = "The caller, if named")))]
async fn by_name(
    state: web::Data<AppState>,
    caller: SbgCaller,
    username: web::Path<String>,
) -> Result<HttpResponse, SbgError> {
    if caller.0.user.username.as_str() != username.as_str() {
        return Err(SbgError::UserNotFound);
    }
    Ok(HttpResponse::Ok().json(render(&state, &caller.0.user)))
}

/// Every key the SDK knows is present (null when unknown), so it never refetches.
fn render(state: &AppState, user: &User) -> Value {
    let (first, last) = user
        .name
        .split_once(' ')
        .unwrap_or((user.name.as_str(), ""));
    json!({
        "href": href(state, &format!("/users/{}", user.username)),
        "username": user.username.as_str(),
        "email": user.email,
        "first_name": first,
        "last_name": last,
        "affiliation": null,
        "phone": null,
        "address": null,
        "city": null,
        "state": null,
        "country": null,
        "zip_code": null,
        "role": "USER",
        "tags": [],
    })
}
