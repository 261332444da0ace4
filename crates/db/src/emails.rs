//! `scheduled_emails`: one row per (user, email). Scheduling inserts it (never twice); the sender
//! claims due rows with `FOR UPDATE SKIP LOCKED`, so overlapping runs never claim one row twice,
//! and records the outcome only while its claim is still the row's latest (`attempts` matches).
//! A claim counts an attempt; an outcome that made no attempt (a deferral, a claim released
//! unsent) gives it back, so while a row is `sending` its `attempts` is always one more than the
//! calls recorded before, and an older claim's number never matches it again.
//! A trigger mirrors every outcome into `user_profiles.email_schedule_status`.

use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio_postgres::Row;

use super::GenericClient;
use domain::{
    email::{EmailKind, Recipient},
    onboarding::OnboardingStep,
};

/// A due email claimed by this run: its row and what the send-time check reads of the user.
#[derive(Debug, Clone)]
pub struct Claimed {
    pub id: i64,
    pub kind: EmailKind,
    /// This claim's attempt number (1 for the first call to the provider).
    pub attempts: i32,
    /// Times the email was held back by the provider's account before (see [`Outcome::Deferred`]).
    pub deferrals: i32,
    pub recipient: Recipient,
}

/// An email whose stored row cannot be read (an unknown kind or step): it is failed, not guessed.
#[derive(Debug, thiserror::Error)]
#[error("scheduled email {id} has an unreadable {what}: {value}")]
pub struct Unreadable {
    pub id: i64,
    pub attempts: i32,
    pub what: &'static str,
    pub value: String,
}

/// Schedules `emails` (kind, due time) for `user_id`; one already scheduled (whatever its state)
/// is left as it is, so each email is scheduled at most once.
#[tracing::instrument(skip(client))]
pub async fn schedule(
    client: &impl GenericClient,
    user_id: &str,
    emails: &[(EmailKind, DateTime<Utc>)],
) -> Result<(), tokio_postgres::Error> {
    let kinds: Vec<&str> = emails.iter().map(|(k, _)| k.as_str()).collect();
    let due: Vec<DateTime<Utc>> = emails.iter().map(|(_, d)| *d).collect();
    client
        .execute(
            "INSERT INTO scheduled_emails (user_id, kind, due_at, next_attempt_at)
             SELECT $1, kind, due, due FROM unnest($2::text[], $3::timestamptz[]) AS e (kind, due)
             ON CONFLICT (user_id, kind) DO NOTHING",
            &[&user_id, &kinds, &due],
        )
        .await?;
    Ok(())
}

/// Claims up to `limit` emails that are due, or whose earlier claim ran out (a run that
/// crashed), for `lease`; each claim counts one attempt.
#[tracing::instrument(skip(client))]
pub async fn claim_due(
    client: &impl GenericClient,
    limit: i64,
    lease: Duration,
) -> Result<Vec<Result<Claimed, Unreadable>>, tokio_postgres::Error> {
    let rows = client
        .query(
            "WITH due AS (
                 SELECT id FROM scheduled_emails
                  WHERE (status = 'scheduled' AND next_attempt_at <= now())
                     OR (status = 'sending' AND claimed_until <= now())
                  ORDER BY next_attempt_at, id
                  LIMIT $1
                  FOR UPDATE SKIP LOCKED
             ), claimed AS (
                 UPDATE scheduled_emails e
                    SET status = 'sending', attempts = e.attempts + 1,
                        claimed_until = now() + make_interval(secs => $2)
                   FROM due WHERE e.id = due.id
                 RETURNING e.id, e.user_id, e.kind, e.attempts, e.deferrals
             )
             SELECT c.id, c.kind, c.attempts, c.deferrals, p.user_id, p.email, p.full_name, p.business_name,
                    p.onboarding_step, p.trial_status, p.subscription_status, p.trial_end_date,
                    p.reminders_unsubscribed_at IS NOT NULL AS unsubscribed,
                    COALESCE(pl.name, 'Trial') AS plan_name
               FROM claimed c
               JOIN user_profiles p ON p.user_id = c.user_id
               LEFT JOIN plans pl ON pl.id = COALESCE(p.plan, 'trial')
              ORDER BY c.id",
            &[&limit, &lease.as_secs_f64()],
        )
        .await?;
    Ok(rows.iter().map(claimed).collect())
}

fn claimed(row: &Row) -> Result<Claimed, Unreadable> {
    let id: i64 = row.get("id");
    let attempts: i32 = row.get("attempts");
    let unreadable = |what, value: &str| Unreadable {
        id,
        attempts,
        what,
        value: value.to_owned(),
    };
    let kind: &str = row.get("kind");
    let kind = EmailKind::parse(kind).ok_or_else(|| unreadable("kind", kind))?;
    let step: &str = row.get("onboarding_step");
    let onboarding_step =
        OnboardingStep::parse(step).ok_or_else(|| unreadable("onboarding step", step))?;
    Ok(Claimed {
        id,
        kind,
        attempts,
        deferrals: row.get("deferrals"),
        recipient: Recipient {
            user_id: row.get("user_id"),
            email: row.get("email"),
            full_name: row.get("full_name"),
            business_name: row.get("business_name"),
            onboarding_step,
            trial_status: row.get("trial_status"),
            subscription_status: row.get("subscription_status"),
            trial_end_date: row.get("trial_end_date"),
            plan_name: row.get("plan_name"),
            reminders_unsubscribed: row.get("unsubscribed"),
        },
    })
}

/// How a claimed email ended, or that it is to be tried again. Reasons are short codes
/// (`provider_throttled`, `invalid_address`, ...), shown to users as they are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Sent {
        message_id: String,
    },
    Skipped {
        reason: String,
    },
    Failed {
        reason: String,
    },
    /// The call failed and is worth another: tried again after `delay`, the attempt counted.
    RetryAfter {
        delay: Duration,
        reason: String,
    },
    /// The provider's account held the email back (throttling, the daily quota, a paused
    /// account): tried again after `delay`, no attempt counted.
    Deferred {
        delay: Duration,
        reason: String,
    },
    /// Claimed but never sent (the run ran out of time or stopped): due again at once, no
    /// attempt counted.
    Released,
}

/// Records `outcome` of claim `attempts` of email `id`. False when the claim is no longer the
/// row's latest (it ran out and another run claimed the email again): nothing is written.
#[tracing::instrument(skip(client))]
pub async fn record(
    client: &impl GenericClient,
    id: i64,
    attempts: i32,
    outcome: &Outcome,
) -> Result<bool, tokio_postgres::Error> {
    let guard = "WHERE id = $1 AND attempts = $2 AND status = 'sending'";
    let n = match outcome {
        Outcome::Sent { message_id } => {
            client
                .execute(
                    &format!(
                        "UPDATE scheduled_emails SET status = 'sent', message_id = $3, reason = NULL,
                            finished_at = now(), claimed_until = NULL {guard}"
                    ),
                    &[&id, &attempts, message_id],
                )
                .await?
        }
        Outcome::Skipped { reason } | Outcome::Failed { reason } => {
            let status = if matches!(outcome, Outcome::Skipped { .. }) {
                "skipped"
            } else {
                "failed"
            };
            client
                .execute(
                    &format!(
                        "UPDATE scheduled_emails SET status = $3, reason = $4, finished_at = now(),
                            claimed_until = NULL {guard}"
                    ),
                    &[&id, &attempts, &status, reason],
                )
                .await?
        }
        Outcome::RetryAfter { delay, reason } => {
            client
                .execute(
                    &format!(
                        "UPDATE scheduled_emails SET status = 'scheduled', reason = $3,
                            next_attempt_at = now() + make_interval(secs => $4), claimed_until = NULL {guard}"
                    ),
                    &[&id, &attempts, reason, &delay.as_secs_f64()],
                )
                .await?
        }
        Outcome::Deferred { delay, reason } => {
            client
                .execute(
                    &format!(
                        "UPDATE scheduled_emails SET status = 'scheduled', reason = $3,
                            attempts = attempts - 1, deferrals = deferrals + 1,
                            next_attempt_at = now() + make_interval(secs => $4), claimed_until = NULL {guard}"
                    ),
                    &[&id, &attempts, reason, &delay.as_secs_f64()],
                )
                .await?
        }
        Outcome::Released => {
            client
                .execute(
                    &format!(
                        "UPDATE scheduled_emails SET status = 'scheduled', attempts = attempts - 1,
                            claimed_until = NULL {guard}"
                    ),
                    &[&id, &attempts],
                )
                .await?
        }
    };
    Ok(n == 1)
}

/// Stops every reminder to `user_id`. False when there is no such user. Repeating it keeps the
/// first time.
#[tracing::instrument(skip(client))]
pub async fn unsubscribe_reminders(
    client: &impl GenericClient,
    user_id: &str,
) -> Result<bool, tokio_postgres::Error> {
    let n = client
        .execute(
            "UPDATE user_profiles SET reminders_unsubscribed_at = COALESCE(reminders_unsubscribed_at, now())
             WHERE user_id = $1",
            &[&user_id],
        )
        .await?;
    Ok(n == 1)
}
