//! Sends the onboarding and trial emails that are due, on a one-minute schedule.
//!
//! A run is a few workers ([`CONCURRENCY`]), each a loop: claim one due email (`FOR UPDATE SKIP
//! LOCKED`, committed before any call to the provider, so overlapping runs never claim one email
//! twice), check it against the recipient as they are now (an abandonment reminder to a user who
//! completed is skipped), render it, send it through SES, and record the outcome at once. Every
//! step is bounded ([`budget`]): no email is claimed unless its send and record fit before the
//! invocation ends, and every database call gives up after [`budget::DB_DEADLINE`].
//!
//! What the provider answers decides what follows ([`email::ses::Disposition`]): a server error
//! or a timeout is retried by a later run with [`backoff`], up to `email.max_attempts`; a
//! refusal fails the email; throttling, the daily quota or a paused account defer it with
//! [`deferral_delay`] without counting an attempt, and the run makes no more calls. Users see a
//! short reason code; the provider's text is logged only.
//!
//! The one window: a run that dies (or loses its database) after SES accepted an email and
//! before its record leaves the claim to run out, and the email is sent again by a later run.

pub mod budget;
mod deliver;

use std::{
    sync::atomic::{AtomicBool, Ordering},
    time::{Duration, SystemTime},
};

use db::emails::{self, Outcome};
use db::settings::{Settings, SettingsCache};
use db::PoolClient;
use email::{link::LinkSigner, ses::Failure, ses::Ses};
use lambda_runtime::LambdaEvent;
use serde::Serialize;

use budget::{db, Budget, CLAIM};

/// Built once per container.
pub struct State {
    pub pool: db::Pool,
    pub ses: Ses,
    pub settings: SettingsCache,
    pub links: LinkSigner,
    /// The HTTP API's public address, for the unsubscribe links.
    pub public_api_url: String,
    /// The web application, for the emails' calls to action.
    pub app_url: String,
}

/// What one run did.
#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Run {
    pub sent: u64,
    pub skipped: u64,
    pub failed: u64,
    /// Transient failures scheduled for another attempt.
    pub retrying: u64,
    /// Held back by the provider's account (throttling, quota, paused): tried later, no attempt
    /// counted.
    pub deferred: u64,
    /// Claimed but not sent (the run stopped first): due again at once, no attempt counted.
    pub released: u64,
    /// Outcomes not recorded because the claim had run out and another run took the email.
    pub lost_claims: u64,
}

impl Run {
    fn add(&mut self, other: &Run) {
        self.sent += other.sent;
        self.skipped += other.skipped;
        self.failed += other.failed;
        self.retrying += other.retrying;
        self.deferred += other.deferred;
        self.released += other.released;
        self.lost_claims += other.lost_claims;
    }
}

/// Emails in flight at once. With SES answering in 100 ms this is far above the rate cap; with
/// SES answering in 5 s it still sends about 90 emails a minute.
pub const CONCURRENCY: usize = 8;

/// The delay before attempt `attempts + 1`: 30 s, 1 min, 2 min, ... at most an hour.
pub fn backoff(attempts: i32) -> Duration {
    let exp = u32::try_from(attempts.saturating_sub(1))
        .unwrap_or(0)
        .min(7);
    Duration::from_secs(30 * 2u64.pow(exp)).min(Duration::from_secs(3_600))
}

/// The delay before an email held back `deferrals` times before is tried again: throttling
/// passes within seconds (30 s, doubling, at most 15 min); a spent daily quota or a paused
/// account takes longer (15 min, doubling, at most 2 h).
pub fn deferral_delay(failure: Failure, deferrals: i32) -> Duration {
    let (base, most) = match failure {
        Failure::Throttled => (30, 900),
        _ => (900, 7_200),
    };
    let exp = u32::try_from(deferrals).unwrap_or(0).min(8);
    Duration::from_secs(base * 2u64.pow(exp)).min(Duration::from_secs(most))
}

/// The Lambda handler: one run, until the invocation's deadline.
pub async fn handler(
    state: &State,
    event: LambdaEvent<serde_json::Value>,
) -> Result<Run, lambda_runtime::Error> {
    send_due(state, Some(event.context.deadline()))
        .await
        .map_err(|e| {
            tracing::error!(error = ?e, "email run failed");
            lambda_runtime::Error::from(e.to_string())
        })
}

/// What the workers of one run share.
struct Ctx<'a> {
    state: &'a State,
    settings: &'a Settings,
    client: &'a PoolClient,
    budget: Budget,
    /// Set when no more emails should be claimed: the provider held the account back, or the
    /// database failed.
    stop: AtomicBool,
}

/// Sends what is due until nothing is, or until too little of the invocation (`deadline`) is left
/// for another send.
pub async fn send_due(state: &State, deadline: Option<SystemTime>) -> anyhow::Result<Run> {
    let client = db(state.pool.get()).await?;
    let settings = db(state.settings.get(&client)).await?;
    let ctx = Ctx {
        state,
        settings: &settings,
        client: &client,
        budget: Budget::new(deadline, state.ses.timeout()),
        stop: AtomicBool::new(false),
    };
    let results = futures::future::join_all((0..CONCURRENCY).map(|_| worker(&ctx))).await;
    let mut run = Run::default();
    let mut failure = None;
    for result in results {
        match result {
            Ok(done) => run.add(&done),
            Err(e) => failure = Some(e),
        }
    }
    if let Some(e) = failure {
        tracing::error!(?run, "email run stopped: the database failed");
        // The connection may still be waiting on a frozen server: it does not go back to the pool.
        drop(PoolClient::take(client));
        return Err(e);
    }
    // Most runs find nothing due: only the ones that did something are worth a line.
    if run == Run::default() {
        tracing::debug!("email run: nothing due");
    } else {
        tracing::info!(?run, "email run done");
    }
    Ok(run)
}

/// Claims, delivers and records one email at a time until nothing is due, the run is stopped, or
/// no send fits in the invocation any more.
async fn worker(ctx: &Ctx<'_>) -> anyhow::Result<Run> {
    let mut run = Run::default();
    let result = async {
        loop {
            if ctx.stop.load(Ordering::Relaxed) {
                return Ok(());
            }
            if !ctx.budget.room_for_another() {
                tracing::info!("leaving the rest to the next run: the invocation ends soon");
                return Ok(());
            }
            let claimed_at = tokio::time::Instant::now();
            let Some(claim) = db(emails::claim_due(ctx.client, 1, CLAIM)).await?.pop() else {
                return Ok(());
            };
            let (id, attempts, outcome) = deliver::deliver(ctx, claim, claimed_at).await;
            record(ctx.client, id, attempts, outcome, &mut run).await?;
        }
    }
    .await;
    if result.is_err() {
        ctx.stop.store(true, Ordering::Relaxed);
    }
    result.map(|()| run)
}

/// Records one outcome and counts it in `run`. An outcome whose claim ran out (another run took
/// the email) is not recorded, and is counted as a lost claim.
async fn record(
    client: &PoolClient,
    id: i64,
    attempts: i32,
    outcome: Outcome,
    run: &mut Run,
) -> anyhow::Result<()> {
    if !db(emails::record(client, id, attempts, &outcome)).await? {
        tracing::warn!(
            id,
            "the email's claim ran out before its outcome was recorded"
        );
        run.lost_claims += 1;
        return Ok(());
    }
    let count = match outcome {
        Outcome::Sent { .. } => &mut run.sent,
        Outcome::Skipped { .. } => &mut run.skipped,
        Outcome::Failed { .. } => &mut run.failed,
        Outcome::RetryAfter { .. } => &mut run.retrying,
        Outcome::Deferred { .. } => &mut run.deferred,
        Outcome::Released => &mut run.released,
    };
    *count += 1;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_from_thirty_seconds_up_to_an_hour() {
        assert_eq!(backoff(1), Duration::from_secs(30));
        assert_eq!(backoff(2), Duration::from_secs(60));
        assert_eq!(backoff(4), Duration::from_secs(240));
        assert_eq!(backoff(30), Duration::from_secs(3_600));
    }

    #[test]
    fn throttling_is_waited_out_in_seconds_and_a_quota_in_quarter_hours() {
        assert_eq!(
            deferral_delay(Failure::Throttled, 0),
            Duration::from_secs(30)
        );
        assert_eq!(
            deferral_delay(Failure::Throttled, 2),
            Duration::from_secs(120)
        );
        assert_eq!(
            deferral_delay(Failure::Throttled, 20),
            Duration::from_secs(900)
        );
        assert_eq!(
            deferral_delay(Failure::QuotaExceeded, 0),
            Duration::from_secs(900)
        );
        assert_eq!(
            deferral_delay(Failure::Paused, 9),
            Duration::from_secs(7_200)
        );
    }
}
