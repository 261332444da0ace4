//! TikTok: keyword pages of videos (`/v1/tiktok/search/keyword`, an offset cursor), user search
//! for similar searches (`/v1/tiktok/search/users`), and profiles (`/v1/tiktok/profile`) for the
//! target and for authors without a bio.

use futures::{future::BoxFuture, FutureExt as _};

use super::{
    answered, or_empty, private, similar_record, target_error, KeywordPage, PlatformSearch,
    TargetProfile,
};
use crate::{
    creator_api::ApiCallError, creator_api::CreatorApi, parse::TikTokAuthor, parse::TikTokAweme,
    parse::TikTokKeywordPage, parse::TikTokProfile, parse::TikTokUserSearch, parse::UrlList,
    platforms::PageToken, platforms::SearchError,
};
use domain::{
    creator::hashtags_in, creator::Creator, creator::CreatorRecord, creator::FoundBy,
    creator::Video, creator::VideoStatistics, search::Platform,
};

pub struct TikTok;

/// TikTok's keyword pages are 30 videos; the next offset when the answer names none.
const PAGE: u64 = 30;

impl PlatformSearch for TikTok {
    fn platform(&self) -> Platform {
        Platform::TikTok
    }

    fn profile_url(&self, handle: &str) -> String {
        format!("https://www.tiktok.com/@{handle}")
    }

    fn keyword_page<'a>(
        &'a self,
        api: &'a CreatorApi,
        keyword: &'a str,
        from: Option<&'a PageToken>,
        region: Option<&'a str>,
    ) -> BoxFuture<'a, Result<KeywordPage, SearchError>> {
        async move {
            let offset = match from {
                Some(PageToken::Offset(n)) => *n,
                _ => 0,
            };
            let offset_text = offset.to_string();
            let mut query = vec![("query", keyword), ("cursor", offset_text.as_str())];
            if let Some(region) = region {
                query.push(("region", region));
            }
            let page: TikTokKeywordPage =
                or_empty(api.get("/v1/tiktok/search/keyword", &query).await)?;
            let items = page.search_item_list.unwrap_or_default();
            let ended = items.is_empty() || page.has_more == Some(0);
            let creators = items
                .into_iter()
                .filter_map(|item| item.aweme_info)
                .filter_map(|aweme| video_record(aweme, keyword))
                .collect();
            let next = (!ended).then(|| {
                PageToken::Offset(page.cursor.filter(|c| *c > offset).unwrap_or(offset + PAGE))
            });
            Ok(KeywordPage { creators, next })
        }
        .boxed()
    }

    fn similar_target<'a>(
        &'a self,
        api: &'a CreatorApi,
        handle: &'a str,
    ) -> BoxFuture<'a, Result<TargetProfile, SearchError>> {
        async move {
            let profile: TikTokProfile = api
                .get("/v1/tiktok/profile", &[("handle", handle)])
                .await
                .map_err(|e| target_error(e, "TikTok", handle))?;
            if profile.account_deactivated {
                return Err(SearchError::Target(format!(
                    "The TikTok account @{handle} is deactivated."
                )));
            }
            let Some(user) = profile.user else {
                if profile.account_private {
                    return Err(private(handle, "TikTok"));
                }
                return Err(SearchError::Target(format!(
                    "The TikTok account @{handle} was not found."
                )));
            };
            if profile.account_private || user.private_account {
                return Err(private(handle, "TikTok"));
            }
            Ok(TargetProfile {
                name: user.nickname,
                bio: user.signature,
                followers: profile.stats.and_then(|s| s.follower_count),
                related: None,
            })
        }
        .boxed()
    }

    fn word_search<'a>(
        &'a self,
        api: &'a CreatorApi,
        word: &'a str,
        target: &'a str,
    ) -> BoxFuture<'a, Result<Vec<CreatorRecord>, SearchError>> {
        async move {
            let found: TikTokUserSearch = or_empty(
                api.get(
                    "/v1/tiktok/search/users",
                    &[("query", word), ("cursor", "0")],
                )
                .await,
            )?;
            Ok(found
                .users
                .unwrap_or_default()
                .into_iter()
                .filter_map(|u| u.user_info)
                .filter(|u| !u.is_private_account)
                .filter_map(|u| creator(&u))
                .filter(|c| !c.unique_id.eq_ignore_ascii_case(target))
                .map(|c| {
                    let mut record = similar_record(Platform::TikTok, c, target);
                    record.set_bio(None, &[]);
                    record
                })
                .collect())
        }
        .boxed()
    }

    /// Keyword pages carry no bios; user searches sometimes do, and then need no look-up.
    fn needs_enrichment(&self, record: &CreatorRecord) -> bool {
        record.creator.bio.is_none()
    }

    fn enrich<'a>(
        &'a self,
        api: &'a CreatorApi,
        record: &'a mut CreatorRecord,
    ) -> BoxFuture<'a, Result<(), ApiCallError>> {
        async move {
            if !self.needs_enrichment(record) {
                return Ok(());
            }
            let handle = record.creator.unique_id.clone();
            let Some(profile) = answered(
                api.get::<TikTokProfile>("/v1/tiktok/profile", &[("handle", &handle)])
                    .await,
            )?
            else {
                return Ok(());
            };
            if profile.account_private || profile.account_deactivated {
                return Ok(());
            }
            let Some(user) = profile.user else {
                return Ok(());
            };
            record.creator.followers = profile
                .stats
                .and_then(|s| s.follower_count)
                .or(record.creator.followers);
            if record.creator.profile_pic_url.is_none() {
                record.creator.profile_pic_url = user.avatar_larger;
            }
            record.set_bio(user.signature, &[]);
            Ok(())
        }
        .boxed()
    }
}

fn creator(author: &TikTokAuthor) -> Option<Creator> {
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

fn video_record(aweme: TikTokAweme, keyword: &str) -> Option<CreatorRecord> {
    let creator = creator(aweme.author.as_ref()?)?;
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
        platform: Platform::TikTok,
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
        relevance: None,
        published_at: aweme.create_time.and_then(|t| i64::try_from(t).ok()),
    };
    record.set_bio(None, &[]);
    Some(record)
}
