//! "Similar to @someone", written once for every platform: the first step reads the target
//! and derives its words ([`super::ranking`]); each further step searches one word, its
//! creators ranked by relevance, best first.
//!
//! Platforms that name similar accounts themselves (Instagram's related profiles) are walked in
//! the platform's order, a batch per step, and not re-ranked.

use super::{cursor::Cursor, ranking::Target, CorruptCursor, Page, SearchError};
use crate::{
    creator_api::CreatorApi, platforms::similar_record, platforms::PlatformSearch,
    platforms::RelatedProfile,
};
use domain::creator::Creator;

/// The similar driver: reads the target on the first step, then one word search per step (or one
/// batch of the platform's related profiles).
pub(super) async fn page(
    module: &dyn PlatformSearch,
    api: &CreatorApi,
    handle: &str,
    batch: usize,
    cursor: Option<Cursor>,
) -> Result<Page, SearchError> {
    let (cursor, target_calls) = match cursor {
        Some(cursor) => (cursor, 0),
        None => (first_step(module, api, handle).await?, 1),
    };
    let mut page = match cursor {
        Cursor::SimilarWords { target, word_index } => {
            words_page(module, api, handle, target, word_index).await?
        }
        Cursor::SimilarRelated { related, next } => {
            related_page(module, handle, related, next, batch)
        }
        other @ Cursor::Keyword { .. } => {
            return Err(CorruptCursor::mismatch(&other, "a similar search").into())
        }
    };
    page.calls += target_calls;
    Ok(page)
}

/// Reads the target (one call): the platform's related profiles when it names them, else the
/// words derived from its name and bio.
async fn first_step(
    module: &dyn PlatformSearch,
    api: &CreatorApi,
    handle: &str,
) -> Result<Cursor, SearchError> {
    let profile = module.similar_target(api, handle).await?;
    Ok(match &profile.related {
        Some(related) => Cursor::SimilarRelated {
            related: related.clone(),
            next: 0,
        },
        None => Cursor::SimilarWords {
            target: Target::from_profile(handle, &profile),
            word_index: 0,
        },
    })
}

/// Searches the target's word at `word_index`, ranked best first; past the last word, an empty
/// exhausted page.
async fn words_page(
    module: &dyn PlatformSearch,
    api: &CreatorApi,
    handle: &str,
    target: Target,
    word_index: usize,
) -> Result<Page, SearchError> {
    let searched = target.search_words().count();
    let Some(word) = target.search_words().nth(word_index).map(str::to_owned) else {
        return Ok(Page {
            creators: Vec::new(),
            cursor: Cursor::SimilarWords { target, word_index },
            exhausted: true,
            calls: 0,
        });
    };
    let mut creators = module.word_search(api, &word, handle).await?;
    target.rank(&mut creators);
    Ok(Page {
        creators,
        exhausted: word_index + 1 >= searched,
        cursor: Cursor::SimilarWords {
            target,
            word_index: word_index + 1,
        },
        calls: 1,
    })
}

/// The next `batch` of the platform's related profiles, in its order (no call: the target's
/// profile listed them).
fn related_page(
    module: &dyn PlatformSearch,
    handle: &str,
    related: Vec<RelatedProfile>,
    next: usize,
    batch: usize,
) -> Page {
    let start = next.min(related.len());
    let end = (start + batch.max(1)).min(related.len());
    let creators = related[start..end]
        .iter()
        .map(|r| similar_record(module.platform(), related_creator(module, r), handle))
        .collect();
    Page {
        creators,
        exhausted: end >= related.len(),
        cursor: Cursor::SimilarRelated { related, next: end },
        calls: 0,
    }
}

/// A related profile as a creator: what the platform listed, its name falling back to the handle.
fn related_creator(module: &dyn PlatformSearch, r: &RelatedProfile) -> Creator {
    Creator {
        name: r
            .full_name
            .clone()
            .filter(|n| !n.is_empty())
            .unwrap_or_else(|| r.username.clone()),
        unique_id: r.username.clone(),
        followers: None,
        avatar_url: r.profile_pic_url.clone(),
        profile_pic_url: r.profile_pic_url.clone(),
        bio: None,
        emails: Vec::new(),
        verified: r.verified,
        profile_url: module.profile_url(&r.username),
        facts: Default::default(),
    }
}
