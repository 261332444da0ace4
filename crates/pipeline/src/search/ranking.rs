//! How a similar search ranks: the words it derives from its target, and the relevance of a
//! candidate to the target.
//!
//! **Words.** The target's bio and display name give the search words, by how specific each is to
//! the target: hashtags and @mentions first, then capitalised names in the bio that are not
//! common words (a brand: "Barstool", "iPhone"), then words of the display name (a person's
//! name), then everything else; email addresses and links are left out; common words of the languages creators write in (roles such as "founder",
//! topics such as "sports") count for little, stop words for nothing, and a word that is a
//! fragment of the handle ("presidente" in "stoolpresidente") counts half: the handle is what the
//! target is called, not what it is about. Longer words weigh slightly more. The
//! [`MAX_SIMILAR_WORDS`] heaviest are searched, heaviest first; all of them score.
//!
//! **Relevance** (0-100) of a candidate: 60 for the share of the target's word weight it matches
//! in its handle, name and bio; 30 for how close its audience is to the target's on a log scale
//! (a factor of 1,000 apart or more scores 0; unknown scores half); 10 if verified. Pages of a
//! similar search are answered in relevance order, best first.

use serde::{Deserialize, Serialize};

use crate::platforms::TargetProfile;
use domain::{creator::Creator, creator::CreatorRecord};

/// How many words a similar search searches.
pub const MAX_SIMILAR_WORDS: usize = 5;
/// How many words the target keeps for scoring.
const MAX_SCORING_WORDS: usize = 12;

/// One word of the target and how specific it is.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Word {
    pub text: String,
    pub weight: f64,
}

/// The target of a similar search, as read on its first step.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Target {
    /// Heaviest first; the first [`MAX_SIMILAR_WORDS`] are searched.
    pub words: Vec<Word>,
    pub followers: Option<u64>,
}

/// Words that carry no meaning of their own, in the languages creators mostly write in.
const STOPWORDS: &[&str] = &[
    // English
    "the", "and", "for", "with", "you", "your", "our", "from", "this", "that", "are", "was", "all",
    "not", "but", "its", "it's", "out", "who", "what", "when", "where", "how", "has", "have",
    "will", "can", "just", "here", "more", "into", "about", "over", "than", "them", "they", "his",
    "her", "www", "com", "net", "org", "http", "https", "link", "bio", "below", "click",
    // Spanish, Portuguese
    "por", "para", "con", "los", "las", "del", "una", "uno", "que", "mas", "más", "sin", "sus",
    "como", "pero", "muy", "com", "das", "dos", "uma", "não", "nao", "seu", "sua", "meu", "minha",
    // French, Italian, German
    "les", "des", "une", "pour", "avec", "sur", "dans", "est", "qui", "per", "che", "della",
    "degli", "und", "der", "die", "das", "mit", "für", "von", "ist", "ich", "auf", "ein", "eine",
];

/// Words too common to tell creators apart: roles, topics and platform words, in several
/// languages. They still score, lightly.
const COMMON: &[&str] = &[
    "official",
    "account",
    "follow",
    "page",
    "channel",
    "tiktok",
    "instagram",
    "youtube",
    "daily",
    "new",
    "get",
    "free",
    "email",
    "contact",
    "business",
    "inquiries",
    "like",
    "best",
    "real",
    "life",
    "love",
    "world",
    "news",
    "media",
    "team",
    "fan",
    "fans",
    "founder",
    "cofounder",
    "ceo",
    "owner",
    "president",
    "presidente",
    "presidenta",
    "président",
    "host",
    "creator",
    "artist",
    "music",
    "sports",
    "sport",
    "deportes",
    "esporte",
    "fitness",
    "food",
    "travel",
    "fashion",
    "beauty",
    "gaming",
    "gamer",
    "tech",
    "family",
    "mom",
    "dad",
    "brand",
    "shop",
    "store",
    "model",
    "actor",
    "actress",
    "singer",
    "writer",
    "author",
    "podcast",
    "show",
    "club",
    "studio",
    "group",
    "king",
    "queen",
    "the",
    "fundador",
    "dueño",
    "criador",
    "creador",
    "cantante",
    "musica",
    "música",
    "vida",
    "amor",
    "mundo",
    "noticias",
    "oficial",
    "canal",
    "fondateur",
    "gründer",
    "offiziell",
    "ufficiale",
    "video",
    "videos",
    "content",
    "comedy",
    "funny",
    "memes",
    "lifestyle",
    "coach",
];

fn is_stopword(w: &str) -> bool {
    STOPWORDS.contains(&w)
}

fn is_common(w: &str) -> bool {
    COMMON.contains(&w)
}

/// Where a word was found, for its weight.
#[derive(Clone, Copy, PartialEq)]
enum Source {
    Tag,
    BioName,
    DisplayName,
    Plain,
}

fn weigh(word: &str, source: Source, handle: &str) -> f64 {
    let mut weight = match source {
        Source::Tag => 3.0,
        Source::BioName => 1.6,
        Source::DisplayName => 1.2,
        Source::Plain => 1.0,
    };
    if is_common(word) {
        weight = 0.4;
    }
    let extra = word.chars().count().saturating_sub(5).min(10) as f64 * 0.05;
    weight += extra;
    if word != handle && word.chars().count() >= 4 && handle.contains(word) {
        weight *= 0.5;
    }
    weight
}

/// The target's words, heaviest first (see the module's description).
pub fn derive_words(handle: &str, name: Option<&str>, bio: Option<&str>) -> Vec<Word> {
    let handle = handle.to_lowercase();
    let mut found: Vec<Word> = Vec::new();
    let name_words = parts(name.unwrap_or_default()).map(|part| (part, Source::DisplayName));
    for (raw, source) in bio_words(bio.unwrap_or_default()).chain(name_words) {
        add_word(&mut found, raw, source, &handle);
    }
    // Heaviest first; equal weights keep the order they were found in.
    found.sort_by(|a, b| b.weight.total_cmp(&a.weight));
    found.truncate(MAX_SCORING_WORDS);
    if found.is_empty() {
        found.push(Word {
            text: handle,
            weight: 1.0,
        });
    }
    found
}

/// The words of a bio, in order, each with where it was found.
fn bio_words(bio: &str) -> impl Iterator<Item = (&str, Source)> {
    bio.split_whitespace()
        // Addresses say how to reach the target, not what it is about.
        .filter(|token| !is_address(token))
        .flat_map(|token| {
            let tagged = token.starts_with(['#', '@']);
            parts(token).enumerate().map(move |(i, part)| {
                let source = if tagged && i == 0 {
                    Source::Tag
                } else if part.chars().any(char::is_uppercase) {
                    // Capitalised or camel-cased (Barstool, iPhone): a name.
                    Source::BioName
                } else {
                    Source::Plain
                };
                (part, source)
            })
        })
}

fn is_address(token: &str) -> bool {
    token.contains("://")
        || token.starts_with("www.")
        || token.get(1..).is_some_and(|rest| rest.contains('@'))
}

/// The runs of letters and digits in `s`.
fn parts(s: &str) -> impl Iterator<Item = &str> {
    s.split(|c: char| !c.is_alphanumeric())
        .filter(|p| !p.is_empty())
}

/// Adds `raw` to `found`, unless it is too short, a number, a stop word or the handle itself; a
/// word found twice keeps its heavier weight.
fn add_word(found: &mut Vec<Word>, raw: &str, source: Source, handle: &str) {
    let word = raw.to_lowercase();
    if word.chars().count() < 3
        || word.chars().all(|c| c.is_ascii_digit())
        || is_stopword(&word)
        || word == handle
    {
        return;
    }
    let weight = weigh(&word, source, handle);
    match found.iter_mut().find(|w| w.text == word) {
        Some(w) => w.weight = w.weight.max(weight),
        None => found.push(Word { text: word, weight }),
    }
}

impl Target {
    pub fn from_profile(handle: &str, profile: &TargetProfile) -> Self {
        Self {
            words: derive_words(handle, profile.name.as_deref(), profile.bio.as_deref()),
            followers: profile.followers,
        }
    }

    /// A target known only by its words (a search started before words had weights).
    pub fn from_words(words: &[String]) -> Self {
        Self {
            words: words
                .iter()
                .map(|w| Word {
                    text: w.clone(),
                    weight: 1.0,
                })
                .collect(),
            followers: None,
        }
    }

    /// The words searched, heaviest first.
    pub fn search_words(&self) -> impl Iterator<Item = &str> {
        self.words
            .iter()
            .take(MAX_SIMILAR_WORDS)
            .map(|w| w.text.as_str())
    }

    /// How close `creator` is to the target, 0-100, one decimal.
    pub fn relevance(&self, creator: &Creator) -> f64 {
        let handle = creator.unique_id.to_lowercase();
        let text = format!(
            "{} {}",
            creator.name.to_lowercase(),
            creator.bio.as_deref().unwrap_or_default().to_lowercase()
        );
        let tokens: Vec<&str> = text
            .split(|c: char| !c.is_alphanumeric())
            .filter(|t| !t.is_empty())
            .collect();
        let total: f64 = self.words.iter().map(|w| w.weight).sum();
        let matched: f64 = self
            .words
            .iter()
            .filter(|w| {
                tokens.contains(&w.text.as_str())
                    || (w.text.chars().count() >= 4 && handle.contains(&w.text))
                    || handle == w.text
            })
            .map(|w| w.weight)
            .sum();
        let words = if total > 0.0 { matched / total } else { 0.0 };
        let audience = match (self.followers, creator.followers) {
            (Some(t), Some(c)) if t > 0 && c > 0 => {
                let apart = ((c as f64).log10() - (t as f64).log10()).abs();
                (1.0 - apart / 3.0).max(0.0)
            }
            _ => 0.5,
        };
        let verified = if creator.verified { 1.0 } else { 0.0 };
        let score = 60.0 * words + 30.0 * audience + 10.0 * verified;
        (score * 10.0).round() / 10.0
    }

    /// Scores `records` and sorts them best first (equal scores keep their order).
    pub fn rank(&self, records: &mut [CreatorRecord]) {
        for r in records.iter_mut() {
            r.relevance = Some(self.relevance(&r.creator));
        }
        records.sort_by(|a, b| {
            b.relevance
                .unwrap_or(0.0)
                .total_cmp(&a.relevance.unwrap_or(0.0))
        });
    }
}
#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_brand_in_the_bio_outweighs_common_words_and_fragments_of_the_handle() {
        let words = derive_words(
            "stoolpresidente",
            Some("Dave Portnoy"),
            Some("El Presidente/Barstool Sports Founder."),
        );
        let order: Vec<&str> = words.iter().map(|w| w.text.as_str()).collect();
        assert_eq!(order[0], "barstool", "{words:?}");
        assert!(order[..3].contains(&"portnoy"), "{words:?}");
        let weight = |t: &str| words.iter().find(|w| w.text == t).unwrap().weight;
        assert!(weight("presidente") < weight("sports"), "{words:?}");
        assert!(!order.contains(&"el"), "a stop word");
        let target = Target {
            words: words.clone(),
            followers: None,
        };
        let searched: Vec<&str> = target.search_words().collect();
        assert_eq!(searched.len(), MAX_SIMILAR_WORDS);
        assert!(!searched.contains(&"presidente"), "{searched:?}");
    }

    #[test]
    fn hashtags_and_mentions_come_first_and_the_handle_alone_is_the_fallback() {
        let words = derive_words(
            "runclub",
            None,
            Some("weekly runs in the city #nightrun @nike"),
        );
        assert_eq!(words[0].text, "nightrun");
        assert_eq!(words[1].text, "nike");
        assert_eq!(
            derive_words("Nike", None, Some("")),
            [Word {
                text: "nike".into(),
                weight: 1.0
            }]
        );
    }

    fn creator(handle: &str, name: &str, followers: u64, verified: bool) -> Creator {
        Creator {
            name: name.into(),
            unique_id: handle.into(),
            followers: Some(followers),
            verified,
            ..Default::default()
        }
    }

    #[test]
    fn a_candidate_scores_by_the_words_it_shares_its_audience_and_verification() {
        let target = Target {
            words: derive_words(
                "stoolpresidente",
                Some("Dave Portnoy"),
                Some("El Presidente/Barstool Sports Founder."),
            ),
            followers: Some(4_400_000),
        };
        let brand = target.relevance(&creator(
            "barstoolgambling",
            "Barstool Gambling",
            667_042,
            true,
        ));
        let fragment = target.relevance(&creator("presidente_xxx", "Presidente", 4_400_000, false));
        let unrelated = target.relevance(&creator("espn", "ESPN", 54_681_730, false));
        assert!(brand > fragment, "{brand} > {fragment}");
        assert!(fragment > unrelated, "{fragment} > {unrelated}");
        assert!((0.0..=100.0).contains(&brand));
        let same_audience = target.relevance(&creator("x", "x", 4_400_000, false));
        let far_audience = target.relevance(&creator("x", "x", 44, false));
        assert_eq!(same_audience, 30.0);
        assert_eq!(far_audience, 0.0);
    }
}
