//! One page of a search, whatever the platform: the keyword driver and the similar driver
//! ([`similar`]) over the platform modules ([`super::platforms`]), the typed cursor a search
//! keeps between steps ([`cursor`]), and the enrichment of the creators found.
//!
//! [`fetch_page`] makes the page's search call(s) and returns raw creators plus the cursor for the
//! next step; the worker drops creators the job already has, keeps as many as the target still
//! needs, and only then calls [`enrich`], so no profile is looked up (and paid for) in vain.

mod cursor;
pub mod ranking;
mod similar;

use futures::StreamExt;

pub use crate::platforms::{PageToken, SearchError};
pub use cursor::{CorruptCursor, Cursor};
pub use ranking::{derive_words, Target, Word, MAX_SIMILAR_WORDS};

use super::{
    creator_api::CreatorApi,
    platforms::{self, PlatformSearch},
};
use domain::{
    creator::CreatorRecord,
    search::{Platform, SearchTarget},
};

/// What a search looks for, as the worker reads it from the job.
#[derive(Debug, Clone)]
pub struct SearchSpec {
    pub platform: Platform,
    pub target: SearchTarget,
    pub region: Option<String>,
    /// Instagram similar: related profiles per step.
    pub batch_size: usize,
}

/// One step's results.
#[derive(Debug)]
pub struct Page {
    /// Similar searches by words: best first.
    pub creators: Vec<CreatorRecord>,
    pub cursor: Cursor,
    /// No further page exists.
    pub exhausted: bool,
    /// Search calls made (counted against the job's API-call limit).
    pub calls: u32,
}

/// Fetches the next page of `spec` from `cursor` (`None`: the first step).
pub async fn fetch_page(
    api: &CreatorApi,
    spec: &SearchSpec,
    cursor: Option<Cursor>,
) -> Result<Page, SearchError> {
    let module = platforms::module(spec.platform);
    match &spec.target {
        SearchTarget::Keywords(words) => {
            keyword_page(module, api, words, spec.region.as_deref(), cursor).await
        }
        SearchTarget::Similar(handle) => {
            similar::page(module, api, handle, spec.batch_size, cursor).await
        }
    }
}

/// The keyword driver: each keyword's pages in turn, then the next keyword.
async fn keyword_page(
    module: &dyn PlatformSearch,
    api: &CreatorApi,
    keywords: &[String],
    region: Option<&str>,
    cursor: Option<Cursor>,
) -> Result<Page, SearchError> {
    let (index, from) = match cursor {
        None => (0, None),
        Some(Cursor::Keyword {
            keyword_index,
            next,
        }) => (keyword_index, next),
        Some(other) => return Err(CorruptCursor::mismatch(&other, "a keyword search").into()),
    };
    let Some(keyword) = keywords.get(index) else {
        return Ok(Page {
            creators: Vec::new(),
            cursor: Cursor::Keyword {
                keyword_index: index,
                next: None,
            },
            exhausted: true,
            calls: 0,
        });
    };
    let page = module
        .keyword_page(api, keyword, from.as_ref(), region)
        .await?;
    let cursor = match page.next {
        Some(next) => Cursor::Keyword {
            keyword_index: index,
            next: Some(next),
        },
        None => Cursor::Keyword {
            keyword_index: index + 1,
            next: None,
        },
    };
    let exhausted =
        matches!(cursor, Cursor::Keyword { keyword_index, .. } if keyword_index >= keywords.len());
    Ok(Page {
        creators: page.creators,
        cursor,
        exhausted,
        calls: 1,
    })
}

/// Looks up each creator's own profile, at most `concurrency` at a time, to fill in bios,
/// follower counts and emails (see [`PlatformSearch::enrich`]); a look-up that fails leaves its
/// creator as found.
pub async fn enrich(api: &CreatorApi, records: &mut [CreatorRecord], concurrency: usize) {
    futures::stream::iter(records.iter_mut())
        .for_each_concurrent(concurrency.max(1), |record| async move {
            let _ = platforms::module(record.platform).enrich(api, record).await;
        })
        .await;
}
