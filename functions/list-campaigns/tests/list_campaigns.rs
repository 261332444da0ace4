use serde_json::json;
use testkit::{body_json, ApiRequest, TestDb};

async fn seed(db: &TestDb, user: &str, n: usize) {
    for i in 0..n {
        let req = ApiRequest::new("POST", "/campaigns")
            .user(user)
            .json(json!({"name": format!("{user} campaign {i}"), "searchType": "keyword"}));
        assert_eq!(
            create_campaign::handler(&db.pool, req.build())
                .await
                .status(),
            201
        );
    }
}

fn list(user: &str) -> ApiRequest {
    ApiRequest::new("GET", "/campaigns").user(user)
}

#[tokio::test]
async fn campaigns_are_listed_newest_first_with_pagination() {
    let db = TestDb::new().await;
    seed(&db, "user_a", 15).await;
    seed(&db, "user_b", 2).await;

    let res = list_campaigns::handler(&db.pool, list("user_a").build()).await;
    assert_eq!(res.status(), 200);
    let body = body_json(&res);
    assert_eq!(
        body["pagination"],
        json!({"total": 15, "pages": 2, "currentPage": 1, "limit": 12})
    );
    let names: Vec<_> = body["campaigns"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].clone())
        .collect();
    assert_eq!(names.len(), 12);
    assert_eq!(names[0], "user_a campaign 14");

    let res = list_campaigns::handler(
        &db.pool,
        list("user_a")
            .query("page", "2")
            .query("limit", "12")
            .build(),
    )
    .await;
    let body = body_json(&res);
    let names: Vec<_> = body["campaigns"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        names,
        [
            "user_a campaign 2",
            "user_a campaign 1",
            "user_a campaign 0"
        ]
    );
    assert!(names.iter().all(|n| n.starts_with("user_a")));
}

#[tokio::test]
async fn each_campaign_carries_its_newest_search() {
    let db = TestDb::new().await;
    seed(&db, "user_a", 1).await;
    let client = db.client().await;
    let campaign: uuid::Uuid = client
        .query_one("SELECT id FROM campaigns", &[])
        .await
        .unwrap()
        .get(0);
    client
        .execute(
            "INSERT INTO scraping_jobs (user_id, campaign_id, platform, search_type, keywords, target_results, timeout_at, created_at)
             VALUES ('user_a', $1, 'TikTok', 'keyword', '[\"old\"]', 10, now() + interval '1 hour', now() - interval '1 minute'),
                    ('user_a', $1, 'YouTube', 'keyword', '[\"new\"]', 20, now() + interval '1 hour', now())",
            &[&campaign],
        )
        .await
        .unwrap();
    let body = body_json(&list_campaigns::handler(&db.pool, list("user_a").build()).await);
    let latest = &body["campaigns"][0]["latestJob"];
    assert_eq!(latest["platform"], "YouTube");
    assert_eq!(latest["keywords"], json!(["new"]));
    assert_eq!(latest["status"], "pending");
    assert_eq!(latest["targetResults"], 20);
}

#[tokio::test]
async fn a_user_without_campaigns_gets_an_empty_page() {
    let db = TestDb::new().await;
    seed(&db, "user_b", 1).await;
    let body = body_json(&list_campaigns::handler(&db.pool, list("user_a").build()).await);
    assert_eq!(body["campaigns"], json!([]));
    assert_eq!(
        body["pagination"],
        json!({"total": 0, "pages": 0, "currentPage": 1, "limit": 12})
    );
}

#[tokio::test]
async fn out_of_range_paging_is_a_400() {
    let db = TestDb::new().await;
    for (name, value) in [
        ("limit", "101"),
        ("limit", "0"),
        ("page", "0"),
        ("page", "-1"),
        ("limit", "ten"),
        ("page", "1e3"),
    ] {
        let res =
            list_campaigns::handler(&db.pool, list("user_a").query(name, value).build()).await;
        assert_eq!(res.status(), 400, "{name}={value}");
        assert_eq!(body_json(&res)["error"]["details"][0]["field"], name);
    }
}

#[tokio::test]
async fn listing_without_a_user_is_a_401() {
    let db = TestDb::new().await;
    let res = list_campaigns::handler(&db.pool, ApiRequest::new("GET", "/campaigns").build()).await;
    assert_eq!(res.status(), 401);
}
