use std::sync::{Arc, Mutex};

use serde_json::{json, Value};
use testkit::TestApp;

#[tokio::test]
async fn a_direct_invocation_reports_nothing_to_apply_on_a_migrated_database() {
    let app = TestApp::new().await;
    assert_eq!(app.migrate(json!({})).await.unwrap(), json!({"applied": 0}));
}

#[tokio::test]
async fn as_a_custom_resource_it_migrates_and_answers_cloudformation() {
    let app = TestApp::new().await;
    // A fresh database: drop everything so the migrations have work to do.
    app.db
        .batch_execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public;")
        .await;
    let received: Arc<Mutex<Vec<Value>>> = Arc::default();
    let sink = received.clone();
    let cloudformation = axum::Router::new().route(
        "/cfn-response",
        axum::routing::put(move |body: String| async move {
            sink.lock()
                .unwrap()
                .push(serde_json::from_str(&body).unwrap());
            "ok"
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/cfn-response", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, cloudformation).await });

    let event = json!({
        "RequestType": "Create", "ResponseURL": url, "StackId": "arn:aws:cloudformation:stack/gemz",
        "RequestId": "r-1", "LogicalResourceId": "Migrations", "ResourceType": "AWS::CloudFormation::CustomResource",
        "ResourceProperties": {"MigrateVersion": "3"}
    });
    let answer = app.migrate(event).await.unwrap();
    let migrations = std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/../../migrations"))
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .path()
                .extension()
                .is_some_and(|x| x == "sql")
        })
        .count();
    assert_eq!(
        answer["applied"], migrations,
        "every migration, on a fresh database"
    );
    let responses = received.lock().unwrap().clone();
    assert_eq!(responses.len(), 1);
    assert_eq!(responses[0]["Status"], "SUCCESS");
    assert_eq!(responses[0]["RequestId"], "r-1");
    assert_eq!(responses[0]["LogicalResourceId"], "Migrations");
    assert_eq!(
        app.db.count("system_configurations").await,
        domain::settings::DEFINITIONS.len() as i64
    );
}

#[tokio::test]
async fn a_migration_that_cannot_finish_within_its_bound_fails_the_deploy_with_an_answer() {
    let app = TestApp::new().await;
    // Another migration holds the lock for as long as this test runs.
    let other = app.db.client().await;
    other
        .execute("SELECT pg_advisory_lock($1)", &[&db::migrate::LOCK_KEY])
        .await
        .unwrap();
    let received: Arc<Mutex<Vec<Value>>> = Arc::default();
    let sink = received.clone();
    let cloudformation = axum::Router::new().route(
        "/cfn-response",
        axum::routing::put(move |body: String| async move {
            sink.lock()
                .unwrap()
                .push(serde_json::from_str(&body).unwrap());
            "ok"
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/cfn-response", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, cloudformation).await });
    let event = json!({
        "RequestType": "Update", "ResponseURL": url, "StackId": "arn:aws:cloudformation:stack/gemz",
        "RequestId": "r-2", "LogicalResourceId": "Migrations", "ResourceType": "AWS::CloudFormation::CustomResource",
        "ResourceProperties": {"MigrateVersion": "4"}
    });
    let http = shared::tls::http_client().unwrap().build().unwrap();
    let bound = std::time::Duration::from_secs(1);
    let err = migrate::handler_within(&app.db.pool, &http, event, bound)
        .await
        .expect_err("it cannot finish");
    assert!(
        format!("{err:#}").contains("did not finish within"),
        "{err:#}"
    );
    let responses = received.lock().unwrap().clone();
    assert_eq!(responses.len(), 1, "CloudFormation was answered");
    assert_eq!(responses[0]["Status"], "FAILED");
    assert!(
        responses[0]["Reason"]
            .as_str()
            .unwrap()
            .contains("did not finish within"),
        "{}",
        responses[0]["Reason"]
    );
}
