use serde_json::json;
use testkit::{ApiRequest, TestApp, TestDb};

#[tokio::test]
async fn creating_a_campaign_returns_201_with_a_draft_campaign() {
    let app = TestApp::new().await;
    let res = app
        .create_campaign("user_a", json!({"name": "  Summer launch ", "description": "Fitness creators", "searchType": "keyword"}))
        .await;
    assert_eq!(res.status, 201);
    assert_eq!(res.json["name"], "Summer launch");
    assert_eq!(res.json["status"], "draft");
    assert_eq!(res.json["searchType"], "keyword");
    assert_eq!(res.json["description"], "Fitness creators");
    let row = app
        .db
        .client()
        .await
        .query_one("SELECT user_id, name FROM campaigns", &[])
        .await
        .unwrap();
    assert_eq!(row.get::<_, String>(0), "user_a");
    assert_eq!(row.get::<_, String>(1), "Summer launch");
}

#[tokio::test]
async fn invalid_campaigns_get_400_with_field_details_and_write_nothing() {
    let app = TestApp::new().await;
    let cases = [
        (json!({"name": "   ", "searchType": "keyword"}), "name"),
        (
            json!({"name": "x".repeat(101), "searchType": "keyword"}),
            "name",
        ),
        (
            json!({"name": "ok", "description": "d".repeat(501), "searchType": "similar"}),
            "description",
        ),
        (json!({"name": "ok", "searchType": "lookalike"}), "body"),
        (json!({"name": 42, "searchType": "keyword"}), "body"),
        (json!({"searchType": "keyword"}), "body"),
        (
            json!({"name": "ok", "searchType": "keyword", "userId": "user_b"}),
            "body",
        ),
        (json!(["name"]), "body"),
    ];
    for (body, field) in cases {
        let res = app.create_campaign("user_a", body.clone()).await;
        assert_eq!(res.status, 400, "{body}");
        assert_eq!(res.error_field(), field, "{body}: {res}");
    }
    assert_eq!(app.db.count("campaigns").await, 0);
}

#[tokio::test]
async fn malformed_json_oversized_bodies_and_wrong_content_types_are_rejected() {
    let app = TestApp::new().await;
    let raw = |content_type: &str, body: &str| {
        ApiRequest::new("POST", "/campaigns")
            .user("user_a")
            .header("content-type", content_type)
            .raw_body(body)
    };
    let res = app.send(raw("application/json", "{\"name\": \"x\",")).await;
    assert_eq!((res.status, res.error_code()), (400, "invalid_body"));

    let big = json!({"name": "x", "searchType": "keyword", "description": "d".repeat(20_000)});
    let res = app.create_campaign("user_a", big).await;
    assert_eq!((res.status, res.error_code()), (413, "payload_too_large"));

    let form = raw(
        "application/x-www-form-urlencoded",
        "name=x&searchType=keyword",
    );
    assert_eq!(app.send(form).await.status, 415);
    assert_eq!(app.db.count("campaigns").await, 0);
}

#[tokio::test]
async fn a_request_without_a_verified_user_gets_401() {
    let app = TestApp::new().await;
    let res = app
        .create_campaign(None, json!({"name": "x", "searchType": "keyword"}))
        .await;
    assert_eq!((res.status, res.error_code()), (401, "unauthorized"));
    assert_eq!(app.db.count("campaigns").await, 0);
}

#[tokio::test]
async fn a_database_that_cannot_be_reached_gives_503_not_a_hang() {
    let mut config = TestDb::config("postgres://postgres@127.0.0.1:1/none", 1);
    config.connect_timeout = std::time::Duration::from_millis(500);
    let pool = db::pool(&config).unwrap();
    let req = ApiRequest::new("POST", "/campaigns")
        .user("user_a")
        .json(json!({"name": "x", "searchType": "keyword"}));
    let res = testkit::TestResponse::from(create_campaign::handler(&pool, req.build()).await);
    assert_eq!((res.status, res.error_code()), (503, "service_unavailable"));
    assert!(
        !res.text.contains("127.0.0.1"),
        "causes are not echoed: {res}"
    );
}

#[tokio::test]
async fn a_dropped_column_gives_a_clean_500_without_the_cause() {
    let app = TestApp::new().await;
    app.db
        .batch_execute("ALTER TABLE campaigns DROP COLUMN description")
        .await;
    let res = app
        .create_campaign("user_a", json!({"name": "x", "searchType": "keyword"}))
        .await;
    assert_eq!(res.status, 500);
    assert_eq!(
        res.json,
        json!({"error": {"code": "internal_error", "message": "internal error", "details": []}})
    );
}
