//! Who is an admin, promotion and demotion, and the 403 every admin route answers to anyone
//! else, with nothing read or changed.

use api::admin::AdminState;
use db::settings::SettingsCache;
use domain::admin::Admins;
use lambda_http::{Body, Request, Response};
use serde_json::{json, Value};
use testkit::{body_json, ApiRequest, TestDb};

fn state(db: &TestDb, ids: &str, emails: &str) -> AdminState {
    AdminState {
        pool: db.pool.clone(),
        admins: Admins::new(ids, emails),
    }
}

fn set(caller: &str, target: &str, is_admin: bool) -> ApiRequest {
    ApiRequest::new("PUT", "/admin/users/{userId}/admin")
        .user(caller)
        .path_param("userId", target)
        .json(json!({ "isAdmin": is_admin }))
}

fn list(caller: &str, admin: Option<&str>) -> ApiRequest {
    let req = ApiRequest::new("GET", "/admin/users").user(caller);
    match admin {
        Some(a) => req.query("admin", a),
        None => req,
    }
}

async fn flag(db: &TestDb, user: &str) -> Option<bool> {
    db.client()
        .await
        .query_opt(
            "SELECT is_admin FROM user_profiles WHERE user_id = $1",
            &[&user],
        )
        .await
        .unwrap()
        .map(|r| r.get(0))
}

fn ids(body: &Value) -> Vec<String> {
    body["users"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["userId"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn an_admin_named_by_id_promotes_a_user_without_a_profile_and_lists_the_admins() {
    let db = TestDb::new().await;
    let state = state(&db, "root_admin", "");
    let res = admin_set_admin::handler(&state, set("root_admin", "user_b", true).build()).await;
    assert_eq!(res.status(), 200, "{}", body_json(&res));
    let body = body_json(&res);
    assert_eq!(body["userId"], "user_b");
    assert_eq!(body["isAdmin"], true);
    assert_eq!(flag(&db, "user_b").await, Some(true));

    db.client()
        .await
        .execute(
            "INSERT INTO user_profiles (user_id, full_name, email) VALUES ('user_c', 'Cee', 'c@example.com')",
            &[],
        )
        .await
        .unwrap();
    let res = admin_list_users::handler(&state, list("user_b", Some("true")).build()).await;
    assert_eq!(res.status(), 200, "the promoted user is an admin now");
    let admins = body_json(&res);
    assert_eq!(ids(&admins), ["user_b"]);
    assert!(admins["users"][0]["updatedAt"].is_string());
    let res = admin_list_users::handler(&state, list("user_b", Some("false")).build()).await;
    let others = body_json(&res);
    assert_eq!(ids(&others), ["user_c"]);
    assert_eq!(others["users"][0]["name"], "Cee");
    assert_eq!(others["users"][0]["email"], "c@example.com");
    let res = admin_list_users::handler(&state, list("user_b", Some("maybe")).build()).await;
    assert_eq!(res.status(), 400);
}

#[tokio::test]
async fn an_admin_named_by_email_claim_is_an_admin_and_other_emails_are_not() {
    let db = TestDb::new().await;
    let state = state(&db, "", "Ops@Example.com");
    let req = list("user_x", None).claim("email", "ops@example.com");
    assert_eq!(
        admin_list_users::handler(&state, req.build())
            .await
            .status(),
        200
    );
    let req = list("user_x", None).claim("email", "someone@example.com");
    assert_eq!(
        admin_list_users::handler(&state, req.build())
            .await
            .status(),
        403
    );
}

#[tokio::test]
async fn the_last_admin_cannot_demote_themselves_but_can_once_another_exists() {
    let db = TestDb::new().await;
    let state = state(&db, "", "");
    db.client()
        .await
        .execute(
            "INSERT INTO user_profiles (user_id, is_admin) VALUES ('only', true)",
            &[],
        )
        .await
        .unwrap();
    let res = admin_set_admin::handler(&state, set("only", "only", false).build()).await;
    assert_eq!(res.status(), 409);
    assert_eq!(body_json(&res)["error"]["code"], "last_admin");
    assert_eq!(flag(&db, "only").await, Some(true));

    let res = admin_set_admin::handler(&state, set("only", "second", true).build()).await;
    assert_eq!(res.status(), 200);
    let res = admin_set_admin::handler(&state, set("only", "only", false).build()).await;
    assert_eq!(res.status(), 200);
    assert_eq!(flag(&db, "only").await, Some(false));
    // Demoted: no longer allowed in.
    let res = admin_set_admin::handler(&state, set("only", "only", true).build()).await;
    assert_eq!(res.status(), 403);
    // The second admin may demote another admin, not themselves.
    let res = admin_set_admin::handler(&state, set("second", "second", false).build()).await;
    assert_eq!(res.status(), 409);
}

#[tokio::test]
async fn bad_bodies_and_user_ids_are_400_and_change_nothing() {
    let db = TestDb::new().await;
    let state = state(&db, "root_admin", "");
    for body in [
        json!({}),
        json!({"isAdmin": "yes"}),
        json!({"isAdmin": true, "x": 1}),
    ] {
        let req = ApiRequest::new("PUT", "/admin/users/{userId}/admin")
            .user("root_admin")
            .path_param("userId", "user_b")
            .json(body);
        assert_eq!(
            admin_set_admin::handler(&state, req.build()).await.status(),
            400
        );
    }
    let res = admin_set_admin::handler(&state, set("root_admin", " padded ", true).build()).await;
    assert_eq!(res.status(), 400);
    assert_eq!(db.count("user_profiles").await, 0);
}

/// Every admin route with a request a non-admin might send.
async fn every_admin_route(
    db: &TestDb,
    state: &AdminState,
    user: &str,
) -> Vec<(String, Response<Body>)> {
    let overview = admin_overview::State {
        admin: AdminState {
            pool: db.pool.clone(),
            admins: state.admins.clone(),
        },
        dead_letters: None,
        settings: SettingsCache::new(std::time::Duration::ZERO),
    };
    let one = |method: &str| {
        ApiRequest::new(method, "/admin/config/{category}/{key}")
            .user(user)
            .path_param("category", "timing")
            .path_param("key", "job_timeout")
    };
    let build = |r: ApiRequest| -> Request { r.build() };
    vec![
        (
            "list users".into(),
            admin_list_users::handler(state, build(list(user, Some("true")))).await,
        ),
        (
            "set admin".into(),
            admin_set_admin::handler(state, build(set(user, user, true))).await,
        ),
        (
            "list config".into(),
            admin_list_config::handler(
                state,
                build(ApiRequest::new("GET", "/admin/config").user(user)),
            )
            .await,
        ),
        (
            "get config".into(),
            admin_get_config::handler(state, build(one("GET"))).await,
        ),
        (
            "update config".into(),
            admin_update_config::handler(state, build(one("PUT").json(json!({"value": "5m"}))))
                .await,
        ),
        (
            "reset config".into(),
            admin_reset_config::handler(state, build(one("DELETE"))).await,
        ),
        (
            "changes".into(),
            admin_config_changes::handler(
                state,
                build(ApiRequest::new("GET", "/admin/config/changes").user(user)),
            )
            .await,
        ),
        (
            "overview".into(),
            admin_overview::handler(
                &overview,
                build(ApiRequest::new("GET", "/admin/overview").user(user)),
            )
            .await,
        ),
    ]
}

#[tokio::test]
async fn every_admin_route_answers_403_to_a_non_admin_and_changes_nothing() {
    let db = TestDb::new().await;
    let state = state(&db, "root_admin", "ops@example.com");
    db.client()
        .await
        .execute(
            "INSERT INTO user_profiles (user_id, email) VALUES ('user_b', 'b@example.com')",
            &[],
        )
        .await
        .unwrap();
    let settings_before = db.count("system_configuration_changes").await;
    for (route, res) in every_admin_route(&db, &state, "user_b").await {
        assert_eq!(res.status(), 403, "{route}");
        let body = body_json(&res);
        assert_eq!(body["error"]["code"], "forbidden", "{route}");
        assert_eq!(body["error"]["details"], json!([]), "{route}");
    }
    assert_eq!(flag(&db, "user_b").await, Some(false));
    assert_eq!(
        db.count("system_configuration_changes").await,
        settings_before
    );
    let timeout: String = db
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
    for (route, res) in every_admin_route(&db, &state, "root_admin").await {
        assert_eq!(res.status(), 200, "{route}: {}", body_json(&res));
    }
}
