//! `PATCH /onboarding/{step}` — `step-1`, `step-2` or `complete`, in that order.
//!
//! Each step runs in one transaction with the profile row locked, so two concurrent requests of one
//! user apply one after the other, and repeating a step changes nothing it should not (completing
//! twice starts one trial and schedules each email once). The address of the token's `email`
//! claim is stored with the profile as the one the emails go to, when it is an address
//! ([`domain::address::parse`]) and the token does not say it is unverified (`email_verified`
//! false); otherwise the step goes on and the stored address (if any) is kept, so a user whose
//! sign-in address cannot be mailed is still onboarded, and their emails are skipped for want of
//! an address. The welcome and onboarding-reminder emails are scheduled when step 1 is first
//! saved, the trial's emails when onboarding completes.

use api::ApiError;
use chrono::{DateTime, Utc};
use db::{emails, profiles, profiles::NewEmail, settings::SettingsCache};
use domain::{
    email::Anchor, email::EmailKind, onboarding::CompleteBody, onboarding::OnboardingStep,
    onboarding::Step1Body, onboarding::Step2Body, onboarding::StepRequest, onboarding::Trial,
};
use lambda_http::{http::StatusCode, Body, Request, Response};

/// Built once per container.
pub struct State {
    pub pool: db::Pool,
    pub settings: SettingsCache,
}

pub async fn handler(state: &State, req: Request) -> Response<Body> {
    api::respond(req, |user, req| async move {
        let step = parse_step(&req)?;
        // An address the token says is unverified is not one to mail.
        let email = api::email_claim(&req).filter(|c| c.verified != Some(false));
        let mut client = state.pool.get().await?;
        let settings = state.settings.get(&client).await?;
        let tx = client.transaction().await?;
        let schedule = |anchor, at: DateTime<Utc>| -> Vec<(EmailKind, DateTime<Utc>)> {
            EmailKind::anchored_at(anchor)
                .map(|kind| (kind, at + settings.email_delay(kind)))
                .collect()
        };
        let email = email.as_ref().map(|c| NewEmail {
            address: &c.address,
            verified: c.verified == Some(true),
        });
        apply(&tx, &user, step, email, schedule).await?;
        // Read back: the schedule's view is written by the database as the emails are scheduled.
        let profile = profiles::find(&tx, &user)
            .await?
            .ok_or(ApiError::NotFound("onboarding profile"))?;
        tx.commit().await?;
        Ok(api::json_response(
            StatusCode::OK,
            &profile.onboarding_view(Utc::now()),
        ))
    })
    .await
}

fn parse_step(req: &Request) -> api::Result<StepRequest> {
    match api::path_param(req, "step")?.as_str() {
        "step-1" => Ok(StepRequest::info(api::json_body::<Step1Body>(req)?)?),
        "step-2" => Ok(StepRequest::intent(api::json_body::<Step2Body>(req)?)?),
        "complete" => api::json_body::<CompleteBody>(req).map(|_| StepRequest::Complete),
        _ => Err(ApiError::NotFound("onboarding step")),
    }
}

async fn apply(
    tx: &db::Transaction<'_>,
    user: &str,
    step: StepRequest,
    email: Option<NewEmail<'_>>,
    schedule: impl Fn(Anchor, DateTime<Utc>) -> Vec<(EmailKind, DateTime<Utc>)>,
) -> api::Result<()> {
    if let StepRequest::Info {
        full_name,
        business_name,
    } = &step
    {
        let (profile, created) =
            profiles::save_info(tx, user, full_name, business_name, email).await?;
        if created {
            let emails = schedule(Anchor::Signup, profile.signup_timestamp);
            emails::schedule(tx, user, &emails).await?;
        }
        return Ok(());
    }
    let current = profiles::lock(tx, user).await?;
    let current_step = current
        .as_ref()
        .map_or(OnboardingStep::Pending, |p| p.onboarding_step);
    step.check_order(current_step)?;
    if let Some(email) = email {
        profiles::refresh_email(tx, user, email).await?;
    }
    let reached = step.reaches(current_step);
    match step {
        StepRequest::Intent { brand_description } => {
            profiles::save_intent(tx, user, &brand_description, reached).await?;
        }
        // Completing again keeps the trial and the schedule made the first time.
        StepRequest::Complete if current_step == OnboardingStep::Completed => {}
        StepRequest::Complete => {
            let trial = Trial::starting(Utc::now());
            profiles::complete(tx, user, &trial).await?;
            emails::schedule(tx, user, &schedule(Anchor::TrialStart, trial.start)).await?;
        }
        StepRequest::Info { .. } => unreachable!("handled above"),
    }
    Ok(())
}
