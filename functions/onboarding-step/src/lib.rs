//! `PATCH /onboarding/{step}` — `step-1`, `step-2` or `complete`, in that order.
//!
//! Each step runs in one transaction with the profile row locked, so two concurrent requests of one
//! user apply one after the other, and repeating a step changes nothing it should not (completing
//! twice starts one trial and schedules each email once).

use chrono::Utc;
use lambda_http::{http::StatusCode, Body, Request, Response};
use shared::{
    db::{self, profiles},
    domain::onboarding::{
        self, CompleteBody, OnboardingStep, Step1Body, Step2Body, StepRequest, Trial,
    },
    http::{self, ApiError},
};

pub async fn handler(pool: &db::Pool, req: Request) -> Response<Body> {
    http::respond(req, |user, req| async move {
        let step = parse_step(&req)?;
        let mut client = pool.get().await?;
        let tx = client.transaction().await?;
        let profile = apply(&tx, &user, step).await?;
        tx.commit().await?;
        Ok(http::json_response(
            StatusCode::OK,
            &profile.onboarding_view(Utc::now()),
        ))
    })
    .await
}

fn parse_step(req: &Request) -> http::Result<StepRequest> {
    match http::path_param(req, "step")?.as_str() {
        "step-1" => StepRequest::info(http::json_body::<Step1Body>(req)?),
        "step-2" => StepRequest::intent(http::json_body::<Step2Body>(req)?),
        "complete" => http::json_body::<CompleteBody>(req).map(|_| StepRequest::Complete),
        _ => Err(ApiError::NotFound("onboarding step")),
    }
}

async fn apply(
    tx: &db::Transaction<'_>,
    user: &str,
    step: StepRequest,
) -> http::Result<profiles::Profile> {
    if let StepRequest::Info {
        full_name,
        business_name,
    } = &step
    {
        return Ok(profiles::save_info(tx, user, full_name, business_name).await?);
    }
    let current = profiles::lock(tx, user).await?;
    let current_step = current
        .as_ref()
        .map_or(OnboardingStep::Pending, |p| p.onboarding_step);
    step.check_order(current_step)?;
    let profile = current.expect("a profile exists past step 1");
    let reached = step.reaches(current_step);
    Ok(match step {
        StepRequest::Intent { brand_description } => {
            profiles::save_intent(tx, user, &brand_description, reached).await?
        }
        // Completing again keeps the trial and the schedule made the first time.
        StepRequest::Complete if current_step == OnboardingStep::Completed => profile,
        StepRequest::Complete => {
            let trial = Trial::starting(Utc::now());
            let schedule = onboarding::email_schedule(profile.signup_timestamp, &trial);
            profiles::complete(tx, user, &trial, &schedule).await?
        }
        StepRequest::Info { .. } => unreachable!("handled above"),
    })
}
