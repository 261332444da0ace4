//! Every operator setting (`system_configurations`), defined once: its key, type, range, default
//! and description. The seed rows ([`db::settings::seed`]), the admin API's validation and
//! the readers ([`db::settings::Settings`]) all come from [`DEFINITIONS`].

use std::time::Duration;

use serde::Serialize;

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

const SECOND: i64 = 1_000;
const MINUTE: i64 = 60 * SECOND;
const HOUR: i64 = 60 * MINUTE;
const DAY: i64 = 24 * HOUR;

const fn number(
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

const fn duration(
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

/// Every setting. Adding one here seeds it on the next migration and makes it editable.
pub const DEFINITIONS: &[Definition] = &[
    number(
        "api_limits",
        "max_api_calls_tiktok_keyword",
        "50",
        (1, 10_000),
        "Search pages one TikTok keyword search may request",
    ),
    number(
        "api_limits",
        "max_api_calls_youtube_keyword",
        "50",
        (1, 10_000),
        "Search pages one YouTube keyword search may request",
    ),
    number(
        "api_limits",
        "max_api_calls_tiktok_similar",
        "20",
        (1, 10_000),
        "User searches one TikTok similar search may request",
    ),
    number(
        "api_limits",
        "max_api_calls_instagram_similar",
        "20",
        (1, 10_000),
        "Steps one Instagram similar search may run",
    ),
    number(
        "api_limits",
        "max_api_calls_youtube_similar",
        "20",
        (1, 10_000),
        "Search pages one YouTube similar search may request",
    ),
    number(
        "search_defaults",
        "target_results_tiktok_keyword",
        "100",
        (1, 1_000),
        "Creators a TikTok keyword search looks for unless told",
    ),
    number(
        "search_defaults",
        "target_results_youtube_keyword",
        "100",
        (1, 1_000),
        "Creators a YouTube keyword search looks for unless told",
    ),
    number(
        "search_defaults",
        "target_results_tiktok_similar",
        "50",
        (1, 1_000),
        "Creators a TikTok similar search looks for unless told",
    ),
    number(
        "search_defaults",
        "target_results_instagram_similar",
        "50",
        (1, 1_000),
        "Creators an Instagram similar search looks for unless told",
    ),
    number(
        "search_defaults",
        "target_results_youtube_similar",
        "50",
        (1, 1_000),
        "Creators a YouTube similar search looks for unless told",
    ),
    duration(
        "timing",
        "continuation_delay",
        "2s",
        (0, 15 * MINUTE),
        "Delay between two steps of a search (SQS DelaySeconds: whole seconds, at most 15 minutes)",
    ),
    duration(
        "timing",
        "job_timeout",
        "60m",
        (MINUTE, 7 * DAY),
        "A search still running this long after it started ends as timeout",
    ),
    duration(
        "timing",
        "stalled_after",
        "300s",
        (30 * SECOND, DAY),
        "A running search with no progress for this long is re-enqueued by the sweeper",
    ),
    duration(
        "retention",
        "completed_jobs",
        "30d",
        (DAY, 3_650 * DAY),
        "Completed, cancelled and timed-out searches and their creators are deleted this long after they ended",
    ),
    duration(
        "retention",
        "failed_jobs",
        "7d",
        (DAY, 3_650 * DAY),
        "Searches that ended in error are deleted this long after they ended",
    ),
    number(
        "enrichment",
        "profile_concurrency",
        "5",
        (1, 20),
        "Creators one enrichment message looks up, all at once",
    ),
    number(
        "enrichment",
        "instagram_profiles_per_step",
        "10",
        (1, 50),
        "Related Instagram profiles one step stores (each then looked up by enrichment)",
    ),
    duration(
        "email",
        "welcome_delay",
        "10m",
        (0, 7 * DAY),
        "The welcome email is sent this long after onboarding step 1 is first saved",
    ),
    duration(
        "email",
        "abandonment_delay",
        "2h",
        (MINUTE, 30 * DAY),
        "The onboarding reminder is sent this long after step 1, to users who have not completed onboarding",
    ),
    duration(
        "email",
        "trial_day_2_delay",
        "2d",
        (0, 30 * DAY),
        "The first trial reminder is sent this long after the trial starts, if still trialing",
    ),
    duration(
        "email",
        "trial_day_5_delay",
        "5d",
        (0, 30 * DAY),
        "The second trial reminder is sent this long after the trial starts, if still trialing",
    ),
    duration(
        "email",
        "trial_expiry_delay",
        "7d",
        (0, 30 * DAY),
        "The trial-expiry email is sent this long after the trial starts (the trial's length), unless the user subscribed",
    ),
    number(
        "email",
        "max_attempts",
        "5",
        (1, 20),
        "Provider calls one email may take (throttling and server errors are retried with backoff) before it is failed",
    ),
    number("limits", "max_running_searches_trial", "3", (1, 100), "Searches a trial user may have running at once"),
    number("limits", "max_running_searches_starter", "3", (1, 100), "Searches a Starter user may have running at once"),
    number("limits", "max_running_searches_pro", "5", (1, 100), "Searches a Pro user may have running at once"),
    number("limits", "period_credits_trial", "2000", (0, 100_000_000), "Creator-API credits a user may spend during the trial"),
    number("limits", "period_credits_starter", "10000", (0, 100_000_000), "Creator-API credits a Starter user may spend per calendar month"),
    number("limits", "period_credits_pro", "50000", (0, 100_000_000), "Creator-API credits a Pro user may spend per calendar month"),
    number("limits", "credits_per_search_trial", "1200", (1, 1_000_000), "Creator-API credits one search of a trial user may spend (1,000 creators, each looked up, need about 1,040)"),
    number("limits", "credits_per_search_starter", "1200", (1, 1_000_000), "Creator-API credits one search of a Starter user may spend"),
    number("limits", "credits_per_search_pro", "1200", (1, 1_000_000), "Creator-API credits one search of a Pro user may spend"),
];

/// The plans whose limits are defined (the `plans` table's rows; a test keeps the two equal).
pub const PLANS: &[&str] = &["trial", "starter", "pro"];

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
}
