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

#[tokio::test]
async fn a_write_refused_by_a_read_only_server_answers_503_and_the_next_request_gets_a_new_connection(
) {
    // One pooled connection, which then behaves as one to a server that became a standby (the
    // old primary after a failover): every write on it is refused as read-only.
    let app = TestApp::builder().pool_size(1).build().await;
    let client = app.db.pool.get().await.unwrap();
    client
        .batch_execute("SET SESSION default_transaction_read_only = on")
        .await
        .unwrap();
    drop(client);

    let body = json!({"name": "Failover", "searchType": "keyword"});
    let refused = app.create_campaign("user_a", body.clone()).await;
    assert_eq!(refused.status, 503, "{}", refused.json);
    assert_eq!(refused.header("retry-after"), Some("1"));
    assert_eq!(app.db.count("campaigns").await, 0);

    // The retry is not handed the read-only connection again.
    let retried = app.create_campaign("user_a", body).await;
    assert_eq!(retried.status, 201, "{}", retried.json);
    assert_eq!(app.db.count("campaigns").await, 1);
}

#[tokio::test]
async fn an_account_holds_at_most_the_campaign_cap_even_under_concurrent_creates() {
    let app = TestApp::new().await;
    let cap = db::campaigns::MAX_PER_USER;
    app.db
        .execute(
            "INSERT INTO campaigns (user_id, name, search_type)
             SELECT 'user_a', 'c' || n, 'keyword' FROM generate_series(1, $1::bigint - 2) n",
            &[&cap],
        )
        .await;
    let body = json!({"name": "One more", "searchType": "keyword"});
    let answers = futures::future::join_all(
        (0..5).map(|_| async { app.create_campaign("user_a", body.clone()).await }),
    )
    .await;
    let mut statuses: Vec<u16> = answers.iter().map(|a| a.status).collect();
    statuses.sort();
    assert_eq!(statuses, [201, 201, 409, 409, 409]);
    let refused = answers.iter().find(|a| a.status == 409).unwrap();
    assert_eq!(refused.error_code(), "campaign_limit_reached");
    let count: i64 = app
        .db
        .client()
        .await
        .query_one(
            "SELECT count(*) FROM campaigns WHERE user_id = 'user_a'",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(count, cap);
    // Another account is not affected.
    assert_eq!(app.create_campaign("user_b", body).await.status, 201);
}
