//! A database, moto's SES, and the sender; onboarding through its real route; time moved by SQL.

#![allow(dead_code)]

use std::time::Duration;

use db::settings::SettingsCache;
use email::link::LinkSigner;
use serde_json::{json, Value};
use testkit::{body_json, ses, ApiRequest, TestDb};

pub const SECRET: &[u8] = b"test link secret";
pub const BRAND: &str = "We make plant-based protein snacks for busy runners and gym-goers.";

pub async fn sender(db: &TestDb, endpoint: &str, from: &str) -> send_emails::State {
    ses::verify(ses::DOMAIN).await;
    send_emails::State {
        pool: db.pool.clone(),
        ses: ses::ses(endpoint, from),
        settings: SettingsCache::new(Duration::ZERO),
        links: LinkSigner::new(SECRET),
        public_api_url: "https://api.example.com".into(),
        app_url: "https://app.example.com".into(),
    }
}

/// The sender through moto itself.
pub async fn moto_sender(db: &TestDb) -> send_emails::State {
    sender(db, &ses::endpoint(), ses::FROM).await
}

/// A fresh address per test: moto keeps every test's mail in one server.
pub fn address() -> String {
    format!("u{}@example.com", uuid::Uuid::new_v4().simple())
}

/// Runs one onboarding step as the user with `email` (none: a token without the claim).
pub async fn step(db: &TestDb, user: &str, email: Option<&str>, step: &str) -> Value {
    let body = match step {
        "step-1" => json!({"fullName": "Ada Lovelace", "businessName": "Engines Ltd"}),
        "step-2" => json!({"brandDescription": BRAND}),
        _ => json!({}),
    };
    let mut req = ApiRequest::new("PATCH", "/onboarding/{step}")
        .user(user)
        .path_param("step", step)
        .json(body);
    if let Some(email) = email {
        req = req.claim("email", email);
    }
    let state = onboarding_step::State {
        pool: db.pool.clone(),
        settings: SettingsCache::new(Duration::ZERO),
    };
    let res = onboarding_step::handler(&state, req.build()).await;
    assert_eq!(res.status(), 200, "{step}: {}", body_json(&res));
    body_json(&res)
}

/// All three steps.
pub async fn onboard(db: &TestDb, user: &str, email: Option<&str>) {
    for s in ["step-1", "step-2", "complete"] {
        step(db, user, email, s).await;
    }
}

/// Moves `user`'s clock forward by `interval` (SQL interval text): every stored time of theirs
/// moves back by it.
pub async fn travel(db: &TestDb, user: &str, interval: &str) {
    db.client()
        .await
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
        .await
        .expect("move time");
}

/// The user's `email_schedule_status`.
pub async fn schedule(db: &TestDb, user: &str) -> Value {
    db.client()
        .await
        .query_one(
            "SELECT email_schedule_status FROM user_profiles WHERE user_id = $1",
            &[&user],
        )
        .await
        .unwrap()
        .get(0)
}

/// Runs the sender once, with no invocation deadline.
pub async fn run(state: &send_emails::State) -> send_emails::Run {
    send_emails::send_due(state, None).await.expect("a run")
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
