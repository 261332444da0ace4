use std::time::Duration;

use db::settings::SettingsCache;
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
        db.onboard(&["user_a", "user_b"]).await;
        let queue = TestQueue::new(3).await;
        let state = start_scraping::State {
            pool: db.pool.clone(),
            queue: queue.queue(),
            settings: SettingsCache::new(Duration::ZERO),
        };
        Self { db, queue, state }
    }

    async fn campaign(&self, user: &str, search_type: &str) -> String {
        let req = ApiRequest::new("POST", "/campaigns")
            .user(user)
            .json(json!({"name": "c", "searchType": search_type}));
        body_json(&create_campaign::handler(&self.db.pool, req.build()).await)["id"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    async fn start(&self, user: Option<&str>, platform: &str, body: Value) -> (u16, Value) {
        let mut req = ApiRequest::new("POST", "/scraping/{platform}")
            .path_param("platform", platform)
            .json(body);
        if let Some(user) = user {
            req = req.user(user);
        }
        let res = start_scraping::handler(&self.state, req.build()).await;
        (res.status().as_u16(), body_json(&res))
    }

    async fn messages(&self) -> Vec<Value> {
        let mut out = Vec::new();
        while let Some(event) = self.queue.receive(Duration::from_secs(0)).await {
            for r in event.records {
                out.push(serde_json::from_str(r.body.as_deref().unwrap()).unwrap());
            }
        }
        out
    }
}

#[tokio::test]
async fn a_keyword_search_is_accepted_stored_pending_and_its_first_step_queued() {
    let app = App::new().await;
    let campaign = app.campaign("user_a", "keyword").await;
    let (status, body) = app
        .start(Some("user_a"), "tiktok", json!({"campaignId": campaign, "keywords": ["  air\u{7}pods   pro ", "Nike"], "region": "us"}))
        .await;
    assert_eq!(status, 202, "{body}");
    let job = body["jobId"].as_str().unwrap();
    assert_eq!(body["status"], "pending");
    assert_eq!(body["statusUrl"], format!("/jobs/{job}"));
    assert_eq!(
        body["targetResults"], 100,
        "the seeded default for TikTok keyword searches"
    );

    let id = uuid::Uuid::parse_str(job).unwrap();
    let row = app
        .db
        .client()
        .await
        .query_one(
            "SELECT j.status, j.keywords, j.region, j.platform, j.queue_message_id IS NOT NULL, j.enqueued_step,
                    abs(extract(epoch FROM j.timeout_at - now()) - 3600) < 60, c.status
             FROM scraping_jobs j JOIN campaigns c ON c.id = j.campaign_id WHERE j.id = $1",
            &[&id],
        )
        .await
        .unwrap();
    assert_eq!(row.get::<_, String>(0), "pending");
    assert_eq!(row.get::<_, Value>(1), json!(["airpods pro", "Nike"]));
    assert_eq!(row.get::<_, String>(2), "US");
    assert_eq!(row.get::<_, String>(3), "TikTok");
    assert!(row.get::<_, bool>(4));
    assert_eq!(row.get::<_, i32>(5), 0);
    assert!(row.get::<_, bool>(6), "times out an hour from now");
    assert_eq!(row.get::<_, String>(7), "active");
    assert_eq!(app.messages().await, [json!({"jobId": job, "step": 0})]);
}

#[tokio::test]
async fn a_similar_search_accepts_a_profile_url_and_a_target() {
    let app = App::new().await;
    let campaign = app.campaign("user_a", "similar").await;
    let (status, body) = app
        .start(Some("user_a"), "instagram", json!({"campaignId": campaign, "username": "https://www.instagram.com/gainsbybrains/", "targetResults": 30}))
        .await;
    assert_eq!(status, 202, "{body}");
    assert_eq!(body["targetResults"], 30);
    let row = app
        .db
        .client()
        .await
        .query_one(
            "SELECT target_username, search_type FROM scraping_jobs",
            &[],
        )
        .await
        .unwrap();
    assert_eq!(row.get::<_, String>(0), "gainsbybrains");
    assert_eq!(row.get::<_, String>(1), "similar");
}

#[tokio::test]
async fn invalid_searches_get_400_and_neither_a_job_nor_a_message() {
    let app = App::new().await;
    let kw = app.campaign("user_a", "keyword").await;
    let cases: Vec<(&str, Value, &str)> = vec![
        (
            "tiktok",
            json!({"campaignId": kw, "keywords": []}),
            "keywords",
        ),
        (
            "tiktok",
            json!({"campaignId": kw, "keywords": (0..11).map(|i| format!("k{i}")).collect::<Vec<_>>()}),
            "keywords",
        ),
        (
            "tiktok",
            json!({"campaignId": kw, "keywords": ["x".repeat(101)]}),
            "keywords[0]",
        ),
        (
            "tiktok",
            json!({"campaignId": kw, "keywords": ["\u{0}\u{1}  "]}),
            "keywords[0]",
        ),
        (
            "tiktok",
            json!({"campaignId": kw, "keywords": ["a"], "username": "b"}),
            "username",
        ),
        ("tiktok", json!({"campaignId": kw}), "keywords"),
        (
            "tiktok",
            json!({"campaignId": kw, "username": "bad name!"}),
            "username",
        ),
        (
            "tiktok",
            json!({"campaignId": kw, "username": "../../etc/passwd"}),
            "username",
        ),
        (
            "tiktok",
            json!({"campaignId": kw, "keywords": ["a"], "targetResults": 0}),
            "targetResults",
        ),
        (
            "tiktok",
            json!({"campaignId": kw, "keywords": ["a"], "targetResults": 1001}),
            "targetResults",
        ),
        (
            "tiktok",
            json!({"campaignId": kw, "keywords": ["a"], "targetResults": -5}),
            "targetResults",
        ),
        (
            "tiktok",
            json!({"campaignId": kw, "keywords": ["a"], "targetResults": "10"}),
            "body",
        ),
        (
            "tiktok",
            json!({"campaignId": kw, "keywords": ["a"], "targetResults": 1e12}),
            "targetResults",
        ),
        (
            "tiktok",
            json!({"campaignId": kw, "keywords": ["a"], "targetResults": 20.5}),
            "body",
        ),
        (
            "tiktok",
            json!({"campaignId": kw, "keywords": null, "username": "someone"}),
            "body",
        ),
        (
            "tiktok",
            json!({"campaignId": kw, "keywords": ["a"], "region": "USA"}),
            "region",
        ),
        (
            "tiktok",
            json!({"campaignId": kw, "keywords": ["a"], "priority": "high"}),
            "body",
        ),
        (
            "tiktok",
            json!({"campaignId": "not-a-uuid", "keywords": ["a"]}),
            "body",
        ),
        ("tiktok", json!({"keywords": ["a"]}), "body"),
        (
            "tiktok",
            json!({"campaignId": kw, "keywords": "nike"}),
            "body",
        ),
        (
            "instagram",
            json!({"campaignId": kw, "keywords": ["a"]}),
            "keywords",
        ),
        (
            "twitter",
            json!({"campaignId": kw, "keywords": ["a"]}),
            "platform",
        ),
    ];
    for (platform, body, field) in cases {
        let (status, err) = app.start(Some("user_a"), platform, body.clone()).await;
        assert_eq!(status, 400, "{platform} {body}: {err}");
        assert_eq!(
            err["error"]["details"][0]["field"], field,
            "{platform} {body}: {err}"
        );
    }
    assert_eq!(app.db.count("scraping_jobs").await, 0);
    assert!(app.messages().await.is_empty());
}

#[tokio::test]
async fn another_users_campaign_or_a_missing_one_is_a_404_and_a_mismatched_one_a_409() {
    let app = App::new().await;
    let theirs = app.campaign("user_b", "keyword").await;
    let (status, _) = app
        .start(
            Some("user_a"),
            "tiktok",
            json!({"campaignId": theirs, "keywords": ["a"]}),
        )
        .await;
    assert_eq!(status, 404);
    let (status, _) = app
        .start(
            Some("user_a"),
            "tiktok",
            json!({"campaignId": uuid::Uuid::new_v4(), "keywords": ["a"]}),
        )
        .await;
    assert_eq!(status, 404);
    let similar = app.campaign("user_a", "similar").await;
    let (status, err) = app
        .start(
            Some("user_a"),
            "tiktok",
            json!({"campaignId": similar, "keywords": ["a"]}),
        )
        .await;
    assert_eq!(status, 409);
    assert_eq!(err["error"]["code"], "search_type_mismatch");
    let (status, _) = app
        .start(
            None,
            "tiktok",
            json!({"campaignId": similar, "username": "a"}),
        )
        .await;
    assert_eq!(status, 401);
    assert_eq!(app.db.count("scraping_jobs").await, 0);
    let campaign_status: String = app
        .db
        .client()
        .await
        .query_one(
            "SELECT status FROM campaigns WHERE id::text = $1",
            &[&theirs],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(campaign_status, "draft");
}

#[tokio::test]
async fn when_the_queue_is_unavailable_the_start_is_accepted_and_the_sweeper_sends_its_first_step()
{
    let app = App::new().await;
    let campaign = app.campaign("user_a", "keyword").await;
    let broken = start_scraping::State {
        pool: app.db.pool.clone(),
        queue: SqsQueue::new(
            app.queue.client.clone(),
            format!("{}-missing", app.queue.url),
        ),
        settings: SettingsCache::new(Duration::ZERO),
    };
    let req = ApiRequest::new("POST", "/scraping/{platform}")
        .user("user_a")
        .path_param("platform", "tiktok")
        .json(json!({"campaignId": campaign, "keywords": ["nike"]}));
    let res = start_scraping::handler(&broken, req.build()).await;
    assert_eq!(res.status(), 202, "the search is recorded and will run");
    let job = body_json(&res)["jobId"].as_str().unwrap().to_owned();
    let row = app
        .db
        .client()
        .await
        .query_one("SELECT status, enqueued_step FROM scraping_jobs", &[])
        .await
        .unwrap();
    assert_eq!(
        (row.get::<_, String>(0), row.get::<_, i32>(1)),
        ("pending".to_owned(), -1)
    );
    assert_eq!(app.queue.depth(&app.queue.url).await, 0);

    // The sweeper drains the outbox once the start is 10 s old.
    app.db
        .client()
        .await
        .execute(
            "UPDATE scraping_jobs SET updated_at = now() - interval '11 seconds'",
            &[],
        )
        .await
        .unwrap();
    let sweeper = sweeper::State {
        pool: app.db.pool.clone(),
        queue: app.queue.queue(),
        settings: SettingsCache::new(Duration::ZERO),
        message_lifetime: Duration::ZERO,
    };
    let sweep = sweeper::sweep(&sweeper).await.unwrap();
    assert_eq!(sweep.resent, 1);
    let event = app.queue.receive(Duration::from_secs(2)).await.unwrap();
    let body: serde_json::Value =
        serde_json::from_str(event.records[0].body.as_deref().unwrap()).unwrap();
    assert_eq!(body, json!({"jobId": job, "step": 0}));
}
