//! The compiled function binaries under AWS's Runtime Interface Emulator (what `sam local invoke`
//! runs inside its container), with the environment `template.yaml` gives each function (local
//! values where the template reads secrets, queues and parameters), fed the events in `events/`
//! against a real database and queue.

use std::{collections::BTreeMap, path::Path, time::Duration};

use local::{
    harness::{event, FunctionEnv},
    rie::{Answer, Rie},
    runtime_api::bin_dir,
    template,
};
use serde_json::{json, Value};

struct Env(FunctionEnv);

impl std::ops::Deref for Env {
    type Target = FunctionEnv;
    fn deref(&self) -> &FunctionEnv {
        &self.0
    }
}

fn template_path() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../template.yaml")
}

impl Env {
    async fn new() -> Self {
        Self(FunctionEnv::new().await)
    }

    /// `function` under the emulator with the template's environment made local.
    async fn start(&self, function: &str) -> Rie {
        let def = template::function(&template_path(), function).unwrap();
        let local: BTreeMap<String, String> = self.vars().into_iter().collect();
        let mut env = def.local_environment(&local).unwrap();
        // What only a local run needs: the emulators' endpoints and credentials.
        let extra: Vec<(String, String)> = self
            .vars()
            .into_iter()
            .filter(|(k, _)| !env.iter().any(|(e, _)| e == k))
            .collect();
        env.extend(extra);
        let binary = bin_dir().join(function);
        assert!(binary.exists(), "{} is not built", binary.display());
        Rie::start(
            &[binary.to_string_lossy().into_owned()],
            &env,
            function,
            Duration::from_secs(def.timeout_secs),
            def.memory_mb,
        )
        .await
        .unwrap()
    }

    /// Invokes `function` with each event in turn, in one warm container.
    async fn run(&self, function: &str, events: &[&str]) -> Vec<Value> {
        let rie = self.start(function).await;
        let mut answers = Vec::new();
        for name in events {
            match rie.invoke(&event(name)).await.unwrap() {
                Answer::Response(v) => answers.push(v),
                other => panic!(
                    "{function} failed on {name}: {other:?}\n{}",
                    rie.log().join("\n")
                ),
            }
            let report = rie.last_report().unwrap_or_default();
            assert!(report.contains("Duration:"), "{function}: no REPORT line");
        }
        answers
    }
}

fn status(answer: &Value) -> u64 {
    answer["statusCode"]
        .as_u64()
        .unwrap_or_else(|| panic!("not an HTTP answer: {answer}"))
}

#[tokio::test]
async fn every_function_binary_answers_its_events_under_the_runtime_interface_emulator() {
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
        ("get-usage", &["get-usage"], &[200]),
        ("billing-subscribe", &["billing-subscribe"], &[200]),
        // Signed with the local key, long ago: refused as outside the 5-minute tolerance.
        ("stripe-webhook", &["stripe-webhook"], &[400]),
        ("export-creators", &["export-creators"], &[200]),
        (
            "export-campaign-creators",
            &["export-campaign-creators"],
            &[200],
        ),
        ("update-campaign", &["update-campaign"], &[200]),
        ("admin-list-users", &["admin-list-users"], &[200]),
        ("admin-set-admin", &["admin-set-admin"], &[200]),
        ("admin-list-config", &["admin-list-config"], &[200]),
        ("admin-get-config", &["admin-get-config"], &[200]),
        ("admin-update-config", &["admin-update-config"], &[200]),
        ("admin-reset-config", &["admin-reset-config"], &[200]),
        ("admin-config-changes", &["admin-config-changes"], &[200]),
        ("admin-overview", &["admin-overview"], &[200]),
        ("email-unsubscribe", &["email-unsubscribe"], &[200]),
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
    assert_eq!(
        sweep[0],
        json!({"timedOut": 0, "resent": 0, "enrichmentResent": 0, "deleted": 0, "expiredTrials": 0, "forgottenKeys": 0})
    );
    // Nothing is due yet: the welcome email of the onboarding above is 10 minutes away.
    let emails = env.run("send-emails", &["send-emails"]).await;
    assert_eq!(
        emails[0],
        json!({"sent": 0, "skipped": 0, "failed": 0, "retrying": 0, "deferred": 0, "released": 0, "lostClaims": 0})
    );
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
async fn an_event_the_function_cannot_read_is_a_function_error_and_the_container_lives_on() {
    let env = Env::new().await;
    let rie = env.start("process-scraping").await;
    match rie.invoke(&json!({"not": "an SQS event"})).await.unwrap() {
        Answer::FunctionError(e) => {
            assert!(
                e["errorMessage"].as_str().unwrap().contains("Records"),
                "{e}"
            )
        }
        other => panic!("{other:?}"),
    }
    // The same warm container then handles a good batch.
    let answer = rie.invoke(&event("process-scraping")).await.unwrap();
    assert!(matches!(answer, Answer::Response(_)), "{answer:?}");
}

#[tokio::test]
async fn a_function_without_its_configuration_fails_its_cold_start_as_an_init_error() {
    let binary = bin_dir().join("create-campaign");
    let rie = Rie::start(
        &[binary.to_string_lossy().into_owned()],
        &[],
        "create-campaign",
        Duration::from_secs(10),
        128,
    )
    .await
    .unwrap();
    let answer = rie.invoke(&event("create-campaign")).await.unwrap();
    assert!(matches!(answer, Answer::InitError(_)), "{answer:?}");
    let log = rie.log().join("\n");
    assert!(
        log.contains("missing environment variable DATABASE_URL"),
        "{log}"
    );
}

#[test]
fn every_template_variable_has_a_local_value_and_secrets_become_their_values() {
    let local: BTreeMap<String, String> = [
        "DATABASE_URL",
        "SCRAPECREATORS_API_KEY",
        "JOBS_QUEUE_URL",
        "DEAD_LETTER_QUEUE_URL",
        "RUST_LOG",
        "ADMIN_USER_IDS",
        "ADMIN_EMAILS",
        "DATABASE_APP_ROLE",
        "EMAIL_LINK_KEY",
        "STRIPE_WEBHOOK_KEY",
        "EMAIL_FROM",
        "SES_CONFIGURATION_SET",
        "PUBLIC_API_URL",
        "APP_URL",
        "EXPORTS_BUCKET",
    ]
    .into_iter()
    .map(|k| (k.to_owned(), format!("local {k}")))
    .collect();
    let functions = template::functions(&template_path()).unwrap();
    assert!(functions.len() >= 20);
    for f in &functions {
        let env: BTreeMap<String, String> =
            f.local_environment(&local).unwrap().into_iter().collect();
        assert_eq!(env["DATABASE_URL"], "local DATABASE_URL", "{}", f.binary);
        assert!(
            !env.keys().any(|k| k.ends_with("_SECRET_ARN")),
            "{}",
            f.binary
        );
        assert_eq!(
            env["DB_POOL_SIZE"], "2",
            "{}: the template's own value",
            f.binary
        );
    }
    let worker = functions
        .iter()
        .find(|f| f.binary == "process-scraping")
        .unwrap();
    let env: BTreeMap<String, String> = worker
        .local_environment(&local)
        .unwrap()
        .into_iter()
        .collect();
    assert_eq!(
        env["SCRAPECREATORS_API_KEY"],
        "local SCRAPECREATORS_API_KEY"
    );
    assert_eq!(env["JOBS_QUEUE_URL"], "local JOBS_QUEUE_URL");
    // A value the template resolves in AWS and nobody gave locally is named.
    let mut without_queue = local.clone();
    without_queue.remove("JOBS_QUEUE_URL");
    let err = worker
        .local_environment(&without_queue)
        .unwrap_err()
        .to_string();
    assert!(err.contains("JOBS_QUEUE_URL"), "{err}");
}

#[test]
fn the_unsubscribe_events_token_is_signed_with_the_local_link_key() {
    let event = local::harness::event("email-unsubscribe");
    let token = event["queryStringParameters"]["token"].as_str().unwrap();
    let signer = email::link::LinkSigner::new(local::harness::LINK_SECRET.as_bytes());
    let (user, _) = signer.verify(token).expect("a valid token");
    assert_eq!(user, local::harness::USER);
}
