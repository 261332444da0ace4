//! What a user has spent and may still spend: `GET /usage`, also the answer of
//! `POST /billing/subscribe`.

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::{ApiError, Result};
use db::{billing, settings::SettingsCache};
use domain::onboarding::TrialSummary;
use domain::plan::Plan;

/// Built once per container by the billing functions.
pub struct State {
    pub pool: db::Pool,
    pub settings: SettingsCache,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Usage {
    /// The plan whose limits apply; `null` when none does (onboarding not completed, or the
    /// trial over without a subscription).
    pub plan: Option<Plan>,
    pub trial: TrialView,
    pub subscription_status: String,
    pub credits: Credits,
    pub searches: Searches,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TrialView {
    pub status: String,
    pub starts_at: Option<DateTime<Utc>>,
    pub ends_at: Option<DateTime<Utc>>,
    pub days_remaining: i64,
    pub hours_remaining: i64,
    pub minutes_remaining: i64,
    pub progress_percent: u8,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Credits {
    pub used: i64,
    pub limit: i64,
    pub period_start: DateTime<Utc>,
    pub period_end: DateTime<Utc>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Searches {
    pub running: i64,
    pub max_running: i64,
}

/// The caller's usage; 404 without a profile.
pub async fn usage(state: &State, user: &str) -> Result<Usage> {
    let client = state.pool.get().await?;
    let settings = state.settings.get(&client).await?;
    let row = client
        .query_opt(
            "SELECT trial_status FROM user_profiles WHERE user_id = $1",
            &[&user],
        )
        .await?
        .ok_or(ApiError::NotFound("profile"))?;
    let trial_status: String = row.get(0);
    let standing = billing::standing(&client, user)
        .await?
        .ok_or(ApiError::NotFound("profile"))?;
    let now = Utc::now();
    let plan = standing.plan_at(now).ok();
    let limits = settings.limits(standing.limits_plan(now));
    let (period_start, period_end) = billing::period(&client, user).await?;
    let summary = TrialSummary::at(&trial_status, standing.trial_start, standing.trial_end, now);
    let minutes = standing
        .trial_end
        .map(|end| ((end - now).num_minutes().max(0)) % 60)
        .unwrap_or(0);
    Ok(Usage {
        trial: TrialView {
            status: summary.status,
            starts_at: summary.start_date,
            ends_at: summary.end_date,
            days_remaining: summary.days_remaining,
            hours_remaining: summary.hours_remaining,
            minutes_remaining: minutes,
            progress_percent: summary.progress_percent,
        },
        subscription_status: standing.subscription_status.clone(),
        credits: Credits {
            used: billing::period_credits(&client, user).await?,
            limit: limits.period_credits,
            period_start,
            period_end,
        },
        searches: Searches {
            running: billing::running_searches(&client, user).await?,
            max_running: limits.max_running,
        },
        plan,
    })
}
