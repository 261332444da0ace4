//! Validated request types and business rules. Handlers parse raw bodies into these types at the
//! edge; everything past that point works with values that are known to be valid.

pub mod admin;
pub mod campaign;
pub mod onboarding;
pub mod search;
pub mod settings;

use crate::http::FieldError;

/// Trims `value` and checks its length in characters; records a field error when it is out of range.
pub(crate) fn bounded_text(
    field: &str,
    value: &str,
    min: usize,
    max: usize,
    errors: &mut Vec<FieldError>,
) -> String {
    let trimmed = value.trim().to_owned();
    let len = trimmed.chars().count();
    if trimmed
        .chars()
        .any(|c| c.is_control() && c != '\n' && c != '\t' && c != '\r')
    {
        errors.push(FieldError::new(
            field,
            "must not contain control characters",
        ));
    } else if len < min {
        errors.push(FieldError::new(
            field,
            if min <= 1 {
                "must not be empty".to_owned()
            } else {
                format!("must be at least {min} characters")
            },
        ));
    } else if len > max {
        errors.push(FieldError::new(
            field,
            format!("must be at most {max} characters"),
        ));
    }
    trimmed
}
