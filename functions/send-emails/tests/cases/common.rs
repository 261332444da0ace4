//! Onboarding through its real route, time moved by SQL, and what moto's SES received.

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
