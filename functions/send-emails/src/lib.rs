//! Sends the onboarding and trial emails that are due, on a one-minute schedule.
//!
//! Each run claims due emails in small batches (`FOR UPDATE SKIP LOCKED`, committed before any
//! call to the provider, so overlapping runs never claim one email twice), checks each against
//! the recipient as they are now (an abandonment reminder to a user who completed is skipped),
//! renders it, sends it through SES and records the provider's message id. A throttled or failed
//! call is retried by a later run with backoff, up to `email.max_attempts`; a permanent refusal
//! (an unverified sender, a rejected message) fails the email with the provider's reason.
//!
//! The one window: a run that dies after SES accepted an email and before its record leaves the
//! claim to run out, and the email is sent again by a later run.

use std::time::{Duration, SystemTime};

use db::emails::{self, Claimed, Outcome, Unreadable};
use db::settings::{Settings, SettingsCache};
use db::PoolClient;
use email::render::{Content, Rendered};
use email::{link::LinkSigner, link::List, ses::Outgoing, ses::SendError, ses::Ses};
use futures::{stream, StreamExt as _};
use serde::Serialize;
use tracing::Span;

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
    /// Outcomes not recorded because the claim had run out and another run took the email.
    pub lost_claims: u64,
}

/// Emails claimed per batch, and sent at once within a batch.
const BATCH: i64 = 25;
const CONCURRENCY: usize = 4;
/// A claim outlives the function's timeout (60 s), so a live run never loses its claim.
const CLAIM: Duration = Duration::from_secs(300);
/// A new batch is claimed only with this much of the invocation left (one batch's sends, each
/// bounded by the SES timeout, fit in it).
const MARGIN: Duration = Duration::from_secs(20);

/// The delay before attempt `attempts + 1`: 30 s, 1 min, 2 min, ... at most an hour.
pub fn backoff(attempts: i32) -> Duration {
    let exp = u32::try_from(attempts.saturating_sub(1))
        .unwrap_or(0)
        .min(7);
    Duration::from_secs(30 * 2u64.pow(exp)).min(Duration::from_secs(3_600))
}

/// Sends what is due until nothing is, or until `deadline` (the invocation's) is near.
pub async fn send_due(state: &State, deadline: Option<SystemTime>) -> anyhow::Result<Run> {
    let mut run = Run::default();
    loop {
        if ends_soon(deadline) {
            tracing::info!("leaving the rest to the next run: the invocation ends soon");
            break;
        }
        let client = state.pool.get().await?;
        let settings = state.settings.get(&client).await?;
        let claimed = emails::claim_due(&client, BATCH, CLAIM).await?;
        let count = claimed.len();
        let outcomes = deliver_all(state, &settings, claimed).await;
        record_outcomes(&client, outcomes, &mut run).await?;
        if count < BATCH as usize {
            break;
        }
    }
    // Most runs find nothing due: only the ones that did something are worth a line.
    if run == Run::default() {
        tracing::debug!("email run: nothing due");
    } else {
        tracing::info!(?run, "email run done");
    }
    Ok(run)
}

/// Whether less than [`MARGIN`] of the invocation is left: too little for another batch.
fn ends_soon(deadline: Option<SystemTime>) -> bool {
    let time_left = deadline.map(|d| d.duration_since(SystemTime::now()).unwrap_or_default());
    time_left.is_some_and(|left| left < MARGIN)
}

/// Delivers a batch of claimed emails, [`CONCURRENCY`] at once. An email whose row cannot be read
/// fails at once. Returns each email's id, attempt and outcome.
async fn deliver_all(
    state: &State,
    settings: &Settings,
    claimed: Vec<Result<Claimed, Unreadable>>,
) -> Vec<(i64, i32, Outcome)> {
    stream::iter(claimed)
        .map(|claim| async {
            match claim {
                Ok(claim) => {
                    let outcome = deliver(state, settings, &claim).await;
                    (claim.id, claim.attempts, outcome)
                }
                Err(unreadable) => {
                    tracing::error!(error = %unreadable, "a scheduled email cannot be read");
                    let reason = unreadable.to_string();
                    (
                        unreadable.id,
                        unreadable.attempts,
                        Outcome::Failed { reason },
                    )
                }
            }
        })
        .buffer_unordered(CONCURRENCY)
        .collect()
        .await
}

/// Records each outcome and counts it in `run`. An outcome whose claim ran out (another run took
/// the email) is not recorded, and is counted as a lost claim.
async fn record_outcomes(
    client: &PoolClient,
    outcomes: Vec<(i64, i32, Outcome)>,
    run: &mut Run,
) -> anyhow::Result<()> {
    for (id, attempts, outcome) in outcomes {
        if !emails::record(client, id, attempts, &outcome).await? {
            tracing::warn!(
                id,
                "the email's claim ran out before its outcome was recorded"
            );
            run.lost_claims += 1;
            continue;
        }
        match outcome {
            Outcome::Sent { .. } => run.sent += 1,
            Outcome::Skipped { .. } => run.skipped += 1,
            Outcome::Failed { .. } => run.failed += 1,
            Outcome::RetryAfter { .. } => run.retrying += 1,
        }
    }
    Ok(())
}

/// Checks, renders and sends one claimed email.
async fn deliver(state: &State, settings: &Settings, claim: &Claimed) -> Outcome {
    let span = tracing::info_span!("email", user_id = %claim.recipient.user_id, email = %claim.kind, attempt = claim.attempts);
    // Entered only around what does not await; the send's lines name the span as their parent.
    let ready = match span.in_scope(|| prepare(state, claim)) {
        Ok(ready) => ready,
        Err(outcome) => return outcome,
    };
    let message = Outgoing {
        to: ready.to,
        kind: claim.kind,
        content: &ready.rendered,
        unsubscribe_url: ready.unsubscribe_url.as_deref(),
    };
    let sent = state.ses.send(&message).await;
    outcome_of_send(sent, settings, claim, &span)
}

/// A claimed email checked and rendered, ready to send.
struct Ready<'a> {
    to: &'a str,
    rendered: Rendered,
    unsubscribe_url: Option<String>,
}

/// Checks the email against the recipient as they are now and renders it; or the outcome, when
/// it is not to be sent: skipped (the recipient may not receive it) or failed (not renderable).
fn prepare<'a>(state: &State, claim: &'a Claimed) -> Result<Ready<'a>, Outcome> {
    let now = chrono::Utc::now();
    let recipient = &claim.recipient;
    let to = match recipient.may_receive(claim.kind, now) {
        Ok(to) => to,
        Err(reason) => {
            tracing::info!(reason = reason.as_str(), "email skipped");
            return Err(Outcome::Skipped {
                reason: reason.as_str().to_owned(),
            });
        }
    };
    let unsubscribe_url = claim.kind.is_reminder().then(|| {
        format!(
            "{}/email/unsubscribe?token={}",
            state.public_api_url.trim_end_matches('/'),
            state.links.token(&recipient.user_id, List::Reminders)
        )
    });
    let content = Content {
        kind: claim.kind,
        full_name: recipient.full_name.as_deref(),
        business: recipient.business_name.as_deref(),
        days_left: recipient.trial_days_left(now),
        plan: &recipient.plan_name,
        app_url: &state.app_url,
        unsubscribe_url: unsubscribe_url.as_deref(),
    };
    let rendered = content.render().map_err(|e| {
        tracing::error!(error = %e, "email could not be rendered");
        Outcome::Failed {
            reason: format!("could not render the email: {e}"),
        }
    })?;
    Ok(Ready {
        to,
        rendered,
        unsubscribe_url,
    })
}

/// The outcome of the provider's answer: a transient failure is retried with [`backoff`] until
/// the email's last attempt, a permanent one fails the email with the provider's reason.
fn outcome_of_send(
    sent: Result<String, SendError>,
    settings: &Settings,
    claim: &Claimed,
    span: &Span,
) -> Outcome {
    match sent {
        Ok(message_id) => {
            tracing::info!(parent: span, %message_id, "email sent");
            Outcome::Sent { message_id }
        }
        Err(SendError::Permanent(reason)) => {
            tracing::warn!(parent: span, %reason, "email refused by the provider");
            Outcome::Failed { reason }
        }
        Err(SendError::Transient(error)) if claim.attempts >= settings.email_max_attempts() => {
            tracing::warn!(parent: span, %error, "email failed on its last attempt");
            Outcome::Failed {
                reason: format!("gave up after {} attempts: {error}", claim.attempts),
            }
        }
        Err(SendError::Transient(error)) => {
            let delay = backoff(claim.attempts);
            tracing::warn!(parent: span, %error, ?delay, "email will be retried");
            Outcome::RetryAfter { delay, error }
        }
    }
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
}
