//! How jobs end besides completing (error, timeout, cancel), and the sweeper's queries.

use uuid::Uuid;

use super::{find_for_user, Job, JOB_COLUMNS};
use crate::GenericClient;
use domain::search::JobStatus;

/// Ends a running job as `error` with a message for the user. No effect on a finished job.
#[tracing::instrument(skip(client))]
pub async fn fail(
    client: &impl GenericClient,
    id: Uuid,
    message: &str,
) -> Result<bool, tokio_postgres::Error> {
    let n = client
        .execute(
            "UPDATE scraping_jobs SET status = 'error', error = $2, completed_at = now(),
                 lease_token = NULL, lease_expires_at = NULL
             WHERE id = $1 AND status IN ('pending', 'processing')",
            &[&id, &message],
        )
        .await?;
    Ok(n == 1)
}

pub const TIMEOUT_MESSAGE: &str =
    "The search took longer than allowed and was stopped. The creators found so far are kept.";

/// Ends a running job past its deadline as `timeout`; returns it when it changed.
#[tracing::instrument(skip(client))]
pub async fn time_out(
    client: &impl GenericClient,
    id: Uuid,
) -> Result<Option<Job>, tokio_postgres::Error> {
    let row = client
        .query_opt(
            &format!(
                "UPDATE scraping_jobs SET status = 'timeout', error = $2, completed_at = now(),
                     lease_token = NULL, lease_expires_at = NULL
                 WHERE id = $1 AND status IN ('pending', 'processing') AND timeout_at <= now()
                 RETURNING {JOB_COLUMNS}"
            ),
            &[&id, &TIMEOUT_MESSAGE],
        )
        .await?;
    row.as_ref().map(Job::from_row).transpose()
}

/// `job` as it stands: stored as `timeout` first when it is still running past its deadline.
/// Reads that answer a job call it, so nobody is shown a search running past its deadline.
#[tracing::instrument(skip(client, job), fields(job_id = %job.id))]
pub async fn time_out_if_overdue(
    client: &impl GenericClient,
    job: Job,
) -> Result<Job, tokio_postgres::Error> {
    if !job.status.is_final() && job.timeout_at <= chrono::Utc::now() {
        return Ok(time_out(client, job.id).await?.unwrap_or(job));
    }
    Ok(job)
}

/// What cancelling did.
#[derive(Debug)]
pub enum Cancelled {
    Now(Box<Job>),
    AlreadyFinished(JobStatus),
    NotFound,
}

/// Cancels the user's running job.
#[tracing::instrument(skip(client))]
pub async fn cancel(
    client: &impl GenericClient,
    user_id: &str,
    id: Uuid,
) -> Result<Cancelled, tokio_postgres::Error> {
    let row = client
        .query_opt(
            &format!(
                "UPDATE scraping_jobs SET status = 'cancelled', completed_at = now(),
                     lease_token = NULL, lease_expires_at = NULL
                 WHERE id = $1 AND user_id = $2 AND status IN ('pending', 'processing') AND timeout_at > now()
                 RETURNING {JOB_COLUMNS}"
            ),
            &[&id, &user_id],
        )
        .await?;
    if let Some(row) = row {
        return Ok(Cancelled::Now(Box::new(Job::from_row(&row)?)));
    }
    Ok(match find_for_user(client, user_id, id).await? {
        Some(job) => Cancelled::AlreadyFinished(time_out_if_overdue(client, job).await?.status),
        None => Cancelled::NotFound,
    })
}

/// Sweeper: ends every running job past its deadline as `timeout`.
#[tracing::instrument(skip(client))]
pub async fn time_out_overdue(client: &impl GenericClient) -> Result<u64, tokio_postgres::Error> {
    client
        .execute(
            "UPDATE scraping_jobs SET status = 'timeout', error = $1, completed_at = now(),
                 lease_token = NULL, lease_expires_at = NULL
             WHERE status IN ('pending', 'processing') AND timeout_at <= now()",
            &[&TIMEOUT_MESSAGE],
        )
        .await
}

/// Sweeper: running jobs with no change for `stalled_secs`, no live lease, and no message that may
/// still be in the queue (sent less than `in_flight_secs` ago), with the step each waits for.
/// The outbox too: a job whose awaited step was never sent (a start whose first send failed, a
/// step committed whose next send failed on its last delivery) is taken after 10 s, whenever its
/// last send was: no message of that step can be in the queue. Each is touched so the next sweep
/// leaves it alone for another period.
#[tracing::instrument(skip(client))]
pub async fn take_stalled(
    client: &impl GenericClient,
    stalled_secs: f64,
    in_flight_secs: f64,
    limit: i64,
) -> Result<Vec<(Uuid, i32)>, tokio_postgres::Error> {
    let rows = client
        .query(
            "UPDATE scraping_jobs SET updated_at = now()
             WHERE id IN (
                 SELECT id FROM scraping_jobs
                 WHERE status IN ('pending', 'processing') AND timeout_at > now()
                   AND ((updated_at < now() - make_interval(secs => $1)
                         AND (enqueued_at IS NULL OR enqueued_at < now() - make_interval(secs => $3)))
                        -- The outbox: the step the job waits for was never sent (no send was
                        -- recorded since the job last changed, and none of that step).
                        OR (enqueued_step < processed_runs
                            AND (enqueued_at IS NULL OR enqueued_at < updated_at)
                            AND updated_at < now() - interval '10 seconds'))
                   AND (lease_expires_at IS NULL OR lease_expires_at < now())
                 ORDER BY updated_at LIMIT $2 FOR UPDATE SKIP LOCKED)
             RETURNING id, processed_runs",
            &[&stalled_secs, &limit, &in_flight_secs],
        )
        .await?;
    Ok(rows.iter().map(|r| (r.get(0), r.get(1))).collect())
}

/// Sweeper: deletes up to `batch` finished jobs (and, by cascade, their creators) past their
/// retention: completed, cancelled and timed-out searches keep their creators for `kept`, searches
/// that ended in error for `failed`. One bounded batch per call; the sweeper repeats it.
#[tracing::instrument(skip(client))]
pub async fn delete_expired(
    client: &impl GenericClient,
    kept: std::time::Duration,
    failed: std::time::Duration,
    batch: i64,
) -> Result<u64, tokio_postgres::Error> {
    client
        .execute(
            "WITH doomed AS (
                 SELECT id FROM scraping_jobs
                  WHERE (status IN ('completed', 'cancelled', 'timeout')
                         AND completed_at < now() - make_interval(secs => $1))
                     OR (status = 'error' AND completed_at < now() - make_interval(secs => $2))
                  ORDER BY completed_at
                  LIMIT $3
                  FOR UPDATE SKIP LOCKED)
             DELETE FROM scraping_jobs j USING doomed WHERE j.id = doomed.id",
            &[&kept.as_secs_f64(), &failed.as_secs_f64(), &batch],
        )
        .await
}
