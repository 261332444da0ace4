use std::sync::{Arc, Mutex};

use serde_json::{json, Value};
use testkit::TestDb;

#[tokio::test]
async fn a_direct_invocation_reports_nothing_to_apply_on_a_migrated_database() {
    let db = TestDb::new().await;
    let answer = migrate::handler(
        &db.pool,
        &shared::tls::http_client().unwrap().build().unwrap(),
        json!({}),
    )
    .await
    .unwrap();
    assert_eq!(answer, json!({"applied": 0}));
}

#[tokio::test]
async fn as_a_custom_resource_it_migrates_and_answers_cloudformation() {
    let db = TestDb::new().await;
    // A fresh database: drop everything so the migrations have work to do.
    db.client()
        .await
        .batch_execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public;")
        .await
        .unwrap();
    let received: Arc<Mutex<Vec<Value>>> = Arc::default();
    let sink = received.clone();
    let app = axum::Router::new().route(
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
    tokio::spawn(async move { axum::serve(listener, app).await });

    let event = json!({
        "RequestType": "Create", "ResponseURL": url, "StackId": "arn:aws:cloudformation:stack/gemz",
        "RequestId": "r-1", "LogicalResourceId": "Migrations", "ResourceType": "AWS::CloudFormation::CustomResource",
        "ResourceProperties": {"MigrateVersion": "3"}
    });
    let answer = migrate::handler(
        &db.pool,
        &shared::tls::http_client().unwrap().build().unwrap(),
        event,
    )
    .await
    .unwrap();
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
        db.count("system_configurations").await,
        domain::settings::DEFINITIONS.len() as i64
    );
}
