//! Plans, credits and the account state a search start is checked against.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::GenericClient;
use crate::stored::Stored;
use domain::{billing::Standing, credits::PlanLimits, plan::Plan};

/// The user's profile standing, locked until the transaction ends so that two starts of one
/// user are checked one after the other (N+1 simultaneous starts with a limit of N accept N).
/// `None` without a profile.
pub async fn lock_standing(
    client: &impl GenericClient,
    user_id: &str,
) -> Result<Option<Standing>, tokio_postgres::Error> {
    read_standing(client, user_id, " FOR UPDATE").await
}

/// The user's standing, unlocked (for reads).
pub async fn standing(
    client: &impl GenericClient,
    user_id: &str,
) -> Result<Option<Standing>, tokio_postgres::Error> {
    read_standing(client, user_id, "").await
}

async fn read_standing(
    client: &impl GenericClient,
    user_id: &str,
    lock: &str,
) -> Result<Option<Standing>, tokio_postgres::Error> {
    let sql = format!(
        "SELECT onboarding_step = 'completed', subscription_status, plan, trial_start_date, trial_end_date
           FROM user_profiles WHERE user_id = $1{lock}"
    );
    let row = client.query_opt(&sql, &[&user_id]).await?;
    let Some(r) = row else { return Ok(None) };
    let plan: Option<Stored<_>> = r.try_get(2)?;
    Ok(Some(Standing {
        onboarding_completed: r.get(0),
        subscription_status: r.get(1),
        plan: plan.map(|p| p.0),
        trial_start: r.get(3),
        trial_end: r.get(4),
    }))
}

/// Searches of the user that are queued or running (and not past their deadline).
pub async fn running_searches(
    client: &impl GenericClient,
    user_id: &str,
) -> Result<i64, tokio_postgres::Error> {
    Ok(client
        .query_one(
            "SELECT count(*) FROM scraping_jobs
              WHERE user_id = $1 AND status IN ('pending', 'processing') AND timeout_at > now()",
            &[&user_id],
        )
        .await?
        .get(0))
}

/// Credits the user spent in their current billing period.
pub async fn period_credits(
    client: &impl GenericClient,
    user_id: &str,
) -> Result<i64, tokio_postgres::Error> {
    Ok(client
        .query_one(
            "SELECT COALESCE((SELECT credits FROM credit_ledger
                               WHERE user_id = $1 AND period_start = billing_period_start($1)), 0)",
            &[&user_id],
        )
        .await?
        .get(0))
}

/// Charges `credits` creator-API calls of a search: to the search and to its user's ledger for
/// the current period, in the caller's transaction. The ledger is charged even when the search
/// is gone (its campaign was deleted mid-step): the calls were made. Returns the search's total
/// and the period's.
pub async fn charge(
    client: &impl GenericClient,
    job_id: Uuid,
    user_id: &str,
    credits: i32,
) -> Result<(i64, i64), tokio_postgres::Error> {
    let row = client
        .query_one(
            "WITH job AS (
                 UPDATE scraping_jobs SET credits_used = credits_used + $2 WHERE id = $1
                 RETURNING credits_used
             ), ledger AS (
                 INSERT INTO credit_ledger (user_id, period_start, credits)
                 VALUES ($3, billing_period_start($3), $2::bigint)
                 ON CONFLICT (user_id, period_start)
                 DO UPDATE SET credits = credit_ledger.credits + EXCLUDED.credits, updated_at = now()
                 RETURNING credits
             )
             SELECT COALESCE((SELECT credits_used FROM job), 0)::bigint, (SELECT credits FROM ledger)",
            &[&job_id, &credits, &user_id],
        )
        .await?;
    Ok((row.get(0), row.get(1)))
}

/// What [`charge_before_call`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PreCharge {
    /// One call is charged; make it.
    Charged,
    /// The search was stopped (cancelled, timed out, failed) or is gone: no call.
    Stopped,
    /// The search's cap or its user's budget for the period is spent: no call.
    OverBudget,
}

/// Charges one creator-API call to a search before the call is made, only while the search may
/// spend: it runs or has completed, and `domain::credits::may_spend` holds for the call under
/// `limits` (the search under its cap, its user under the period's budget), checked here with
/// the search's row locked. Charging first keeps the count exact when a worker dies after its
/// call; a call that then never reached the API is given back with [`charge`] and `-1`. The
/// search's cap is exact (its row is locked); the period's budget may be passed by calls of the
/// user's other searches made at the same moment.
#[tracing::instrument(skip(client))]
pub async fn charge_before_call(
    client: &impl GenericClient,
    job_id: Uuid,
    user_id: &str,
    limits: &PlanLimits,
) -> Result<PreCharge, tokio_postgres::Error> {
    let stmt = client
        .prepare_cached(
            "WITH job AS (
                 UPDATE scraping_jobs SET credits_used = credits_used + 1
                  WHERE id = $1 AND status IN ('processing', 'completed') AND credits_used < $3::bigint
                    AND COALESCE((SELECT credits FROM credit_ledger
                                   WHERE user_id = $2 AND period_start = billing_period_start($2)), 0) < $4::bigint
                 RETURNING credits_used
             ), ledger AS (
                 INSERT INTO credit_ledger (user_id, period_start, credits)
                 SELECT $2, billing_period_start($2), 1 WHERE EXISTS (SELECT 1 FROM job)
                 ON CONFLICT (user_id, period_start)
                 DO UPDATE SET credits = credit_ledger.credits + EXCLUDED.credits, updated_at = now()
                 RETURNING credits
             )
             SELECT EXISTS (SELECT 1 FROM job),
                    EXISTS (SELECT 1 FROM scraping_jobs WHERE id = $1 AND status IN ('processing', 'completed')),
                    (SELECT count(*) FROM ledger)",
        )
        .await?;
    let row = client
        .query_one(
            &stmt,
            &[
                &job_id,
                &user_id,
                &limits.credits_per_search,
                &limits.period_credits,
            ],
        )
        .await?;
    Ok(match (row.get(0), row.get(1)) {
        (true, _) => PreCharge::Charged,
        (false, true) => PreCharge::OverBudget,
        (false, false) => PreCharge::Stopped,
    })
}

/// The mock checkout: the subscription is active on `plan` and the trial converted, for a user
/// who has completed onboarding. False (nothing changed) for anyone else.
pub async fn subscribe(
    client: &impl GenericClient,
    user_id: &str,
    plan: Plan,
) -> Result<bool, tokio_postgres::Error> {
    let n = client
        .execute(
            "UPDATE user_profiles SET plan = $2, subscription_status = 'active', trial_status = 'converted',
                 stripe_customer_id = COALESCE(stripe_customer_id, 'cus_mock_' || md5(user_id)),
                 stripe_subscription_id = 'sub_mock_' || md5(user_id || $2 || now()::text)
              WHERE user_id = $1 AND onboarding_step = 'completed'",
            &[&user_id, &plan.as_str()],
        )
        .await?;
    Ok(n == 1)
}

/// Records a verified Stripe event as received, with what it did. False when the event was
/// received before: it is not applied again. A second delivery arriving while the first is
/// being applied waits for the first's transaction, then finds it.
#[tracing::instrument(skip(client))]
pub async fn record_stripe_event(
    client: &impl GenericClient,
    event_id: &str,
    event_type: &str,
    created_at: DateTime<Utc>,
) -> Result<bool, tokio_postgres::Error> {
    let n = client
        .execute(
            "INSERT INTO stripe_events (id, type, created_at, outcome) VALUES ($1, $2, $3, 'received')
             ON CONFLICT (id) DO NOTHING",
            &[&event_id, &event_type, &created_at],
        )
        .await?;
    Ok(n == 1)
}

/// What applying a Stripe event did, as [`record_stripe_event`]'s row keeps it.
pub async fn set_stripe_event_outcome(
    client: &impl GenericClient,
    event_id: &str,
    outcome: &str,
) -> Result<(), tokio_postgres::Error> {
    client
        .execute(
            "UPDATE stripe_events SET outcome = $2 WHERE id = $1",
            &[&event_id, &outcome],
        )
        .await?;
    Ok(())
}

/// What a subscription change found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SubscriptionChange {
    Applied,
    /// No profile has this user id or subscription.
    NoProfile,
    /// A newer event was applied already.
    Stale,
}

impl SubscriptionChange {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Applied => "applied",
            Self::NoProfile => "no_profile",
            Self::Stale => "stale",
        }
    }
}

/// A paid checkout: the user's subscription is active on `plan` with Stripe's customer and
/// subscription ids, and their trial converted; unless an event newer than `event_at` was
/// applied already.
#[tracing::instrument(skip(client))]
pub async fn activate_subscription(
    client: &impl GenericClient,
    user_id: &str,
    plan: Plan,
    customer_id: Option<&str>,
    subscription_id: Option<&str>,
    event_at: DateTime<Utc>,
) -> Result<SubscriptionChange, tokio_postgres::Error> {
    let n = client
        .execute(
            "UPDATE user_profiles SET plan = $2, subscription_status = 'active', trial_status = 'converted',
                 stripe_customer_id = COALESCE($3, stripe_customer_id),
                 stripe_subscription_id = COALESCE($4, stripe_subscription_id),
                 stripe_event_at = $5
              WHERE user_id = $1 AND (stripe_event_at IS NULL OR stripe_event_at <= $5)",
            &[&user_id, &plan.as_str(), &customer_id, &subscription_id, &event_at],
        )
        .await?;
    change(client, n, "user_id", user_id).await
}

/// A subscription's new state from Stripe: its status (one of `user_profiles`'), and its plan
/// when the event names one; unless an event newer than `event_at` was applied already.
#[tracing::instrument(skip(client))]
pub async fn update_subscription(
    client: &impl GenericClient,
    subscription_id: &str,
    status: &str,
    plan: Option<Plan>,
    event_at: DateTime<Utc>,
) -> Result<SubscriptionChange, tokio_postgres::Error> {
    let n = client
        .execute(
            "UPDATE user_profiles SET subscription_status = $2, plan = COALESCE($3, plan), stripe_event_at = $4
              WHERE stripe_subscription_id = $1 AND (stripe_event_at IS NULL OR stripe_event_at <= $4)",
            &[&subscription_id, &status, &plan.map(Plan::as_str), &event_at],
        )
        .await?;
    change(client, n, "stripe_subscription_id", subscription_id).await
}

async fn change(
    client: &impl GenericClient,
    updated: u64,
    column: &str,
    value: &str,
) -> Result<SubscriptionChange, tokio_postgres::Error> {
    if updated > 0 {
        return Ok(SubscriptionChange::Applied);
    }
    let sql = format!("SELECT 1 FROM user_profiles WHERE {column} = $1");
    Ok(match client.query_opt(&sql, &[&value]).await? {
        Some(_) => SubscriptionChange::Stale,
        None => SubscriptionChange::NoProfile,
    })
}

/// Sweeper: trials past their end without a subscription become `expired` / `canceled`.
pub async fn expire_trials(client: &impl GenericClient) -> Result<u64, tokio_postgres::Error> {
    client
        .execute(
            "UPDATE user_profiles SET trial_status = 'expired', subscription_status = 'canceled'
              WHERE trial_status = 'active' AND subscription_status <> 'active' AND trial_end_date <= now()",
            &[],
        )
        .await
}

/// The user's current billing period, `[start, end)`: the one place it is computed is the
/// database's `billing_period_start` / `billing_period_end`, which the ledger is keyed by.
pub async fn period(
    client: &impl GenericClient,
    user_id: &str,
) -> Result<(DateTime<Utc>, DateTime<Utc>), tokio_postgres::Error> {
    let row = client
        .query_one(
            "SELECT billing_period_start($1), billing_period_end($1)",
            &[&user_id],
        )
        .await?;
    Ok((row.get(0), row.get(1)))
}
