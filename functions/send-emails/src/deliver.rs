//! One claimed email: checked against the recipient as they are now, rendered, sent, and the
//! provider's answer turned into the outcome to record.

use std::sync::atomic::Ordering;

use db::emails::{Claimed, Outcome, Unreadable};
use email::render::{Content, Rendered};
use email::ses::{Disposition, Failure, SendError};
use email::{link::List, ses::Outgoing};
use tokio::time::Instant;
use tracing::Span;

use super::{backoff, deferral_delay, Ctx, State};

/// Delivers one claimed email (claimed at `claimed_at`). An email whose row cannot be read fails
/// at once. Returns its id, its claim's attempt and its outcome.
pub(super) async fn deliver(
    ctx: &Ctx<'_>,
    claim: Result<Claimed, Unreadable>,
    claimed_at: Instant,
) -> (i64, i32, Outcome) {
    match claim {
        Ok(claim) => {
            let outcome = deliver_claimed(ctx, &claim, claimed_at).await;
            (claim.id, claim.attempts, outcome)
        }
        Err(unreadable) => {
            tracing::error!(error = %unreadable, "a scheduled email cannot be read");
            let reason = "unreadable".to_owned();
            (
                unreadable.id,
                unreadable.attempts,
                Outcome::Failed { reason },
            )
        }
    }
}

/// Checks, renders and sends one claimed email.
async fn deliver_claimed(ctx: &Ctx<'_>, claim: &Claimed, claimed_at: Instant) -> Outcome {
    let span = tracing::info_span!("email", user_id = %claim.recipient.user_id, email = %claim.kind, attempt = claim.attempts);
    // Entered only around what does not await; the send's lines name the span as their parent.
    let ready = match span.in_scope(|| prepare(ctx.state, claim)) {
        Ok(ready) => ready,
        Err(outcome) => return outcome,
    };
    if ctx.stop.load(Ordering::Relaxed) {
        return Outcome::Released;
    }
    let message = Outgoing {
        to: ready.to,
        kind: claim.kind,
        content: &ready.rendered,
        unsubscribe_url: ready.unsubscribe_url.as_deref(),
    };
    let end = ctx.budget.send_end(claimed_at);
    let sent = ctx.state.ses.send_by(&message, Some(end)).await;
    outcome_of_send(ctx, sent, claim, &span)
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
            reason: "render_failed".to_owned(),
        }
    })?;
    Ok(Ready {
        to,
        rendered,
        unsubscribe_url,
    })
}

/// The outcome of the provider's answer. The record keeps [`Failure::code`]; the provider's own
/// text is logged here and nowhere else.
fn outcome_of_send(
    ctx: &Ctx<'_>,
    sent: Result<String, SendError>,
    claim: &Claimed,
    span: &Span,
) -> Outcome {
    let error = match sent {
        Ok(message_id) => {
            tracing::info!(parent: span, %message_id, "email sent");
            return Outcome::Sent { message_id };
        }
        Err(error) => error,
    };
    let (failure, detail) = (error.failure, error.detail.as_str());
    let reason = failure.code().to_owned();
    match failure.disposition() {
        Disposition::Defer if failure == Failure::NoTime => {
            tracing::info!(parent: span, "email left to the next run: its send would not end in time");
            Outcome::Released
        }
        Disposition::Defer => {
            // Every other call would be held back too: the run makes no more.
            ctx.stop.store(true, Ordering::Relaxed);
            let delay = deferral_delay(failure, claim.deferrals);
            tracing::warn!(parent: span, reason, detail, ?delay, "the provider held the email back");
            Outcome::Deferred { delay, reason }
        }
        Disposition::Retry if claim.attempts >= ctx.settings.email_max_attempts() => {
            tracing::warn!(parent: span, reason, detail, "email failed on its last attempt");
            Outcome::Failed { reason }
        }
        Disposition::Retry => {
            let delay = backoff(claim.attempts);
            tracing::warn!(parent: span, reason, detail, ?delay, "email will be retried");
            Outcome::RetryAfter { delay, reason }
        }
        Disposition::Fail => {
            tracing::warn!(parent: span, reason, detail, "email refused by the provider");
            Outcome::Failed { reason }
        }
    }
}
