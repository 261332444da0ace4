//! The onboarding and trial emails: which there are, when each is due, and whether one that is
//! due may still be sent (checked when it is sent, not when it was scheduled).

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::onboarding::OnboardingStep;

/// One email of the funnel.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum EmailKind {
    /// Transactional: sent whatever the unsubscribe state.
    Welcome,
    AbandonmentReminder,
    TrialDay2,
    TrialDay5,
    TrialExpiry,
}

/// What an email's due time counts from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Anchor {
    /// Onboarding step 1 first saved.
    Signup,
    /// Onboarding completed.
    TrialStart,
}

impl EmailKind {
    pub const ALL: [EmailKind; 5] = [
        Self::Welcome,
        Self::AbandonmentReminder,
        Self::TrialDay2,
        Self::TrialDay5,
        Self::TrialExpiry,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Welcome => "welcome",
            Self::AbandonmentReminder => "abandonment_reminder",
            Self::TrialDay2 => "trial_day_2",
            Self::TrialDay5 => "trial_day_5",
            Self::TrialExpiry => "trial_expiry",
        }
    }

    /// The stored name back; an unknown one is an error for the caller to report, never a default.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }

    pub fn anchor(self) -> Anchor {
        match self {
            Self::Welcome | Self::AbandonmentReminder => Anchor::Signup,
            Self::TrialDay2 | Self::TrialDay5 | Self::TrialExpiry => Anchor::TrialStart,
        }
    }

    /// The emails scheduled from `anchor`.
    pub fn anchored_at(anchor: Anchor) -> impl Iterator<Item = EmailKind> {
        Self::ALL.into_iter().filter(move |k| k.anchor() == anchor)
    }

    /// Reminders carry the one-click unsubscribe and stop after it.
    pub fn is_reminder(self) -> bool {
        self != Self::Welcome
    }
}

impl std::fmt::Display for EmailKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What the send-time check reads of the recipient.
#[derive(Debug, Clone)]
pub struct Recipient {
    pub user_id: String,
    pub email: Option<String>,
    pub full_name: Option<String>,
    pub business_name: Option<String>,
    pub onboarding_step: OnboardingStep,
    pub trial_status: String,
    pub subscription_status: String,
    pub trial_end_date: Option<DateTime<Utc>>,
    /// The plan the user is on (the trial's name while there is no subscription).
    pub plan_name: String,
    pub reminders_unsubscribed: bool,
}

/// Why a due email is not sent. Stored as the schedule's `reason`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SkipReason {
    NoAddress,
    Unsubscribed,
    OnboardingCompleted,
    TrialNotActive,
    Converted,
}

impl SkipReason {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::NoAddress => "no email address: the token carried no email claim",
            Self::Unsubscribed => "unsubscribed from reminders",
            Self::OnboardingCompleted => "onboarding already completed",
            Self::TrialNotActive => "the trial is no longer active",
            Self::Converted => "the user subscribed",
        }
    }
}

impl Recipient {
    /// Converted: the trial became a subscription.
    fn converted(&self) -> bool {
        self.trial_status == "converted" || self.subscription_status == "active"
    }

    /// Whether `kind` may be sent to this recipient at `now`, and if not, why.
    pub fn may_receive(&self, kind: EmailKind, now: DateTime<Utc>) -> Result<&str, SkipReason> {
        let address = self.email.as_deref().ok_or(SkipReason::NoAddress)?;
        if kind.is_reminder() && self.reminders_unsubscribed {
            return Err(SkipReason::Unsubscribed);
        }
        match kind {
            EmailKind::Welcome => {}
            EmailKind::AbandonmentReminder => {
                if self.onboarding_step == OnboardingStep::Completed {
                    return Err(SkipReason::OnboardingCompleted);
                }
            }
            EmailKind::TrialDay2 | EmailKind::TrialDay5 => {
                if self.converted() {
                    return Err(SkipReason::Converted);
                }
                let running = self.trial_status == "active"
                    && self.trial_end_date.is_some_and(|end| now < end);
                if !running {
                    return Err(SkipReason::TrialNotActive);
                }
            }
            EmailKind::TrialExpiry => {
                if self.converted() {
                    return Err(SkipReason::Converted);
                }
            }
        }
        Ok(address)
    }

    /// Whole days left in the trial at `now` (0 once it has ended), rounded up: a trial with 2
    /// days and 3 hours left has "3 days left".
    pub fn trial_days_left(&self, now: DateTime<Utc>) -> i64 {
        self.trial_end_date.map_or(0, |end| {
            let secs = (end - now).num_seconds().max(0);
            (secs + 86_399) / 86_400
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Duration;

    fn trialing() -> Recipient {
        Recipient {
            user_id: "u".into(),
            email: Some("ada@example.com".into()),
            full_name: Some("Ada".into()),
            business_name: Some("Engines".into()),
            onboarding_step: OnboardingStep::Completed,
            trial_status: "active".into(),
            subscription_status: "trialing".into(),
            trial_end_date: Some(Utc::now() + Duration::days(5)),
            plan_name: "Trial".into(),
            reminders_unsubscribed: false,
        }
    }

    #[test]
    fn every_kind_reads_back_from_its_stored_name() {
        for kind in EmailKind::ALL {
            assert_eq!(EmailKind::parse(kind.as_str()), Some(kind));
        }
        assert_eq!(EmailKind::parse("newsletter"), None);
    }

    #[test]
    fn the_abandonment_reminder_skips_users_who_completed() {
        let now = Utc::now();
        let mut r = trialing();
        assert_eq!(
            r.may_receive(EmailKind::AbandonmentReminder, now),
            Err(SkipReason::OnboardingCompleted)
        );
        r.onboarding_step = OnboardingStep::IntentCaptured;
        assert_eq!(
            r.may_receive(EmailKind::AbandonmentReminder, now),
            Ok("ada@example.com")
        );
    }

    #[test]
    fn trial_reminders_need_a_running_unconverted_trial_and_expiry_only_unconverted() {
        let now = Utc::now();
        let mut r = trialing();
        assert!(r.may_receive(EmailKind::TrialDay2, now).is_ok());
        r.trial_end_date = Some(now - Duration::hours(1));
        assert_eq!(
            r.may_receive(EmailKind::TrialDay5, now),
            Err(SkipReason::TrialNotActive)
        );
        assert!(r.may_receive(EmailKind::TrialExpiry, now).is_ok());
        r.subscription_status = "active".into();
        assert_eq!(
            r.may_receive(EmailKind::TrialExpiry, now),
            Err(SkipReason::Converted)
        );
    }

    #[test]
    fn unsubscribing_stops_reminders_but_not_the_welcome_email() {
        let now = Utc::now();
        let mut r = trialing();
        r.reminders_unsubscribed = true;
        assert!(r.may_receive(EmailKind::Welcome, now).is_ok());
        assert_eq!(
            r.may_receive(EmailKind::TrialDay2, now),
            Err(SkipReason::Unsubscribed)
        );
        r.email = None;
        assert_eq!(
            r.may_receive(EmailKind::Welcome, now),
            Err(SkipReason::NoAddress)
        );
    }

    #[test]
    fn days_left_round_up_and_stop_at_zero() {
        let now = Utc::now();
        let mut r = trialing();
        r.trial_end_date = Some(now + Duration::days(2) + Duration::hours(3));
        assert_eq!(r.trial_days_left(now), 3);
        r.trial_end_date = Some(now - Duration::days(1));
        assert_eq!(r.trial_days_left(now), 0);
    }
}
