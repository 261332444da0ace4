//! Searches: platforms, job states, and the validation of a search request.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::campaign::SearchType;
use crate::{FieldError, Refusal};

/// Where creators are searched.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Platform {
    TikTok,
    Instagram,
    YouTube,
}

impl Platform {
    pub const ALL: [Platform; 3] = [Platform::TikTok, Platform::Instagram, Platform::YouTube];

    /// The stored and displayed name (`TikTok`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::TikTok => "TikTok",
            Self::Instagram => "Instagram",
            Self::YouTube => "YouTube",
        }
    }

    /// The lower-case name used in routes and configuration keys (`tiktok`).
    pub fn slug(self) -> &'static str {
        match self {
            Self::TikTok => "tiktok",
            Self::Instagram => "instagram",
            Self::YouTube => "youtube",
        }
    }

    pub fn from_slug(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|p| p.slug() == s)
    }

    /// The platform of a stored name (`TikTok`).
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|p| p.as_str() == s)
    }
}

/// A search the product offers: a platform with a search type it supports. Settings keyed by
/// the kind of search take this, so a pair the product does not offer has no setting to read.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SearchKind {
    TikTokKeyword,
    YouTubeKeyword,
    TikTokSimilar,
    InstagramSimilar,
    YouTubeSimilar,
}

impl SearchKind {
    /// The kind of a platform and search type; `None` for a pair the product does not offer
    /// (an Instagram keyword search).
    pub fn of(platform: Platform, search_type: SearchType) -> Option<Self> {
        Some(match (platform, search_type) {
            (Platform::TikTok, SearchType::Keyword) => Self::TikTokKeyword,
            (Platform::YouTube, SearchType::Keyword) => Self::YouTubeKeyword,
            (Platform::Instagram, SearchType::Keyword) => return None,
            (Platform::TikTok, SearchType::Similar) => Self::TikTokSimilar,
            (Platform::Instagram, SearchType::Similar) => Self::InstagramSimilar,
            (Platform::YouTube, SearchType::Similar) => Self::YouTubeSimilar,
        })
    }
}

/// A job's state. `completed`, `error`, `timeout` and `cancelled` are final.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum JobStatus {
    Pending,
    Processing,
    Completed,
    Error,
    Timeout,
    Cancelled,
}

impl JobStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Processing => "processing",
            Self::Completed => "completed",
            Self::Error => "error",
            Self::Timeout => "timeout",
            Self::Cancelled => "cancelled",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "pending" => Self::Pending,
            "processing" => Self::Processing,
            "completed" => Self::Completed,
            "error" => Self::Error,
            "timeout" => Self::Timeout,
            "cancelled" => Self::Cancelled,
            _ => return None,
        })
    }

    pub fn is_final(self) -> bool {
        !matches!(self, Self::Pending | Self::Processing)
    }
}

/// `POST /scraping/{platform}` body, as sent.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct StartSearchBody {
    pub campaign_id: Uuid,
    #[serde(default, deserialize_with = "super::present")]
    pub keywords: Option<Vec<String>>,
    #[serde(default, deserialize_with = "super::present")]
    pub username: Option<String>,
    #[serde(default, deserialize_with = "super::present_integer")]
    pub target_results: Option<i64>,
    #[serde(default, deserialize_with = "super::present")]
    pub region: Option<String>,
}

/// What a search looks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SearchTarget {
    Keywords(Vec<String>),
    Similar(String),
}

impl SearchTarget {
    pub fn search_type(&self) -> SearchType {
        match self {
            Self::Keywords(_) => SearchType::Keyword,
            Self::Similar(_) => SearchType::Similar,
        }
    }
}

/// A valid search request; `target_results` is `None` when the caller left it to the defaults.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewSearch {
    pub platform: Platform,
    /// The platform with the target's search type: a kind the product offers.
    pub kind: SearchKind,
    pub campaign_id: Uuid,
    pub target: SearchTarget,
    pub target_results: Option<i32>,
    pub region: Option<String>,
}

pub const MAX_KEYWORDS: usize = 10;
pub const MAX_TARGET_RESULTS: i64 = 1000;

impl NewSearch {
    /// Validates `body`, reporting every invalid field at once.
    pub fn parse(platform: Platform, body: StartSearchBody) -> Result<Self, Refusal> {
        let mut errors = Vec::new();
        let target = search_target(body.keywords, body.username, &mut errors);
        let kind = target
            .as_ref()
            .and_then(|t| search_kind(platform, t, &mut errors));
        let target_results = target_results(body.target_results, &mut errors);
        let region = region(body.region, &mut errors);
        match (target, kind) {
            (Some(target), Some(kind)) if errors.is_empty() => Ok(Self {
                platform,
                kind,
                campaign_id: body.campaign_id,
                target,
                target_results,
                region,
            }),
            _ => Err(Refusal::Invalid(errors)),
        }
    }
}

/// Keywords (a keyword search) or a username (a similar search): exactly one of the two.
fn search_target(
    words: Option<Vec<String>>,
    username: Option<String>,
    errors: &mut Vec<FieldError>,
) -> Option<SearchTarget> {
    match (words, username) {
        (Some(_), Some(_)) => {
            errors.push(FieldError::new(
                "username",
                "give either keywords or a username, not both",
            ));
            None
        }
        (None, None) => {
            errors.push(FieldError::new(
                "keywords",
                "give keywords (keyword search) or a username (similar search)",
            ));
            None
        }
        (Some(words), None) => keywords(&words, errors).map(SearchTarget::Keywords),
        (None, Some(name)) => match normalize_username(&name) {
            Some(u) => Some(SearchTarget::Similar(u)),
            None => {
                errors.push(FieldError::new(
                    "username",
                    "must be a handle of letters, digits, '.', '_' or '-' (a leading @ or a profile URL is fine)",
                ));
                None
            }
        },
    }
}

/// The kind of a search for `target` on `platform`, when the product offers it.
fn search_kind(
    platform: Platform,
    target: &SearchTarget,
    errors: &mut Vec<FieldError>,
) -> Option<SearchKind> {
    let kind = SearchKind::of(platform, target.search_type());
    if kind.is_none() {
        errors.push(FieldError::new(
            "keywords",
            format!("{} supports only similar searches", platform.as_str()),
        ));
    }
    kind
}

/// 1 to [`MAX_TARGET_RESULTS`], or `None` (the defaults).
fn target_results(n: Option<i64>, errors: &mut Vec<FieldError>) -> Option<i32> {
    match n {
        None => None,
        Some(n) if (1..=MAX_TARGET_RESULTS).contains(&n) => i32::try_from(n).ok(),
        Some(_) => {
            errors.push(FieldError::new(
                "targetResults",
                format!("must be from 1 to {MAX_TARGET_RESULTS}"),
            ));
            None
        }
    }
}

/// A two-letter country code, upper-cased; empty is none.
fn region(region: Option<String>, errors: &mut Vec<FieldError>) -> Option<String> {
    match region.map(|r| r.to_ascii_uppercase()) {
        None => None,
        Some(r) if r.is_empty() => None,
        Some(r) if r.len() == 2 && r.bytes().all(|b| b.is_ascii_uppercase()) => Some(r),
        Some(_) => {
            errors.push(FieldError::new(
                "region",
                "must be a two-letter country code",
            ));
            None
        }
    }
}

/// 1–10 keywords, each with control characters stripped, whitespace collapsed and trimmed, 1–100
/// characters; repeats (ignoring case) are dropped.
fn keywords(words: &[String], errors: &mut Vec<FieldError>) -> Option<Vec<String>> {
    if words.is_empty() || words.len() > MAX_KEYWORDS {
        errors.push(FieldError::new(
            "keywords",
            format!("give 1 to {MAX_KEYWORDS} keywords"),
        ));
        return None;
    }
    let mut out: Vec<String> = Vec::with_capacity(words.len());
    for (i, word) in words.iter().enumerate() {
        let clean = sanitize_keyword(word);
        let len = clean.chars().count();
        if len == 0 || len > 100 {
            errors.push(FieldError::new(
                format!("keywords[{i}]"),
                "must be 1 to 100 characters",
            ));
        } else if !out.iter().any(|k| k.to_lowercase() == clean.to_lowercase()) {
            out.push(clean);
        }
    }
    Some(out)
}

/// Strips control characters, collapses runs of whitespace to one space, trims.
pub fn sanitize_keyword(raw: &str) -> String {
    raw.chars()
        .filter(|c| !c.is_control() || c.is_whitespace())
        .collect::<String>()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// `@name`, `name`, or a profile URL (`https://www.tiktok.com/@name`, `instagram.com/name/`,
/// `youtube.com/@name`) → `name`, when it is 1–100 of `[A-Za-z0-9._-]`.
pub fn normalize_username(raw: &str) -> Option<String> {
    let mut s = raw.trim();
    if let Some(idx) = s.find("://") {
        s = &s[idx + 3..];
    }
    if let Some((host, path)) = s.split_once('/') {
        // A profile URL: the first path segment is the handle. Any other path is not a username.
        let host = host.to_ascii_lowercase();
        let known = ["tiktok.com", "instagram.com", "youtube.com"];
        if !known
            .iter()
            .any(|k| host == *k || host.ends_with(&format!(".{k}")))
        {
            return None;
        }
        s = path.split('/').find(|p| !p.is_empty())?;
        s = s.split(['?', '#']).next()?;
    }
    let name = s.strip_prefix('@').unwrap_or(s);
    let valid = !name.is_empty()
        && name.len() <= 100
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
        && !name.chars().all(|c| c == '.');
    valid.then(|| name.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usernames_from_handles_and_profile_urls_are_normalised() {
        assert_eq!(normalize_username("@nike").as_deref(), Some("nike"));
        assert_eq!(
            normalize_username(" nike.run_1 ").as_deref(),
            Some("nike.run_1")
        );
        assert_eq!(
            normalize_username("https://www.tiktok.com/@nike?lang=en").as_deref(),
            Some("nike")
        );
        assert_eq!(
            normalize_username("instagram.com/gainsbybrains/").as_deref(),
            Some("gainsbybrains")
        );
        assert_eq!(
            normalize_username("https://youtube.com/@MrBeast").as_deref(),
            Some("MrBeast")
        );
        assert_eq!(normalize_username("nike; DROP TABLE"), None);
        assert_eq!(normalize_username("../etc/passwd"), None);
        assert_eq!(normalize_username("@"), None);
        assert_eq!(normalize_username(".."), None);
    }

    #[test]
    fn keywords_are_sanitised_and_deduplicated() {
        assert_eq!(
            sanitize_keyword("  fit\u{0}ness \t\n  coach "),
            "fitness coach"
        );
        let mut errors = Vec::new();
        let words = keywords(&["Nike".into(), " nike ".into(), "run".into()], &mut errors).unwrap();
        assert_eq!(words, ["Nike", "run"]);
        assert!(errors.is_empty());
    }

    #[test]
    fn instagram_keyword_search_is_rejected() {
        let body = StartSearchBody {
            campaign_id: Uuid::nil(),
            keywords: Some(vec!["x".into()]),
            username: None,
            target_results: None,
            region: None,
        };
        assert!(NewSearch::parse(Platform::Instagram, body).is_err());
    }

    #[test]
    fn a_whole_number_may_be_spelled_with_a_zero_fraction_and_null_is_no_value() {
        let body = |json: &str| serde_json::from_str::<StartSearchBody>(json);
        let id = Uuid::nil();
        let ok = body(&format!(
            r#"{{"campaignId": "{id}", "keywords": ["x"], "targetResults": 20.0}}"#
        ));
        assert_eq!(ok.unwrap().target_results, Some(20));
        assert!(body(&format!(
            r#"{{"campaignId": "{id}", "keywords": ["x"], "targetResults": 20.5}}"#
        ))
        .is_err());
        assert!(body(&format!(
            r#"{{"campaignId": "{id}", "keywords": ["x"], "targetResults": "20"}}"#
        ))
        .is_err());
        assert!(body(&format!(
            r#"{{"campaignId": "{id}", "keywords": ["x"], "region": null}}"#
        ))
        .is_err());
        let absent = body(&format!(r#"{{"campaignId": "{id}", "username": "x"}}"#)).unwrap();
        assert_eq!((absent.keywords, absent.target_results), (None, None));
    }

    #[test]
    fn target_results_must_be_within_one_and_a_thousand() {
        for (n, ok) in [
            (0, false),
            (1, true),
            (1000, true),
            (1001, false),
            (-5, false),
        ] {
            let body = StartSearchBody {
                campaign_id: Uuid::nil(),
                keywords: Some(vec!["x".into()]),
                username: None,
                target_results: Some(n),
                region: None,
            };
            assert_eq!(NewSearch::parse(Platform::TikTok, body).is_ok(), ok, "{n}");
        }
    }
}
