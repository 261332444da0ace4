//! The configuration routes as handlers: listing, reading, typed validation of every value type,
//! reset to the default, and the audit of every change.

use api::admin::AdminState;
use domain::{admin::Admins, settings::DEFINITIONS};
use lambda_http::{Body, Response};
use serde_json::{json, Value};
use testkit::{body_json, ApiRequest, TestDb};

const ADMIN: &str = "admin_1";

fn state(db: &TestDb) -> AdminState {
    AdminState {
        pool: db.pool.clone(),
        admins: Admins::new(ADMIN, ""),
    }
}

fn one(method: &str, category: &str, key: &str) -> ApiRequest {
    ApiRequest::new(method, "/admin/config/{category}/{key}")
        .user(ADMIN)
        .path_param("category", category)
        .path_param("key", key)
}

async fn put(state: &AdminState, category: &str, key: &str, value: Value) -> Response<Body> {
    let req = one("PUT", category, key).json(json!({ "value": value }));
    admin_update_config::handler(state, req.build()).await
}

async fn stored(db: &TestDb, category: &str, key: &str) -> String {
    db.client()
        .await
        .query_one(
            "SELECT value FROM system_configurations WHERE category = $1 AND key = $2",
            &[&category, &key],
        )
        .await
        .unwrap()
        .get(0)
}

#[tokio::test]
async fn the_list_groups_every_defined_setting_by_category_with_its_type_default_and_rule() {
    let db = TestDb::new().await;
    let state = state(&db);
    let req = ApiRequest::new("GET", "/admin/config").user(ADMIN);
    let res = admin_list_config::handler(&state, req.build()).await;
    assert_eq!(res.status(), 200);
    let body = body_json(&res);
    let listed: usize = body["categories"]
        .as_object()
        .unwrap()
        .values()
        .map(|v| v.as_array().unwrap().len())
        .sum();
    assert_eq!(listed, DEFINITIONS.len());
    let delay = body["categories"]["timing"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["key"] == "continuation_delay")
        .unwrap();
    assert_eq!(delay["type"], "duration");
    assert_eq!(delay["value"], "2s");
    assert_eq!(delay["default"], "2s");
    assert_eq!(delay["hotReloadable"], true);
    assert_eq!(delay["valid"], true);
    assert!(delay["updatedAt"].is_string());
    assert!(delay["rule"].as_str().unwrap().contains("15m"));
}

#[tokio::test]
async fn a_setting_is_read_alone_and_an_unknown_one_is_404() {
    let db = TestDb::new().await;
    let state = state(&db);
    let res = admin_get_config::handler(
        &state,
        one("GET", "api_limits", "max_api_calls_tiktok_keyword").build(),
    )
    .await;
    assert_eq!(res.status(), 200);
    assert_eq!(body_json(&res)["value"], "50");
    let res = admin_get_config::handler(&state, one("GET", "api_limits", "nope").build()).await;
    assert_eq!(res.status(), 404);
    assert_eq!(body_json(&res)["error"]["code"], "not_found");
    let res = put(&state, "nope", "nope", json!("1")).await;
    assert_eq!(res.status(), 404);
}

#[tokio::test]
async fn durations_in_every_unit_are_stored_as_written_and_read_by_the_functions() {
    let db = TestDb::new().await;
    let state = state(&db);
    for value in ["500", "2h", "90m", "1d"] {
        let res = put(&state, "timing", "job_timeout", json!(value)).await;
        assert_eq!(res.status(), 200, "{value}: {}", body_json(&res));
        assert_eq!(body_json(&res)["value"], value);
        assert_eq!(stored(&db, "timing", "job_timeout").await, value);
    }
    let settings = db::settings::load(&db.client().await).await.unwrap();
    assert_eq!(
        settings.job_timeout(),
        std::time::Duration::from_secs(86_400)
    );
}

#[tokio::test]
async fn invalid_values_are_400_naming_the_rule_and_change_nothing() {
    let db = TestDb::new().await;
    let state = state(&db);
    let cases = [
        (
            "timing",
            "continuation_delay",
            json!("16m"),
            "from 0ms to 15m",
        ),
        ("timing", "continuation_delay", json!("1500ms"), "duration"),
        ("timing", "job_timeout", json!("soon"), "duration"),
        ("timing", "job_timeout", json!("2w"), "duration"),
        (
            "api_limits",
            "max_api_calls_tiktok_keyword",
            json!("0"),
            "from 1 to 10000",
        ),
        (
            "api_limits",
            "max_api_calls_tiktok_keyword",
            json!("7.5"),
            "whole number",
        ),
        (
            "enrichment",
            "profile_concurrency",
            json!("21"),
            "from 1 to 20",
        ),
        ("retention", "failed_jobs", json!("12h"), "from 1d"),
    ];
    for (category, key, value, rule) in cases {
        let before = stored(&db, category, key).await;
        let res = put(&state, category, key, value.clone()).await;
        assert_eq!(res.status(), 400, "{key} = {value}");
        let body = body_json(&res);
        assert_eq!(body["error"]["code"], "validation_failed");
        assert_eq!(body["error"]["details"][0]["field"], "value");
        let message = body["error"]["details"][0]["message"].as_str().unwrap();
        assert!(message.contains(rule), "{key} = {value}: {message}");
        assert_eq!(stored(&db, category, key).await, before);
    }
    // Not a string, or unknown fields: the body itself is refused.
    assert_eq!(
        put(&state, "timing", "job_timeout", json!(5))
            .await
            .status(),
        400
    );
    let req = one("PUT", "timing", "job_timeout").json(json!({"value": "1h", "extra": 1}));
    assert_eq!(
        admin_update_config::handler(&state, req.build())
            .await
            .status(),
        400
    );
    assert_eq!(db.count("system_configuration_changes").await, 0);
}

#[test]
fn booleans_strings_and_json_are_checked_by_their_types() {
    use domain::settings::{Definition, Value as V, ValueType};
    let def = |value_type| Definition {
        category: "c",
        key: "k",
        value_type,
        default: "",
        min: 0,
        max: 0,
        description: "",
        hot_reloadable: true,
    };
    let boolean = def(ValueType::Boolean);
    assert_eq!(boolean.parse("true"), Ok(V::Boolean(true)));
    assert_eq!(boolean.parse("yes").unwrap_err(), "must be true or false");
    let string = def(ValueType::String);
    assert_eq!(string.parse("hello"), Ok(V::String("hello".into())));
    assert!(string.parse("bell\u{7}").is_err());
    let json_def = def(ValueType::Json);
    assert_eq!(json_def.parse(r#"{"a": 1}"#), Ok(V::Json(json!({"a": 1}))));
    assert_eq!(json_def.parse("{a").unwrap_err(), "must be a JSON document");
}

#[tokio::test]
async fn every_change_and_reset_is_audited_with_who_and_the_old_and_new_values() {
    let db = TestDb::new().await;
    let state = state(&db);
    assert_eq!(
        put(&state, "timing", "continuation_delay", json!("5s"))
            .await
            .status(),
        200
    );
    // The same value again is no change.
    assert_eq!(
        put(&state, "timing", "continuation_delay", json!("5s"))
            .await
            .status(),
        200
    );
    let res = admin_reset_config::handler(
        &state,
        one("DELETE", "timing", "continuation_delay").build(),
    )
    .await;
    assert_eq!(res.status(), 200);
    assert_eq!(body_json(&res)["value"], "2s");
    assert_eq!(stored(&db, "timing", "continuation_delay").await, "2s");

    let req = ApiRequest::new("GET", "/admin/config/changes").user(ADMIN);
    let res = admin_config_changes::handler(&state, req.build()).await;
    assert_eq!(res.status(), 200);
    let body = body_json(&res);
    let changes = body["changes"].as_array().unwrap();
    assert_eq!(changes.len(), 2, "{body}");
    assert_eq!(changes[0]["oldValue"], "5s");
    assert_eq!(changes[0]["newValue"], "2s");
    assert_eq!(changes[1]["oldValue"], "2s");
    assert_eq!(changes[1]["newValue"], "5s");
    assert_eq!(changes[1]["key"], "continuation_delay");
    assert_eq!(changes[1]["changedBy"], ADMIN);
    assert!(changes[1]["changedAt"].is_string());
    assert_eq!(body["pagination"]["total"], 2);
}

#[tokio::test]
async fn a_value_broken_by_hand_in_sql_is_shown_invalid_and_read_as_the_default() {
    let db = TestDb::new().await;
    let state = state(&db);
    db.client()
        .await
        .execute(
            "UPDATE system_configurations SET value = 'soon' WHERE key = 'job_timeout'",
            &[],
        )
        .await
        .unwrap();
    let res = admin_get_config::handler(&state, one("GET", "timing", "job_timeout").build()).await;
    let body = body_json(&res);
    assert_eq!(body["value"], "soon");
    assert_eq!(body["valid"], false);
    let settings = db::settings::load(&db.client().await).await.unwrap();
    assert_eq!(
        settings.job_timeout(),
        std::time::Duration::from_secs(3_600)
    );
}

#[tokio::test]
async fn migrations_seed_every_definition_and_keep_values_an_operator_changed() {
    let db = TestDb::new().await;
    assert_eq!(
        db.count("system_configurations").await,
        DEFINITIONS.len() as i64
    );
    let state = state(&db);
    assert_eq!(
        put(&state, "timing", "stalled_after", json!("10m"))
            .await
            .status(),
        200
    );
    let mut client = db.client().await;
    db::migrate(&mut client).await.unwrap();
    assert_eq!(stored(&db, "timing", "stalled_after").await, "10m");
}

#[tokio::test]
async fn email_delays_take_the_seeds_durations_and_refuse_anything_else() {
    let db = TestDb::new().await;
    let state = state(&db);
    for (value, ok) in [
        ("45m", true),
        ("3600", true),
        ("soon", false),
        ("-1h", false),
        ("31d", false),
    ] {
        let res = put(&state, "email", "abandonment_delay", json!(value)).await;
        assert_eq!(res.status() == 200, ok, "{value}: {}", body_json(&res));
    }
    assert_eq!(stored(&db, "email", "abandonment_delay").await, "3600");
}
