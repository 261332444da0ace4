//! Validated request types and business rules. Handlers parse raw bodies into these types at the
//! edge; everything past that point works with values that are known to be valid.

pub mod address;
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

/// What a text field may hold besides printable characters.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Lines {
    /// A name, shown on one line: no control characters at all (CR, LF and tab included).
    One,
    /// A description: line breaks and tabs allowed.
    Many,
}

/// Characters no text field may hold: the bidirectional controls (which can make a name read
/// backwards in an email or an admin list) and the invisible ones that make two names look the
/// same (zero-width space, word joiner, byte-order mark, Mongolian vowel separator). Joiners
/// (U+200C, U+200D), which emoji and some scripts need, stay allowed.
fn is_disallowed_format(c: char) -> bool {
    matches!(c,
        '\u{061C}' | '\u{180E}' | '\u{200B}' | '\u{200E}' | '\u{200F}'
        | '\u{202A}'..='\u{202E}' | '\u{2060}'..='\u{2064}' | '\u{2066}'..='\u{206F}'
        | '\u{FEFF}' | '\u{FFF9}'..='\u{FFFB}')
}

/// Whether `c` may appear in a text field of kind `lines`.
fn allowed_char(c: char, lines: Lines) -> bool {
    if is_disallowed_format(c) {
        return false;
    }
    match lines {
        Lines::One => !c.is_control() && c != '\u{2028}' && c != '\u{2029}',
        Lines::Many => !c.is_control() || matches!(c, '\n' | '\t' | '\r'),
    }
}

/// Trims `value` and checks its length in characters; records a field error when it is out of range.
/// A one-line field (a name).
pub(crate) fn bounded_text(
    field: &str,
    value: &str,
    min: usize,
    max: usize,
    errors: &mut Vec<FieldError>,
) -> String {
    bounded(field, value, min, max, Lines::One, errors)
}

/// Like [`bounded_text`], for a field that may span lines (a description).
pub(crate) fn bounded_multiline_text(
    field: &str,
    value: &str,
    min: usize,
    max: usize,
    errors: &mut Vec<FieldError>,
) -> String {
    bounded(field, value, min, max, Lines::Many, errors)
}

fn bounded(
    field: &str,
    value: &str,
    min: usize,
    max: usize,
    lines: Lines,
    errors: &mut Vec<FieldError>,
) -> String {
    let trimmed = value.trim().to_owned();
    let len = trimmed.chars().count();
    // The limit counts what was sent, spaces included, as the API description's maxLength does.
    let sent = value.chars().count();
    if !trimmed.chars().all(|c| allowed_char(c, lines)) {
        errors.push(FieldError::new(
            field,
            match lines {
                Lines::One => "must be one line without control or invisible formatting characters",
                Lines::Many => "must not contain control or invisible formatting characters",
            },
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

#[cfg(test)]
mod text_tests {
    use super::*;

    fn check(value: &str, lines: Lines) -> Vec<FieldError> {
        let mut errors = Vec::new();
        bounded("name", value, 1, 100, lines, &mut errors);
        errors
    }

    #[test]
    fn one_line_fields_refuse_breaks_tabs_and_invisible_formatting() {
        for bad in [
            "Acme\nInc",
            "Acme\rInc",
            "Acme\tInc",
            "Acme\u{202E}cnI",
            "Ac\u{200B}me",
            "Acme\u{2066}x",
            "Acme\u{2028}Inc",
            "\u{FEFF}Acme",
            "Acme\u{0}",
        ] {
            let errors = check(bad, Lines::One);
            assert_eq!(errors.len(), 1, "{bad:?}");
            assert_eq!(errors[0].field, "name");
        }
        for good in [
            "Acme Inc",
            "Café Ünïcödé",
            "👩\u{200D}💻 Studio",
            "東京スタジオ",
            " padded ",
        ] {
            assert!(check(good, Lines::One).is_empty(), "{good:?}");
        }
    }

    #[test]
    fn descriptions_keep_line_breaks_but_not_bidi_overrides() {
        assert!(check("line one\nline two\ttabbed\r\n", Lines::Many).is_empty());
        assert_eq!(check("evil\u{202E}txt.exe", Lines::Many).len(), 1);
        assert_eq!(check("bell\u{7}", Lines::Many).len(), 1);
    }
}
