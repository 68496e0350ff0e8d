//! Liveness and readiness, for load balancers and orchestrators.

use crate::AppState;
use actix_web::{HttpResponse, web};
use serde_json::json;

pub(crate) fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/healthz", web::get().to(healthz))
        .route("/readyz", web::get().to(readyz));
}

/// The process is up and serving requests.
#[utoipa::path(get, path = "/healthz", tag = "ops", responses((status = 200, description = "Up")))]
pub(crate) async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(json!({"status": "ok"}))
}

/// The database answers a query.
#[utoipa::path(get, path = "/readyz", tag = "ops", responses((status = 200, description = "The database answers"), (status = 503, description = "The database does not answer")))]
pub(crate) async fn readyz(state: web::Data<AppState>) -> HttpResponse {
    let store = state.store.clone();
    let backend = store.backend().name();
    let probe = web::block(move || store.ping()).await;
    match probe {
        Ok(Ok(())) => HttpResponse::Ok().json(json!({"status": "ready", "database": backend})),
        Ok(Err(e)) => {
            tracing::warn!(error = %e, "readiness probe failed");
            HttpResponse::ServiceUnavailable()
                .json(json!({"status": "unavailable", "database": backend}))
        }
        Err(_) => HttpResponse::ServiceUnavailable().json(json!({"status": "shutting down"})),
    }
}
