//! The compiled function binaries, run against a local Lambda Runtime API and fed the events in
//! `events/`, against a real database and queue: the contract `sam local invoke` checks.

use local::{
    harness::{event, FunctionEnv},
    runtime_api::{bin_dir, spawn_function, Invocation, RuntimeApi},
};
use serde_json::{json, Value};

struct Env(FunctionEnv);

impl std::ops::Deref for Env {
    type Target = FunctionEnv;
    fn deref(&self) -> &FunctionEnv {
        &self.0
    }
}

impl Env {
    async fn new() -> Self {
        Self(FunctionEnv::new().await)
    }

    /// Runs `function` as a process and invokes it with each event in turn.
    async fn run(&self, function: &str, events: &[&str]) -> Vec<Value> {
        let api = RuntimeApi::start().await;
        let mut child =
            spawn_function(&bin_dir(), function, &api, &self.vars()).expect("the function binary");
        let mut answers = Vec::new();
        for name in events {
            match tokio::time::timeout(std::time::Duration::from_secs(30), api.invoke(event(name)))
                .await
            {
                Ok(Invocation::Response(v)) => answers.push(v),
                Ok(Invocation::Error(e)) => panic!("{function} failed on {name}: {e}"),
                Err(_) => {
                    let _ = child.kill().await;
                    let out = child.wait_with_output().await.unwrap();
                    panic!(
                        "{function} did not answer {name}: {}",
                        String::from_utf8_lossy(&out.stderr)
                    );
                }
            }
        }
        assert!(api.init_error().is_none());
        let _ = child.kill().await;
        answers
    }
}

fn status(answer: &Value) -> u64 {
    answer["statusCode"]
        .as_u64()
        .unwrap_or_else(|| panic!("not an HTTP answer: {answer}"))
}

#[tokio::test]
async fn every_function_binary_answers_its_events_through_the_runtime_api() {
    let env = Env::new().await;
    let http: &[(&str, &[&str], &[u64])] = &[
        ("create-campaign", &["create-campaign"], &[201]),
        ("list-campaigns", &["list-campaigns"], &[200]),
        ("get-campaign", &["get-campaign"], &[200]),
        (
            "onboarding-step",
            &[
                "onboarding-step-1",
                "onboarding-step-2",
                "onboarding-complete",
            ],
            &[200, 200, 200],
        ),
        ("onboarding-status", &["onboarding-status"], &[200]),
        (
            "start-scraping",
            &["start-scraping-tiktok", "start-scraping-instagram"],
            &[202, 202],
        ),
        ("job-status", &["job-status"], &[200]),
        ("export-creators", &["export-creators"], &[200]),
        ("update-campaign", &["update-campaign"], &[200]),
        ("admin-list-users", &["admin-list-users"], &[200]),
        ("admin-set-admin", &["admin-set-admin"], &[200]),
        ("admin-list-config", &["admin-list-config"], &[200]),
        ("admin-get-config", &["admin-get-config"], &[200]),
        ("admin-update-config", &["admin-update-config"], &[200]),
        ("admin-reset-config", &["admin-reset-config"], &[200]),
        ("admin-config-changes", &["admin-config-changes"], &[200]),
        ("admin-overview", &["admin-overview"], &[200]),
    ];
    for (function, events, expected) in http {
        let answers = env.run(function, events).await;
        let statuses: Vec<u64> = answers.iter().map(status).collect();
        assert_eq!(&statuses, expected, "{function}: {answers:?}");
    }
    let completed = env.run("onboarding-status", &["onboarding-status"]).await;
    let body: Value = serde_json::from_str(completed[0]["body"].as_str().unwrap()).unwrap();
    assert_eq!(body["onboardingStep"], "completed");

    // One good step and one malformed record: only the malformed one is reported failed.
    let batch = env.run("process-scraping", &["process-scraping"]).await;
    assert_eq!(
        batch[0],
        json!({"batchItemFailures": [{"itemIdentifier": "2e1424d4-f796-459a-8184-9c92662be6da"}]})
    );
    assert_eq!(env.replay.calls("/v1/tiktok/search/keyword"), 1);

    let cancelled = env.run("cancel-job", &["cancel-job"]).await;
    assert_eq!(status(&cancelled[0]), 200);

    let sweep = env.run("sweeper", &["sweeper"]).await;
    assert_eq!(sweep[0], json!({"timedOut": 0, "resent": 0, "deleted": 0}));
    let migrated = env.run("migrate", &["migrate"]).await;
    assert_eq!(migrated[0], json!({"applied": 0}));

    let changes = env
        .run("admin-config-changes", &["admin-config-changes"])
        .await;
    let body: Value = serde_json::from_str(changes[0]["body"].as_str().unwrap()).unwrap();
    assert_eq!(
        body["pagination"]["total"], 2,
        "the update and the reset: {body}"
    );
    // Last: it deletes the campaign the other events use.
    let deleted = env.run("delete-campaign", &["delete-campaign"]).await;
    assert_eq!(status(&deleted[0]), 204);
    let gone: i64 = env
        .db
        .client()
        .await
        .query_one(
            "SELECT count(*) FROM campaigns WHERE id = $1::text::uuid",
            &[&local::harness::KEYWORD_CAMPAIGN],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(gone, 0);
}

#[tokio::test]
async fn a_function_without_its_configuration_fails_its_cold_start_naming_the_variable() {
    let api = RuntimeApi::start().await;
    let child =
        spawn_function(&bin_dir(), "create-campaign", &api, &[]).expect("the function binary");
    let out = tokio::time::timeout(std::time::Duration::from_secs(20), child.wait_with_output())
        .await
        .expect("the process exits")
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("DATABASE_URL"), "{stderr}");
}
