//! Every operator setting (`system_configurations`), defined once: its key, type, range, default
//! and description. The seed rows ([`db::settings::seed`]), the admin API's validation and
//! the readers ([`db::settings::Settings`]) all come from [`DEFINITIONS`].

use std::time::Duration;

use serde::Serialize;

mod keys;

pub use keys::{Enrichment, Key, Limit, Retention, Timing};

/// How a setting's text is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ValueType {
    /// A whole number within the definition's range.
    Number,
    /// `500ms`, `2s`, `10m`, `2h`, `2d`, or plain seconds; within the range (in milliseconds).
    Duration,
    /// `true` or `false`.
    Boolean,
    /// Any text up to 1,000 characters without control characters.
    String,
    /// A JSON document.
    Json,
}

impl ValueType {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Number => "number",
            Self::Duration => "duration",
            Self::Boolean => "boolean",
            Self::String => "string",
            Self::Json => "json",
        }
    }
}

/// One setting.
#[derive(Debug, Clone, Copy)]
pub struct Definition {
    pub category: &'static str,
    pub key: &'static str,
    pub value_type: ValueType,
    pub default: &'static str,
    /// Inclusive bounds: the number itself, or a duration in milliseconds.
    pub min: i64,
    pub max: i64,
    pub description: &'static str,
    /// Whether a change reaches running functions within the settings cache's lifetime.
    pub hot_reloadable: bool,
}

/// A parsed value.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Number(i64),
    Duration(Duration),
    Boolean(bool),
    String(String),
    Json(serde_json::Value),
}

pub(crate) const SECOND: i64 = 1_000;
pub(crate) const MINUTE: i64 = 60 * SECOND;
const HOUR: i64 = 60 * MINUTE;
pub(crate) const DAY: i64 = 24 * HOUR;

pub(crate) const fn number(
    category: &'static str,
    key: &'static str,
    default: &'static str,
    (min, max): (i64, i64),
    description: &'static str,
) -> Definition {
    Definition {
        category,
        key,
        value_type: ValueType::Number,
        default,
        min,
        max,
        description,
        hot_reloadable: true,
    }
}

pub(crate) const fn duration(
    category: &'static str,
    key: &'static str,
    default: &'static str,
    (min, max): (i64, i64),
    description: &'static str,
) -> Definition {
    Definition {
        value_type: ValueType::Duration,
        ..number(category, key, default, (min, max), description)
    }
}

/// Every setting's definition, in [`Key::ALL`]'s order. Adding a key seeds it on the next
/// migration and makes it editable.
pub static DEFINITIONS: &[Definition] = &BY_KEY;

static BY_KEY: [Definition; 32] = {
    let mut out = [Key::ALL[0].definition(); 32];
    let mut i = 1;
    while i < 32 {
        out[i] = Key::ALL[i].definition();
        i += 1;
    }
    out
};

/// The definition of `category`/`key`, if there is one.
pub fn find(category: &str, key: &str) -> Option<&'static Definition> {
    DEFINITIONS
        .iter()
        .find(|d| d.category == category && d.key == key)
}

/// Parses a duration: `500ms`, `2s`, `10m`, `2h`, `2d`, or a plain number of seconds.
pub fn parse_duration(raw: &str) -> Option<Duration> {
    let raw = raw.trim();
    let split = raw.find(|c: char| !c.is_ascii_digit()).unwrap_or(raw.len());
    let (digits, unit) = raw.split_at(split);
    if digits.is_empty() || digits.len() > 12 {
        return None;
    }
    let n: u64 = digits.parse().ok()?;
    let millis = match unit {
        "ms" => n,
        "" | "s" => n.checked_mul(1_000)?,
        "m" => n.checked_mul(60_000)?,
        "h" => n.checked_mul(3_600_000)?,
        "d" => n.checked_mul(86_400_000)?,
        _ => return None,
    };
    Some(Duration::from_millis(millis))
}

fn describe_millis(ms: i64) -> String {
    for (unit, size) in [("d", DAY), ("h", HOUR), ("m", MINUTE), ("s", SECOND)] {
        if ms >= size && ms % size == 0 {
            return format!("{}{unit}", ms / size);
        }
    }
    format!("{ms}ms")
}

impl Definition {
    /// The rule a value must follow, in words (the message of a refused value).
    pub fn rule(&self) -> String {
        match self.value_type {
            ValueType::Number => {
                format!("must be a whole number from {} to {}", self.min, self.max)
            }
            ValueType::Duration => format!(
                "must be a duration such as 500ms, 2s, 10m, 2h, 2d or plain seconds, from {} to {}",
                describe_millis(self.min),
                describe_millis(self.max)
            ),
            ValueType::Boolean => "must be true or false".to_owned(),
            ValueType::String => {
                "must be text of at most 1000 characters without control characters".to_owned()
            }
            ValueType::Json => "must be a JSON document".to_owned(),
        }
    }

    /// Parses `raw` by this setting's type and range; the error is [`Definition::rule`].
    pub fn parse(&self, raw: &str) -> Result<Value, String> {
        let value = match self.value_type {
            ValueType::Number => raw
                .trim()
                .parse::<i64>()
                .ok()
                .filter(|n| (self.min..=self.max).contains(n))
                .map(Value::Number),
            ValueType::Duration => parse_duration(raw)
                .filter(|d| {
                    i64::try_from(d.as_millis()).is_ok_and(|ms| (self.min..=self.max).contains(&ms))
                })
                // SQS delays are whole seconds.
                .filter(|d| self.key != "continuation_delay" || d.subsec_millis() == 0)
                .map(Value::Duration),
            ValueType::Boolean => match raw.trim() {
                "true" => Some(Value::Boolean(true)),
                "false" => Some(Value::Boolean(false)),
                _ => None,
            },
            ValueType::String => Some(raw)
                .filter(|s| s.chars().count() <= 1_000 && !s.chars().any(char::is_control))
                .map(|s| Value::String(s.to_owned())),
            ValueType::Json => serde_json::from_str(raw).ok().map(Value::Json),
        };
        value.ok_or_else(|| self.rule())
    }

    /// The default, parsed (a test checks every default parses).
    pub fn default_value(&self) -> Value {
        self.parse(self.default)
            .unwrap_or_else(|e| panic!("the default of {}.{} {e}", self.category, self.key))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{
        campaign::SearchType,
        email::EmailKind,
        plan::Plan,
        search::{Platform, SearchKind},
    };

    #[test]
    fn every_default_parses_by_its_own_rule_and_keys_are_unique() {
        for d in DEFINITIONS {
            d.default_value();
            let same = DEFINITIONS
                .iter()
                .filter(|o| o.category == d.category && o.key == d.key)
                .count();
            assert_eq!(same, 1, "{}.{}", d.category, d.key);
        }
    }

    #[test]
    fn durations_read_every_unit_and_plain_seconds() {
        let ms = |s: &str| parse_duration(s).map(|d| d.as_millis());
        assert_eq!(ms("500ms"), Some(500));
        assert_eq!(ms("2s"), Some(2_000));
        assert_eq!(ms("10m"), Some(600_000));
        assert_eq!(ms("2h"), Some(7_200_000));
        assert_eq!(ms("2d"), Some(172_800_000));
        assert_eq!(ms("45"), Some(45_000));
        for bad in ["", "s", "2 s", "-2s", "2w", "1.5h", "2S", "99999999999999d"] {
            assert_eq!(ms(bad), None, "{bad}");
        }
    }

    #[test]
    fn values_outside_a_range_are_refused_with_the_rule() {
        let delay = find("timing", "continuation_delay").unwrap();
        assert_eq!(
            delay.parse("2s"),
            Ok(Value::Duration(Duration::from_secs(2)))
        );
        assert_eq!(delay.parse("0"), Ok(Value::Duration(Duration::ZERO)));
        assert!(delay.parse("16m").unwrap_err().contains("from 0ms to 15m"));
        assert!(
            delay.parse("1500ms").is_err(),
            "SQS delays are whole seconds"
        );
        let calls = find("api_limits", "max_api_calls_tiktok_keyword").unwrap();
        assert_eq!(calls.parse(" 7 "), Ok(Value::Number(7)));
        assert_eq!(
            calls.parse("0").unwrap_err(),
            "must be a whole number from 1 to 10000"
        );
        assert!(calls.parse("7.5").is_err());
    }

    #[test]
    fn every_key_is_defined_once_under_its_own_name() {
        for key in Key::ALL {
            let def = key.definition();
            let found = Key::ALL
                .iter()
                .filter(|k| {
                    let d = k.definition();
                    (d.category, d.key) == (def.category, def.key)
                })
                .count();
            assert_eq!(
                found, 1,
                "{}.{} is defined {found} times",
                def.category, def.key
            );
            assert!(find(def.category, def.key).is_some());
        }
        // Every plan has every limit, every kind of search its two settings, every email its delay.
        for plan in Plan::ALL {
            for limit in [
                Limit::MaxRunningSearches,
                Limit::PeriodCredits,
                Limit::CreditsPerSearch,
            ] {
                assert!(
                    Key::ALL.contains(&Key::Limit(plan, limit)),
                    "{plan} {limit:?}"
                );
            }
        }
        for platform in Platform::ALL {
            for search_type in [SearchType::Keyword, SearchType::Similar] {
                if let Some(kind) = SearchKind::of(platform, search_type) {
                    assert!(Key::ALL.contains(&Key::MaxApiCalls(kind)), "{kind:?}");
                    assert!(Key::ALL.contains(&Key::TargetResults(kind)), "{kind:?}");
                }
            }
        }
        for email in EmailKind::ALL {
            assert!(Key::ALL.contains(&Key::EmailDelay(email)), "{email:?}");
        }
    }
}
