use email::link::{LinkSigner, List};
use lambda_http::Body;
use testkit::{ApiRequest, TestDb};

const SECRET: &[u8] = b"secret";

fn state(db: &TestDb) -> email_unsubscribe::State {
    email_unsubscribe::State {
        pool: db.pool.clone(),
        links: LinkSigner::new(SECRET),
    }
}

async fn call(db: &TestDb, req: ApiRequest) -> (u16, String, String) {
    let res = email_unsubscribe::handler(&state(db), req.build()).await;
    let content_type = res
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    let body = match res.body() {
        Body::Text(t) => t.clone(),
        Body::Binary(b) => String::from_utf8_lossy(b).into_owned(),
        _ => String::new(),
    };
    (res.status().as_u16(), content_type, body)
}

async fn unsubscribed(db: &TestDb, user: &str) -> bool {
    db.client()
        .await
        .query_one(
            "SELECT reminders_unsubscribed_at IS NOT NULL FROM user_profiles WHERE user_id = $1",
            &[&user],
        )
        .await
        .unwrap()
        .get(0)
}

#[tokio::test]
async fn a_mail_clients_one_click_post_unsubscribes_without_a_login() {
    let db = TestDb::new().await;
    db.onboard(&["user_a", "user_b"]).await;
    let token = LinkSigner::new(SECRET).token("user_a", List::Reminders);
    let req = ApiRequest::new("POST", "/email/unsubscribe")
        .query("token", &token)
        .header("content-type", "application/x-www-form-urlencoded")
        .raw_body("List-Unsubscribe=One-Click");
    let (status, content_type, page) = call(&db, req.clone()).await;
    assert_eq!(status, 200, "{page}");
    assert_eq!(content_type, "text/html; charset=utf-8");
    assert!(unsubscribed(&db, "user_a").await);
    assert!(!unsubscribed(&db, "user_b").await);
    // Again: the same answer, the first time kept.
    assert_eq!(call(&db, req).await.0, 200);
}

#[tokio::test]
async fn a_browser_with_a_broken_link_gets_an_html_page_and_nothing_changes() {
    let db = TestDb::new().await;
    db.onboard(&["user_a"]).await;
    let other_key = LinkSigner::new(b"another deployment").token("user_a", List::Reminders);
    let req = ApiRequest::new("GET", "/email/unsubscribe")
        .query("token", &other_key)
        .header("accept", "text/html,application/xhtml+xml");
    let (status, content_type, page) = call(&db, req).await;
    assert_eq!(status, 400);
    assert!(content_type.starts_with("text/html"));
    assert!(page.contains("This link is not valid"));
    assert!(!unsubscribed(&db, "user_a").await);
    let (status, _, body) = call(&db, ApiRequest::new("GET", "/email/unsubscribe")).await;
    assert_eq!(status, 400);
    assert!(body.contains("\"field\":\"token\""), "{body}");
}
