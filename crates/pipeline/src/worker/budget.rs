//! What a search may still spend, and the charge of calls an attempt made but did not commit.
//!
//! The rule "may this search, and its user, still spend" is `domain::credits::may_spend`, and
//! nothing else decides it: the step asks it before buying a page and again at the commit, the
//! enrichment before claiming look-ups, each with the [`PlanLimits`] read here once. The
//! per-call charge before a look-up binds the same limits into its statement, where the
//! search's row is locked.

use std::time::Duration;

use deadpool_postgres::GenericClient;
use tracing::warn;
use uuid::Uuid;

use super::Worker;
use crate::creator_api::CreatorApi;
use db::{billing, jobs, jobs::Job, settings::Settings};
use domain::{credits::PlanLimits, plan::Plan};

/// How long a failed attempt keeps trying to record the calls it made.
pub const CHARGE_PATIENCE: Duration = Duration::from_secs(30);

/// How long a failed attempt waits between two tries of its charge.
const CHARGE_RETRY: Duration = Duration::from_secs(1);

/// The limits of the plan of the job's user (the trial's when none applies any more).
pub(super) async fn limits_of(
    client: &impl GenericClient,
    settings: &Settings,
    job: &Job,
) -> Result<PlanLimits, tokio_postgres::Error> {
    let plan = billing::standing(client, &job.user_id)
        .await?
        .map_or(Plan::Trial, |s| s.limits_plan(chrono::Utc::now()));
    Ok(settings.limits(plan))
}

impl<Q> Worker<Q> {
    /// Charges the calls of an attempt that did not commit (its calls were made and paid). A commit
    /// that timed out client-side may still have landed: the job row, locked, says whether this
    /// attempt's commit applied the step (and charged its calls). While the database does not
    /// answer, the charge is tried again, for up to [`CHARGE_PATIENCE`].
    pub(super) async fn charge_failed_attempt(
        &self,
        job: &Job,
        step: i32,
        token: Uuid,
        api: &CreatorApi,
    ) {
        let calls = i32::try_from(api.calls()).unwrap_or(i32::MAX);
        if calls == 0 {
            return;
        }
        let started = tokio::time::Instant::now();
        loop {
            let charged = self
                .transaction(async |tx| {
                    if jobs::applied_by(tx, job.id, step).await? != Some(token) {
                        billing::charge(tx, job.id, &job.user_id, calls).await?;
                    }
                    Ok(())
                })
                .await;
            match charged {
                Ok(()) => {
                    api.settle(u32::try_from(calls).unwrap_or(0));
                    return;
                }
                Err(e) if started.elapsed() + CHARGE_RETRY >= CHARGE_PATIENCE => {
                    warn!(error = %e, calls, "could not charge a failed attempt's calls");
                    return;
                }
                Err(_) => tokio::time::sleep(CHARGE_RETRY).await,
            }
        }
    }
}
