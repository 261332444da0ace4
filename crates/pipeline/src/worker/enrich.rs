//! Enrichment, beside the page chain: the messages are sent after a page's commit (or by the
//! repair), and each delivery claims its rows still pending → checks the search may spend →
//! looks each creator up, its call charged first → stores what was found.

use std::sync::Arc;

use futures::StreamExt as _;
use tracing::{info, warn};
use uuid::Uuid;

use super::{budget::limits_of, Outcome, Retry, Worker};
use crate::{platforms, search::Cursor, search::Target};
use db::{
    billing, billing::PreCharge, enrichment, enrichment::Filled, jobs, jobs::Job, results,
    settings::Settings,
};
use domain::{
    creator::CreatorRecord,
    credits::{may_spend, PlanLimits, Spent},
};
use queue::{EnrichMessage, JobQueue};

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
    /// A look-up whose charge could not be recorded (its row is given back).
    failed: Option<anyhow::Error>,
}

impl<Q: JobQueue> Worker<Q> {
    /// Handles one delivery of an enrichment message: looks up its creators that are still
    /// pending and stores what was found. A failure before the commit brings the message back
    /// (each row is claimed at most [`enrichment::MAX_ATTEMPTS`] times); a look-up that fails
    /// leaves its creator as found, as a page step always did.
    pub async fn handle_enrichment(&self, message: &EnrichMessage) -> Result<Outcome, Retry> {
        let token = Uuid::new_v4();
        let Held {
            job,
            settings,
            rows,
            limits,
        } = match self.hold(message, token).await? {
            Ok(held) => held,
            Err(outcome) => return Ok(outcome),
        };
        let held = rows.len();
        let looked = self.look_up(&job, &settings, limits, rows).await;
        // Every call is already charged; what is left is storing what the calls found.
        let stored = self.store(job.id, token, &looked).await?;
        info!(held, stored, "creators enriched");
        if let Some(e) = looked.failed {
            return Err(Retry(e.context("some look-ups could not be charged")));
        }
        Ok(Outcome::Enriched { filled: stored })
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
    /// outcome instead when there is nothing to look up.
    async fn hold(
        &self,
        message: &EnrichMessage,
        token: Uuid,
    ) -> anyhow::Result<Result<Held, Outcome>> {
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
            )
            .await?;
            if rows.is_empty() {
                // Rows another delivery holds come back to this message: should that delivery
                // have died, its lease has expired by the next delivery.
                if enrichment::held_elsewhere(client, job_id, positions).await? > 0 {
                    anyhow::bail!("the creators are being enriched by another delivery");
                }
                return Ok(Err(Outcome::Skipped("nothing left to enrich")));
            }
            let Some(job) = jobs::find(client, job_id).await? else {
                return Ok(Err(Outcome::Skipped("job no longer exists")));
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
                return Ok(Err(Outcome::Skipped("the search's credits are spent")));
            }
            Ok(Ok(Held {
                job,
                settings,
                rows,
                limits,
            }))
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
        let results: Vec<anyhow::Result<Looked>> = futures::stream::iter(rows)
            .map(|row| self.enrich_one(job, row, target, limits))
            .buffer_unordered(settings.profile_concurrency().max(1))
            .collect()
            .await;
        let mut looked = LookedUp::default();
        for result in results {
            match result {
                Ok(Looked::Filled(row)) => looked.filled.push(row),
                Ok(Looked::Never(position)) => looked.never.push(position),
                Ok(Looked::Left) => {}
                Err(e) => looked.failed = Some(e),
            }
        }
        looked
    }

    /// Looks up one claimed creator: its call is charged first, and only while the search may
    /// still spend (within `limits`). An error means the charge could not be recorded, and the
    /// creator waits for another delivery without a call.
    async fn enrich_one(
        &self,
        job: &Job,
        row: enrichment::Claimed,
        target: Option<&Target>,
        limits: PlanLimits,
    ) -> anyhow::Result<Looked> {
        let Ok(mut record) = serde_json::from_value::<CreatorRecord>(row.creator) else {
            warn!(
                position = row.position,
                "a stored creator cannot be read; left as found"
            );
            return Ok(Looked::Never(row.position));
        };
        match self.charge_one(job, limits).await? {
            PreCharge::Charged => {}
            PreCharge::Stopped => return Ok(Looked::Left),
            PreCharge::OverBudget => return Ok(Looked::Never(row.position)),
        }
        let api = self.api.metered();
        platforms::module(record.platform)
            .enrich(&api, &mut record)
            .await;
        if api.calls() == 0 {
            // The request never reached the API (no connection): nothing to pay for.
            self.refund_one(job).await;
        }
        Ok(Looked::Filled(filled(row.position, record, target)))
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

    /// Gives back a call charged before it was made, when it was not made.
    async fn refund_one(&self, job: &Job) {
        let refunded = self
            .phase(async |client| Ok(billing::charge(client, job.id, &job.user_id, -1).await?))
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
