//! `POST /billing/subscribe` `{"plan": "..."}` — the mock checkout, for the local stack and the
//! tests only: the subscription becomes `active` on a paid plan of the catalogue, the trial
//! `converted`, and the plan's limits apply, with no payment taken. It answers 404 unless turned
//! on (`MOCK_CHECKOUT=1`, which `local serve` and the tests set), and a deployment does not
//! include it unless its `MockCheckout` parameter says so: there a subscription becomes active
//! only from a verified payment event (`stripe-webhook`). A user who has not completed
//! onboarding is refused (403 `onboarding_required`). Answers the usage.

use api::{usage, ApiError};
use db::billing;
use domain::plan::Plan;
use lambda_http::{http::StatusCode, Body, Request, Response};
use serde::Deserialize;

/// Built once per container.
pub struct State {
    pub usage: usage::State,
    /// Whether the mock checkout is on (`MOCK_CHECKOUT=1`); off, the route answers 404.
    pub mock_checkout: bool,
}

impl State {
    /// Whether the environment turns the mock checkout on: `MOCK_CHECKOUT` is `1` or `true`.
    pub fn mock_checkout_from_env() -> bool {
        std::env::var("MOCK_CHECKOUT").is_ok_and(|v| matches!(v.trim(), "1" | "true"))
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Subscribe {
    plan: String,
}

pub async fn handler(state: &State, req: Request) -> Response<Body> {
    api::respond(req, |user, req| async move {
        if !state.mock_checkout {
            return Err(ApiError::NotFound("route"));
        }
        let body: Subscribe = api::json_body(&req)?;
        let not_a_plan = || ApiError::invalid("plan", "must be a paid plan: starter or pro");
        let plan = Plan::parse(body.plan.trim())
            .filter(|p| *p != Plan::Trial)
            .ok_or_else(not_a_plan)?;
        let client = state.usage.pool.get().await?;
        if !billing::subscribe(&client, &user, plan).await? {
            return Err(ApiError::Forbidden {
                code: "onboarding_required",
                message: "Complete onboarding before subscribing".into(),
            });
        }
        tracing::info!(plan = plan.as_str(), "subscribed (mock checkout)");
        drop(client);
        let usage = usage::usage(&state.usage, &user).await?;
        Ok(api::json_response(StatusCode::OK, &usage))
    })
    .await
}
