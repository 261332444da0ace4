//! `user_profiles`: onboarding and trial state per Clerk user.

use chrono::{DateTime, Utc};
use serde_json::{json, Value};
use tokio_postgres::Row;

use super::GenericClient;
use domain::onboarding::{OnboardingStep, Trial, TrialSummary};

/// A user's profile as stored.
#[derive(Debug, Clone)]
pub struct Profile {
    pub user_id: String,
    pub email: Option<String>,
    pub onboarding_step: OnboardingStep,
    pub full_name: Option<String>,
    pub business_name: Option<String>,
    pub brand_description: Option<String>,
    pub signup_timestamp: DateTime<Utc>,
    pub email_schedule_status: Value,
    pub trial_start_date: Option<DateTime<Utc>>,
    pub trial_end_date: Option<DateTime<Utc>>,
    pub trial_status: String,
    pub subscription_status: String,
}

const COLUMNS: &str = "user_id, email, onboarding_step, full_name, business_name, brand_description, \
     signup_timestamp, email_schedule_status, trial_start_date, trial_end_date, trial_status, subscription_status";

impl Profile {
    /// What the onboarding routes answer: the step, the profile fields, the email schedule and
    /// the trial as of `now`.
    pub fn onboarding_view(&self, now: DateTime<Utc>) -> Value {
        let trial = TrialSummary::at(
            &self.trial_status,
            self.trial_start_date,
            self.trial_end_date,
            now,
        );
        json!({
            "onboardingStep": self.onboarding_step,
            "profile": {
                "userId": self.user_id,
                "email": self.email,
                "fullName": self.full_name,
                "businessName": self.business_name,
                "brandDescription": self.brand_description,
                "signupTimestamp": self.signup_timestamp,
            },
            "emailSchedule": self.email_schedule_status,
            "subscriptionStatus": self.subscription_status,
            "trial": trial,
        })
    }

    fn from_row(row: &Row) -> Self {
        Self {
            user_id: row.get("user_id"),
            email: row.get("email"),
            onboarding_step: OnboardingStep::parse(row.get("onboarding_step"))
                .unwrap_or(OnboardingStep::Pending),
            full_name: row.get("full_name"),
            business_name: row.get("business_name"),
            brand_description: row.get("brand_description"),
            signup_timestamp: row.get("signup_timestamp"),
            email_schedule_status: row.get("email_schedule_status"),
            trial_start_date: row.get("trial_start_date"),
            trial_end_date: row.get("trial_end_date"),
            trial_status: row.get("trial_status"),
            subscription_status: row.get("subscription_status"),
        }
    }
}

/// The profile, if the user has one.
#[tracing::instrument(skip(client))]
pub async fn find(
    client: &impl GenericClient,
    user_id: &str,
) -> Result<Option<Profile>, tokio_postgres::Error> {
    let sql = format!("SELECT {COLUMNS} FROM user_profiles WHERE user_id = $1");
    let row = client.query_opt(&sql, &[&user_id]).await?;
    Ok(row.as_ref().map(Profile::from_row))
}

/// The profile, locked until the transaction ends, so two requests of one user apply in turn.
#[tracing::instrument(skip(client))]
pub async fn lock(
    client: &impl GenericClient,
    user_id: &str,
) -> Result<Option<Profile>, tokio_postgres::Error> {
    let sql = format!("SELECT {COLUMNS} FROM user_profiles WHERE user_id = $1 FOR UPDATE");
    let row = client.query_opt(&sql, &[&user_id]).await?;
    Ok(row.as_ref().map(Profile::from_row))
}

/// An address to store as the one the emails go to: checked by the caller
/// (`domain::address::parse`), with whether its owner verified it.
#[derive(Debug, Clone, Copy)]
pub struct NewEmail<'a> {
    pub address: &'a str,
    pub verified: bool,
}

/// Step 1: creates the profile or updates its name fields, and stores `email` when given. The
/// step becomes `info_captured` unless the user is already further along. The flag is true when
/// the profile was created by this call.
#[tracing::instrument(skip(client))]
pub async fn save_info(
    client: &impl GenericClient,
    user_id: &str,
    full_name: &str,
    business_name: &str,
    email: Option<NewEmail<'_>>,
) -> Result<(Profile, bool), tokio_postgres::Error> {
    let sql = format!(
        "INSERT INTO user_profiles (user_id, full_name, business_name, email, email_verified, onboarding_step)
         VALUES ($1, $2, $3, $4, COALESCE($5, false), 'info_captured')
         ON CONFLICT (user_id) DO UPDATE SET
            full_name = EXCLUDED.full_name,
            business_name = EXCLUDED.business_name,
            email = COALESCE(EXCLUDED.email, user_profiles.email),
            email_verified = COALESCE($5, user_profiles.email_verified),
            onboarding_step = CASE WHEN user_profiles.onboarding_step = 'pending'
                                   THEN 'info_captured' ELSE user_profiles.onboarding_step END
         RETURNING {COLUMNS}, (xmax = 0) AS inserted"
    );
    let (address, verified) = (email.map(|e| e.address), email.map(|e| e.verified));
    let row = client
        .query_one(
            &sql,
            &[&user_id, &full_name, &business_name, &address, &verified],
        )
        .await?;
    Ok((Profile::from_row(&row), row.get("inserted")))
}

/// Stores `email` when it differs from the stored address or its verification (an address
/// changed in Clerk reaches the emails on the user's next onboarding request).
#[tracing::instrument(skip(client))]
pub async fn refresh_email(
    client: &impl GenericClient,
    user_id: &str,
    email: NewEmail<'_>,
) -> Result<(), tokio_postgres::Error> {
    client
        .execute(
            "UPDATE user_profiles SET email = $2, email_verified = $3
              WHERE user_id = $1 AND (email IS DISTINCT FROM $2 OR email_verified <> $3)",
            &[&user_id, &email.address, &email.verified],
        )
        .await?;
    Ok(())
}

/// Step 2: records the brand description and the step.
#[tracing::instrument(skip(client, brand_description))]
pub async fn save_intent(
    client: &impl GenericClient,
    user_id: &str,
    brand_description: &str,
    step: OnboardingStep,
) -> Result<Profile, tokio_postgres::Error> {
    let sql = format!(
        "UPDATE user_profiles SET brand_description = $2, onboarding_step = $3
         WHERE user_id = $1 RETURNING {COLUMNS}"
    );
    let row = client
        .query_one(&sql, &[&user_id, &brand_description, &step.as_str()])
        .await?;
    Ok(Profile::from_row(&row))
}

/// Completion: the trial starts (the trial's emails are scheduled by the caller).
#[tracing::instrument(skip(client))]
pub async fn complete(
    client: &impl GenericClient,
    user_id: &str,
    trial: &Trial,
) -> Result<Profile, tokio_postgres::Error> {
    let sql = format!(
        "UPDATE user_profiles SET onboarding_step = 'completed', trial_status = 'active',
            subscription_status = 'trialing', trial_start_date = $2, trial_end_date = $3,
            -- The mock Stripe integration's ids (no Stripe call is made).
            stripe_customer_id = COALESCE(stripe_customer_id, 'cus_mock_' || substr(md5(user_id), 1, 14)),
            stripe_subscription_id = COALESCE(stripe_subscription_id, 'sub_mock_' || substr(md5('sub' || user_id), 1, 14))
         WHERE user_id = $1 RETURNING {COLUMNS}"
    );
    let row = client
        .query_one(&sql, &[&user_id, &trial.start, &trial.end])
        .await?;
    Ok(Profile::from_row(&row))
}
