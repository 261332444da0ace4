//! Who is an admin, promotion and demotion, and the 403 every admin route answers to anyone
//! else, with nothing read or changed.

use serde_json::{json, Value};
use testkit::{ApiRequest, TestApp, TestResponse};

async fn flag(app: &TestApp, user: &str) -> Option<bool> {
    app.db
        .client()
        .await
        .query_opt(
            "SELECT is_admin FROM user_profiles WHERE user_id = $1",
            &[&user],
        )
        .await
        .unwrap()
        .map(|r| r.get(0))
}

fn ids(body: &Value) -> Vec<&str> {
    body["users"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["userId"].as_str().unwrap())
        .collect()
}

#[tokio::test]
async fn an_admin_named_by_id_promotes_a_user_without_a_profile_and_lists_the_admins() {
    let app = TestApp::builder().admins("root_admin", "").build().await;
    let res = app.admin_set_admin("root_admin", "user_b", true).await;
    assert_eq!(res.status, 200, "{res}");
    assert_eq!(res.json["userId"], "user_b");
    assert_eq!(res.json["isAdmin"], true);
    assert_eq!(flag(&app, "user_b").await, Some(true));

    app.db
        .batch_execute("INSERT INTO user_profiles (user_id, full_name, email) VALUES ('user_c', 'Cee', 'c@example.com')")
        .await;
    let admins = app.admin_list_users("user_b").query("admin", "true").await;
    assert_eq!(admins.status, 200, "the promoted user is an admin now");
    assert_eq!(ids(&admins.json), ["user_b"]);
    assert!(admins.json["users"][0]["updatedAt"].is_string());
    let others = app.admin_list_users("user_b").query("admin", "false").await;
    assert_eq!(ids(&others.json), ["user_c"]);
    assert_eq!(others.json["users"][0]["name"], "Cee");
    assert_eq!(others.json["users"][0]["email"], "c@example.com");
    let res = app.admin_list_users("user_b").query("admin", "maybe").await;
    assert_eq!(res.status, 400);
}

#[tokio::test]
async fn an_admin_named_by_email_claim_is_an_admin_and_other_emails_are_not() {
    let app = TestApp::builder()
        .admins("", "Ops@Example.com")
        .build()
        .await;
    let list = |email| app.admin_list_users("user_x").claim("email", email);
    assert_eq!(list("ops@example.com").await.status, 200);
    assert_eq!(list("someone@example.com").await.status, 403);
}

#[tokio::test]
async fn the_last_admin_cannot_demote_themselves_but_can_once_another_exists() {
    let app = TestApp::new().await;
    app.db
        .batch_execute("INSERT INTO user_profiles (user_id, is_admin) VALUES ('only', true)")
        .await;
    let res = app.admin_set_admin("only", "only", false).await;
    assert_eq!((res.status, res.error_code()), (409, "last_admin"));
    assert_eq!(flag(&app, "only").await, Some(true));

    assert_eq!(
        app.admin_set_admin("only", "second", true).await.status,
        200
    );
    assert_eq!(app.admin_set_admin("only", "only", false).await.status, 200);
    assert_eq!(flag(&app, "only").await, Some(false));
    // Demoted: no longer allowed in.
    assert_eq!(app.admin_set_admin("only", "only", true).await.status, 403);
    // The second admin may demote another admin, not themselves.
    assert_eq!(
        app.admin_set_admin("second", "second", false).await.status,
        409
    );
}

#[tokio::test]
async fn bad_bodies_and_user_ids_are_400_and_change_nothing() {
    let app = TestApp::builder().admins("root_admin", "").build().await;
    for body in [
        json!({}),
        json!({"isAdmin": "yes"}),
        json!({"isAdmin": true, "x": 1}),
    ] {
        let req = ApiRequest::new("PUT", "/admin/users/{userId}/admin")
            .user("root_admin")
            .path_param("userId", "user_b")
            .json(body.clone());
        assert_eq!(app.send(req).await.status, 400, "{body}");
    }
    let res = app.admin_set_admin("root_admin", " padded ", true).await;
    assert_eq!(res.status, 400);
    assert_eq!(app.db.count("user_profiles").await, 0);
}

/// Every admin route with a request a non-admin might send.
async fn every_admin_route(app: &TestApp, user: &str) -> Vec<(&'static str, TestResponse)> {
    let (category, key) = ("timing", "job_timeout");
    vec![
        (
            "list users",
            app.admin_list_users(user).query("admin", "true").await,
        ),
        ("set admin", app.admin_set_admin(user, user, true).await),
        ("list config", app.admin_list_config(user).await),
        (
            "get config",
            app.admin_get_config(user, category, key).await,
        ),
        (
            "update config",
            app.admin_update_config(user, category, key, json!("5m"))
                .await,
        ),
        (
            "reset config",
            app.admin_reset_config(user, category, key).await,
        ),
        ("changes", app.admin_config_changes(user).await),
        ("overview", app.admin_overview(user).await),
    ]
}

#[tokio::test]
async fn every_admin_route_answers_403_to_a_non_admin_and_changes_nothing() {
    let app = TestApp::builder()
        .admins("root_admin", "ops@example.com")
        .build()
        .await;
    app.db
        .batch_execute(
            "INSERT INTO user_profiles (user_id, email) VALUES ('user_b', 'b@example.com')",
        )
        .await;
    let settings_before = app.db.count("system_configuration_changes").await;
    for (route, res) in every_admin_route(&app, "user_b").await {
        assert_eq!(
            (res.status, res.error_code()),
            (403, "forbidden"),
            "{route}"
        );
        assert_eq!(res.json["error"]["details"], json!([]), "{route}");
    }
    assert_eq!(flag(&app, "user_b").await, Some(false));
    assert_eq!(
        app.db.count("system_configuration_changes").await,
        settings_before
    );
    let timeout: String = app
        .db
        .client()
        .await
        .query_one(
            "SELECT value FROM system_configurations WHERE key = 'job_timeout'",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(timeout, "60m");

    // The same routes let an admin in.
    for (route, res) in every_admin_route(&app, "root_admin").await {
        assert_eq!(res.status, 200, "{route}: {res}");
    }
}
