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
