//! Who is calling: a bearer secret, checked against the stored digests.
//!
//! The secret is read from `X-SBG-Auth-Token` or `Authorization: Bearer` (scheme compared without
//! case, as dxpy and browsers vary), hashed by the store, and never logged.

use crate::request_log::RequestId;
use crate::{AppState, db};
use actix_web::http::header::{AUTHORIZATION, HeaderMap};
use actix_web::{HttpMessage, HttpRequest};
use ferry_domain::model::{Token, User};
use ferry_store::{StoreError, tokens};

/// An authenticated caller.
#[derive(Debug, Clone)]
pub struct Caller {
    pub user: User,
    pub token: Token,
    /// The request's id, which the audit trail records.
    pub request_id: Option<String>,
}

/// The outcome of authenticating a request, kept in its extensions.
#[derive(Clone)]
struct Authenticated(Option<Caller>);

/// The request's id, set by the `request_log` middleware.
pub(crate) fn request_id(req: &HttpRequest) -> Option<String> {
    req.extensions().get::<RequestId>().map(|id| id.0.clone())
}

/// The caller, if the request was already authenticated and had a valid token.
pub(crate) fn authenticated(req: &HttpRequest) -> Option<Caller> {
    req.extensions()
        .get::<Authenticated>()
        .and_then(|a| a.0.clone())
}

/// The secret a request presents, if any.
fn presented_secret(headers: &HeaderMap) -> Option<String> {
    if let Some(value) = headers.get("x-sbg-auth-token") {
        return value.to_str().ok().map(|s| s.trim().to_owned());
    }
    let value = headers.get(AUTHORIZATION)?.to_str().ok()?;
    let (scheme, secret) = value.trim().split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| secret.trim().to_owned())
}

/// `Ok(None)` when the request carries no valid token; `Err` only when the store fails, which
/// is not kept, so the next asker tries again.
pub(crate) async fn authenticate(req: &HttpRequest) -> Result<Option<Caller>, StoreError> {
    if let Some(Authenticated(caller)) = req.extensions().get::<Authenticated>() {
        return Ok(caller.clone());
    }
    let caller = match presented_secret(req.headers()).filter(|s| !s.is_empty()) {
        None => None,
        Some(secret) => {
            let state = req
                .app_data::<actix_web::web::Data<AppState>>()
                .expect("AppState is registered by ferry_api::app");
            // A read: its one write, the token's last use (at most once a minute), is a
            // statement of its own, so that reads never queue behind the writers.
            let found = db::read(&state.store, move |conn| -> Result<_, StoreError> {
                tokens::authenticate(conn, &secret, chrono::Utc::now())
            })
            .await?;
            found.map(|(user, token)| Caller {
                user,
                token,
                request_id: request_id(req),
            })
        }
    };
    if let Some(caller) = &caller {
        tracing::Span::current().record("user", caller.user.username.as_str());
    }
    req.extensions_mut().insert(Authenticated(caller.clone()));
    Ok(caller)
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::http::header::HeaderValue;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(
                actix_web::http::header::HeaderName::from_static(name),
                HeaderValue::from_static(value),
            );
        }
        map
    }

    #[test]
    fn reads_the_sbg_header_and_bearer_with_any_case_scheme() {
        assert_eq!(
            presented_secret(&headers(&[("x-sbg-auth-token", "abc")])).as_deref(),
            Some("abc")
        );
        assert_eq!(
            presented_secret(&headers(&[("authorization", "bEaReR xyz")])).as_deref(),
            Some("xyz")
        );
        assert_eq!(
            presented_secret(&headers(&[("authorization", "Basic xyz")])),
            None
        );
        assert_eq!(presented_secret(&headers(&[])), None);
    }
}
