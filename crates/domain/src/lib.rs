//! Validated request types and business rules. Handlers parse raw bodies into these types at the
//! edge; everything past that point works with values that are known to be valid.

pub mod admin;
pub mod billing;
pub mod campaign;
pub mod creator;
pub mod credits;
pub mod email;
pub mod error;
pub mod onboarding;
pub mod plan;
pub mod search;
pub mod settings;

pub use error::{FieldError, Refusal};

/// For `#[serde(default, deserialize_with = "present")]`: an optional field that, when sent,
/// holds a value; `null` is refused like any other wrong type, as the API description says.
pub(crate) fn present<'de, D, T>(deserializer: D) -> Result<Option<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: serde::Deserialize<'de>,
{
    T::deserialize(deserializer).map(Some)
}

/// Like [`present`], for a whole number that JSON may spell with a zero fraction (`20.0`): JSON
/// Schema's `integer` admits it, so the API does too.
pub(crate) fn present_integer<'de, D>(deserializer: D) -> Result<Option<i64>, D::Error>
where
    D: serde::Deserializer<'de>,
{
    use serde::{de::Error, Deserialize as _};
    let n = serde_json::Number::deserialize(deserializer)?;
    n.as_i64()
        .or_else(|| {
            n.as_f64()
                .filter(|f| f.fract() == 0.0 && f.abs() < 9.0e15)
                .map(|f| f as i64)
        })
        .map(Some)
        .ok_or_else(|| D::Error::custom(format!("invalid number {n}, expected a whole number")))
}

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
    // The limit counts what was sent, spaces included, as the API description's maxLength does.
    let sent = value.chars().count();
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
    } else if sent > max {
        errors.push(FieldError::new(
            field,
            format!("must be at most {max} characters"),
        ));
    }
    trimmed
}
