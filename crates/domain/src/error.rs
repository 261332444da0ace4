//! Why the domain refuses a request, in its own words. The HTTP edge (`api::ApiError`) turns each
//! refusal into a status and a code; nothing here knows of HTTP.

use serde::Serialize;

/// One field that failed validation.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
        }
    }
}

/// A rule the request breaks. `code` is the stable machine-readable name clients switch on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// Fields that fail validation, every one of them.
    #[error("The request has invalid fields")]
    Invalid(Vec<FieldError>),
    /// The caller may not do this at all in their standing (an expired trial).
    #[error("{message}")]
    Forbidden { code: &'static str, message: String },
    /// The caller's plan does not cover this.
    #[error("{message}")]
    PaymentRequired { code: &'static str, message: String },
    /// The request conflicts with the current state (a step out of order).
    #[error("{message}")]
    Conflict { code: &'static str, message: String },
    /// Not now: the same request may succeed after `retry_after_secs`.
    #[error("{message}")]
    TryLater {
        code: &'static str,
        message: String,
        retry_after_secs: u64,
    },
}

impl Refusal {
    /// A refusal of one invalid field.
    pub fn invalid(field: &str, message: impl Into<String>) -> Self {
        Self::Invalid(vec![FieldError::new(field, message)])
    }

    /// The stable code clients switch on.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Invalid(_) => "validation_failed",
            Self::Forbidden { code, .. }
            | Self::PaymentRequired { code, .. }
            | Self::Conflict { code, .. }
            | Self::TryLater { code, .. } => code,
        }
    }
}
