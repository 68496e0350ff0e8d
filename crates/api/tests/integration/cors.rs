//! Browsers: preflights are answered, the SBG token header is allowed, and the headers the SDK
//! and frontends read are exposed.

use actix_web::test;
use ferry_api::{ApiConfig, AppState};
use ferry_testkit::TestDb;

#[actix_web::test]
async fn a_preflight_from_an_allowed_origin_is_answered() {
    let db = TestDb::sqlite();
    let mut config = ApiConfig::new("http://ferry.test");
    config.cors_origins = vec!["http://app.example".to_owned()];
    let app = test::init_service(ferry_api::app(AppState::new(db.store().clone(), config))).await;

    let preflight = test::TestRequest::default()
        .method(actix_web::http::Method::OPTIONS)
        .uri("/v2/action/files/copy")
        .insert_header(("Origin", "http://app.example"))
        .insert_header(("Access-Control-Request-Method", "POST"))
        .insert_header((
            "Access-Control-Request-Headers",
            "x-sbg-auth-token, content-type",
        ))
        .to_request();
    let response = test::call_service(&app, preflight).await;
    assert!(response.status().is_success(), "{}", response.status());
    let headers = response.headers();
    assert_eq!(
        headers.get("access-control-allow-origin").unwrap(),
        "http://app.example"
    );
    let allowed = headers
        .get("access-control-allow-headers")
        .unwrap()
        .to_str()
        .unwrap()
        .to_lowercase();
    assert!(allowed.contains("x-sbg-auth-token"), "{allowed}");

    let simple = test::TestRequest::get()
        .uri("/healthz")
        .insert_header(("Origin", "http://app.example"))
        .to_request();
    let response = test::call_service(&app, simple).await;
    let exposed = response
        .headers()
        .get("access-control-expose-headers")
        .unwrap()
        .to_str()
        .unwrap()
        .to_lowercase();
    for header in [
        "x-total-matching-query",
        "x-ratelimit-remaining",
        "x-request-id",
    ] {
        assert!(exposed.contains(header), "{header} not exposed: {exposed}");
    }

    let other = test::TestRequest::get()
        .uri("/healthz")
        .insert_header(("Origin", "http://evil.example"))
        .to_request();
    // actix-cors refuses a request from an origin it does not allow.
    match test::try_call_service(&app, other).await {
        Ok(response) => assert!(
            !response
                .headers()
                .contains_key("access-control-allow-origin")
        ),
        Err(e) => assert_eq!(e.as_response_error().status_code(), 400),
    }
}

#[actix_web::test]
async fn a_refused_preflight_is_an_error_in_the_paths_dialect() {
    let db = TestDb::sqlite();
    let mut config = ApiConfig::new("http://ferry.test");
    config.cors_origins = vec!["http://app.example".to_owned()];
    let app = test::init_service(ferry_api::app(AppState::new(db.store().clone(), config))).await;
    for (path, sbg) in [("/v2/user", true), ("/system/whoami", false)] {
        let preflight = test::TestRequest::default()
            .method(actix_web::http::Method::OPTIONS)
            .uri(path)
            .insert_header(("Origin", "http://evil.example"))
            .insert_header(("Access-Control-Request-Method", "POST"))
            .to_request();
        let response = test::call_service(&app, preflight).await;
        let status = response.status();
        assert!(status.is_client_error(), "{path}: {status}");
        let body: serde_json::Value = test::read_body_json(response).await;
        if sbg {
            assert_eq!(body["status"], status.as_u16(), "{body}");
            assert_eq!(body["code"], 90000, "{body}");
            assert!(
                body["message"].as_str().unwrap().contains("Origin"),
                "{body}"
            );
        } else {
            assert_eq!(body["error"]["type"], "InvalidInput", "{body}");
            assert!(
                body["error"]["message"]
                    .as_str()
                    .unwrap()
                    .contains("Origin"),
                "{body}"
            );
        }
    }
}
