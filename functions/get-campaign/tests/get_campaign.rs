use serde_json::json;
use testkit::TestApp;
use uuid::Uuid;

#[tokio::test]
async fn the_owner_gets_the_campaign_with_its_searches_newest_first() {
    let app = TestApp::new().await;
    let campaign = app.new_campaign("user_a", "similar").await;
    app.db
        .execute(
            "INSERT INTO scraping_jobs (user_id, campaign_id, platform, search_type, target_username, target_results, timeout_at, created_at)
             VALUES ('user_a', $1, 'Instagram', 'similar', 'first', 10, now() + interval '1 hour', now() - interval '1 minute'),
                    ('user_a', $1, 'TikTok', 'similar', 'second', 10, now() + interval '1 hour', now())",
            &[&campaign],
        )
        .await;
    let res = app.get_campaign("user_a", campaign).await;
    assert_eq!(res.status, 200);
    assert_eq!(res.json["id"], campaign.to_string());
    assert_eq!(res.json["searchType"], "similar");
    let targets: Vec<_> = res.json["jobs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|j| j["targetUsername"].clone())
        .collect();
    assert_eq!(targets, [json!("second"), json!("first")]);
}

#[tokio::test]
async fn another_users_campaign_and_a_missing_one_get_the_same_404() {
    let app = TestApp::new().await;
    let campaign = app.new_campaign("user_a", "similar").await;
    let theirs = app.get_campaign("user_b", campaign).await;
    let missing = app.get_campaign("user_b", Uuid::new_v4()).await;
    assert_eq!((theirs.status, missing.status), (404, 404));
    assert_eq!(theirs.json, missing.json);
}

#[tokio::test]
async fn an_id_that_is_not_a_uuid_is_a_400() {
    let app = TestApp::new().await;
    for bad in ["123", "..%2F..%2Fetc", "' OR 1=1 --"] {
        let res = app.get_campaign("user_a", bad).await;
        assert_eq!(
            (res.status, res.error_field()),
            (400, "campaignId"),
            "{bad}"
        );
    }
}

#[tokio::test]
async fn reading_a_campaign_needs_a_user() {
    let app = TestApp::new().await;
    let campaign = app.new_campaign("user_a", "similar").await;
    assert_eq!(app.get_campaign(None, campaign).await.status, 401);
}

#[tokio::test]
async fn a_campaign_with_many_searches_answers_them_a_page_at_a_time() {
    let app = TestApp::new().await;
    let campaign = app.new_campaign("user_a", "keyword").await;
    app.db
        .execute(
            "INSERT INTO scraping_jobs (user_id, campaign_id, platform, search_type, keywords, target_results, timeout_at, created_at)
             SELECT 'user_a', $1, 'TikTok', 'keyword', jsonb_build_array('k' || n), 10, now() + interval '1 hour',
                    now() - make_interval(secs => n::double precision)
               FROM generate_series(1, 45) n",
            &[&campaign],
        )
        .await;
    let first = app.get_campaign("user_a", campaign).await;
    assert_eq!(first.status, 200);
    assert_eq!(first.json["jobs"].as_array().unwrap().len(), 20);
    assert_eq!(first.json["jobs"][0]["keywords"], json!(["k1"]));
    assert_eq!(
        first.json["jobsPagination"],
        json!({"total": 45, "pages": 3, "currentPage": 1, "limit": 20})
    );
    let last = app
        .get_campaign("user_a", campaign)
        .query("page", "3")
        .await;
    assert_eq!(last.status, 200, "{}", last.json);
    let jobs = last.json["jobs"].as_array().unwrap();
    assert_eq!(jobs.len(), 5);
    assert_eq!(jobs[4]["keywords"], json!(["k45"]));
    let bad = app
        .get_campaign("user_a", campaign)
        .query("limit", "101")
        .await;
    assert_eq!((bad.status, bad.error_field()), (400, "limit"));
}
