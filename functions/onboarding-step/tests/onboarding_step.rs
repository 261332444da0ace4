use serde_json::{json, Value};
use testkit::{
    app::{onboarding_body, BRAND},
    TestApp,
};

/// Step `step` as `user`, answered 200 (the body of the view).
async fn step_ok(app: &TestApp, user: &str, step: &str, body: Value) -> Value {
    let res = app.onboarding_step(user, step, body).await;
    assert_eq!(res.status, 200, "{step}: {res}");
    res.json
}

async fn brand_description(app: &TestApp, user: &str) -> Option<String> {
    app.db
        .client()
        .await
        .query_one(
            "SELECT brand_description FROM user_profiles WHERE user_id = $1",
            &[&user],
        )
        .await
        .unwrap()
        .get(0)
}

#[tokio::test]
async fn the_three_steps_in_order_complete_onboarding_and_start_a_seven_day_trial() {
    let app = TestApp::new().await;
    let body = step_ok(
        &app,
        "user_a",
        "step-1",
        json!({"fullName": " Ada Lovelace ", "businessName": "Engines Ltd"}),
    )
    .await;
    assert_eq!(body["onboardingStep"], "info_captured");
    assert_eq!(body["profile"]["fullName"], "Ada Lovelace");

    let body = step_ok(&app, "user_a", "step-2", onboarding_body("step-2")).await;
    assert_eq!(body["onboardingStep"], "intent_captured");

    let body = step_ok(&app, "user_a", "complete", json!({})).await;
    assert_eq!(body["onboardingStep"], "completed");
    assert_eq!(body["trial"]["status"], "active");
    assert_eq!(body["subscriptionStatus"], "trialing");
    assert_eq!(
        body["trial"]["daysRemaining"], 6,
        "a few ms into 7 days: 6 whole days, 23 hours"
    );
    assert_eq!(body["trial"]["hoursRemaining"], 23);
    for email in [
        "welcome",
        "abandonment_reminder",
        "trial_day_2",
        "trial_day_5",
    ] {
        assert_eq!(
            body["emailSchedule"][email]["status"], "scheduled",
            "{email}"
        );
    }
    let row = app
        .db
        .client()
        .await
        .query_one(
            "SELECT trial_end_date - trial_start_date = interval '7 days', trial_status, subscription_status FROM user_profiles",
            &[],
        )
        .await
        .unwrap();
    assert!(row.get::<_, bool>(0));
    assert_eq!(row.get::<_, String>(1), "active");
    assert_eq!(row.get::<_, String>(2), "trialing");
}

#[tokio::test]
async fn steps_out_of_order_get_409_and_change_nothing() {
    let app = TestApp::new().await;
    let res = app
        .onboarding_step("user_a", "step-2", onboarding_body("step-2"))
        .await;
    assert_eq!(
        (res.status, res.error_code()),
        (409, "onboarding_step_out_of_order")
    );
    assert_eq!(app.db.count("user_profiles").await, 0);

    step_ok(&app, "user_a", "step-1", onboarding_body("step-1")).await;
    let res = app.onboarding_step("user_a", "complete", json!({})).await;
    assert_eq!(res.status, 409);
    let row = app
        .db
        .client()
        .await
        .query_one(
            "SELECT onboarding_step, trial_start_date IS NULL FROM user_profiles",
            &[],
        )
        .await
        .unwrap();
    assert_eq!(row.get::<_, String>(0), "info_captured");
    assert!(row.get::<_, bool>(1));
}

#[tokio::test]
async fn repeating_steps_duplicates_nothing_and_never_moves_back() {
    let app = TestApp::new().await;
    let info = |name: &str| json!({"fullName": name, "businessName": "Engines"});
    step_ok(&app, "user_a", "step-1", info("Ada")).await;
    step_ok(&app, "user_a", "step-1", info("Ada L")).await;
    step_ok(&app, "user_a", "step-2", onboarding_body("step-2")).await;
    let first = step_ok(&app, "user_a", "complete", json!({})).await;
    let again = step_ok(&app, "user_a", "complete", json!({})).await;
    assert_eq!(
        first["trial"]["startDate"], again["trial"]["startDate"],
        "the trial is not restarted"
    );
    assert_eq!(first["emailSchedule"], again["emailSchedule"]);

    let edited = step_ok(&app, "user_a", "step-1", info("Ada King")).await;
    assert_eq!(edited["onboardingStep"], "completed");
    assert_eq!(edited["profile"]["fullName"], "Ada King");
    assert_eq!(app.db.count("user_profiles").await, 1);
}

#[tokio::test]
async fn invalid_steps_get_400_and_write_nothing() {
    let app = TestApp::new().await;
    let cases = [
        (
            "step-1",
            json!({"fullName": "", "businessName": "x"}),
            "fullName",
        ),
        (
            "step-1",
            json!({"fullName": "x", "businessName": "b".repeat(101)}),
            "businessName",
        ),
        ("step-1", json!({"fullName": "x"}), "body"),
        (
            "step-1",
            json!({"fullName": "x", "businessName": "y", "isAdmin": true}),
            "body",
        ),
        (
            "step-1",
            json!({"fullName": ["x"], "businessName": "y"}),
            "body",
        ),
        ("complete", json!({"trialDays": 30}), "body"),
    ];
    for (name, body, field) in cases {
        let res = app.onboarding_step("user_a", name, body.clone()).await;
        assert_eq!(res.status, 400, "{name} {body}");
        assert_eq!(res.error_field(), field, "{name} {body}: {res}");
    }
    assert_eq!(app.db.count("user_profiles").await, 0);

    step_ok(&app, "user_a", "step-1", onboarding_body("step-1")).await;
    let short = json!({"brandDescription": format!("  {}  ", "x".repeat(49))});
    let res = app.onboarding_step("user_a", "step-2", short).await;
    assert_eq!((res.status, res.error_field()), (400, "brandDescription"));
    assert_eq!(brand_description(&app, "user_a").await, None);
}

#[tokio::test]
async fn an_unknown_step_is_a_404_and_no_user_is_a_401() {
    let app = TestApp::new().await;
    let res = app.onboarding_step("user_a", "step-3", json!({})).await;
    assert_eq!(res.status, 404);
    let res = app
        .onboarding_step(None, "step-1", onboarding_body("step-1"))
        .await;
    assert_eq!(res.status, 401);
    assert_eq!(app.db.count("user_profiles").await, 0);
}

#[tokio::test]
async fn one_users_steps_do_not_touch_another_users_profile() {
    let app = TestApp::new().await;
    step_ok(&app, "user_a", "step-1", onboarding_body("step-1")).await;
    let res = app
        .onboarding_step("user_b", "step-2", json!({"brandDescription": BRAND}))
        .await;
    assert_eq!(res.status, 409, "user_b has no step 1 of their own");
    assert_eq!(brand_description(&app, "user_a").await, None);
}

/// The stored address and whether it was verified.
async fn stored_email(app: &TestApp, user: &str) -> (Option<String>, bool) {
    let row = app
        .db
        .client()
        .await
        .query_one(
            "SELECT email, email_verified FROM user_profiles WHERE user_id = $1",
            &[&user],
        )
        .await
        .unwrap();
    (row.get(0), row.get(1))
}

/// Step `step` with `email` in the token (and `email_verified` when given), answered 200.
async fn step_with_email(
    app: &TestApp,
    user: &str,
    step: &str,
    email: &str,
    verified: Option<&str>,
) -> Value {
    let mut call = app
        .onboarding_step(user, step, onboarding_body(step))
        .claim("email", email);
    if let Some(verified) = verified {
        call = call.claim("email_verified", verified);
    }
    let res = call.await;
    assert_eq!(res.status, 200, "{step}: {res}");
    res.json
}

#[tokio::test]
async fn an_email_claim_that_is_not_an_address_is_not_stored_and_onboarding_goes_on() {
    let app = TestApp::new().await;
    for (user, bad) in [
        ("user_a", "not-an-address"),
        ("user_b", "ada@example.com "),
        ("user_c", "\u{212A}ate@example.com"),
        ("user_d", "ada@localhost"),
    ] {
        let view = step_with_email(&app, user, "step-1", bad, Some("true")).await;
        assert_eq!(view["profile"]["email"], Value::Null, "{bad:?}");
        assert_eq!(stored_email(&app, user).await, (None, false), "{bad:?}");
    }
    // A good address is stored; a bad one later keeps it.
    step_with_email(&app, "user_a", "step-2", "Ada@Example.com", Some("true")).await;
    assert_eq!(
        stored_email(&app, "user_a").await,
        (Some("Ada@Example.com".into()), true)
    );
    step_with_email(&app, "user_a", "complete", "not-an-address", Some("true")).await;
    assert_eq!(
        stored_email(&app, "user_a").await,
        (Some("Ada@Example.com".into()), true)
    );
}

#[tokio::test]
async fn an_address_the_token_says_is_unverified_is_not_stored() {
    let app = TestApp::new().await;
    step_with_email(&app, "user_a", "step-1", "ada@example.com", Some("false")).await;
    assert_eq!(stored_email(&app, "user_a").await, (None, false));
    // Without the claim at all (a template that does not carry it) the address is stored, as one
    // not known to be verified.
    step_with_email(&app, "user_a", "step-2", "ada@example.com", None).await;
    assert_eq!(
        stored_email(&app, "user_a").await,
        (Some("ada@example.com".into()), false)
    );
    step_with_email(&app, "user_a", "complete", "ada@example.com", Some("true")).await;
    assert_eq!(
        stored_email(&app, "user_a").await,
        (Some("ada@example.com".into()), true)
    );
}
