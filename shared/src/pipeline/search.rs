//! One page of a search per platform and search type, and the enrichment of the creators found.
//!
//! [`fetch_page`] makes the page's search call(s) and returns raw creators plus the cursor for the
//! next step; the worker drops creators the job already has, keeps as many as the target still
//! needs, and only then calls [`enrich`], so no profile is looked up (and paid for) in vain.

use futures::StreamExt;
use serde::{Deserialize, Serialize};

use super::{
    api::{ApiCallError, CreatorApi},
    creator::{hashtags_in, Creator, CreatorRecord, FoundBy, Video, VideoStatistics},
    parse::*,
};
use crate::domain::search::{Platform, SearchTarget};

/// How many words a similar search derives from the target's name and bio.
pub const MAX_SIMILAR_WORDS: usize = 5;

/// Where a search is: stored on the job between steps.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Cursor {
    /// Index of the keyword (or derived word) being searched.
    pub keyword_index: usize,
    /// TikTok's offset cursor within the current keyword.
    pub offset: Option<u64>,
    /// YouTube's continuation token within the current keyword.
    pub token: Option<String>,
    /// Similar searches: the words derived from the target.
    pub words: Option<Vec<String>>,
    /// Instagram similar: the target's related profiles, enriched a batch per step.
    pub related: Option<Vec<RelatedProfile>>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RelatedProfile {
    pub username: String,
    pub full_name: Option<String>,
    pub verified: bool,
    pub profile_pic_url: Option<String>,
}

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
    pub creators: Vec<CreatorRecord>,
    pub cursor: Cursor,
    /// No further page exists.
    pub exhausted: bool,
    /// Search calls made (counted against the job's API-call limit).
    pub calls: u32,
}

/// Why a page could not be fetched.
#[derive(Debug, thiserror::Error)]
pub enum SearchError {
    #[error(transparent)]
    Api(#[from] ApiCallError),
    /// The similar-search target cannot be used; the message is for the user.
    #[error("{0}")]
    Target(String),
}

/// Fetches the next page of `spec` from `cursor`.
pub async fn fetch_page(
    api: &CreatorApi,
    spec: &SearchSpec,
    cursor: Cursor,
) -> Result<Page, SearchError> {
    match (&spec.target, spec.platform) {
        (SearchTarget::Keywords(words), Platform::TikTok) => {
            tiktok_keyword(api, words, spec, cursor).await
        }
        (SearchTarget::Keywords(words), Platform::YouTube) => {
            youtube_keyword(api, words, cursor).await
        }
        (SearchTarget::Keywords(_), Platform::Instagram) => Ok(Page {
            creators: Vec::new(),
            cursor,
            exhausted: true,
            calls: 0,
        }),
        (SearchTarget::Similar(target), Platform::TikTok) => {
            tiktok_similar(api, target, cursor).await
        }
        (SearchTarget::Similar(target), Platform::Instagram) => {
            instagram_similar(api, target, spec.batch_size, cursor).await
        }
        (SearchTarget::Similar(target), Platform::YouTube) => {
            youtube_similar(api, target, cursor).await
        }
    }
}

/// A search endpoint's 404 means "nothing found", not a failure.
fn or_empty<T: Default>(result: Result<T, ApiCallError>) -> Result<T, ApiCallError> {
    match result {
        Err(ApiCallError::NotFound) => Ok(T::default()),
        other => other,
    }
}

async fn tiktok_keyword(
    api: &CreatorApi,
    keywords: &[String],
    spec: &SearchSpec,
    mut cursor: Cursor,
) -> Result<Page, SearchError> {
    let Some(keyword) = keywords.get(cursor.keyword_index) else {
        return Ok(Page {
            creators: Vec::new(),
            cursor,
            exhausted: true,
            calls: 0,
        });
    };
    let offset = cursor.offset.unwrap_or(0);
    let offset_text = offset.to_string();
    let mut query = vec![
        ("query", keyword.as_str()),
        ("cursor", offset_text.as_str()),
    ];
    if let Some(region) = &spec.region {
        query.push(("region", region.as_str()));
    }
    let page: TikTokKeywordPage = or_empty(api.get("/v1/tiktok/search/keyword", &query).await)?;
    let items = page.search_item_list.unwrap_or_default();
    let ended = items.is_empty() || page.has_more == Some(0);
    let creators = items
        .into_iter()
        .filter_map(|item| item.aweme_info)
        .filter_map(|aweme| tiktok_video_record(aweme, keyword))
        .collect();
    if ended {
        cursor.keyword_index += 1;
        cursor.offset = None;
    } else {
        cursor.offset = Some(page.cursor.filter(|c| *c > offset).unwrap_or(offset + 30));
    }
    let exhausted = cursor.keyword_index >= keywords.len();
    Ok(Page {
        creators,
        cursor,
        exhausted,
        calls: 1,
    })
}

fn tiktok_creator(author: &TikTokAuthor) -> Option<Creator> {
    let handle = author.unique_id.clone().filter(|h| !h.is_empty())?;
    Some(Creator {
        name: author
            .nickname
            .clone()
            .filter(|n| !n.is_empty())
            .unwrap_or_else(|| handle.clone()),
        followers: author.follower_count,
        avatar_url: author.avatar_medium.as_ref().and_then(UrlList::first),
        profile_pic_url: author
            .avatar_larger
            .as_ref()
            .and_then(UrlList::first)
            .or_else(|| author.avatar_medium.as_ref().and_then(UrlList::first)),
        bio: author.signature.clone().filter(|s| !s.trim().is_empty()),
        emails: Vec::new(),
        verified: author.verification_type.unwrap_or(0) > 0,
        profile_url: format!("https://www.tiktok.com/@{handle}"),
        unique_id: handle,
    })
}

fn tiktok_video_record(aweme: TikTokAweme, keyword: &str) -> Option<CreatorRecord> {
    let creator = tiktok_creator(aweme.author.as_ref()?)?;
    let description = aweme.desc.unwrap_or_default();
    let mut hashtags: Vec<String> = aweme
        .text_extra
        .unwrap_or_default()
        .into_iter()
        .filter_map(|t| t.hashtag_name)
        .filter(|t| !t.is_empty())
        .map(|t| t.to_lowercase())
        .collect();
    // Without repeats, in order of appearance, as `hashtags_in` gives them.
    let mut seen = std::collections::HashSet::new();
    hashtags.retain(|t| seen.insert(t.clone()));
    if hashtags.is_empty() {
        hashtags = hashtags_in(&description);
    }
    let stats = aweme.statistics.unwrap_or_default();
    let url = aweme.url.or_else(|| {
        aweme
            .aweme_id
            .as_ref()
            .map(|id| format!("{}/video/{id}", creator.profile_url))
    });
    let mut record = CreatorRecord {
        platform: Platform::TikTok.as_str().to_owned(),
        creator,
        video: Some(Video {
            description,
            url,
            statistics: VideoStatistics {
                likes: stats.digg_count,
                comments: stats.comment_count,
                shares: stats.share_count,
                views: stats.play_count,
            },
        }),
        hashtags,
        found_by: FoundBy::Keyword(keyword.to_owned()),
    };
    record.set_bio(None, &[]);
    Some(record)
}

async fn tiktok_similar(
    api: &CreatorApi,
    target: &str,
    mut cursor: Cursor,
) -> Result<Page, SearchError> {
    let mut calls = 0;
    if cursor.words.is_none() {
        let profile: TikTokProfile = api
            .get("/v1/tiktok/profile", &[("handle", target)])
            .await
            .map_err(|e| target_error(e, "TikTok", target))?;
        calls += 1;
        if profile.account_deactivated {
            return Err(SearchError::Target(format!(
                "The TikTok account @{target} is deactivated."
            )));
        }
        let Some(user) = profile.user else {
            if profile.account_private {
                return Err(private(target, "TikTok"));
            }
            return Err(SearchError::Target(format!(
                "The TikTok account @{target} was not found."
            )));
        };
        if profile.account_private || user.private_account {
            return Err(private(target, "TikTok"));
        }
        cursor.words = Some(search_words(
            &[user.signature.as_deref(), user.nickname.as_deref()],
            target,
        ));
    }
    let words = cursor.words.clone().unwrap_or_default();
    let Some(word) = words.get(cursor.keyword_index) else {
        return Ok(Page {
            creators: Vec::new(),
            cursor,
            exhausted: true,
            calls,
        });
    };
    let found: TikTokUserSearch = or_empty(
        api.get(
            "/v1/tiktok/search/users",
            &[("query", word.as_str()), ("cursor", "0")],
        )
        .await,
    )?;
    calls += 1;
    let mut creators: Vec<CreatorRecord> = found
        .users
        .unwrap_or_default()
        .into_iter()
        .filter_map(|u| u.user_info)
        .filter(|u| !u.is_private_account)
        .filter_map(|u| tiktok_creator(&u))
        .filter(|c| !c.unique_id.eq_ignore_ascii_case(target))
        .map(|creator| similar_record(Platform::TikTok, creator, target))
        .collect();
    // Most-followed first: the best matches are shown (and kept, when the target cuts) first.
    creators.sort_by_key(|c| std::cmp::Reverse(c.creator.followers));
    cursor.keyword_index += 1;
    let exhausted = cursor.keyword_index >= words.len();
    Ok(Page {
        creators,
        cursor,
        exhausted,
        calls,
    })
}

async fn instagram_similar(
    api: &CreatorApi,
    target: &str,
    batch: usize,
    mut cursor: Cursor,
) -> Result<Page, SearchError> {
    let mut calls = 0;
    if cursor.related.is_none() {
        let profile: InstagramProfile = api
            .get("/v1/instagram/profile", &[("handle", target)])
            .await
            .map_err(|e| target_error(e, "Instagram", target))?;
        calls += 1;
        let user = profile.data.and_then(|d| d.user).ok_or_else(|| {
            SearchError::Target(format!("The Instagram account @{target} was not found."))
        })?;
        if user.is_private {
            return Err(private(target, "Instagram"));
        }
        let related = user
            .edge_related_profiles
            .map(|e| e.edges)
            .unwrap_or_default()
            .into_iter()
            .filter_map(|edge| edge.node)
            .filter(|n| !n.is_private)
            .filter_map(|n| {
                Some(RelatedProfile {
                    username: n
                        .username
                        .filter(|u| !u.is_empty() && !u.eq_ignore_ascii_case(target))?,
                    full_name: n.full_name,
                    verified: n.is_verified,
                    profile_pic_url: n.profile_pic_url,
                })
            })
            .collect();
        cursor.related = Some(related);
    }
    let related = cursor.related.as_deref().unwrap_or_default();
    let start = cursor.keyword_index.min(related.len());
    let end = (start + batch.max(1)).min(related.len());
    let creators = related[start..end]
        .iter()
        .map(|r| {
            let creator = Creator {
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
                profile_url: format!("https://www.instagram.com/{}/", r.username),
            };
            similar_record(Platform::Instagram, creator, target)
        })
        .collect();
    let exhausted = end >= related.len();
    cursor.keyword_index = end;
    Ok(Page {
        creators,
        cursor,
        exhausted,
        calls,
    })
}

async fn youtube_keyword(
    api: &CreatorApi,
    keywords: &[String],
    mut cursor: Cursor,
) -> Result<Page, SearchError> {
    let Some(keyword) = keywords.get(cursor.keyword_index) else {
        return Ok(Page {
            creators: Vec::new(),
            cursor,
            exhausted: true,
            calls: 0,
        });
    };
    let (creators, token) = youtube_search(
        api,
        keyword,
        cursor.token.as_deref(),
        FoundBy::Keyword(keyword.clone()),
        None,
    )
    .await?;
    advance_youtube(&mut cursor, creators.is_empty(), token);
    let exhausted = cursor.keyword_index >= keywords.len();
    Ok(Page {
        creators,
        cursor,
        exhausted,
        calls: 1,
    })
}

async fn youtube_similar(
    api: &CreatorApi,
    target: &str,
    mut cursor: Cursor,
) -> Result<Page, SearchError> {
    let mut calls = 0;
    if cursor.words.is_none() {
        let channel: YouTubeChannel = api
            .get("/v1/youtube/channel", &[("handle", target)])
            .await
            .map_err(|e| target_error(e, "YouTube", target))?;
        calls += 1;
        if channel.channel_id.is_none() && channel.name.is_none() {
            return Err(SearchError::Target(format!(
                "The YouTube channel @{target} was not found."
            )));
        }
        cursor.words = Some(search_words(
            &[channel.description.as_deref(), channel.name.as_deref()],
            target,
        ));
    }
    let words = cursor.words.clone().unwrap_or_default();
    let Some(word) = words.get(cursor.keyword_index) else {
        return Ok(Page {
            creators: Vec::new(),
            cursor,
            exhausted: true,
            calls,
        });
    };
    let (creators, _token) = youtube_search(
        api,
        word,
        None,
        FoundBy::SimilarTo(target.to_owned()),
        Some(target),
    )
    .await?;
    calls += 1;
    // One page per derived word: later pages drift away from what made the target similar.
    advance_youtube(&mut cursor, true, None);
    let exhausted = cursor.keyword_index >= words.len();
    Ok(Page {
        creators,
        cursor,
        exhausted,
        calls,
    })
}

fn advance_youtube(cursor: &mut Cursor, empty: bool, token: Option<String>) {
    match token {
        Some(token) if !empty => cursor.token = Some(token),
        _ => {
            cursor.keyword_index += 1;
            cursor.token = None;
        }
    }
}

async fn youtube_search(
    api: &CreatorApi,
    query: &str,
    token: Option<&str>,
    found_by: FoundBy,
    exclude: Option<&str>,
) -> Result<(Vec<CreatorRecord>, Option<String>), SearchError> {
    let mut params = vec![("query", query)];
    if let Some(token) = token {
        params.push(("continuationToken", token));
    }
    let result: YouTubeSearch = or_empty(api.get("/v1/youtube/search", &params).await)?;
    let mut creators: Vec<CreatorRecord> = Vec::new();
    for video in result.videos.unwrap_or_default() {
        let Some(channel) = video.channel else {
            continue;
        };
        let handle = channel
            .handle
            .clone()
            .map(|h| h.trim_start_matches('@').to_owned())
            .filter(|h| !h.is_empty());
        let Some(unique_id) = handle.clone().or_else(|| channel.id.clone()) else {
            continue;
        };
        if exclude.is_some_and(|t| t.eq_ignore_ascii_case(&unique_id))
            || creators.iter().any(|c| c.creator.unique_id == unique_id)
        {
            continue;
        }
        let profile_url = match (&handle, &channel.id) {
            (Some(h), _) => format!("https://www.youtube.com/@{h}"),
            (None, Some(id)) => format!("https://www.youtube.com/channel/{id}"),
            (None, None) => continue,
        };
        let description = video.title.unwrap_or_default();
        let mut record = CreatorRecord {
            platform: Platform::YouTube.as_str().to_owned(),
            creator: Creator {
                name: channel.title.clone().unwrap_or_else(|| unique_id.clone()),
                unique_id,
                followers: None,
                avatar_url: channel.thumbnail.clone(),
                profile_pic_url: channel.thumbnail,
                bio: None,
                emails: Vec::new(),
                verified: false,
                profile_url,
            },
            video: Some(Video {
                description: description.clone(),
                url: video.url.or_else(|| {
                    video
                        .id
                        .map(|id| format!("https://www.youtube.com/watch?v={id}"))
                }),
                statistics: VideoStatistics {
                    views: video.view_count_int,
                    ..Default::default()
                },
            }),
            hashtags: hashtags_in(&description),
            found_by: found_by.clone(),
        };
        record.set_bio(None, &[]);
        creators.push(record);
    }
    Ok((
        creators,
        result.continuation_token.filter(|t| !t.is_empty()),
    ))
}

fn similar_record(platform: Platform, creator: Creator, target: &str) -> CreatorRecord {
    CreatorRecord {
        platform: platform.as_str().to_owned(),
        creator,
        video: None,
        hashtags: Vec::new(),
        found_by: FoundBy::SimilarTo(target.to_owned()),
    }
}

fn private(target: &str, platform: &str) -> SearchError {
    SearchError::Target(format!(
        "The {platform} account @{target} is private, so similar creators cannot be found."
    ))
}

/// A failed look-up of the similar-search target: 404 means the account does not exist.
fn target_error(e: ApiCallError, platform: &str, target: &str) -> SearchError {
    match e {
        ApiCallError::NotFound => {
            SearchError::Target(format!("The {platform} account @{target} was not found."))
        }
        other => SearchError::Api(other),
    }
}

const STOPWORDS: &[&str] = &[
    "the",
    "and",
    "for",
    "with",
    "you",
    "your",
    "our",
    "from",
    "this",
    "that",
    "are",
    "was",
    "all",
    "not",
    "but",
    "its",
    "official",
    "account",
    "follow",
    "page",
    "channel",
    "tiktok",
    "instagram",
    "youtube",
    "www",
    "com",
    "http",
    "https",
    "link",
    "bio",
    "here",
    "just",
    "like",
    "more",
    "new",
    "daily",
    "get",
    "free",
    "email",
    "contact",
    "business",
    "inquiries",
    "por",
    "para",
    "con",
    "los",
    "las",
    "del",
];

/// Search words for a similar search: distinct words of 3+ letters from the given texts (bio first,
/// then name), stop words and the handle itself left out; at most [`MAX_SIMILAR_WORDS`]. Falls back
/// to the handle when nothing else is left.
pub fn search_words(texts: &[Option<&str>], handle: &str) -> Vec<String> {
    let mut words: Vec<String> = Vec::new();
    for text in texts.iter().flatten() {
        for raw in text.split(|c: char| !c.is_alphanumeric()) {
            let word = raw.to_lowercase();
            if word.chars().count() < 3
                || word.chars().all(|c| c.is_ascii_digit())
                || STOPWORDS.contains(&word.as_str())
                || word == handle.to_lowercase()
                || words.contains(&word)
            {
                continue;
            }
            words.push(word);
            if words.len() == MAX_SIMILAR_WORDS {
                return words;
            }
        }
    }
    if words.is_empty() {
        words.push(handle.to_lowercase());
    }
    words
}

/// Looks up each creator's own profile, at most `concurrency` at a time, to fill in bios,
/// follower counts and emails. A failed, private or missing profile leaves the creator as found.
pub async fn enrich(api: &CreatorApi, records: &mut [CreatorRecord], concurrency: usize) {
    futures::stream::iter(records.iter_mut())
        .for_each_concurrent(concurrency.max(1), |record| async move {
            let platform = Platform::parse(&record.platform);
            let handle = record.creator.unique_id.clone();
            match platform {
                Some(Platform::TikTok) if record.creator.bio.is_none() => {
                    if let Ok(profile) = api
                        .get::<TikTokProfile>("/v1/tiktok/profile", &[("handle", &handle)])
                        .await
                    {
                        if let Some(user) = profile
                            .user
                            .filter(|_| !profile.account_private && !profile.account_deactivated)
                        {
                            record.creator.followers = profile
                                .stats
                                .and_then(|s| s.follower_count)
                                .or(record.creator.followers);
                            if record.creator.profile_pic_url.is_none() {
                                record.creator.profile_pic_url = user.avatar_larger;
                            }
                            record.set_bio(user.signature, &[]);
                        }
                    }
                }
                Some(Platform::Instagram) => {
                    if let Ok(profile) = api
                        .get::<InstagramProfile>("/v1/instagram/profile", &[("handle", &handle)])
                        .await
                    {
                        if let Some(user) = profile.data.and_then(|d| d.user) {
                            record.creator.followers = user
                                .edge_followed_by
                                .and_then(|e| e.count)
                                .or(record.creator.followers);
                            record.creator.verified |= user.is_verified;
                            if let Some(pic) = user.profile_pic_url_hd.or(user.profile_pic_url) {
                                record.creator.profile_pic_url = Some(pic);
                            }
                            let extra: Vec<String> = user.business_email.into_iter().collect();
                            record.set_bio(user.biography, &extra);
                        }
                    }
                }
                Some(Platform::YouTube) => {
                    if let Ok(channel) = api
                        .get::<YouTubeChannel>("/v1/youtube/channel", &[("handle", &handle)])
                        .await
                    {
                        record.creator.followers =
                            channel.subscriber_count.or(record.creator.followers);
                        if let Some(avatar) = channel.avatar_url() {
                            record.creator.profile_pic_url = Some(avatar);
                        }
                        let mut extra = channel.link_texts();
                        extra.extend(channel.email.clone());
                        record.set_bio(channel.description, &extra);
                    }
                }
                _ => {}
            }
        })
        .await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn search_words_come_from_the_bio_then_the_name() {
        let words = search_words(
            &[
                Some("El Presidente/Barstool Sports Founder."),
                Some("Dave Portnoy"),
            ],
            "stoolpresidente",
        );
        assert_eq!(
            words,
            ["presidente", "barstool", "sports", "founder", "dave"]
        );
        assert_eq!(search_words(&[None, Some("")], "Nike"), ["nike"]);
    }
}
