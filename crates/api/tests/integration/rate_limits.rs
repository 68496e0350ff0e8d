//! Rate limits per token in both dialects: the 429s and their headers, a batch or a job
//! counting one request, each token and each dialect counting apart, and a new window
//! admitting again.

use std::time::{Duration, Instant};

use actix_web::http::Method;
use ferry_api::{ApiConfig, AppState, RateLimit, share_counts};
use ferry_store::schema::placements;
use ferry_testkit::TestDb;
use serde_json::json;

use crate::support::{Ctx, PUBLIC_URL, Reply, assert_sbg_error, send_to};
use diesel::prelude::*;
use ferry_testkit::backends;

/// A window long enough that no test run crosses its end.
const LONG_WINDOW: u32 = 365 * 24 * 3600;

fn limited(db: TestDb, sbg: RateLimit, dx: RateLimit) -> Ctx {
    let mut config = ApiConfig::new(PUBLIC_URL);
    config.sbg_rate_limit = sbg;
    config.dx_rate_limit = dx;
    Ctx::with_config(db, config)
}

fn per_long_window(requests: u32) -> RateLimit {
    RateLimit {
        requests,
        window_seconds: LONG_WINDOW,
    }
}

#[track_caller]
fn header(reply: &Reply, name: &str) -> i64 {
    reply
        .headers
        .get(name)
        .unwrap_or_else(|| panic!("no {name} header"))
        .to_str()
        .unwrap()
        .parse()
        .unwrap()
}

backends!(#[actix_web::test] async sbg_refuses_the_request_over_the_limit_with_code_1000_and_its_headers);
async fn sbg_refuses_the_request_over_the_limit_with_code_1000_and_its_headers(db: TestDb) {
    let ctx = limited(db, per_long_window(3), per_long_window(3));
    let (_, alice) = ctx.user("alice");
    let (_, bob) = ctx.user("bob");
    for left in [2, 1, 0] {
        let reply = ctx.get("/v2/user", &alice).await;
        assert_eq!(reply.status, 200, "{}", reply.json);
        assert_eq!(header(&reply, "x-ratelimit-limit"), 3);
        assert_eq!(header(&reply, "x-ratelimit-remaining"), left);
    }
    let refused = ctx.get("/v2/user", &alice).await;
    assert_sbg_error(&refused, 429, 1000);
    assert_eq!(
        refused.json["message"],
        "Rate limit exceeded! Check response headers."
    );
    assert_eq!(header(&refused, "x-ratelimit-remaining"), 0);
    let reset = header(&refused, "x-ratelimit-reset");
    let retry_after = header(&refused, "retry-after");
    let now = chrono::Utc::now().timestamp();
    assert!(reset > now, "reset {reset} is not ahead of {now}");
    assert!(
        (1..=i64::from(LONG_WINDOW)).contains(&retry_after),
        "Retry-After {retry_after}"
    );
    assert!((reset - now - retry_after).abs() <= 1);

    // GET /rate_limit reports without counting; another token has its own count.
    let report = ctx.get("/v2/rate_limit", &alice).await;
    assert_eq!(report.status, 200);
    assert_eq!(report.json["rate"]["remaining"], 0);
    assert_eq!(report.json["rate"]["limit"], 3);
    assert_eq!(report.json["rate"]["reset"], reset);
    let other = ctx.get("/v2/user", &bob).await;
    assert_eq!(other.status, 200);
    assert_eq!(header(&other, "x-ratelimit-remaining"), 2);
    // Without a token the answer is the 401, not a 429.
    let anonymous = ctx.send(Method::GET, "/v2/user", None, None).await;
    assert_sbg_error(&anonymous, 401, 90001);
    assert_eq!(header(&anonymous, "x-ratelimit-remaining"), 3);
}

backends!(#[actix_web::test] async a_batch_copy_or_an_async_job_counts_as_one_request_and_a_refused_one_writes_nothing);
async fn a_batch_copy_or_an_async_job_counts_as_one_request_and_a_refused_one_writes_nothing(
    db: TestDb,
) {
    let ctx = limited(db, per_long_window(2), per_long_window(2));
    let (alice, token) = ctx.user("alice");
    let source = ferry_testkit::project(ctx.db.store(), &alice, "Source");
    let dest = ferry_testkit::project(ctx.db.store(), &alice, "Dest");
    let files: Vec<String> = (0..5)
        .map(|i| ctx.seed_file(&alice, &source, "/", &format!("f{i}.txt"), b"x"))
        .collect();
    let batch = json!({"project": dest.sbg_id.as_str(), "file_ids": files});
    let copied = ctx
        .post("/v2/action/files/copy", &token, batch.clone())
        .await;
    assert_eq!(copied.status, 200, "{}", copied.json);
    assert_eq!(header(&copied, "x-ratelimit-remaining"), 1);

    let items: Vec<_> = files
        .iter()
        .map(|id| json!({"file": id, "project": dest.sbg_id.as_str()}))
        .collect();
    let job = ctx
        .post("/v2/async/files/copy", &token, json!({ "items": items }))
        .await;
    assert_eq!(job.status, 200, "{}", job.json);
    assert_eq!(header(&job, "x-ratelimit-remaining"), 0);

    let placed = |ctx: &Ctx| -> i64 {
        placements::table
            .filter(placements::project_id.eq(dest.id.get()))
            .count()
            .get_result(&mut ctx.db.store().conn().unwrap())
            .unwrap()
    };
    let before = placed(&ctx);
    let refused = ctx.post("/v2/action/files/copy", &token, batch).await;
    assert_sbg_error(&refused, 429, 1000);
    assert_eq!(placed(&ctx), before);
}

backends!(#[actix_web::test] async dx_refuses_over_its_own_limit_with_rate_limit_conditional_and_retry_after);
async fn dx_refuses_over_its_own_limit_with_rate_limit_conditional_and_retry_after(db: TestDb) {
    let ctx = limited(db, per_long_window(5), per_long_window(2));
    let (_, token) = ctx.user("alice");
    for _ in 0..2 {
        let reply = ctx.post("/system/whoami", &token, json!({})).await;
        assert_eq!(reply.status, 200, "{}", reply.json);
    }
    let refused = ctx.post("/system/whoami", &token, json!({})).await;
    assert_eq!(refused.status, 429);
    assert_eq!(refused.json["error"]["type"], "RateLimitConditional");
    assert!(refused.json["error"]["message"].is_string());
    let retry_after = header(&refused, "retry-after");
    assert!((1..=i64::from(LONG_WINDOW)).contains(&retry_after));
    // The SBG dialect counts apart.
    let sbg = ctx.get("/v2/user", &token).await;
    assert_eq!(sbg.status, 200);
    assert_eq!(header(&sbg, "x-ratelimit-remaining"), 4);
}

/// Sends `request` until `wanted` says yes, within `deadline`; the last reply.
async fn poll<F, Fut>(deadline: Duration, request: F, wanted: impl Fn(&Reply) -> bool) -> Reply
where
    F: Fn() -> Fut,
    Fut: Future<Output = Reply>,
{
    let until = Instant::now() + deadline;
    loop {
        let reply = request().await;
        if wanted(&reply) || Instant::now() > until {
            return reply;
        }
        actix_web::rt::time::sleep(Duration::from_millis(50)).await;
    }
}

backends!(#[actix_web::test] async a_new_window_admits_again_in_both_dialects);
async fn a_new_window_admits_again_in_both_dialects(db: TestDb) {
    let one_per_second = RateLimit {
        requests: 1,
        window_seconds: 1,
    };
    let ctx = limited(db, one_per_second, one_per_second);
    let (_, token) = ctx.user("alice");
    let sbg = || ctx.get("/v2/user", &token);
    let dx = || ctx.post("/system/whoami", &token, json!({}));
    for (dialect, refused) in [
        (
            "sbg",
            poll(Duration::from_secs(5), sbg, |r| r.status == 429).await,
        ),
        (
            "dx",
            poll(Duration::from_secs(5), dx, |r| r.status == 429).await,
        ),
    ] {
        assert_eq!(refused.status, 429, "{dialect}: never refused");
        assert_eq!(header(&refused, "retry-after"), 1, "{dialect}");
    }
    let admitted = poll(Duration::from_secs(5), sbg, |r| r.status == 200).await;
    assert_eq!(admitted.status, 200, "{}", admitted.json);
    let admitted = poll(Duration::from_secs(5), dx, |r| r.status == 200).await;
    assert_eq!(admitted.status, 200, "{}", admitted.json);
}

backends!(#[actix_web::test] async processes_sharing_a_database_share_the_limit_once_they_exchange_counts);
async fn processes_sharing_a_database_share_the_limit_once_they_exchange_counts(db: TestDb) {
    let ctx = limited(db, per_long_window(3), per_long_window(3));
    let (_, token) = ctx.user("alice");
    // A second process on the same database.
    let mut config = ApiConfig::new(PUBLIC_URL);
    config.sbg_rate_limit = per_long_window(3);
    let other = AppState::new(ctx.db.store().clone(), config);
    let other_get = || send_to(&other, Method::GET, "/v2/user", Some(&token), None);
    for _ in 0..2 {
        assert_eq!(ctx.get("/v2/user", &token).await.status, 200);
    }
    share_counts(&ctx.state).await;
    let third = other_get().await;
    assert_eq!(third.status, 200);
    assert_eq!(
        header(&third, "x-ratelimit-remaining"),
        2,
        "not exchanged yet"
    );
    share_counts(&other).await;
    let refused = other_get().await;
    assert_sbg_error(&refused, 429, 1000);
    share_counts(&ctx.state).await;
    assert_sbg_error(&ctx.get("/v2/user", &token).await, 429, 1000);
}
