//! The account: the emails' unsubscribe link, usage, the mock checkout and Stripe's webhook.

use super::case::{As::*, Case, Then::*};

#[rustfmt::skip]
pub const CASES: &[Case] = &[
    // The unsubscribe link is public, and a token that does not verify changes nothing.
    Case::new("an unsubscribe token that does not verify is refused", Nobody, "GET",
        "/email/unsubscribe?token=dXNlcl9h.reminders.AAAA", 400),
    Case::new("a forged unsubscribe token is refused", Nobody, "POST",
        "/email/unsubscribe?token=forged", 400),
    Case::new("usage is of the trial", A, "GET", "/usage", 200)
        .then(&[Equals("/plan", r#""trial""#)]),
    Case::new("a plan is subscribed to", A, "POST", "/billing/subscribe", 200)
        .body(r#"{"plan": "starter"}"#)
        .then(&[Equals("/plan", r#""starter""#)]),
    Case::new("an unknown plan is refused", A, "POST", "/billing/subscribe", 400)
        .body(r#"{"plan": "gold"}"#),
    // Stripe's webhook is public; a request without a valid Stripe-Signature changes nothing.
    Case::new("an unsigned Stripe event is refused", Nobody, "POST", "/billing/stripe/webhook", 400)
        .body(r#"{"id": "evt_1", "type": "checkout.session.completed", "created": 1, "data": {"object": {}}}"#),
];
