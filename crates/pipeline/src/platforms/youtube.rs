//! YouTube: video search (`/v1/youtube/search`, a continuation token) for keyword pages and for
//! the words of similar searches, and channels (`/v1/youtube/channel`) for the target and for
//! enrichment.

use futures::{future::BoxFuture, FutureExt as _};

use super::{answered, or_empty, target_error, KeywordPage, PlatformSearch, TargetProfile};
use crate::{
    creator_api::ApiCallError, creator_api::CreatorApi, parse::YouTubeChannel,
    parse::YouTubeChannelRef, parse::YouTubeSearch, parse::YouTubeVideo, platforms::PageToken,
    platforms::SearchError,
};
use domain::{
    creator::hashtags_in, creator::non_empty, creator::unique, creator::Creator,
    creator::CreatorFacts, creator::CreatorRecord, creator::FoundBy, creator::Video,
    creator::VideoStatistics, search::Platform,
};

pub struct YouTube;

impl PlatformSearch for YouTube {
    fn platform(&self) -> Platform {
        Platform::YouTube
    }

    fn profile_url(&self, handle: &str) -> String {
        format!("https://www.youtube.com/@{handle}")
    }

    fn keyword_page<'a>(
        &'a self,
        api: &'a CreatorApi,
        keyword: &'a str,
        from: Option<&'a PageToken>,
        _region: Option<&'a str>,
    ) -> BoxFuture<'a, Result<KeywordPage, SearchError>> {
        async move {
            let token = match from {
                Some(PageToken::Token(t)) => Some(t.as_str()),
                _ => None,
            };
            let (creators, next) = search(
                api,
                keyword,
                token,
                FoundBy::Keyword(keyword.to_owned()),
                None,
            )
            .await?;
            let next = next.filter(|_| !creators.is_empty()).map(PageToken::Token);
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
            let channel: YouTubeChannel = api
                .get("/v1/youtube/channel", &[("handle", handle)])
                .await
                .map_err(|e| target_error(e, "YouTube", handle))?;
            if channel.channel_id.is_none() && channel.name.is_none() {
                return Err(SearchError::Target(format!(
                    "The YouTube channel @{handle} was not found."
                )));
            }
            Ok(TargetProfile {
                name: channel.name,
                bio: channel.description,
                followers: channel.subscriber_count,
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
            // One page per word: later pages drift away from what made the target similar.
            let (creators, _next) = search(
                api,
                word,
                None,
                FoundBy::SimilarTo(target.to_owned()),
                Some(target),
            )
            .await?;
            Ok(creators)
        }
        .boxed()
    }

    fn enrich<'a>(
        &'a self,
        api: &'a CreatorApi,
        record: &'a mut CreatorRecord,
    ) -> BoxFuture<'a, Result<(), ApiCallError>> {
        async move {
            let handle = record.creator.unique_id.clone();
            let Some(channel) = answered(
                api.get::<YouTubeChannel>("/v1/youtube/channel", &[("handle", &handle)])
                    .await,
            )?
            else {
                return Ok(());
            };
            record.creator.followers = channel.subscriber_count.or(record.creator.followers);
            if let Some(avatar) = channel.avatar_url() {
                record.creator.profile_pic_url = Some(avatar);
            }
            record.creator.facts.merge(channel_facts(&channel));
            let mut extra = channel.link_texts();
            extra.extend(channel.email.clone());
            record.set_bio(channel.description, &extra);
            Ok(())
        }
        .boxed()
    }
}

/// A channel's facts: its links, and the address it shows for business enquiries.
fn channel_facts(channel: &YouTubeChannel) -> CreatorFacts {
    CreatorFacts {
        links: unique(channel.link_urls()),
        business_email: non_empty(channel.email.clone()).map(|e| e.to_lowercase()),
        ..Default::default()
    }
}

/// One page of videos for `query`, as one creator per channel; the next page's token.
async fn search(
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
        let Some(record) = video_record(video, &found_by) else {
            continue;
        };
        let unique_id = &record.creator.unique_id;
        if exclude.is_some_and(|t| t.eq_ignore_ascii_case(unique_id))
            || creators.iter().any(|c| c.creator.unique_id == *unique_id)
        {
            continue;
        }
        creators.push(record);
    }
    Ok((
        creators,
        result.continuation_token.filter(|t| !t.is_empty()),
    ))
}

/// A video as a record of its channel; `None` when it names no channel, or one with neither
/// handle nor id.
fn video_record(video: YouTubeVideo, found_by: &FoundBy) -> Option<CreatorRecord> {
    let creator = channel_creator(video.channel?)?;
    let description = video.title.unwrap_or_default();
    let url = video.url.or_else(|| {
        video
            .id
            .map(|id| format!("https://www.youtube.com/watch?v={id}"))
    });
    let published_at = video
        .published_time
        .as_deref()
        .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
        .map(|t| t.timestamp());
    let mut record = CreatorRecord {
        platform: Platform::YouTube,
        creator,
        video: Some(Video {
            description: description.clone(),
            url,
            statistics: VideoStatistics {
                views: video.view_count_int,
                ..Default::default()
            },
        }),
        hashtags: hashtags_in(&description),
        found_by: found_by.clone(),
        relevance: None,
        published_at,
    };
    record.set_bio(None, &[]);
    Some(record)
}

/// The channel of a video, known by its handle, else by its id (then its URL is the id's).
fn channel_creator(channel: YouTubeChannelRef) -> Option<Creator> {
    let handle = channel
        .handle
        .map(|h| h.trim_start_matches('@').to_owned())
        .filter(|h| !h.is_empty());
    let unique_id = handle.clone().or(channel.id)?;
    let profile_url = match &handle {
        Some(h) => format!("https://www.youtube.com/@{h}"),
        None => format!("https://www.youtube.com/channel/{unique_id}"),
    };
    Some(Creator {
        name: channel.title.unwrap_or_else(|| unique_id.clone()),
        unique_id,
        followers: None,
        avatar_url: channel.thumbnail.clone(),
        profile_pic_url: channel.thumbnail,
        bio: None,
        emails: Vec::new(),
        verified: false,
        profile_url,
        // A search result carries views but no likes, nor any country or language.
        facts: Default::default(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn recorded(file: &str) -> YouTubeSearch {
        testkit::replay::recorded_body(file)
    }

    #[test]
    fn a_search_page_gives_views_but_no_facts_it_does_not_carry() {
        let page = recorded("youtube-search/airpods-pro-sample1.json");
        let found_by = FoundBy::Keyword("airpods pro".into());
        let records: Vec<CreatorRecord> = page
            .videos
            .unwrap()
            .into_iter()
            .filter_map(|v| video_record(v, &found_by))
            .collect();
        assert!(!records.is_empty());
        // "channel": {"handle": "TechIRL00", ...}, "viewCountInt": 2683196, no likes.
        let tech = records
            .iter()
            .find(|r| r.creator.unique_id == "TechIRL00")
            .unwrap();
        assert_eq!(
            tech.video.as_ref().unwrap().statistics.views,
            Some(2_683_196)
        );
        assert_eq!(tech.video.as_ref().unwrap().statistics.likes, None);
        // Views without likes give no engagement; a search names no country or language.
        let with_any_fact = records
            .iter()
            .filter(|r| r.creator.facts != CreatorFacts::default())
            .count();
        assert_eq!(with_any_fact, 0);
        eprintln!(
            "youtube search: {} channels, {with_any_fact} with any fact (views only, e.g. @TechIRL00 2683196)",
            records.len()
        );
    }

    #[test]
    fn a_channel_gives_its_links_and_business_email() {
        // `/v1/youtube/channel` is not recorded; this is its documented shape.
        let channel: YouTubeChannel = serde_json::from_value(serde_json::json!({
            "channelId": "UC1", "handle": "maker", "subscriberCount": 1200,
            "email": "Biz@Maker.example",
            "links": ["https://maker.example", {"url": "https://shop.maker.example"}, "not a link"]
        }))
        .unwrap();
        let facts = channel_facts(&channel);
        assert_eq!(facts.business_email.as_deref(), Some("biz@maker.example"));
        assert_eq!(
            facts.links.unwrap(),
            ["https://maker.example", "https://shop.maker.example"]
        );
        assert_eq!(facts.engagement_rate, None);
        assert_eq!(facts.region, None);
    }
}
