//! The server: health, auth on the SBG dialect, JSON errors, request ids, logs and shutdown.

use crate::support::{Server, client, create_user};
use ferry_testkit::TestDb;
use ferry_testkit::backends;
use serde_json::Value;
use std::time::{Duration, Instant};

backends!(health_and_readiness_answer_json);
fn health_and_readiness_answer_json(db: TestDb) {
    let server = Server::start(db.url(), db.data_dir(), &[], &[]);
    let http = client();
    let health: Value = http
        .get(server.url("/healthz"))
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(health["status"], "ok");
    let ready = http.get(server.url("/readyz")).send().unwrap();
    assert_eq!(ready.status(), 200);
    let ready: Value = ready.json().unwrap();
    assert_eq!(ready["status"], "ready");
}

backends!(tokens_authenticate_and_bad_ones_get_90001);
fn tokens_authenticate_and_bad_ones_get_90001(db: TestDb) {
    let token = create_user(db.url(), db.data_dir(), "carol");
    let server = Server::start(db.url(), db.data_dir(), &[], &[]);
    let http = client();
    let me = http
        .get(server.url("/v2/user"))
        .header("X-SBG-Auth-Token", &token)
        .send()
        .unwrap();
    assert_eq!(me.status(), 200);
    assert!(me.headers().contains_key("x-request-id"));
    let me: Value = me.json().unwrap();
    assert_eq!(me["username"], "carol");
    assert_eq!(me["href"], server.url("/v2/users/carol"));

    let bearer = http
        .get(server.url("/v2/user"))
        .bearer_auth(&token)
        .send()
        .unwrap();
    assert_eq!(bearer.status(), 200);

    for bad in [None, Some("0123456789abcdef0123456789abcdef"), Some("")] {
        let mut request = http.get(server.url("/v2/user"));
        if let Some(bad) = bad {
            request = request.header("X-SBG-Auth-Token", bad);
        }
        let response = request.send().unwrap();
        assert_eq!(response.status(), 401);
        let body: Value = response.json().unwrap();
        assert_eq!(body["code"], 90001);
        assert_eq!(body["status"], 401);
    }
}

#[test]
fn unknown_routes_answer_json_in_their_dialect() {
    let db = TestDb::sqlite();
    let server = Server::start(db.url(), db.data_dir(), &[], &[]);
    let http = client();
    let sbg = http.get(server.url("/v2/no/such/route")).send().unwrap();
    assert_eq!(sbg.status(), 404);
    assert!(sbg.headers().contains_key("x-request-id"));
    let body: Value = sbg.json().unwrap();
    assert_eq!(body["status"], 404);
    assert!(body["code"].is_u64());
    let token = create_user(db.url(), db.data_dir(), "erin");
    let dx = http
        .post(server.url("/None/describe"))
        .bearer_auth(&token)
        .body("{}")
        .send()
        .unwrap();
    assert_eq!(dx.status(), 404);
    let body: Value = dx.json().unwrap();
    assert_eq!(body["error"]["type"], "ResourceNotFound");
}

#[test]
fn json_logs_carry_the_request_fields_and_never_the_token() {
    let db = TestDb::sqlite();
    let token = create_user(db.url(), db.data_dir(), "dave");
    let mut server = Server::start(
        db.url(),
        db.data_dir(),
        &[],
        &[("FERRY_LOG_FORMAT", "json")],
    );
    let response = client()
        .get(server.url("/v2/user?secret=1"))
        .header("X-SBG-Auth-Token", &token)
        .send()
        .unwrap();
    let request_id = response.headers()["x-request-id"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(server.terminate().success());
    let log = server.take_stderr();
    assert!(!log.contains(&token), "the token leaked into the log");
    let line: Value = log
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .find(|v| v["span"]["request_id"] == request_id.as_str())
        .unwrap_or_else(|| panic!("no log line for request {request_id} in {log}"));
    let span = &line["span"];
    assert_eq!(span["method"], "GET");
    assert_eq!(span["path"], "/v2/user");
    assert_eq!(span["user"], "dave");
    assert_eq!(span["status"], 200);
    assert!(span["latency_ms"].is_string() || span["latency_ms"].is_number());
}

#[test]
fn sigterm_stops_the_server_cleanly() {
    let db = TestDb::sqlite();
    let mut server = Server::start(db.url(), db.data_dir(), &[], &[]);
    let status = server.terminate();
    assert!(status.success(), "exit status {status}");
}

backends!(demo_prints_a_curl_line_that_works_and_seeds_once);
fn demo_prints_a_curl_line_that_works_and_seeds_once(db: TestDb) {
    let mut first = Server::start(db.url(), db.data_dir(), &["--demo"], &[]);
    assert!(first.terminate().success());
    let out = first.take_stdout();
    let curl = out
        .lines()
        .find_map(|l| l.strip_prefix("Try: "))
        .unwrap_or_else(|| panic!("no curl line in {out}"))
        .to_owned();
    drop(first);

    let mut second = Server::start(db.url(), db.data_dir(), &["--demo"], &[]);
    let second_out = {
        // The curl line printed by this start must work against this server.
        let pid_out = second.child.stdout.take().expect("stdout");
        let mut reader = std::io::BufReader::new(pid_out);
        let mut line = String::new();
        let mut curl_now = None;
        while std::io::BufRead::read_line(&mut reader, &mut line).unwrap() > 0 {
            if let Some(c) = line.strip_prefix("Try: ") {
                curl_now = Some(c.trim().to_owned());
                break;
            }
            line.clear();
        }
        curl_now.expect("a curl line on the second start")
    };
    assert_ne!(curl, second_out, "each start prints a fresh token");
    let output = std::process::Command::new("bash")
        .args(["-c", &format!("{second_out} --fail")])
        .output()
        .expect("bash runs curl");
    assert!(output.status.success(), "curl failed: {output:?}");
    let body: Value = serde_json::from_slice(&output.stdout).expect("JSON from curl");
    assert_eq!(body["username"], "demo");
    assert!(second.terminate().success());
}

backends!(a_download_link_works_on_another_process_after_a_restart);
fn a_download_link_works_on_another_process_after_a_restart(db: TestDb) {
    let token = create_user(db.url(), db.data_dir(), "fay");
    let file_id = {
        use ferry_domain::ids::Username;
        use ferry_domain::name::FileName;
        use ferry_store::{files, projects, users};
        let store = db.store();
        let mut conn = store.conn().unwrap();
        let fay = users::find_by_username(&mut conn, &Username::parse("fay").unwrap())
            .unwrap()
            .unwrap();
        let project = ferry_testkit::project(store, &fay, "Links");
        let root = projects::root_folder(&mut conn, project.id).unwrap();
        let content = store.content().put_bytes(b"linked bytes\n").unwrap();
        let name = FileName::parse("l.txt").unwrap();
        let (_, placement) =
            files::create_closed_file(&mut conn, fay.id, project.id, &root, &name, &content)
                .unwrap();
        placement.sbg_id.to_string()
    };
    let mut first = Server::start(db.url(), db.data_dir(), &[], &[]);
    let info: Value = client()
        .get(first.url(&format!("/v2/files/{file_id}/download_info")))
        .header("X-SBG-Auth-Token", &token)
        .send()
        .unwrap()
        .json()
        .unwrap();
    let link = info["url"].as_str().expect("a download url").to_owned();
    assert!(first.terminate().success());

    let second = Server::start(db.url(), db.data_dir(), &[], &[]);
    // The link names the first server's address; ask the second one for the same path.
    let path = link
        .split_once("/v2/")
        .map(|(_, p)| format!("/v2/{p}"))
        .unwrap();
    let bytes = client().get(second.url(&path)).send().unwrap();
    assert_eq!(bytes.status(), 200);
    assert_eq!(bytes.bytes().unwrap().as_ref(), b"linked bytes\n");
}

backends!(two_servers_on_one_database_share_each_tokens_rate_limit);
fn two_servers_on_one_database_share_each_tokens_rate_limit(db: TestDb) {
    let token = create_user(db.url(), db.data_dir(), "erin");
    let envs = [
        ("FERRY_SBG_RATE_LIMIT", "3"),
        // Long enough that no run crosses the window's end.
        ("FERRY_SBG_RATE_WINDOW_SECONDS", "31536000"),
        ("FERRY_JOB_WORKERS", "0"),
    ];
    let first = Server::start(db.url(), db.data_dir(), &[], &envs);
    let second = Server::start(db.url(), db.data_dir(), &[], &envs);
    let http = client();
    let get = |server: &Server, path: &str| {
        http.get(server.url(path))
            .header("X-SBG-Auth-Token", &token)
            .send()
            .unwrap()
    };
    assert_eq!(get(&second, "/v2/user").status(), 200);
    for _ in 0..2 {
        assert_eq!(get(&first, "/v2/user").status(), 200);
    }
    // Each server adds its counts to the database about once a second and reads the totals.
    for server in [&first, &second] {
        let deadline = Instant::now() + Duration::from_secs(10);
        let remaining = loop {
            let report: Value = get(server, "/v2/rate_limit").json().unwrap();
            let remaining = report["rate"]["remaining"].as_i64().unwrap();
            if remaining == 0 || Instant::now() > deadline {
                break remaining;
            }
            std::thread::sleep(Duration::from_millis(100));
        };
        assert_eq!(
            remaining, 0,
            "{} never learned the other's count",
            server.base
        );
        let refused = get(server, "/v2/user");
        assert_eq!(refused.status(), 429);
        assert!(refused.headers().contains_key("retry-after"));
    }
}
