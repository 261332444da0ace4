//! The one shape every creator is stored and returned in, whatever platform found it.

use std::sync::LazyLock;

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
    fn hashtags_are_taken_from_captions() {
        assert_eq!(
            hashtags_in("YAYY #nike #AuburnVolleyball, #nike #"),
            ["nike", "auburnvolleyball"]
        );
    }
}
