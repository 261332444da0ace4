use serde_json::{json, Value};
use testkit::TestApp;

async fn seed(app: &TestApp, user: &str, n: usize) {
    for i in 0..n {
        let body = json!({"name": format!("{user} campaign {i}"), "searchType": "keyword"});
        assert_eq!(app.create_campaign(user, body).await.status, 201);
    }
}

fn names(page: &Value) -> Vec<&str> {
    page["campaigns"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect()
}

#[tokio::test]
async fn campaigns_are_listed_newest_first_with_pagination() {
    let app = TestApp::new().await;
    seed(&app, "user_a", 15).await;
    seed(&app, "user_b", 2).await;

    let res = app.list_campaigns("user_a").await;
    assert_eq!(res.status, 200);
    assert_eq!(
        res.json["pagination"],
        json!({"total": 15, "pages": 2, "currentPage": 1, "limit": 12})
    );
    let first = names(&res.json);
    assert_eq!(first.len(), 12);
    assert_eq!(first[0], "user_a campaign 14");

    let res = app
        .list_campaigns("user_a")
        .query("page", "2")
        .query("limit", "12")
        .await;
    assert_eq!(
        names(&res.json),
        [
            "user_a campaign 2",
            "user_a campaign 1",
            "user_a campaign 0"
        ]
    );
}

#[tokio::test]
async fn each_campaign_carries_its_newest_search() {
    let app = TestApp::new().await;
    let campaign = app.new_campaign("user_a", "keyword").await;
    app.db
        .execute(
            "INSERT INTO scraping_jobs (user_id, campaign_id, platform, search_type, keywords, target_results, timeout_at, created_at)
             VALUES ('user_a', $1, 'TikTok', 'keyword', '[\"old\"]', 10, now() + interval '1 hour', now() - interval '1 minute'),
                    ('user_a', $1, 'YouTube', 'keyword', '[\"new\"]', 20, now() + interval '1 hour', now())",
            &[&campaign],
        )
        .await;
    let res = app.list_campaigns("user_a").await;
    let latest = &res.json["campaigns"][0]["latestJob"];
    assert_eq!(latest["platform"], "YouTube");
    assert_eq!(latest["keywords"], json!(["new"]));
    assert_eq!(latest["status"], "pending");
    assert_eq!(latest["targetResults"], 20);
}

#[tokio::test]
async fn a_user_without_campaigns_gets_an_empty_page() {
    let app = TestApp::new().await;
    seed(&app, "user_b", 1).await;
    let res = app.list_campaigns("user_a").await;
    assert_eq!(res.json["campaigns"], json!([]));
    assert_eq!(
        res.json["pagination"],
        json!({"total": 0, "pages": 0, "currentPage": 1, "limit": 12})
    );
}

#[tokio::test]
async fn out_of_range_paging_is_a_400() {
    let app = TestApp::new().await;
    for (name, value) in [
        ("limit", "101"),
        ("limit", "0"),
        ("page", "0"),
        ("page", "-1"),
        ("limit", "ten"),
        ("page", "1e3"),
    ] {
        let res = app.list_campaigns("user_a").query(name, value).await;
        assert_eq!(
            (res.status, res.error_field()),
            (400, name),
            "{name}={value}"
        );
    }
}

#[tokio::test]
async fn listing_without_a_user_is_a_401() {
    let app = TestApp::new().await;
    assert_eq!(app.list_campaigns(None).await.status, 401);
}
