//! Starting a search: what is stored and queued, what is refused, and the outbox when the queue
//! is down.

use serde_json::{json, Value};
use testkit::TestApp;

async fn app() -> TestApp {
    let app = TestApp::builder().queue().build().await;
    app.db.onboard(&["user_a", "user_b"]).await;
    app
}

#[tokio::test]
async fn a_keyword_search_is_accepted_stored_pending_and_its_first_step_queued() {
    let app = app().await;
    let campaign = app.new_campaign("user_a", "keyword").await;
    let res = app
        .start_scraping("user_a", "tiktok", json!({"campaignId": campaign, "keywords": ["  air\u{7}pods   pro ", "Nike"], "region": "us"}))
        .await;
    assert_eq!(res.status, 202, "{res}");
    let job = res.json["jobId"].as_str().unwrap();
    assert_eq!(res.json["status"], "pending");
    assert_eq!(res.json["statusUrl"], format!("/jobs/{job}"));
    assert_eq!(
        res.json["targetResults"], 100,
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
    let app = app().await;
    let campaign = app.new_campaign("user_a", "similar").await;
    let res = app
        .start_scraping("user_a", "instagram", json!({"campaignId": campaign, "username": "https://www.instagram.com/gainsbybrains/", "targetResults": 30}))
        .await;
    assert_eq!(res.status, 202, "{res}");
    assert_eq!(res.json["targetResults"], 30);
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
    let app = app().await;
    let kw = app.new_campaign("user_a", "keyword").await;
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
        let res = app.start_scraping("user_a", platform, body.clone()).await;
        assert_eq!(res.status, 400, "{platform} {body}: {res}");
        assert_eq!(res.error_field(), field, "{platform} {body}: {res}");
    }
    assert_eq!(app.db.count("scraping_jobs").await, 0);
    assert!(app.messages().await.is_empty());
}

#[tokio::test]
async fn another_users_campaign_or_a_missing_one_is_a_404_and_a_mismatched_one_a_409() {
    let app = app().await;
    let theirs = app.new_campaign("user_b", "keyword").await;
    let start = |user, campaign| {
        app.start_scraping(
            user,
            "tiktok",
            json!({"campaignId": campaign, "keywords": ["a"]}),
        )
    };
    assert_eq!(start(Some("user_a"), theirs).await.status, 404);
    assert_eq!(
        start(Some("user_a"), uuid::Uuid::new_v4()).await.status,
        404
    );
    let similar = app.new_campaign("user_a", "similar").await;
    let res = start(Some("user_a"), similar).await;
    assert_eq!(res.status, 409);
    assert_eq!(res.error_code(), "search_type_mismatch");
    let res = app
        .start_scraping(
            None,
            "tiktok",
            json!({"campaignId": similar, "username": "a"}),
        )
        .await;
    assert_eq!(res.status, 401);
    assert_eq!(app.db.count("scraping_jobs").await, 0);
    let campaign_status: String = app
        .db
        .client()
        .await
        .query_one("SELECT status FROM campaigns WHERE id = $1", &[&theirs])
        .await
        .unwrap()
        .get(0);
    assert_eq!(campaign_status, "draft");
}

#[tokio::test]
async fn when_the_queue_is_unavailable_the_start_is_accepted_and_the_sweeper_sends_its_first_step()
{
    let app = app().await;
    let campaign = app.new_campaign("user_a", "keyword").await;
    app.set_queue_down(true);
    let res = app
        .start_scraping(
            "user_a",
            "tiktok",
            json!({"campaignId": campaign, "keywords": ["nike"]}),
        )
        .await;
    assert_eq!(
        res.status, 202,
        "the search is recorded and will run: {res}"
    );
    let job = res.json["jobId"].as_str().unwrap();
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
    assert_eq!(app.queue_depth().await, 0);

    // The sweeper drains the outbox once the start is 10 s old.
    app.set_queue_down(false);
    app.db
        .batch_execute("UPDATE scraping_jobs SET updated_at = now() - interval '11 seconds'")
        .await;
    assert_eq!(app.sweep().await.resent, 1);
    assert_eq!(app.messages().await, [json!({"jobId": job, "step": 0})]);
}
