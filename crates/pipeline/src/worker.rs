//! One step of a search job, safe under at-least-once delivery.
//!
//! 1. **Claim** step N: a lease on the job, granted only while it has applied exactly N steps, is
//!    still running and before its deadline. A duplicate or stale message finds nothing to claim.
//! 2. **Fetch** the page from the creator API with no database connection held; drop creators the
//!    job already has, keep as many as the target still needs.
//! 3. **Commit** in one transaction: re-check the lease under a row lock, insert the creators (the
//!    ones that need a look-up as `pending`), advance counters, cursor and progress, or complete
//!    the job. The page's creators are visible from here.
//! 4. **Enqueue** step N+1 with the configured delay and record it, then the enrichment messages of
//!    the page's pending creators. A crash between 3 and 4 is repaired when the undeleted message
//!    N comes back: the job shows step N applied but N+1 never enqueued, so N+1 is sent then, and
//!    so are pending creators never sent; the sweeper re-sends anything stalled beyond that.
//!
//! **Enrichment** ([`Worker::handle_enrichment`]) runs beside the page chain, never in its way:
//! a message claims its still-pending rows under a lease (while the search runs or has
//! completed), looks each creator up (checking before every call that the search has not been
//! stopped), and stores the filled-in rows and the calls' charge in one transaction. A duplicate
//! finds nothing pending; a crash leaves rows whose lease expires and which come back.

use std::time::Duration;

use deadpool_postgres::Pool;
use tracing::{info, warn};
use uuid::Uuid;

use futures::StreamExt as _;

use crate::{
    creator_api::CreatorApi, platforms, search::fetch_page, search::CorruptCursor, search::Cursor,
    search::SearchError, search::SearchSpec,
};
use db::{
    billing, enrichment, enrichment::Filled, jobs, jobs::Completion, jobs::Job, results,
    settings::Settings, settings::SettingsCache,
};
use domain::{creator::CreatorRecord, search::JobStatus};
use queue::{EnrichMessage, JobMessage, JobQueue, StepMessage};

/// The longest one database phase of the worker (a claim, a read, a commit) may take: a server
/// that stops answering (frozen, or a network path lost without a reset) fails the phase
/// client-side instead of holding the record until the invocation ends. Above the 5 s
/// `statement_timeout`, which a live server enforces first.
pub const DB_DEADLINE: Duration = Duration::from_secs(6);

/// How long a failed attempt keeps trying to record the calls it made.
pub const CHARGE_PATIENCE: Duration = Duration::from_secs(30);

/// `work` within [`DB_DEADLINE`].
async fn db<T, E: Into<anyhow::Error>>(
    work: impl std::future::Future<Output = Result<T, E>>,
) -> anyhow::Result<T> {
    match tokio::time::timeout(DB_DEADLINE, work).await {
        Ok(result) => result.map_err(Into::into),
        Err(_) => Err(anyhow::anyhow!(
            "the database did not answer within {DB_DEADLINE:?}"
        )),
    }
}

/// What became of one claimed creator.
enum Looked {
    /// Looked up (or its look-up failed and it stays as found): store it.
    Filled(Filled),
    /// Not looked up and never will be (the row is skipped): the search may not spend more, or
    /// the stored creator cannot be read.
    Never(i32),
    /// Not looked up: the search was stopped (its rows are skipped already).
    Left,
}

/// Why a message should come back (it is reported as a batch item failure).
#[derive(Debug)]
pub struct Retry(pub anyhow::Error);

impl std::fmt::Display for Retry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "step will be retried: {:#}", self.0)
    }
}

impl<E: Into<anyhow::Error>> From<E> for Retry {
    fn from(e: E) -> Self {
        Self(e.into())
    }
}

/// What the worker needs, built once per container.
pub struct Worker<Q> {
    pub pool: Pool,
    pub queue: Q,
    pub api: CreatorApi,
    pub settings: SettingsCache,
    /// The queue's `maxReceiveCount`: the delivery with this count is the last one.
    pub max_receive_count: u32,
    /// How long a claimed step stays reserved; shorter than the queue's visibility timeout, so a
    /// crashed worker's redelivered message finds the lease expired.
    pub lease: Duration,
}

/// What handling a message did, for logs and tests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The step was applied; the job continues with the next step.
    Advanced { added: i32 },
    /// The step was applied and ended the job.
    Completed { added: i32, reason: &'static str },
    /// The job ended as `error` (the message is for the user).
    Failed(String),
    /// Nothing to do: duplicate, stale, finished or deleted job.
    Skipped(&'static str),
    /// A committed step whose successor (or whose creators' enrichment) had not been enqueued:
    /// it was enqueued now.
    Repaired,
    /// An enrichment message looked up and stored this many creators.
    Enriched { filled: u64 },
}

impl<Q: JobQueue> Worker<Q> {
    /// Handles one delivery of any message of the jobs queue.
    pub async fn handle_message(
        &self,
        message: &JobMessage,
        receive_count: u32,
    ) -> Result<Outcome, Retry> {
        match message {
            JobMessage::Step(step) => self.handle(step, receive_count).await,
            JobMessage::Enrich(enrich) => self.handle_enrichment(enrich).await,
        }
    }

    /// Handles one delivery of `message`, which SQS has delivered `receive_count` times.
    pub async fn handle(
        &self,
        message: &StepMessage,
        receive_count: u32,
    ) -> Result<Outcome, Retry> {
        let last_attempt = receive_count >= self.max_receive_count;
        let token = Uuid::new_v4();
        let (settings, claimed) = db(async {
            let client = self.pool.get().await?;
            let settings = self.settings.get(&client).await?;
            let claimed = jobs::claim(
                &client,
                message.job_id,
                message.step,
                token,
                self.lease.as_secs_f64(),
                settings.job_timeout().as_secs_f64(),
            )
            .await?;
            Ok::<_, anyhow::Error>((settings, claimed))
        })
        .await?;
        let Some(job) = claimed else {
            // A few reads, and maybe a repairing send (bounded by the queue's own timeouts).
            let unclaimed = async {
                let client = db(self.pool.get()).await?;
                self.unclaimed(&client, message, &settings, last_attempt)
                    .await
            };
            return match tokio::time::timeout(DB_DEADLINE * 3, unclaimed).await {
                Ok(outcome) => outcome,
                Err(_) => Err(Retry(anyhow::anyhow!(
                    "the database did not answer within {:?}",
                    DB_DEADLINE * 3
                ))),
            };
        };
        // This delivery's own count of creator-API calls: every one is charged, also when the
        // step fails and is retried.
        let api = self.api.metered();
        let result = self
            .run_claimed(&api, &job, message.step, token, &settings)
            .await;
        // Calls not charged by a commit (the step failed before or at it) are charged now.
        self.charge_failed_attempt(&job, message.step, token, &api)
            .await;
        match result {
            Ok(outcome) => Ok(outcome),
            Err(StepError::Fatal(user_message)) => self.fail(job.id, user_message).await,
            Err(StepError::Retryable {
                cause,
                user_message,
            }) if last_attempt => {
                warn!(error = %cause, "last delivery failed; ending the job");
                self.fail(job.id, user_message.to_owned()).await
            }
            Err(StepError::Retryable { cause, .. }) => {
                let _ = db(async {
                    let client = self.pool.get().await?;
                    jobs::release(&client, job.id, token).await?;
                    Ok::<_, anyhow::Error>(())
                })
                .await;
                Err(Retry(cause))
            }
        }
    }

    /// Charges the calls of an attempt that did not commit (its calls were made and paid). A commit
    /// that timed out client-side may still have landed: the job row, locked, says whether this
    /// attempt's commit applied the step (and charged its calls). While the database does not
    /// answer, the charge is tried again, for up to [`CHARGE_PATIENCE`].
    async fn charge_failed_attempt(&self, job: &Job, step: i32, token: Uuid, api: &CreatorApi) {
        let calls = i32::try_from(api.calls()).unwrap_or(i32::MAX);
        if calls == 0 {
            return;
        }
        let started = tokio::time::Instant::now();
        loop {
            let charged = db(async {
                let mut client = self.pool.get().await?;
                let tx = client.transaction().await?;
                if jobs::applied_by(&tx, job.id, step).await? == Some(token) {
                    return Ok::<_, anyhow::Error>(());
                }
                billing::charge(&tx, job.id, &job.user_id, calls).await?;
                tx.commit().await?;
                Ok(())
            })
            .await;
            match charged {
                Ok(()) => {
                    api.settle(u32::try_from(calls).unwrap_or(0));
                    return;
                }
                Err(e) if started.elapsed() + Duration::from_secs(1) >= CHARGE_PATIENCE => {
                    warn!(error = %e, calls, "could not charge a failed attempt's calls");
                    return;
                }
                Err(_) => tokio::time::sleep(Duration::from_secs(1)).await,
            }
        }
    }

    /// The plan whose limits apply to the job's user (the trial's when none does any more).
    async fn plan_of(
        &self,
        client: &impl deadpool_postgres::GenericClient,
        job: &Job,
    ) -> Result<String, tokio_postgres::Error> {
        Ok(billing::standing(client, &job.user_id)
            .await?
            .and_then(|s| s.plan_at(chrono::Utc::now()).ok())
            .unwrap_or_else(|| "trial".to_owned()))
    }

    /// Ends a search whose last delivery ran out of the invocation's time (best effort: when the
    /// database is what made it slow, the search ends by its deadline instead).
    pub async fn fail_out_of_time(&self, id: Uuid) {
        let failed = tokio::time::timeout(Duration::from_secs(3), async {
            let client = self.pool.get().await?;
            jobs::fail(&client, id, OUT_OF_TIME_MESSAGE).await?;
            Ok::<_, anyhow::Error>(())
        })
        .await;
        match failed {
            Ok(Ok(())) => {
                warn!(job_id = %id, "the last delivery ran out of time; the search ended")
            }
            _ => warn!(job_id = %id, "could not end a search whose last delivery ran out of time"),
        }
    }

    async fn fail(&self, id: Uuid, user_message: String) -> Result<Outcome, Retry> {
        let ended = db(async {
            let client = self.pool.get().await?;
            Ok::<_, anyhow::Error>(jobs::fail(&client, id, &user_message).await?)
        })
        .await?;
        if !ended {
            // It had ended already (completed, say, with only its enrichment left to send: the
            // sweeper sends that).
            return Ok(Outcome::Skipped("job already finished"));
        }
        warn!(reason = %user_message, "job failed");
        Ok(Outcome::Failed(user_message))
    }

    /// A message whose step could not be claimed.
    async fn unclaimed(
        &self,
        client: &deadpool_postgres::Object,
        message: &StepMessage,
        settings: &Settings,
        last_attempt: bool,
    ) -> Result<Outcome, Retry> {
        let Some(job) = jobs::find(client, message.job_id).await? else {
            return Ok(Outcome::Skipped("job no longer exists"));
        };
        // The step was applied; its creators' enrichment may not have been sent.
        let mut repaired = false;
        if job.processed_runs > message.step
            && matches!(job.status, JobStatus::Processing | JobStatus::Completed)
        {
            let unsent = enrichment::unsent(client, job.id).await?;
            if !unsent.is_empty() {
                self.send_enrichment(job.id, &unsent, settings.profile_concurrency())
                    .await?;
                info!(
                    creators = unsent.len(),
                    "sent enrichment lost between commit and send"
                );
                repaired = true;
            }
        }
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
            self.enqueue(job.id, job.processed_runs, settings.continuation_delay())
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
            return Err(Retry(anyhow::anyhow!(
                "step {} is being processed by another delivery",
                message.step
            )));
        }
        Ok(Outcome::Skipped("stale or duplicate step"))
    }

    async fn run_claimed(
        &self,
        api: &CreatorApi,
        job: &Job,
        step: i32,
        token: Uuid,
        settings: &Settings,
    ) -> Result<Outcome, StepError> {
        // A search whose credits ran out makes no further call.
        // The user's plan is read once per step: the check before the calls and the one at the
        // commit both use it.
        // Creators waiting for their look-ups count as spent: each will cost one call, so no page
        // is bought whose creators could not be looked up.
        let (plan, period, reserved) = db(async {
            let client = self.pool.get().await?;
            let plan = self.plan_of(&client, job).await?;
            let period = billing::period_credits(&client, &job.user_id).await?;
            let reserved = enrichment::pending(&client, job.id).await?;
            Ok::<_, anyhow::Error>((plan, period, reserved))
        })
        .await
        .map_err(StepError::db)?;
        if out_of_credits(
            settings,
            &plan,
            i64::from(job.credits_used) + reserved,
            period + reserved,
        ) {
            return self
                .commit_without_calls(job, step, token, Completion::CreditLimit)
                .await;
        }
        let spec = SearchSpec {
            platform: job.platform,
            target: job.target(),
            region: job.region.clone(),
            batch_size: settings.instagram_profiles_per_step(),
        };
        // A cursor that cannot be read ends the search: starting over would pay for its pages again.
        let cursor = Cursor::from_stored(&job.cursor, job.search_type)
            .map_err(|e| StepError::from(SearchError::from(e)))?;
        let page = fetch_page(api, &spec, cursor)
            .await
            .map_err(StepError::from)?;

        let mut creators = distinct(page.creators);
        let keys: Vec<String> = creators.iter().map(CreatorRecord::key).collect();
        let known = db(async {
            let client = self.pool.get().await?;
            Ok::<_, anyhow::Error>(results::existing_keys(&client, job.id, &keys).await?)
        })
        .await
        .map_err(StepError::db)?;
        creators.retain(|c| !known.contains(&c.key()));
        let needed = usize::try_from(job.target_results - job.processed_results).unwrap_or(0);
        creators.truncate(needed);
        // Look-ups are not made here: the page is stored as found, its creators visible at once,
        // and enrichment messages fill them in beside the page chain.
        let module = platforms::module(job.platform);
        let pending: Vec<bool> = creators
            .iter()
            .map(|c| module.needs_enrichment(c))
            .collect();

        let calls = i32::try_from(api.calls()).unwrap_or(i32::MAX);
        let committed = db(async {
            let mut client = self.pool.get().await?;
            let tx = client.transaction().await?;
            let Some(stored) = jobs::lock_for_commit(&tx, job.id, step, token).await? else {
                return Ok::<_, anyhow::Error>(None);
            };
            let inserted = results::insert(&tx, job.id, step, stored, &creators, &pending).await?;
            let (job_credits, period_credits) =
                billing::charge(&tx, job.id, &job.user_id, calls).await?;
            // This page's creators included.
            let reserved_now = enrichment::pending(&tx, job.id).await?;
            let total = stored + inserted.count;
            let completion = if total >= job.target_results {
                Some(Completion::TargetReached)
            } else if page.exhausted {
                Some(Completion::ResultsExhausted)
            } else if step + 1 >= settings.max_api_calls(job.platform, job.search_type) {
                Some(Completion::ApiLimitReached)
            } else if out_of_credits(
                settings,
                &plan,
                job_credits + reserved_now,
                period_credits + reserved_now,
            ) {
                Some(Completion::CreditLimit)
            } else {
                None
            };
            let progress = match completion {
                Some(_) => 100,
                None => {
                    (i64::from(total) * 100 / i64::from(job.target_results.max(1))).min(99) as i32
                }
            };
            let cursor = page.cursor.to_stored();
            jobs::apply_step(
                &tx,
                job.id,
                step,
                token,
                inserted.count,
                progress,
                &cursor,
                completion,
            )
            .await?;
            tx.commit().await?;
            drop(client);
            Ok(Some((inserted, total, completion)))
        })
        .await
        .map_err(StepError::db)?;
        let Some((inserted, total, completion)) = committed else {
            return Ok(Outcome::Skipped(
                "lease lost before commit (cancelled or timed out)",
            ));
        };
        let added = inserted.count;
        api.settle(u32::try_from(calls).unwrap_or(0));
        info!(step, added, total, calls, "step applied");

        // The step is committed: from here a failure must not fail the job, only bring the
        // message back so the repair path above sends what is missing. The next page goes
        // first: it is what the user waits for.
        let queue_error = |Retry(cause)| StepError::Retryable {
            cause,
            user_message: QUEUE_MESSAGE,
        };
        if completion.is_none() {
            self.enqueue(job.id, step + 1, settings.continuation_delay())
                .await
                .map_err(queue_error)?;
        }
        self.send_enrichment(job.id, &inserted.pending, settings.profile_concurrency())
            .await
            .map_err(queue_error)?;
        if let Some(reason) = completion {
            info!(reason = reason.as_str(), "job completed");
            return Ok(Outcome::Completed {
                added,
                reason: reason.as_str(),
            });
        }
        Ok(Outcome::Advanced { added })
    }

    /// Ends the job at step `step` without calling the creator API.
    async fn commit_without_calls(
        &self,
        job: &Job,
        step: i32,
        token: Uuid,
        reason: Completion,
    ) -> Result<Outcome, StepError> {
        let applied = db(async {
            let mut client = self.pool.get().await?;
            let tx = client.transaction().await?;
            if jobs::lock_for_commit(&tx, job.id, step, token)
                .await?
                .is_none()
            {
                return Ok::<_, anyhow::Error>(false);
            }
            jobs::apply_step(&tx, job.id, step, token, 0, 100, &job.cursor, Some(reason)).await?;
            tx.commit().await?;
            Ok(true)
        })
        .await
        .map_err(StepError::db)?;
        if !applied {
            return Ok(Outcome::Skipped("lease lost before commit"));
        }
        info!(reason = reason.as_str(), "job completed without a call");
        Ok(Outcome::Completed {
            added: 0,
            reason: reason.as_str(),
        })
    }

    /// Sends the enrichment of the job's creators at `positions`, `per_message` to a message, and
    /// records it.
    async fn send_enrichment(
        &self,
        job_id: Uuid,
        positions: &[i32],
        per_message: usize,
    ) -> Result<(), Retry> {
        if positions.is_empty() {
            return Ok(());
        }
        let messages = EnrichMessage::batches(job_id, positions, per_message);
        self.queue.send_enrichment(&messages).await?;
        db(async {
            let client = self.pool.get().await?;
            Ok::<_, anyhow::Error>(enrichment::mark_enqueued(&client, job_id, positions).await?)
        })
        .await?;
        Ok(())
    }

    /// Handles one delivery of an enrichment message: looks up its creators that are still
    /// pending and stores what was found. A failure before the commit brings the message back
    /// (each row is claimed at most [`enrichment::MAX_ATTEMPTS`] times); a look-up that fails
    /// leaves its creator as found, as a page step always did.
    pub async fn handle_enrichment(&self, message: &EnrichMessage) -> Result<Outcome, Retry> {
        let token = Uuid::new_v4();
        let prepared = db(async {
            let client = self.pool.get().await?;
            let settings = self.settings.get(&client).await?;
            let claimed = enrichment::claim(
                &client,
                message.job_id,
                &message.enrich,
                token,
                self.lease.as_secs_f64(),
                enrichment::MAX_ATTEMPTS,
            )
            .await?;
            if claimed.is_empty() {
                // Rows another delivery holds come back to this message: should that delivery
                // have died, its lease has expired by the next delivery.
                if enrichment::held_elsewhere(&client, message.job_id, &message.enrich).await? > 0 {
                    anyhow::bail!("the creators are being enriched by another delivery");
                }
                return Ok::<_, anyhow::Error>(Err(Outcome::Skipped("nothing left to enrich")));
            }
            let Some(job) = jobs::find(&client, message.job_id).await? else {
                return Ok(Err(Outcome::Skipped("job no longer exists")));
            };
            let plan = self.plan_of(&client, &job).await?;
            let period = billing::period_credits(&client, &job.user_id).await?;
            if out_of_credits(&settings, &plan, i64::from(job.credits_used), period) {
                enrichment::skip(&client, job.id, token).await?;
                info!(
                    creators = claimed.len(),
                    "credits spent; enrichment skipped"
                );
                return Ok(Err(Outcome::Skipped("the search's credits are spent")));
            }
            Ok(Ok((job, settings, claimed, plan)))
        })
        .await?;
        let (job, settings, claimed, plan) = match prepared {
            Ok(prepared) => prepared,
            Err(outcome) => return Ok(outcome),
        };
        // Similar searches by words score each creator again with what its look-up found.
        let cursor = Cursor::from_stored(&job.cursor, job.search_type)
            .ok()
            .flatten();
        let target = cursor.as_ref().and_then(Cursor::ranking_target);
        let held = claimed.len();
        let caps = (
            settings.credits_per_search(&plan),
            settings.period_credits(&plan),
        );
        let results: Vec<Result<Looked, anyhow::Error>> = futures::stream::iter(claimed)
            .map(|row| self.enrich_one(&job, row, target, caps))
            .buffer_unordered(settings.profile_concurrency().max(1))
            .collect()
            .await;
        let mut filled = Vec::with_capacity(held);
        let mut never = Vec::new();
        let mut failed = None;
        for result in results {
            match result {
                Ok(Looked::Filled(row)) => filled.push(row),
                Ok(Looked::Never(position)) => never.push(position),
                Ok(Looked::Left) => {}
                Err(e) => failed = Some(e),
            }
        }
        // Every call is already charged; what is left is storing what the calls found.
        let committed = db(async {
            let mut client = self.pool.get().await?;
            let tx = client.transaction().await?;
            // The job row first, then its creators: the order in which a stop (whose trigger
            // skips the pending rows) takes its locks, so the two never deadlock.
            jobs::lock(&tx, job.id).await?;
            let stored = enrichment::finish(&tx, job.id, token, &filled).await?;
            enrichment::skip_positions(&tx, job.id, token, &never).await?;
            // Rows whose look-up was not made (their charge could not be recorded) are given
            // back for another delivery.
            enrichment::release(&tx, job.id, token).await?;
            tx.commit().await?;
            Ok::<_, anyhow::Error>(stored)
        })
        .await;
        let stored = match committed {
            Ok(stored) => stored,
            Err(e) => {
                let _ = db(async {
                    let client = self.pool.get().await?;
                    Ok::<_, anyhow::Error>(enrichment::release(&client, job.id, token).await?)
                })
                .await;
                return Err(Retry(e));
            }
        };
        info!(held, stored, "creators enriched");
        if let Some(e) = failed {
            return Err(Retry(e.context("some look-ups could not be charged")));
        }
        Ok(Outcome::Enriched { filled: stored })
    }

    /// Looks up one claimed creator: its call is charged first, and only while the search may
    /// still spend. An error means the charge could not be recorded, and the creator waits for
    /// another delivery without a call.
    async fn enrich_one(
        &self,
        job: &Job,
        row: enrichment::Claimed,
        target: Option<&super::search::Target>,
        (search_cap, period_cap): (i64, i64),
    ) -> Result<Looked, anyhow::Error> {
        let Ok(mut record) = serde_json::from_value::<CreatorRecord>(row.creator) else {
            warn!(
                position = row.position,
                "a stored creator cannot be read; left as found"
            );
            return Ok(Looked::Never(row.position));
        };
        {
            // The one statement not cut short at [`DB_DEADLINE`]: a charge given up client-side
            // may still land when the database answers again, leaving a charged call that was
            // never made. It waits for its answer; the record's time budget bounds the wait.
            let client = db(self.pool.get()).await?;
            let charge =
                billing::charge_before_call(&client, job.id, &job.user_id, search_cap, period_cap)
                    .await?;
            drop(client);
            match charge {
                billing::PreCharge::Charged => {}
                billing::PreCharge::Stopped => return Ok(Looked::Left),
                billing::PreCharge::OverBudget => return Ok(Looked::Never(row.position)),
            }
        }
        let api = self.api.metered();
        platforms::module(record.platform)
            .enrich(&api, &mut record)
            .await;
        if api.calls() == 0 {
            // The request never reached the API (no connection): nothing to pay for.
            self.refund_one(job).await;
        }
        let relevance = target.map(|t| t.relevance(&record.creator));
        if relevance.is_some() {
            record.relevance = relevance;
        }
        let mut creator = serde_json::to_value(&record).expect("a creator serializes");
        results::strip_nul(&mut creator);
        Ok(Looked::Filled(Filled {
            position: row.position,
            creator,
            relevance: relevance.map(|r| r as f32),
        }))
    }

    /// Gives back a call charged before it was made, when it was not made.
    async fn refund_one(&self, job: &Job) {
        let refunded = db(async {
            let client = self.pool.get().await?;
            billing::charge(&client, job.id, &job.user_id, -1).await?;
            Ok::<_, anyhow::Error>(())
        })
        .await;
        if let Err(e) = refunded {
            warn!(error = %e, "could not give back a call that was not made");
        }
    }

    async fn enqueue(&self, job_id: Uuid, step: i32, delay: Duration) -> Result<(), Retry> {
        let id = self
            .queue
            .send(&StepMessage { job_id, step }, delay)
            .await?;
        db(async {
            let client = self.pool.get().await?;
            Ok::<_, anyhow::Error>(jobs::record_enqueued(&client, job_id, step, &id).await?)
        })
        .await?;
        Ok(())
    }
}

const OUT_OF_TIME_MESSAGE: &str = "The search stopped because its steps kept running out of time. The creators found so far are kept; please start it again later.";
const QUEUE_MESSAGE: &str = "The search could not be continued because our job queue was unavailable. Please start it again.";
const DATABASE_MESSAGE: &str =
    "The search could not be saved because our database was unavailable. Please start it again.";

/// A failed step, by what should happen next.
#[derive(Debug)]
enum StepError {
    /// Ends the job at once with this message for the user.
    Fatal(String),
    /// Retry; on the last delivery, end the job with `user_message`.
    Retryable {
        cause: anyhow::Error,
        user_message: &'static str,
    },
}

impl StepError {
    fn db(e: impl Into<anyhow::Error>) -> Self {
        Self::Retryable {
            cause: e.into(),
            user_message: DATABASE_MESSAGE,
        }
    }
}

impl From<SearchError> for StepError {
    fn from(e: SearchError) -> Self {
        match e {
            SearchError::Target(message) => Self::Fatal(message),
            SearchError::Api(api) if api.is_retryable() => Self::Retryable {
                user_message: api.user_message(),
                cause: api.into(),
            },
            SearchError::Api(api) => Self::Fatal(api.user_message().to_owned()),
            SearchError::Cursor(e) => {
                warn!(error = %e, "the search's cursor cannot be read or does not fit the search");
                Self::Fatal(CorruptCursor::USER_MESSAGE.to_owned())
            }
        }
    }
}

/// Whether a search has spent its own cap, or its user the period's budget, on `plan`.
fn out_of_credits(settings: &Settings, plan: &str, job_credits: i64, period_credits: i64) -> bool {
    job_credits >= settings.credits_per_search(plan)
        || period_credits >= settings.period_credits(plan)
}

/// The first occurrence of each creator in a page.
fn distinct(records: Vec<CreatorRecord>) -> Vec<CreatorRecord> {
    let mut seen = std::collections::HashSet::new();
    records
        .into_iter()
        .filter(|r| seen.insert(r.key()))
        .collect()
}
