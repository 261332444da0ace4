//! A step message that finds nothing to claim: a duplicate, a stale message, one whose step
//! another delivery holds, or the message of a step whose commit landed but whose sends were
//! lost (a crash between steps 3 and 4). The lost sends are repaired here, when that message
//! comes back; the sweeper re-sends anything stalled beyond that.

use tracing::info;

use super::{
    phase::{within, DB_DEADLINE},
    Outcome, Worker,
};
use db::{enrichment, jobs, jobs::Job, settings::Settings, PoolClient};
use domain::search::JobStatus;
use queue::{JobQueue, StepMessage};

impl<Q: JobQueue> Worker<Q> {
    /// A message whose step could not be claimed: repairs the sends its step lost, or says why
    /// there is nothing to do. An error brings the message back: another delivery holds the step.
    pub(super) async fn unclaimed(
        &self,
        message: &StepMessage,
        settings: &Settings,
        last_attempt: bool,
    ) -> anyhow::Result<Outcome> {
        // A few reads, and maybe a repairing send (bounded by the queue's own timeouts).
        within(DB_DEADLINE * 3, async {
            let client = self.connection().await?;
            self.repair(&client, message, settings, last_attempt).await
        })
        .await
    }

    async fn repair(
        &self,
        client: &PoolClient,
        message: &StepMessage,
        settings: &Settings,
        last_attempt: bool,
    ) -> anyhow::Result<Outcome> {
        let Some(job) = jobs::find(client, message.job_id).await? else {
            return Ok(Outcome::Skipped("job no longer exists"));
        };
        let repaired = self
            .resend_enrichment(client, &job, message.step, settings)
            .await?;
        if job.status.is_final() {
            return Ok(if repaired {
                Outcome::Repaired
            } else {
                Outcome::Skipped("job already finished")
            });
        }
        if job.timeout_at <= chrono::Utc::now() {
            jobs::time_out(client, job.id).await?;
            return Ok(Outcome::Skipped("job passed its deadline"));
        }
        if job.processed_runs == message.step + 1 && job.enqueued_step < job.processed_runs {
            self.send_step(job.id, job.processed_runs, settings.continuation_delay())
                .await?;
            info!(
                step = job.processed_runs,
                "re-enqueued a step lost between commit and send"
            );
            return Ok(Outcome::Repaired);
        }
        if repaired {
            return Ok(Outcome::Repaired);
        }
        if job.processed_runs == message.step && !last_attempt {
            // Another delivery of this step holds the lease. Come back later: by then it has
            // either committed (this becomes stale) or crashed (its lease has expired).
            anyhow::bail!(
                "step {} is being processed by another delivery",
                message.step
            );
        }
        Ok(Outcome::Skipped("stale or duplicate step"))
    }

    /// Sends the enrichment of the job's creators never sent, once step `step` was applied;
    /// whether there were any.
    async fn resend_enrichment(
        &self,
        client: &PoolClient,
        job: &Job,
        step: i32,
        settings: &Settings,
    ) -> anyhow::Result<bool> {
        let applied = job.processed_runs > step
            && matches!(job.status, JobStatus::Processing | JobStatus::Completed);
        if !applied {
            return Ok(false);
        }
        let unsent = enrichment::unsent(client, job.id).await?;
        if unsent.is_empty() {
            return Ok(false);
        }
        self.send_enrichment(job.id, &unsent, settings.profile_concurrency())
            .await?;
        info!(
            creators = unsent.len(),
            "sent enrichment lost between commit and send"
        );
        Ok(true)
    }
}
