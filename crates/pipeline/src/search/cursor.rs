//! Where a search is between steps, stored on the job as JSON (`scraping_jobs.cursor`, `{}`
//! before the first step). A cursor that cannot be read ends the search as `error`: restarting
//! would pay for its pages again.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::ranking::Target;
use crate::platforms::{PageToken, RelatedProfile, SearchError};
use domain::campaign::SearchType;

/// A search's position.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(
    tag = "kind",
    rename_all = "camelCase",
    rename_all_fields = "camelCase"
)]
pub enum Cursor {
    /// The keyword being searched, and where its next page starts (`None`: its first page).
    Keyword {
        keyword_index: usize,
        next: Option<PageToken>,
    },
    /// A similar search by the target's words: the target as read on the first step, and the
    /// next word to search.
    SimilarWords { target: Target, word_index: usize },
    /// A similar search through the platform's related profiles: those, and the next to enrich.
    SimilarRelated {
        related: Vec<RelatedProfile>,
        next: usize,
    },
}

/// A stored cursor this search cannot continue from.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unreadable search cursor: {0}")]
pub struct CorruptCursor(pub String);

impl From<CorruptCursor> for SearchError {
    fn from(e: CorruptCursor) -> Self {
        Self::Cursor(e.0)
    }
}

impl CorruptCursor {
    pub fn mismatch(cursor: &Cursor, search: &str) -> Self {
        let kind = match cursor {
            Cursor::Keyword { .. } => "keyword",
            Cursor::SimilarWords { .. } => "similarWords",
            Cursor::SimilarRelated { .. } => "similarRelated",
        };
        Self(format!("a {kind} cursor on {search}"))
    }

    /// What the user reads on the failed search.
    pub const USER_MESSAGE: &'static str =
        "The search's saved position could not be read, so it was stopped rather than started over (which would pay for its pages again). The creators found so far are kept.";
}

/// The cursor shape written before cursors were typed (one struct for every platform).
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct Untyped {
    #[serde(default)]
    keyword_index: usize,
    offset: Option<u64>,
    token: Option<String>,
    words: Option<Vec<String>>,
    related: Option<Vec<RelatedProfile>>,
}

impl Cursor {
    /// The stored cursor of a search of `search_type`: `None` before its first step.
    pub fn from_stored(
        value: &Value,
        search_type: SearchType,
    ) -> Result<Option<Self>, CorruptCursor> {
        let Some(object) = value.as_object() else {
            return Err(CorruptCursor(format!("not an object: {value}")));
        };
        if object.is_empty() {
            return Ok(None);
        }
        if object.contains_key("kind") {
            return serde_json::from_value(value.clone())
                .map(Some)
                .map_err(|e| CorruptCursor(e.to_string()));
        }
        // Searches that were running when cursors became typed continue where they were.
        let old: Untyped =
            serde_json::from_value(value.clone()).map_err(|e| CorruptCursor(e.to_string()))?;
        Ok(Some(match (search_type, old.related, old.words) {
            (SearchType::Similar, Some(related), _) => Self::SimilarRelated {
                related,
                next: old.keyword_index,
            },
            (SearchType::Similar, None, Some(words)) => Self::SimilarWords {
                target: Target::from_words(&words),
                word_index: old.keyword_index,
            },
            (SearchType::Similar, None, None) => {
                return Err(CorruptCursor(
                    "a similar search's cursor with neither words nor related profiles".into(),
                ))
            }
            (SearchType::Keyword, _, _) => Self::Keyword {
                keyword_index: old.keyword_index,
                next: old
                    .offset
                    .map(PageToken::Offset)
                    .or(old.token.map(PageToken::Token)),
            },
        }))
    }

    pub fn to_stored(&self) -> Value {
        serde_json::to_value(self).expect("a cursor serializes")
    }

    /// The target that ranks this search's creators, for similar searches by words.
    pub fn ranking_target(&self) -> Option<&Target> {
        match self {
            Self::SimilarWords { target, .. } => Some(target),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_cursor_reads_back_as_written_and_an_empty_one_is_the_start() {
        let c = Cursor::Keyword {
            keyword_index: 1,
            next: Some(PageToken::Offset(60)),
        };
        let stored = c.to_stored();
        assert_eq!(
            stored,
            json!({"kind": "keyword", "keywordIndex": 1, "next": {"offset": 60}})
        );
        assert_eq!(
            Cursor::from_stored(&stored, SearchType::Keyword),
            Ok(Some(c))
        );
        assert_eq!(
            Cursor::from_stored(&json!({}), SearchType::Similar),
            Ok(None)
        );
    }

    #[test]
    fn cursors_written_before_types_continue_where_they_were() {
        let old = json!({"keywordIndex": 2, "token": "abc"});
        assert_eq!(
            Cursor::from_stored(&old, SearchType::Keyword),
            Ok(Some(Cursor::Keyword {
                keyword_index: 2,
                next: Some(PageToken::Token("abc".into()))
            }))
        );
        let similar = json!({"keywordIndex": 1, "words": ["barstool", "sports"]});
        let Ok(Some(Cursor::SimilarWords { target, word_index })) =
            Cursor::from_stored(&similar, SearchType::Similar)
        else {
            panic!("a similar cursor");
        };
        assert_eq!(word_index, 1);
        assert_eq!(target.words.len(), 2);
    }

    #[test]
    fn anything_else_is_corrupt_not_a_fresh_start() {
        for bad in [
            json!("cursor"),
            json!([1]),
            json!({"kind": "teleport"}),
            json!({"keywordIndex": "two"}),
            json!({"unexpected": true}),
            json!({"keywordIndex": 1}),
        ] {
            assert!(
                Cursor::from_stored(&bad, SearchType::Similar).is_err(),
                "{bad}"
            );
        }
    }
}
