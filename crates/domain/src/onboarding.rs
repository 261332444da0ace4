//! Onboarding: three steps in order, then a 7-day trial.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use super::{bounded_multiline_text, bounded_text};
use crate::{FieldError, Refusal};

/// Length of the free trial that completing onboarding starts.
pub const TRIAL_DAYS: i64 = 7;

/// Where a user is in onboarding, in order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum OnboardingStep {
    Pending,
    InfoCaptured,
    IntentCaptured,
    Completed,
}

impl OnboardingStep {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::InfoCaptured => "info_captured",
            Self::IntentCaptured => "intent_captured",
            Self::Completed => "completed",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "pending" => Self::Pending,
            "info_captured" => Self::InfoCaptured,
            "intent_captured" => Self::IntentCaptured,
            "completed" => Self::Completed,
            _ => return None,
        })
    }
}

/// `PATCH /onboarding/step-1` body.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Step1Body {
    pub full_name: String,
    pub business_name: String,
}

/// `PATCH /onboarding/step-2` body.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Step2Body {
    pub brand_description: String,
}

/// `PATCH /onboarding/complete` body: nothing.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CompleteBody {}

/// A validated onboarding request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StepRequest {
    Info {
        full_name: String,
        business_name: String,
    },
    Intent {
        brand_description: String,
    },
    Complete,
}

impl StepRequest {
    pub fn info(body: Step1Body) -> Result<Self, Refusal> {
        let mut errors: Vec<FieldError> = Vec::new();
        let full_name = bounded_text("fullName", &body.full_name, 1, 100, &mut errors);
        let business_name = bounded_text("businessName", &body.business_name, 1, 100, &mut errors);
        if errors.is_empty() {
            Ok(Self::Info {
                full_name,
                business_name,
            })
        } else {
            Err(Refusal::Invalid(errors))
        }
    }

    pub fn intent(body: Step2Body) -> Result<Self, Refusal> {
        let mut errors: Vec<FieldError> = Vec::new();
        let brand_description = bounded_multiline_text(
            "brandDescription",
            &body.brand_description,
            50,
            2000,
            &mut errors,
        );
        if errors.is_empty() {
            Ok(Self::Intent { brand_description })
        } else {
            Err(Refusal::Invalid(errors))
        }
    }

    /// The step a user must have reached before this request is allowed.
    pub fn requires(&self) -> OnboardingStep {
        match self {
            Self::Info { .. } => OnboardingStep::Pending,
            Self::Intent { .. } => OnboardingStep::InfoCaptured,
            Self::Complete => OnboardingStep::IntentCaptured,
        }
    }

    /// The step this request records. Steps never move backwards: editing step 1 after step 2
    /// updates the fields and keeps the later step.
    pub fn reaches(&self, current: OnboardingStep) -> OnboardingStep {
        let step = match self {
            Self::Info { .. } => OnboardingStep::InfoCaptured,
            Self::Intent { .. } => OnboardingStep::IntentCaptured,
            Self::Complete => OnboardingStep::Completed,
        };
        step.max(current)
    }

    /// 409 when the user has not reached the step this request needs.
    pub fn check_order(&self, current: OnboardingStep) -> Result<(), Refusal> {
        if current >= self.requires() {
            return Ok(());
        }
        let message = match self {
            Self::Info { .. } => unreachable!("step 1 is always allowed"),
            Self::Intent { .. } => "Complete step 1 (your name and business) before step 2",
            Self::Complete => {
                "Complete step 2 (your brand description) before finishing onboarding"
            }
        };
        Err(Refusal::Conflict {
            code: "onboarding_step_out_of_order",
            message: message.into(),
        })
    }
}

/// The trial that completing onboarding starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Trial {
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
}

impl Trial {
    pub fn starting(at: DateTime<Utc>) -> Self {
        Self {
            start: at,
            end: at + Duration::days(TRIAL_DAYS),
        }
    }
}

/// What `GET /onboarding/status` shows of a trial.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TrialSummary {
    pub status: String,
    pub start_date: Option<DateTime<Utc>>,
    pub end_date: Option<DateTime<Utc>>,
    pub days_remaining: i64,
    pub hours_remaining: i64,
    pub progress_percent: u8,
    pub is_expired: bool,
}

impl TrialSummary {
    /// Summarises a stored trial at `now`. An active trial past its end is shown as expired.
    pub fn at(
        stored_status: &str,
        start: Option<DateTime<Utc>>,
        end: Option<DateTime<Utc>>,
        now: DateTime<Utc>,
    ) -> Self {
        let (Some(start), Some(end)) = (start, end) else {
            return Self {
                status: stored_status.to_owned(),
                start_date: None,
                end_date: None,
                days_remaining: 0,
                hours_remaining: 0,
                progress_percent: 0,
                is_expired: false,
            };
        };
        let remaining = (end - now).max(Duration::zero());
        let total = (end - start).num_seconds().max(1);
        let elapsed = (now - start).num_seconds().clamp(0, total);
        let is_expired = now >= end;
        let status = if is_expired && stored_status == "active" {
            "expired".to_owned()
        } else {
            stored_status.to_owned()
        };
        Self {
            status,
            start_date: Some(start),
            end_date: Some(end),
            // Whole days left, and the hours past those days: "3 days, 5 hours".
            days_remaining: remaining.num_days(),
            hours_remaining: remaining.num_hours() % 24,
            progress_percent: u8::try_from(elapsed * 100 / total).unwrap_or(100),
            is_expired,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn steps_are_allowed_only_in_order() {
        let intent = StepRequest::Intent {
            brand_description: "x".repeat(50),
        };
        assert!(intent.check_order(OnboardingStep::Pending).is_err());
        assert!(intent.check_order(OnboardingStep::InfoCaptured).is_ok());
        assert!(StepRequest::Complete
            .check_order(OnboardingStep::InfoCaptured)
            .is_err());
        assert!(StepRequest::Complete
            .check_order(OnboardingStep::Completed)
            .is_ok());
    }

    #[test]
    fn editing_an_earlier_step_never_moves_the_user_back() {
        let info = StepRequest::Info {
            full_name: "a".into(),
            business_name: "b".into(),
        };
        assert_eq!(
            info.reaches(OnboardingStep::Completed),
            OnboardingStep::Completed
        );
        assert_eq!(
            info.reaches(OnboardingStep::Pending),
            OnboardingStep::InfoCaptured
        );
    }

    #[test]
    fn a_brand_description_needs_fifty_characters_after_trimming() {
        let short = Step2Body {
            brand_description: format!("  {}  ", "x".repeat(49)),
        };
        assert!(StepRequest::intent(short).is_err());
        let ok = Step2Body {
            brand_description: format!("  {}  ", "x".repeat(50)),
        };
        assert!(StepRequest::intent(ok).is_ok());
    }

    #[test]
    fn the_trial_summary_counts_down_days_and_hours() {
        let start = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
        let trial = Trial::starting(start);
        let now = start + Duration::days(3) + Duration::hours(12);
        let s = TrialSummary::at("active", Some(trial.start), Some(trial.end), now);
        assert_eq!((s.days_remaining, s.hours_remaining), (3, 12));
        assert_eq!(s.progress_percent, 50);
        assert!(!s.is_expired);
        let later = TrialSummary::at(
            "active",
            Some(trial.start),
            Some(trial.end),
            trial.end + Duration::hours(1),
        );
        assert_eq!(later.status, "expired");
        assert_eq!(
            (
                later.days_remaining,
                later.hours_remaining,
                later.progress_percent
            ),
            (0, 0, 100)
        );
    }
}
