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
