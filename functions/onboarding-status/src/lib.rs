//! `GET /onboarding/status` — where the caller is in onboarding, their profile, and their trial.

use api::ApiError;
use chrono::Utc;
use db::profiles;
use lambda_http::{http::StatusCode, Body, Request, Response};
use serde_json::Value;

pub async fn handler(pool: &db::Pool, req: Request) -> Response<Body> {
    api::respond(req, |user, _req| async move {
        let client = pool.get().await?;
        let mut profile = profiles::find(&client, &user)
            .await?
            .ok_or(ApiError::NotFound("onboarding profile"))?;
        email_reasons_as_codes(&mut profile.email_schedule_status);
        Ok(api::json_response(
            StatusCode::OK,
            &profile.onboarding_view(Utc::now()),
        ))
    })
    .await
}

/// Shown for a failure whose stored reason is not a code.
const UNKNOWN_REASON: &str = "provider_error";

/// A failed email's `reason` and a scheduled one's `lastError` are short codes
/// (`provider_throttled`, `invalid_address`, ...) written by the sender; anything else there
/// (the email provider's own words, which can name addresses, identities or the account) is
/// shown as [`UNKNOWN_REASON`]. A skipped email's reason is the schedule's own and stays.
pub fn email_reasons_as_codes(schedule: &mut Value) {
    let Some(emails) = schedule.as_object_mut() else {
        return;
    };
    for email in emails.values_mut() {
        let field = match email.get("status").and_then(Value::as_str) {
            Some("failed") => "reason",
            Some("scheduled") => "lastError",
            _ => continue,
        };
        if let Some(reason) = email.get_mut(field) {
            if !reason.as_str().is_some_and(is_code) {
                *reason = Value::from(UNKNOWN_REASON);
            }
        }
    }
}

/// `provider_throttled`: lower-case ASCII letters and underscores, short.
fn is_code(text: &str) -> bool {
    (1..=40).contains(&text.len())
        && text.starts_with(|c: char| c.is_ascii_lowercase())
        && text.chars().all(|c| c.is_ascii_lowercase() || c == '_')
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn provider_words_become_a_code_and_codes_and_skip_reasons_stay() {
        let mut schedule = json!({
            "welcome": {"status": "failed", "reason": "MessageRejected: Email address is on the suppression list."},
            "trial_day_2": {"status": "scheduled", "lastError": "provider_throttled"},
            "trial_day_5": {"status": "scheduled", "lastError": "TooManyRequestsException: Maximum sending rate exceeded."},
            "trial_expiry": {"status": "skipped", "reason": "the user subscribed"},
            "abandonment_reminder": {"status": "failed", "reason": "invalid_address"},
        });
        email_reasons_as_codes(&mut schedule);
        assert_eq!(
            schedule,
            json!({
                "welcome": {"status": "failed", "reason": "provider_error"},
                "trial_day_2": {"status": "scheduled", "lastError": "provider_throttled"},
                "trial_day_5": {"status": "scheduled", "lastError": "provider_error"},
                "trial_expiry": {"status": "skipped", "reason": "the user subscribed"},
                "abandonment_reminder": {"status": "failed", "reason": "invalid_address"},
            })
        );
    }
}
