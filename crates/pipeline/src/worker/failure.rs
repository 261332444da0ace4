//! A step that fails: a failure for the user (a target that does not exist, a request the API
//! refuses) ends the job with a message; a passing one (the API, the database or the queue
//! unavailable) releases the lease and brings the message back, until its last delivery, which
//! ends the job too. A search whose last delivery runs out of the invocation's time is ended here
//! as well.

use std::time::Duration;

use tracing::warn;
use uuid::Uuid;

use super::{phase::within, Outcome, Retry, StepError, Worker};
use db::{jobs, jobs::Job};
use queue::JobQueue;

const OUT_OF_TIME_MESSAGE: &str = "The search stopped because its steps kept running out of time. The creators found so far are kept; please start it again later.";

impl<Q: JobQueue> Worker<Q> {
    /// What a claimed step's result means: a fatal error, or a retryable one on the last
    /// delivery, ends the job; another retryable one releases the lease and brings the message
    /// back.
    pub(super) async fn conclude(
        &self,
        job: &Job,
        token: Uuid,
        result: Result<Outcome, StepError>,
        last_attempt: bool,
    ) -> Result<Outcome, Retry> {
        match result {
            Ok(outcome) => Ok(outcome),
            Err(StepError::Fatal(user_message)) => Ok(self.fail(job.id, user_message).await?),
            Err(StepError::Retryable {
                cause,
                user_message,
            }) if last_attempt => {
                warn!(error = %cause, "last delivery failed; ending the job");
                Ok(self.fail(job.id, user_message.to_owned()).await?)
            }
            Err(StepError::Retryable { cause, .. }) => {
                // Best effort: a lease left unreleased expires by itself, before the queue's
                // visibility timeout brings the message back.
                let _ = self
                    .phase(async |client| Ok(jobs::release(client, job.id, token).await?))
                    .await;
                Err(Retry(cause))
            }
        }
    }

    /// Ends the job as `error` with `user_message` for its user.
    async fn fail(&self, id: Uuid, user_message: String) -> anyhow::Result<Outcome> {
        let ended = self
            .phase(async |client| Ok(jobs::fail(client, id, &user_message).await?))
            .await?;
        if !ended {
            // It had ended already (completed, say, with only its enrichment left to send: the
            // sweeper sends that).
            return Ok(Outcome::Skipped("job already finished"));
        }
        warn!(reason = %user_message, "job failed");
        Ok(Outcome::Failed(user_message))
    }

    /// Ends a search whose last delivery ran out of the invocation's time (best effort: when the
    /// database is what made it slow, the search ends by its deadline instead).
    pub async fn fail_out_of_time(&self, id: Uuid) {
        let failed = within(Duration::from_secs(3), async {
            let client = self.pool.get().await?;
            jobs::fail(&client, id, OUT_OF_TIME_MESSAGE).await?;
            Ok(())
        })
        .await;
        match failed {
            Ok(()) => warn!(job_id = %id, "the last delivery ran out of time; the search ended"),
            Err(_) => {
                warn!(job_id = %id, "could not end a search whose last delivery ran out of time")
            }
        }
    }
}
