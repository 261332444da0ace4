//! Onboarding through its real route, time moved by SQL, and what moto's SES received.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::Value;
use testkit::{app::onboarding_body, ses, TestApp};

/// A fresh address per test: moto keeps every test's mail in one server.
pub fn address() -> String {
    format!("u{}@example.com", uuid::Uuid::new_v4().simple())
}

/// Runs one onboarding step as the user with `email` (none: a token without the claim).
pub async fn step(app: &TestApp, user: &str, email: Option<&str>, step: &str) -> Value {
    let mut call = app.onboarding_step(user, step, onboarding_body(step));
    if let Some(email) = email {
        call = call.claim("email", email);
    }
    let res = call.await;
    assert_eq!(res.status, 200, "{step}: {res}");
    res.json
}

/// Moves `user`'s clock forward by `interval` (SQL interval text): every stored time of theirs
/// moves back by it.
pub async fn travel(app: &TestApp, user: &str, interval: &str) {
    app.db
        .batch_execute(&format!(
            "UPDATE scheduled_emails SET due_at = due_at - interval '{interval}',
                 next_attempt_at = next_attempt_at - interval '{interval}',
                 claimed_until = claimed_until - interval '{interval}'
              WHERE user_id = '{user}';
             UPDATE user_profiles SET signup_timestamp = signup_timestamp - interval '{interval}',
                 trial_start_date = trial_start_date - interval '{interval}',
                 trial_end_date = trial_end_date - interval '{interval}'
              WHERE user_id = '{user}';"
        ))
        .await;
}

/// The user's `email_schedule_status`.
pub async fn schedule(app: &TestApp, user: &str) -> Value {
    app.db
        .client()
        .await
        .query_one(
            "SELECT email_schedule_status FROM user_profiles WHERE user_id = $1",
            &[&user],
        )
        .await
        .unwrap()
        .get(0)
}

/// Kinds of the emails sent to `address`, sorted (emails due at once go out concurrently).
pub async fn kinds_sent(address: &str) -> Vec<String> {
    let mut kinds: Vec<String> = ses::sent_to(address)
        .await
        .into_iter()
        .map(|m| m.kind)
        .collect();
    kinds.sort();
    kinds
}

/// The email of `kind` sent to `address` (exactly one).
pub async fn sent(address: &str, kind: &str) -> ses::Sent {
    let mut found: Vec<ses::Sent> = ses::sent_to(address)
        .await
        .into_iter()
        .filter(|m| m.kind == kind)
        .collect();
    assert_eq!(found.len(), 1, "{kind} to {address}");
    found.pop().unwrap()
}

/// Moves every user's clock forward by `interval` (as [`travel`], for all users at once).
pub async fn travel_all(app: &TestApp, interval: &str) {
    app.db
        .batch_execute(&format!(
            "UPDATE scheduled_emails SET due_at = due_at - interval '{interval}',
                 next_attempt_at = next_attempt_at - interval '{interval}',
                 claimed_until = claimed_until - interval '{interval}'"
        ))
        .await;
}

/// The sender as `main` builds it, through the SES at `endpoint` (moto, or a proxy in front of
/// it) with the deployed SES timeout (`SES_TIMEOUT_MS`, 10 s).
pub async fn sender(app: &TestApp, endpoint: &str) -> send_emails::State {
    ses::verify(ses::DOMAIN).await;
    send_emails::State {
        pool: app.db.pool.clone(),
        ses: email::ses::Ses::with_endpoint(
            ses::FROM,
            None,
            Duration::from_secs(10),
            Some(endpoint.to_owned()),
        ),
        settings: db::settings::SettingsCache::new(Duration::ZERO),
        links: app.links(),
        public_api_url: "https://api.example.com".into(),
        app_url: "https://app.example.com".into(),
    }
}

/// One invocation as Lambda makes it: the handler gets a context whose deadline is `timeout`
/// from now, and is stopped at that deadline as Lambda stops a function that runs out of time.
/// None when it was stopped.
pub async fn invoke(state: &send_emails::State, timeout: Duration) -> Option<send_emails::Run> {
    let deadline = SystemTime::now() + timeout;
    let mut context = lambda_runtime::Context::default();
    context.request_id = uuid::Uuid::new_v4().to_string();
    context.deadline = deadline
        .duration_since(UNIX_EPOCH)
        .expect("after 1970")
        .as_millis() as u64;
    let event = lambda_runtime::LambdaEvent::new(serde_json::json!({}), context);
    tokio::time::timeout(timeout, send_emails::handler(state, event))
        .await
        .ok()
        .map(|run| run.expect("a run"))
}

/// (status, attempts, deferrals, reason) of every scheduled email of `kind`, by user.
pub async fn rows(app: &TestApp, kind: &str) -> Vec<(String, i32, i32, Option<String>)> {
    app.db
        .client()
        .await
        .query(
            "SELECT status, attempts, deferrals, reason FROM scheduled_emails
              WHERE kind = $1 ORDER BY user_id",
            &[&kind],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2), r.get(3)))
        .collect()
}
