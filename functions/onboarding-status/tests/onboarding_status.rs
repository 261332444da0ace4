use serde_json::json;
use testkit::TestApp;

#[tokio::test]
async fn before_step_one_the_status_is_a_404() {
    let app = TestApp::new().await;
    let res = app.onboarding_status("user_a").await;
    assert_eq!((res.status, res.error_code()), (404, "not_found"));
}

#[tokio::test]
async fn the_status_shows_the_step_profile_and_trial_of_the_caller_only() {
    let app = TestApp::new().await;
    app.db
        .batch_execute(
            "INSERT INTO user_profiles (user_id, full_name, business_name, onboarding_step, trial_status,
                 subscription_status, trial_start_date, trial_end_date)
             VALUES ('user_a', 'Ada', 'Engines', 'completed', 'active', 'trialing',
                 now() - interval '2 days', now() + interval '5 days'),
                    ('user_b', 'Bob', 'Bobs', 'info_captured', 'pending', 'none', NULL, NULL)",
        )
        .await;
    let res = app.onboarding_status("user_a").await;
    assert_eq!(res.status, 200);
    let body = &res.json;
    assert_eq!(body["onboardingStep"], "completed");
    assert_eq!(body["profile"]["fullName"], "Ada");
    assert_eq!(body["trial"]["status"], "active");
    assert_eq!(body["trial"]["daysRemaining"], 4, "5 days less a few ms");
    assert_eq!(body["trial"]["progressPercent"], 28);

    let body = app.onboarding_status("user_b").await.json;
    assert_eq!(body["profile"]["fullName"], "Bob");
    assert_eq!(
        body["trial"],
        json!({"status": "pending", "startDate": null, "endDate": null,
        "daysRemaining": 0, "hoursRemaining": 0, "progressPercent": 0, "isExpired": false})
    );
}

#[tokio::test]
async fn an_expired_trial_is_reported_as_expired() {
    let app = TestApp::new().await;
    app.db
        .batch_execute(
            "INSERT INTO user_profiles (user_id, onboarding_step, trial_status, subscription_status, trial_start_date, trial_end_date)
             VALUES ('user_a', 'completed', 'active', 'trialing', now() - interval '8 days', now() - interval '1 day')",
        )
        .await;
    let res = app.onboarding_status("user_a").await;
    let trial = &res.json["trial"];
    assert_eq!(trial["status"], "expired");
    assert_eq!(trial["isExpired"], true);
    assert_eq!(trial["progressPercent"], 100);
}

#[tokio::test]
async fn the_status_needs_a_user() {
    let app = TestApp::new().await;
    assert_eq!(app.onboarding_status(None).await.status, 401);
}

#[tokio::test]
async fn the_email_schedule_shows_reason_codes_never_the_providers_words() {
    let app = TestApp::new().await;
    app.db
        .batch_execute(
            "INSERT INTO user_profiles (user_id, email, onboarding_step)
             VALUES ('user_a', 'ada@example.com', 'info_captured');
             INSERT INTO scheduled_emails (user_id, kind, due_at, next_attempt_at, status, attempts, reason, finished_at)
             VALUES ('user_a', 'welcome', now(), now(), 'failed', 1,
                     'MessageRejected: Email address is on the suppression list: ada@example.com', now()),
                    ('user_a', 'abandonment_reminder', now(), now() + interval '1 minute', 'scheduled', 1,
                     'provider_throttled', NULL)",
        )
        .await;
    let res = app.onboarding_status("user_a").await;
    assert_eq!(res.status, 200, "{res}");
    let schedule = &res.json["emailSchedule"];
    assert_eq!(schedule["welcome"]["status"], "failed", "{res}");
    assert_eq!(schedule["welcome"]["reason"], "provider_error", "{res}");
    assert_eq!(
        schedule["abandonment_reminder"]["lastError"],
        "provider_throttled"
    );
    assert!(!res.text.contains("suppression"), "{res}");
}
