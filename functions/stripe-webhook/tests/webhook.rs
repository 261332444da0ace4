//! Stripe's events through the webhook, signed as Stripe signs them, in the shapes of Stripe's
//! documented events (`testkit/fixtures/stripe`), against a real database.

use serde_json::{json, Value};
use stripe_webhook::{signature, State};
use testkit::{ApiRequest, TestApp, TestResponse};

const SECRET: &str = "whsec_test_b8V3qK0nX5mR2tY7wE4uI9oP1aS6dF";

fn fixture(name: &str) -> Value {
    let path = format!(
        "{}/../../testkit/fixtures/stripe/{name}.json",
        env!("CARGO_MANIFEST_DIR")
    );
    serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap()
}

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

/// The fixture `name` as event `id`, created at `created`, with `edit` applied to its object.
fn event(name: &str, id: &str, created: i64, edit: impl FnOnce(&mut Value)) -> String {
    let mut event = fixture(name);
    event["id"] = json!(id);
    event["created"] = json!(created);
    edit(&mut event["data"]["object"]);
    event.to_string()
}

/// A paid checkout of `plan` by `user`.
fn checkout(id: &str, created: i64, user: &str, plan: &str) -> String {
    event("checkout.session.completed", id, created, |o| {
        o["client_reference_id"] = json!(user);
        o["metadata"]["plan"] = json!(plan);
    })
}

struct Hook {
    app: TestApp,
    state: State,
}

impl Hook {
    async fn new() -> Self {
        let app = TestApp::new().await;
        let state = State::new(app.db.pool.clone(), SECRET.into()).unwrap();
        Self { app, state }
    }

    /// `body` with `header` as its `Stripe-Signature` (none: no header).
    async fn post(&self, body: &str, header: Option<&str>) -> TestResponse {
        let mut req = ApiRequest::new("POST", "/billing/stripe/webhook")
            .raw_body(body)
            .header("content-type", "application/json; charset=utf-8");
        if let Some(header) = header {
            req = req.header("stripe-signature", header);
        }
        TestResponse::from(stripe_webhook::handler(&self.state, req.build()).await)
    }

    /// `body` signed now with the endpoint's secret, as Stripe sends it.
    async fn deliver(&self, body: &str) -> TestResponse {
        let header = signature::sign(body.as_bytes(), SECRET.as_bytes(), now());
        self.post(body, Some(&header)).await
    }

    async fn outcome(&self, body: &str) -> String {
        let res = self.deliver(body).await;
        assert_eq!(res.status, 200, "{res}");
        assert_eq!(res.json["received"], true);
        res.json["outcome"].as_str().unwrap().to_owned()
    }

    /// plan, subscription status, trial status, customer and subscription ids.
    async fn profile(&self, user: &str) -> Value {
        let row = self
            .app
            .db
            .client()
            .await
            .query_one(
                "SELECT plan, subscription_status, trial_status, stripe_customer_id, stripe_subscription_id
                   FROM user_profiles WHERE user_id = $1",
                &[&user],
            )
            .await
            .unwrap();
        json!({
            "plan": row.get::<_, Option<String>>(0),
            "subscription": row.get::<_, String>(1),
            "trial": row.get::<_, String>(2),
            "customer": row.get::<_, Option<String>>(3),
            "subscriptionId": row.get::<_, Option<String>>(4),
        })
    }
}

#[tokio::test]
async fn a_paid_checkout_signed_as_stripe_signs_activates_the_plan() {
    let hook = Hook::new().await;
    hook.app.complete_onboarding("user_a", None).await;
    let outcome = hook
        .outcome(&checkout("evt_checkout_1", now(), "user_a", "pro"))
        .await;
    assert_eq!(outcome, "applied");
    assert_eq!(
        hook.profile("user_a").await,
        json!({"plan": "pro", "subscription": "active", "trial": "converted",
               "customer": "cus_RYx4pQ2nV7bWkE", "subscriptionId": "sub_1QfK2tLkdIwHu7ixT5mYq8Rz"})
    );
    let usage = hook.app.get_usage("user_a").await;
    assert_eq!(usage.json["plan"], "pro");
    assert_eq!(usage.json["credits"]["limit"], 50000);
    let row = hook
        .app
        .db
        .client()
        .await
        .query_one(
            "SELECT type, outcome FROM stripe_events WHERE id = 'evt_checkout_1'",
            &[],
        )
        .await
        .unwrap();
    assert_eq!(
        (row.get::<_, String>(0), row.get::<_, String>(1)),
        ("checkout.session.completed".into(), "applied".into())
    );
}

#[tokio::test]
async fn an_event_delivered_again_is_applied_once() {
    let hook = Hook::new().await;
    hook.app.complete_onboarding("user_a", None).await;
    let t = now();
    let paid = checkout("evt_checkout_1", t - 20, "user_a", "pro");
    assert_eq!(hook.outcome(&paid).await, "applied");
    let deleted = event(
        "customer.subscription.deleted",
        "evt_deleted_1",
        t - 10,
        |_| {},
    );
    assert_eq!(hook.outcome(&deleted).await, "applied");
    assert_eq!(hook.profile("user_a").await["subscription"], "canceled");
    // Stripe retries the checkout's delivery: acknowledged, and the cancellation stands.
    assert_eq!(hook.outcome(&paid).await, "duplicate");
    assert_eq!(hook.outcome(&deleted).await, "duplicate");
    assert_eq!(hook.profile("user_a").await["subscription"], "canceled");
    assert_eq!(hook.app.db.count("stripe_events").await, 2);
}

#[tokio::test]
async fn requests_without_a_valid_signature_are_400_and_change_nothing() {
    let hook = Hook::new().await;
    hook.app.complete_onboarding("user_a", None).await;
    let body = checkout("evt_forged", now(), "user_a", "pro");
    let t = now();
    let good = signature::sign(body.as_bytes(), SECRET.as_bytes(), t);
    let v1 = good.split_once(",v1=").unwrap().1.to_owned();
    let altered = body.replace("\"pro\"", "\"starter\"");
    let cases: Vec<(&str, Option<String>, &str)> = vec![
        ("no header", None, &body),
        ("an empty header", Some(String::new()), &body),
        ("no timestamp", Some(format!("v1={v1}")), &body),
        ("no v1", Some(format!("t={t}")), &body),
        ("only a v0", Some(format!("t={t},v0={v1}")), &body),
        ("not hex", Some(format!("t={t},v1=zz{}", &v1[2..])), &body),
        (
            "another secret",
            Some(signature::sign(
                body.as_bytes(),
                b"whsec_someone_elses_secret_000000",
                t,
            )),
            &body,
        ),
        ("a body altered after signing", Some(good.clone()), &altered),
        (
            "another timestamp than the one signed",
            Some(format!("t={},v1={v1}", t + 1)),
            &body,
        ),
        (
            "signed ten minutes ago",
            Some(signature::sign(body.as_bytes(), SECRET.as_bytes(), t - 600)),
            &body,
        ),
        (
            "signed ten minutes ahead",
            Some(signature::sign(body.as_bytes(), SECRET.as_bytes(), t + 600)),
            &body,
        ),
    ];
    for (case, header, body) in cases {
        let res = hook.post(body, header.as_deref()).await;
        assert_eq!(
            (res.status, res.error_code()),
            (400, "invalid_signature"),
            "{case}: {res}"
        );
    }
    assert_eq!(hook.app.db.count("stripe_events").await, 0);
    assert_eq!(hook.profile("user_a").await["subscription"], "trialing");
}

#[tokio::test]
async fn any_of_several_v1_signatures_may_match_as_while_a_secret_is_rolled() {
    let hook = Hook::new().await;
    hook.app.complete_onboarding("user_a", None).await;
    let body = checkout("evt_rolled", now(), "user_a", "starter");
    let t = now();
    let old = signature::sign(body.as_bytes(), b"whsec_the_previous_secret_0000000", t);
    let new = signature::sign(body.as_bytes(), SECRET.as_bytes(), t);
    let header = format!("{old},{}", new.split_once(',').unwrap().1);
    let res = hook.post(&body, Some(&header)).await;
    assert_eq!(res.status, 200, "{res}");
    assert_eq!(hook.profile("user_a").await["plan"], "starter");
}

#[tokio::test]
async fn a_signed_body_that_is_not_an_event_is_400() {
    let hook = Hook::new().await;
    for body in ["not json", "[]", r#"{"id": "evt_1", "type": "x"}"#] {
        let res = hook.deliver(body).await;
        assert_eq!(
            (res.status, res.error_code()),
            (400, "invalid_body"),
            "{body}"
        );
    }
    assert_eq!(hook.app.db.count("stripe_events").await, 0);
}

#[tokio::test]
async fn other_event_types_are_acknowledged_and_change_nothing() {
    let hook = Hook::new().await;
    hook.app.complete_onboarding("user_a", None).await;
    let mut invoice = fixture("checkout.session.completed");
    invoice["id"] = json!("evt_invoice");
    invoice["type"] = json!("invoice.paid");
    invoice["created"] = json!(now());
    assert_eq!(hook.outcome(&invoice.to_string()).await, "ignored");
    assert_eq!(hook.profile("user_a").await["subscription"], "trialing");
}

#[tokio::test]
async fn subscription_changes_follow_stripe_and_an_older_event_does_not_undo_a_newer_one() {
    let hook = Hook::new().await;
    hook.app.complete_onboarding("user_a", None).await;
    let t = now() - 100;
    assert_eq!(
        hook.outcome(&checkout("evt_1", t, "user_a", "pro")).await,
        "applied"
    );
    // The fixture: payment failed (past_due), on the price whose lookup key is `starter`.
    let past_due = event("customer.subscription.updated", "evt_3", t + 30, |_| {});
    assert_eq!(hook.outcome(&past_due).await, "applied");
    let profile = hook.profile("user_a").await;
    assert_eq!(
        (&profile["subscription"], &profile["plan"]),
        (&json!("past_due"), &json!("starter"))
    );
    // An older update delivered late changes nothing.
    let older = event("customer.subscription.updated", "evt_2", t + 10, |o| {
        o["status"] = json!("active");
    });
    assert_eq!(hook.outcome(&older).await, "stale");
    assert_eq!(hook.profile("user_a").await["subscription"], "past_due");
    // Paid again, then cancelled.
    let active = event("customer.subscription.updated", "evt_4", t + 40, |o| {
        o["status"] = json!("active");
        o["metadata"] = json!({"plan": "pro"});
    });
    assert_eq!(hook.outcome(&active).await, "applied");
    let profile = hook.profile("user_a").await;
    assert_eq!(
        (&profile["subscription"], &profile["plan"]),
        (&json!("active"), &json!("pro"))
    );
    let deleted = event("customer.subscription.deleted", "evt_5", t + 50, |_| {});
    assert_eq!(hook.outcome(&deleted).await, "applied");
    assert_eq!(hook.profile("user_a").await["subscription"], "canceled");
    // Another subscription's events touch no one.
    let other = event("customer.subscription.updated", "evt_6", t + 60, |o| {
        o["id"] = json!("sub_someone_else");
    });
    assert_eq!(hook.outcome(&other).await, "no_profile");
}

#[tokio::test]
async fn a_checkout_paid_later_activates_on_its_payment_and_incomplete_ones_change_nothing() {
    let hook = Hook::new().await;
    hook.app.complete_onboarding("user_a", None).await;
    let t = now() - 100;
    let unpaid = event("checkout.session.completed", "evt_1", t, |o| {
        o["client_reference_id"] = json!("user_a");
        o["payment_status"] = json!("unpaid");
    });
    assert_eq!(hook.outcome(&unpaid).await, "awaiting_payment");
    assert_eq!(hook.profile("user_a").await["subscription"], "trialing");
    let mut paid: Value =
        serde_json::from_str(&event("checkout.session.completed", "evt_2", t + 60, |o| {
            o["client_reference_id"] = json!("user_a");
        }))
        .unwrap();
    paid["type"] = json!("checkout.session.async_payment_succeeded");
    assert_eq!(hook.outcome(&paid.to_string()).await, "applied");
    assert_eq!(hook.profile("user_a").await["plan"], "pro");

    let no_user = event("checkout.session.completed", "evt_3", t + 70, |o| {
        o["client_reference_id"] = Value::Null;
    });
    assert_eq!(hook.outcome(&no_user).await, "no_user");
    let no_plan = event("checkout.session.completed", "evt_4", t + 80, |o| {
        o["client_reference_id"] = json!("user_a");
        o["metadata"] = json!({});
    });
    assert_eq!(hook.outcome(&no_plan).await, "no_plan");
    let nobody = checkout("evt_5", t + 90, "user_nobody", "pro");
    assert_eq!(hook.outcome(&nobody).await, "no_profile");
    assert_eq!(hook.app.db.count("user_profiles").await, 1);
}
