//! `Idempotency-Key` on every mutating request of both dialects.
//!
//! A POST, PUT, PATCH or DELETE that carries the header is run at most once per user and key
//! within 24 h: the key is claimed (`store::idempotency::claim`) before the handler runs, and the
//! handler's response (a 2xx or a 4xx) is recorded after. A retry with the same method, path,
//! query and body gets the recorded response with `Idempotent-Replayed: true` and writes
//! nothing; the same key on another request is a 422. A 5xx gives the key up, so that a retry
//! runs again, unless the handler's writes committed (below). A retry that arrives while the
//! first is still running waits for its response.
//!
//! Keys are scoped to the user the presented token belongs to, not to the token: a client that
//! rotates its token between retries still meets its own key, and two users never meet. A
//! request without a valid token is passed on untouched, and its handler answers the 401.
//!
//! The handler and the recording of its response run in a task of their own. actix keeps
//! serving a request whose client half-closed the connection, but drops its future when the
//! connection is reset; the task makes sure the response is recorded either way.
//!
//! The handler runs under its claim (`db::RequestClaim`, on the request), which it hands to its
//! unit of work (`db::write`): the transaction marks the key applied as it commits. A process that dies after that commit and before the response is
//! recorded leaves an applied key without a response: once the lease lapses, a retry is told
//! that the request was done and its answer lost (SBG 409/90013, DNAnexus `InvalidState`), and
//! nothing runs again (see `docs/reliability.md`, "Idempotent retries").

use crate::auth;
use crate::db::RequestClaim;
use crate::dialect::Dialect;
use crate::dx::{DxError, DxErrorType};
use crate::sbg::SbgError;
use crate::{AppState, db};
use actix_web::body::{self, BoxBody, MessageBody};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::http::header::{CONTENT_TYPE, HeaderMap, HeaderName, HeaderValue};
use actix_web::http::{Method, StatusCode};
use actix_web::middleware::Next;
use actix_web::web::{self, Bytes, BytesMut};
use actix_web::{Error, HttpMessage, HttpResponse};
use chrono::{TimeDelta, Utc};
use ferry_domain::row_ids::UserRowId;
use ferry_store::StoreError;
use ferry_store::idempotency::{self, Applying, Claim, KeyedRequest, StoredResponse};
use futures_util::StreamExt;
use sha2::{Digest, Sha256};
use std::time::{Duration, Instant};
use tracing::Instrument;

const HEADER: &str = "idempotency-key";
const REPLAYED: &str = "idempotent-replayed";
/// Longest key accepted, in bytes.
const MAX_KEY_BYTES: usize = 255;
/// How long a claim holds without a response before another request may take it over: longer
/// than any request runs (a 1,000-file batch copy takes well under a second).
const LEASE: TimeDelta = TimeDelta::seconds(60);
/// How long a retry waits for the first request with its key to finish.
const WAIT: Duration = Duration::from_secs(30);
/// How often a waiting retry looks at the key again.
const POLL: Duration = Duration::from_millis(50);

/// This middleware's refusals, in the shape of the request's dialect.
impl Dialect {
    fn invalid_key(self, message: String) -> HttpResponse {
        match self {
            Dialect::Sbg => SbgError::bad_request(message).into_response(),
            Dialect::Dx => DxError::new(DxErrorType::InvalidHeader, message).into_response(),
        }
    }

    /// The key was used for another request. SBG has no code for it; 90012 is Ferry's.
    fn mismatch(self) -> HttpResponse {
        const MESSAGE: &str = "Idempotency-Key was reused for an earlier API request that had a \
                               different method, path, query or body";
        match self {
            Dialect::Sbg => SbgError::IdempotencyKeyReused(MESSAGE).into_response(),
            Dialect::Dx => DxError::invalid_input(MESSAGE).into_response(),
        }
    }

    /// The first request with the key is still running after [`WAIT`].
    fn still_running(self) -> HttpResponse {
        const MESSAGE: &str =
            "A request with this Idempotency-Key is still in progress; retry later";
        match self {
            Dialect::Sbg => SbgError::IdempotencyKeyInUse(MESSAGE).into_response(),
            Dialect::Dx => DxError::invalid_state(MESSAGE).into_response(),
        }
    }

    /// The first request with the key committed its writes and its response was lost (its
    /// process died before recording it, or it answered a server error). Running it again
    /// could write twice, so it is not run; nor should the client resend it. SBG's catalogue
    /// has 409 Conflict; 90013 is Ferry's, so that clients tell it from 90007 (retry later).
    fn answer_lost(self) -> HttpResponse {
        const MESSAGE: &str = "The request with this Idempotency-Key was done, but its response \
                               was lost; it will not be run again. Read the resources it changed \
                               to learn the outcome";
        match self {
            Dialect::Sbg => SbgError::IdempotentResponseLost(MESSAGE).into_response(),
            Dialect::Dx => DxError::invalid_state(MESSAGE).into_response(),
        }
    }

    fn too_large(self, limit: usize) -> HttpResponse {
        let message = format!("The request body is larger than {limit} bytes");
        match self {
            Dialect::Sbg => SbgError::BodyTooLarge(message).into_response(),
            Dialect::Dx => DxError::new(DxErrorType::PayloadTooLarge, message).into_response(),
        }
    }

    fn unreadable(self, message: String) -> HttpResponse {
        match self {
            Dialect::Sbg => SbgError::bad_request(message).into_response(),
            Dialect::Dx => DxError::new(DxErrorType::MalformedJSON, message).into_response(),
        }
    }

    fn store_error(self, e: StoreError) -> HttpResponse {
        match self {
            Dialect::Sbg => SbgError::from(e).into_response(),
            Dialect::Dx => DxError::from(e).into_response(),
        }
    }
}

/// The key of a request, if it carries one: 1 to 255 printable ASCII characters, once.
fn presented_key(headers: &HeaderMap) -> Result<Option<String>, String> {
    let mut values = headers.get_all(HEADER);
    let Some(value) = values.next() else {
        return Ok(None);
    };
    if values.next().is_some() {
        return Err("Idempotency-Key must be sent once".to_owned());
    }
    let bytes = value.as_bytes();
    if bytes.is_empty() || bytes.len() > MAX_KEY_BYTES {
        return Err(format!(
            "Idempotency-Key must be 1 to {MAX_KEY_BYTES} characters long"
        ));
    }
    if !bytes.iter().all(|b| (b' '..=b'~').contains(b)) {
        return Err("Idempotency-Key must be printable ASCII".to_owned());
    }
    Ok(Some(String::from_utf8_lossy(bytes).into_owned()))
}

/// What identifies a request under its key: SHA-256 over method, path, query and body, each
/// length-prefixed so that no two requests share an encoding. The body is compared as sent:
/// clients resend the same bytes.
fn fingerprint(method: &Method, path: &str, query: &str, body: &[u8]) -> String {
    let mut hash = Sha256::new();
    for part in [
        method.as_str().as_bytes(),
        path.as_bytes(),
        query.as_bytes(),
        body,
    ] {
        hash.update((part.len() as u64).to_be_bytes());
        hash.update(part);
    }
    hex::encode(hash.finalize())
}

/// The whole body, or `None` when it is larger than `limit`.
async fn read_body(payload: &mut Payload, limit: usize) -> Result<Option<Bytes>, String> {
    let mut body = BytesMut::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|e| format!("The body could not be read: {e}"))?;
        if body.len() + chunk.len() > limit {
            return Ok(None);
        }
        body.extend_from_slice(&chunk);
    }
    Ok(Some(body.freeze()))
}

/// The key, its owner and the request's fingerprint, owned so they can move into tasks.
#[derive(Debug, Clone)]
struct Keyed {
    user_id: UserRowId,
    key: String,
    request_sha256: String,
}

impl Keyed {
    fn request(&self) -> KeyedRequest<'_> {
        KeyedRequest {
            user_id: self.user_id,
            key: &self.key,
            request_sha256: &self.request_sha256,
        }
    }
}

/// The middleware, wrapped around the whole application by `ferry_api::app`.
pub(crate) async fn idempotent(
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    let safe = matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    let dialect = Dialect::of_path(req.path());
    let key = match presented_key(req.headers()) {
        _ if safe => None,
        Ok(key) => key,
        Err(message) => return Ok(req.into_response(dialect.invalid_key(message))),
    };
    let Some(key) = key else {
        return Ok(next.call(req).await?.map_into_boxed_body());
    };
    let caller = match auth::authenticate(req.request()).await {
        Ok(Some(caller)) => caller,
        Ok(None) => return Ok(next.call(req).await?.map_into_boxed_body()),
        Err(e) => return Ok(req.into_response(dialect.store_error(e))),
    };
    let state = req
        .app_data::<web::Data<AppState>>()
        .expect("AppState is registered by ferry_api::app")
        .clone();
    let limit = state.config.max_body_bytes;
    let body = match read_body(&mut req.take_payload(), limit).await {
        Ok(Some(body)) => body,
        Ok(None) => return Ok(req.into_response(dialect.too_large(limit))),
        Err(message) => return Ok(req.into_response(dialect.unreadable(message))),
    };
    let keyed = Keyed {
        user_id: caller.user.id,
        key,
        request_sha256: fingerprint(req.method(), req.path(), req.query_string(), &body),
    };
    req.set_payload(Payload::from(body));

    let deadline = Instant::now() + WAIT;
    loop {
        let claim_id = uuid::Uuid::new_v4().simple().to_string();
        let claimed = {
            let keyed = keyed.clone();
            let claim_id = claim_id.clone();
            db::write(&state.store, RequestClaim::none(), move |conn| {
                idempotency::claim(conn, keyed.request(), &claim_id, LEASE, Utc::now())
            })
            .await
        };
        match claimed {
            Ok(Claim::Granted) => {
                // Its own task, in the request's span: a connection reset drops the request's
                // future, which must not cancel the handler after it wrote and before its
                // response is recorded.
                let task = actix_web::rt::spawn(
                    run_and_record(state, keyed, claim_id, req, next)
                        .instrument(tracing::Span::current()),
                );
                return task.await.map_err(|e| {
                    tracing::error!(error = %e, "idempotent request task failed");
                    actix_web::error::ErrorInternalServerError("internal error")
                })?;
            }
            Ok(Claim::Done(stored)) => return Ok(req.into_response(replay(stored))),
            Ok(Claim::Mismatch) => return Ok(req.into_response(dialect.mismatch())),
            Ok(Claim::Lost) => return Ok(req.into_response(dialect.answer_lost())),
            Ok(Claim::InFlight) if Instant::now() >= deadline => {
                return Ok(req.into_response(dialect.still_running()));
            }
            Ok(Claim::InFlight) => actix_web::rt::time::sleep(POLL).await,
            Err(e) => return Ok(req.into_response(dialect.store_error(e))),
        }
    }
}

/// Runs the handler under the claim, then records its response (2xx and 4xx) or gives the key
/// up (anything else, so that a retry runs again).
async fn run_and_record(
    state: web::Data<AppState>,
    keyed: Keyed,
    claim_id: String,
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    let claim = Applying {
        user_id: keyed.user_id,
        key: keyed.key.clone(),
        claim_id: claim_id.clone(),
    };
    RequestClaim::attach(&req, claim);
    let res = match next.call(req).await {
        Ok(res) => res,
        Err(e) => {
            release(&state, keyed, claim_id).await;
            return Err(e);
        }
    };
    let status = res.status();
    if !(status.is_success() || status.is_client_error()) {
        release(&state, keyed, claim_id).await;
        return Ok(res.map_into_boxed_body());
    }
    let (http_req, http_res) = res.into_parts();
    let (head, response_body) = http_res.into_parts();
    let bytes = match body::to_bytes(response_body).await {
        Ok(bytes) => bytes,
        Err(e) => {
            release(&state, keyed, claim_id).await;
            return Err(actix_web::error::ErrorInternalServerError(e.into()));
        }
    };
    let stored = StoredResponse {
        status: status.as_u16(),
        content_type: head
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|value| value.to_str().ok())
            .map(str::to_owned),
        body: bytes.to_vec(),
    };
    let recorded = db::write(&state.store, RequestClaim::none(), move |conn| {
        idempotency::complete(conn, keyed.request(), &claim_id, &stored)
    })
    .await;
    match recorded {
        Ok(true) => {}
        Ok(false) => tracing::warn!("idempotency claim was taken over before the response"),
        // The client gets its answer; a retry after the lease is told the answer was lost
        // (if the handler wrote) or runs again (if it did not).
        Err(e) => tracing::warn!(error = %e, "idempotent response not recorded"),
    }
    Ok(ServiceResponse::new(
        http_req,
        head.set_body(BoxBody::new(bytes)),
    ))
}

async fn release(state: &AppState, keyed: Keyed, claim_id: String) {
    let released = db::write(&state.store, RequestClaim::none(), move |conn| {
        idempotency::release(conn, keyed.request(), &claim_id, Utc::now())
    })
    .await;
    // Not fatal: the claim lapses with its lease.
    if let Err(e) = released {
        tracing::warn!(error = %e, "idempotency key not released");
    }
}

/// A recorded response, sent again.
fn replay(stored: StoredResponse) -> HttpResponse {
    let status = StatusCode::from_u16(stored.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut res = HttpResponse::build(status);
    res.insert_header((
        HeaderName::from_static(REPLAYED),
        HeaderValue::from_static("true"),
    ));
    if let Some(content_type) = stored
        .content_type
        .and_then(|value| HeaderValue::from_str(&value).ok())
    {
        res.insert_header((CONTENT_TYPE, content_type));
    }
    res.body(stored.body)
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::http::header::HeaderValue;

    fn with_key(values: &[&[u8]]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for value in values {
            headers.append(
                HeaderName::from_static(HEADER),
                HeaderValue::from_bytes(value).unwrap(),
            );
        }
        headers
    }

    #[test]
    fn keys_are_one_to_255_printable_ascii_characters_sent_once() {
        assert_eq!(presented_key(&with_key(&[])), Ok(None));
        assert_eq!(
            presented_key(&with_key(&[b"copy-1 a~"])),
            Ok(Some("copy-1 a~".to_owned()))
        );
        assert!(presented_key(&with_key(&[&[b'k'; 255]])).unwrap().is_some());
        assert!(presented_key(&with_key(&[&[b'k'; 256]])).is_err());
        assert!(presented_key(&with_key(&[b""])).is_err());
        assert!(presented_key(&with_key(&["clé".as_bytes()])).is_err());
        assert!(presented_key(&with_key(&[b"a\tb"])).is_err());
        assert!(presented_key(&with_key(&[b"a", b"b"])).is_err());
    }

    #[test]
    fn the_fingerprint_tells_every_part_apart() {
        let base = fingerprint(&Method::POST, "/v2/x", "a=1", b"{}");
        assert_eq!(base, fingerprint(&Method::POST, "/v2/x", "a=1", b"{}"));
        assert_ne!(base, fingerprint(&Method::PUT, "/v2/x", "a=1", b"{}"));
        assert_ne!(base, fingerprint(&Method::POST, "/v2/y", "a=1", b"{}"));
        assert_ne!(base, fingerprint(&Method::POST, "/v2/x", "a=2", b"{}"));
        assert_ne!(base, fingerprint(&Method::POST, "/v2/x", "a=1", b"{ }"));
        assert_ne!(
            fingerprint(&Method::POST, "/v2/x", "a", b""),
            fingerprint(&Method::POST, "/v2/xa", "", b"")
        );
    }
}
