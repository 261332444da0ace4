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
    let list = |email| {
        app.admin_list_users("user_x")
            .claim("email", email)
            .claim("email_verified", "true")
    };
    assert_eq!(list("ops@example.com").await.status, 200);
    assert_eq!(list("OPS@example.COM").await.status, 200);
    assert_eq!(list("someone@example.com").await.status, 403);
}

#[tokio::test]
async fn an_admin_address_counts_only_verified_and_exact_but_for_ascii_case() {
    let app = TestApp::builder()
        .admins("", "boss@gemz.io,kate@gemz.io")
        .build()
        .await;
    let config = |email: &str, verified: Option<&str>| {
        let call = app.admin_list_config("user_x").claim("email", email);
        match verified {
            Some(v) => call.claim("email_verified", v),
            None => call,
        }
    };
    let refused = [
        // No `email_verified` claim, or one that is not true.
        ("boss@gemz.io", None),
        ("boss@gemz.io", Some("false")),
        ("boss@gemz.io", Some("")),
        // Spaces are not trimmed; only ASCII letters are compared without case.
        ("BOSS@Gemz.IO ", Some("true")),
        (" boss@gemz.io", Some("true")),
        // The Kelvin sign (U+212A) lower-cases to `k` in Unicode, not in ASCII.
        ("\u{212A}ate@gemz.io", Some("true")),
        ("\u{212A}ATE@GEMZ.IO", Some("true")),
    ];
    for (email, verified) in refused {
        let res = config(email, verified).await;
        assert_eq!(
            (res.status, res.error_code()),
            (403, "forbidden"),
            "{email:?} verified {verified:?}"
        );
    }
    assert_eq!(config("BOSS@Gemz.IO", Some("true")).await.status, 200);
    assert_eq!(config("kate@gemz.io", Some("true")).await.status, 200);
    // Nor does a refused caller change anything.
    let res = app
        .admin_set_admin("user_x", "user_y", true)
        .claim("email", "BOSS@Gemz.IO ")
        .claim("email_verified", "true")
        .await;
    assert_eq!(res.status, 403);
    assert_eq!(flag(&app, "user_y").await, None);
}

#[tokio::test]
async fn two_admins_demoting_each_other_at_the_same_moment_leave_one_admin() {
    // Several rounds, each in a database of its own: the two requests overlap differently each
    // time, and in every round exactly one demotion may win.
    for round in 0..6 {
        let app = TestApp::builder().pool_size(6).build().await;
        app.db
            .batch_execute(
                "INSERT INTO user_profiles (user_id, is_admin) VALUES ('admin_a', true), ('admin_b', true)",
            )
            .await;
        let (a, b) = tokio::join!(
            app.admin_set_admin("admin_a", "admin_b", false),
            app.admin_set_admin("admin_b", "admin_a", false),
        );
        let mut statuses = [a.status, b.status];
        statuses.sort_unstable();
        assert_eq!(statuses, [200, 403], "round {round}: {a} / {b}");
        let admins = app
            .db
            .client()
            .await
            .query_one("SELECT count(*) FROM user_profiles WHERE is_admin", &[])
            .await
            .unwrap()
            .get::<_, i64>(0);
        assert_eq!(admins, 1, "round {round}");
    }
}

#[tokio::test]
async fn deployment_named_admins_count_for_the_last_admin_only_when_they_exist() {
    let app = TestApp::builder()
        .admins("ghost_id", "boss@gemz.io")
        .build()
        .await;
    app.db
        .batch_execute("INSERT INTO user_profiles (user_id, is_admin) VALUES ('only', true)")
        .await;
    // Nobody has the named id's profile or the named address: `only` is the last admin.
    let res = app.admin_set_admin("only", "only", false).await;
    assert_eq!((res.status, res.error_code()), (409, "last_admin"), "{res}");
    // An address held but not verified is not the named admin.
    app.db
        .batch_execute(
            "INSERT INTO user_profiles (user_id, email, email_verified) VALUES ('boss', 'boss@gemz.io', false)",
        )
        .await;
    let res = app.admin_set_admin("only", "only", false).await;
    assert_eq!((res.status, res.error_code()), (409, "last_admin"), "{res}");
    assert_eq!(flag(&app, "only").await, Some(true));
    // Verified, it is: another admin remains.
    app.db
        .batch_execute("UPDATE user_profiles SET email_verified = true WHERE user_id = 'boss'")
        .await;
    let res = app.admin_set_admin("only", "only", false).await;
    assert_eq!(res.status, 200, "{res}");
    assert_eq!(flag(&app, "only").await, Some(false));
}

#[tokio::test]
async fn a_named_admin_may_demote_the_last_flagged_one_and_remains_admin() {
    let app = TestApp::builder().admins("root_admin", "").build().await;
    app.db
        .batch_execute("INSERT INTO user_profiles (user_id, is_admin) VALUES ('flagged', true)")
        .await;
    // The caller is named by the deployment and signed in: an admin remains.
    let res = app.admin_set_admin("root_admin", "flagged", false).await;
    assert_eq!(res.status, 200, "{res}");
    // Demoting the named admin's own flag leaves them named: still an admin.
    let res = app.admin_set_admin("root_admin", "root_admin", false).await;
    assert_eq!(res.status, 200, "{res}");
    assert_eq!(res.json["isAdmin"], true);
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
