//! A step that fails: a failure for the user (a target that does not exist, a request the API
//! rejects) ends the job with a message; a passing one (the API or the database unavailable)
//! releases the lease and brings the message back, until its last delivery, which ends the job
//! too. Two failures never end the job: a call the API refused (429), after which the step is
//! sent again to run after the API's `Retry-After`, as a new message whose deliveries are counted
//! afresh; and a send that failed after the step's commit, which the repair or the sweeper makes
//! good. A search whose last delivery runs out of the invocation's time is ended here as well.

use std::time::Duration;

use tracing::{info, warn};
use uuid::Uuid;

use super::{phase::within, Outcome, Retry, StepError, Worker};
use db::{jobs, jobs::Job};
use queue::JobQueue;

/// `wait` rounded up to whole seconds: a queue message's delay is whole seconds, and a refused
/// step must not come back before the API's `Retry-After`.
fn whole_seconds(wait: Duration) -> Duration {
    Duration::from_secs(wait.as_secs() + u64::from(wait.subsec_nanos() > 0))
}

const OUT_OF_TIME_MESSAGE: &str = "The search stopped because its steps kept running out of time. The creators found so far are kept; please start it again later.";

impl<Q: JobQueue> Worker<Q> {
    /// What a claimed step's result means: a fatal error, or a retryable one on the last
    /// delivery, ends the job; another retryable one releases the lease and brings the message
    /// back.
    pub(super) async fn conclude(
        &self,
        job: &Job,
        step: i32,
        token: Uuid,
        result: Result<Outcome, StepError>,
        last_attempt: bool,
    ) -> Result<Outcome, Retry> {
        match result {
            Ok(outcome) => Ok(outcome),
            Err(StepError::Refused(retry_after)) => {
                self.release(job, token).await;
                self.send_step(job.id, step, whole_seconds(retry_after))
                    .await
                    .map_err(|e| Retry(e.context("a refused step could not be sent again")))?;
                info!(?retry_after, "the creator API refused the step; sent again");
                Ok(Outcome::Deferred { retry_after })
            }
            Err(StepError::AfterCommit(cause)) => {
                if last_attempt {
                    warn!(error = %cause, "a send after the commit failed on the last delivery; the sweeper sends it");
                }
                Err(Retry(cause))
            }
            Err(StepError::Fatal(user_message)) => Ok(self.fail(job.id, user_message).await?),
            Err(StepError::Retryable {
                cause,
                user_message,
            }) if last_attempt => {
                warn!(error = %cause, "last delivery failed; ending the job");
                Ok(self.fail(job.id, user_message.to_owned()).await?)
            }
            Err(StepError::Retryable { cause, .. }) => {
                self.release(job, token).await;
                Err(Retry(cause))
            }
        }
    }

    /// Gives the step's lease back. Best effort: a lease left unreleased expires by itself,
    /// before the queue's visibility timeout brings the message back.
    async fn release(&self, job: &Job, token: Uuid) {
        let _ = self
            .phase(async |client| Ok(jobs::release(client, job.id, token).await?))
            .await;
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
        // The message may name the user's target (`@handle was not found`): it is stored on the
        // job, not logged. What made it fail was logged where it happened.
        info!("job ended as error");
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
