use serde_json::json;
use testkit::{body_json, ApiRequest, TestDb};

fn create(body: serde_json::Value) -> ApiRequest {
    ApiRequest::new("POST", "/campaigns")
        .user("user_a")
        .json(body)
}

#[tokio::test]
async fn creating_a_campaign_returns_201_with_a_draft_campaign() {
    let db = TestDb::new().await;
    let res = create_campaign::handler(
        &db.pool,
        create(json!({"name": "  Summer launch ", "description": "Fitness creators", "searchType": "keyword"})).build(),
    )
    .await;
    assert_eq!(res.status(), 201);
    let body = body_json(&res);
    assert_eq!(body["name"], "Summer launch");
    assert_eq!(body["status"], "draft");
    assert_eq!(body["searchType"], "keyword");
    assert_eq!(body["description"], "Fitness creators");
    let row = db
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
    let db = TestDb::new().await;
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
        let res = create_campaign::handler(&db.pool, create(body.clone()).build()).await;
        assert_eq!(res.status(), 400, "{body}");
        let err = body_json(&res);
        assert_eq!(err["error"]["details"][0]["field"], field, "{body}: {err}");
    }
    assert_eq!(db.count("campaigns").await, 0);
}

#[tokio::test]
async fn malformed_json_oversized_bodies_and_wrong_content_types_are_rejected() {
    let db = TestDb::new().await;
    let malformed = ApiRequest::new("POST", "/campaigns")
        .user("user_a")
        .header("content-type", "application/json")
        .raw_body("{\"name\": \"x\",");
    let res = create_campaign::handler(&db.pool, malformed.build()).await;
    assert_eq!(res.status(), 400);
    assert_eq!(body_json(&res)["error"]["code"], "invalid_body");

    let big =
        create(json!({"name": "x", "searchType": "keyword", "description": "d".repeat(20_000)}));
    let res = create_campaign::handler(&db.pool, big.build()).await;
    assert_eq!(res.status(), 413);
    assert_eq!(body_json(&res)["error"]["code"], "payload_too_large");

    let form = ApiRequest::new("POST", "/campaigns")
        .user("user_a")
        .header("content-type", "application/x-www-form-urlencoded")
        .raw_body("name=x&searchType=keyword");
    let res = create_campaign::handler(&db.pool, form.build()).await;
    assert_eq!(res.status(), 415);
    assert_eq!(db.count("campaigns").await, 0);
}

#[tokio::test]
async fn a_request_without_a_verified_user_gets_401() {
    let db = TestDb::new().await;
    let anonymous =
        ApiRequest::new("POST", "/campaigns").json(json!({"name": "x", "searchType": "keyword"}));
    let res = create_campaign::handler(&db.pool, anonymous.build()).await;
    assert_eq!(res.status(), 401);
    assert_eq!(body_json(&res)["error"]["code"], "unauthorized");
    assert_eq!(db.count("campaigns").await, 0);
}

#[tokio::test]
async fn a_database_that_cannot_be_reached_gives_503_not_a_hang() {
    let mut config = TestDb::config("postgres://postgres@127.0.0.1:1/none", 1);
    config.connect_timeout = std::time::Duration::from_millis(500);
    let pool = db::pool(&config).unwrap();
    let res = create_campaign::handler(
        &pool,
        create(json!({"name": "x", "searchType": "keyword"})).build(),
    )
    .await;
    assert_eq!(res.status(), 503);
    let body = body_json(&res);
    assert_eq!(body["error"]["code"], "service_unavailable");
    assert!(
        !body.to_string().contains("127.0.0.1"),
        "causes are not echoed: {body}"
    );
}

#[tokio::test]
async fn a_dropped_column_gives_a_clean_500_without_the_cause() {
    let db = TestDb::new().await;
    db.client()
        .await
        .batch_execute("ALTER TABLE campaigns DROP COLUMN description")
        .await
        .unwrap();
    let res = create_campaign::handler(
        &db.pool,
        create(json!({"name": "x", "searchType": "keyword"})).build(),
    )
    .await;
    assert_eq!(res.status(), 500);
    let body = body_json(&res);
    assert_eq!(
        body,
        json!({"error": {"code": "internal_error", "message": "internal error", "details": []}})
    );
}
