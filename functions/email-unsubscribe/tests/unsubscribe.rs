use email::link::{LinkSigner, List};
use testkit::{ApiRequest, TestApp};

async fn unsubscribed(app: &TestApp, user: &str) -> bool {
    app.db
        .client()
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
    let app = TestApp::new().await;
    app.db.onboard(&["user_a", "user_b"]).await;
    let token = app.links().token("user_a", List::Reminders);
    let res = app.email_unsubscribe_one_click(&token).await;
    assert_eq!(res.status, 200, "{res}");
    assert_eq!(res.header("content-type"), Some("text/html; charset=utf-8"));
    assert!(unsubscribed(&app, "user_a").await);
    assert!(!unsubscribed(&app, "user_b").await);
    // Again: the same answer, the first time kept.
    assert_eq!(app.email_unsubscribe_one_click(&token).await.status, 200);
}

#[tokio::test]
async fn a_browser_with_a_broken_link_gets_an_html_page_and_nothing_changes() {
    let app = TestApp::new().await;
    app.db.onboard(&["user_a"]).await;
    let other_key = LinkSigner::new(b"another deployment").token("user_a", List::Reminders);
    let res = app
        .email_unsubscribe(&other_key)
        .header("accept", "text/html,application/xhtml+xml")
        .await;
    assert_eq!(res.status, 400);
    assert!(res.header("content-type").unwrap().starts_with("text/html"));
    assert!(res.text.contains("This link is not valid"));
    assert!(!unsubscribed(&app, "user_a").await);
    let res = app.send(ApiRequest::new("GET", "/email/unsubscribe")).await;
    assert_eq!((res.status, res.error_field()), (400, "token"), "{res}");
}
