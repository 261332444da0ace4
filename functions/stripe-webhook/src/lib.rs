//! `POST /billing/stripe/webhook` — Stripe's events, the one way a subscription becomes active
//! in a deployment. Public (no JWT authorizer): the `Stripe-Signature` header is the proof
//! ([`signature`]); a request without a valid one, or outside the 5-minute tolerance, is
//! refused 400 `invalid_signature` and changes nothing. A signed body that is not an event is
//! 400 `invalid_body`.
//!
//! Each event is applied once: its id is recorded in `stripe_events` in the transaction that
//! applies it, so a redelivery (Stripe delivers at least once) is acknowledged and changes
//! nothing. What is applied:
//!
//! | event | effect |
//! |---|---|
//! | `checkout.session.completed` (paid), `checkout.session.async_payment_succeeded` | the user of `client_reference_id` is subscribed to `metadata.plan` (`starter`, `pro`), with the session's customer and subscription, and their trial converted |
//! | `customer.subscription.updated` | the subscription's status (and plan, from `metadata.plan` or its price's `lookup_key`) |
//! | `customer.subscription.deleted` | the subscription is `canceled` |
//! | any other type | acknowledged (200), nothing changed |
//!
//! An event older than one already applied to the same profile changes nothing (Stripe does not
//! promise order). Every event answers 200 with what it did (`outcome`), so that Stripe stops
//! retrying; the outcome is also kept with the event's id for the operator. A database failure
//! answers 503, and Stripe retries.

pub mod event;
pub mod signature;

use api::{ApiError, FieldError};
use chrono::Utc;
use db::billing::{self, SubscriptionChange};
use lambda_http::{http::StatusCode, Body, Request, Response};
use serde_json::json;

use event::Event;

/// The largest event body read. Stripe's events are a few kilobytes; a Checkout Session with
/// many line items stays far below this.
pub const MAX_BODY_BYTES: usize = 256 * 1024;

/// Built once per container.
pub struct State {
    pub pool: db::Pool,
    /// The endpoint's signing secret (`whsec_...`), as Stripe shows it.
    pub signing_secret: String,
}

/// The shortest signing secret accepted (Stripe's are `whsec_` and about 32 more characters); an
/// empty or short one would let anyone sign events.
pub const MIN_SECRET_LEN: usize = 16;

impl State {
    pub fn new(pool: db::Pool, signing_secret: String) -> anyhow::Result<Self> {
        anyhow::ensure!(
            signing_secret.trim().len() >= MIN_SECRET_LEN,
            "STRIPE_WEBHOOK_KEY must be the endpoint's signing secret (whsec_..., at least \
             {MIN_SECRET_LEN} characters)"
        );
        Ok(Self {
            pool,
            signing_secret: signing_secret.trim().to_owned(),
        })
    }
}

pub async fn handler(state: &State, req: Request) -> Response<Body> {
    api::respond_public(req, |req| async move {
        let body: &[u8] = match req.body() {
            Body::Text(t) => t.as_bytes(),
            Body::Binary(b) => b,
            _ => b"",
        };
        if body.len() > MAX_BODY_BYTES {
            return Err(ApiError::PayloadTooLarge);
        }
        let header = req
            .headers()
            .get("stripe-signature")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default();
        let now = Utc::now().timestamp();
        let secret = state.signing_secret.as_bytes();
        if let Err(why) = signature::verify(header, body, secret, now, signature::TOLERANCE_SECS) {
            tracing::warn!(reason = %why, "a Stripe webhook request that does not verify");
            return Err(ApiError::BadRequest {
                code: "invalid_signature",
                message: "The Stripe-Signature header does not verify".into(),
                details: vec![FieldError::new("Stripe-Signature", why.to_string())],
            });
        }
        let event = Event::parse(body).ok_or_else(|| ApiError::BadRequest {
            code: "invalid_body",
            message: "The request body is not a Stripe event".into(),
            details: vec![FieldError::new(
                "body",
                "must be an event with id, type, created and data.object",
            )],
        })?;
        let outcome = receive(state, &event).await?;
        tracing::info!(event_id = %event.id, event_type = %event.kind, outcome, "Stripe event received");
        Ok(api::json_response(
            StatusCode::OK,
            &json!({"received": true, "outcome": outcome}),
        ))
    })
    .await
}

/// Records the event and applies it, in one transaction; a duplicate is `duplicate`.
async fn receive(state: &State, event: &Event) -> api::Result<&'static str> {
    let created_at = event
        .created_at()
        .ok_or_else(|| ApiError::invalid("created", "must be a time"))?;
    let mut client = state.pool.get().await?;
    let tx = client.transaction().await?;
    if !billing::record_stripe_event(&tx, &event.id, &event.kind, created_at).await? {
        return Ok("duplicate");
    }
    let outcome = apply(&tx, event, created_at).await?;
    billing::set_stripe_event_outcome(&tx, &event.id, outcome).await?;
    tx.commit().await?;
    Ok(outcome)
}

async fn apply(
    tx: &db::Transaction<'_>,
    event: &Event,
    at: chrono::DateTime<Utc>,
) -> api::Result<&'static str> {
    let change = match event.kind.as_str() {
        "checkout.session.completed" | "checkout.session.async_payment_succeeded" => {
            let checkout = event.checkout();
            if !checkout.paid {
                // Paid later: `checkout.session.async_payment_succeeded` follows.
                return Ok("awaiting_payment");
            }
            let Some(user) = checkout.user_id else {
                tracing::error!(event_id = %event.id, "a paid checkout without client_reference_id");
                return Ok("no_user");
            };
            let Some(plan) = checkout.plan else {
                tracing::error!(event_id = %event.id, user_id = %user, "a paid checkout without a plan in its metadata");
                return Ok("no_plan");
            };
            let (customer, subscription) = (checkout.customer_id, checkout.subscription_id);
            billing::activate_subscription(tx, user, plan, customer, subscription, at).await?
        }
        "customer.subscription.updated" | "customer.subscription.deleted" => {
            let Some(sub) = event.subscription() else {
                return Ok("no_subscription");
            };
            let Some(status) = sub.status else {
                tracing::warn!(event_id = %event.id, "a subscription status this service does not know");
                return Ok("unknown_status");
            };
            billing::update_subscription(tx, sub.subscription_id, status, sub.plan, at).await?
        }
        _ => return Ok("ignored"),
    };
    if change == SubscriptionChange::NoProfile {
        tracing::error!(event_id = %event.id, "a Stripe event for a user or subscription with no profile");
    }
    Ok(change.as_str())
}
