use serde_json::json;
use testkit::{body_json, ApiRequest, TestDb};
use uuid::Uuid;

async fn create(db: &TestDb, user: &str) -> Uuid {
    let req = ApiRequest::new("POST", "/campaigns")
        .user(user)
        .json(json!({"name": "Launch", "searchType": "keyword"}));
    let id = body_json(&create_campaign::handler(&db.pool, req.build()).await)["id"]
        .as_str()
        .unwrap()
        .to_owned();
    Uuid::parse_str(&id).unwrap()
}

fn delete(user: &str, id: Uuid) -> ApiRequest {
    ApiRequest::new("DELETE", "/campaigns/{campaignId}")
        .user(user)
        .path_param("campaignId", &id.to_string())
}

/// A running search with two creators in the campaign, and a legacy search row pointing at it.
async fn fill(db: &TestDb, user: &str, campaign: Uuid) -> Uuid {
    let client = db.client().await;
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
    let db = TestDb::new().await;
    let campaign = create(&db, "user_a").await;
    let kept = create(&db, "user_a").await;
    fill(&db, "user_a", campaign).await;
    let res = delete_campaign::handler(&db.pool, delete("user_a", campaign).build()).await;
    assert_eq!(res.status(), 204);
    assert!(matches!(res.body(), lambda_http::Body::Empty));
    for table in [
        "scraping_jobs",
        "scraping_results",
        "search_jobs",
        "search_results",
    ] {
        assert_eq!(db.count(table).await, 0, "{table}");
    }
    assert_eq!(db.count("campaigns").await, 1);
    let res = get_campaign::handler(
        &db.pool,
        ApiRequest::new("GET", "/campaigns/{campaignId}")
            .user("user_a")
            .path_param("campaignId", &kept.to_string())
            .build(),
    )
    .await;
    assert_eq!(res.status(), 200);
    // Deleting again: it is gone.
    let res = delete_campaign::handler(&db.pool, delete("user_a", campaign).build()).await;
    assert_eq!(res.status(), 404);
}

#[tokio::test]
async fn another_users_campaign_is_404_and_nothing_is_deleted_or_cancelled() {
    let db = TestDb::new().await;
    let campaign = create(&db, "user_a").await;
    let job = fill(&db, "user_a", campaign).await;
    let res = delete_campaign::handler(&db.pool, delete("user_b", campaign).build()).await;
    assert_eq!(res.status(), 404);
    assert_eq!(db.count("campaigns").await, 1);
    assert_eq!(db.count("scraping_results").await, 2);
    let status: String = db
        .client()
        .await
        .query_one("SELECT status FROM scraping_jobs WHERE id = $1", &[&job])
        .await
        .unwrap()
        .get(0);
    assert_eq!(status, "processing");
    let res = delete_campaign::handler(&db.pool, delete("user_a", Uuid::nil()).build()).await;
    assert_eq!(res.status(), 404);
}
