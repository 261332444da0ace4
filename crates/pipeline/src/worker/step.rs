//! The page step, steps 1 to 4 of the protocol as named phases: [claim](Worker::claim) →
//! [check the budget](Worker::check_budget) → [fetch] → [commit the page](Worker::commit_page)
//! → [send the next](Worker::send_next). What a failed step means for its job is
//! [`super::failure`].

use std::{sync::Arc, time::Duration};

use tracing::info;
use uuid::Uuid;

use super::{budget::limits_of, Outcome, Retry, StepError, Worker};
use crate::{
    creator_api::CreatorApi, platforms, search::fetch_page, search::Cursor, search::Page,
    search::SearchError, search::SearchSpec,
};
use db::{
    billing, enrichment, jobs, jobs::Completion, jobs::Job, results, results::Inserted,
    settings::Settings,
};
use domain::{
    creator::CreatorRecord,
    credits::{may_spend, PlanLimits, Spent},
};
use queue::{JobQueue, SendAndRecordError, StepMessage};

/// A fetched page cut to what the job still needs: what step 3 commits.
struct NewPage {
    creators: Vec<CreatorRecord>,
    /// Per creator: whether it waits for its look-up.
    pending: Vec<bool>,
    /// Where the next step starts, as stored.
    cursor: serde_json::Value,
    exhausted: bool,
    /// The creator-API calls the page took, charged by the commit.
    calls: i32,
}

/// What step 3 stored.
struct Committed {
    inserted: Inserted,
    /// The job's creators, this page's included.
    total: i32,
    completion: Option<Completion>,
}

impl<Q: JobQueue> Worker<Q> {
    /// Handles one delivery of step `message`, which SQS has delivered `receive_count` times.
    pub async fn handle(
        &self,
        message: &StepMessage,
        receive_count: u32,
    ) -> Result<Outcome, Retry> {
        let last_attempt = receive_count >= self.max_receive_count;
        let token = Uuid::new_v4();
        let (settings, claimed) = self.claim(message, token).await?;
        let Some(job) = claimed else {
            return Ok(self.unclaimed(message, &settings, last_attempt).await?);
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
        self.conclude(&job, message.step, token, result, last_attempt)
            .await
    }

    /// Step 1: the settings, and the job when this delivery may apply `message.step` (under a
    /// lease by `token`); no job for a duplicate or stale message.
    async fn claim(
        &self,
        message: &StepMessage,
        token: Uuid,
    ) -> anyhow::Result<(Arc<Settings>, Option<Job>)> {
        self.phase(async |client| {
            let settings = self.settings.get(client).await?;
            let claimed = jobs::claim(
                client,
                message.job_id,
                message.step,
                token,
                self.lease.as_secs_f64(),
                settings.job_timeout().as_secs_f64(),
            )
            .await?;
            Ok((settings, claimed))
        })
        .await
    }

    /// Steps 2 to 4 of a claimed step.
    async fn run_claimed(
        &self,
        api: &CreatorApi,
        job: &Job,
        step: i32,
        token: Uuid,
        settings: &Settings,
    ) -> Result<Outcome, StepError> {
        // A search whose credits ran out makes no further call.
        let Some(limits) = self.check_budget(job, settings).await? else {
            return self
                .commit_without_calls(job, step, token, Completion::CreditLimit)
                .await;
        };
        let page = fetch(api, job, settings).await?;
        let (creators, pending) = self.new_creators(job, page.creators).await?;
        let page = NewPage {
            creators,
            pending,
            cursor: page.cursor.to_stored(),
            exhausted: page.exhausted,
            calls: i32::try_from(api.calls()).unwrap_or(i32::MAX),
        };
        let Some(committed) = self
            .commit_page(job, step, token, settings, limits, &page)
            .await?
        else {
            return Ok(Outcome::Skipped(
                "lease lost before commit (cancelled or timed out)",
            ));
        };
        api.settle(u32::try_from(page.calls).unwrap_or(0));
        let (added, total, calls) = (committed.inserted.count, committed.total, page.calls);
        info!(step, added, total, calls, "step applied");
        self.send_next(job.id, step, settings, committed).await
    }

    /// Step 2, before any call: the limits of the job's user's plan while the search may still
    /// buy a page, none when its credits ran out. They are read once per step: the check here and
    /// the one at the commit both use it.
    async fn check_budget(
        &self,
        job: &Job,
        settings: &Settings,
    ) -> Result<Option<PlanLimits>, StepError> {
        let (limits, period, reserved) = self
            .phase(async |client| {
                let limits = limits_of(client, settings, job).await?;
                let period = billing::period_credits(client, &job.user_id).await?;
                let reserved = enrichment::pending(client, job.id).await?;
                Ok((limits, period, reserved))
            })
            .await
            .map_err(StepError::db)?;
        // Creators waiting for their look-ups count as spent: each will cost one call, so no
        // page is bought whose creators could not be looked up.
        let spent = Spent {
            search: i64::from(job.credits_used),
            period,
            reserved,
        };
        Ok(may_spend(&limits, spent).then_some(limits))
    }

    /// Step 2, after the calls: the page's creators the job does not have yet, as many as its
    /// target still needs, and whether each waits for its look-up.
    async fn new_creators(
        &self,
        job: &Job,
        found: Vec<CreatorRecord>,
    ) -> Result<(Vec<CreatorRecord>, Vec<bool>), StepError> {
        let mut creators = distinct(found);
        let keys: Vec<String> = creators.iter().map(CreatorRecord::key).collect();
        let known = self
            .phase(async |client| Ok(results::existing_keys(client, job.id, &keys).await?))
            .await
            .map_err(StepError::db)?;
        creators.retain(|c| !known.contains(&c.key()));
        let needed = usize::try_from(job.target_results - job.processed_results).unwrap_or(0);
        creators.truncate(needed);
        // Look-ups are not made here: the page is stored as found, its creators visible at once,
        // and enrichment messages fill them in beside the page chain.
        let module = platforms::module(job.platform);
        let pending = creators
            .iter()
            .map(|c| module.needs_enrichment(c))
            .collect();
        Ok((creators, pending))
    }

    /// Step 3: the page, its calls' charge and the job's advance in one transaction, under the
    /// lease re-checked with the job's row locked; none when the lease was lost.
    async fn commit_page(
        &self,
        job: &Job,
        step: i32,
        token: Uuid,
        settings: &Settings,
        limits: PlanLimits,
        page: &NewPage,
    ) -> Result<Option<Committed>, StepError> {
        self.transaction(async |tx| {
            let Some(stored) = jobs::lock_for_commit(tx, job.id, step, token).await? else {
                return Ok(None);
            };
            let inserted =
                results::insert(tx, job.id, step, stored, &page.creators, &page.pending).await?;
            let (job_credits, period_credits) =
                billing::charge(tx, job.id, &job.user_id, page.calls).await?;
            // This page's creators included.
            let reserved = enrichment::pending(tx, job.id).await?;
            let spent = !may_spend(
                &limits,
                Spent {
                    search: job_credits,
                    period: period_credits,
                    reserved,
                },
            );
            let total = stored + inserted.count;
            let completion = completion(job, step, settings, total, page.exhausted, spent);
            let progress = progress(job, total, completion);
            let (added, cursor) = (inserted.count, &page.cursor);
            jobs::apply_step(tx, job.id, step, token, added, progress, cursor, completion).await?;
            Ok(Some(Committed {
                inserted,
                total,
                completion,
            }))
        })
        .await
        .map_err(StepError::db)
    }

    /// Step 4: the next step first (it is what the user waits for), then the look-ups of the
    /// page's pending creators. The step is committed: from here a failure must not fail the
    /// job, only bring the message back, so that the repair sends what is missing.
    async fn send_next(
        &self,
        job_id: Uuid,
        step: i32,
        settings: &Settings,
        committed: Committed,
    ) -> Result<Outcome, StepError> {
        let Committed {
            inserted,
            completion,
            ..
        } = committed;
        if completion.is_none() {
            self.send_step(job_id, step + 1, settings.continuation_delay())
                .await
                .map_err(StepError::queue)?;
        }
        self.send_enrichment(job_id, &inserted.pending, settings.profile_concurrency())
            .await
            .map_err(StepError::queue)?;
        let added = inserted.count;
        let Some(reason) = completion else {
            return Ok(Outcome::Advanced { added });
        };
        info!(reason = reason.as_str(), "job completed");
        Ok(Outcome::Completed {
            added,
            reason: reason.as_str(),
        })
    }

    /// Sends step `step` of the job, visible after `delay`, and records the send on the job: the
    /// record is what the repair and the sweeper read to find a step that was never sent.
    pub(super) async fn send_step(
        &self,
        job_id: Uuid,
        step: i32,
        delay: Duration,
    ) -> anyhow::Result<()> {
        let message = StepMessage { job_id, step };
        let record = |id: String| {
            self.phase(async move |client| {
                Ok(jobs::record_enqueued(client, job_id, step, &id).await?)
            })
        };
        queue::send_and_record(&self.queue, &message, delay, record)
            .await
            .map_err(|e| match e {
                SendAndRecordError::Send(e) => e.into(),
                SendAndRecordError::Record(e) => e,
            })
    }

    /// Ends the job at step `step` without calling the creator API.
    async fn commit_without_calls(
        &self,
        job: &Job,
        step: i32,
        token: Uuid,
        reason: Completion,
    ) -> Result<Outcome, StepError> {
        let applied = self
            .transaction(async |tx| {
                if jobs::lock_for_commit(tx, job.id, step, token)
                    .await?
                    .is_none()
                {
                    return Ok(false);
                }
                jobs::apply_step(tx, job.id, step, token, 0, 100, &job.cursor, Some(reason))
                    .await?;
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
}

/// Step 2's calls: the next page of the job's search from its stored cursor, no database
/// connection held.
async fn fetch(api: &CreatorApi, job: &Job, settings: &Settings) -> Result<Page, StepError> {
    let module = platforms::module(job.platform);
    let spec = SearchSpec {
        platform: job.platform,
        target: job.target(),
        region: job.region.clone(),
        batch_size: module.related_per_step(settings),
    };
    // A cursor that cannot be read ends the search: starting over would pay for its pages again.
    let cursor = Cursor::from_stored(&job.cursor, job.search_type)
        .map_err(|e| StepError::from(SearchError::from(e)))?;
    Ok(fetch_page(api, &spec, cursor).await?)
}

/// Whether step `step`, having brought the job to `total` creators, ends it, and why: its target
/// reached, no further page, its API-call limit, or its credits `spent`, in that order.
fn completion(
    job: &Job,
    step: i32,
    settings: &Settings,
    total: i32,
    exhausted: bool,
    spent: bool,
) -> Option<Completion> {
    if total >= job.target_results {
        Some(Completion::TargetReached)
    } else if exhausted {
        Some(Completion::ResultsExhausted)
    } else if step + 1 >= api_call_limit(job, settings) {
        Some(Completion::ApiLimitReached)
    } else if spent {
        Some(Completion::CreditLimit)
    } else {
        None
    }
}

/// The search calls (steps) the job may make. A kind the product does not offer (no start
/// accepts one) makes none.
fn api_call_limit(job: &Job, settings: &Settings) -> i32 {
    job.kind().map_or(0, |kind| settings.max_api_calls(kind))
}

/// The job's progress at `total` creators: 100 once it ends, else the share of its target found,
/// 99 at most.
fn progress(job: &Job, total: i32, completion: Option<Completion>) -> i32 {
    match completion {
        Some(_) => 100,
        None => (i64::from(total) * 100 / i64::from(job.target_results.max(1))).min(99) as i32,
    }
}

/// The first occurrence of each creator in a page.
fn distinct(records: Vec<CreatorRecord>) -> Vec<CreatorRecord> {
    let mut seen = std::collections::HashSet::new();
    records
        .into_iter()
        .filter(|r| seen.insert(r.key()))
        .collect()
}
