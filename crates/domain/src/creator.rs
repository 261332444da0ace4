//! The one shape every creator is stored and returned in, whatever platform found it.

use std::{collections::BTreeMap, sync::LazyLock};

use regex_lite::Regex;
use serde::{Deserialize, Serialize};

use super::search::Platform;

/// A creator found by a search, with the video that matched where there is one.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreatorRecord {
    pub platform: Platform,
    pub creator: Creator,
    pub video: Option<Video>,
    pub hashtags: Vec<String>,
    pub found_by: FoundBy,
    /// Similar searches: how close the creator is to the target, 0-100 (see
    /// `pipeline::search::similar`); pages of a similar search are answered best first.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub relevance: Option<f64>,
    /// The video's publication time (seconds since the epoch), where the platform gives it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub published_at: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct Creator {
    pub name: String,
    pub unique_id: String,
    pub followers: Option<u64>,
    pub avatar_url: Option<String>,
    pub profile_pic_url: Option<String>,
    pub bio: Option<String>,
    pub emails: Vec<String>,
    pub verified: bool,
    pub profile_url: String,
    /// What the platform says about the creator beyond its identity; every fact is `null` where
    /// the platform gives none. Creators stored before these facts existed read with them `null`.
    #[serde(flatten, default)]
    pub facts: CreatorFacts,
}

/// Facts a brand filters on, each as the platform gave it and `None` where it gave none (never
/// guessed). The README's "Creator facts" defines each per platform.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct CreatorFacts {
    /// Interactions per view (TikTok videos) or per follower (Instagram's recent posts), as a
    /// fraction: 0.0523 is 5.23 %.
    #[serde(default)]
    pub engagement_rate: Option<f64>,
    /// ISO 3166-1 alpha-2 country code, upper-case.
    #[serde(default)]
    pub region: Option<String>,
    /// ISO 639-1 language code, lower-case.
    #[serde(default)]
    pub language: Option<String>,
    /// Links the creator shows (bio link, external URL, bio links), without repeats.
    #[serde(default)]
    pub links: Option<Vec<String>>,
    #[serde(default)]
    pub business_email: Option<String>,
    #[serde(default)]
    pub business_phone: Option<String>,
    /// The creator's accounts on other platforms, by platform (`instagram`, `youtubeChannelId`,
    /// `twitter`, `twitterId`).
    #[serde(default)]
    pub other_handles: Option<BTreeMap<String, String>>,
    #[serde(default)]
    pub category: Option<String>,
}

impl CreatorFacts {
    /// Takes every fact `newer` has (a profile look-up), keeping ours where it has none; links
    /// and other handles are united.
    pub fn merge(&mut self, newer: CreatorFacts) {
        fn take<T>(ours: &mut Option<T>, theirs: Option<T>) {
            if theirs.is_some() {
                *ours = theirs;
            }
        }
        take(&mut self.engagement_rate, newer.engagement_rate);
        take(&mut self.region, newer.region);
        take(&mut self.language, newer.language);
        take(&mut self.business_email, newer.business_email);
        take(&mut self.business_phone, newer.business_phone);
        take(&mut self.category, newer.category);
        if let Some(links) = newer.links {
            let mut all = self.links.take().unwrap_or_default();
            all.extend(links);
            self.links = unique(all);
        }
        if let Some(handles) = newer.other_handles {
            let mut all = self.other_handles.take().unwrap_or_default();
            all.extend(handles);
            self.other_handles = Some(all).filter(|h| !h.is_empty());
        }
    }
}

/// A country code as the platforms send it (`us`, `US`), upper-cased; anything that is not two
/// ASCII letters is no country.
pub fn region_code(raw: Option<&str>) -> Option<String> {
    let code = raw?.trim();
    (code.len() == 2 && code.chars().all(|c| c.is_ascii_alphabetic()))
        .then(|| code.to_ascii_uppercase())
}

/// A language code as the platforms send it (`en`, `es-419`, `pt-BR`): its primary subtag,
/// lower-cased; TikTok's `un` (undetermined) and anything that is not two or three ASCII letters
/// is no language.
pub fn language_code(raw: Option<&str>) -> Option<String> {
    let primary = raw?.trim().split(['-', '_']).next()?;
    let code = primary.to_ascii_lowercase();
    ((2..=3).contains(&code.len())
        && code.chars().all(|c| c.is_ascii_alphabetic())
        && code != "un"
        && code != "und")
        .then_some(code)
}

/// `interactions / base`, rounded to four decimals; `None` without a base.
pub fn engagement_rate(interactions: u64, base: u64) -> Option<f64> {
    (base > 0).then(|| (interactions as f64 / base as f64 * 10_000.0).round() / 10_000.0)
}

/// Non-empty trimmed texts, without repeats, in order; `None` when there are none.
pub fn unique(texts: impl IntoIterator<Item = String>) -> Option<Vec<String>> {
    let mut out: Vec<String> = Vec::new();
    for t in texts {
        let t = t.trim();
        if !t.is_empty() && !out.iter().any(|o| o == t) {
            out.push(t.to_owned());
        }
    }
    (!out.is_empty()).then_some(out)
}

/// A text that says something, trimmed; `None` for an empty one.
pub fn non_empty(text: Option<String>) -> Option<String> {
    text.map(|t| t.trim().to_owned()).filter(|t| !t.is_empty())
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Video {
    pub description: String,
    pub url: Option<String>,
    pub statistics: VideoStatistics,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct VideoStatistics {
    pub likes: Option<u64>,
    pub comments: Option<u64>,
    pub shares: Option<u64>,
    pub views: Option<u64>,
}

/// What the creator was found by: a keyword, or similarity to a target account.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum FoundBy {
    Keyword(String),
    SimilarTo(String),
}

impl CreatorRecord {
    /// The creator's identity within a job: no two records of one job share it.
    pub fn key(&self) -> String {
        self.creator.unique_id.replace('\0', "").to_lowercase()
    }

    /// Sets the bio (when there is one) and recomputes the emails from every text we hold.
    pub fn set_bio(&mut self, bio: Option<String>, extra_emails: &[String]) {
        if let Some(bio) = bio.filter(|b| !b.trim().is_empty()) {
            self.creator.bio = Some(bio);
        }
        let mut emails = extract_emails(self.creator.bio.as_deref().unwrap_or_default());
        for e in extra_emails {
            emails.extend(extract_emails(e));
        }
        emails.sort();
        emails.dedup();
        self.creator.emails = emails;
    }
}

static EMAIL: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,24}")
        .expect("valid email pattern")
});

/// Email addresses in free text, lower-cased, in order of appearance, without repeats.
pub fn extract_emails(text: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for m in EMAIL.find_iter(text) {
        let email = m.as_str().trim_matches('.').to_lowercase();
        if !out.contains(&email) {
            out.push(email);
        }
    }
    out
}

/// Hashtags in a caption (`#nike` → `nike`), lower-cased, without repeats.
pub fn hashtags_in(text: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for word in text.split_whitespace() {
        if let Some(tag) = word.strip_prefix('#') {
            let tag: String = tag
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect::<String>()
                .to_lowercase();
            if !tag.is_empty() && !out.contains(&tag) {
                out.push(tag);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_found_lower_cased_and_deduplicated() {
        let bio =
            "📧 Briannalapaglia0@Gmail.com. Collabs: team@agency.co.uk, briannalapaglia0@gmail.com";
        assert_eq!(
            extract_emails(bio),
            ["briannalapaglia0@gmail.com", "team@agency.co.uk"]
        );
        assert!(extract_emails("follow @someone on IG").is_empty());
    }

    #[test]
    fn a_creator_stored_before_the_facts_reads_with_every_fact_null() {
        let stored = r#"{"name":"N","uniqueId":"n","followers":3,"avatarUrl":null,
            "profilePicUrl":null,"bio":null,"emails":[],"verified":false,"profileUrl":"u"}"#;
        let creator: Creator = serde_json::from_str(stored).unwrap();
        assert_eq!(creator.facts, CreatorFacts::default());
        let json = serde_json::to_value(&creator).unwrap();
        for fact in [
            "engagementRate",
            "region",
            "language",
            "links",
            "businessEmail",
            "businessPhone",
            "otherHandles",
            "category",
        ] {
            assert_eq!(json[fact], serde_json::Value::Null, "{fact}");
        }
    }

    #[test]
    fn a_look_up_fills_facts_and_keeps_the_search_hits_where_it_has_none() {
        let mut facts = CreatorFacts {
            region: Some("US".into()),
            engagement_rate: Some(0.1),
            links: Some(vec!["https://a".into()]),
            ..Default::default()
        };
        facts.merge(CreatorFacts {
            engagement_rate: Some(0.02),
            links: Some(vec!["https://b".into(), "https://a".into()]),
            category: Some("Fitness".into()),
            ..Default::default()
        });
        assert_eq!(facts.region.as_deref(), Some("US"));
        assert_eq!(facts.engagement_rate, Some(0.02));
        assert_eq!(facts.category.as_deref(), Some("Fitness"));
        assert_eq!(facts.links.unwrap(), ["https://a", "https://b"]);
    }

    #[test]
    fn codes_are_normalised_and_undetermined_ones_dropped() {
        assert_eq!(region_code(Some("us")).as_deref(), Some("US"));
        assert_eq!(region_code(Some("USA")), None);
        assert_eq!(language_code(Some("EN")).as_deref(), Some("en"));
        assert_eq!(language_code(Some("un")), None);
        assert_eq!(language_code(Some("pt-BR")).as_deref(), Some("pt"));
        assert_eq!(engagement_rate(1, 3), Some(0.3333));
        assert_eq!(engagement_rate(1, 0), None);
    }

    #[test]
    fn hashtags_are_taken_from_captions() {
        assert_eq!(
            hashtags_in("YAYY #nike #AuburnVolleyball, #nike #"),
            ["nike", "auburnvolleyball"]
        );
    }
}
