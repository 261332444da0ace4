//! One module per platform behind one small interface: a keyword page, the target of a similar
//! search, a search by one word (for "similar by words"), and the enrichment of one creator.
//! The drivers in [`super::search`] are written once over it.
//!
//! Adding a platform: a module here implementing [`PlatformSearch`], its variant of
//! [`Platform`], and its line in [`module`].

pub mod instagram;
pub mod tiktok;
pub mod youtube;

use futures::future::BoxFuture;
use serde::{Deserialize, Serialize};

use super::creator_api::{ApiCallError, CreatorApi};
use db::settings::Settings;
use domain::{
    creator::{Creator, CreatorRecord, FoundBy},
    search::Platform,
};

/// Where a keyword's next page starts, in the platform's own terms.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum PageToken {
    /// TikTok: an offset into the results.
    Offset(u64),
    /// YouTube: a continuation token.
    Token(String),
}

/// Why a page could not be fetched. The search drivers (`crate::search`) are written over this
/// interface and use its error; a stored cursor they cannot continue from is
/// [`SearchError::Cursor`], with the reason.
#[derive(Debug, thiserror::Error)]
pub enum SearchError {
    #[error(transparent)]
    Api(#[from] ApiCallError),
    /// The similar-search target cannot be used; the message is for the user.
    #[error("{0}")]
    Target(String),
    /// The stored cursor is not one this search can continue from.
    #[error("unreadable search cursor: {0}")]
    Cursor(String),
}

/// A keyword page's creators, and where the keyword's next page starts (`None`: it has no more).
#[derive(Debug, Default)]
pub struct KeywordPage {
    pub creators: Vec<CreatorRecord>,
    pub next: Option<PageToken>,
}

/// The target of a similar search, as its platform describes it.
#[derive(Debug, Clone, Default)]
pub struct TargetProfile {
    pub name: Option<String>,
    pub bio: Option<String>,
    pub followers: Option<u64>,
    /// Platforms that name similar accounts themselves (Instagram's related profiles): those, in
    /// the platform's order; `None` for platforms searched by the target's words.
    pub related: Option<Vec<RelatedProfile>>,
}

/// An account the platform lists as related to the target.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RelatedProfile {
    pub username: String,
    pub full_name: Option<String>,
    pub verified: bool,
    pub profile_pic_url: Option<String>,
}

/// What a platform does for the search drivers. Methods return boxed futures so the registry can
/// hand out `&'static dyn PlatformSearch`.
pub trait PlatformSearch: Sync {
    fn platform(&self) -> Platform;

    /// The public address of the account `handle`.
    fn profile_url(&self, handle: &str) -> String;

    /// One page of creators for `keyword`, from `from` (the first page when `None`).
    fn keyword_page<'a>(
        &'a self,
        api: &'a CreatorApi,
        keyword: &'a str,
        from: Option<&'a PageToken>,
        region: Option<&'a str>,
    ) -> BoxFuture<'a, Result<KeywordPage, SearchError>>;

    /// The similar search's target; a missing, private or deactivated one is
    /// [`SearchError::Target`] with a message for the user.
    fn similar_target<'a>(
        &'a self,
        api: &'a CreatorApi,
        handle: &'a str,
    ) -> BoxFuture<'a, Result<TargetProfile, SearchError>>;

    /// Accounts found by one word of the target (the target itself left out).
    fn word_search<'a>(
        &'a self,
        api: &'a CreatorApi,
        word: &'a str,
        target: &'a str,
    ) -> BoxFuture<'a, Result<Vec<CreatorRecord>, SearchError>>;

    /// How many of the target's related profiles ([`TargetProfile::related`]) a similar search
    /// walks per step. Platforms that list none never walk any: one, should they ever.
    fn related_per_step(&self, _settings: &Settings) -> usize {
        1
    }

    /// Whether `record` needs [`Self::enrich`] (a look-up, paid for) to be complete.
    fn needs_enrichment(&self, _record: &CreatorRecord) -> bool {
        true
    }

    /// Fills in the creator's bio, follower count and emails from its own profile. A private or
    /// missing profile is an answer and leaves the creator as found; a call that failed (refused,
    /// a server error, no answer) is the error, and the creator is left as found too.
    fn enrich<'a>(
        &'a self,
        api: &'a CreatorApi,
        record: &'a mut CreatorRecord,
    ) -> BoxFuture<'a, Result<(), ApiCallError>>;
}

/// The module of `platform`.
pub fn module(platform: Platform) -> &'static dyn PlatformSearch {
    match platform {
        Platform::TikTok => &tiktok::TikTok,
        Platform::Instagram => &instagram::Instagram,
        Platform::YouTube => &youtube::YouTube,
    }
}

/// A look-up's answer: a 404 is an answer (no such account), which leaves the creator as found.
pub(crate) fn answered<T>(result: Result<T, ApiCallError>) -> Result<Option<T>, ApiCallError> {
    match result {
        Ok(value) => Ok(Some(value)),
        Err(ApiCallError::NotFound) => Ok(None),
        Err(e) => Err(e),
    }
}

/// A search endpoint's 404 means "nothing found", not a failure.
pub(crate) fn or_empty<T: Default>(result: Result<T, ApiCallError>) -> Result<T, ApiCallError> {
    match result {
        Err(ApiCallError::NotFound) => Ok(T::default()),
        other => other,
    }
}

pub(crate) fn private(target: &str, platform: &str) -> SearchError {
    SearchError::Target(format!(
        "The {platform} account @{target} is private, so similar creators cannot be found."
    ))
}

/// A failed look-up of the similar-search target: 404 means the account does not exist.
pub(crate) fn target_error(e: ApiCallError, platform: &str, target: &str) -> SearchError {
    match e {
        ApiCallError::NotFound => {
            SearchError::Target(format!("The {platform} account @{target} was not found."))
        }
        other => SearchError::Api(other),
    }
}

/// A creator found by similarity to `target`, without a video.
pub(crate) fn similar_record(platform: Platform, creator: Creator, target: &str) -> CreatorRecord {
    CreatorRecord {
        platform,
        creator,
        video: None,
        hashtags: Vec::new(),
        found_by: FoundBy::SimilarTo(target.to_owned()),
        relevance: None,
        published_at: None,
    }
}
