//! What a user may start: onboarding, the trial, running searches, the period's credits, and
//! idempotent starts. Each refusal changes nothing.

use std::time::Duration;

use db::settings::SettingsCache;
use lambda_http::{Body, Response};
use queue::SqsQueue;
use serde_json::{json, Value};
use testkit::{body_json, ApiRequest, TestDb, TestQueue};

struct App {
    db: TestDb,
    queue: TestQueue,
    state: start_scraping::State<SqsQueue>,
}

impl App {
    async fn new() -> Self {
        let db = TestDb::new().await;
        let queue = TestQueue::new(3).await;
        let state = start_scraping::State {
            pool: db.pool.clone(),
            queue: queue.queue(),
            settings: SettingsCache::new(Duration::ZERO),
        };
        Self { db, queue, state }
    }

    async fn campaign(&self, user: &str) -> String {
        let req = ApiRequest::new("POST", "/campaigns")
            .user(user)
            .json(json!({"name": "c", "searchType": "keyword"}));
        body_json(&create_campaign::handler(&self.db.pool, req.build()).await)["id"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    fn request(&self, user: &str, campaign: &str, key: Option<&str>, word: &str) -> ApiRequest {
        let req = ApiRequest::new("POST", "/scraping/{platform}")
            .user(user)
            .path_param("platform", "tiktok")
            .json(json!({"campaignId": campaign, "keywords": [word]}));
        match key {
            Some(k) => req.header("idempotency-key", k),
            None => req,
        }
    }

    async fn start(&self, user: &str, campaign: &str) -> Response<Body> {
        start_scraping::handler(
            &self.state,
            self.request(user, campaign, None, "nike").build(),
        )
        .await
    }

    async fn sql(&self, sql: &str) {
        self.db.client().await.batch_execute(sql).await.unwrap();
    }

    async fn jobs(&self) -> i64 {
        self.db.count("scraping_jobs").await
    }

    async fn messages(&self) -> i64 {
        self.queue.depth(&self.queue.url).await
    }
}

fn code(res: &Response<Body>) -> Value {
    body_json(res)["error"]["code"].clone()
}

#[tokio::test]
async fn a_user_who_has_not_completed_onboarding_gets_403_and_nothing_is_written() {
    let app = App::new().await;
    let campaign = app.campaign("user_a").await;
    let res = app.start("user_a", &campaign).await;
    assert_eq!(
        (res.status().as_u16(), code(&res)),
        (403, json!("onboarding_required"))
    );
    app.sql(
        "INSERT INTO user_profiles (user_id, onboarding_step) VALUES ('user_a', 'intent_captured')",
    )
    .await;
    let res = app.start("user_a", &campaign).await;
    assert_eq!(res.status(), 403);
    assert_eq!((app.jobs().await, app.messages().await), (0, 0));
}

#[tokio::test]
async fn an_expired_trial_gets_402_before_the_sweeper_marks_it_and_reads_keep_working() {
    let app = App::new().await;
    app.db.onboard(&["user_a"]).await;
    let campaign = app.campaign("user_a").await;
    assert_eq!(app.start("user_a", &campaign).await.status(), 202);
    let job: String = app
        .db
        .client()
        .await
        .query_one("SELECT id::text FROM scraping_jobs", &[])
        .await
        .unwrap()
        .get(0);
    // The trial ends; the stored status still says active.
    app.sql("UPDATE user_profiles SET trial_start_date = now() - interval '8 days', trial_end_date = now() - interval '1 minute'")
        .await;
    let res = app.start("user_a", &campaign).await;
    assert_eq!(
        (res.status().as_u16(), code(&res)),
        (402, json!("trial_expired"))
    );
    assert_eq!(app.jobs().await, 1);

    let sweeper = sweeper::State {
        pool: app.db.pool.clone(),
        queue: app.queue.queue(),
        settings: SettingsCache::new(Duration::ZERO),
        message_lifetime: Duration::ZERO,
    };
    assert_eq!(sweeper::sweep(&sweeper).await.unwrap().expired_trials, 1);
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
    let read = |route: &str, param: (&str, &str)| {
        ApiRequest::new("GET", route)
            .user("user_a")
            .path_param(param.0, param.1)
            .build()
    };
    assert_eq!(
        job_status::handler(&app.db.pool, read("/jobs/{jobId}", ("jobId", &job)))
            .await
            .status(),
        200
    );
    assert_eq!(
        export_creators::handler(
            &export::State {
                pool: app.db.pool.clone(),
                store: None
            },
            read("/jobs/{jobId}/creators.csv", ("jobId", &job))
        )
        .await
        .status(),
        200
    );
    assert_eq!(
        get_campaign::handler(
            &app.db.pool,
            read("/campaigns/{campaignId}", ("campaignId", &campaign))
        )
        .await
        .status(),
        200
    );
    let list = ApiRequest::new("GET", "/campaigns").user("user_a").build();
    assert_eq!(
        list_campaigns::handler(&app.db.pool, list).await.status(),
        200
    );
}

#[tokio::test]
async fn the_running_searches_limit_answers_429_with_retry_after() {
    let app = App::new().await;
    app.db.onboard(&["user_a"]).await;
    let campaign = app.campaign("user_a").await;
    for _ in 0..3 {
        assert_eq!(app.start("user_a", &campaign).await.status(), 202);
    }
    let res = app.start("user_a", &campaign).await;
    assert_eq!(res.status(), 429);
    assert_eq!(code(&res), "too_many_running_searches");
    assert_eq!(res.headers()["retry-after"], "30");
    assert_eq!((app.jobs().await, app.messages().await), (3, 3));
    // A finished search frees its place.
    app.sql("UPDATE scraping_jobs SET status = 'completed', completed_at = now() WHERE id = (SELECT id FROM scraping_jobs LIMIT 1)")
        .await;
    assert_eq!(app.start("user_a", &campaign).await.status(), 202);
}

#[tokio::test]
async fn simultaneous_starts_beyond_the_limit_accept_exactly_the_limit() {
    let app = App::new().await;
    app.db.onboard(&["user_a"]).await;
    let campaign = app.campaign("user_a").await;
    let starts = (0..4).map(|_| app.start("user_a", &campaign));
    let statuses: Vec<u16> = futures::future::join_all(starts)
        .await
        .iter()
        .map(|r| r.status().as_u16())
        .collect();
    assert_eq!(
        statuses.iter().filter(|s| **s == 202).count(),
        3,
        "{statuses:?}"
    );
    assert_eq!(
        statuses.iter().filter(|s| **s == 429).count(),
        1,
        "{statuses:?}"
    );
    assert_eq!(app.jobs().await, 3);
}

#[tokio::test]
async fn a_spent_period_budget_answers_402_credit_limit_reached() {
    let app = App::new().await;
    app.db.onboard(&["user_a"]).await;
    let campaign = app.campaign("user_a").await;
    app.sql("INSERT INTO credit_ledger (user_id, period_start, credits) VALUES ('user_a', billing_period_start('user_a'), 2000)")
        .await;
    let res = app.start("user_a", &campaign).await;
    assert_eq!(
        (res.status().as_u16(), code(&res)),
        (402, json!("credit_limit_reached"))
    );
    assert_eq!(app.jobs().await, 0);
    // A paid plan has its own budget and period.
    app.sql("UPDATE user_profiles SET subscription_status = 'active', plan = 'starter'")
        .await;
    assert_eq!(app.start("user_a", &campaign).await.status(), 202);
}

#[tokio::test]
async fn the_same_key_and_body_get_the_first_answer_and_another_body_422() {
    let app = App::new().await;
    app.db.onboard(&["user_a"]).await;
    let campaign = app.campaign("user_a").await;
    let first = start_scraping::handler(
        &app.state,
        app.request("user_a", &campaign, Some("k-1"), "nike")
            .build(),
    )
    .await;
    assert_eq!(first.status(), 202);
    let again = start_scraping::handler(
        &app.state,
        app.request("user_a", &campaign, Some("k-1"), "nike")
            .build(),
    )
    .await;
    assert_eq!(again.status(), 202);
    assert_eq!(body_json(&again), body_json(&first));
    assert_eq!(again.headers()["idempotent-replayed"], "true");
    assert_eq!((app.jobs().await, app.messages().await), (1, 1));

    let other = start_scraping::handler(
        &app.state,
        app.request("user_a", &campaign, Some("k-1"), "adidas")
            .build(),
    )
    .await;
    assert_eq!(
        (other.status().as_u16(), code(&other)),
        (422, json!("idempotency_key_reused"))
    );
    // Another user's same key is theirs alone.
    app.db.onboard(&["user_b"]).await;
    let theirs = app.campaign("user_b").await;
    let res = start_scraping::handler(
        &app.state,
        app.request("user_b", &theirs, Some("k-1"), "nike").build(),
    )
    .await;
    assert_eq!(res.status(), 202);
    assert_eq!(app.jobs().await, 2);
    // A malformed key is refused.
    for bad in ["", "has space", &"k".repeat(256)] {
        let req = app.request("user_a", &campaign, Some(bad), "nike");
        let res = start_scraping::handler(&app.state, req.build()).await;
        assert_eq!(
            (res.status().as_u16(), code(&res)),
            (400, json!("invalid_idempotency_key")),
            "{bad:?}"
        );
    }
}

#[tokio::test]
async fn ten_simultaneous_identical_requests_create_one_job() {
    let app = App::new().await;
    app.db.onboard(&["user_a"]).await;
    let campaign = app.campaign("user_a").await;
    let starts = (0..10).map(|_| {
        start_scraping::handler(
            &app.state,
            app.request("user_a", &campaign, Some("same"), "nike")
                .build(),
        )
    });
    let answers = futures::future::join_all(starts).await;
    let bodies: Vec<Value> = answers.iter().map(body_json).collect();
    assert!(answers.iter().all(|r| r.status() == 202));
    assert!(bodies.iter().all(|b| *b == bodies[0]));
    assert_eq!((app.jobs().await, app.messages().await), (1, 1));
}

#[tokio::test]
async fn a_retry_after_the_queue_failed_gets_the_same_search_not_a_second() {
    let app = App::new().await;
    app.db.onboard(&["user_a"]).await;
    let campaign = app.campaign("user_a").await;
    let broken = start_scraping::State {
        pool: app.db.pool.clone(),
        queue: SqsQueue::new(
            app.queue.client.clone(),
            format!("{}-missing", app.queue.url),
        ),
        settings: SettingsCache::new(Duration::ZERO),
    };
    let first = start_scraping::handler(
        &broken,
        app.request("user_a", &campaign, Some("retry-me"), "nike")
            .build(),
    )
    .await;
    assert_eq!(first.status(), 202);
    let retry = start_scraping::handler(
        &app.state,
        app.request("user_a", &campaign, Some("retry-me"), "nike")
            .build(),
    )
    .await;
    assert_eq!(body_json(&retry), body_json(&first));
    assert_eq!(app.jobs().await, 1);
}

#[tokio::test]
async fn a_campaign_created_twice_with_one_key_exists_once() {
    let app = App::new().await;
    let create = |name: &str| {
        ApiRequest::new("POST", "/campaigns")
            .user("user_a")
            .header("idempotency-key", "c-1")
            .json(json!({"name": name, "searchType": "keyword"}))
            .build()
    };
    let first = create_campaign::handler(&app.db.pool, create("Launch")).await;
    let again = create_campaign::handler(&app.db.pool, create("Launch")).await;
    assert_eq!(
        (first.status().as_u16(), again.status().as_u16()),
        (201, 201)
    );
    assert_eq!(body_json(&first), body_json(&again));
    let other = create_campaign::handler(&app.db.pool, create("Other")).await;
    assert_eq!(other.status(), 422);
    assert_eq!(app.db.count("campaigns").await, 1);
}
