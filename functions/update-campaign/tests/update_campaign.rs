use serde_json::json;
use testkit::{body_json, ApiRequest, TestDb};

async fn create(db: &TestDb, user: &str) -> String {
    let req = ApiRequest::new("POST", "/campaigns")
        .user(user)
        .json(json!({"name": "Launch", "description": "Spring", "searchType": "keyword"}));
    body_json(&create_campaign::handler(&db.pool, req.build()).await)["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

fn patch(user: &str, id: &str, body: serde_json::Value) -> ApiRequest {
    ApiRequest::new("PATCH", "/campaigns/{campaignId}")
        .user(user)
        .path_param("campaignId", id)
        .json(body)
}

async fn row(db: &TestDb, id: &str) -> (String, Option<String>, String) {
    let id = uuid::Uuid::parse_str(id).unwrap();
    let r = db
        .client()
        .await
        .query_one(
            "SELECT name, description, status FROM campaigns WHERE id = $1",
            &[&id],
        )
        .await
        .unwrap();
    (r.get(0), r.get(1), r.get(2))
}

#[tokio::test]
async fn the_owner_renames_archives_and_reactivates_a_campaign() {
    let db = TestDb::new().await;
    let id = create(&db, "user_a").await;
    let res = update_campaign::handler(
        &db.pool,
        patch("user_a", &id, json!({"name": "  Summer  "})).build(),
    )
    .await;
    assert_eq!(res.status(), 200);
    let body = body_json(&res);
    assert_eq!(body["name"], "Summer");
    assert_eq!(body["description"], "Spring");
    assert_eq!(body["status"], "draft");

    let res = update_campaign::handler(
        &db.pool,
        patch(
            "user_a",
            &id,
            json!({"status": "archived", "description": ""}),
        )
        .build(),
    )
    .await;
    assert_eq!(res.status(), 200);
    assert_eq!(
        row(&db, &id).await,
        ("Summer".into(), None, "archived".into())
    );
    let res = update_campaign::handler(
        &db.pool,
        patch("user_a", &id, json!({"status": "active"})).build(),
    )
    .await;
    assert_eq!(body_json(&res)["status"], "active");
}

#[tokio::test]
async fn invalid_changes_are_400_and_change_nothing() {
    let db = TestDb::new().await;
    let id = create(&db, "user_a").await;
    for body in [
        json!({}),
        json!({"name": ""}),
        json!({"name": "x".repeat(101)}),
        json!({"description": "d".repeat(501)}),
        json!({"status": "completed"}),
        json!({"status": "draft"}),
        json!({"searchType": "similar"}),
        json!({"name": 5}),
        json!({"status": null}),
        json!({"name": null, "status": "active"}),
    ] {
        let res =
            update_campaign::handler(&db.pool, patch("user_a", &id, body.clone()).build()).await;
        assert_eq!(res.status(), 400, "{body}");
    }
    let res = update_campaign::handler(
        &db.pool,
        patch("user_a", "not-a-uuid", json!({"name": "N"})).build(),
    )
    .await;
    assert_eq!(res.status(), 400);
    assert_eq!(
        row(&db, &id).await,
        ("Launch".into(), Some("Spring".into()), "draft".into())
    );
}

#[tokio::test]
async fn another_users_campaign_is_404_and_unchanged() {
    let db = TestDb::new().await;
    let id = create(&db, "user_a").await;
    let res = update_campaign::handler(
        &db.pool,
        patch("user_b", &id, json!({"name": "Mine"})).build(),
    )
    .await;
    assert_eq!(res.status(), 404);
    assert_eq!(body_json(&res)["error"]["code"], "not_found");
    assert_eq!(row(&db, &id).await.0, "Launch");
}
