//! Sent exactly once: overlapping runs, a crashed run, provider errors and refusals, unsubscribe.

use db::emails;
use testkit::{
    ses::{self, SesFault, SesProxy},
    TestApp,
};

use super::common::*;

#[tokio::test]
async fn two_runs_at_once_send_each_email_once() {
    let app = TestApp::builder().pool_size(6).build().await;
    let mut addresses = Vec::new();
    for i in 0..30 {
        let (user, to) = (format!("user_{i}"), address());
        step(&app, &user, Some(&to), "step-1").await;
        travel(&app, &user, "11 minutes").await;
        addresses.push(to);
    }
    let (first, second) = tokio::join!(app.send_emails(), app.send_emails());
    assert_eq!(first.sent + second.sent, 30, "{first:?} {second:?}");
    for to in &addresses {
        assert_eq!(kinds_sent(to).await, ["welcome"], "{to}");
    }
}

#[tokio::test]
async fn a_run_that_died_after_its_claim_leaves_the_email_to_a_later_run_once_the_claim_runs_out() {
    let app = TestApp::new().await;
    let to = address();
    step(&app, "user_a", Some(&to), "step-1").await;
    travel(&app, "user_a", "11 minutes").await;
    // A run claims the email and dies before calling the provider.
    let client = app.db.client().await;
    let claimed = emails::claim_due(&client, 10, std::time::Duration::from_secs(300))
        .await
        .unwrap();
    assert_eq!(claimed.len(), 1);
    assert_eq!(app.send_emails().await.sent, 0, "the claim still holds");
    travel(&app, "user_a", "5 minutes").await;
    assert_eq!(app.send_emails().await.sent, 1);
    assert_eq!(kinds_sent(&to).await, ["welcome"]);
    // The dead run's outcome, were it to arrive now, is not recorded over the new one.
    let stale = claimed.into_iter().next().unwrap().unwrap();
    let written = emails::record(
        &client,
        stale.id,
        stale.attempts,
        &emails::Outcome::Failed {
            reason: "late".into(),
        },
    )
    .await
    .unwrap();
    assert!(!written);
    assert_eq!(schedule(&app, "user_a").await["welcome"]["status"], "sent");
}

#[tokio::test]
async fn throttling_is_deferred_without_an_attempt_and_a_server_error_retried_with_backoff() {
    let proxy = SesProxy::start(&[SesFault::Throttled, SesFault::Unavailable]).await;
    let app = TestApp::builder()
        .ses(&proxy.base_url, ses::FROM)
        .build()
        .await;
    let to = address();
    step(&app, "user_a", Some(&to), "step-1").await;
    travel(&app, "user_a", "11 minutes").await;

    assert_eq!(app.send_emails().await.deferred, 1);
    let welcome = &schedule(&app, "user_a").await["welcome"];
    assert_eq!(welcome["status"], "scheduled");
    assert_eq!(welcome["attempts"], serde_json::Value::Null, "{welcome}");
    assert_eq!(welcome["lastError"], "provider_throttled", "{welcome}");
    assert!(welcome["nextAttemptAt"].is_string(), "{welcome}");
    // Not tried again before its deferral (30 s) has passed.
    assert_eq!(app.send_emails().await, send_emails::Run::default());
    travel(&app, "user_a", "31 seconds").await;
    assert_eq!(app.send_emails().await.retrying, 1, "the 503");
    let welcome = &schedule(&app, "user_a").await["welcome"];
    assert_eq!(welcome["attempts"], 1, "{welcome}");
    assert_eq!(welcome["lastError"], "provider_unavailable", "{welcome}");
    travel(&app, "user_a", "31 seconds").await;
    assert_eq!(app.send_emails().await.sent, 1);
    assert_eq!(proxy.requests(), 3);
    assert_eq!(kinds_sent(&to).await, ["welcome"]);
    assert_eq!(schedule(&app, "user_a").await["welcome"]["status"], "sent");
}

#[tokio::test]
async fn an_email_that_keeps_failing_is_failed_after_the_configured_attempts() {
    let proxy = SesProxy::start(&[SesFault::Unavailable; 5]).await;
    let app = TestApp::builder()
        .ses(&proxy.base_url, ses::FROM)
        .build()
        .await;
    app.db.set_setting("max_attempts", "2").await;
    let to = address();
    step(&app, "user_a", Some(&to), "step-1").await;
    travel(&app, "user_a", "11 minutes").await;
    assert_eq!(app.send_emails().await.retrying, 1);
    travel(&app, "user_a", "1 minute").await;
    assert_eq!(app.send_emails().await.failed, 1);
    travel(&app, "user_a", "1 hour").await;
    app.send_emails().await;
    assert_eq!(proxy.requests(), 2, "no third attempt");
    let welcome = &schedule(&app, "user_a").await["welcome"];
    assert_eq!(welcome["status"], "failed");
    assert_eq!(welcome["attempts"], 2);
    assert_eq!(welcome["reason"], "provider_unavailable", "{welcome}");
}

#[tokio::test]
async fn a_refused_message_fails_at_once_with_a_reason_code() {
    let proxy = SesProxy::start(&[SesFault::Rejected]).await;
    let app = TestApp::builder()
        .ses(&proxy.base_url, ses::FROM)
        .build()
        .await;
    let to = address();
    step(&app, "user_a", Some(&to), "step-1").await;
    travel(&app, "user_a", "3 hours").await;
    let done = app.send_emails().await;
    assert_eq!(
        (done.failed, done.sent),
        (1, 1),
        "the welcome refused, the reminder sent"
    );
    let welcome = &schedule(&app, "user_a").await["welcome"];
    assert_eq!(welcome["status"], "failed");
    assert_eq!(welcome["reason"], "provider_rejected", "{welcome}");
    travel(&app, "user_a", "1 day").await;
    app.send_emails().await;
    assert_eq!(proxy.requests(), 2, "a refusal is not retried");
}

#[tokio::test]
async fn an_unverified_sender_is_refused_by_ses_and_the_user_sees_a_code_not_the_providers_words() {
    let app = TestApp::builder()
        .ses(&ses::endpoint(), "Gemz <hello@unverified.example>")
        .build()
        .await;
    let to = address();
    step(&app, "user_a", Some(&to), "step-1").await;
    travel(&app, "user_a", "11 minutes").await;
    assert_eq!(app.send_emails().await.failed, 1);
    let status = app.onboarding_status("user_a").await;
    assert_eq!(status.status, 200, "{status}");
    let welcome = &status.json["emailSchedule"]["welcome"];
    assert_eq!(welcome["status"], "failed", "{status}");
    assert_eq!(welcome["reason"], "provider_rejected", "{status}");
    let body = status.json.to_string();
    assert!(!body.contains("authority"), "{body}");
    assert!(!body.contains("unverified.example"), "{body}");
    assert!(kinds_sent(&to).await.is_empty());
}

#[tokio::test]
async fn an_address_the_provider_cannot_take_fails_as_invalid_address_without_its_words() {
    let app = TestApp::new().await;
    step(&app, "user_a", Some(&address()), "step-1").await;
    // Stored before addresses were checked at the edge.
    app.db
        .batch_execute("UPDATE user_profiles SET email = 'not-an-address' WHERE user_id = 'user_a'")
        .await;
    travel(&app, "user_a", "11 minutes").await;
    assert_eq!(app.send_emails().await.failed, 1);
    let status = app.onboarding_status("user_a").await;
    let welcome = &status.json["emailSchedule"]["welcome"];
    assert_eq!(welcome["reason"], "invalid_address", "{status}");
    assert!(
        !status.json.to_string().contains("Missing domain"),
        "{status}"
    );
}

fn token_of(link: &str) -> String {
    link.trim_matches(|c| c == '<' || c == '>')
        .split_once("token=")
        .unwrap()
        .1
        .to_owned()
}

#[tokio::test]
async fn the_unsubscribe_link_stops_reminders_but_a_forged_or_altered_token_changes_nothing() {
    let app = TestApp::new().await;
    let (to_a, to_b) = (address(), address());
    step(&app, "user_a", Some(&to_a), "step-1").await;
    step(&app, "user_b", Some(&to_b), "step-1").await;
    travel(&app, "user_a", "2 hours").await;
    app.send_emails().await;
    let reminder = sent(&to_a, "abandonment_reminder").await;
    let token = token_of(reminder.list_unsubscribe.as_deref().unwrap());

    // user_a's token, altered to name user_b, or with its MAC changed: refused, nothing written.
    let (_, rest) = token.split_once('.').unwrap();
    let forged = format!("dXNlcl9i.{rest}"); // base64url("user_b")
    let mut altered = token.clone();
    altered.insert(altered.len() - 2, 'x');
    for bad in [forged.as_str(), altered.as_str(), ""] {
        let res = app
            .email_unsubscribe(bad)
            .header("accept", "application/json")
            .await;
        assert_eq!(
            (res.status, res.error_code()),
            (400, "validation_failed"),
            "{bad}: {res}"
        );
    }
    let unsubscribed: i64 = app
        .db
        .client()
        .await
        .query_one(
            "SELECT count(*) FROM user_profiles WHERE reminders_unsubscribed_at IS NOT NULL",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(unsubscribed, 0);

    let res = app
        .email_unsubscribe(&token)
        .header("accept", "application/json")
        .await;
    assert_eq!(res.status, 200);
    assert!(res.text.contains("You are unsubscribed"), "{res}");

    // Reminders stop for user_a; user_b's welcome and reminder still go out.
    step(&app, "user_a", Some(&to_a), "step-2").await;
    step(&app, "user_a", Some(&to_a), "complete").await;
    travel(&app, "user_a", "2 days").await;
    travel(&app, "user_b", "2 hours").await;
    app.send_emails().await;
    assert_eq!(kinds_sent(&to_a).await, ["abandonment_reminder", "welcome"]);
    assert_eq!(
        schedule(&app, "user_a").await["trial_day_2"]["reason"],
        "unsubscribed from reminders"
    );
    assert_eq!(kinds_sent(&to_b).await, ["abandonment_reminder", "welcome"]);
}
