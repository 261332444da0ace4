//! Which plan's limits apply to a user. The billing period their credits count in is computed in
//! one place, the database (`billing_period_start` / `billing_period_end`, read through
//! `db::billing::period`), because the ledger is keyed by it in the same statements that charge.

use chrono::{DateTime, Utc};

use crate::{plan::Plan, Refusal};

/// What decides a user's plan, as stored on their profile.
#[derive(Debug, Clone)]
pub struct Standing {
    pub onboarding_completed: bool,
    pub subscription_status: String,
    /// The paid plan subscribed to.
    pub plan: Option<Plan>,
    pub trial_start: Option<DateTime<Utc>>,
    pub trial_end: Option<DateTime<Utc>>,
}

impl Standing {
    pub fn subscribed(&self) -> bool {
        self.subscription_status == "active"
    }

    /// The plan whose limits apply at `now`: the subscribed plan, else the trial while it runs.
    /// 403 `onboarding_required` before onboarding is completed, whatever the subscription says
    /// (checked first: a plan never stands in for onboarding); 402 `trial_expired` after the
    /// trial's end without a subscription (read from the end date itself, so enforcement never
    /// waits for the sweeper to mark the trial expired).
    pub fn plan_at(&self, now: DateTime<Utc>) -> Result<Plan, Refusal> {
        if !self.onboarding_completed {
            return Err(Refusal::Forbidden {
                code: "onboarding_required",
                message: "Complete onboarding to start searching".into(),
            });
        }
        if self.subscribed() {
            // A subscription recorded without its plan is the entry plan's.
            return Ok(self.plan.unwrap_or(Plan::Starter));
        }
        match self.trial_end {
            Some(end) if end > now => Ok(Plan::Trial),
            _ => Err(Refusal::PaymentRequired {
                code: "trial_expired",
                message: "Your trial has ended: subscribe to a plan to keep searching".into(),
            }),
        }
    }

    /// The plan whose limits bound what a user already has (a running search, the usage shown):
    /// [`Self::plan_at`], else the trial's once no plan applies any more.
    pub fn limits_plan(&self, now: DateTime<Utc>) -> Plan {
        self.plan_at(now).unwrap_or(Plan::Trial)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn standing(done: bool, status: &str, end_in_days: i64) -> Standing {
        let now = Utc::now();
        Standing {
            onboarding_completed: done,
            subscription_status: status.into(),
            plan: (status == "active").then_some(Plan::Pro),
            trial_start: Some(now - chrono::Duration::days(7 - end_in_days)),
            trial_end: Some(now + chrono::Duration::days(end_in_days)),
        }
    }

    #[test]
    fn the_plan_follows_onboarding_the_trial_and_the_subscription() {
        let now = Utc::now();
        assert_eq!(
            standing(true, "trialing", 3).plan_at(now).unwrap(),
            Plan::Trial
        );
        let err = standing(false, "none", 3).plan_at(now).unwrap_err();
        assert!(matches!(err, Refusal::Forbidden { .. }), "{err:?}");
        assert_eq!(err.code(), "onboarding_required");
        let err = standing(true, "trialing", -1).plan_at(now).unwrap_err();
        assert!(matches!(err, Refusal::PaymentRequired { .. }), "{err:?}");
        assert_eq!(err.code(), "trial_expired");
        assert_eq!(
            standing(true, "active", -30).plan_at(now).unwrap(),
            Plan::Pro
        );
        // A plan does not stand in for onboarding.
        let err = standing(false, "active", -30).plan_at(now).unwrap_err();
        assert_eq!(err.code(), "onboarding_required");
        let mut unnamed = standing(true, "active", -30);
        unnamed.plan = None;
        assert_eq!(unnamed.plan_at(now).unwrap(), Plan::Starter);
        assert_eq!(standing(true, "trialing", -1).limits_plan(now), Plan::Trial);
    }
}
