//! Enrichment, beside the page chain: the messages are sent after a page's commit (or by the
//! repair), and each delivery claims its rows still pending → checks the search may spend →
//! looks each creator up, its call charged first → stores what was found.
//!
//! A look-up the API refuses (429) is not paid for (its charge is given back) and not finished:
//! it is tried again after the API's `Retry-After`, within the delivery for up to
//! [`REFUSAL_PATIENCE`], then by a new message, its row pending again with its claim given back
//! ([`enrichment::defer`]). Only a look-up that was answered, or that failed otherwise (a server
//! error, no answer), spends one of the row's [`enrichment::MAX_ATTEMPTS`] claims; a row out of
//! them is `skipped`, and its creator says so.

use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use futures::StreamExt as _;
use tracing::{info, warn};
use uuid::Uuid;

use super::{budget::limits_of, Outcome, Retry, Worker};
use crate::{creator_api::ApiCallError, platforms, search::Cursor, search::Target};
use db::{
    billing, billing::PreCharge, enrichment, enrichment::Deferred, enrichment::Filled, jobs,
    jobs::Job, refunds, results, settings::Settings,
};
use domain::{
    creator::CreatorRecord,
    credits::{may_spend, PlanLimits, Spent},
};
use queue::{EnrichMessage, JobQueue};

/// How long one delivery keeps trying look-ups the API refused, waiting its `Retry-After` between
/// two tries, before it hands them to a new message: well inside the worker's 60 s invocation.
pub const REFUSAL_PATIENCE: Duration = Duration::from_secs(20);

/// The longest a delivery waits for its rows' `Retry-After` to pass before claiming them; a
/// longer one brings the message back after the queue's visibility timeout instead.
const DEFERRAL_WAIT: Duration = Duration::from_secs(10);

/// How long a look-up that failed (a server error, no answer) waits before it is tried again.
const FAILED_RETRY: Duration = Duration::from_secs(5);

/// What became of one claimed creator.
enum Looked {
    /// Looked up (the API answered, a missing or private profile included): store it.
    Filled(Filled),
    /// Not looked up and never will be (the row is skipped): the search may not spend more, the
    /// API rejects the call itself, or the stored creator cannot be read.
    Never(i32),
    /// Not looked up: the search was stopped (its rows are skipped already).
    Left,
    /// Not looked up this time (refused, or failed): tried again by a later delivery.
    Again(Deferred),
}

/// What claiming a message's rows found.
enum Hold {
    Held(Box<Held>),
    /// Nothing to look up.
    Nothing(Outcome),
    /// Its rows wait for a refusal's `Retry-After` to pass, this long.
    Deferred(Duration),
}

/// The rows one delivery holds under its lease, and what looking them up needs.
struct Held {
    job: Job,
    settings: Arc<Settings>,
    rows: Vec<enrichment::Claimed>,
    limits: PlanLimits,
}

/// One delivery's look-ups, by what becomes of their rows.
#[derive(Default)]
struct LookedUp {
    filled: Vec<Filled>,
    never: Vec<i32>,
    again: Vec<Deferred>,
    /// A look-up whose charge could not be recorded (its row is given back).
    failed: Option<anyhow::Error>,
}

impl<Q: JobQueue> Worker<Q> {
    /// Handles one delivery of an enrichment message: looks up its creators that are still
    /// pending and stores what was found. A failure before the commit brings the message back
    /// (each row is claimed at most [`enrichment::MAX_ATTEMPTS`] times); look-ups to be tried again
    /// are sent in a new message.
    pub async fn handle_enrichment(&self, message: &EnrichMessage) -> Result<Outcome, Retry> {
        let token = Uuid::new_v4();
        let Held {
            job,
            settings,
            rows,
            limits,
        } = match self.hold_when_due(message, token).await? {
            Ok(held) => held,
            Err(outcome) => return Ok(outcome),
        };
        let held = rows.len();
        let looked = self.look_up(&job, &settings, limits, rows).await;
        // Every call is already charged; what is left is storing what the calls found.
        let stored = self.store(job.id, token, &looked).await?;
        let again: Vec<i32> = looked.again.iter().map(|d| d.position).collect();
        info!(held, stored, again = again.len(), "creators enriched");
        // Should this send fail, the message comes back with these rows (and the sweeper sends
        // rows whose message was never sent).
        self.send_enrichment(job.id, &again, settings.profile_concurrency())
            .await
            .map_err(|e| Retry(e.context("look-ups to try again could not be sent")))?;
        if let Some(e) = looked.failed {
            return Err(Retry(e.context("some look-ups could not be charged")));
        }
        Ok(Outcome::Enriched { filled: stored })
    }

    /// [`Self::hold`], after waiting for rows deferred by a refusal when their `Retry-After` is
    /// near; a far one brings the message back.
    async fn hold_when_due(
        &self,
        message: &EnrichMessage,
        token: Uuid,
    ) -> anyhow::Result<Result<Held, Outcome>> {
        for _ in 0..3 {
            match self.hold(message, token).await? {
                Hold::Held(held) => return Ok(Ok(*held)),
                Hold::Nothing(outcome) => return Ok(Err(outcome)),
                Hold::Deferred(wait) if wait <= DEFERRAL_WAIT => tokio::time::sleep(wait).await,
                Hold::Deferred(_) => break,
            }
        }
        anyhow::bail!("the creators' look-ups wait for the creator API's Retry-After")
    }

    /// Sends the enrichment of the job's creators at `positions`, `per_message` to a message, and
    /// records it.
    pub(super) async fn send_enrichment(
        &self,
        job_id: Uuid,
        positions: &[i32],
        per_message: usize,
    ) -> anyhow::Result<()> {
        if positions.is_empty() {
            return Ok(());
        }
        let messages = EnrichMessage::batches(job_id, positions, per_message);
        self.queue.send_enrichment(&messages).await?;
        self.phase(async |client| Ok(enrichment::mark_enqueued(client, job_id, positions).await?))
            .await
    }

    /// Claims the message's rows still pending under `token` while the search may spend; the
    /// outcome instead when there is nothing to look up, or the wait for rows deferred.
    async fn hold(&self, message: &EnrichMessage, token: Uuid) -> anyhow::Result<Hold> {
        let (job_id, positions) = (message.job_id, &message.enrich);
        self.phase(async |client| {
            let settings = self.settings.get(client).await?;
            let lease = self.lease.as_secs_f64();
            let rows = enrichment::claim(
                client,
                job_id,
                positions,
                token,
                lease,
                enrichment::MAX_ATTEMPTS,
                settings.job_timeout().as_secs_f64(),
            )
            .await?;
            if rows.is_empty() {
                // Rows another delivery holds come back to this message: should that delivery
                // have died, its lease has expired by the next delivery.
                if enrichment::held_elsewhere(client, job_id, positions).await? > 0 {
                    anyhow::bail!("the creators are being enriched by another delivery");
                }
                if let Some(secs) = enrichment::deferred_for(client, job_id, positions).await? {
                    let wait = Duration::from_secs_f64(secs.max(0.0)) + Duration::from_millis(50);
                    return Ok(Hold::Deferred(wait));
                }
                return Ok(Hold::Nothing(Outcome::Skipped("nothing left to enrich")));
            }
            let Some(job) = jobs::find(client, job_id).await? else {
                return Ok(Hold::Nothing(Outcome::Skipped("job no longer exists")));
            };
            let limits = limits_of(client, &settings, &job).await?;
            let period = billing::period_credits(client, &job.user_id).await?;
            let spent = Spent {
                search: i64::from(job.credits_used),
                period,
                reserved: 0,
            };
            if !may_spend(&limits, spent) {
                enrichment::skip(client, job.id, token).await?;
                info!(creators = rows.len(), "credits spent; enrichment skipped");
                return Ok(Hold::Nothing(Outcome::Skipped(
                    "the search's credits are spent",
                )));
            }
            Ok(Hold::Held(Box::new(Held {
                job,
                settings,
                rows,
                limits,
            })))
        })
        .await
    }

    /// Looks the held rows up, [`Settings::profile_concurrency`] at a time.
    async fn look_up(
        &self,
        job: &Job,
        settings: &Settings,
        limits: PlanLimits,
        rows: Vec<enrichment::Claimed>,
    ) -> LookedUp {
        // Similar searches by words score each creator again with what its look-up found.
        let cursor = Cursor::from_stored(&job.cursor, job.search_type)
            .ok()
            .flatten();
        let target = cursor.as_ref().and_then(Cursor::ranking_target);
        let patience_end = Instant::now() + self.refusal_patience;
        let results: Vec<anyhow::Result<Looked>> = futures::stream::iter(rows)
            .map(|row| self.enrich_one(job, row, target, limits, patience_end))
            .buffer_unordered(settings.profile_concurrency().max(1))
            .collect()
            .await;
        let mut looked = LookedUp::default();
        for result in results {
            match result {
                Ok(Looked::Filled(row)) => looked.filled.push(row),
                Ok(Looked::Never(position)) => looked.never.push(position),
                Ok(Looked::Left) => {}
                Ok(Looked::Again(row)) => looked.again.push(row),
                Err(e) => looked.failed = Some(e),
            }
        }
        looked
    }

    /// Looks up one claimed creator: each call is charged first, and only while the search may
    /// still spend (within `limits`); a call the API did not bill (refused, a server error, no
    /// connection) is given back. A refused look-up is tried again after the API's `Retry-After`
    /// until `patience_end`. An error means a charge could not be recorded, and the creator waits
    /// for another delivery without a call.
    async fn enrich_one(
        &self,
        job: &Job,
        row: enrichment::Claimed,
        target: Option<&Target>,
        limits: PlanLimits,
        patience_end: Instant,
    ) -> anyhow::Result<Looked> {
        let position = row.position;
        let Ok(mut record) = serde_json::from_value::<CreatorRecord>(row.creator) else {
            warn!(position, "a stored creator cannot be read; left as found");
            return Ok(Looked::Never(position));
        };
        loop {
            match self.charge_one(job, limits).await? {
                PreCharge::Charged => {}
                PreCharge::Stopped => return Ok(Looked::Left),
                PreCharge::OverBudget => return Ok(Looked::Never(position)),
            }
            let api = self.api.metered();
            let result = platforms::module(record.platform)
                .enrich(&api, &mut record)
                .await;
            if api.calls() == 0 {
                // The API did not bill the call (or it never reached the API): nothing to pay for.
                self.refund_one(job).await;
            }
            let error = match result {
                Ok(()) => return Ok(Looked::Filled(filled(position, record, target))),
                Err(e) => e,
            };
            match next_try(&error, patience_end) {
                NextTry::Now(wait) => tokio::time::sleep(wait).await,
                NextTry::Later(deferred) => {
                    return Ok(Looked::Again(Deferred {
                        position,
                        ..deferred
                    }))
                }
                NextTry::Never => return Ok(Looked::Never(position)),
            }
        }
    }

    /// Charges the one call about to be made for `job`, while the search may spend.
    async fn charge_one(&self, job: &Job, limits: PlanLimits) -> anyhow::Result<PreCharge> {
        // The one statement not cut short at [`DB_DEADLINE`](super::DB_DEADLINE): a charge given
        // up client-side may still land when the database answers again, leaving a charged call
        // that was never made. It waits for its answer; the record's time budget bounds the wait.
        let client = self.connection().await?;
        let (id, user) = (job.id, &job.user_id);
        Ok(billing::charge_before_call(&client, id, user, &limits).await?)
    }

    /// Gives back a call charged before it was made, when the API did not bill it.
    async fn refund_one(&self, job: &Job) {
        let refunded = self
            .transaction(async |tx| Ok(refunds::refund(tx, job.id, &job.user_id, 1).await?))
            .await;
        if let Err(e) = refunded {
            warn!(error = %e, "could not give back a call that was not made");
        }
    }

    /// Stores what the look-ups found and skips the rows never to be looked up, in one
    /// transaction; when that fails, the rows are given back for another delivery.
    async fn store(&self, job_id: Uuid, token: Uuid, looked: &LookedUp) -> anyhow::Result<u64> {
        let committed = self
            .transaction(async |tx| {
                // The job row first, then its creators: the order in which a stop (whose trigger
                // skips the pending rows) takes its locks, so the two never deadlock.
                jobs::lock(tx, job_id).await?;
                let stored = enrichment::finish(tx, job_id, token, &looked.filled).await?;
                enrichment::skip_positions(tx, job_id, token, &looked.never).await?;
                enrichment::defer(tx, job_id, token, &looked.again).await?;
                // Rows whose look-up was not made (their charge could not be recorded) are given
                // back for another delivery.
                enrichment::release(tx, job_id, token).await?;
                Ok(stored)
            })
            .await;
        if committed.is_err() {
            let _ = self
                .phase(async |client| Ok(enrichment::release(client, job_id, token).await?))
                .await;
        }
        committed
    }
}

/// When a failed look-up is tried again.
enum NextTry {
    /// In this delivery, after this wait (a refusal's `Retry-After`, spread a little).
    Now(Duration),
    /// By a later delivery (the position is the caller's to fill in).
    Later(Deferred),
    /// Never: the API rejects the call itself (our key, our request).
    Never,
}

fn next_try(error: &ApiCallError, patience_end: Instant) -> NextTry {
    if let Some(after) = error.refused() {
        let wait = after + spread();
        if Instant::now() + wait < patience_end {
            return NextTry::Now(wait);
        }
        return NextTry::Later(Deferred {
            position: 0,
            after_secs: after.as_secs_f64(),
            claim_returned: true,
        });
    }
    if error.is_retryable() {
        return NextTry::Later(Deferred {
            position: 0,
            after_secs: FAILED_RETRY.as_secs_f64(),
            claim_returned: false,
        });
    }
    NextTry::Never
}

/// Up to a second more than a refusal asked for, so that look-ups refused together do not all
/// come back at the same instant.
fn spread() -> Duration {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default()
        .subsec_nanos();
    Duration::from_millis(u64::from(nanos % 1_000))
}

/// The row to store for a creator looked up: its relevance to `target` scored again (similar
/// searches by words), and its JSON made storable.
fn filled(position: i32, mut record: CreatorRecord, target: Option<&Target>) -> Filled {
    let relevance = target.map(|t| t.relevance(&record.creator));
    if relevance.is_some() {
        record.relevance = relevance;
    }
    let mut creator = serde_json::to_value(&record).expect("a creator serializes");
    results::strip_nul(&mut creator);
    Filled {
        position,
        creator,
        relevance: relevance.map(|r| r as f32),
    }
}
