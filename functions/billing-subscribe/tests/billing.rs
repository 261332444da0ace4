//! The trial as onboarding starts it, the mock checkout, and the usage a user sees.

use std::time::Duration;

use api::usage;
use db::settings::SettingsCache;
use serde_json::json;
use testkit::{body_json, ApiRequest, TestDb};

fn onboarding(db: &TestDb) -> onboarding_step::State {
    onboarding_step::State {
        pool: db.pool.clone(),
        settings: db::settings::SettingsCache::new(std::time::Duration::ZERO),
    }
}

fn state(db: &TestDb) -> usage::State {
    usage::State {
        pool: db.pool.clone(),
        settings: SettingsCache::new(Duration::ZERO),
    }
}

async fn complete_onboarding(db: &TestDb, user: &str) {
    let steps = [
        (
            "step-1",
            json!({"fullName": "Ada Lovelace", "businessName": "Engines Ltd"}),
        ),
        (
            "step-2",
            json!({"brandDescription": "We build analytical engines for curious people everywhere."}),
        ),
        ("complete", json!({})),
    ];
    for (step, body) in steps {
        let req = ApiRequest::new("PATCH", "/onboarding/{step}")
            .user(user)
            .path_param("step", step)
            .json(body);
        let res = onboarding_step::handler(&onboarding(db), req.build()).await;
        assert_eq!(res.status(), 200, "{step}: {}", body_json(&res));
    }
}

async fn usage_of(db: &TestDb, user: &str) -> (u16, serde_json::Value) {
    let res = get_usage::handler(
        &state(db),
        ApiRequest::new("GET", "/usage").user(user).build(),
    )
    .await;
    (res.status().as_u16(), body_json(&res))
}

#[tokio::test]
async fn completing_onboarding_starts_a_trial_with_mock_stripe_ids_and_its_usage() {
    let db = TestDb::new().await;
    assert_eq!(usage_of(&db, "user_a").await.0, 404);
    complete_onboarding(&db, "user_a").await;
    let row = db
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

    let (status, usage) = usage_of(&db, "user_a").await;
    assert_eq!(status, 200);
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
    let db = TestDb::new().await;
    complete_onboarding(&db, "user_a").await;
    let subscribe = |plan: &str| {
        ApiRequest::new("POST", "/billing/subscribe")
            .user("user_a")
            .json(json!({ "plan": plan }))
            .build()
    };
    for bad in ["trial", "platinum"] {
        let res = billing_subscribe::handler(&state(&db), subscribe(bad)).await;
        assert_eq!(res.status(), 400, "{bad}");
    }
    let res = billing_subscribe::handler(&state(&db), subscribe("pro")).await;
    assert_eq!(res.status(), 200);
    let usage = body_json(&res);
    assert_eq!(usage["plan"], "pro");
    assert_eq!(usage["subscriptionStatus"], "active");
    assert_eq!(usage["trial"]["status"], "converted");
    assert_eq!(usage["credits"]["limit"], 50000);
    assert_eq!(usage["searches"]["maxRunning"], 5);

    // Without a profile there is nothing to subscribe.
    let req = ApiRequest::new("POST", "/billing/subscribe")
        .user("user_b")
        .json(json!({"plan": "pro"}));
    let res = billing_subscribe::handler(&state(&db), req.build()).await;
    assert_eq!(res.status(), 403);
    assert_eq!(body_json(&res)["error"]["code"], "onboarding_required");
}

#[tokio::test]
async fn every_plan_of_the_table_has_its_limits_defined() {
    let db = TestDb::new().await;
    let rows = db
        .client()
        .await
        .query("SELECT id FROM plans ORDER BY id", &[])
        .await
        .unwrap();
    let mut plans: Vec<String> = rows.iter().map(|r| r.get(0)).collect();
    let mut defined: Vec<String> = domain::settings::PLANS
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
