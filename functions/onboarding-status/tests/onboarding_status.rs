use serde_json::json;
use testkit::{body_json, ApiRequest, TestDb};

fn status(user: &str) -> ApiRequest {
    ApiRequest::new("GET", "/onboarding/status").user(user)
}

#[tokio::test]
async fn before_step_one_the_status_is_a_404() {
    let db = TestDb::new().await;
    let res = onboarding_status::handler(&db.pool, status("user_a").build()).await;
    assert_eq!(res.status(), 404);
    assert_eq!(body_json(&res)["error"]["code"], "not_found");
}

#[tokio::test]
async fn the_status_shows_the_step_profile_and_trial_of_the_caller_only() {
    let db = TestDb::new().await;
    db.client()
        .await
        .batch_execute(
            "INSERT INTO user_profiles (user_id, full_name, business_name, onboarding_step, trial_status,
                 subscription_status, trial_start_date, trial_end_date)
             VALUES ('user_a', 'Ada', 'Engines', 'completed', 'active', 'trialing',
                 now() - interval '2 days', now() + interval '5 days'),
                    ('user_b', 'Bob', 'Bobs', 'info_captured', 'pending', 'none', NULL, NULL)",
        )
        .await
        .unwrap();
    let res = onboarding_status::handler(&db.pool, status("user_a").build()).await;
    assert_eq!(res.status(), 200);
    let body = body_json(&res);
    assert_eq!(body["onboardingStep"], "completed");
    assert_eq!(body["profile"]["fullName"], "Ada");
    assert_eq!(body["trial"]["status"], "active");
    assert_eq!(body["trial"]["daysRemaining"], 4, "5 days less a few ms");
    assert_eq!(body["trial"]["progressPercent"], 28);

    let body = body_json(&onboarding_status::handler(&db.pool, status("user_b").build()).await);
    assert_eq!(body["profile"]["fullName"], "Bob");
    assert_eq!(
        body["trial"],
        json!({"status": "pending", "startDate": null, "endDate": null,
        "daysRemaining": 0, "hoursRemaining": 0, "progressPercent": 0, "isExpired": false})
    );
}

#[tokio::test]
async fn an_expired_trial_is_reported_as_expired() {
    let db = TestDb::new().await;
    db.client()
        .await
        .batch_execute(
            "INSERT INTO user_profiles (user_id, onboarding_step, trial_status, subscription_status, trial_start_date, trial_end_date)
             VALUES ('user_a', 'completed', 'active', 'trialing', now() - interval '8 days', now() - interval '1 day')",
        )
        .await
        .unwrap();
    let body = body_json(&onboarding_status::handler(&db.pool, status("user_a").build()).await);
    assert_eq!(body["trial"]["status"], "expired");
    assert_eq!(body["trial"]["isExpired"], true);
    assert_eq!(body["trial"]["progressPercent"], 100);
}

#[tokio::test]
async fn the_status_needs_a_user() {
    let db = TestDb::new().await;
    let res = onboarding_status::handler(
        &db.pool,
        ApiRequest::new("GET", "/onboarding/status").build(),
    )
    .await;
    assert_eq!(res.status(), 401);
}
