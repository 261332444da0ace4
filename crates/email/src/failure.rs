//! What a failed send means: the reason code users see, what to do next, and the provider's
//! own words for the logs.

use aws_sdk_sesv2::{
    error::{ProvideErrorMetadata, SdkError},
    operation::send_email::SendEmailError,
};

/// Why a send did not go through. The user sees [`Failure::code`]; the provider's own words
/// ([`SendError::detail`]) go to the logs only.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure {
    /// Too many requests a second: 429 `TooManyRequestsException`, `Throttling`.
    Throttled,
    /// The account's daily quota is spent: `LimitExceededException`, "Daily message quota
    /// exceeded".
    QuotaExceeded,
    /// The account may not send for now: `SendingPausedException`, `AccountSuspendedException`.
    Paused,
    /// A server error, a timeout, a lost connection: the request may or may not have arrived.
    Unavailable,
    /// The recipient's address is not one the provider takes.
    InvalidAddress,
    /// Any other refusal: the message, an unverified sender, a missing configuration set.
    Rejected,
    /// Not started: it could not have finished before the time given.
    NoTime,
}

/// What a [`Failure`] calls for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Disposition {
    /// The account, not the email, is held back: try the email later without counting an
    /// attempt, and make no more calls this run.
    Defer,
    /// Worth another attempt later, counted against the email's attempts.
    Retry,
    /// Will fail again.
    Fail,
}

impl Failure {
    /// The short reason users see (`GET /onboarding/status`).
    pub fn code(self) -> &'static str {
        match self {
            Self::Throttled => "provider_throttled",
            Self::QuotaExceeded => "provider_quota_exceeded",
            Self::Paused => "provider_paused",
            Self::Unavailable => "provider_unavailable",
            Self::InvalidAddress => "invalid_address",
            Self::Rejected => "provider_rejected",
            Self::NoTime => "not_started",
        }
    }

    pub fn disposition(self) -> Disposition {
        match self {
            Self::Throttled | Self::QuotaExceeded | Self::Paused | Self::NoTime => {
                Disposition::Defer
            }
            Self::Unavailable => Disposition::Retry,
            Self::InvalidAddress | Self::Rejected => Disposition::Fail,
        }
    }
}

/// A send the provider did not accept (or that was not started).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}: {detail}", failure.code())]
pub struct SendError {
    pub failure: Failure,
    /// The provider's code and message, for the logs.
    pub detail: String,
}

impl SendError {
    pub(crate) fn new(failure: Failure, detail: impl Into<String>) -> Self {
        Self {
            failure,
            detail: detail.into(),
        }
    }
}

/// What a failed call means (see [`Failure`]).
pub(crate) fn classify(
    err: SdkError<SendEmailError, aws_sdk_sesv2::config::http::HttpResponse>,
) -> SendError {
    let status = err.raw_response().map(|r| r.status().as_u16());
    let SdkError::ServiceError(service) = &err else {
        // Timeouts, connection failures and unreadable answers: the request may or may not have
        // arrived; another attempt is the lesser risk (see the README's sending window).
        return SendError::new(
            Failure::Unavailable,
            format!(
                "{}",
                aws_smithy_types::error::display::DisplayErrorContext(&err)
            ),
        );
    };
    let e = service.err();
    let code = e.code().unwrap_or("error");
    let message = e.message().unwrap_or("no message");
    let failure = failure_of(e, code, message, status);
    SendError::new(failure, format!("{code}: {message}"))
}

fn failure_of(e: &SendEmailError, code: &str, message: &str, status: Option<u16>) -> Failure {
    let lower = message.to_ascii_lowercase();
    match e {
        SendEmailError::TooManyRequestsException(_) => Failure::Throttled,
        SendEmailError::LimitExceededException(_) => Failure::QuotaExceeded,
        SendEmailError::SendingPausedException(_)
        | SendEmailError::AccountSuspendedException(_) => Failure::Paused,
        _ if lower.contains("daily message quota") => Failure::QuotaExceeded,
        _ if lower.contains("maximum sending rate") => Failure::Throttled,
        _ if status == Some(429) || code == "Throttling" || code == "ThrottlingException" => {
            Failure::Throttled
        }
        _ if status.is_some_and(|s| s >= 500) => Failure::Unavailable,
        _ if is_about_the_address(&lower) => Failure::InvalidAddress,
        _ => Failure::Rejected,
    }
}

/// SES's words for a recipient address it cannot take ("Illegal address", "Missing final
/// '@domain'", "Invalid ... address"; moto's "Missing domain").
fn is_about_the_address(message: &str) -> bool {
    [
        "illegal address",
        "missing final",
        "missing domain",
        "invalid address",
        "local address contains",
    ]
    .iter()
    .any(|words| message.contains(words))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_accounts_holds_are_deferred_server_errors_retried_and_refusals_failed() {
        use aws_sdk_sesv2::types::error::{
            LimitExceededException, MessageRejected, SendingPausedException,
            TooManyRequestsException,
        };
        // The answer's code and message as the SDK reads them from the error's metadata.
        let of = |e: SendEmailError, message: &str, status| {
            let code = e.meta().code().unwrap_or("error").to_owned();
            failure_of(&e, &code, message, Some(status))
        };
        let throttled =
            SendEmailError::TooManyRequestsException(TooManyRequestsException::builder().build());
        assert_eq!(of(throttled, "", 429), Failure::Throttled);
        let quota =
            SendEmailError::LimitExceededException(LimitExceededException::builder().build());
        assert_eq!(of(quota, "", 400), Failure::QuotaExceeded);
        let paused =
            SendEmailError::SendingPausedException(SendingPausedException::builder().build());
        assert_eq!(of(paused, "", 400), Failure::Paused);
        let rejected = || SendEmailError::MessageRejected(MessageRejected::builder().build());
        assert_eq!(
            of(rejected(), "Daily message quota exceeded.", 400),
            Failure::QuotaExceeded
        );
        assert_eq!(
            of(rejected(), "Illegal address", 400),
            Failure::InvalidAddress
        );
        assert_eq!(
            of(rejected(), "Email address is on the suppression list.", 400),
            Failure::Rejected
        );
        assert_eq!(of(rejected(), "", 503), Failure::Unavailable);
        for failure in [Failure::Throttled, Failure::QuotaExceeded, Failure::Paused] {
            assert_eq!(failure.disposition(), Disposition::Defer);
        }
        assert_eq!(Failure::Unavailable.disposition(), Disposition::Retry);
        assert_eq!(Failure::InvalidAddress.disposition(), Disposition::Fail);
    }
}
