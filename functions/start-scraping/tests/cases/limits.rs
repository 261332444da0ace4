//! What a user may start: onboarding, the trial, running searches, the period's credits, and
//! idempotent starts. Each refusal changes nothing.

use std::future::IntoFuture;

use serde_json::json;
use testkit::{TestApp, TestResponse};
use uuid::Uuid;

async fn app() -> TestApp {
    TestApp::builder().queue().build().await
}

/// A TikTok keyword search for `word` in `campaign`.
async fn start(app: &TestApp, user: &str, campaign: Uuid, word: &str) -> TestResponse {
    start_with_key(app, user, campaign, None, word).await
}

async fn start_with_key(
    app: &TestApp,
    user: &str,
    campaign: Uuid,
    key: Option<&str>,
    word: &str,
) -> TestResponse {
    let call = app.start_scraping(
        user,
        "tiktok",
        json!({"campaignId": campaign, "keywords": [word]}),
    );
    match key {
        Some(key) => call.idempotency_key(key).await,
        None => call.await,
    }
}

async fn jobs_and_messages(app: &TestApp) -> (i64, i64) {
    (app.db.count("scraping_jobs").await, app.queue_depth().await)
}

#[tokio::test]
async fn a_user_who_has_not_completed_onboarding_gets_403_and_nothing_is_written() {
    let app = app().await;
    let campaign = app.new_campaign("user_a", "keyword").await;
    let res = start(&app, "user_a", campaign, "nike").await;
    assert_eq!((res.status, res.error_code()), (403, "onboarding_required"));
    app.db
        .batch_execute("INSERT INTO user_profiles (user_id, onboarding_step) VALUES ('user_a', 'intent_captured')")
        .await;
    assert_eq!(start(&app, "user_a", campaign, "nike").await.status, 403);
    assert_eq!(jobs_and_messages(&app).await, (0, 0));
}

#[tokio::test]
async fn an_expired_trial_gets_402_before_the_sweeper_marks_it_and_reads_keep_working() {
    let app = app().await;
    app.db.onboard(&["user_a"]).await;
    let campaign = app.new_campaign("user_a", "keyword").await;
    let res = start(&app, "user_a", campaign, "nike").await;
    assert_eq!(res.status, 202);
    let job = res.json["jobId"].as_str().unwrap();
    // The trial ends; the stored status still says active.
    app.db
        .batch_execute("UPDATE user_profiles SET trial_start_date = now() - interval '8 days', trial_end_date = now() - interval '1 minute'")
        .await;
    let res = start(&app, "user_a", campaign, "nike").await;
    assert_eq!((res.status, res.error_code()), (402, "trial_expired"));
    assert_eq!(app.db.count("scraping_jobs").await, 1);

    assert_eq!(app.sweep().await.expired_trials, 1);
    let row = app
        .db
        .client()
        .await
        .query_one(
            "SELECT trial_status, subscription_status FROM user_profiles",
            &[],
        )
        .await
        .unwrap();
    assert_eq!(
        (row.get::<_, String>(0), row.get::<_, String>(1)),
        ("expired".into(), "canceled".into())
    );

    // Reads keep working.
    assert_eq!(app.job_status("user_a", job).await.status, 200);
    assert_eq!(app.export_creators("user_a", job).await.status, 200);
    assert_eq!(app.get_campaign("user_a", campaign).await.status, 200);
    assert_eq!(app.list_campaigns("user_a").await.status, 200);
}

#[tokio::test]
async fn the_running_searches_limit_answers_429_with_retry_after() {
    let app = app().await;
    app.db.onboard(&["user_a"]).await;
    let campaign = app.new_campaign("user_a", "keyword").await;
    for _ in 0..3 {
        assert_eq!(start(&app, "user_a", campaign, "nike").await.status, 202);
    }
    let res = start(&app, "user_a", campaign, "nike").await;
    assert_eq!(
        (res.status, res.error_code()),
        (429, "too_many_running_searches")
    );
    assert_eq!(res.header("retry-after"), Some("30"));
    assert_eq!(jobs_and_messages(&app).await, (3, 3));
    // A finished search frees its place.
    app.db
        .batch_execute("UPDATE scraping_jobs SET status = 'completed', completed_at = now() WHERE id = (SELECT id FROM scraping_jobs LIMIT 1)")
        .await;
    assert_eq!(start(&app, "user_a", campaign, "nike").await.status, 202);
}

#[tokio::test]
async fn simultaneous_starts_beyond_the_limit_accept_exactly_the_limit() {
    let app = app().await;
    app.db.onboard(&["user_a"]).await;
    let campaign = app.new_campaign("user_a", "keyword").await;
    let starts = (0..4).map(|_| start(&app, "user_a", campaign, "nike"));
    let mut statuses: Vec<u16> = futures::future::join_all(starts)
        .await
        .iter()
        .map(|r| r.status)
        .collect();
    statuses.sort_unstable();
    assert_eq!(statuses, [202, 202, 202, 429]);
    assert_eq!(app.db.count("scraping_jobs").await, 3);
}

#[tokio::test]
async fn a_spent_period_budget_answers_402_credit_limit_reached() {
    let app = app().await;
    app.db.onboard(&["user_a"]).await;
    let campaign = app.new_campaign("user_a", "keyword").await;
    app.db
        .batch_execute("INSERT INTO credit_ledger (user_id, period_start, credits) VALUES ('user_a', billing_period_start('user_a'), 2000)")
        .await;
    let res = start(&app, "user_a", campaign, "nike").await;
    assert_eq!(
        (res.status, res.error_code()),
        (402, "credit_limit_reached")
    );
    assert_eq!(app.db.count("scraping_jobs").await, 0);
    // A paid plan has its own budget and period.
    app.db
        .batch_execute("UPDATE user_profiles SET subscription_status = 'active', plan = 'starter'")
        .await;
    assert_eq!(start(&app, "user_a", campaign, "nike").await.status, 202);
}

#[tokio::test]
async fn the_same_key_and_body_get_the_first_answer_and_another_body_422() {
    let app = app().await;
    app.db.onboard(&["user_a"]).await;
    let campaign = app.new_campaign("user_a", "keyword").await;
    let first = start_with_key(&app, "user_a", campaign, Some("k-1"), "nike").await;
    assert_eq!(first.status, 202);
    let again = start_with_key(&app, "user_a", campaign, Some("k-1"), "nike").await;
    assert_eq!(again.status, 202);
    assert_eq!(again.json, first.json);
    assert_eq!(again.header("idempotent-replayed"), Some("true"));
    assert_eq!(jobs_and_messages(&app).await, (1, 1));

    let other = start_with_key(&app, "user_a", campaign, Some("k-1"), "adidas").await;
    assert_eq!(
        (other.status, other.error_code()),
        (422, "idempotency_key_reused")
    );
    // Another user's same key is theirs alone.
    app.db.onboard(&["user_b"]).await;
    let theirs = app.new_campaign("user_b", "keyword").await;
    let res = start_with_key(&app, "user_b", theirs, Some("k-1"), "nike").await;
    assert_eq!(res.status, 202);
    assert_eq!(app.db.count("scraping_jobs").await, 2);
    // A malformed key is refused.
    for bad in ["", "has space", &"k".repeat(256)] {
        let res = start_with_key(&app, "user_a", campaign, Some(bad), "nike").await;
        assert_eq!(
            (res.status, res.error_code()),
            (400, "invalid_idempotency_key"),
            "{bad:?}"
        );
    }
}

#[tokio::test]
async fn ten_simultaneous_identical_requests_create_one_job() {
    let app = app().await;
    app.db.onboard(&["user_a"]).await;
    let campaign = app.new_campaign("user_a", "keyword").await;
    let body = json!({"campaignId": campaign, "keywords": ["nike"]});
    let starts = (0..10).map(|_| {
        app.start_scraping("user_a", "tiktok", body.clone())
            .idempotency_key("same")
            .into_future()
    });
    let answers = futures::future::join_all(starts).await;
    assert!(answers.iter().all(|r| r.status == 202));
    assert!(answers.iter().all(|r| r.json == answers[0].json));
    assert_eq!(jobs_and_messages(&app).await, (1, 1));
}

#[tokio::test]
async fn a_retry_after_the_queue_failed_gets_the_same_search_not_a_second() {
    let app = app().await;
    app.db.onboard(&["user_a"]).await;
    let campaign = app.new_campaign("user_a", "keyword").await;
    app.set_queue_down(true);
    let first = start_with_key(&app, "user_a", campaign, Some("retry-me"), "nike").await;
    assert_eq!(first.status, 202);
    app.set_queue_down(false);
    let retry = start_with_key(&app, "user_a", campaign, Some("retry-me"), "nike").await;
    assert_eq!(retry.json, first.json);
    assert_eq!(app.db.count("scraping_jobs").await, 1);
}

#[tokio::test]
async fn a_campaign_created_twice_with_one_key_exists_once() {
    let app = app().await;
    let create = |name: &str| {
        app.create_campaign("user_a", json!({"name": name, "searchType": "keyword"}))
            .idempotency_key("c-1")
    };
    let first = create("Launch").await;
    let again = create("Launch").await;
    assert_eq!((first.status, again.status), (201, 201));
    assert_eq!(first.json, again.json);
    assert_eq!(create("Other").await.status, 422);
    assert_eq!(app.db.count("campaigns").await, 1);
}
