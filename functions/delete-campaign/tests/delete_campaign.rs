use testkit::TestApp;
use uuid::Uuid;

/// A running search with two creators in the campaign, and a legacy search row pointing at it.
async fn fill(app: &TestApp, user: &str, campaign: Uuid) -> Uuid {
    let client = app.db.client().await;
    let job: Uuid = client
        .query_one(
            "INSERT INTO scraping_jobs (user_id, campaign_id, platform, search_type, keywords, target_results, status, started_at, timeout_at)
             VALUES ($1, $2, 'TikTok', 'keyword', '[\"nike\"]', 100, 'processing', now(), now() + interval '1 hour') RETURNING id",
            &[&user, &campaign],
        )
        .await
        .unwrap()
        .get(0);
    client
        .execute(
            "INSERT INTO scraping_results (job_id, position, step, creator_key, creators)
             VALUES ($1, 0, 0, 'a', '{}'), ($1, 1, 0, 'b', '{}')",
            &[&job],
        )
        .await
        .unwrap();
    client
        .execute(
            "INSERT INTO search_jobs (id, campaign_id, platform, search_type, total_count) VALUES ('legacy-1', $1, 'TikTok', 'keyword', 10)",
            &[&campaign],
        )
        .await
        .unwrap();
    client
        .execute(
            "INSERT INTO search_results (job_id, profile_id, username, platform) VALUES ('legacy-1', 'p', 'u', 'TikTok')",
            &[],
        )
        .await
        .unwrap();
    job
}

#[tokio::test]
async fn deleting_a_campaign_removes_its_searches_creators_and_legacy_rows() {
    let app = TestApp::new().await;
    let campaign = app.new_campaign("user_a", "keyword").await;
    let kept = app.new_campaign("user_a", "keyword").await;
    fill(&app, "user_a", campaign).await;
    let res = app.delete_campaign("user_a", campaign).await;
    assert_eq!(res.status, 204);
    assert_eq!(res.text, "", "no body");
    for table in [
        "scraping_jobs",
        "scraping_results",
        "search_jobs",
        "search_results",
    ] {
        assert_eq!(app.db.count(table).await, 0, "{table}");
    }
    assert_eq!(app.db.count("campaigns").await, 1);
    assert_eq!(app.get_campaign("user_a", kept).await.status, 200);
    // Deleting again: it is gone.
    assert_eq!(app.delete_campaign("user_a", campaign).await.status, 404);
}

#[tokio::test]
async fn another_users_campaign_is_404_and_nothing_is_deleted_or_cancelled() {
    let app = TestApp::new().await;
    let campaign = app.new_campaign("user_a", "keyword").await;
    let job = fill(&app, "user_a", campaign).await;
    assert_eq!(app.delete_campaign("user_b", campaign).await.status, 404);
    assert_eq!(app.db.count("campaigns").await, 1);
    assert_eq!(app.db.count("scraping_results").await, 2);
    assert_eq!(app.db.job_status(job).await.as_deref(), Some("processing"));
    assert_eq!(app.delete_campaign("user_a", Uuid::nil()).await.status, 404);
}
