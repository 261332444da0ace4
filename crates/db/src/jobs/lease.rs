//! The step protocol on the job row: a step is claimed under a lease while the job has applied
//! exactly that many steps, committed under the row lock, and its successor's send recorded.

use uuid::Uuid;

use super::{Job, JOB_COLUMNS};
use crate::GenericClient;

/// Takes the lease on step `step` of a running job: succeeds only when the job has applied exactly
/// `step` steps, is neither finished nor past its deadline, and no other worker holds a live lease.
#[tracing::instrument(skip(client))]
pub async fn claim(
    client: &impl GenericClient,
    id: Uuid,
    step: i32,
    token: Uuid,
    lease_secs: f64,
    job_timeout_secs: f64,
) -> Result<Option<Job>, tokio_postgres::Error> {
    // The deadline counts from the search's start: the first claim sets it.
    let stmt = client
        .prepare_cached(&format!(
            "UPDATE scraping_jobs SET lease_token = $3, lease_expires_at = now() + make_interval(secs => $4),
                 status = 'processing', started_at = coalesce(started_at, now()),
                 timeout_at = CASE WHEN started_at IS NULL THEN now() + make_interval(secs => $5) ELSE timeout_at END
             WHERE id = $1 AND processed_runs = $2 AND status IN ('pending', 'processing')
               AND timeout_at > now() AND (lease_expires_at IS NULL OR lease_expires_at < now())
             RETURNING {JOB_COLUMNS}"
        ))
        .await?;
    client
        .query_opt(&stmt, &[&id, &step, &token, &lease_secs, &job_timeout_secs])
        .await?
        .as_ref()
        .map(Job::from_row)
        .transpose()
}

/// Gives the lease back after a failed attempt, so the retry can claim the step at once.
#[tracing::instrument(skip(client))]
pub async fn release(
    client: &impl GenericClient,
    id: Uuid,
    token: Uuid,
) -> Result<(), tokio_postgres::Error> {
    client
        .execute(
            "UPDATE scraping_jobs SET lease_token = NULL, lease_expires_at = NULL WHERE id = $1 AND lease_token = $2",
            &[&id, &token],
        )
        .await?;
    Ok(())
}

/// How a step ends the job, if it does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Completion {
    TargetReached,
    ResultsExhausted,
    ApiLimitReached,
    /// The search's own credit cap, or its user's budget for the period, is spent.
    CreditLimit,
}

impl Completion {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::TargetReached => "target_reached",
            Self::ResultsExhausted => "results_exhausted",
            Self::ApiLimitReached => "api_limit_reached",
            Self::CreditLimit => "credit_limit",
        }
    }
}

/// Locks the job for committing step `step` under lease `token`; `None` when the lease was lost
/// (the job was cancelled, timed out, or the step was applied by another worker).
#[tracing::instrument(skip(client))]
pub async fn lock_for_commit(
    client: &impl GenericClient,
    id: Uuid,
    step: i32,
    token: Uuid,
) -> Result<Option<i32>, tokio_postgres::Error> {
    let stmt = client
        .prepare_cached(
            "SELECT processed_results FROM scraping_jobs
             WHERE id = $1 AND processed_runs = $2 AND lease_token = $3 AND status = 'processing'
             FOR UPDATE",
        )
        .await?;
    Ok(client
        .query_opt(&stmt, &[&id, &step, &token])
        .await?
        .map(|r| r.get(0)))
}

/// Records an applied step: counters, cursor, progress (which only rises) and, when the step
/// ends the job, its completion.
#[allow(clippy::too_many_arguments)]
#[tracing::instrument(skip(client, cursor))]
pub async fn apply_step(
    client: &impl GenericClient,
    id: Uuid,
    step: i32,
    token: Uuid,
    added: i32,
    progress: i32,
    cursor: &serde_json::Value,
    completion: Option<Completion>,
) -> Result<Job, tokio_postgres::Error> {
    let status = if completion.is_some() {
        "completed"
    } else {
        "processing"
    };
    let reason = completion.map(Completion::as_str);
    let stmt = client
        .prepare_cached(&format!(
            "UPDATE scraping_jobs SET processed_runs = $2 + 1, processed_results = processed_results + $3,
                 progress = GREATEST(progress, $4), cursor = $5, status = $6, completion_reason = $7,
                 completed_at = CASE WHEN $6 = 'completed' THEN now() END,
                 lease_token = NULL, lease_expires_at = NULL, applied_by = $8
             WHERE id = $1 RETURNING {JOB_COLUMNS}"
        ))
        .await?;
    let row = client
        .query_one(
            &stmt,
            &[
                &id, &step, &added, &progress, cursor, &status, &reason, &token,
            ],
        )
        .await?;
    Job::from_row(&row)
}

/// Which delivery applied step `step` of the job (its lease token), locking the job's row: a
/// commit still unresolved on another connection is waited for. `None` when the step is not
/// applied, or was applied before this was recorded.
#[tracing::instrument(skip(client))]
pub async fn applied_by(
    client: &impl GenericClient,
    id: Uuid,
    step: i32,
) -> Result<Option<Uuid>, tokio_postgres::Error> {
    let stmt = client
        .prepare_cached(
            "SELECT CASE WHEN processed_runs = $2 + 1 THEN applied_by END
               FROM scraping_jobs WHERE id = $1 FOR UPDATE",
        )
        .await?;
    Ok(client
        .query_opt(&stmt, &[&id, &step])
        .await?
        .and_then(|r| r.get(0)))
}

/// Notes that the message for `step` was sent.
#[tracing::instrument(skip(client))]
pub async fn record_enqueued(
    client: &impl GenericClient,
    id: Uuid,
    step: i32,
    message_id: &str,
) -> Result<(), tokio_postgres::Error> {
    let stmt = client
        .prepare_cached(
            "UPDATE scraping_jobs SET queue_message_id = $3, enqueued_step = GREATEST(enqueued_step, $2),
                 enqueued_at = now()
             WHERE id = $1",
        )
        .await?;
    client.execute(&stmt, &[&id, &step, &message_id]).await?;
    Ok(())
}
