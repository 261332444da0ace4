use serde_json::{json, Value};
use testkit::{body_json, ApiRequest, TestDb};

fn onboarding(db: &TestDb) -> onboarding_step::State {
    onboarding_step::State {
        pool: db.pool.clone(),
        settings: db::settings::SettingsCache::new(std::time::Duration::ZERO),
    }
}

async fn step(db: &TestDb, user: &str, step: &str, body: Value) -> (u16, Value) {
    let req = ApiRequest::new("PATCH", "/onboarding/{step}")
        .user(user)
        .path_param("step", step)
        .json(body);
    let res = onboarding_step::handler(&onboarding(db), req.build()).await;
    (res.status().as_u16(), body_json(&res))
}

const BRAND: &str = "We make plant-based protein snacks for busy runners and gym-goers.";

#[tokio::test]
async fn the_three_steps_in_order_complete_onboarding_and_start_a_seven_day_trial() {
    let db = TestDb::new().await;
    let (status, body) = step(
        &db,
        "user_a",
        "step-1",
        json!({"fullName": " Ada Lovelace ", "businessName": "Engines Ltd"}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["onboardingStep"], "info_captured");
    assert_eq!(body["profile"]["fullName"], "Ada Lovelace");

    let (status, body) = step(&db, "user_a", "step-2", json!({"brandDescription": BRAND})).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["onboardingStep"], "intent_captured");

    let (status, body) = step(&db, "user_a", "complete", json!({})).await;
    assert_eq!(status, 200, "{body}");
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
    let row = db
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
    let db = TestDb::new().await;
    let (status, body) = step(&db, "user_a", "step-2", json!({"brandDescription": BRAND})).await;
    assert_eq!(status, 409);
    assert_eq!(body["error"]["code"], "onboarding_step_out_of_order");
    assert_eq!(db.count("user_profiles").await, 0);

    step(
        &db,
        "user_a",
        "step-1",
        json!({"fullName": "Ada", "businessName": "Engines"}),
    )
    .await;
    let (status, _) = step(&db, "user_a", "complete", json!({})).await;
    assert_eq!(status, 409);
    let row = db
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
    let db = TestDb::new().await;
    step(
        &db,
        "user_a",
        "step-1",
        json!({"fullName": "Ada", "businessName": "Engines"}),
    )
    .await;
    step(
        &db,
        "user_a",
        "step-1",
        json!({"fullName": "Ada L", "businessName": "Engines"}),
    )
    .await;
    step(&db, "user_a", "step-2", json!({"brandDescription": BRAND})).await;
    let (_, first) = step(&db, "user_a", "complete", json!({})).await;
    let (status, again) = step(&db, "user_a", "complete", json!({})).await;
    assert_eq!(status, 200);
    assert_eq!(
        first["trial"]["startDate"], again["trial"]["startDate"],
        "the trial is not restarted"
    );
    assert_eq!(first["emailSchedule"], again["emailSchedule"]);

    let (_, edited) = step(
        &db,
        "user_a",
        "step-1",
        json!({"fullName": "Ada King", "businessName": "Engines"}),
    )
    .await;
    assert_eq!(edited["onboardingStep"], "completed");
    assert_eq!(edited["profile"]["fullName"], "Ada King");
    assert_eq!(db.count("user_profiles").await, 1);
}

#[tokio::test]
async fn invalid_steps_get_400_and_write_nothing() {
    let db = TestDb::new().await;
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
        let (status, err) = step(&db, "user_a", name, body.clone()).await;
        assert_eq!(status, 400, "{name} {body}");
        assert_eq!(
            err["error"]["details"][0]["field"], field,
            "{name} {body}: {err}"
        );
    }
    assert_eq!(db.count("user_profiles").await, 0);

    step(
        &db,
        "user_a",
        "step-1",
        json!({"fullName": "Ada", "businessName": "Engines"}),
    )
    .await;
    let (status, err) = step(
        &db,
        "user_a",
        "step-2",
        json!({"brandDescription": format!("  {}  ", "x".repeat(49))}),
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(err["error"]["details"][0]["field"], "brandDescription");
    let stored: Option<String> = db
        .client()
        .await
        .query_one("SELECT brand_description FROM user_profiles", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(stored, None);
}

#[tokio::test]
async fn an_unknown_step_is_a_404_and_no_user_is_a_401() {
    let db = TestDb::new().await;
    let (status, _) = step(&db, "user_a", "step-3", json!({})).await;
    assert_eq!(status, 404);
    let req = ApiRequest::new("PATCH", "/onboarding/{step}")
        .path_param("step", "step-1")
        .json(json!({"fullName": "a", "businessName": "b"}));
    assert_eq!(
        onboarding_step::handler(&onboarding(&db), req.build())
            .await
            .status(),
        401
    );
    assert_eq!(db.count("user_profiles").await, 0);
}

#[tokio::test]
async fn one_users_steps_do_not_touch_another_users_profile() {
    let db = TestDb::new().await;
    step(
        &db,
        "user_a",
        "step-1",
        json!({"fullName": "Ada", "businessName": "Engines"}),
    )
    .await;
    let (status, _) = step(&db, "user_b", "step-2", json!({"brandDescription": BRAND})).await;
    assert_eq!(status, 409, "user_b has no step 1 of their own");
    let desc: Option<String> = db
        .client()
        .await
        .query_one(
            "SELECT brand_description FROM user_profiles WHERE user_id = 'user_a'",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(desc, None);
}
