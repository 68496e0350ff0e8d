//! Driving the application in-process: a context per backend and a request helper that returns
//! status, headers and the JSON body.

use actix_web::http::{Method, StatusCode, header::HeaderMap};
use actix_web::test;
use ferry_api::{ApiConfig, AppState};
use ferry_domain::model::{Project, User};
use ferry_store::tokens;
use ferry_testkit::{FileBuilder, TestDb};
use serde_json::Value;

pub const PUBLIC_URL: &str = "http://ferry.test";

/// One backend's database and the application state over it.
pub struct Ctx {
    pub db: TestDb,
    pub state: AppState,
}

/// A response, read whole.
#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub json: Value,
}

impl Reply {
    /// The `X-Total-Matching-Query` header as a number.
    pub fn total(&self) -> i64 {
        self.headers
            .get("x-total-matching-query")
            .expect("X-Total-Matching-Query on a list")
            .to_str()
            .unwrap()
            .parse()
            .unwrap()
    }
}

impl From<TestDb> for Ctx {
    fn from(db: TestDb) -> Ctx {
        Ctx::new(db)
    }
}

impl Ctx {
    pub fn new(db: TestDb) -> Ctx {
        Ctx::with_config(db, ApiConfig::new(PUBLIC_URL))
    }

    pub fn with_config(db: TestDb, config: ApiConfig) -> Ctx {
        let state = AppState::new(db.store().clone(), config);
        Ctx { db, state }
    }

    /// A new user and a token for it.
    pub fn user(&self, username: &str) -> (User, String) {
        let user = ferry_testkit::user(self.db.store(), username);
        let mut conn = self.db.store().conn().unwrap();
        let (_, secret) = tokens::create(&mut conn, user.id, Some("test"), None).unwrap();
        (user, secret)
    }

    /// A closed file holding `bytes` in `folder` of `project`; returns its SBG id.
    pub fn seed_file(
        &self,
        user: &User,
        project: &Project,
        folder: &str,
        name: &str,
        bytes: &[u8],
    ) -> String {
        let (_, placement) = FileBuilder::new(project, user, name)
            .in_folder(folder)
            .content(bytes)
            .create(self.db.store());
        placement.sbg_id.to_string()
    }

    /// The folder at `path`, created if need be; returns its SBG id.
    pub fn folder_id(&self, project: &Project, path: &str) -> String {
        ferry_testkit::folder(self.db.store(), project, path)
            .sbg_id
            .to_string()
    }

    /// Sends one request with an optional SBG token and JSON body.
    pub async fn send(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> Reply {
        send_to(&self.state, method, path, token, body).await
    }

    /// Sends raw body bytes as `application/json`, authenticated with `Authorization: Bearer`
    /// (which both dialects read): for bodies no `Value` can hold.
    pub async fn send_bytes(
        &self,
        method: Method,
        path: &str,
        token: &str,
        body: Vec<u8>,
    ) -> Reply {
        let request = test::TestRequest::default()
            .method(method)
            .uri(path)
            .insert_header(("Content-Type", "application/json"))
            .insert_header(("Authorization", format!("Bearer {token}")))
            .set_payload(body);
        reply(&self.state, request).await
    }

    pub async fn get(&self, path: &str, token: &str) -> Reply {
        self.send(Method::GET, path, Some(token), None).await
    }

    pub async fn post(&self, path: &str, token: &str, body: Value) -> Reply {
        self.send(Method::POST, path, Some(token), Some(body)).await
    }

    pub async fn patch(&self, path: &str, token: &str, body: Value) -> Reply {
        self.send(Method::PATCH, path, Some(token), Some(body))
            .await
    }

    pub async fn put(&self, path: &str, token: &str, body: Value) -> Reply {
        self.send(Method::PUT, path, Some(token), Some(body)).await
    }

    pub async fn delete(&self, path: &str, token: &str) -> Reply {
        self.send(Method::DELETE, path, Some(token), None).await
    }
}

/// Sends one request to the application over `state`, with an optional SBG token and JSON
/// body.
pub async fn send_to(
    state: &AppState,
    method: Method,
    path: &str,
    token: Option<&str>,
    body: Option<Value>,
) -> Reply {
    let mut request = test::TestRequest::default().method(method).uri(path);
    if let Some(token) = token {
        request = request.insert_header(("X-SBG-Auth-Token", token));
    }
    if let Some(body) = body {
        request = request.set_json(body);
    }
    reply(state, request).await
}

/// Runs one request through a new app over `state`; the body read whole as JSON.
async fn reply(state: &AppState, request: test::TestRequest) -> Reply {
    let app = test::init_service(ferry_api::app(state.clone())).await;
    let response = test::call_service(&app, request.to_request()).await;
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = test::read_body(response).await;
    let json = if bytes.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&bytes)
            .unwrap_or_else(|e| panic!("non-JSON body ({e}): {}", String::from_utf8_lossy(&bytes)))
    };
    Reply {
        status,
        headers,
        json,
    }
}

/// Asserts a DNAnexus error: the status, the type, and a message.
#[track_caller]
pub fn assert_dx_error(reply: &Reply, status: u16, kind: &str) {
    assert_eq!(reply.status.as_u16(), status, "body: {}", reply.json);
    assert_eq!(reply.json["error"]["type"], kind, "body: {}", reply.json);
    assert!(
        reply.json["error"]["message"].is_string(),
        "body: {}",
        reply.json
    );
}

/// Asserts an SBG error: HTTP status, numeric code, and the four-field shape.
#[track_caller]
pub fn assert_sbg_error(reply: &Reply, status: u16, code: u64) {
    assert_eq!(reply.status.as_u16(), status, "body: {}", reply.json);
    assert_eq!(reply.json["status"], status, "body: {}", reply.json);
    assert_eq!(reply.json["code"], code, "body: {}", reply.json);
    assert!(reply.json["message"].is_string(), "body: {}", reply.json);
    assert!(reply.json["more_info"].is_string(), "body: {}", reply.json);
}
