//! The configuration routes as handlers: listing, reading, typed validation of every value type,
//! reset to the default, and the audit of every change.

use domain::settings::DEFINITIONS;
use serde_json::json;
use testkit::{ApiRequest, TestApp};

const ADMIN: &str = "admin_1";

async fn app() -> TestApp {
    TestApp::builder().admins(ADMIN, "").build().await
}

async fn stored(app: &TestApp, category: &str, key: &str) -> String {
    app.db
        .client()
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
    let app = app().await;
    let res = app.admin_list_config(ADMIN).await;
    assert_eq!(res.status, 200);
    let categories = &res.json["categories"];
    let listed: usize = categories
        .as_object()
        .unwrap()
        .values()
        .map(|v| v.as_array().unwrap().len())
        .sum();
    assert_eq!(listed, DEFINITIONS.len());
    let delay = categories["timing"]
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
    let app = app().await;
    let res = app
        .admin_get_config(ADMIN, "api_limits", "max_api_calls_tiktok_keyword")
        .await;
    assert_eq!(res.status, 200);
    assert_eq!(res.json["value"], "50");
    let res = app.admin_get_config(ADMIN, "api_limits", "nope").await;
    assert_eq!((res.status, res.error_code()), (404, "not_found"));
    let res = app
        .admin_update_config(ADMIN, "nope", "nope", json!("1"))
        .await;
    assert_eq!(res.status, 404);
}

#[tokio::test]
async fn durations_in_every_unit_are_stored_as_written_and_read_by_the_functions() {
    let app = app().await;
    for value in ["500", "2h", "90m", "1d"] {
        let res = app
            .admin_update_config(ADMIN, "timing", "job_timeout", json!(value))
            .await;
        assert_eq!(res.status, 200, "{value}: {res}");
        assert_eq!(res.json["value"], value);
        assert_eq!(stored(&app, "timing", "job_timeout").await, value);
    }
    let settings = db::settings::load(&app.db.client().await).await.unwrap();
    assert_eq!(
        settings.job_timeout(),
        std::time::Duration::from_secs(86_400)
    );
}

#[tokio::test]
async fn invalid_values_are_400_naming_the_rule_and_change_nothing() {
    let app = app().await;
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
        let before = stored(&app, category, key).await;
        let res = app
            .admin_update_config(ADMIN, category, key, value.clone())
            .await;
        assert_eq!(res.status, 400, "{key} = {value}");
        assert_eq!(res.error_code(), "validation_failed");
        assert_eq!(res.error_field(), "value");
        let message = res.json["error"]["details"][0]["message"].as_str().unwrap();
        assert!(message.contains(rule), "{key} = {value}: {message}");
        assert_eq!(stored(&app, category, key).await, before);
    }
    // Not a string, or unknown fields: the body itself is refused.
    let res = app
        .admin_update_config(ADMIN, "timing", "job_timeout", json!(5))
        .await;
    assert_eq!(res.status, 400);
    let req = ApiRequest::new("PUT", "/admin/config/{category}/{key}")
        .user(ADMIN)
        .path_param("category", "timing")
        .path_param("key", "job_timeout")
        .json(json!({"value": "1h", "extra": 1}));
    assert_eq!(app.send(req).await.status, 400);
    assert_eq!(app.db.count("system_configuration_changes").await, 0);
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
    let app = app().await;
    let put =
        |value: &str| app.admin_update_config(ADMIN, "timing", "continuation_delay", json!(value));
    assert_eq!(put("5s").await.status, 200);
    // The same value again is no change.
    assert_eq!(put("5s").await.status, 200);
    let res = app
        .admin_reset_config(ADMIN, "timing", "continuation_delay")
        .await;
    assert_eq!(res.status, 200);
    assert_eq!(res.json["value"], "2s");
    assert_eq!(stored(&app, "timing", "continuation_delay").await, "2s");

    let res = app.admin_config_changes(ADMIN).await;
    assert_eq!(res.status, 200);
    let changes = res.json["changes"].as_array().unwrap();
    assert_eq!(changes.len(), 2, "{res}");
    assert_eq!(changes[0]["oldValue"], "5s");
    assert_eq!(changes[0]["newValue"], "2s");
    assert_eq!(changes[1]["oldValue"], "2s");
    assert_eq!(changes[1]["newValue"], "5s");
    assert_eq!(changes[1]["key"], "continuation_delay");
    assert_eq!(changes[1]["changedBy"], ADMIN);
    assert!(changes[1]["changedAt"].is_string());
    assert_eq!(res.json["pagination"]["total"], 2);
}

#[tokio::test]
async fn a_value_broken_by_hand_in_sql_is_shown_invalid_and_read_as_the_default() {
    let app = app().await;
    app.db.set_setting("job_timeout", "soon").await;
    let res = app.admin_get_config(ADMIN, "timing", "job_timeout").await;
    assert_eq!(res.json["value"], "soon");
    assert_eq!(res.json["valid"], false);
    let settings = db::settings::load(&app.db.client().await).await.unwrap();
    assert_eq!(
        settings.job_timeout(),
        std::time::Duration::from_secs(3_600)
    );
}

#[tokio::test]
async fn migrations_seed_every_definition_and_keep_values_an_operator_changed() {
    let app = app().await;
    assert_eq!(
        app.db.count("system_configurations").await,
        DEFINITIONS.len() as i64
    );
    let res = app
        .admin_update_config(ADMIN, "timing", "stalled_after", json!("10m"))
        .await;
    assert_eq!(res.status, 200);
    let mut client = app.db.client().await;
    db::migrate(&mut client).await.unwrap();
    assert_eq!(stored(&app, "timing", "stalled_after").await, "10m");
}

#[tokio::test]
async fn email_delays_take_the_seeds_durations_and_refuse_anything_else() {
    let app = app().await;
    for (value, ok) in [
        ("45m", true),
        ("3600", true),
        ("soon", false),
        ("-1h", false),
        ("31d", false),
    ] {
        let res = app
            .admin_update_config(ADMIN, "email", "abandonment_delay", json!(value))
            .await;
        assert_eq!(res.status == 200, ok, "{value}: {res}");
    }
    assert_eq!(stored(&app, "email", "abandonment_delay").await, "3600");
}
