use serde_json::json;
use testkit::TestApp;
use uuid::Uuid;

async fn create(app: &TestApp, user: &str) -> Uuid {
    let body = json!({"name": "Launch", "description": "Spring", "searchType": "keyword"});
    let res = app.create_campaign(user, body).await;
    assert_eq!(res.status, 201, "{res}");
    res.json["id"].as_str().unwrap().parse().unwrap()
}

async fn row(app: &TestApp, id: Uuid) -> (String, Option<String>, String) {
    let r = app
        .db
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
    let app = TestApp::new().await;
    let id = create(&app, "user_a").await;
    let res = app
        .update_campaign("user_a", id, json!({"name": "  Summer  "}))
        .await;
    assert_eq!(res.status, 200);
    assert_eq!(res.json["name"], "Summer");
    assert_eq!(res.json["description"], "Spring");
    assert_eq!(res.json["status"], "draft");

    let res = app
        .update_campaign(
            "user_a",
            id,
            json!({"status": "archived", "description": ""}),
        )
        .await;
    assert_eq!(res.status, 200);
    assert_eq!(
        row(&app, id).await,
        ("Summer".into(), None, "archived".into())
    );
    let res = app
        .update_campaign("user_a", id, json!({"status": "active"}))
        .await;
    assert_eq!(res.json["status"], "active");
}

#[tokio::test]
async fn invalid_changes_are_400_and_change_nothing() {
    let app = TestApp::new().await;
    let id = create(&app, "user_a").await;
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
        let res = app.update_campaign("user_a", id, body.clone()).await;
        assert_eq!(res.status, 400, "{body}");
    }
    let res = app
        .update_campaign("user_a", "not-a-uuid", json!({"name": "N"}))
        .await;
    assert_eq!(res.status, 400);
    assert_eq!(
        row(&app, id).await,
        ("Launch".into(), Some("Spring".into()), "draft".into())
    );
}

#[tokio::test]
async fn another_users_campaign_is_404_and_unchanged() {
    let app = TestApp::new().await;
    let id = create(&app, "user_a").await;
    let res = app
        .update_campaign("user_b", id, json!({"name": "Mine"}))
        .await;
    assert_eq!((res.status, res.error_code()), (404, "not_found"));
    assert_eq!(row(&app, id).await.0, "Launch");
}
