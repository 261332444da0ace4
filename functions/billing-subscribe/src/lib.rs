//! `POST /billing/subscribe` `{"plan": "..."}` — the mock checkout: the subscription becomes
//! `active` on a paid plan of the catalogue, the trial `converted`, and the plan's limits apply.
//! No payment is taken (the original's Stripe integration was a mock too). Answers the usage.

use api::{usage, ApiError};
use db::billing;
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
        let plan_id = body.plan.trim();
        if plan_id.is_empty()
            || plan_id.len() > 50
            || !plan_id
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
        {
            return Err(not_a_plan());
        }
        let client = state.pool.get().await?;
        let plan = billing::plan(&client, plan_id)
            .await?
            .filter(|p| !p.is_trial)
            .ok_or_else(not_a_plan)?;
        if !billing::subscribe(&client, &user, &plan.id).await? {
            return Err(ApiError::Forbidden {
                code: "onboarding_required",
                message: "Complete onboarding before subscribing".into(),
            });
        }
        tracing::info!(plan = %plan.id, "subscribed");
        drop(client);
        let usage = usage::usage(state, &user).await?;
        Ok(api::json_response(StatusCode::OK, &usage))
    })
    .await
}
