//! `POST /billing/subscribe` `{"plan": "..."}` — the mock checkout: the subscription becomes
//! `active` on a paid plan of the catalogue, the trial `converted`, and the plan's limits apply.
//! No payment is taken (the original's Stripe integration was a mock too). Answers the usage.

use api::{usage, ApiError};
use db::billing;
use domain::plan::Plan;
use lambda_http::{http::StatusCode, Body, Request, Response};
use serde::Deserialize;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Subscribe {
    plan: String,
}

pub async fn handler(state: &usage::State, req: Request) -> Response<Body> {
    api::respond(req, |user, req| async move {
        let body: Subscribe = api::json_body(&req)?;
        let not_a_plan = || ApiError::invalid("plan", "must be a paid plan: starter or pro");
        let plan = Plan::parse(body.plan.trim())
            .filter(|p| *p != Plan::Trial)
            .ok_or_else(not_a_plan)?;
        let client = state.pool.get().await?;
        if !billing::subscribe(&client, &user, plan).await? {
            return Err(ApiError::Forbidden {
                code: "onboarding_required",
                message: "Complete onboarding before subscribing".into(),
            });
        }
        tracing::info!(plan = plan.as_str(), "subscribed");
        drop(client);
        let usage = usage::usage(state, &user).await?;
        Ok(api::json_response(StatusCode::OK, &usage))
    })
    .await
}
