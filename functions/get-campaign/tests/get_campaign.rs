use serde_json::json;
use testkit::{body_json, ApiRequest, TestDb};
use uuid::Uuid;

async fn create(db: &TestDb, user: &str) -> String {
    let req = ApiRequest::new("POST", "/campaigns")
        .user(user)
        .json(json!({"name": "Launch", "searchType": "similar"}));
    body_json(&create_campaign::handler(&db.pool, req.build()).await)["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

fn get(user: &str, id: &str) -> ApiRequest {
    ApiRequest::new("GET", "/campaigns/{campaignId}")
        .user(user)
        .path_param("campaignId", id)
}

#[tokio::test]
async fn the_owner_gets_the_campaign_with_its_searches_newest_first() {
    let db = TestDb::new().await;
    let id = create(&db, "user_a").await;
    let campaign = Uuid::parse_str(&id).unwrap();
    db.client()
        .await
        .execute(
            "INSERT INTO scraping_jobs (user_id, campaign_id, platform, search_type, target_username, target_results, timeout_at, created_at)
             VALUES ('user_a', $1, 'Instagram', 'similar', 'first', 10, now() + interval '1 hour', now() - interval '1 minute'),
                    ('user_a', $1, 'TikTok', 'similar', 'second', 10, now() + interval '1 hour', now())",
            &[&campaign],
        )
        .await
        .unwrap();
    let res = get_campaign::handler(&db.pool, get("user_a", &id).build()).await;
    assert_eq!(res.status(), 200);
    let body = body_json(&res);
    assert_eq!(body["id"], id.as_str());
    assert_eq!(body["searchType"], "similar");
    let targets: Vec<_> = body["jobs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|j| j["targetUsername"].clone())
        .collect();
    assert_eq!(targets, [json!("second"), json!("first")]);
}

#[tokio::test]
async fn another_users_campaign_and_a_missing_one_get_the_same_404() {
    let db = TestDb::new().await;
    let id = create(&db, "user_a").await;
    let theirs = get_campaign::handler(&db.pool, get("user_b", &id).build()).await;
    let missing =
        get_campaign::handler(&db.pool, get("user_b", &Uuid::new_v4().to_string()).build()).await;
    assert_eq!(theirs.status(), 404);
    assert_eq!(missing.status(), 404);
    assert_eq!(body_json(&theirs), body_json(&missing));
}

#[tokio::test]
async fn an_id_that_is_not_a_uuid_is_a_400() {
    let db = TestDb::new().await;
    for bad in ["123", "..%2F..%2Fetc", "' OR 1=1 --"] {
        let res = get_campaign::handler(&db.pool, get("user_a", bad).build()).await;
        assert_eq!(res.status(), 400, "{bad}");
        assert_eq!(
            body_json(&res)["error"]["details"][0]["field"],
            "campaignId"
        );
    }
}

#[tokio::test]
async fn reading_a_campaign_needs_a_user() {
    let db = TestDb::new().await;
    let id = create(&db, "user_a").await;
    let res = get_campaign::handler(
        &db.pool,
        ApiRequest::new("GET", "/campaigns/{campaignId}")
            .path_param("campaignId", &id)
            .build(),
    )
    .await;
    assert_eq!(res.status(), 401);
}
