//! The trial as onboarding starts it, the mock checkout, and the usage a user sees.

use serde_json::json;
use testkit::TestApp;

#[tokio::test]
async fn completing_onboarding_starts_a_trial_with_mock_stripe_ids_and_its_usage() {
    let app = TestApp::new().await;
    assert_eq!(app.get_usage("user_a").await.status, 404);
    app.complete_onboarding("user_a", None).await;
    let row = app
        .db
        .client()
        .await
        .query_one(
            "SELECT stripe_customer_id, stripe_subscription_id, subscription_status, trial_status FROM user_profiles",
            &[],
        )
        .await
        .unwrap();
    assert!(row.get::<_, String>(0).starts_with("cus_mock_"));
    assert!(row.get::<_, String>(1).starts_with("sub_mock_"));
    assert_eq!(row.get::<_, String>(2), "trialing");
    assert_eq!(row.get::<_, String>(3), "active");

    let res = app.get_usage("user_a").await;
    assert_eq!(res.status, 200);
    let usage = &res.json;
    assert_eq!(usage["plan"], "trial");
    assert_eq!(usage["subscriptionStatus"], "trialing");
    assert_eq!(usage["trial"]["status"], "active");
    assert_eq!(usage["trial"]["daysRemaining"], 6);
    assert_eq!(
        usage["credits"],
        json!({
            "used": 0, "limit": 2000,
            "periodStart": usage["trial"]["startsAt"], "periodEnd": usage["trial"]["endsAt"],
        })
    );
    assert_eq!(usage["searches"], json!({"running": 0, "maxRunning": 3}));
}

#[tokio::test]
async fn subscribing_activates_the_plan_converts_the_trial_and_applies_its_limits() {
    let app = TestApp::new().await;
    app.complete_onboarding("user_a", None).await;
    for bad in ["trial", "platinum"] {
        assert_eq!(
            app.billing_subscribe("user_a", bad).await.status,
            400,
            "{bad}"
        );
    }
    let res = app.billing_subscribe("user_a", "pro").await;
    assert_eq!(res.status, 200);
    let usage = &res.json;
    assert_eq!(usage["plan"], "pro");
    assert_eq!(usage["subscriptionStatus"], "active");
    assert_eq!(usage["trial"]["status"], "converted");
    assert_eq!(usage["credits"]["limit"], 50000);
    assert_eq!(usage["searches"]["maxRunning"], 5);

    // Without a profile there is nothing to subscribe.
    let res = app.billing_subscribe("user_b", "pro").await;
    assert_eq!((res.status, res.error_code()), (403, "onboarding_required"));
}

#[tokio::test]
async fn every_plan_of_the_table_has_its_limits_defined() {
    let app = TestApp::new().await;
    let rows = app
        .db
        .client()
        .await
        .query("SELECT id FROM plans ORDER BY id", &[])
        .await
        .unwrap();
    let mut plans: Vec<String> = rows.iter().map(|r| r.get(0)).collect();
    let mut defined: Vec<String> = domain::plan::Plan::ALL
        .iter()
        .map(|p| p.to_string())
        .collect();
    plans.sort();
    defined.sort();
    assert_eq!(plans, defined);
    for plan in &plans {
        for limit in [
            "max_running_searches",
            "period_credits",
            "credits_per_search",
        ] {
            assert!(
                domain::settings::find("limits", &format!("{limit}_{plan}")).is_some(),
                "{limit}_{plan}"
            );
        }
    }
}

/// The profile's plan, subscription status and trial status.
async fn standing(app: &TestApp, user: &str) -> (Option<String>, String, String) {
    let row = app
        .db
        .client()
        .await
        .query_one(
            "SELECT plan, subscription_status, trial_status FROM user_profiles WHERE user_id = $1",
            &[&user],
        )
        .await
        .unwrap();
    (row.get(0), row.get(1), row.get(2))
}

#[tokio::test]
async fn the_mock_checkout_answers_404_where_it_is_not_turned_on_and_changes_nothing() {
    let app = TestApp::builder().without_mock_checkout().build().await;
    app.complete_onboarding("user_a", None).await;
    let res = app.billing_subscribe("user_a", "pro").await;
    assert_eq!((res.status, res.error_code()), (404, "not_found"), "{res}");
    assert_eq!(
        standing(&app, "user_a").await,
        (None, "trialing".into(), "active".into())
    );
}

#[tokio::test]
async fn subscribing_after_onboarding_step_1_only_is_refused_and_changes_nothing() {
    let app = TestApp::new().await;
    let step = app
        .onboarding_step("user_a", "step-1", testkit::app::onboarding_body("step-1"))
        .await;
    assert_eq!(step.status, 200);
    let res = app.billing_subscribe("user_a", "pro").await;
    assert_eq!(
        (res.status, res.error_code()),
        (403, "onboarding_required"),
        "{res}"
    );
    assert_eq!(
        standing(&app, "user_a").await,
        (None, "none".into(), "pending".into())
    );
}

#[tokio::test]
async fn a_user_with_a_plan_who_has_not_completed_onboarding_cannot_start_a_search() {
    let app = TestApp::builder().queue().build().await;
    let step = app
        .onboarding_step("user_a", "step-1", testkit::app::onboarding_body("step-1"))
        .await;
    assert_eq!(step.status, 200);
    // A paid plan recorded however it was (a payment event, an operator): onboarding still comes
    // first.
    app.db
        .batch_execute(
            "UPDATE user_profiles SET plan = 'pro', subscription_status = 'active' WHERE user_id = 'user_a'",
        )
        .await;
    let campaign = app.new_campaign("user_a", "keyword").await;
    let res = app
        .start_scraping(
            "user_a",
            "tiktok",
            json!({"campaignId": campaign, "keywords": ["nike"]}),
        )
        .await;
    assert_eq!(
        (res.status, res.error_code()),
        (403, "onboarding_required"),
        "{res}"
    );
    assert_eq!(app.db.count("scraping_jobs").await, 0);
    assert_eq!(app.queue_depth().await, 0);
}
