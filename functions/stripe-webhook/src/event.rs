//! Stripe events as this service reads them: the envelope (`id`, `type`, `created`,
//! `data.object`) and, for the types it acts on, the fields it needs. Anything else in an event
//! is ignored, so new fields Stripe adds change nothing.

use chrono::{DateTime, Utc};
use domain::plan::Plan;
use serde::Deserialize;
use serde_json::Value;

/// An event's envelope.
#[derive(Debug, Deserialize)]
pub struct Event {
    pub id: String,
    #[serde(rename = "type")]
    pub kind: String,
    /// Unix seconds.
    pub created: i64,
    pub data: Data,
}

#[derive(Debug, Deserialize)]
pub struct Data {
    pub object: Value,
}

impl Event {
    /// The event in `body`; `None` when it is not an event (not JSON, or without an id, a type,
    /// a creation time or an object).
    pub fn parse(body: &[u8]) -> Option<Self> {
        let event: Self = serde_json::from_slice(body).ok()?;
        let sane_id = !event.id.is_empty() && event.id.len() <= 255;
        (sane_id && !event.kind.is_empty() && event.data.object.is_object()).then_some(event)
    }

    pub fn created_at(&self) -> Option<DateTime<Utc>> {
        DateTime::from_timestamp(self.created, 0)
    }

    fn text(&self, pointer: &str) -> Option<&str> {
        self.data.object.pointer(pointer)?.as_str()
    }

    /// An id field that Stripe sends as an id, or as the object itself when expanded.
    fn id_of(&self, field: &str) -> Option<&str> {
        let value = self.data.object.get(field)?;
        value.as_str().or_else(|| value.get("id")?.as_str())
    }
}

/// A completed Checkout Session (`checkout.session.completed`, and
/// `checkout.session.async_payment_succeeded` for payment methods that settle later).
#[derive(Debug, PartialEq, Eq)]
pub struct Checkout<'a> {
    /// Ours: the Clerk user id the web application passes as `client_reference_id`.
    pub user_id: Option<&'a str>,
    /// `metadata.plan`, when it is a paid plan.
    pub plan: Option<Plan>,
    /// `paid` or `no_payment_required` (a 100% coupon): the subscription may start.
    pub paid: bool,
    pub customer_id: Option<&'a str>,
    pub subscription_id: Option<&'a str>,
}

impl Event {
    pub fn checkout(&self) -> Checkout<'_> {
        Checkout {
            user_id: self.text("/client_reference_id").filter(|u| !u.is_empty()),
            plan: self.text("/metadata/plan").and_then(paid_plan),
            paid: matches!(
                self.text("/payment_status"),
                Some("paid" | "no_payment_required")
            ),
            customer_id: self.id_of("customer"),
            subscription_id: self.id_of("subscription"),
        }
    }
}

/// A subscription's new state (`customer.subscription.updated` / `.deleted`).
#[derive(Debug, PartialEq, Eq)]
pub struct SubscriptionState<'a> {
    pub subscription_id: &'a str,
    /// Our `subscription_status`, `None` for a Stripe status this service does not know.
    pub status: Option<&'static str>,
    /// The plan in the subscription's `metadata.plan`, else its first price's `lookup_key`.
    pub plan: Option<Plan>,
}

impl Event {
    /// The subscription of a `customer.subscription.*` event; `None` without an id.
    pub fn subscription(&self) -> Option<SubscriptionState<'_>> {
        let subscription_id = self.text("/id").filter(|id| !id.is_empty())?;
        let status = if self.kind == "customer.subscription.deleted" {
            Some("canceled")
        } else {
            self.text("/status").and_then(status)
        };
        let plan = self
            .text("/metadata/plan")
            .or_else(|| self.text("/items/data/0/price/lookup_key"))
            .and_then(paid_plan);
        Some(SubscriptionState {
            subscription_id,
            status,
            plan,
        })
    }
}

fn paid_plan(name: &str) -> Option<Plan> {
    Plan::parse(name).filter(|p| *p != Plan::Trial)
}

/// A Stripe subscription status as `user_profiles.subscription_status`: only `active` lets a
/// user search on their plan. Stripe's own trial of a paid plan is a subscription the customer
/// set up, so it counts as active; a first payment still pending (`incomplete`) is `past_due`;
/// a paused subscription is `unpaid`.
fn status(stripe: &str) -> Option<&'static str> {
    Some(match stripe {
        "active" | "trialing" => "active",
        "past_due" | "incomplete" => "past_due",
        "unpaid" | "paused" => "unpaid",
        "canceled" | "incomplete_expired" => "canceled",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn event(kind: &str, object: Value) -> Event {
        let body = json!({"id": "evt_1", "type": kind, "created": 1_700_000_000, "data": {"object": object}});
        Event::parse(body.to_string().as_bytes()).unwrap()
    }

    #[test]
    fn what_is_not_an_event_is_refused() {
        for bad in [
            "",
            "[]",
            "not json",
            r#"{"id": "evt_1", "type": "x", "created": 1}"#,
            r#"{"id": "", "type": "x", "created": 1, "data": {"object": {}}}"#,
            r#"{"id": "evt_1", "type": "x", "created": "yesterday", "data": {"object": {}}}"#,
            r#"{"id": "evt_1", "type": "x", "created": 1, "data": {"object": "cs_1"}}"#,
        ] {
            assert!(Event::parse(bad.as_bytes()).is_none(), "{bad}");
        }
    }

    #[test]
    fn a_checkout_names_the_user_the_plan_and_the_stripe_ids() {
        let e = event(
            "checkout.session.completed",
            json!({"client_reference_id": "user_a", "metadata": {"plan": "pro"}, "payment_status": "paid",
                   "customer": "cus_1", "subscription": {"id": "sub_1", "object": "subscription"}}),
        );
        assert_eq!(
            e.checkout(),
            Checkout {
                user_id: Some("user_a"),
                plan: Some(Plan::Pro),
                paid: true,
                customer_id: Some("cus_1"),
                subscription_id: Some("sub_1"),
            }
        );
        let e = event(
            "checkout.session.completed",
            json!({"client_reference_id": null, "metadata": {"plan": "trial"}, "payment_status": "unpaid"}),
        );
        let checkout = e.checkout();
        assert_eq!(
            (checkout.user_id, checkout.plan, checkout.paid),
            (None, None, false)
        );
    }

    #[test]
    fn subscription_statuses_map_to_ours_and_a_deletion_cancels() {
        let sub = |kind: &str, status: &str| {
            let e = event(
                kind,
                json!({"id": "sub_1", "status": status, "items": {"data": [{"price": {"lookup_key": "starter"}}]}}),
            );
            let s = e.subscription().unwrap();
            (s.status, s.plan)
        };
        let updated = "customer.subscription.updated";
        assert_eq!(
            sub(updated, "active"),
            (Some("active"), Some(Plan::Starter))
        );
        assert_eq!(sub(updated, "trialing").0, Some("active"));
        assert_eq!(sub(updated, "past_due").0, Some("past_due"));
        assert_eq!(sub(updated, "incomplete").0, Some("past_due"));
        assert_eq!(sub(updated, "unpaid").0, Some("unpaid"));
        assert_eq!(sub(updated, "canceled").0, Some("canceled"));
        assert_eq!(sub(updated, "something_new").0, None);
        assert_eq!(
            sub("customer.subscription.deleted", "active").0,
            Some("canceled")
        );
    }
}
