//! Housekeeping on a schedule: ends overdue searches as `timeout`, re-sends the step of searches
//! that made no progress for longer than a step can take (and the first step of starts whose
//! send failed) and the enrichment of creators whose message was lost, deletes finished searches (with their creators) past their retention, marks
//! trials past their end `expired` / `canceled`, and forgets idempotency keys after 24 hours (a bounded batch per statement). Every database
//! phase is bounded client-side ([`DB_DEADLINE`]).

use db::settings::{Settings, SettingsCache};
use db::{billing, enrichment, idempotency, jobs, PoolClient};
use queue::{EnrichMessage, JobQueue, SendAndRecordError, StepMessage};
use serde::Serialize;
use std::time::Duration;

/// Built once per container.
pub struct State<Q> {
    pub pool: db::Pool,
    pub queue: Q,
    pub settings: SettingsCache,
    /// How long a sent step message may still be delivered: the queue's visibility timeout times
    /// its `maxReceiveCount`. A step sent more recently (plus its delay) is never re-sent.
    pub message_lifetime: Duration,
}

/// What one sweep did.
#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Sweep {
    pub timed_out: u64,
    pub resent: u64,
    /// Creators whose enrichment was sent again.
    pub enrichment_resent: u64,
    pub deleted: u64,
    pub expired_trials: u64,
    /// Idempotency keys past their 24 hours, forgotten.
    pub forgotten_keys: u64,
}

/// Most stalled jobs re-sent per sweep, so one sweep stays well within its timeout.
const RESEND_BATCH: i64 = 200;
/// Searches deleted per statement (each with up to 1,000 creators: one statement stays far
/// inside the statement timeout), and statements per sweep; what is left waits for the next.
const RETENTION_BATCH: i64 = 50;
/// Most pending creators whose enrichment is re-sent per sweep.
const ENRICHMENT_BATCH: i64 = 2_000;
/// A pending creator whose message was never recorded as sent is left this long to its step's
/// own send (which runs right after the step's commit) before the sweeper sends it.
const UNSENT_GRACE: Duration = Duration::from_secs(60);
const RETENTION_BATCHES: usize = 20;

/// Idempotency keys forgotten per statement, and statements per sweep.
const IDEMPOTENCY_BATCH: i64 = 5_000;
const IDEMPOTENCY_BATCHES: usize = 20;
/// The longest one database phase of a sweep may take (above the 5 s `statement_timeout`, which
/// a live server enforces first): a server that stops answering (frozen, or a path lost without
/// a reset) fails the sweep client-side, well inside its 60 s invocation, and the next sweep
/// starts over on a verified connection.
pub const DB_DEADLINE: Duration = Duration::from_secs(8);

/// `work` within [`DB_DEADLINE`]; running out of it is an error like the database's own.
async fn bounded<T, E: Into<anyhow::Error>>(
    phase: &'static str,
    work: impl std::future::Future<Output = Result<T, E>>,
) -> anyhow::Result<T> {
    match tokio::time::timeout(DB_DEADLINE, work).await {
        Ok(result) => result.map_err(Into::into),
        Err(_) => Err(anyhow::anyhow!(
            "the database did not answer within {DB_DEADLINE:?} ({phase})"
        )),
    }
}

pub async fn sweep<Q: JobQueue>(state: &State<Q>) -> anyhow::Result<Sweep> {
    let client = bounded("connect", state.pool.get()).await?;
    let settings = bounded("settings", state.settings.get(&client)).await?;
    let timed_out = bounded("time out", jobs::time_out_overdue(&client)).await?;
    let resent = resend_stalled(state, &client, &settings).await?;
    let enrichment_resent = resend_enrichment(state, &client, &settings).await?;
    let deleted = delete_expired(&client, &settings).await?;
    let expired_trials = bounded("expire trials", billing::expire_trials(&client)).await?;
    let mut forgotten_keys = 0;
    for _ in 0..IDEMPOTENCY_BATCHES {
        let n = bounded(
            "forget idempotency keys",
            idempotency::delete_expired(&client, IDEMPOTENCY_BATCH),
        )
        .await?;
        forgotten_keys += n;
        if n < IDEMPOTENCY_BATCH as u64 {
            break;
        }
    }
    let sweep = Sweep {
        timed_out,
        resent,
        enrichment_resent,
        deleted,
        expired_trials,
        forgotten_keys,
    };
    tracing::info!(?sweep, "sweep done");
    Ok(sweep)
}

/// Re-sends the step of searches that made no progress for longer than a step can take, and the
/// first step of starts whose send failed. A step sent too recently to be lost is left alone.
async fn resend_stalled<Q: JobQueue>(
    state: &State<Q>,
    client: &PoolClient,
    settings: &Settings,
) -> anyhow::Result<u64> {
    let in_flight = state.message_lifetime + settings.continuation_delay();
    let stalled = bounded(
        "take stalled searches",
        jobs::take_stalled(
            client,
            settings.stalled_after().as_secs_f64(),
            in_flight.as_secs_f64(),
            RESEND_BATCH,
        ),
    )
    .await?;
    let mut resent = 0;
    for (job_id, step) in stalled {
        let message = StepMessage { job_id, step };
        let record = |id: String| async move {
            bounded(
                "record a send",
                jobs::record_enqueued(client, job_id, step, &id),
            )
            .await
        };
        match queue::send_and_record(&state.queue, &message, Duration::ZERO, record).await {
            Ok(()) => {
                tracing::info!(%job_id, step, "re-sent the step of a stalled search");
                resent += 1;
            }
            Err(SendAndRecordError::Record(e)) => return Err(e),
            Err(SendAndRecordError::Send(e)) => {
                tracing::warn!(%job_id, error = %e, "could not re-send a stalled search; next sweep retries")
            }
        }
    }
    Ok(resent)
}

/// Re-sends the enrichment of pending creators whose message was never sent or was lost.
/// Returns how many creators it was sent for.
async fn resend_enrichment<Q: JobQueue>(
    state: &State<Q>,
    client: &PoolClient,
    settings: &Settings,
) -> anyhow::Result<u64> {
    let stale = bounded(
        "take stale enrichment",
        enrichment::take_stale(
            client,
            UNSENT_GRACE.as_secs_f64(),
            state.message_lifetime.as_secs_f64(),
            enrichment::MAX_ATTEMPTS,
            ENRICHMENT_BATCH,
        ),
    )
    .await?;
    let mut enrichment_resent = 0;
    for (job_id, positions) in stale {
        let messages = EnrichMessage::batches(job_id, &positions, settings.profile_concurrency());
        match state.queue.send_enrichment(&messages).await {
            Ok(()) => {
                tracing::info!(%job_id, creators = positions.len(), "re-sent a search's enrichment");
                enrichment_resent += positions.len() as u64;
            }
            Err(e) => {
                // Marked sent by `take_stale`: they come back after a message's lifetime.
                tracing::warn!(%job_id, error = %e, "could not re-send a search's enrichment")
            }
        }
    }
    Ok(enrichment_resent)
}

/// Deletes finished searches (with their creators) past their retention, a batch per statement,
/// at most [`RETENTION_BATCHES`] statements.
async fn delete_expired(client: &PoolClient, settings: &Settings) -> anyhow::Result<u64> {
    let mut deleted = 0;
    for _ in 0..RETENTION_BATCHES {
        let n = bounded(
            "delete expired searches",
            jobs::delete_expired(
                client,
                settings.completed_retention(),
                settings.failed_retention(),
                RETENTION_BATCH,
            ),
        )
        .await?;
        deleted += n;
        if n < RETENTION_BATCH as u64 {
            break;
        }
    }
    Ok(deleted)
}
