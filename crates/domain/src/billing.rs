//! Who may start a search, on which plan, and which billing period their credits count in.

use chrono::{DateTime, Datelike, TimeZone, Utc};

use crate::Refusal;

/// What decides a user's plan, as stored on their profile.
#[derive(Debug, Clone)]
pub struct Standing {
    pub onboarding_completed: bool,
    pub subscription_status: String,
    /// The paid plan subscribed to.
    pub plan: Option<String>,
    pub trial_start: Option<DateTime<Utc>>,
    pub trial_end: Option<DateTime<Utc>>,
}

impl Standing {
    pub fn subscribed(&self) -> bool {
        self.subscription_status == "active"
    }

    /// The plan whose limits apply at `now`: the subscribed plan, else the trial while it runs.
    /// 403 `onboarding_required` before onboarding is completed; 402 `trial_expired` after the
    /// trial's end without a subscription (read from the end date itself, so enforcement never
    /// waits for the sweeper to mark the trial expired).
    pub fn plan_at(&self, now: DateTime<Utc>) -> Result<String, Refusal> {
        if self.subscribed() {
            return Ok(self.plan.clone().unwrap_or_else(|| "starter".to_owned()));
        }
        if !self.onboarding_completed {
            return Err(Refusal::Forbidden {
                code: "onboarding_required",
                message: "Complete onboarding to start searching".into(),
            });
        }
        match self.trial_end {
            Some(end) if end > now => Ok("trial".to_owned()),
            _ => Err(Refusal::PaymentRequired {
                code: "trial_expired",
                message: "Your trial has ended: subscribe to a plan to keep searching".into(),
            }),
        }
    }

    /// The billing period containing `now`: the trial's window while trialing, else the calendar
    /// month (UTC). Its start matches the database's `billing_period_start`.
    pub fn period_at(&self, now: DateTime<Utc>) -> (DateTime<Utc>, DateTime<Utc>) {
        match (self.subscribed(), self.trial_start, self.trial_end) {
            (false, Some(start), Some(end)) => (start, end),
            _ => {
                let start = Utc
                    .with_ymd_and_hms(now.year(), now.month(), 1, 0, 0, 0)
                    .single()
                    .expect("the first of a month exists");
                let (y, m) = if now.month() == 12 {
                    (now.year() + 1, 1)
                } else {
                    (now.year(), now.month() + 1)
                };
                let end = Utc
                    .with_ymd_and_hms(y, m, 1, 0, 0, 0)
                    .single()
                    .expect("the first of a month exists");
                (start, end)
            }
        }
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
            plan: (status == "active").then(|| "pro".to_owned()),
            trial_start: Some(now - chrono::Duration::days(7 - end_in_days)),
            trial_end: Some(now + chrono::Duration::days(end_in_days)),
        }
    }

    #[test]
    fn the_plan_follows_onboarding_the_trial_and_the_subscription() {
        let now = Utc::now();
        assert_eq!(standing(true, "trialing", 3).plan_at(now).unwrap(), "trial");
        let err = standing(false, "none", 3).plan_at(now).unwrap_err();
        assert!(matches!(err, Refusal::Forbidden { .. }), "{err:?}");
        assert_eq!(err.code(), "onboarding_required");
        let err = standing(true, "trialing", -1).plan_at(now).unwrap_err();
        assert!(matches!(err, Refusal::PaymentRequired { .. }), "{err:?}");
        assert_eq!(err.code(), "trial_expired");
        assert_eq!(standing(true, "active", -30).plan_at(now).unwrap(), "pro");
    }

    #[test]
    fn a_paid_period_is_the_calendar_month() {
        let s = standing(true, "active", -30);
        let now = Utc.with_ymd_and_hms(2026, 12, 15, 10, 0, 0).unwrap();
        let (start, end) = s.period_at(now);
        assert_eq!(start, Utc.with_ymd_and_hms(2026, 12, 1, 0, 0, 0).unwrap());
        assert_eq!(end, Utc.with_ymd_and_hms(2027, 1, 1, 0, 0, 0).unwrap());
    }
}
